//! The ABI itself: the session trait object and the root module a plugin
//! file exports.

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RBox, ROption, RResult, RSlice, RStr, RString, RVec};
use abi_stable::{StableAbi, declare_root_module_statics, package_version_strings, sabi_trait};

use crate::{Answer, Manifest, Operation_NE, Output_NE, PluginError, RequestContext, Stream};

/// One configured exchange account's protocol state machine, as the host
/// sees it.
///
/// The session holds the venue's protocol state (subscriptions per
/// connection, book sequences, requests in flight on a socket, tokens) and
/// is driven with plain data and the current time; it returns what to do
/// ([`Output`](crate::Output)s, in order) and never opens a socket, reads
/// the clock, spawns a thread or blocks. The host is the only I/O driver.
/// Every method returns a `PluginError` instead of panicking across the
/// boundary (see [`export_plugin!`](crate::export_plugin)).
#[sabi_trait]
pub trait ExchangeSession: Send {
    /// The plugin's manifest.
    fn manifest(&self) -> RResult<Manifest, PluginError>;

    /// The host wants these streams (`subscribe`), or no longer wants them.
    /// The session routes each to its connection, opening connections as
    /// needed, and subscribes once a connection is up.
    fn subscribe(
        &mut self,
        streams: RSlice<'_, Stream>,
        subscribe: bool,
        now_ms: u64,
    ) -> RResult<RVec<Output_NE>, PluginError>;

    /// A connection the session opened came up (`up`) or went down (the
    /// host reconnects it by itself, and reports it up again).
    fn on_connection(
        &mut self,
        connection: RStr<'_>,
        up: bool,
        reason: RStr<'_>,
        now_ms: u64,
    ) -> RResult<RVec<Output_NE>, PluginError>;

    /// One text frame received on a connection.
    fn on_frame(
        &mut self,
        connection: RStr<'_>,
        frame: RStr<'_>,
        now_ms: u64,
    ) -> RResult<RVec<Output_NE>, PluginError>;

    /// Starts job `job` for an operation. The session answers with what
    /// to sign and send, and finishes the job with
    /// [`Output::Done`](crate::Output::Done) — at once if it cannot build
    /// it. A retry is a new job: prepared and signed anew.
    fn begin(
        &mut self,
        job: u64,
        operation: &Operation_NE,
        context: &RequestContext,
    ) -> RResult<RVec<Output_NE>, PluginError>;

    /// The signature a job's [`Output::Sign`](crate::Output::Sign) asked
    /// for (raw bytes, as the signer's scheme makes them).
    fn on_signed(
        &mut self,
        job: u64,
        signature: RSlice<'_, u8>,
        now_ms: u64,
    ) -> RResult<RVec<Output_NE>, PluginError>;

    /// What became of a job's request: the venue's answer, or why there is
    /// none. Also how the host gives up on a job it no longer waits for
    /// (`UNKNOWN`).
    fn on_answer(
        &mut self,
        job: u64,
        answer: &Answer,
        now_ms: u64,
    ) -> RResult<RVec<Output_NE>, PluginError>;

    /// Time passed: called at (or after) [`next_wakeup`](Self::next_wakeup).
    fn on_timer(&mut self, now_ms: u64) -> RResult<RVec<Output_NE>, PluginError>;

    /// When the session next wants [`on_timer`](Self::on_timer), ms; `None`
    /// for never. Asked after every call.
    fn next_wakeup(&self) -> ROption<u64>;

    /// The base URL of the venue's public REST API for the deployment this
    /// session trades on (`https://api.bybit.com`), from which a signer
    /// fetches every market's mark itself to value orders; `None` where
    /// the venue has none a signer reads.
    #[sabi(last_prefix_field)]
    fn mark_source(&self) -> ROption<RString>;
}

/// A boxed session.
pub type PluginBox = ExchangeSession_TO<'static, RBox<()>>;

/// The root module every plugin file exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// The manifest, without configuring an instance.
    pub manifest: extern "C" fn() -> RResult<Manifest, PluginError>,

    /// Creates a session from its configuration (a JSON object; see the
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
