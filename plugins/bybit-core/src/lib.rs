//! Bybit v5 (linear) wire knowledge, shared by the Bybit plugin (which
//! encodes requests and classifies answers), the signer (which signs them)
//! and the emulator's Bybit front end (which checks them): written once.
//!
//! * [`auth`] — the text a REST request and a socket `auth` sign, and the
//!   headers that carry it.
//! * [`codes`] — `retCode`s and what each proves about a request.
//! * [`envelope`] — the `{retCode, retMsg, result, retExtInfo, time}`
//!   answer.
//! * [`marks`] — every symbol's mark price from the tickers endpoint.
//! * [`order`] — order create, amend and cancel bodies, and the venue's
//!   words for sides, types, times in force and statuses.

#![warn(missing_docs)]

pub mod auth;
pub mod codes;
pub mod envelope;
pub mod marks;
pub mod order;
