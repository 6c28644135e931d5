//! Every signing vector of the public vector file, byte for byte: action JSON,
//! msgpack, pre-image, connection id, EIP-712 hashes, signature, recovery and the
//! `/exchange` body.

use crate::{decimal, vectors};
use hyperliquid_core::{
    Action, ApproveAgent, BatchModifyAction, CancelAction, CancelByCloidAction, CancelByCloidWire,
    CancelWire, Cloid, ExchangeRequest, Grouping, MarketKind, Modify, Network, OrderAction,
    OrderKind, OrderRef, OrderRequest, PrivateKey, ScheduleCancelAction, Signature, SigningContext,
    Tif, Tpsl, UpdateIsolatedMarginAction, UpdateLeverageAction, keccak256, l1_domain_separator,
    l1_hashes, recover_address, sign_digest, signing_digest, slippage_price, usd_int,
};
use serde_json::{Map, Value};

/// `"0x…"` hex text as bytes.
fn hex_bytes(value: &Value) -> Vec<u8> {
    let text = value.as_str().expect("hex string");
    hex::decode(text.trim_start_matches("0x")).expect("valid hex")
}

fn network(vector: &Value) -> Network {
    if vector["is_mainnet"].as_bool().expect("is_mainnet") {
        Network::Mainnet
    } else {
        Network::Testnet
    }
}

fn context(vector: &Value) -> SigningContext {
    SigningContext {
        network: network(vector),
        nonce: vector["nonce"].as_u64().expect("nonce"),
        vault_address: vector["vault_address"]
            .as_str()
            .map(|text| text.parse().expect("vault address")),
        expires_after: vector["expires_after"].as_u64(),
    }
}

fn cloid(value: &Value) -> Option<Cloid> {
    value.as_str().map(|text| text.parse().expect("cloid"))
}

/// An SDK `OrderRequest` dict (`coin, is_buy, sz, limit_px, order_type, …`).
fn order_request(input: &Value) -> OrderRequest {
    let order_type = &input["order_type"];
    let kind = if let Some(limit) = order_type.get("limit") {
        OrderKind::Limit(match limit["tif"].as_str().expect("tif") {
            "Gtc" => Tif::Gtc,
            "Alo" => Tif::Alo,
            "Ioc" => Tif::Ioc,
            other => panic!("tif {other}"),
        })
    } else {
        let trigger = &order_type["trigger"];
        OrderKind::Trigger {
            trigger_price: decimal(&trigger["triggerPx"]),
            is_market: trigger["isMarket"].as_bool().expect("isMarket"),
            tpsl: match trigger["tpsl"].as_str().expect("tpsl") {
                "tp" => Tpsl::Tp,
                "sl" => Tpsl::Sl,
                other => panic!("tpsl {other}"),
            },
        }
    };
    OrderRequest {
        asset: input["asset"].as_u64().expect("asset") as u32,
        is_buy: input["is_buy"].as_bool().expect("is_buy"),
        price: decimal(&input["limit_px"]),
        size: decimal(&input["sz"]),
        reduce_only: input["reduce_only"].as_bool().expect("reduce_only"),
        kind,
        cloid: cloid(&input["cloid"]),
    }
}

fn asset(value: &Value) -> u32 {
    value["asset"].as_u64().expect("asset") as u32
}

