//! The Prometheus text format (version 0.0.4) of everything measured.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::PoisonError;

use super::histogram::{BOUNDS_US, Histogram};
use super::registry;
use crate::commands::{CommandStats, Exchanges};
use crate::publisher::Publisher;

/// The exposition: the registry, and what is read now from the exchanges'
/// trackers, the command socket and the publisher.
pub fn render(exchanges: &Exchanges, commands: &CommandStats, publisher: &Publisher) -> String {
    let mut out = String::with_capacity(8 << 10);
    let registry = registry();
    family(
        &mut out,
        "connector_info",
        "gauge",
        "Version and plugin ABI of this host.",
    );
    sample(
        &mut out,
        "connector_info",
        &[
            ("version", env!("CARGO_PKG_VERSION")),
            ("abi", plugin_api::ABI_VERSION),
        ],
        1,
    );

    family(
        &mut out,
        "connector_orders",
        "gauge",
        "Tracked orders by exchange and state.",
    );
    for trading in exchanges
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
    {
        let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
        trading
            .tracker()
            .visit(|order| *by_state.entry(order.state.to_string()).or_default() += 1);
        for (state, count) in by_state {
            sample(
                &mut out,
                "connector_orders",
                &[("exchange", trading.exchange()), ("state", &state)],
                count,
            );
        }
    }

    let counters = commands.snapshot();
    family(
        &mut out,
        "connector_commands_received_total",
        "counter",
        "Commands received.",
    );
    sample(
        &mut out,
        "connector_commands_received_total",
        &[],
        counters.received,
    );
    family(
        &mut out,
        "connector_commands_refused_total",
        "counter",
        "Commands answered with an error, by code.",
    );
    for (code, count) in &counters.refused {
        sample(
            &mut out,
            "connector_commands_refused_total",
            &[("code", code)],
            *count,
        );
    }
    family(
        &mut out,
        "connector_command_connections",
        "gauge",
        "Command connections open.",
    );
    sample(
        &mut out,
        "connector_command_connections",
        &[],
        counters.connections_open,
    );
    family(
        &mut out,
        "connector_command_connections_refused_total",
        "counter",
        "Command connections refused over the cap.",
    );
    sample(
        &mut out,
        "connector_command_connections_refused_total",
        &[],
        counters.connections_refused,
    );

    let stats = publisher.stats();
    family(
        &mut out,
        "connector_events_sent_total",
        "counter",
        "Events handed to the publisher socket.",
    );
    sample(
        &mut out,
        "connector_events_sent_total",
        &[],
        stats.sent.load(std::sync::atomic::Ordering::Relaxed),
    );
    family(
        &mut out,
        "connector_events_dropped_total",
        "counter",
        "Market and status events dropped on a full queue.",
    );
    sample(
        &mut out,
        "connector_events_dropped_total",
        &[],
        stats.dropped.load(std::sync::atomic::Ordering::Relaxed),
    );

    let connections = registry.connections();
    family(
        &mut out,
        "connector_connection_up",
        "gauge",
        "1 when the exchange connection is up.",
    );
    for ((exchange, connection), state) in &connections {
        let labels = [
            ("exchange", exchange.as_str()),
            ("connection", connection.as_str()),
        ];
        sample(
            &mut out,
            "connector_connection_up",
            &labels,
            u64::from(state.up),
        );
    }
    family(
        &mut out,
        "connector_connection_downs_total",
        "counter",
        "Times the connection went down.",
    );
    for ((exchange, connection), state) in &connections {
        let labels = [
            ("exchange", exchange.as_str()),
            ("connection", connection.as_str()),
        ];
        sample(
            &mut out,
            "connector_connection_downs_total",
            &labels,
            state.downs,
        );
    }

    let books = registry.books();
    family(
        &mut out,
        "connector_book_synced",
        "gauge",
        "1 when the book is in sync with the exchange.",
    );
    for ((exchange, symbol), state) in &books {
        let labels = [("exchange", exchange.as_str()), ("symbol", symbol.as_str())];
        sample(
            &mut out,
            "connector_book_synced",
            &labels,
            u64::from(state.synced),
        );
    }
    family(
        &mut out,
        "connector_book_stale_total",
        "counter",
        "Times the book went stale.",
    );
    for ((exchange, symbol), state) in &books {
        let labels = [("exchange", exchange.as_str()), ("symbol", symbol.as_str())];
        sample(&mut out, "connector_book_stale_total", &labels, state.stale);
    }

    let limits = registry.rate_limits();
    family(
        &mut out,
        "connector_rate_limit_remaining",
        "gauge",
        "Units of a venue rate-limit bucket left, as the venue counts.",
    );
    for ((exchange, bucket), (remaining, _)) in &limits {
        let labels = [("exchange", exchange.as_str()), ("bucket", bucket.as_str())];
        sample(
            &mut out,
            "connector_rate_limit_remaining",
            &labels,
            *remaining,
        );
    }
    family(
        &mut out,
        "connector_rate_limit_capacity",
        "gauge",
        "Units of a venue rate-limit bucket in all.",
    );
    for ((exchange, bucket), (_, capacity)) in &limits {
        let labels = [("exchange", exchange.as_str()), ("bucket", bucket.as_str())];
        sample(
            &mut out,
            "connector_rate_limit_capacity",
            &labels,
            *capacity,
        );
    }
    family(
        &mut out,
        "connector_throttled_milliseconds_total",
        "counter",
        "Time requests waited for the host's own rate limiter.",
    );
    for ((exchange, bucket), waited) in &registry.throttled_ms() {
        let labels = [("exchange", exchange.as_str()), ("bucket", bucket.as_str())];
        sample(
            &mut out,
            "connector_throttled_milliseconds_total",
            &labels,
            *waited,
        );
    }
    family(
        &mut out,
        "connector_kill_switch_engaged",
        "gauge",
        "1 while the exchange's kill switch is engaged.",
    );
    for (exchange, engaged) in &registry.kill_switches() {
        sample(
            &mut out,
            "connector_kill_switch_engaged",
            &[("exchange", exchange)],
            u64::from(*engaged),
        );
    }
    if let Some(up) = registry.signer_up() {
        family(
            &mut out,
            "connector_signer_up",
            "gauge",
            "1 while the signer this host started runs.",
        );
        sample(&mut out, "connector_signer_up", &[], u64::from(up));
    }

    histogram(
        &mut out,
        "connector_command_seconds",
        "Commands, from receipt to the reply sent.",
        &registry.command_latency,
    );
    histogram(
        &mut out,
        "connector_signer_seconds",
        "Signatures, from the request to the signature.",
        &registry.signer_latency,
    );
    histogram(
        &mut out,
        "connector_exchange_request_seconds",
        "Exchange HTTP requests, from sending to the whole answer.",
        &registry.request_latency,
    );
    histogram(
        &mut out,
        "connector_journal_sync_seconds",
        "Journal syncs to disk.",
        &registry.journal_sync_latency,
    );
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: u64) {
    out.push_str(name);
    write_labels(out, labels);
    let _ = writeln!(out, " {value}");
}

fn write_labels(out: &mut String, labels: &[(&str, &str)]) {
    if labels.is_empty() {
        return;
    }
    out.push('{');
    for (index, (key, value)) in labels.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let _ = write!(out, "{key}=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
}

fn histogram(out: &mut String, name: &str, help: &str, histogram: &Histogram) {
    family(out, name, "histogram", help);
    let (cumulative, total, sum_us) = histogram.read();
    for (bound, count) in BOUNDS_US.iter().zip(cumulative) {
        let le = format!("{}", *bound as f64 / 1e6);
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {count}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
    let _ = writeln!(out, "{name}_sum {}", sum_us as f64 / 1e6);
    let _ = writeln!(out, "{name}_count {total}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = String::new();
        sample(&mut out, "m", &[("a", "x\"y\\z\nw")], 3);
        assert_eq!(out, "m{a=\"x\\\"y\\\\z\\nw\"} 3\n");
    }
}
