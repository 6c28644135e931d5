//! The host's side of loading: open a plugin file, check its ABI, and report
//! every failure as one line that names the file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use abi_stable::library::{LibraryError, lib_header_from_path};
use abi_stable::sabi_types::{VersionNumber, VersionStrings};
use abi_stable::std_types::{RResult, RSlice, RStr, RVec};

use crate::{
    ABI_VERSION, Answer, Manifest, Operation, Operation_NE, Output_NE, PluginBox, PluginError,
    PluginModRef, RequestContext, Stream,
};

/// Why a file could not be loaded as a plugin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The file is not a shared library, or not a connector plugin.
    #[error("{path}: not a connector plugin ({reason})")]
    NotAPlugin {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The plugin was built against another plugin ABI version.
    #[error(
        "{path}: built for plugin ABI {plugin_version}, but this host uses {host_version}; rebuild the plugin against plugin-api {host_version}"
    )]
    AbiVersion {
        /// The file.
        path: PathBuf,
        /// The version the plugin was built with.
        plugin_version: String,
        /// The version this host was built with.
        host_version: String,
    },
    /// The plugin's types do not match the host's although the versions do.
    #[error(
        "{path}: plugin ABI layout differs from this host's ({summary}); rebuild the plugin and the host from the same plugin-api source"
    )]
    Layout {
        /// The file.
        path: PathBuf,
        /// The first few differences abi_stable found.
        summary: String,
        /// abi_stable's full report (long; log it at debug level).
        details: String,
    },
    /// The plugin's manifest could not be read.
    #[error("{path}: the plugin failed to describe itself: {error}")]
    Manifest {
        /// The file.
        path: PathBuf,
        /// The plugin's error.
        error: String,
    },
    /// The file, or the folder it is in, belongs to another user or is
    /// writable by every user: its code is not run.
    #[error("{path}: not loaded: {reason}")]
    Untrusted {
        /// The file.
        path: PathBuf,
        /// Who else could have changed it.
        reason: String,
    },
    /// Two files claim the same exchange name.
    #[error("{second}: exchange `{exchange}` is already provided by {first}; remove one of them")]
    DuplicateExchange {
        /// The exchange name.
        exchange: String,
        /// The file loaded first.
        first: PathBuf,
        /// The file refused.
        second: PathBuf,
    },
}

impl LoadError {
    /// The file this error is about.
    pub fn path(&self) -> &Path {
        match self {
            LoadError::NotAPlugin { path, .. }
            | LoadError::AbiVersion { path, .. }
            | LoadError::Layout { path, .. }
            | LoadError::Manifest { path, .. }
            | LoadError::Untrusted { path, .. } => path,
            LoadError::DuplicateExchange { second, .. } => second,
        }
    }
}

/// A plugin file whose ABI checked out, ready to create instances.
#[derive(Clone)]
pub struct LoadedPlugin {
    /// The file it came from.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    module: PluginModRef,
}

impl fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("path", &self.path)
            .field("exchange", &self.manifest.exchange)
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    /// Opens `path` — once it and its folder are found to be this user's
    /// (or root's) and not writable by every user — checks its ABI version
    /// and layout, and reads its manifest. The library stays mapped for the
    /// life of the process (abi_stable never unloads).
    pub fn load(path: &Path) -> Result<LoadedPlugin, LoadError> {
        if let Some(reason) = crate::trust::distrust(path) {
            return Err(LoadError::Untrusted {
                path: path.to_owned(),
                reason,
            });
        }
        let header = lib_header_from_path(path).map_err(|error| classify(path, error))?;
        check_version(path, header.version_strings())?;
        let module = header
            .init_root_module::<PluginModRef>()
            .map_err(|error| classify(path, error))?;
        let manifest = match (module.manifest())() {
            RResult::ROk(manifest) => manifest,
            RResult::RErr(error) => {
                return Err(LoadError::Manifest {
                    path: path.to_owned(),
                    error: error.to_string(),
                });
            }
        };
        Ok(LoadedPlugin {
            path: path.to_owned(),
            manifest,
            module,
        })
    }

    /// Creates an instance from its JSON configuration.
    pub fn instantiate(&self, config: &str) -> Result<PluginInstance, PluginError> {
        let session = Result::from((self.module.new())(RStr::from_str(config)))?;
        Ok(PluginInstance {
            inner: Mutex::new(session),
        })
    }
}

/// Same major version, and while the major is 0, the same minor: the rule of
/// [`ABI_VERSION`](crate::ABI_VERSION), checked before abi_stable's layout
/// check so that a version mismatch reads as one.
fn check_version(path: &Path, plugin: VersionStrings) -> Result<(), LoadError> {
    let mismatch = || LoadError::AbiVersion {
        path: path.to_owned(),
        plugin_version: plugin.to_string(),
        host_version: ABI_VERSION.to_owned(),
    };
    let plugin = VersionNumber::new(plugin).map_err(|_| mismatch())?;
    let host = VersionNumber::new(VersionStrings::new(ABI_VERSION)).map_err(|_| mismatch())?;
    let compatible = if host.major == 0 {
        plugin.major == 0 && plugin.minor == host.minor
    } else {
        plugin.major == host.major
    };
    if compatible { Ok(()) } else { Err(mismatch()) }
}