/// Builds the action from the vector's high-level `inputs`, as the SDK call did.
fn action_from_inputs(vector: &Value) -> Action {
    let inputs = &vector["inputs"];
    let kind = vector["action"]["type"].as_str().expect("type");
    match kind {
        "order" if inputs.get("reference_px").is_some() => {
            let price = slippage_price(
                decimal(&inputs["reference_px"]),
                inputs["is_buy"].as_bool().expect("is_buy"),
                decimal(&inputs["slippage"]),
                inputs["sz_decimals"].as_u64().expect("sz_decimals") as u32,
                MarketKind::Perp,
            )
            .expect("slippage price");
            assert_eq!(price, decimal(&inputs["sdk_slippage_price"]));
            let order = OrderRequest {
                asset: asset(inputs),
                is_buy: inputs["is_buy"].as_bool().expect("is_buy"),
                price,
                size: decimal(&inputs["sz"]),
                reduce_only: false,
                kind: OrderKind::Limit(Tif::Ioc),
                cloid: cloid(&inputs["cloid"]),
            };
            Action::Order(OrderAction::from_requests(&[order], Grouping::Na, None).expect("order"))
        }
        "order" => {
            let orders: Vec<OrderRequest> = inputs["orders"]
                .as_array()
                .expect("orders")
                .iter()
                .map(order_request)
                .collect();
            let grouping: Grouping =
                serde_json::from_value(inputs["grouping"].clone()).expect("grouping");
            assert!(inputs["builder"].is_null(), "no vector uses a builder");
            let action = OrderAction::from_requests(&orders, grouping, None).expect("order");
            assert_eq!(
                serde_json::to_value(&action.orders).expect("wires"),
                inputs["order_wires"],
                "order_wires"
            );
            Action::Order(action)
        }
        "cancel" => Action::Cancel(CancelAction {
            cancels: inputs["cancels"]
                .as_array()
                .expect("cancels")
                .iter()
                .map(|c| CancelWire {
                    asset: asset(c),
                    oid: c["oid"].as_u64().expect("oid"),
                })
                .collect(),
        }),
        "cancelByCloid" => Action::CancelByCloid(CancelByCloidAction {
            cancels: inputs["cancels"]
                .as_array()
                .expect("cancels")
                .iter()
                .map(|c| CancelByCloidWire {
                    asset: asset(c),
                    cloid: cloid(&c["cloid"]).expect("cloid"),
                })
                .collect(),
        }),
        "modify" => Action::Modify(modify(inputs)),
        "batchModify" => Action::BatchModify(BatchModifyAction {
            modifies: inputs["modifies"]
                .as_array()
                .expect("modifies")
                .iter()
                .map(modify)
                .collect(),
        }),
        "scheduleCancel" => Action::ScheduleCancel(ScheduleCancelAction {
            time: inputs["time"].as_u64(),
        }),
        "updateLeverage" => Action::UpdateLeverage(UpdateLeverageAction {
            asset: asset(inputs),
            is_cross: inputs["is_cross"].as_bool().expect("is_cross"),
            leverage: inputs["leverage"].as_u64().expect("leverage") as u32,
        }),
        "updateIsolatedMargin" => Action::UpdateIsolatedMargin(UpdateIsolatedMarginAction {
            asset: asset(inputs),
            is_buy: true,
            ntli: usd_int(decimal(&inputs["amount"])).expect("ntli"),
        }),
        "approveAgent" => Action::ApproveAgent(ApproveAgent::new(
            network(vector),
            inputs["agent_address"]
                .as_str()
                .expect("agent_address")
                .parse()
                .expect("address"),
            inputs["agent_name"].as_str().map(str::to_owned),
            vector["nonce"].as_u64().expect("nonce"),
        )),
        other => panic!("no builder for {other}"),
    }
}

fn modify(input: &Value) -> Modify {
    let oid = match &input["oid"] {
        Value::Number(n) => OrderRef::Oid(n.as_u64().expect("oid")),
        other => OrderRef::Cloid(cloid(other).expect("cloid")),
    };
    Modify {
        oid,
        order: order_request(&input["order"]).to_wire().expect("wire"),
    }
}

fn signature_json(value: &Value) -> Signature {
    serde_json::from_value(value.clone()).expect("signature")
}

/// JSON text with the vector's key order (the fixture is read with preserve_order).
fn ordered_json(value: &Value) -> String {
    serde_json::to_string(value).expect("json")
}

fn signing_vectors() -> Vec<Value> {
    vectors()["vectors"].as_array().expect("vectors").clone()
}

