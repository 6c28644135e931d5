//! Reading and validating a configuration file: syntax, then types and
//! unknown keys per section, then the rules that span keys. Every problem is
//! collected; nothing is used until the whole file is valid.

use std::collections::HashSet;
use std::path::Path;

use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use super::errors::KeyPathSegment;
use super::errors::{ConfigError, ConfigErrors, KeyPath, line_of};
use super::schema::{
    Config, ExchangeConfig, HostConfig, Limits, MetricsConfig, SignerConfig, ZmqConfig, known_keys,
};
use super::suggest::closest;

/// The most worker threads `host.runtime_threads` may ask for.
const MAX_RUNTIME_THREADS: usize = 256;

/// The longest `host.journal_sync_ms`: a machine crash loses at most this
/// much of the journal's newest records.
const MAX_JOURNAL_SYNC_MS: u64 = 1_000;

/// Reads, parses and validates a configuration file. Relative paths in it
/// become relative to the file's folder. A file that another user could
/// change (or that is in a folder another user could change) is refused
/// before it is read: whoever may write it decides what the host trades.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let file = Some(path.display().to_string());
    let whole_file_error = |message: String| ConfigErrors {
        file: file.clone(),
        errors: vec![ConfigError {
            path: KeyPath::default(),
            line: None,
            message,
        }],
    };
    if path.exists()
        && let Some(reason) = plugin_api::trust::distrust(path)
    {
        return Err(whole_file_error(format!(
            "refused, another user could change it: {reason}"
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|error| whole_file_error(format!("cannot read the file: {error}")))?;
    let mut config = parse(&text).map_err(|errors| ConfigErrors { file, ..errors })?;
    let base = path.parent().unwrap_or(Path::new("."));
    config.host.plugins_dir = base.join(&config.host.plugins_dir);
    config.host.state_dir = base.join(&config.host.state_dir);
    config.signer.socket = base.join(&config.signer.socket);
    for file in [
        &mut config.signer.spawn_key_file,
        &mut config.signer.spawn_policy,
        &mut config.signer.spawn_keyring,
        &mut config.signer.spawn_audit_log,
        &mut config.signer.spawn_passphrase_file,
    ]
    .into_iter()
    .flatten()
    {
        *file = base.join(&*file);
    }
    for exchange in &mut config.exchanges {
        if let Some(file) = exchange
            .market_data
            .as_mut()
            .and_then(|source| source.server_key_file.as_mut())
        {
            *file = base.join(&*file);
        }
    }
    if let Some(curve) = &mut config.zmq.curve {
        curve.secret_key_file = base.join(&curve.secret_key_file);
        for client in &mut curve.clients {
            client.public_key_file = base.join(&client.public_key_file);
        }
    }
    Ok(config)
}

/// Problems found in a valid file by someone else (a plugin judging its
/// settings), each with its line in the file as it is now.
pub fn locate(path: &Path, problems: Vec<(KeyPath, String)>) -> ConfigErrors {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let document = DeTable::parse(&text).ok();
    let mut errors: Vec<ConfigError> = problems
        .into_iter()
        .map(|(path, message)| match &document {
            Some(document) => ConfigError {
                line: path.locate(document).map(|span| line_of(&text, span.start)),
                path: path.named(document),
                message,
            },
            None => ConfigError {
                line: None,
                path,
                message,
            },
        })
        .collect();
    errors.sort_by_key(|error| error.line.unwrap_or(usize::MAX));
    ConfigErrors {
        file: Some(path.display().to_string()),
        errors,
    }
}

/// Parses and validates configuration text.
pub fn parse(text: &str) -> Result<Config, ConfigErrors> {
    let document = DeTable::parse(text).map_err(|error| ConfigErrors {
        file: None,
        errors: vec![ConfigError {
            path: KeyPath::default(),
            line: error.span().map(|span| line_of(text, span.start)),
            message: error.message().to_owned(),
        }],
    })?;
    let mut reader = Reader {
        text,
        document: &document,
        errors: Vec::new(),
    };
    let config = reader.read_sections();
    if let Some(config) = &config {
        reader.check_rules(config);
    }
    let mut errors = reader.errors;
    errors.sort_by_key(|error| error.line.unwrap_or(usize::MAX));
    match config {
        Some(config) if errors.is_empty() => Ok(config),
        _ => Err(ConfigErrors { file: None, errors }),
    }
}

/// The levels a log filter may name.
const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Why `filter` is not a log filter the user meant. A bare word that is
/// not a level parses (as "everything from target `word`") but silences
/// every other log, so it is refused too.
fn log_filter_problem(filter: &str) -> Option<String> {
    if let Err(error) = tracing_subscriber::EnvFilter::try_new(filter) {
        return Some(format!("not a log filter: {error}"));
    }
    let bare_word = filter
        .split(',')
        .map(str::trim)
        .filter(|directive| !directive.is_empty())
        .find(|directive| {
            !directive.contains(['=', '['])
                && !LOG_LEVELS.contains(&directive.to_ascii_lowercase().as_str())
        })?;
    let hint = closest(&bare_word.to_ascii_lowercase(), &LOG_LEVELS)
        .map(|level| format!("; did you mean `{level}`?"))
        .unwrap_or_default();
    Some(format!(
        "`{bare_word}` is not a level ({}) nor `target=level`{hint}",
        LOG_LEVELS.join(", ")
    ))
}

/// A deserializer's message in the words of the file: "must be a whole
/// number, not string \"5\"" rather than "invalid type: string \"5\",
/// expected u64".
fn plain_words(message: &str) -> String {
    let message = message.trim_end();
    if let Some(field) = message.strip_prefix("missing field ") {
        return format!("{field} is required");
    }
    let described = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    if let Some((found, expected)) = described.and_then(|rest| rest.split_once(", expected ")) {
        return format!("must be {}, not {found}", plain_type(expected));
    }
    message.to_owned()
}

/// A Rust type name as the file would say it.
fn plain_type(expected: &str) -> &str {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number (0 or more)",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a sequence" => "an array",
        "a map" => "a table",
        other if other.starts_with("struct ") => "a table",
        other => other,
    }
}

/// "unknown key", with the known key it most likely meant, or the keys
/// that table may hold.
fn unknown_key(path: &KeyPath) -> String {
    let Some((KeyPathSegment::Key(name), parent)) = path.0.split_last() else {
        return "unknown key".to_owned();
    };
    let Some(known) = known_keys(&KeyPath(parent.to_vec())) else {
        return "unknown key".to_owned();
    };
    match closest(name, known) {
        Some(near) => format!("unknown key; did you mean `{near}`?"),
        None => format!("unknown key (the keys here are {})", known.join(", ")),
    }
}

struct Reader<'a> {
    text: &'a str,
    document: &'a Spanned<DeTable<'a>>,
    errors: Vec<ConfigError>,
}

