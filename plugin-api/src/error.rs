//! The error a plugin returns across the ABI.

use std::fmt;

use abi_stable::StableAbi;
use abi_stable::std_types::RString;

crate::abi_code! {
    /// What went wrong inside a plugin call.
    PluginErrorKind {
        /// The input could not be understood (a malformed frame or response).
        MALFORMED_INPUT = 1 => "malformed_input",
        /// The request is not valid for this venue (unknown market, an
        /// order type it does not support, a number it cannot encode).
        INVALID_REQUEST = 2 => "invalid_request",
        /// The operation is not supported by this plugin.
        UNSUPPORTED = 3 => "unsupported",
        /// The plugin's configuration is invalid.
        CONFIG = 4 => "config",
        /// The plugin panicked; the instance should be re-created.
        PANICKED = 5 => "panicked",
        /// A bug in the plugin.
        INTERNAL = 6 => "internal",
    }
}

/// An error from a plugin call.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct PluginError {
    /// What kind of error.
    pub kind: PluginErrorKind,
    /// A precise, human-readable message.
    pub message: RString,
    /// For a configuration error: the setting at fault, as a dotted path
    /// inside the exchange's `settings` table (empty when it is the table
    /// as a whole, or for other errors). The host turns it into the key's
    /// path and line in the configuration file.
    pub key: RString,
}

impl PluginError {
    /// An error of a kind with a message.
    pub fn new(kind: PluginErrorKind, message: impl Into<RString>) -> PluginError {
        PluginError {
            kind,
            message: message.into(),
            key: RString::new(),
        }
    }

    /// A malformed frame or response.
    pub fn malformed(message: impl fmt::Display) -> PluginError {
        PluginError::new(PluginErrorKind::MALFORMED_INPUT, message.to_string())
    }

    /// A request the venue cannot take.
    pub fn invalid(message: impl fmt::Display) -> PluginError {
        PluginError::new(PluginErrorKind::INVALID_REQUEST, message.to_string())
    }

    /// An operation the plugin does not support.
    pub fn unsupported(message: impl fmt::Display) -> PluginError {
        PluginError::new(PluginErrorKind::UNSUPPORTED, message.to_string())
    }

    /// An invalid plugin configuration.
    pub fn config(message: impl fmt::Display) -> PluginError {
        PluginError::new(PluginErrorKind::CONFIG, message.to_string())
    }

    /// An invalid setting: `key` is its dotted path inside the exchange's
    /// `settings` table.
    pub fn setting(key: &str, message: impl fmt::Display) -> PluginError {
        PluginError {
            key: key.into(),
            ..PluginError::config(message)
        }
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.kind, self.message)
        } else {
            write!(f, "{}: settings.{}: {}", self.kind, self.key, self.message)
        }
    }
}

impl std::error::Error for PluginError {}
