//! `connector-signer`: see `connector-signer --help`.

use std::process::ExitCode;

use clap::Parser;
use connector_signer::cli::{self, Cli};

fn main() -> ExitCode {
    cli::run(Cli::parse())
}
