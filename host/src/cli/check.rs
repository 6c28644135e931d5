//! `connector-host check-config` and `plugins`: what the host would find
//! if it started now.

use std::path::Path;
use std::process::ExitCode;

use crate::app::{online, preflight};
use crate::config::{self, Config};
use crate::plugins::PluginSet;
use crate::plugins::pins::{Pins, Sha256Digest};

/// Checks `config` (read from `file`) and what it needs to start — and,
/// `online`, what the exchanges say of it; prints every problem, or a
/// one-line summary.
pub fn check(file: &Path, config: &Config, online: bool) -> ExitCode {
    let plugins = match preflight::check(file, config) {
        Ok(plugins) => plugins,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(2);
        }
    };
    println!("{}: valid — {}", file.display(), config.summary());
    if !online {
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let report = runtime.block_on(online::check(config, &plugins));
    for note in &report.notes {
        println!("online: {note}");
    }
    if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprint!("{}", config::locate(file, report.problems));
        ExitCode::from(2)
    }
}

/// Prints a line per plugin loaded from `dir` and per file refused; fails
/// when a file was refused.
pub fn list_plugins(dir: &Path) -> ExitCode {
    let set = match PluginSet::load_dir(dir, Pins::default()) {
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
        // What `host.plugin_sha256` would pin it to.
        if let Ok(digest) = Sha256Digest::of_file(&plugin.path) {
            println!("         sha256 {digest}");
        }
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
