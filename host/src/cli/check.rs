//! `connector-host check-config` and `plugins`: what the host would find
//! if it started now.

use std::path::Path;
use std::process::ExitCode;

use crate::app::preflight;
use crate::config::Config;
use crate::plugins::PluginSet;

/// Checks `config` (read from `file`) and what it needs to start; prints
/// every problem, or a one-line summary.
pub fn check(file: &Path, config: &Config) -> ExitCode {
    match preflight::check(file, config) {
        Ok(_) => {
            println!("{}: valid — {}", file.display(), config.summary());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprint!("{errors}");
            ExitCode::from(2)
        }
    }
}

/// Prints a line per plugin loaded from `dir` and per file refused; fails
/// when a file was refused.
pub fn list_plugins(dir: &Path) -> ExitCode {
    let set = match PluginSet::load_dir(dir) {
        Ok(set) => set,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    for plugin in set.sorted() {
        println!(
            "loaded   {:<14} version {:<8} abi {:<8} {}",
            plugin.manifest.exchange,
            plugin.manifest.plugin_version,
            plugin_api::ABI_VERSION,
            plugin.path.display()
        );
        for bucket in plugin.manifest.rate_limits.iter() {
            println!(
                "         rate limit {:<16} {} per {} ms",
                bucket.id, bucket.capacity, bucket.window_ms
            );
        }
    }
    for refused in &set.refused {
        println!("refused  {refused}");
    }
    if set.refused.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
