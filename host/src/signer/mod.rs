//! Signing: the client of the external signer, and the nonce source every
//! signing path shares.

mod client;
mod nonce;

pub use client::{SignError, SignatureBytes, SignerClient};
pub use nonce::{NonceError, NonceSource};
