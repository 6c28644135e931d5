//! What the signer agrees to sign with a Hyperliquid key: a fixed default set
//! of trading actions, optionally narrowed by a TOML policy.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use hyperliquid_core::{Action, ActionType, Address, Network, OrderWire, SigningContext};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{
    EmptyList, NotionalCap, NotionalRefusal, SizeExceeded, check_notional, check_size,
    mark_valuation, non_empty, positive_decimal, size_caps,
};
use crate::marks::{MarkPricesTable, MarkValuation};
use crate::schemes::hyperliquid::{network_name, parse_network};

/// The action types signed when no policy file narrows them: the trading
/// actions. Everything else — `approveAgent`, withdrawals, transfers, any
/// unknown type — is never signed.
pub const DEFAULT_ALLOWED_ACTIONS: [ActionType; 9] = ActionType::TRADING;

/// The rules a request is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    allowed_actions: HashSet<ActionType>,
    allowed_assets: Option<BTreeSet<u32>>,
    pub(super) max_order_notional: Option<NotionalCap>,
    max_order_size: std::collections::BTreeMap<u32, Decimal>,
    networks: Option<Vec<Network>>,
    allowed_vaults: BTreeSet<Address>,
    allowed_builders: BTreeSet<Address>,
    max_leverage: Option<u32>,
    nonce_window_ms: Option<u64>,
    max_expiry_ms: Option<u64>,
    pub(super) mark_prices: Option<MarkValuation>,
}

/// The policy file as written: every key optional, unknown keys refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    allowed_actions: Option<Vec<String>>,
    allowed_assets: Option<Vec<u32>>,
    max_order_notional: Option<String>,
    max_order_size: Option<std::collections::BTreeMap<String, String>>,
    networks: Option<Vec<String>>,
    allowed_vaults: Option<Vec<String>>,
    allowed_builders: Option<Vec<String>>,
    max_leverage: Option<u32>,
    nonce_window_ms: Option<u64>,
    max_expiry_ms: Option<u64>,
    mark_prices: Option<MarkPricesTable>,
}

/// Why a policy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy file {path}: {source}")]
    Io {
        /// The policy file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key, or a value of the wrong type.
    #[error("policy file: {0}")]
    Toml(#[from] toml::de::Error),
    /// `allowed_actions` names a type outside the default set.
    #[error(
        "policy file: allowed_actions: {name:?} cannot be allowed; a policy can only narrow \
         the default set ({})",
        default_action_names()
    )]
    Widening {
        /// The offending name.
        name: String,
    },
    /// A list that would refuse everything.
    #[error("policy file: {0}")]
    EmptyList(#[from] EmptyList),
    /// `max_order_notional` is not a positive decimal string.
    #[error("policy file: max_order_notional {text:?} is not a positive decimal string")]
    Notional {
        /// The offending text.
        text: String,
    },
    /// `networks` names something else than `mainnet` or `testnet`.
    #[error("policy file: networks: {name:?} is neither \"mainnet\" nor \"testnet\"")]
    Network {
        /// The offending name.
        name: String,
    },
    /// `allowed_vaults` or `allowed_builders` holds something that is not an
    /// address.
    #[error("policy file: {key}: {text:?} is not an address (0x + 40 hex digits)")]
    Address {
        /// The list.
        key: &'static str,
        /// The offending text.
        text: String,
    },
    /// A limit that would refuse everything.
    #[error("policy file: {0} must be at least 1")]
    Zero(&'static str),
    /// A `max_order_size` entry that is not an asset id and a positive size.
    #[error("policy file: {0}")]
    Size(String),
    /// A `[mark_prices]` table that cannot be used.
    #[error("policy file: {0}")]
    Marks(String),
}

/// Why a well-formed request is refused. Each message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    /// The action type is not allowed (or not known at all).
    #[error("action type {name:?} is not allowed (rule: allowed_actions; allowed: {allowed})")]
    ActionType {
        /// The action's `type`.
        name: String,
        /// The allowed types, comma-separated.
        allowed: String,
    },
    /// The action touches an asset outside `allowed_assets`.
    #[error("asset {asset} is not allowed (rule: allowed_assets)")]
    Asset {
        /// The asset id.
        asset: u32,
    },
    /// An order's notional is above `max_order_notional`, or cannot be
    /// valued.
    #[error(transparent)]
    Notional(#[from] NotionalRefusal),
    /// An order's size is above its asset's `max_order_size`.
    #[error(transparent)]
    Size(#[from] SizeExceeded),
    /// The request's network is not in `networks`.
    #[error("network {} is not allowed (rule: networks)", network_name(*.0))]
    Network(Network),
    /// The request trades for a vault not in `allowed_vaults`.
    #[error("trading for vault {0} is not allowed (rule: allowed_vaults)")]
    Vault(String),
    /// An order pays a builder not in `allowed_builders`.
    #[error("a fee to builder {0} is not allowed (rule: allowed_builders)")]
    Builder(String),
    /// `updateLeverage` above `max_leverage`.
    #[error("leverage {leverage} exceeds {max} (rule: max_leverage)")]
    Leverage {
        /// The leverage asked for.
        leverage: u32,
        /// The limit.
        max: u32,
    },
    /// The nonce is too far from the signer's clock.
    #[error(
        "nonce {nonce} is {distance} ms from the signer's clock (rule: nonce_window_ms = {max})"
    )]
    Nonce {
        /// The request's nonce.
        nonce: u64,
        /// How far from now, ms.
        distance: u64,
        /// The limit.
        max: u64,
    },
    /// No `expires_after`, or one too far ahead.
    #[error("{what} (rule: max_expiry_ms = {max})")]
    Expiry {
        /// What is wrong.
        what: String,
        /// The limit.
        max: u64,
    },
}

