//! The Prometheus text format (version 0.0.4) of everything measured.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use super::histogram::{BOUNDS_US, Histogram};
use super::{UpDown, registry};
use crate::commands::{CommandStats, Exchanges};
use crate::publisher::Publisher;

/// One sample: its labels and value.
type Sample = (Vec<(&'static str, String)>, u64);

/// A metric family: name, type, help and samples.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: Vec<Sample>,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Family {
        Family {
            name,
            kind,
            help,
            samples: Vec::new(),
        }
    }

    /// The family with one sample and no labels.
    fn single(name: &'static str, kind: &'static str, help: &'static str, value: u64) -> Family {
        Family::new(name, kind, help).with(Vec::new(), value)
    }

    fn with(mut self, labels: Vec<(&'static str, String)>, value: u64) -> Family {
        self.samples.push((labels, value));
        self
    }
}

/// The exposition: the registry, and what is read now from the exchanges'
/// trackers, the command socket and the publisher.
pub fn render(exchanges: &Exchanges, commands: &CommandStats, publisher: &Publisher) -> String {
    let registry = registry();
    let counters = commands.snapshot();
    let stats = publisher.stats();
    let mut families = vec![
        Family::new(
            "connector_info",
            "gauge",
            "Version and plugin ABI of this host.",
        )
        .with(
            vec![
                ("version", env!("CARGO_PKG_VERSION").to_owned()),
                ("abi", plugin_api::ABI_VERSION.to_owned()),
            ],
            1,
        ),
        orders(exchanges),
        Family::single(
            "connector_commands_received_total",
            "counter",
            "Commands received.",
            counters.received,
        ),
        Family {
            samples: counters
                .refused
                .iter()
                .map(|(code, count)| (vec![("code", code.clone())], *count))
                .collect(),
            ..Family::new(
                "connector_commands_refused_total",
                "counter",
                "Commands answered with an error, by code.",
            )
        },
        Family::single(
            "connector_command_connections",
            "gauge",
            "Command connections open.",
            counters.connections_open,
        ),
        Family::single(
            "connector_command_connections_refused_total",
            "counter",
            "Command connections refused over the cap.",
            counters.connections_refused,
        ),
        Family::single(
            "connector_events_sent_total",
            "counter",
            "Events handed to the publisher socket.",
            stats.sent.load(Ordering::Relaxed),
        ),
        Family::single(
            "connector_events_dropped_total",
            "counter",
            "Market and status events dropped on a full queue.",
            stats.dropped.load(Ordering::Relaxed),
        ),
        Family::single(
            "connector_event_connections_refused_total",
            "counter",
            "Event subscribers' connections refused over the cap.",
            stats.connections_refused.load(Ordering::Relaxed),
        ),
    ];
    families.extend(up_down(
        &registry.connections(),
        "connection",
        (
            "connector_connection_up",
            "1 when the exchange connection is up.",
        ),
        (
            "connector_connection_downs_total",
            "Times the connection went down.",
        ),
    ));
    families.extend(up_down(
        &registry.books(),
        "symbol",
        (
            "connector_book_synced",
            "1 when the book is in sync with the exchange.",
        ),
        ("connector_book_stale_total", "Times the book went stale."),
    ));
    let limits = registry.rate_limits();
    let by_bucket = |(exchange, bucket): &(String, String)| {
        vec![("exchange", exchange.clone()), ("bucket", bucket.clone())]
    };
    families.push(Family {
        samples: limits
            .iter()
            .map(|(key, (left, _))| (by_bucket(key), *left))
            .collect(),
        ..Family::new(
            "connector_rate_limit_remaining",
            "gauge",
            "Units of a venue rate-limit bucket left, as the venue counts.",
        )
    });
    families.push(Family {
        samples: limits
            .iter()
            .map(|(key, (_, all))| (by_bucket(key), *all))
            .collect(),
        ..Family::new(
            "connector_rate_limit_capacity",
            "gauge",
            "Units of a venue rate-limit bucket in all.",
        )
    });
    families.push(Family {
        samples: registry
            .throttled_ms()
            .iter()
            .map(|(key, waited)| (by_bucket(key), *waited))
            .collect(),
        ..Family::new(
            "connector_throttled_milliseconds_total",
            "counter",
            "Time requests waited for the host's own rate limiter.",
        )
    });
    families.push(Family {
        samples: registry
            .kill_switches()
            .into_iter()
            .map(|(exchange, engaged)| (vec![("exchange", exchange)], u64::from(engaged)))
            .collect(),
        ..Family::new(
            "connector_kill_switch_engaged",
            "gauge",
            "1 while the exchange's kill switch is engaged.",
        )
    });
    if let Some(up) = registry.signer_up() {
        families.push(Family::single(
            "connector_signer_up",
            "gauge",
            "1 while the signer this host started runs.",
            u64::from(up),
        ));
    }

    let mut out = String::with_capacity(8 << 10);
    for family in &families {
        write_family(&mut out, family);
    }
    for (name, help, histogram) in [
        (
            "connector_command_seconds",
            "Commands, from receipt to the reply sent.",
            &registry.command_latency,
        ),
        (
            "connector_signer_seconds",
            "Signatures, from the request to the signature.",
            &registry.signer_latency,
        ),
        (
            "connector_exchange_request_seconds",
            "Exchange HTTP requests, from sending to the whole answer.",
            &registry.request_latency,
        ),
        (
            "connector_journal_sync_seconds",
            "Journal syncs to disk.",
            &registry.journal_sync_latency,
        ),
    ] {
        write_histogram(&mut out, name, help, histogram);
    }
    out
}

/// Tracked orders by exchange and state, counted now.
fn orders(exchanges: &Exchanges) -> Family {
    let mut family = Family::new(
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
            let labels = vec![
                ("exchange", trading.exchange().to_owned()),
                ("state", state),
            ];
            family.samples.push((labels, count));
        }
    }
    family
}

