//! Integration tests of the emulator over loopback HTTP and WebSocket.

mod auth;
mod binance;
mod bybit;
mod cli;
mod faults;
mod matching;
mod schedule;
mod sdk;
mod support;
mod validation;
mod websocket;
