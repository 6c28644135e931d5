//! The plugins folder: load every file, refuse the bad ones one line each,
//! never let one broken file stop the others.

pub mod pins;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use plugin_api::{LoadError, LoadedPlugin, PluginErrorKind};
use tracing::{debug, info, warn};

use crate::config::{Config, KeyPath};
use crate::signer::DefaultMarks;
use pins::Pins;

/// The plugins found in a folder.
#[derive(Debug, Default)]
pub struct PluginSet {
    /// Loaded plugins, by exchange name.
    pub loaded: HashMap<String, LoadedPlugin>,
    /// Files refused, with the reason.
    pub refused: Vec<LoadError>,
    /// The digests files must have (none: any file the trust check passes).
    pins: Pins,
}

/// Why the folder itself could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the plugins folder {dir}: {source}")]
pub struct FolderError {
    /// The folder.
    pub dir: PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

/// True for files the loader should try: shared libraries of this
/// platform, not hidden.
pub fn is_plugin_candidate(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|name| name.to_str())
        .is_none_or(|name| name.starts_with('.'));
    !hidden && path.extension().and_then(|e| e.to_str()) == Some(std::env::consts::DLL_EXTENSION)
}

impl PluginSet {
    /// Loads every shared library in `dir` that `pins` allows, in file-name
    /// order. Files with another extension are skipped; every library that
    /// fails is recorded in `refused` with one clear reason.
    pub fn load_dir(dir: &Path, pins: Pins) -> Result<PluginSet, FolderError> {
        let entries = std::fs::read_dir(dir).map_err(|source| FolderError {
            dir: dir.to_owned(),
            source,
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.is_file() && is_plugin_candidate(path))
            .collect();
        files.sort();
        let mut set = PluginSet {
            pins,
            ..PluginSet::default()
        };
        for file in files {
            set.load_file(&file);
        }
        Ok(set)
    }

    /// Loads one file into the set (refusing a second provider of an
    /// exchange).
    pub fn load_file(&mut self, file: &Path) {
        if let Some(reason) = self.pins.refusal(file) {
            self.refuse(LoadError::Untrusted {
                path: file.to_owned(),
                reason,
            });
            return;
        }
        match LoadedPlugin::load(file) {
            Ok(plugin) => {
                let exchange = plugin.manifest.exchange.to_string();
                if let Some(first) = self.loaded.get(&exchange) {
                    self.refuse(LoadError::DuplicateExchange {
                        exchange,
                        first: first.path.clone(),
                        second: file.to_owned(),
                    });
                } else {
                    info!(
                        exchange,
                        version = %plugin.manifest.plugin_version,
                        file = %file.display(),
                        "plugin loaded"
                    );
                    self.loaded.insert(exchange, plugin);
                }
            }
            Err(error) => self.refuse(error),
        }
    }

    fn refuse(&mut self, error: LoadError) {
        warn!("{error}");
        if let LoadError::Layout { details, .. } = &error {
            debug!(
                "abi_stable's layout report for {}:\n{details}",
                error.path().display()
            );
        }
        self.refused.push(error);
    }

    /// Each exchange's `settings` as its plugin judges them: a session is
    /// created for every exchange whose plugin is loaded (sessions do no
    /// I/O), and each refusal is returned at the key it names
    /// (`exchanges[i].settings.<key>`), for [`crate::config::locate`].
    pub fn check_settings(&self, config: &Config) -> Vec<(KeyPath, String)> {
        let mut problems = Vec::new();
        for (index, exchange) in config.exchanges.iter().enumerate() {
            let Some(plugin) = self.loaded.get(&exchange.plugin) else {
                continue;
            };
            let Err(error) = plugin.instantiate(&exchange.plugin_settings()) else {
                continue;
            };
            let mut path = KeyPath::key("exchanges").index(index).join("settings");
            if error.kind == PluginErrorKind::CONFIG {
                for part in error.key.split('.').filter(|part| !part.is_empty()) {
                    path = path.join(part);
                }
                problems.push((path, error.message.to_string()));
            } else {
                problems.push((
                    path,
                    format!("the {} plugin refused them: {error}", exchange.plugin),
                ));
            }
        }
        problems
    }

    /// Where a signer can fetch the marks of each exchange's key: the public
    /// REST URL its plugin names for its settings, for each scheme the
    /// plugin signs with. Exchanges whose plugin is missing, refuses its
    /// settings or names no URL have none.
    pub fn mark_sources(&self, config: &Config) -> Vec<DefaultMarks> {
        let mut sources = Vec::new();
        for exchange in &config.exchanges {
            let Some(plugin) = self.loaded.get(&exchange.plugin) else {
                continue;
            };
            let Some(url) = plugin
                .instantiate(&exchange.plugin_settings())
                .ok()
                .and_then(|session| session.mark_source())
            else {
                continue;
            };
            for scheme in &plugin.manifest.signing_schemes {
                let source = DefaultMarks {
                    scheme: scheme.to_string(),
                    key: exchange.signer_key.clone(),
                    url: url.clone(),
                };
                if !sources.contains(&source) {
                    sources.push(source);
                }
            }
        }
        sources
    }

    /// Loaded plugins sorted by exchange name.
    pub fn sorted(&self) -> Vec<&LoadedPlugin> {
        let mut plugins: Vec<&LoadedPlugin> = self.loaded.values().collect();
        plugins.sort_by(|a, b| a.manifest.exchange.cmp(&b.manifest.exchange));
        plugins
    }
}