#[test]
fn vector_file_is_complete() {
    let all = vectors();
    assert_eq!(all["vectors"].as_array().expect("vectors").len(), 23);
    assert_eq!(
        all["cross_sdk_reference"].as_array().expect("cross").len(),
        5
    );
}

#[test]
fn constants_match() {
    let constants = &vectors()["constants"];
    let text = |key: &str| constants[key].as_str().expect(key).to_owned();
    assert_eq!(
        l1_domain_separator().to_string(),
        text("l1_domain_separator_Exchange_1_1337")
    );
    assert_eq!(keccak256(b"a").to_string(), text("keccak_source_a"));
    assert_eq!(keccak256(b"b").to_string(), text("keccak_source_b"));
    assert_eq!(
        keccak256(b"Agent(string source,bytes32 connectionId)").to_string(),
        text("typehash_Agent")
    );
    let approve = ApproveAgent::new(Network::Mainnet, hyperliquid_core::Address::ZERO, None, 0);
    assert_eq!(
        approve.domain_separator().to_string(),
        text("user_signed_domain_separator_HyperliquidSignTransaction_1_0x66eee")
    );
}

#[test]
fn every_signing_vector_reproduces_byte_for_byte() {
    for vector in signing_vectors() {
        let name = vector["name"].as_str().expect("name");
        let action = action_from_inputs(&vector);
        let context = context(&vector);

        // Action JSON, including key order.
        assert_eq!(
            serde_json::to_string(&action).expect("json"),
            ordered_json(&vector["action"]),
            "{name}: action JSON"
        );

        let digest = signing_digest(&action, &context).expect("digest");
        if let Action::ApproveAgent(approve) = &action {
            assert_eq!(
                approve.domain_separator().to_string(),
                vector["eip712_domain_separator"].as_str().expect("domain"),
                "{name}: domain"
            );
            assert_eq!(
                approve.struct_hash().to_string(),
                vector["eip712_struct_hash"].as_str().expect("struct"),
                "{name}: struct hash"
            );
        } else {
            let hashes = l1_hashes(&action, &context).expect("hashes");
            assert_eq!(
                hashes.msgpack(),
                hex_bytes(&vector["action_msgpack_hex"]),
                "{name}: msgpack"
            );
            assert_eq!(
                hashes.preimage(),
                hex_bytes(&vector["hash_preimage_hex"]),
                "{name}: preimage"
            );
            assert_eq!(
                hashes.connection_id.to_string(),
                vector["connection_id"].as_str().expect("cid"),
                "{name}: connection id"
            );
            assert_eq!(
                hashes.struct_hash.to_string(),
                vector["eip712_struct_hash"].as_str().expect("struct"),
                "{name}: struct hash"
            );
            assert_eq!(hashes.digest, digest, "{name}: digest consistency");
        }
        assert_eq!(
            digest.to_string(),
            vector["eip712_digest"].as_str().expect("digest"),
            "{name}: digest"
        );

        let key = PrivateKey::from_hex(vector["private_key"].as_str().expect("key")).expect("key");
        assert_eq!(
            key.address().to_checksum(),
            vector["signer_address"].as_str().expect("signer")
        );
        let signature = sign_digest(&key, &digest);
        assert_eq!(
            signature,
            signature_json(&vector["signature_padded"]),
            "{name}: signature"
        );
        assert_eq!(
            serde_json::to_value(signature).expect("json"),
            vector["signature_padded"],
            "{name}: padded JSON"
        );
        assert_eq!(
            signature,
            signature_json(&vector["signature"]),
            "{name}: SDK (unpadded) form"
        );
        assert_eq!(
            signature.to_hex65(),
            vector["signature_hex65"].as_str().expect("hex65"),
            "{name}: hex65"
        );
        assert_eq!(
            recover_address(&digest, &signature)
                .expect("recover")
                .to_checksum(),
            vector["signer_address"].as_str().expect("signer"),
            "{name}: recovered"
        );

        // The SDK posts r/s with leading zero nibbles stripped; we post them padded.
        let body = ExchangeRequest::new(action, &context, signature);
        let body_json: Value = serde_json::from_str(&body.to_json().expect("body")).expect("json");
        let mut expected_body = vector["exchange_request_body"].clone();
        expected_body["signature"] = vector["signature_padded"].clone();
        assert_eq!(body_json, expected_body, "{name}: request body");

        // The emulator's view: parse the body and recover the signer from it.
        let parsed: ExchangeRequest =
            serde_json::from_value(vector["exchange_request_body"].clone()).expect("parse body");
        assert_eq!(parsed, body, "{name}: body round trip");
        let parsed_digest =
            signing_digest(&parsed.action, &parsed.context(network(&vector))).expect("digest");
        assert_eq!(
            recover_address(&parsed_digest, &parsed.signature)
                .expect("recover")
                .to_checksum(),
            vector["signer_address"].as_str().expect("signer"),
            "{name}: emulator recovery"
        );
    }
}

