//! Tests of the signer: the public vectors through the handler, the socket
//! server run as a real process, the command line, and what an attacker on
//! the same machine could try.

mod attacks;
mod cli;
mod common;
mod keystore;
mod marks;
mod socket;
mod vectors;
