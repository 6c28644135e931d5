//! `connector-host run`: the host, until a signal stops it.

use std::path::Path;
use std::process::ExitCode;

use super::LogFormat;
use super::logging::init_logging;
use crate::config::Config;

/// Lifts the soft limit on open descriptors to the hard one: connections
/// to the exchanges, the signer, subscribers and command clients all take
/// one, and the default soft limit (often 1,024) is the first to run out.
fn raise_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) != 0 {
            return;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) == 0 {
                tracing::debug!(
                    from = limit.rlim_cur,
                    to = limit.rlim_max,
                    "descriptor limit raised"
                );
            }
        }
    }
}

/// Runs the host with `config` (read from `path`) until it is stopped.
pub fn run_host(format: LogFormat, path: &Path, config: Config) -> ExitCode {
    let set_log_level = init_logging(format, &config.host.log_level);
    tracing::info!(
        "connector-host {} (plugin ABI {}): {}",
        env!("CARGO_PKG_VERSION"),
        plugin_api::ABI_VERSION,
        config.summary()
    );
    raise_descriptor_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.host.runtime_threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!("cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(crate::app::run(path, config, set_log_level)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(crate::app::HostError::Settings(errors)) => {
            eprint!("{errors}");
            ExitCode::from(2)
        }
        Err(error) => {
            tracing::error!("{error}");
            ExitCode::from(1)
        }
    }
}
