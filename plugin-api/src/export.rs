//! The plugin author's side: implement [`Exchange`] in plain Rust and export
//! it with [`export_plugin!`]; every entry point is then guarded against
//! panics.

use std::any::Any;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

use abi_stable::prefix_type::WithMetadata;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RSlice, RStr, RString, RVec};

use crate::{
    ConnectionSpec, Event_NE, ExchangePlugin, ExchangePlugin_TO, Manifest, Operation, Operation_NE,
    PluginBox, PluginError, PluginErrorKind, PluginMod, PluginModRef, Prepared, Reply, Request,
    RequestContext, Response, Stream,
};

/// An exchange's protocol logic, written as ordinary Rust.
///
/// The contract is the one of [`ExchangePlugin`]: no I/O, no clock, no
/// threads, no blocking; the host passes time in.
pub trait Exchange: Send + Sync + Sized + 'static {
    /// The manifest, available before configuration.
    fn manifest() -> Manifest;

    /// Creates an instance from its JSON configuration.
    fn new(config: &str) -> Result<Self, PluginError>;

    /// See [`ExchangePlugin::connections`].
    fn connections(&self) -> Result<Vec<ConnectionSpec>, PluginError>;

    /// See [`ExchangePlugin::stream_frames`].
    fn stream_frames(
        &self,
        connection: &str,
        streams: &[Stream],
        subscribe: bool,
    ) -> Result<Vec<RString>, PluginError>;

    /// See [`ExchangePlugin::parse_frame`].
    fn parse_frame(
        &self,
        connection: &str,
        frame: &str,
        now_ms: u64,
    ) -> Result<Vec<Event_NE>, PluginError>;

    /// See [`ExchangePlugin::prepare`].
    fn prepare(
        &self,
        operation: &Operation,
        context: &RequestContext,
    ) -> Result<Prepared, PluginError>;

    /// See [`ExchangePlugin::finish`].
    fn finish(&self, prepared: &Prepared, signature: &[u8]) -> Result<Request, PluginError>;

    /// See [`ExchangePlugin::parse_reply`].
    fn parse_reply(&self, operation: &Operation, response: &Response)
    -> Result<Reply, PluginError>;
}

/// Runs `call`, turning a panic into a `PANICKED` error.
pub fn guard<T>(call: impl FnOnce() -> Result<T, PluginError>) -> RResult<T, PluginError> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(result) => result.into(),
        Err(payload) => RResult::RErr(PluginError::new(
            PluginErrorKind::PANICKED,
            format!("plugin panicked: {}", panic_text(payload.as_ref())),
        )),
    }
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

fn known_operation(operation: &Operation_NE) -> Result<&Operation, PluginError> {
    operation
        .as_enum()
        .map_err(|_| PluginError::unsupported("an operation from a newer plugin ABI"))
}

/// Wraps an [`Exchange`] so that it implements the ABI trait with every call
/// guarded.
struct Guarded<E>(E);

impl<E: Exchange> ExchangePlugin for Guarded<E> {
    fn manifest(&self) -> RResult<Manifest, PluginError> {
        guard(|| Ok(E::manifest()))
    }

    fn connections(&self) -> RResult<RVec<ConnectionSpec>, PluginError> {
        guard(|| self.0.connections().map(RVec::from))
    }

    fn stream_frames(
        &self,
        connection: RStr<'_>,
        streams: RSlice<'_, Stream>,
        subscribe: bool,
    ) -> RResult<RVec<RString>, PluginError> {
        guard(|| {
            self.0
                .stream_frames(connection.as_str(), streams.as_slice(), subscribe)
                .map(RVec::from)
        })
    }

    fn parse_frame(
        &self,
        connection: RStr<'_>,
        frame: RStr<'_>,
        now_ms: u64,
    ) -> RResult<RVec<Event_NE>, PluginError> {
        guard(|| {
            self.0
                .parse_frame(connection.as_str(), frame.as_str(), now_ms)
                .map(RVec::from)
        })
    }

    fn prepare(
        &self,
        operation: &Operation_NE,
        context: &RequestContext,
    ) -> RResult<Prepared, PluginError> {
        guard(|| self.0.prepare(known_operation(operation)?, context))
    }

    fn finish(
        &self,
        prepared: &Prepared,
        signature: RSlice<'_, u8>,
    ) -> RResult<Request, PluginError> {
        guard(|| self.0.finish(prepared, signature.as_slice()))
    }

    fn parse_reply(
        &self,
        operation: &Operation_NE,
        response: &Response,
    ) -> RResult<Reply, PluginError> {
        guard(|| self.0.parse_reply(known_operation(operation)?, response))
    }
}

/// Builds the root module for an [`Exchange`]; used by [`export_plugin!`].
pub fn root_module<E: Exchange>() -> PluginModRef {
    PluginModRef(ModuleOf::<E>::MODULE.as_prefix())
}

struct ModuleOf<E>(PhantomData<E>);

impl<E: Exchange> ModuleOf<E> {
    abi_stable::staticref!(const MODULE: WithMetadata<PluginMod> = WithMetadata::new(PluginMod {
        manifest: manifest_of::<E>,
        new: new_of::<E>,
    }));
}

extern "C" fn manifest_of<E: Exchange>() -> RResult<Manifest, PluginError> {
    guard(|| Ok(E::manifest()))
}

extern "C" fn new_of<E: Exchange>(config: RStr<'_>) -> RResult<PluginBox, PluginError> {
    guard(|| {
        let exchange = E::new(config.as_str())?;
        Ok(ExchangePlugin_TO::from_value(Guarded(exchange), TD_Opaque))
    })
}

/// Exports an [`Exchange`] implementation as this library's plugin root
/// module. The plugin crate must be a `cdylib` and depend on `abi_stable`.
///
/// ```ignore
/// plugin_api::export_plugin!(MyExchange);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($exchange:ty) => {
        type ConnectorPluginExchange = $exchange;

        /// The plugin's root module, exported for the host's loader.
        #[doc(hidden)]
        #[allow(missing_docs)]
        pub mod connector_plugin_root {
            #[::abi_stable::export_root_module]
            pub fn connector_plugin_root_module() -> $crate::PluginModRef {
                $crate::root_module::<super::ConnectorPluginExchange>()
            }
        }
    };
}
