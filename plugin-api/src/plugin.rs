//! The ABI itself: the plugin trait object and the root module a plugin file
//! exports.

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RBox, RResult, RSlice, RStr, RString, RVec};
use abi_stable::{StableAbi, declare_root_module_statics, package_version_strings, sabi_trait};

use crate::{
    ConnectionSpec, Event_NE, Manifest, Operation_NE, PluginError, Prepared, Reply, Request,
    RequestContext, Response, Stream,
};

/// One configured exchange connection's protocol logic, as the host sees it.
///
/// Every method is pure with respect to I/O: the host owns sockets, clocks
/// and retries and passes time in. Every method returns a `PluginError`
/// instead of panicking across the boundary (see
/// [`export_plugin!`](crate::export_plugin)).
#[sabi_trait]
pub trait ExchangePlugin: Send + Sync {
    /// The plugin's manifest.
    fn manifest(&self) -> RResult<Manifest, PluginError>;

    /// The WebSockets to keep open.
    fn connections(&self) -> RResult<RVec<ConnectionSpec>, PluginError>;

    /// The frames that subscribe to (or, with `subscribe == false`,
    /// unsubscribe from) streams on a connection.
    fn stream_frames(
        &self,
        connection: RStr<'_>,
        streams: RSlice<'_, Stream>,
        subscribe: bool,
    ) -> RResult<RVec<RString>, PluginError>;

    /// Turns one received text frame into events.
    fn parse_frame(
        &self,
        connection: RStr<'_>,
        frame: RStr<'_>,
        now_ms: u64,
    ) -> RResult<RVec<Event_NE>, PluginError>;

    /// Phase one of a request: what must be signed, if anything.
    fn prepare(
        &self,
        operation: &Operation_NE,
        context: &RequestContext,
    ) -> RResult<Prepared, PluginError>;

    /// Phase two: the finished request, given the raw signature bytes
    /// (empty when nothing had to be signed).
    fn finish(
        &self,
        prepared: &Prepared,
        signature: RSlice<'_, u8>,
    ) -> RResult<Request, PluginError>;

    /// Classifies the response to a request built for `operation`.
    #[sabi(last_prefix_field)]
    fn parse_reply(
        &self,
        operation: &Operation_NE,
        response: &Response,
    ) -> RResult<Reply, PluginError>;
}

/// A boxed plugin instance.
pub type PluginBox = ExchangePlugin_TO<'static, RBox<()>>;

/// The root module every plugin file exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// The manifest, without configuring an instance.
    pub manifest: extern "C" fn() -> RResult<Manifest, PluginError>,

    /// Creates an instance from its configuration (a JSON object; see the
    /// plugin's documentation for its keys).
    #[sabi(last_prefix_field)]
    pub new: extern "C" fn(config: RStr<'_>) -> RResult<PluginBox, PluginError>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "connector_plugin";
    const NAME: &'static str = "connector_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// The plugin ABI version this crate defines (the `plugin-api` crate
/// version). A plugin loads only into a host of the same major version and,
/// while the major is 0, the same minor.
pub const ABI_VERSION: &str = env!("CARGO_PKG_VERSION");
