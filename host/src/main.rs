//! `connector-host`: see `connector-host --help`.

use std::process::ExitCode;

use clap::Parser;
use connector_host::cli::{self, Cli};

/// jemalloc rather than the system's malloc: under a steady churn of
/// orders glibc kept about 2.4 times the live heap resident, creeping up
/// (+10 % in minutes 3–9 at 1,000 orders/s) while the live heap stayed
/// level; jemalloc holds half as much, level, at the same reply latency
/// (`docs/benchmarks.md`, "Memory over ten minutes").
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    cli::run(Cli::parse())
}