/// The up gauge and the downs counter of things kept by exchange and
/// `label`.
fn up_down(
    states: &BTreeMap<(String, String), UpDown>,
    label: &'static str,
    (up_name, up_help): (&'static str, &'static str),
    (downs_name, downs_help): (&'static str, &'static str),
) -> [Family; 2] {
    let labels = |(exchange, name): &(String, String)| {
        vec![("exchange", exchange.clone()), (label, name.clone())]
    };
    [
        Family {
            samples: states
                .iter()
                .map(|(key, state)| (labels(key), u64::from(state.up)))
                .collect(),
            ..Family::new(up_name, "gauge", up_help)
        },
        Family {
            samples: states
                .iter()
                .map(|(key, state)| (labels(key), state.downs))
                .collect(),
            ..Family::new(downs_name, "counter", downs_help)
        },
    ]
}

fn write_family(out: &mut String, family: &Family) {
    let name = family.name;
    let _ = writeln!(
        out,
        "# HELP {name} {}\n# TYPE {name} {}",
        family.help, family.kind
    );
    for (labels, value) in &family.samples {
        out.push_str(name);
        write_labels(out, labels);
        let _ = writeln!(out, " {value}");
    }
}

fn write_labels(out: &mut String, labels: &[(&str, String)]) {
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

fn write_histogram(out: &mut String, name: &str, help: &str, histogram: &Histogram) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    let (cumulative, total, sum_us) = histogram.read();
    for (bound, count) in BOUNDS_US.iter().zip(cumulative) {
        let le = *bound as f64 / 1e6;
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
        let family = Family::new("m", "gauge", "h").with(vec![("a", "x\"y\\z\nw".to_owned())], 3);
        write_family(&mut out, &family);
        assert_eq!(
            out,
            "# HELP m h\n# TYPE m gauge\nm{a=\"x\\\"y\\\\z\\nw\"} 3\n"
        );
    }
}
