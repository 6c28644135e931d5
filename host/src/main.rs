//! `connector-host`: see `connector-host --help`.

use std::process::ExitCode;

use clap::Parser;
use connector_host::cli::{self, Cli};

fn main() -> ExitCode {
    cli::run(Cli::parse())
}
