//! Who may connect: the allow-listed client keys, each with a name and a
//! role. The list is swapped whole on reload; every command is judged
//! against the list in force when it arrives, so a key removed from the
//! config stops trading at once, on connections already open too (and the
//! event socket drops every subscriber then, for each to handshake again).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Deserialize;

use super::keys::PublicKey;

/// What a client may do, each role including the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Events, and commands that change nothing (status, snapshot,
    /// replay, balances…).
    Read,
    /// Orders: place, cancel, modify, batches, leverage, heartbeats.
    Trade,
    /// The kill switch and its release, and reloading the configuration.
    Admin,
}

impl Role {
    /// The role as the config spells it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Trade => "trade",
            Role::Admin => "admin",
        }
    }
}

/// One allow-listed client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Its name in the config, as logs and refusals show it.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

/// The allow-list in force, shared by the sockets' handlers and the
/// command thread.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    by_key: Arc<RwLock<Arc<HashMap<PublicKey, Client>>>>,
}

impl Clients {
    /// An allow-list of `clients`.
    pub fn new(clients: HashMap<PublicKey, Client>) -> Clients {
        Clients {
            by_key: Arc::new(RwLock::new(Arc::new(clients))),
        }
    }

    /// Puts `clients` in force for every handshake and command from now on;
    /// returns the names of the clients no longer listed.
    pub fn replace(&self, clients: HashMap<PublicKey, Client>) -> Vec<String> {
        let mut by_key = self.by_key.write().unwrap_or_else(|e| e.into_inner());
        let removed = by_key
            .iter()
            .filter(|(key, _)| !clients.contains_key(*key))
            .map(|(_, client)| client.name.clone())
            .collect();
        *by_key = Arc::new(clients);
        removed
    }

    /// The client of `key`, if listed.
    pub fn get(&self, key: &PublicKey) -> Option<Client> {
        self.by_key
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    /// The client whose Z85 key ZeroMQ reports as a message's `User-Id`.
    pub fn by_user_id(&self, user_id: &str) -> Option<Client> {
        super::keys::decode(user_id).and_then(|key| self.get(&PublicKey(key)))
    }

    /// How many clients are listed.
    pub fn len(&self) -> usize {
        self.by_key.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_the_ones_before_and_a_replaced_list_is_in_force_at_once() {
        assert!(Role::Admin > Role::Trade && Role::Trade > Role::Read);
        let key = PublicKey([7; 32]);
        let client = |role| Client {
            name: "ops".to_owned(),
            role,
        };
        let clients = Clients::new(HashMap::from([(key, client(Role::Trade))]));
        let shared = clients.clone();
        assert_eq!(shared.by_user_id(&key.z85()), Some(client(Role::Trade)));
        assert_eq!(clients.replace(HashMap::new()), ["ops"]);
        assert_eq!(shared.by_user_id(&key.z85()), None);
        assert_eq!(shared.by_user_id("not a key"), None);
    }
}
