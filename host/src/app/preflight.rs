//! What a valid configuration needs from this machine before the host
//! starts: a plugin for every exchange, each plugin content with its
//! settings, the folders and files it names present and safe. The same
//! checks make `connector-host check-config` and the start of `run`, so a
//! file that checks clean starts, and one that does not is refused before
//! anything is bound or spawned.

use std::path::Path;

use crate::config::{self, Config, ConfigErrors, KeyPath, closest};
use crate::plugins::PluginSet;
use crate::plugins::pins::Pins;
use crate::signer::signer_binary;

/// Loads the plugins `config` names and checks everything else it needs;
/// every problem is located in `config_file`.
pub fn check(config_file: &Path, config: &Config) -> Result<PluginSet, ConfigErrors> {
    let pins = Pins::new(config.host.plugin_sha256.clone());
    let plugins = PluginSet::load_dir(&config.host.plugins_dir, pins).map_err(|error| {
        let key = KeyPath::key("host").join("plugins_dir");
        config::locate(config_file, vec![(key, error.to_string())])
    })?;
    let problems = problems(config, &plugins);
    if problems.is_empty() {
        Ok(plugins)
    } else {
        Err(config::locate(config_file, problems))
    }
}

/// Every problem found, each with the key it concerns.
pub fn problems(config: &Config, plugins: &PluginSet) -> Vec<(KeyPath, String)> {
    let mut problems = plugins.check_settings(config);
    problems.extend(missing_plugins(config, plugins));
    problems.extend(folders(config));
    problems.extend(signer_files(config));
    if let Some(curve) = &config.zmq.curve
        && let Err(files) = crate::auth::Curve::load(curve)
    {
        problems.extend(files);
    }
    problems
}

/// Exchanges no loaded plugin provides, with the closest name as a hint and
/// the files the folder refused (one of them may be the plugin meant).
fn missing_plugins(config: &Config, plugins: &PluginSet) -> Vec<(KeyPath, String)> {
    let provided: Vec<&str> = plugins
        .sorted()
        .iter()
        .map(|plugin| plugin.manifest.exchange.as_str())
        .collect();
    let mut problems = Vec::new();
    for (index, exchange) in config.exchanges.iter().enumerate() {
        if plugins.loaded.contains_key(&exchange.plugin) {
            continue;
        }
        let mut message = format!(
            "no plugin in {} provides `{}` (found: {})",
            config.host.plugins_dir.display(),
            exchange.plugin,
            if provided.is_empty() {
                "none".to_owned()
            } else {
                provided.join(", ")
            }
        );
        if let Some(near) = closest(&exchange.plugin, &provided) {
            message.push_str(&format!("; did you mean `{near}`?"));
        }
        if !plugins.refused.is_empty() {
            let why: Vec<String> = plugins.refused.iter().map(ToString::to_string).collect();
            message.push_str(&format!(
                "; {} file{} there {} refused: {}",
                plugins.refused.len(),
                if plugins.refused.len() == 1 { "" } else { "s" },
                if plugins.refused.len() == 1 {
                    "was"
                } else {
                    "were"
                },
                why.join("; ")
            ));
        }
        problems.push((
            KeyPath::key("exchanges").index(index).join("plugin"),
            message,
        ));
    }
    problems
}

/// The plugins and state folders: present (or creatable) and not open to
/// other users.
fn folders(config: &Config) -> Vec<(KeyPath, String)> {
    let host = KeyPath::key("host");
    let mut problems = Vec::new();
    let plugins_dir = &config.host.plugins_dir;
    if !plugins_dir.is_dir() {
        problems.push((
            host.join("plugins_dir"),
            format!("{} is not a folder", plugins_dir.display()),
        ));
    } else if let Some(reason) = plugin_api::trust::distrust_folder(plugins_dir) {
        problems.push((
            host.join("plugins_dir"),
            format!("no plugin would be loaded from it: {reason}"),
        ));
    }
    if let Some(reason) = unusable_private_folder(&config.host.state_dir) {
        problems.push((host.join("state_dir"), reason));
    }
    if config.signer.spawn_keys().is_some()
        && let Some(folder) = config.signer.socket.parent()
        && let Some(reason) = unusable_private_folder(folder)
    {
        problems.push((
            KeyPath::key("signer").join("socket"),
            format!("its folder: {reason}"),
        ));
    }
    problems
}