fn default_action_names() -> String {
    join_names(DEFAULT_ALLOWED_ACTIONS.iter().copied())
}

fn join_names(kinds: impl Iterator<Item = ActionType>) -> String {
    let mut out = String::new();
    for kind in kinds {
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(kind.as_str());
    }
    out
}

impl Default for Policy {
    /// Every type of [`DEFAULT_ALLOWED_ACTIONS`], any asset, notional and network.
    fn default() -> Self {
        Self {
            allowed_actions: DEFAULT_ALLOWED_ACTIONS.into_iter().collect(),
            allowed_assets: None,
            max_order_notional: None,
            max_order_size: std::collections::BTreeMap::new(),
            networks: None,
            allowed_vaults: BTreeSet::new(),
            allowed_builders: BTreeSet::new(),
            max_leverage: None,
            nonce_window_ms: None,
            max_expiry_ms: None,
            mark_prices: None,
        }
    }
}

impl Policy {
    /// Reads a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = crate::files::read_trusted(path).map_err(|source| PolicyError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// Parses policy TOML: `allowed_actions`, `allowed_assets`,
    /// `max_order_notional`, `networks`, each optional.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        Self::from_file(toml::from_str(text)?)
    }

    /// Reads a policy from a keyring's `[key.policy]` table.
    pub fn from_table(table: toml::Table) -> Result<Self, PolicyError> {
        Self::from_file(table.try_into()?)
    }

    fn from_file(file: PolicyFile) -> Result<Self, PolicyError> {
        let mut policy = Policy::default();
        if let Some(names) = file.allowed_actions {
            policy.allowed_actions = non_empty("allowed_actions", names)?
                .into_iter()
                .map(|name| {
                    ActionType::from_wire_name(&name)
                        .filter(|kind| DEFAULT_ALLOWED_ACTIONS.contains(kind))
                        .ok_or(PolicyError::Widening { name })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(assets) = file.allowed_assets {
            policy.allowed_assets =
                Some(non_empty("allowed_assets", assets)?.into_iter().collect());
        }
        if let Some(text) = file.max_order_notional {
            let max = positive_decimal(&text).ok_or(PolicyError::Notional { text })?;
            policy.max_order_notional = Some(NotionalCap::own(max));
        }
        if let Some(names) = file.networks {
            policy.networks = Some(
                non_empty("networks", names)?
                    .into_iter()
                    .map(|name| parse_network(&name).ok_or(PolicyError::Network { name }))
                    .collect::<Result<_, _>>()?,
            );
        }
        if let Some(caps) = file.max_order_size {
            policy.max_order_size =
                size_caps(caps, |asset| asset.parse().ok()).map_err(PolicyError::Size)?;
        }
        policy.allowed_vaults = addresses("allowed_vaults", file.allowed_vaults)?;
        policy.allowed_builders = addresses("allowed_builders", file.allowed_builders)?;
        policy.max_leverage = at_least_one("max_leverage", file.max_leverage)?;
        policy.nonce_window_ms = at_least_one("nonce_window_ms", file.nonce_window_ms)?;
        policy.max_expiry_ms = at_least_one("max_expiry_ms", file.max_expiry_ms)?;
        policy.mark_prices = mark_valuation(file.mark_prices, policy.max_order_notional)
            .map_err(PolicyError::Marks)?;
        Ok(policy)
    }

    /// Whether actions of this type may be signed at all.
    pub fn allows_type(&self, kind: ActionType) -> bool {
        self.allowed_actions.contains(&kind)
    }

    /// The refusal for an action type that is not allowed, by its wire name.
    pub fn type_violation(&self, name: &str) -> PolicyViolation {
        PolicyViolation::ActionType {
            name: name.to_owned(),
            allowed: join_names(
                DEFAULT_ALLOWED_ACTIONS
                    .into_iter()
                    .filter(|kind| self.allows_type(*kind)),
            ),
        }
    }

    /// Checks the network a request is for.
    pub fn check_network(&self, network: Network) -> Result<(), PolicyViolation> {
        match &self.networks {
            Some(networks) if !networks.contains(&network) => {
                Err(PolicyViolation::Network(network))
            }
            _ => Ok(()),
        }
    }

    /// Checks what the signature covers besides the action, at `now_ms` on
    /// the signer's clock: the network, the vault, the nonce and the expiry.
    pub fn check_context(
        &self,
        context: &SigningContext,
        now_ms: u64,
    ) -> Result<(), PolicyViolation> {
        self.check_network(context.network)?;
        if let Some(vault) = context.vault_address
            && !self.allowed_vaults.contains(&vault)
        {
            return Err(PolicyViolation::Vault(vault.to_checksum()));
        }
        if let Some(max) = self.nonce_window_ms {
            let distance = context.nonce.abs_diff(now_ms);
            if distance > max {
                return Err(PolicyViolation::Nonce {
                    nonce: context.nonce,
                    distance,
                    max,
                });
            }
        }
        if let Some(max) = self.max_expiry_ms {
            match context.expires_after {
                None => {
                    return Err(PolicyViolation::Expiry {
                        what: "the request has no expires_after".to_owned(),
                        max,
                    });
                }
                Some(expiry) if expiry > now_ms.saturating_add(max) => {
                    return Err(PolicyViolation::Expiry {
                        what: format!("expires_after {expiry} is {} ms from now", expiry - now_ms),
                        max,
                    });
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The mark source and marks, when orders are valued at the mark.
    pub fn mark_prices(&self) -> Option<&MarkValuation> {
        self.mark_prices.as_ref()
    }

    /// Checks a parsed action at `now_ms`: its type, the assets it touches,
    /// the notional of each order it places, its builder and its leverage.
    pub fn check_action(&self, action: &Action, now_ms: u64) -> Result<(), PolicyViolation> {
        let kind = action.action_type();
        if !self.allows_type(kind) {
            return Err(self.type_violation(kind.as_str()));
        }
        let mut assets = Vec::new();
        let mut orders: Vec<&OrderWire> = Vec::new();
        match action {
            Action::Order(order) => {
                orders.extend(&order.orders);
                if let Some(fee) = &order.builder
                    && !self.allowed_builders.contains(&fee.builder)
                {
                    return Err(PolicyViolation::Builder(fee.builder.to_checksum()));
                }
            }
            Action::Modify(modify) => orders.push(&modify.order),
            Action::BatchModify(batch) => orders.extend(batch.modifies.iter().map(|m| &m.order)),
            Action::Cancel(cancel) => assets.extend(cancel.cancels.iter().map(|c| c.asset)),
            Action::CancelByCloid(cancel) => {
                assets.extend(cancel.cancels.iter().map(|c| c.asset));
            }
            Action::UpdateLeverage(update) => {
                assets.push(update.asset);
                if let Some(max) = self.max_leverage
                    && update.leverage > max
                {
                    return Err(PolicyViolation::Leverage {
                        leverage: update.leverage,
                        max,
                    });
                }
            }
            Action::UpdateIsolatedMargin(update) => assets.push(update.asset),
            Action::ScheduleCancel(_) | Action::Noop | Action::ApproveAgent(_) => {}
        }
        assets.extend(orders.iter().map(|order| order.asset));
        if let Some(allowed) = &self.allowed_assets
            && let Some(asset) = assets.into_iter().find(|asset| !allowed.contains(asset))
        {
            return Err(PolicyViolation::Asset { asset });
        }
        for order in orders {
            let market = order.asset.to_string();
            if let Some(cap) = self.max_order_notional {
                check_notional(
                    &market,
                    Some(order.price.value()),
                    order.size.value(),
                    cap,
                    self.mark_prices.as_ref(),
                    now_ms,
                )?;
            }
            if let Some(max) = self.max_order_size.get(&order.asset) {
                check_size(&market, order.size.value(), *max)?;
            }
        }
        Ok(())
    }

    /// One line describing the rules in force, for the startup log.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "actions: {}",
            join_names(
                DEFAULT_ALLOWED_ACTIONS
                    .into_iter()
                    .filter(|kind| self.allows_type(*kind))
            )
        );
        if let Some(assets) = &self.allowed_assets {
            let _ = write!(out, "; assets: {assets:?}");
        }
        if let Some(cap) = self.max_order_notional {
            let _ = write!(out, "; max order notional: {cap}");
        }
        if !self.max_order_size.is_empty() {
            let _ = write!(out, "; max order size: {:?}", self.max_order_size);
        }
        if let Some(networks) = &self.networks {
            let names: Vec<_> = networks.iter().map(|n| network_name(*n)).collect();
            let _ = write!(out, "; networks: {}", names.join(", "));
        }
        for (name, list) in [
            ("vaults", &self.allowed_vaults),
            ("builders", &self.allowed_builders),
        ] {
            let names: Vec<_> = list.iter().map(Address::to_checksum).collect();
            let _ = write!(out, "; {name}: {}", none_or(names.join(", ")));
        }
        for (name, value) in [
            ("max leverage", self.max_leverage.map(u64::from)),
            ("nonce window ms", self.nonce_window_ms),
            ("max expiry ms", self.max_expiry_ms),
        ] {
            if let Some(value) = value {
                let _ = write!(out, "; {name}: {value}");
            }
        }
        if let Some(marks) = &self.mark_prices {
            let _ = write!(out, "; {}", marks.source());
        }
        out
    }
}

fn none_or(text: String) -> String {
    if text.is_empty() {
        "none".to_owned()
    } else {
        text
    }
}

/// A list of addresses; absent is none.
fn addresses(
    key: &'static str,
    list: Option<Vec<String>>,
) -> Result<BTreeSet<Address>, PolicyError> {
    let Some(list) = list else {
        return Ok(BTreeSet::new());
    };
    non_empty(key, list)?
        .into_iter()
        .map(|text| {
            text.parse::<Address>()
                .map_err(|_| PolicyError::Address { key, text })
        })
        .collect()
}

/// A limit that must be at least 1 when given.
fn at_least_one<T: PartialEq + From<u8>>(
    key: &'static str,
    value: Option<T>,
) -> Result<Option<T>, PolicyError> {
    match value {
        Some(value) if value == T::from(0) => Err(PolicyError::Zero(key)),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(json: &str) -> Action {
        Action::from_json(json).unwrap()
    }

    fn order(asset: u32, price: &str, size: &str) -> Action {
        action(&format!(
            r#"{{"type":"order","orders":[{{"a":{asset},"b":true,"p":"{price}","s":"{size}","r":false,"t":{{"limit":{{"tif":"Gtc"}}}}}}],"grouping":"na"}}"#
        ))
    }

    #[test]
    fn default_allows_every_trading_action_and_nothing_else() {
        let policy = Policy::default();
        for kind in DEFAULT_ALLOWED_ACTIONS {
            assert!(policy.allows_type(kind));
        }
        assert!(!policy.allows_type(ActionType::ApproveAgent));
        assert_eq!(
            policy.check_action(&order(7, "100000000", "1000"), 0),
            Ok(())
        );
        assert_eq!(policy.check_network(Network::Testnet), Ok(()));
        let approve = action(
            r#"{"type":"approveAgent","agentAddress":"0x86b2E9EfF39b2CA073D0b2E97B0EdEB9a45068E3","nonce":1,"signatureChainId":"0x66eee","hyperliquidChain":"Mainnet"}"#,
        );
        let refusal = policy.check_action(&approve, 0).unwrap_err().to_string();
        assert!(refusal.contains("\"approveAgent\""), "{refusal}");
        assert!(refusal.contains("rule: allowed_actions"), "{refusal}");
    }

    #[test]
    fn every_rule_refuses_and_names_itself() {
        let policy = Policy::from_toml(
            r#"
            allowed_actions = ["order", "cancel", "noop"]
            allowed_assets = [0, 1, 10107]
            max_order_notional = "50000"
            networks = ["mainnet"]
            "#,
        )
        .unwrap();
        assert_eq!(policy.check_action(&order(1, "2500", "20"), 0), Ok(()));
        assert_eq!(
            policy.check_action(&action(r#"{"type":"noop"}"#), 0),
            Ok(())
        );

        let refusals = [
            policy.check_action(&action(r#"{"type":"scheduleCancel"}"#), 0),
            policy.check_action(&order(5, "1", "1"), 0),
            policy.check_action(
                &action(r#"{"type":"cancel","cancels":[{"a":0,"o":1},{"a":3,"o":2}]}"#),
                0,
            ),
            policy.check_action(&order(0, "65432", "1"), 0),
            policy.check_network(Network::Testnet),
        ];
        let expected = [
            "action type \"scheduleCancel\" is not allowed (rule: allowed_actions; allowed: order, cancel, noop)",
            "asset 5 is not allowed (rule: allowed_assets)",
            "asset 3 is not allowed (rule: allowed_assets)",
            "order notional 65432 × 1 = 65432 exceeds 50000 (rule: max_order_notional)",
            "network testnet is not allowed (rule: networks)",
        ];
        for (refusal, expected) in refusals.into_iter().zip(expected) {
            assert_eq!(refusal.unwrap_err().to_string(), expected);
        }
    }

    #[test]
    fn a_size_cap_bounds_a_sell_whose_low_limit_passes_the_notional_cap() {
        // A marketable sell limited at 1 is worth 1 × size at its limit, and
        // fills at the market: the size cap is what bounds it.
        let policy =
            Policy::from_toml("max_order_notional = \"50000\"\nmax_order_size = { 0 = \"0.5\" }")
                .unwrap();
        let sell = |size: &str| {
            action(&format!(
                r#"{{"type":"order","orders":[{{"a":0,"b":false,"p":"1","s":"{size}","r":false,"t":{{"limit":{{"tif":"Ioc"}}}}}}],"grouping":"na"}}"#
            ))
        };
        assert_eq!(policy.check_action(&sell("0.5"), 0), Ok(()));
        assert_eq!(
            policy
                .check_action(&sell("2.5"), 0)
                .unwrap_err()
                .to_string(),
            "order size 2.5 on 0 exceeds 0.5 (rule: max_order_size)"
        );
        // Assets without a cap are not capped.
        assert_eq!(policy.check_action(&order(1, "1", "100"), 0), Ok(()));
    }

    #[test]
    fn notional_and_assets_cover_modifies() {
        let policy =
            Policy::from_toml("allowed_assets = [0]\nmax_order_notional = \"100\"").unwrap();
        let wire = r#"{"a":0,"b":true,"p":"101","s":"1","r":false,"t":{"limit":{"tif":"Gtc"}}}"#;
        let modify = action(&format!(r#"{{"type":"modify","oid":1,"order":{wire}}}"#));
        assert!(matches!(
            policy.check_action(&modify, 0),
            Err(PolicyViolation::Notional(_))
        ));
        let batch = action(&format!(
            r#"{{"type":"batchModify","modifies":[{{"oid":1,"order":{}}}]}}"#,
            wire.replace(r#""a":0"#, r#""a":2"#)
        ));
        assert_eq!(
            policy.check_action(&batch, 0),
            Err(PolicyViolation::Asset { asset: 2 })
        );
        let leverage = action(r#"{"type":"updateLeverage","asset":4,"isCross":true,"leverage":3}"#);
        assert_eq!(
            policy.check_action(&leverage, 0),
            Err(PolicyViolation::Asset { asset: 4 })
        );
    }

    #[test]
    fn policy_files_can_only_narrow() {
        let refused = [
            (
                "allowed_actions = [\"withdraw3\"]",
                "\"withdraw3\" cannot be allowed",
            ),
            (
                "allowed_actions = [\"approveAgent\"]",
                "\"approveAgent\" cannot be allowed",
            ),
            ("allowed_actions = []", "allowed_actions is empty"),
            (
                "networks = [\"Mainnet\"]",
                "neither \"mainnet\" nor \"testnet\"",
            ),
            ("max_order_notional = \"-1\"", "not a positive decimal"),
            ("max_order_notional = \"abc\"", "not a positive decimal"),
            ("max_order_notional = 5", "invalid type"),
            ("max_notional = \"5\"", "unknown field `max_notional`"),
            (
                "allowed_vaults = [\"0x12\"]",
                "allowed_vaults: \"0x12\" is not an address",
            ),
            ("allowed_builders = []", "allowed_builders is empty"),
            ("max_leverage = 0", "max_leverage must be at least 1"),
            ("nonce_window_ms = 0", "nonce_window_ms must be at least 1"),
            (
                "max_order_size = { BTC = \"1\" }",
                "max_order_size: \"BTC\" is not a market here",
            ),
            (
                "max_order_size = { 0 = \"-1\" }",
                "max_order_size.0: \"-1\" is not a positive decimal string",
            ),
        ];
        for (text, expected) in refused {
            let message = Policy::from_toml(text).unwrap_err().to_string();
            assert!(message.contains(expected), "{text}: {message}");
        }
        assert_eq!(Policy::from_toml("").unwrap(), Policy::default());
    }
}
