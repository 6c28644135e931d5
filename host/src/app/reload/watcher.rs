//! Watching the config file's folder and the plugins folder.
//!
//! A file is taken only once it is complete: renamed into place (how
//! editors and deploy tools save atomically) or closed by a writer that
//! wrote it in place. A write still in progress — a file half copied, a
//! truncated config whose writer has not finished — is never read: a
//! half-written config could drop a market's limits, a half-copied plugin
//! could be loaded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify_debouncer_full::notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify_debouncer_full::notify::{Event, EventKind, RecursiveMode};
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
        for path in events.iter().filter_map(|event| completed_file(event)) {
            if path.file_name().map(ToOwned::to_owned) == config_name
                && path.parent() == Some(folder_in_closure.as_path())
            {
                config_changed = true;
            } else if path.parent() == Some(plugins.as_path()) {
                let _ = triggers.send(Trigger::PluginFile(path.to_owned()));
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

/// The file an event shows complete: the destination of a rename, or a
/// file its writer closed. Other events — a write still going on, a read
/// (as every reload is), a removal — complete nothing.
fn completed_file(event: &Event) -> Option<&Path> {
    match event.kind {
        EventKind::Modify(ModifyKind::Name(
            RenameMode::To | RenameMode::Both | RenameMode::Any,
        ))
        | EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
            event.paths.last().map(PathBuf::as_path)
        }
        _ => None,
    }
}

fn config_file_folder(config_file: &Path) -> PathBuf {
    match config_file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use notify_debouncer_full::notify::event::{CreateKind, DataChange, RemoveKind};

    use super::*;

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        paths
            .iter()
            .fold(Event::new(kind), |event, path| event.add_path(path.into()))
    }

    #[test]
    fn a_file_renamed_into_place_or_closed_by_its_writer_is_complete() {
        let renamed = event(
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
            &["/c/host.toml.swp", "/c/host.toml"],
        );
        assert_eq!(completed_file(&renamed), Some(Path::new("/c/host.toml")));
        let moved_in = event(
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            &["/c/host.toml"],
        );
        assert_eq!(completed_file(&moved_in), Some(Path::new("/c/host.toml")));
        let closed = event(
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            &["/c/host.toml"],
        );
        assert_eq!(completed_file(&closed), Some(Path::new("/c/host.toml")));
    }

    #[test]
    fn a_write_in_progress_a_read_or_a_removal_completes_nothing() {
        for kind in [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Remove(RemoveKind::File),
        ] {
            assert_eq!(
                completed_file(&event(kind, &["/c/host.toml"])),
                None,
                "{kind:?}"
            );
        }
    }
}
