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

    let set = PluginSet::load_dir(dir.path()).unwrap();

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
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stdout.lines().nth(1).unwrap().starts_with("refused  "),
        "{stdout}"
    );
}

#[test]
fn every_plugin_the_workspace_builds_loads() {
    let dir = tempfile::tempdir().unwrap();
    copy_as(&cdylib("hyperliquid-plugin"), dir.path(), "hyperliquid.so");
    let set = PluginSet::load_dir(dir.path()).unwrap();
    let lines: Vec<String> = set.refused.iter().map(ToString::to_string).collect();
    assert!(set.refused.is_empty(), "{lines:#?}");
    assert!(set.loaded.contains_key("hyperliquid"));
}
