//! The plugin author's side: implement [`Exchange`] — the venue's protocol
//! state machine — in plain Rust and export it with [`export_plugin!`];
//! every entry point is then guarded against panics.

use std::any::Any;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

use abi_stable::prefix_type::WithMetadata;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROption, RResult, RSlice, RStr, RString, RVec};

use crate::{
    Answer, ExchangeSession, ExchangeSession_TO, Manifest, Operation, Operation_NE, Output_NE,
    PluginBox, PluginError, PluginErrorKind, PluginMod, PluginModRef, RequestContext, Stream,
};

/// An exchange's protocol state machine, written as ordinary Rust.
///
/// The contract is the one of [`ExchangeSession`]: no I/O, no clock, no
/// threads, no blocking; the host passes time in and acts on the outputs.
pub trait Exchange: Send + Sized + 'static {
    /// The manifest, available before configuration.
    fn manifest() -> Manifest;

    /// Creates a session from its JSON configuration.
    fn new(config: &str) -> Result<Self, PluginError>;

    /// See [`ExchangeSession::subscribe`].
    fn subscribe(
        &mut self,
        streams: &[Stream],
        subscribe: bool,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError>;

    /// See [`ExchangeSession::on_connection`].
    fn on_connection(
        &mut self,
        connection: &str,
        up: bool,
        reason: &str,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError>;

    /// See [`ExchangeSession::on_frame`].
    fn on_frame(
        &mut self,
        connection: &str,
        frame: &str,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError>;

    /// See [`ExchangeSession::begin`].
    fn begin(
        &mut self,
        job: u64,
        operation: &Operation,
        context: &RequestContext,
    ) -> Result<Vec<Output_NE>, PluginError>;

    /// See [`ExchangeSession::on_signed`].
    fn on_signed(
        &mut self,
        job: u64,
        signature: &[u8],
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError>;

    /// See [`ExchangeSession::on_answer`].
    fn on_answer(
        &mut self,
        job: u64,
        answer: &Answer,
        now_ms: u64,
    ) -> Result<Vec<Output_NE>, PluginError>;

    /// See [`ExchangeSession::on_timer`]; nothing by default.
    fn on_timer(&mut self, now_ms: u64) -> Result<Vec<Output_NE>, PluginError> {
        let _ = now_ms;
        Ok(Vec::new())
    }

    /// See [`ExchangeSession::next_wakeup`]; never by default.
    fn next_wakeup(&self) -> Option<u64> {
        None
    }

    /// See [`ExchangeSession::mark_source`].
    fn mark_source(&self) -> Option<String>;
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

impl<E: Exchange> ExchangeSession for Guarded<E> {
    fn manifest(&self) -> RResult<crate::Manifest, PluginError> {
        guard(|| Ok(E::manifest()))
    }

    fn subscribe(
        &mut self,
        streams: RSlice<'_, Stream>,
        subscribe: bool,
        now_ms: u64,
    ) -> RResult<RVec<Output_NE>, PluginError> {
        guard(|| {
            self.0
                .subscribe(streams.as_slice(), subscribe, now_ms)
                .map(RVec::from)
        })
    }

    fn on_connection(
        &mut self,
        connection: RStr<'_>,
        up: bool,
        reason: RStr<'_>,
        now_ms: u64,
    ) -> RResult<RVec<Output_NE>, PluginError> {
        guard(|| {
            self.0
                .on_connection(connection.as_str(), up, reason.as_str(), now_ms)
                .map(RVec::from)
        })
    }

    fn on_frame(
        &mut self,
        connection: RStr<'_>,
        frame: RStr<'_>,
        now_ms: u64,
    ) -> RResult<RVec<Output_NE>, PluginError> {
        guard(|| {
            self.0
                .on_frame(connection.as_str(), frame.as_str(), now_ms)
                .map(RVec::from)
        })
    }

    fn begin(
        &mut self,
        job: u64,
        operation: &Operation_NE,
        context: &RequestContext,
    ) -> RResult<RVec<Output_NE>, PluginError> {
        guard(|| {
            self.0
                .begin(job, known_operation(operation)?, context)
                .map(RVec::from)
        })
    }

    fn on_signed(
        &mut self,
        job: u64,
        signature: RSlice<'_, u8>,
        now_ms: u64,
    ) -> RResult<RVec<Output_NE>, PluginError> {
        guard(|| {
            self.0
                .on_signed(job, signature.as_slice(), now_ms)
                .map(RVec::from)
        })
    }

    fn on_answer(
        &mut self,
        job: u64,
        answer: &Answer,
        now_ms: u64,
    ) -> RResult<RVec<Output_NE>, PluginError> {
        guard(|| self.0.on_answer(job, answer, now_ms).map(RVec::from))
    }

    fn on_timer(&mut self, now_ms: u64) -> RResult<RVec<Output_NE>, PluginError> {
        guard(|| self.0.on_timer(now_ms).map(RVec::from))
    }

    fn next_wakeup(&self) -> ROption<u64> {
        match catch_unwind(AssertUnwindSafe(|| self.0.next_wakeup())) {
            Ok(wakeup) => wakeup.into(),
            Err(_) => ROption::RNone,
        }
    }

    fn mark_source(&self) -> ROption<RString> {
        match catch_unwind(AssertUnwindSafe(|| self.0.mark_source())) {
            Ok(url) => url.map(RString::from).into(),
            Err(_) => ROption::RNone,
        }
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
        Ok(ExchangeSession_TO::from_value(Guarded(exchange), TD_Opaque))
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
