//! Watching the config file's folder and the plugins folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_full::notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use tokio::sync::mpsc;
use tracing::warn;

use super::Trigger;

/// Changes closer together than this are taken as one.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Watches the config file's folder and the plugins folder, sending a
/// trigger per debounced change. Dropping the returned debouncer stops it.
pub fn watch_files(
    config_file: &Path,
    plugins_dir: &Path,
    triggers: mpsc::UnboundedSender<Trigger>,
) -> notify_debouncer_full::notify::Result<
    Debouncer<notify_debouncer_full::notify::RecommendedWatcher, RecommendedCache>,
> {
    // Events name absolute paths when absolute paths are watched.
    let config_file = std::fs::canonicalize(config_file)?;
    let plugins = std::fs::canonicalize(plugins_dir)?;
    let folder = config_file_folder(&config_file);
    let watched_plugins = plugins.clone();
    let config_name = config_file.file_name().map(ToOwned::to_owned);
    let folder_in_closure = folder.clone();
    let mut debouncer = new_debouncer(DEBOUNCE, None, move |result: DebounceEventResult| {
        let events = match result {
            Ok(events) => events,
            Err(errors) => {
                errors.iter().for_each(|e| warn!("file watch: {e}"));
                return;
            }
        };
        let mut config_changed = false;
        // Reading a file (as every reload does) is an event too; only
        // changes count, or each reload would trigger the next.
        for event in events.iter().filter(|event| !event.kind.is_access()) {
            for path in &event.paths {
                if path.file_name().map(ToOwned::to_owned) == config_name
                    && path.parent() == Some(folder_in_closure.as_path())
                {
                    config_changed = true;
                } else if path.parent() == Some(plugins.as_path()) {
                    let _ = triggers.send(Trigger::PluginFile(path.clone()));
                }
            }
        }
        if config_changed {
            let _ = triggers.send(Trigger::ConfigFile);
        }
    })?;
    debouncer.watch(&folder, RecursiveMode::NonRecursive)?;
    if watched_plugins != folder {
        debouncer.watch(&watched_plugins, RecursiveMode::NonRecursive)?;
    }
    Ok(debouncer)
}

fn config_file_folder(config_file: &Path) -> PathBuf {
    match config_file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}
