//! Signing: the client of the external signer, and the nonce source every
//! signing path shares.

mod client;
mod nonce;
mod spawn;

pub use client::{SignError, SignatureBytes, SignerClient};
pub use nonce::{NonceError, NonceSource};
pub use spawn::{
    DefaultMarks, SignerProcess, SpawnError, SpawnKeys, SpawnSpec, SupervisedSigner, signer_binary,
};
