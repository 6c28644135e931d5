//! Every L1 vector, with the action's keys in reverse order, signs to exactly the
//! vector's signature and connection id.

use connector_signer::handler::Signer;
use connector_signer::keyring::Keyring;
use connector_signer::policy::hyperliquid::Policy;
use connector_signer::protocol::RequestId;
use hyperliquid_core::PrivateKey;
use serde_json::{Value, json};

use crate::common::{reversed_keys, signature_json, vector_request, vectors};

#[test]
fn every_l1_vector_signs_exactly_whatever_the_key_order() {
    let mut checked = 0;
    for vector in vectors().iter().filter(|v| v["kind"] == "l1_action") {
        let name = vector["name"].as_str().unwrap();
        let key = PrivateKey::from_hex(vector["private_key"].as_str().unwrap()).unwrap();
        // Trading for a vault is signed only for the vaults a policy lists.
        let policy = match vector["vault_address"].as_str() {
            Some(vault) => Policy::from_toml(&format!("allowed_vaults = [{vault:?}]")).unwrap(),
            None => Policy::default(),
        };
        let signer = Signer::new(Keyring::single(key, policy));
        let line = vector_request(vector, json!(name));
        // The request really does carry the keys out of signature order.
        let action = &serde_json::from_str::<Value>(&line).unwrap()["action"];
        if vector["action"].as_object().unwrap().len() > 1 {
            assert_ne!(action.as_object().unwrap().keys().next().unwrap(), "type");
        }
        assert_eq!(action, &reversed_keys(&vector["action"]));

        let response = signer.handle_line(line.as_bytes());
        assert_eq!(response.id, Some(RequestId::Text(name.to_owned())));
        let signed = response
            .result
            .unwrap_or_else(|error| panic!("{name}: {error:?}"));
        assert_eq!(
            signature_json(&signed),
            vector["signature_padded"],
            "{name}"
        );
        assert_eq!(
            signed.action_hash.as_deref(),
            vector["connection_id"].as_str(),
            "{name}"
        );
        assert!(
            vector["signer_address"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(&signed.signer),
            "{name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 22);
}