/// Reverses the key order of every object, recursively.
fn shuffled(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, inner) in map.iter().rev() {
                out.insert(key.clone(), shuffled(inner));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(shuffled).collect()),
        other => other.clone(),
    }
}

#[test]
fn shuffled_action_json_parses_to_identical_msgpack() {
    for vector in signing_vectors() {
        let name = vector["name"].as_str().expect("name");
        let text = ordered_json(&shuffled(&vector["action"]));
        if vector["action"].as_object().expect("object").len() > 1 {
            assert_ne!(
                text,
                ordered_json(&vector["action"]),
                "{name}: shuffle changed nothing"
            );
        }
        let action = Action::from_json(&text).expect("parse");
        assert_eq!(
            serde_json::to_string(&action).expect("json"),
            ordered_json(&vector["action"]),
            "{name}: canonical JSON"
        );
        if let Some(msgpack) = vector.get("action_msgpack_hex") {
            let context = context(&vector);
            assert_eq!(
                l1_hashes(&action, &context).expect("hashes").msgpack(),
                hex_bytes(msgpack),
                "{name}: msgpack"
            );
        }
    }
}

#[test]
fn cross_sdk_references_reproduce() {
    for reference in vectors()["cross_sdk_reference"].as_array().expect("cross") {
        let name = reference["name"].as_str().expect("name");
        let action: Action = serde_json::from_value(reference["action"].clone()).expect("action");
        // The Python SDK reference has no key or network; the connection id does
        // not depend on the network.
        let network = match reference["is_mainnet"].as_bool() {
            Some(false) => Network::Testnet,
            _ => Network::Mainnet,
        };
        let context = SigningContext::new(network, reference["nonce"].as_u64().expect("nonce"));
        assert!(reference["vault_address"].is_null() && reference["expires_after"].is_null());
        let hashes = l1_hashes(&action, &context).expect("hashes");
        assert_eq!(
            hashes.msgpack(),
            hex_bytes(&reference["action_msgpack_hex"]),
            "{name}: msgpack"
        );
        assert_eq!(
            hashes.connection_id.to_string(),
            reference["connection_id"].as_str().expect("cid"),
            "{name}: connection id"
        );
        let Some(key) = reference["private_key"].as_str() else {
            continue;
        };
        let key = PrivateKey::from_hex(key).expect("key");
        let signature = sign_digest(&key, &hashes.digest);
        let expected = reference["python_sdk_signature_hex65"]
            .as_str()
            .expect("sig");
        assert_eq!(signature.to_hex65(), expected, "{name}: signature");
        assert_eq!(
            reference["expected_signature_hex65_from_rust_sdk_test"].as_str(),
            Some(expected),
            "{name}: SDKs agree"
        );
        assert_eq!(Signature::from_hex65(expected).expect("hex65"), signature);
        assert_eq!(
            recover_address(&hashes.digest, &signature)
                .expect("recover")
                .to_checksum(),
            reference["signer_address"].as_str().expect("signer"),
            "{name}: recovered"
        );
    }
}
