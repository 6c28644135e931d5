//! The deployment files in `host/deploy` stay true: systemd accepts the
//! units (where `systemd-analyze` is installed), and the Dockerfile builds
//! packages and copies files the workspace has.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn systemd_accepts_the_units() {
    let Ok(found) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("systemd-analyze is not installed here; the units are not checked");
        return;
    };
    assert!(found.status.success());
    let host = PathBuf::from(env!("CARGO_BIN_EXE_connector-host"));
    let signer = common::binary("connector-signer", "connector-signer");
    let dir = tempfile::tempdir().expect("dir");
    for (unit, binary) in [
        ("connector-host.service", &host),
        ("connector-signer.service", &signer),
    ] {
        let text = std::fs::read_to_string(deploy().join(unit)).expect("unit");
        let local = text.replace(
            &format!(
                "/usr/local/bin/{}",
                binary.file_name().and_then(|n| n.to_str()).expect("name")
            ),
            &binary.display().to_string(),
        );
        std::fs::write(dir.path().join(unit), local).expect("write");
    }
    let verified = Command::new("systemd-analyze")
        .args([
            "verify",
            "--man=no",
            "connector-host.service",
            "connector-signer.service",
        ])
        .current_dir(dir.path())
        .output()
        .expect("systemd-analyze");
    let said = String::from_utf8_lossy(&verified.stderr);
    assert!(
        verified.status.success() && said.trim().is_empty(),
        "{said}"
    );
}

#[test]
fn the_dockerfile_builds_packages_and_copies_files_the_workspace_has() {
    let dockerfile = std::fs::read_to_string(deploy().join("Dockerfile")).expect("Dockerfile");
    let manifests: String = [
        "host",
        "host/signer",
        "tests/emulator",
        "plugins/hyperliquid",
        "plugins/bybit",
        "plugins/binance",
    ]
    .iter()
    .map(|dir| std::fs::read_to_string(workspace().join(dir).join("Cargo.toml")).expect("manifest"))
    .collect();
    let build = dockerfile
        .split_once("cargo build")
        .and_then(|(_, rest)| rest.split_once("&&"))
        .map(|(build, _)| build)
        .expect("a cargo build");
    let packages: Vec<&str> = build
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|pair| pair[0] == "-p")
        .map(|pair| pair[1])
        .collect();
    assert_eq!(packages.len(), 6, "{packages:?}");
    for package in packages {
        assert!(
            manifests.contains(&format!("name = \"{package}\"")),
            "the Dockerfile builds `{package}`, which no manifest names"
        );
    }
    for file in dockerfile
        .split_whitespace()
        .filter_map(|word| word.strip_prefix("target/release/"))
    {
        let produced = match file.strip_prefix("lib").and_then(|f| f.strip_suffix(".so")) {
            Some(library) => {
                manifests.contains(&format!("name = \"{}\"", library.replace('_', "-")))
            }
            None => manifests.contains(&format!("name = \"{file}\"")),
        };
        assert!(
            produced,
            "the Dockerfile copies {file}, which no package builds"
        );
    }
    for copied in ["configs/", "host/quickstart.sh"] {
        assert!(workspace().join(copied).exists(), "{copied}");
    }
    let quickstart =
        std::fs::read_to_string(workspace().join("host/quickstart.sh")).expect("script");
    assert!(
        quickstart.contains("--no-build"),
        "the image's demo runs the quick start without building"
    );
}
