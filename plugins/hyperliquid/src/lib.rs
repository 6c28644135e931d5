//! The Hyperliquid exchange plugin for `connector-host`.
//!
//! A sans-IO protocol state machine: it never opens a socket, reads the
//! clock or blocks. The host gives it frames and answers and takes back
//! normalized events, signing requests and finished requests (see
//! `plugin-api`). Protocol details (wire numbers, action key order, hashing)
//! live in `hyperliquid-core`, shared with the signer and the emulator.
//!
//! * [`config`] — the JSON the host configures it with.
//! * `manifest` — what it supports.
//! * `streams` — connections and subscription frames.
//! * `parse` — socket frames and `/info` shapes to events.
//! * `requests` — operations to `/info` queries and signed `/exchange`
//!   actions (or socket `post` frames).
//! * `replies` — answers to outcomes and events.

#![warn(missing_docs)]

pub mod config;
mod manifest;
mod parse;
mod replies;
mod requests;
mod streams;

use abi_stable::std_types::RString;
use plugin_api::{
    ConnectionSpec, Event_NE, Exchange, Manifest, Operation, PluginError, Prepared, Reply, Request,
    RequestContext, Response, Stream,
};

use config::Config;

/// One configured Hyperliquid account.
pub struct Hyperliquid {
    config: Config,
}

impl Exchange for Hyperliquid {
    fn manifest() -> Manifest {
        manifest::manifest()
    }

    fn new(config: &str) -> Result<Self, PluginError> {
        Ok(Hyperliquid {
            config: Config::parse(config)?,
        })
    }

    fn connections(&self) -> Result<Vec<ConnectionSpec>, PluginError> {
        Ok(streams::connections(&self.config))
    }

    fn stream_frames(
        &self,
        _connection: &str,
        streams: &[Stream],
        subscribe: bool,
    ) -> Result<Vec<RString>, PluginError> {
        streams::frames(&self.config, streams, subscribe)
    }

    fn parse_frame(
        &self,
        _connection: &str,
        frame: &str,
        now_ms: u64,
    ) -> Result<Vec<Event_NE>, PluginError> {
        parse::parse_frame(frame, now_ms)
    }

    fn prepare(
        &self,
        operation: &Operation,
        context: &RequestContext,
    ) -> Result<Prepared, PluginError> {
        requests::prepare(&self.config, operation, context)
    }

    fn finish(&self, prepared: &Prepared, signature: &[u8]) -> Result<Request, PluginError> {
        requests::finish(&self.config, prepared, signature)
    }

    fn parse_reply(
        &self,
        operation: &Operation,
        response: &Response,
    ) -> Result<Reply, PluginError> {
        replies::parse_reply(operation, response)
    }
}

plugin_api::export_plugin!(Hyperliquid);
