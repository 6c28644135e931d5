//! Loading the plugins folder: every failure is one clear line naming the
//! file, a broken file never stops the others, and a panicking plugin is an
//! error, not a dead host.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use connector_host::plugins::PluginSet;
use plugin_api::{Event, LoadError, PluginErrorKind};

use common::{cdylib, copy_as};

#[test]
fn one_folder_with_every_kind_of_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = copy_as(&cdylib("test-plugin"), dir.path(), "a-testex.so");
    let duplicate = copy_as(&cdylib("test-plugin"), dir.path(), "b-testex-again.so");
    let old = copy_as(&cdylib("old-abi-plugin"), dir.path(), "c-old.so");
    let skewed = copy_as(&cdylib("bad-layout-plugin"), dir.path(), "d-skewed.so");
    let library = copy_as(&cdylib("not-a-plugin"), dir.path(), "e-library.so");
    let garbage = dir.path().join("f-garbage.so");
    std::fs::write(&garbage, b"this is not an ELF file").unwrap();
    std::fs::write(dir.path().join("README.txt"), b"not considered").unwrap();

    let set = PluginSet::load_dir(dir.path(), Default::default()).unwrap();

    assert_eq!(set.loaded.len(), 1);
    assert_eq!(set.loaded["testex"].path, good);
    let lines: Vec<String> = set.refused.iter().map(ToString::to_string).collect();
    assert_eq!(set.refused.len(), 5, "{lines:#?}");
    for line in &lines {
        assert!(!line.contains('\n'), "one line each: {line}");
        assert!(line.len() < 400, "short: {line}");
    }

    assert_eq!(
        set.refused[0],
        LoadError::DuplicateExchange {
            exchange: "testex".into(),
            first: good.clone(),
            second: duplicate.clone(),
        }
    );
    assert!(lines[0].contains(&*good.to_string_lossy()));
    assert!(lines[0].contains(&*duplicate.to_string_lossy()));

    assert_eq!(
        set.refused[1],
        LoadError::AbiVersion {
            path: old.clone(),
            plugin_version: "0.1.0".into(),
            host_version: plugin_api::ABI_VERSION.into(),
        }
    );
    assert!(lines[1].contains("rebuild the plugin"), "{}", lines[1]);

    let LoadError::Layout {
        path,
        summary,
        details,
    } = &set.refused[2]
    else {
        panic!("expected a layout error: {}", lines[2]);
    };
    assert_eq!(path, &skewed);
    assert!(!summary.is_empty());
    assert!(
        details.lines().count() > 5,
        "the full report is kept for debug logs"
    );

    for (index, path) in [(3, &library), (4, &garbage)] {
        assert!(
            matches!(&set.refused[index], LoadError::NotAPlugin { path: p, .. } if p == path),
            "{}",
            lines[index]
        );
    }
    assert!(lines[3].contains("no plugin root module"), "{}", lines[3]);
}