fn classify(path: &Path, error: LibraryError) -> LoadError {
    let path = path.to_owned();
    match error {
        LibraryError::OpenError { err, .. } => LoadError::NotAPlugin {
            path,
            reason: first_line(&err.to_string()),
        },
        LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin {
            path,
            reason: "it exports no plugin root module".to_owned(),
        },
        LibraryError::IncompatibleVersionNumber { actual_version, .. } => LoadError::AbiVersion {
            path,
            plugin_version: actual_version.to_string(),
            host_version: ABI_VERSION.to_owned(),
        },
        LibraryError::InvalidAbiHeader(header) => LoadError::AbiVersion {
            path,
            plugin_version: format!(
                "abi_stable {}.{} header",
                header.abi_major, header.abi_minor
            ),
            host_version: format!("{ABI_VERSION} (abi_stable 0.11)"),
        },
        LibraryError::AbiInstability(report) => {
            let details = report.to_string();
            LoadError::Layout {
                path,
                summary: layout_summary(&details),
                details,
            }
        }
        other => LoadError::NotAPlugin {
            path,
            reason: first_line(&other.to_string()),
        },
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("unknown error")
        .to_owned()
}

/// The `Error:` lines of abi_stable's layout report, at most three.
fn layout_summary(report: &str) -> String {
    let errors: Vec<&str> = report
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("Error:"))
        .map(|line| line.trim_start_matches("Error:").trim())
        .collect();
    match errors.len() {
        0 => first_line(report),
        n if n <= 3 => errors.join("; "),
        n => format!("{}; and {} more", errors[..3].join("; "), n - 3),
    }
}

/// A configured session, with the ABI's `RResult`s turned into `Result`s.
///
/// Callers on many threads share it: each call takes the session's lock for
/// its duration (calls are short: pure computation over one input).
pub struct PluginInstance {
    inner: Mutex<PluginBox>,
}

impl PluginInstance {
    fn session(&self) -> MutexGuard<'_, PluginBox> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// See [`ExchangeSession::manifest`](crate::ExchangeSession::manifest).
    pub fn manifest(&self) -> Result<Manifest, PluginError> {
        self.session().manifest().into()
    }

    /// See [`ExchangeSession::subscribe`](crate::ExchangeSession::subscribe).
    pub fn subscribe(
        &self,
        streams: &[Stream],
        subscribe: bool,
        now_ms: u64,
    ) -> Result<RVec<Output_NE>, PluginError> {
        self.session()
            .subscribe(RSlice::from_slice(streams), subscribe, now_ms)
            .into()
    }

    /// See [`ExchangeSession::on_connection`](crate::ExchangeSession::on_connection).
    pub fn on_connection(
        &self,
        connection: &str,
        up: bool,
        reason: &str,
        now_ms: u64,
    ) -> Result<RVec<Output_NE>, PluginError> {
        self.session()
            .on_connection(
                RStr::from_str(connection),
                up,
                RStr::from_str(reason),
                now_ms,
            )
            .into()
    }

    /// See [`ExchangeSession::on_frame`](crate::ExchangeSession::on_frame).
    pub fn on_frame(
        &self,
        connection: &str,
        frame: &str,
        now_ms: u64,
    ) -> Result<RVec<Output_NE>, PluginError> {
        self.session()
            .on_frame(RStr::from_str(connection), RStr::from_str(frame), now_ms)
            .into()
    }

    /// See [`ExchangeSession::begin`](crate::ExchangeSession::begin).
    pub fn begin(
        &self,
        job: u64,
        operation: &Operation_NE,
        context: &RequestContext,
    ) -> Result<RVec<Output_NE>, PluginError> {
        self.session().begin(job, operation, context).into()
    }

    /// See [`ExchangeSession::on_signed`](crate::ExchangeSession::on_signed).
    pub fn on_signed(
        &self,
        job: u64,
        signature: &[u8],
        now_ms: u64,
    ) -> Result<RVec<Output_NE>, PluginError> {
        self.session()
            .on_signed(job, RSlice::from_slice(signature), now_ms)
            .into()
    }

    /// See [`ExchangeSession::on_answer`](crate::ExchangeSession::on_answer).
    pub fn on_answer(
        &self,
        job: u64,
        answer: &Answer,
        now_ms: u64,
    ) -> Result<RVec<Output_NE>, PluginError> {
        self.session().on_answer(job, answer, now_ms).into()
    }

    /// See [`ExchangeSession::on_timer`](crate::ExchangeSession::on_timer).
    pub fn on_timer(&self, now_ms: u64) -> Result<RVec<Output_NE>, PluginError> {
        self.session().on_timer(now_ms).into()
    }

    /// See [`ExchangeSession::next_wakeup`](crate::ExchangeSession::next_wakeup).
    pub fn next_wakeup(&self) -> Option<u64> {
        self.session().next_wakeup().into_option()
    }

    /// See [`ExchangeSession::mark_source`](crate::ExchangeSession::mark_source).
    pub fn mark_source(&self) -> Option<String> {
        self.session().mark_source().into_option().map(String::from)
    }
}

impl fmt::Debug for PluginInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginInstance").finish_non_exhaustive()
    }
}

/// Wraps an operation for the ABI.
pub fn operation(operation: Operation) -> Operation_NE {
    Operation_NE::new(operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_summary_keeps_only_the_error_lines() {
        let report = "path: A -> B\nError:incompatible type size\n Expected 168\nError:too many fields\nError:c\nError:d\n";
        assert_eq!(
            layout_summary(report),
            "incompatible type size; too many fields; c; and 1 more"
        );
    }
}
