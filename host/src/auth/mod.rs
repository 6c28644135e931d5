//! Who may reach the command and event sockets: ZeroMQ CURVE. The host has
//! a key pair; each client has its own, listed in `zmq.curve.clients` with
//! a role. A key not listed is refused during the handshake (by the ZAP
//! handler, [`zap`]), before the host reads anything it sends; a listed
//! one is admitted, and each command it sends is judged against its role
//! in the list in force ([`clients`]).

pub mod clients;
pub mod keys;
pub mod zap;

use std::collections::HashMap;
use std::sync::Arc;

pub use clients::{Client, Clients, Role};
pub use keys::{KeyPair, PublicKey};

use crate::config::{CurveConfig, KeyPath};

/// CURVE on the host's sockets: its key pair and the allow-list.
#[derive(Debug, Clone)]
pub struct Curve {
    keys: Arc<KeyPair>,
    /// The clients allowed, replaced on reload.
    pub clients: Clients,
}

impl Curve {
    /// Reads the host's key and every client's public key named in
    /// `config`; each unreadable file is a problem at its key.
    pub fn load(config: &CurveConfig) -> Result<Curve, Vec<(KeyPath, String)>> {
        let keys = KeyPair::read(&config.secret_key_file).map_err(|error| {
            vec![(
                KeyPath::key("zmq").join("curve").join("secret_key_file"),
                error.to_string(),
            )]
        });
        let clients = load_clients(config);
        match (keys, clients) {
            (Ok(keys), Ok(clients)) => Ok(Curve {
                keys: Arc::new(keys),
                clients: Clients::new(clients),
            }),
            (keys, clients) => Err(keys
                .err()
                .into_iter()
                .chain(clients.err())
                .flatten()
                .collect()),
        }
    }

    /// The host's public key, which clients need to connect.
    pub fn public_key(&self) -> PublicKey {
        self.keys.public
    }

    /// Makes `socket` a CURVE server whose handshakes the ZAP handler of
    /// its context judges under `domain`. Call before binding.
    pub fn secure_server(&self, socket: &zmq::Socket, domain: &str) -> Result<(), zmq::Error> {
        socket.set_zap_domain(domain)?;
        socket.set_curve_server(true)?;
        socket.set_curve_secretkey(self.keys.secret())
    }

    /// This host as a client of another host whose public key is `server`
    /// (a market relay), connecting with this host's own key.
    pub fn client_of(&self, server: PublicKey) -> ClientKeys {
        ClientKeys {
            keys: Arc::clone(&self.keys),
            server,
        }
    }

    /// Serves the allow-list to the CURVE sockets of `context`.
    pub fn start_zap(&self, context: &zmq::Context) -> Result<zap::ZapHandler, zmq::Error> {
        zap::ZapHandler::start(context, self.clients.clone())
    }
}

/// The clients of `config` by public key; problems name each client's key.
pub fn load_clients(
    config: &CurveConfig,
) -> Result<HashMap<PublicKey, Client>, Vec<(KeyPath, String)>> {
    let mut clients = HashMap::new();
    let mut problems = Vec::new();
    for (index, client) in config.clients.iter().enumerate() {
        let at = || {
            KeyPath::key("zmq")
                .join("curve")
                .join("clients")
                .index(index)
        };
        match keys::read_public(&client.public_key_file) {
            Ok(key) => {
                let listed = Client {
                    name: client.name.clone(),
                    role: client.role,
                };
                if let Some(earlier) = clients.insert(key, listed) {
                    problems.push((
                        at().join("public_key_file"),
                        format!("the same key as client `{}`", earlier.name),
                    ));
                }
            }
            Err(error) => problems.push((at().join("public_key_file"), error.to_string())),
        }
    }
    if problems.is_empty() {
        Ok(clients)
    } else {
        Err(problems)
    }
}

/// What a client connects with: its own key pair and the host's public key.
#[derive(Debug, Clone)]
pub struct ClientKeys {
    /// The client's key pair (listed in the host's `zmq.curve.clients`).
    pub keys: Arc<KeyPair>,
    /// The host's public key.
    pub server: PublicKey,
}

impl ClientKeys {
    /// Makes `socket` a CURVE client with these keys. Call before
    /// connecting.
    pub fn secure(&self, socket: &zmq::Socket) -> Result<(), zmq::Error> {
        socket.set_curve_serverkey(&self.server.0)?;
        socket.set_curve_publickey(&self.keys.public.0)?;
        socket.set_curve_secretkey(self.keys.secret())
    }
}