#[test]
fn a_panicking_plugin_is_an_error_and_the_host_goes_on() {
    let plugin = plugin_api::LoadedPlugin::load(&cdylib("test-plugin")).unwrap();
    let error = plugin.instantiate(r#"{"panic_on_new": true}"#).unwrap_err();
    assert_eq!(error.kind, PluginErrorKind::PANICKED);
    assert!(error.message.contains("asked to panic while being created"));

    let bad_config = plugin.instantiate("[1, 2]").unwrap_err();
    assert_eq!(bad_config.kind, PluginErrorKind::CONFIG);

    let instance = plugin.instantiate("{}").unwrap();
    let error = instance.on_frame("market", "panic", 0).unwrap_err();
    assert_eq!(error.kind, PluginErrorKind::PANICKED);
    assert!(error.message.contains("asked to panic while parsing"));
    // The instance and the host are still usable.
    let outputs = instance.on_frame("market", "pong", 0).unwrap();
    assert!(matches!(
        outputs[0].as_enum(),
        Ok(plugin_api::Output::Event(event)) if matches!(event.as_enum(), Ok(Event::Pong))
    ));
    let malformed = instance.on_frame("market", "", 0).unwrap_err();
    assert_eq!(malformed.kind, PluginErrorKind::MALFORMED_INPUT);
}

/// Runs `connector-host plugins --dir DIR`.
fn list_plugins(dir: &Path) -> (Output, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(["plugins", "--dir"])
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

#[test]
fn the_plugins_command_prints_a_line_per_file() {
    let dir = tempfile::tempdir().unwrap();
    copy_as(&cdylib("test-plugin"), dir.path(), "testex.so");
    let (output, stdout) = list_plugins(dir.path());
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.starts_with("loaded   testex"), "{stdout}");
    assert!(
        stdout.contains(&format!("abi {}", plugin_api::ABI_VERSION)),
        "{stdout}"
    );

    copy_as(&cdylib("old-abi-plugin"), dir.path(), "old.so");
    let (output, stdout) = list_plugins(dir.path());
    assert_eq!(
        output.status.code(),
        Some(1),
        "a refused file fails the command"
    );
    assert_eq!(
        stdout.lines().count(),
        3,
        "loaded, its sha256, refused: {stdout}"
    );
    assert!(
        stdout.lines().nth(2).unwrap().starts_with("refused  "),
        "{stdout}"
    );
}

/// Loading a plugin runs its code in the host: a file, or a folder, that
/// another user could have changed is refused before it is opened, by the
/// host and by `connector-host plugins` alike.
#[test]
fn a_plugin_another_user_could_have_changed_is_not_run() {
    use std::fs::{Permissions, set_permissions};
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let file = copy_as(&cdylib("test-plugin"), dir.path(), "testex.so");
    let refused = |expected: &str| {
        let (output, stdout) = list_plugins(dir.path());
        assert_eq!(output.status.code(), Some(1), "{stdout}");
        assert!(stdout.starts_with("refused  "), "{stdout}");
        assert!(stdout.contains(expected), "{expected}: {stdout}");
        let set = PluginSet::load_dir(dir.path(), Default::default()).unwrap();
        assert!(set.loaded.is_empty());
        assert!(
            matches!(&set.refused[..], [LoadError::Untrusted { path, .. }] if *path == file),
            "{:?}",
            set.refused
        );
    };

    set_permissions(&file, Permissions::from_mode(0o666)).unwrap();
    refused("the file");
    set_permissions(&file, Permissions::from_mode(0o755)).unwrap();
    set_permissions(dir.path(), Permissions::from_mode(0o777)).unwrap();
    refused("its folder");
    set_permissions(dir.path(), Permissions::from_mode(0o700)).unwrap();
    let (output, stdout) = list_plugins(dir.path());
    assert!(output.status.success(), "{stdout}");

    // Only root can give the file to another user (the tests run as root in
    // CI).
    // SAFETY: `geteuid` has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        std::os::unix::fs::chown(&file, Some(65534), None).unwrap();
        refused("belongs to uid 65534");
    }
}

#[test]
fn every_plugin_the_workspace_builds_loads() {
    let dir = tempfile::tempdir().unwrap();
    copy_as(&cdylib("hyperliquid-plugin"), dir.path(), "hyperliquid.so");
    let set = PluginSet::load_dir(dir.path(), Default::default()).unwrap();
    let lines: Vec<String> = set.refused.iter().map(ToString::to_string).collect();
    assert!(set.refused.is_empty(), "{lines:#?}");
    assert!(set.loaded.contains_key("hyperliquid"));
}