/// Why `folder` cannot hold files only this user may change: it is not a
/// folder, another user could change it, or it is missing and cannot be
/// made.
fn unusable_private_folder(folder: &Path) -> Option<String> {
    if folder.exists() {
        if !folder.is_dir() {
            return Some(format!("{} is not a folder", folder.display()));
        }
        return plugin_api::trust::distrust_folder(folder);
    }
    let existing = folder.ancestors().skip(1).find(|parent| parent.exists())?;
    if !existing.is_dir() {
        return Some(format!(
            "{} cannot be made: {} is not a folder",
            folder.display(),
            existing.display()
        ));
    }
    if !writable(existing) {
        return Some(format!(
            "{} cannot be made: {} is not writable by this user",
            folder.display(),
            existing.display()
        ));
    }
    None
}

/// Whether this process may create entries in `folder`.
fn writable(folder: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(folder.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `access` reads the NUL-terminated path given.
    unsafe { libc::access(path.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

/// The files a spawned signer is started with, and the signer itself.
fn signer_files(config: &Config) -> Vec<(KeyPath, String)> {
    let signer = KeyPath::key("signer");
    let mut problems = Vec::new();
    let files = [
        ("spawn_key_file", &config.signer.spawn_key_file),
        ("spawn_policy", &config.signer.spawn_policy),
        ("spawn_keyring", &config.signer.spawn_keyring),
        (
            "spawn_passphrase_file",
            &config.signer.spawn_passphrase_file,
        ),
    ];
    for (key, file) in files {
        let Some(file) = file else { continue };
        let reason = if !file.is_file() {
            Some(format!("{} is not a file", file.display()))
        } else {
            plugin_api::trust::distrust(file)
                .map(|reason| format!("the signer would refuse it: {reason}"))
        };
        if let Some(reason) = reason {
            problems.push((signer.join(key), reason));
        }
    }
    if config.signer.spawn_keys().is_some() && !on_path_or_file(&signer_binary()) {
        let key = if config.signer.spawn_keyring.is_some() {
            "spawn_keyring"
        } else {
            "spawn_key_file"
        };
        problems.push((
            signer.join(key),
            "the host starts the signer, but connector-signer is neither beside connector-host \
             nor on the PATH"
                .to_owned(),
        ));
    }
    problems
}

/// Whether `binary` is a file, or a bare name found on the `PATH`.
fn on_path_or_file(binary: &Path) -> bool {
    if binary.components().count() > 1 {
        return binary.is_file();
    }
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|folder| folder.join(binary).is_file())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_state_folder_is_fine_when_it_can_be_made() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(unusable_private_folder(&dir.path().join("a/b")), None);
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let why = unusable_private_folder(&file.join("state")).unwrap();
        assert!(why.contains("is not a folder"), "{why}");
        let why = unusable_private_folder(&file).unwrap();
        assert!(why.contains("is not a folder"), "{why}");
    }

    #[test]
    fn every_file_of_a_spawned_signer_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let keyring = dir.path().join("keyring.toml");
        std::fs::write(&keyring, "").unwrap();
        let text = crate::config::tests::MINIMAL.replace(
            "socket = \"signer.sock\"",
            &format!(
                "socket = \"signer.sock\"\nspawn_keyring = {keyring:?}\n\
                 spawn_passphrase_file = {:?}",
                dir.path().join("missing")
            ),
        );
        let config = crate::config::parse(&text).unwrap();
        let problems: Vec<String> = signer_files(&config)
            .iter()
            .map(|(key, why)| format!("{key}: {why}"))
            .collect();
        assert!(
            problems.iter().any(
                |problem| problem.starts_with("signer.spawn_passphrase_file: ")
                    && problem.contains("missing is not a file")
            ),
            "{problems:?}"
        );
        assert!(
            !problems
                .iter()
                .any(|problem| problem.starts_with("signer.spawn_keyring: ")
                    && problem.contains("not a file")),
            "{problems:?}"
        );
    }
}
