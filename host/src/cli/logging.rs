//! Logs on standard error: text (coloured only on a terminal) or JSON.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use super::LogFormat;
use crate::app::reload::SetLogLevel;

/// Sets up logging: `RUST_LOG` if set, otherwise `default_filter`.
pub fn init_logging(format: LogFormat, default_filter: &str) -> SetLogLevel {
    let from_environment = EnvFilter::try_from_default_env().ok();
    let fixed = from_environment.is_some();
    let filter = from_environment
        .or_else(|| EnvFilter::try_new(default_filter).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    let text = (format == LogFormat::Text).then(|| {
        let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
        // Colour for a person at a terminal (unless `NO_COLOR` is set, which
        // the layer honours), never into a file, a pipe or the journal.
        if std::io::stderr().is_terminal() {
            layer
        } else {
            layer.with_ansi(false)
        }
    });
    let json = (format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
    });
    // A second initialisation (in tests) is harmless; ignore it.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(text)
        .with(json)
        .try_init();
    Box::new(move |level: &str| {
        let filter = EnvFilter::try_new(level).map_err(|error| error.to_string())?;
        if fixed {
            tracing::info!("RUST_LOG is set; it wins over host.log_level");
            return Ok(());
        }
        handle.reload(filter).map_err(|error| error.to_string())
    })
}