impl<'a> Reader<'a> {
    fn error(&mut self, path: KeyPath, message: impl Into<String>) {
        let line = path
            .locate(self.document)
            .map(|span| line_of(self.text, span.start));
        self.errors.push(ConfigError {
            path: path.named(self.document),
            line,
            message: message.into(),
        });
    }

    fn value(&self, key: &str) -> Option<&'a Spanned<DeValue<'a>>> {
        self.document
            .get_ref()
            .iter()
            .find(|(name, _)| name.get_ref().as_ref() == key)
            .map(|(_, value)| value)
    }

    /// Deserializes one value into `T`, recording its unknown keys and its
    /// first type error.
    fn section<T: DeserializeOwned>(
        &mut self,
        path: KeyPath,
        value: &Spanned<DeValue<'_>>,
    ) -> Option<T> {
        let mut unknown = Vec::new();
        let mut track = serde_path_to_error::Track::new();
        let deserializer = ValueDeserializer::from(value.clone());
        let tracked = serde_path_to_error::Deserializer::new(deserializer, &mut track);
        let result = serde_ignored::deserialize(tracked, |ignored| {
            unknown.push(KeyPath::from_ignored(&ignored));
        });
        for key in unknown {
            let key = path.extend(key);
            let message = unknown_key(&key);
            self.error(key, message);
        }
        match result {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                let at = path.extend(KeyPath::from_tracked(&track.path()));
                let line = error
                    .span()
                    .map(|span| line_of(self.text, span.start))
                    .or_else(|| {
                        at.locate(self.document)
                            .map(|s| line_of(self.text, s.start))
                    });
                self.errors.push(ConfigError {
                    path: at.named(self.document),
                    line,
                    message: plain_words(error.message()),
                });
                None
            }
        }
    }

    fn required<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        match self.value(key) {
            Some(value) => self.section(KeyPath::key(key), value),
            None => {
                self.error(KeyPath::default(), format!("missing section [{key}]"));
                None
            }
        }
    }

    fn read_sections(&mut self) -> Option<Config> {
        const SECTIONS: [&str; 5] = ["host", "zmq", "signer", "exchanges", "metrics"];
        let unknown: Vec<String> = self
            .document
            .get_ref()
            .iter()
            .map(|(name, _)| name.get_ref().to_string())
            .filter(|name| !SECTIONS.contains(&name.as_str()))
            .collect();
        for name in unknown {
            let key = KeyPath::key(&name);
            let message = unknown_key(&key);
            self.error(key, message);
        }
        let host: Option<HostConfig> = self.required("host");
        let zmq: Option<ZmqConfig> = match self.value("zmq") {
            Some(value) => self.section(KeyPath::key("zmq"), value),
            None => Some(ZmqConfig::default()),
        };
        let signer: Option<SignerConfig> = self.required("signer");
        let exchanges = self.exchanges();
        let metrics: Option<Option<MetricsConfig>> = match self.value("metrics") {
            Some(value) => self.section(KeyPath::key("metrics"), value).map(Some),
            None => Some(None),
        };
        Some(Config {
            host: host?,
            zmq: zmq?,
            signer: signer?,
            exchanges: exchanges?,
            metrics: metrics?,
        })
    }

    /// Each `[[exchanges]]` entry separately, so that every entry's errors
    /// are reported.
    fn exchanges(&mut self) -> Option<Vec<ExchangeConfig>> {
        let Some(value) = self.value("exchanges") else {
            return Some(Vec::new());
        };
        let DeValue::Array(entries) = value.get_ref() else {
            self.error(
                KeyPath::key("exchanges"),
                "must be an array of tables ([[exchanges]])",
            );
            return None;
        };
        let mut parsed = Vec::new();
        let mut complete = true;
        for (index, entry) in entries.iter().enumerate() {
            match self.section(KeyPath::key("exchanges").index(index), entry) {
                Some(exchange) => parsed.push(exchange),
                None => complete = false,
            }
        }
        complete.then_some(parsed)
    }

    fn check_rules(&mut self, config: &Config) {
        let host = KeyPath::key("host");
        if config.host.id.trim().is_empty() || config.host.id.chars().any(char::is_whitespace) {
            self.error(host.join("id"), "must be a non-empty name without spaces");
        }
        if let Some(problem) = log_filter_problem(&config.host.log_level) {
            self.error(host.join("log_level"), problem);
        }
        if !(1..=MAX_RUNTIME_THREADS).contains(&config.host.runtime_threads) {
            self.error(
                host.join("runtime_threads"),
                format!("must be from 1 to {MAX_RUNTIME_THREADS}"),
            );
        }
        if !(1..=MAX_JOURNAL_SYNC_MS).contains(&config.host.journal_sync_ms) {
            self.error(
                host.join("journal_sync_ms"),
                format!("must be from 1 to {MAX_JOURNAL_SYNC_MS} (ms)"),
            );
        }
        let zmq = KeyPath::key("zmq");
        let authenticated = config.zmq.curve.is_some();
        for (key, endpoint) in [
            ("publish", &config.zmq.publish),
            ("commands", &config.zmq.commands),
        ] {
            if let Some(reason) = crate::endpoint::refusal(endpoint, authenticated) {
                self.error(zmq.join(key), reason);
            }
        }
        if let Some(curve) = &config.zmq.curve {
            let clients = zmq.join("curve").join("clients");
            let mut names = HashSet::new();
            for (index, client) in curve.clients.iter().enumerate() {
                if client.name.trim().is_empty() {
                    self.error(clients.index(index).join("name"), "must not be empty");
                } else if !names.insert(client.name.as_str()) {
                    self.error(
                        clients.index(index).join("name"),
                        format!("`{}` is listed twice", client.name),
                    );
                }
            }
        }
        for (index, exchange) in config.exchanges.iter().enumerate() {
            if exchange
                .market_data
                .as_ref()
                .is_some_and(|source| source.server_key_file.is_some())
                && config.zmq.curve.is_none()
            {
                self.error(
                    KeyPath::key("exchanges")
                        .index(index)
                        .join("market_data")
                        .join("server_key_file"),
                    "this host connects with its own CURVE key: configure [zmq.curve]",
                );
            }
        }
        if let Some(metrics) = &config.metrics
            && let Some(reason) = crate::metrics::server::refusal(&metrics.listen)
        {
            self.error(KeyPath::key("metrics").join("listen"), reason);
        }
        if config.zmq.publish == config.zmq.commands {
            self.error(zmq.join("commands"), "must differ from zmq.publish");
        }
        if config.zmq.queue_capacity == 0 {
            self.error(zmq.join("queue_capacity"), "must be at least 1");
        }
        if config.zmq.max_event_connections == 0 {
            self.error(zmq.join("max_event_connections"), "must be at least 1");
        }
        if config.zmq.max_command_connections == 0 {
            self.error(zmq.join("max_command_connections"), "must be at least 1");
        }
        if config.signer.timeout_ms == 0 {
            self.error(
                KeyPath::key("signer").join("timeout_ms"),
                "must be at least 1",
            );
        }
        if config.signer.spawn_policy.is_some() && config.signer.spawn_key_file.is_none() {
            self.error(
                KeyPath::key("signer").join("spawn_policy"),
                "needs signer.spawn_key_file (a keyring holds each key's policy)",
            );
        }
        if config.signer.spawn_passphrase_file.is_some() && config.signer.spawn_keys().is_none() {
            self.error(
                KeyPath::key("signer").join("spawn_passphrase_file"),
                "applies to a signer the host starts: give signer.spawn_key_file or \
                 signer.spawn_keyring (a signer started separately takes --passphrase-file)",
            );
        }
        if config.signer.spawn_audit_log.is_some() && config.signer.spawn_keys().is_none() {
            self.error(
                KeyPath::key("signer").join("spawn_audit_log"),
                "applies to a signer the host starts: give signer.spawn_key_file or \
                 signer.spawn_keyring (a signer started separately takes --audit-log)",
            );
        }
        if config.signer.spawn_keyring.is_some() && config.signer.spawn_key_file.is_some() {
            self.error(
                KeyPath::key("signer").join("spawn_keyring"),
                "give signer.spawn_key_file or signer.spawn_keyring, not both",
            );
        }
        let mut names = HashSet::new();
        for (index, exchange) in config.exchanges.iter().enumerate() {
            let path = KeyPath::key("exchanges").index(index);
            self.check_exchange(&path, exchange);
            if !names.insert(exchange.name.as_str()) {
                self.error(
                    path.join("name"),
                    format!("`{}` names another exchange too", exchange.name),
                );
            }
        }
    }

    /// Every URL among `value`'s strings, at any depth (see `urls`).
    fn check_urls(&mut self, path: &KeyPath, value: &toml::Value, insecure: bool) {
        super::urls::for_each_string(path, value, &mut |path, text| {
            if let Some(reason) = super::urls::refusal(text, insecure) {
                self.error(path.clone(), reason);
            }
        });
    }

    fn check_exchange(&mut self, path: &KeyPath, exchange: &ExchangeConfig) {
        if exchange.name.is_empty()
            || !exchange
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.error(
                path.join("name"),
                "must be letters, digits, `-` or `_` (it appears in topic names)",
            );
        }
        if exchange.plugin.trim().is_empty() {
            self.error(path.join("plugin"), "must name a plugin's exchange");
        }
        for (key, value) in &exchange.settings {
            let at = path.join("settings").join(key);
            self.check_urls(&at, value, exchange.insecure_transport);
        }
        if let Some(source) = &exchange.market_data
            && !["tcp://", "ipc://"]
                .iter()
                .any(|scheme| source.from.starts_with(scheme))
        {
            self.error(
                path.join("market_data").join("from"),
                format!(
                    "`{}` is not a ZeroMQ endpoint (tcp:// or ipc://)",
                    source.from
                ),
            );
        }
        for (key, value, min) in [
            ("request_timeout_ms", exchange.request_timeout_ms, 100),
            ("order_expiry_ms", exchange.order_expiry_ms, 1_000),
            // Longer than the fills refetched after a reconnect reach back
            // (60 s), so that a refetched fill always finds its order.
            (
                "closed_order_retention_ms",
                exchange.closed_order_retention_ms,
                120_000,
            ),
            (
                "reconcile_interval_ms",
                exchange.reconcile_interval_ms,
                1_000,
            ),
        ] {
            if value < min {
                self.error(path.join(key), format!("must be at least {min}"));
            }
        }
        if exchange
            .market_slippage_percent
            .is_some_and(|p| p <= Decimal::ZERO || p >= Decimal::ONE_HUNDRED)
        {
            self.error(
                path.join("market_slippage_percent"),
                "must lie between 0 and 100",
            );
        }
        if exchange.stream_timeout_ms.is_some_and(|ms| ms < 100) {
            self.error(path.join("stream_timeout_ms"), "must be at least 100");
        }
        self.check_limits(&path.join("limits"), &exchange.limits);
        if let Some(switch) = &exchange.dead_man_switch {
            let switch_path = path.join("dead_man_switch");
            if switch.cancel_after_ms < 1_000 {
                self.error(switch_path.join("cancel_after_ms"), "must be at least 1000");
            }
            if switch.heartbeat_timeout_ms.is_some_and(|ms| ms < 100) {
                self.error(
                    switch_path.join("heartbeat_timeout_ms"),
                    "must be at least 100",
                );
            }
        }
        for (bucket, limit) in &exchange.rate_limits {
            let bucket_path = path.join("rate_limits").join(bucket);
            if limit.capacity == 0 {
                self.error(bucket_path.join("capacity"), "must be at least 1");
            }
            if limit.window_ms == 0 {
                self.error(bucket_path.join("window_ms"), "must be at least 1");
            }
        }
        if exchange.markets.is_empty() {
            self.error(path.join("markets"), "lists no market");
        }
        let mut symbols = HashSet::new();
        for (index, market) in exchange.markets.iter().enumerate() {
            let market_path = path.join("markets").index(index);
            if market.symbol.trim().is_empty() {
                self.error(market_path.join("symbol"), "must not be empty");
            }
            if !symbols.insert(market.symbol.as_str()) {
                self.error(
                    market_path.join("symbol"),
                    format!("`{}` is listed twice", market.symbol),
                );
            }
            self.check_limits(&market_path.join("limits"), &market.limits);
        }
    }

    fn check_limits(&mut self, path: &KeyPath, limits: &Limits) {
        let decimals = [
            ("max_order_size", limits.max_order_size),
            ("max_order_notional", limits.max_order_notional),
            ("max_position", limits.max_position),
            ("price_band_percent", limits.price_band_percent),
        ];
        for (key, value) in decimals {
            if value.is_some_and(|v| v <= rust_decimal::Decimal::ZERO) {
                self.error(path.join(key), "must be positive");
            }
        }
        for (key, value) in [
            ("max_open_orders", limits.max_open_orders),
            ("max_orders_per_second", limits.max_orders_per_second),
        ] {
            if value == Some(0) {
                self.error(path.join(key), "must be at least 1");
            }
        }
    }
}