/// A config for the plugins in `dir/plugins` with one exchange per
/// `(name, plugin, settings)`.
fn config_with(dir: &Path, exchanges: &[(&str, &str, &str)]) -> std::path::PathBuf {
    let mut text = format!(
        "[host]\nid = \"settings-test\"\nplugins_dir = \"plugins\"\nstate_dir = \"state\"\n\n\
         [zmq]\npublish = \"ipc://{0}/events.sock\"\ncommands = \"ipc://{0}/commands.sock\"\n\n\
         [signer]\nsocket = \"signer.sock\"\n",
        dir.display()
    );
    for (name, plugin, settings) in exchanges {
        text.push_str(&format!(
            "\n[[exchanges]]\nname = \"{name}\"\nplugin = \"{plugin}\"\n\n\
             [exchanges.settings]\n{settings}\n\n[[exchanges.markets]]\nsymbol = \"BTC-USD\"\n"
        ));
    }
    let file = dir.join("host.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// Runs `connector-host <args…> FILE`.
fn host_with(args: &[&str], config: &Path) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(args)
        .arg(config)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn each_plugin_judges_its_settings_and_the_error_names_the_key_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    copy_as(&cdylib("hyperliquid-plugin"), &plugins, "hyperliquid.so");
    let account = "account = \"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE\"";
    let config = config_with(
        dir.path(),
        &[
            (
                "hl",
                "hyperliquid",
                &format!("network = \"local\"\n{account}"),
            ),
            ("other", "bybit", ""),
        ],
    );
    let (code, _, stderr) = host_with(&["check-config"], &config);
    assert_eq!(code, Some(2), "{stderr}");
    // Line 17 is `[exchanges.settings]`: the key it lacks has no line of
    // its own.
    assert!(
        stderr.contains(
            "line 17: exchanges[hl].settings.api_url: is required when network = \"local\""
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("exchanges[other].plugin: no plugin in")
            && stderr.contains("provides `bybit` (found: hyperliquid)"),
        "{stderr}"
    );

    let config = config_with(
        dir.path(),
        &[(
            "hl",
            "hyperliquid",
            &format!("network = \"local\"\napi_url = \"127.0.0.1:1\"\n{account}"),
        )],
    );
    let (code, _, stderr) = host_with(&["check-config"], &config);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "line 19: exchanges[hl].settings.api_url: `127.0.0.1:1` is not an http(s) URL"
        ),
        "{stderr}"
    );
    // `run` refuses the same file the same way, before starting anything.
    let (code, _, stderr) = host_with(&["run", "--config"], &config);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("line 19: exchanges[hl].settings.api_url"),
        "{stderr}"
    );

    let config = config_with(
        dir.path(),
        &[(
            "hl",
            "hyperliquid",
            &format!("network = \"local\"\napi_url = \"http://127.0.0.1:1\"\n{account}"),
        )],
    );
    let (code, stdout, stderr) = host_with(&["check-config"], &config);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("valid"), "{stdout}");
}

/// `host.plugin_sha256` pins plugin files: the pinned digest loads, a
/// changed file or one not pinned is refused with its digest named, and a
/// pin that is no digest is a config error at its key.
#[test]
fn pinned_plugins_load_only_with_their_digest() {
    use connector_host::plugins::pins::Sha256Digest;

    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let file = copy_as(&cdylib("hyperliquid-plugin"), &plugins, "hyperliquid.so");
    let digest = Sha256Digest::of_file(&file).unwrap().to_string();
    let (_, listed) = list_plugins(&plugins);
    assert!(listed.contains(&format!("sha256 {digest}")), "{listed}");

    let settings = "network = \"local\"\napi_url = \"http://127.0.0.1:1\"\naccount = \"0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE\"";
    let pinned = |pins: &str| {
        let config = config_with(dir.path(), &[("hl", "hyperliquid", settings)]);
        let text = std::fs::read_to_string(&config).unwrap().replace(
            "state_dir = \"state\"\n",
            &format!("state_dir = \"state\"\nplugin_sha256 = {{ {pins} }}\n"),
        );
        std::fs::write(&config, text).unwrap();
        host_with(&["check-config"], &config)
    };
    let (code, stdout, stderr) = pinned(&format!("\"hyperliquid.so\" = \"{digest}\""));
    assert_eq!(code, Some(0), "{stdout}{stderr}");

    let other = "0".repeat(64);
    let (code, _, stderr) = pinned(&format!("\"hyperliquid.so\" = \"{other}\""));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("its SHA-256 is {digest}, not the {other}")),
        "{stderr}"
    );

    let (code, _, stderr) = pinned(&format!("\"bybit.so\" = \"{digest}\""));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("pins other files, not `hyperliquid.so`") && stderr.contains(&digest),
        "{stderr}"
    );

    let (code, _, stderr) = pinned("\"hyperliquid.so\" = \"not-hex\"");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("host.plugin_sha256") && stderr.contains("64 hexadecimal digits"),
        "{stderr}"
    );
}
