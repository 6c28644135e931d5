//! Tests of the signer: the public vectors through the handler, the socket
//! server run as a real process, and the command line.

mod cli;
mod common;
mod socket;
mod vectors;
