//! Keys at rest: `new` and `import` make keystore files that the signer,
//! and Ethereum's own tools, unlock with the passphrase; plain and
//! published keys are refused without `--allow-demo-keys`.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use connector_signer::protocol::Response;
use serde_json::json;

use crate::common::{ADDRESS, KEY, binary, write_file};

/// scrypt at N = 2^10: these tests check the format, not the cost.
const LIGHT: [&str; 2] = ["--scrypt-log-n", "10"];

fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    assert!(!output.status.success(), "{output:?}");
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn passphrase_file(dir: &Path) -> std::path::PathBuf {
    write_file(dir, "passphrase", "correct horse battery\n", 0o600)
}

#[test]
fn a_new_key_is_an_encrypted_keystore_unlocked_by_its_passphrase_only() {
    let dir = tempfile::tempdir().unwrap();
    let pass = passphrase_file(dir.path());
    let out = dir.path().join("agent.json");
    let made = run(binary()
        .args(["new", "--kind", "secp256k1", "--out"])
        .arg(&out)
        .arg("--passphrase-file")
        .arg(&pass)
        .args(LIGHT));
    let address = stdout(&made).trim().to_owned();
    assert!(
        address.starts_with("0x") && address.len() == 42,
        "{address}"
    );
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(file["version"], 3);
    assert_eq!(file["crypto"]["kdf"], "scrypt");
    assert_eq!(
        format!("0x{}", file["address"].as_str().unwrap()),
        address.to_lowercase()
    );

    // Unlocked from a descriptor the caller opened, and from the file.
    let shown = run(Command::new("sh").arg("-c").arg(format!(
        "exec {:?} address --key-file {:?} --passphrase-fd 3 3<{:?}",
        env!("CARGO_BIN_EXE_connector-signer"),
        out,
        pass
    )));
    assert_eq!(stdout(&shown).trim(), address);
    let wrong = write_file(dir.path(), "wrong", "correct horse battery staple\n", 0o600);
    let refused = run(binary()
        .args(["address", "--key-file"])
        .arg(&out)
        .arg("--passphrase-file")
        .arg(&wrong));
    assert!(stderr(&refused).contains("wrong passphrase"), "{refused:?}");
    let locked = run(binary().args(["address", "--key-file"]).arg(&out));
    assert!(stderr(&locked).contains("is encrypted"), "{locked:?}");
    let again = run(binary()
        .args(["new", "--kind", "secp256k1", "--out"])
        .arg(&out)
        .arg("--passphrase-file")
        .arg(&pass)
        .args(LIGHT));
    assert!(stderr(&again).contains("File exists"), "{again:?}");

    // Ethereum's own tooling reads it.
    let Some(python) = std::env::var_os("CONNECTOR_TEST_PYTHON") else {
        panic!("CONNECTOR_TEST_PYTHON is not set: run the tests with host/run-tests.sh");
    };
    let decrypted = run(Command::new(python).arg("-c").arg(format!(
        "import json, eth_account; k = eth_account.Account.decrypt(json.load(open({out:?})), \
         'correct horse battery'); print(eth_account.Account.from_key(k).address)"
    )));
    assert_eq!(stdout(&decrypted).trim(), address);
}

#[test]
fn a_keystore_made_by_eth_account_signs() {
    let Some(python) = std::env::var_os("CONNECTOR_TEST_PYTHON") else {
        panic!("CONNECTOR_TEST_PYTHON is not set: run the tests with host/run-tests.sh");
    };
    let dir = tempfile::tempdir().unwrap();
    let pass = passphrase_file(dir.path());
    let out = dir.path().join("made-by-eth-account.json");
    let made = run(Command::new(python).arg("-c").arg(format!(
        "import json, os, eth_account\n\
         k = eth_account.Account.create()\n\
         f = os.open({out:?}, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)\n\
         os.write(f, json.dumps(eth_account.Account.encrypt(k.key, 'correct horse battery', \
         kdf='scrypt', iterations=1024)).encode())\n\
         print(k.address)"
    )));
    let address = stdout(&made).trim().to_owned();
    let request = json!({"id": 1, "scheme": "hyperliquid-l1", "network": "mainnet",
        "nonce": 1_700_000_000_000u64, "action": {"type": "noop"}});
    let mut child = binary()
        .args(["sign", "--key-file"])
        .arg(&out)
        .arg("--passphrase-file")
        .arg(&pass)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{request}").unwrap();
    let output = child.wait_with_output().unwrap();
    let response: Response = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        response.result.unwrap().signer,
        address.to_lowercase(),
        "{output:?}"
    );
}

#[test]
fn api_secrets_are_imported_and_served_from_a_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let pass = passphrase_file(dir.path());
    let plain = write_file(
        dir.path(),
        "bybit.secret",
        "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5\n",
        0o600,
    );
    let imported = run(binary()
        .args(["import", "--kind", "hmac-sha256", "--from"])
        .arg(&plain)
        .arg("--out")
        .arg(dir.path().join("bybit.json"))
        .arg("--passphrase-file")
        .arg(&pass)
        .args(LIGHT));
    assert!(stdout(&imported).contains("no public part"), "{imported:?}");
    let sealed = std::fs::read_to_string(dir.path().join("bybit.json")).unwrap();
    assert!(!sealed.contains("aB3dE5gH7"), "{sealed}");
    let ed25519 = dir.path().join("binance.json");
    let made = run(binary()
        .args(["new", "--kind", "ed25519", "--out"])
        .arg(&ed25519)
        .arg("--passphrase-file")
        .arg(&pass)
        .args(LIGHT));
    assert!(
        stdout(&made).starts_with("-----BEGIN PUBLIC KEY-----"),
        "{made:?}"
    );

    let keyring = |bybit_file: &str| {
        write_file(
            dir.path(),
            "keyring.toml",
            &format!(
                r#"
                [[key]]
                name = "bybit"
                venue = "bybit"
                algorithm = "hmac-sha256"
                api_key = "bybit-api-key"
                file = "{bybit_file}"

                [[key]]
                name = "binance"
                venue = "binance-usdm"
                algorithm = "ed25519"
                api_key = "binance-api-key"
                file = "binance.json"
                "#
            ),
            0o600,
        )
    };
    let listed = run(binary()
        .args(["keys", "--keyring"])
        .arg(keyring("bybit.json"))
        .arg("--passphrase-file")
        .arg(&pass));
    assert_eq!(stdout(&listed).lines().count(), 2, "{listed:?}");
    // The plain file is refused, and taken only with --allow-demo-keys.
    let refused = run(binary()
        .args(["keys", "--keyring"])
        .arg(keyring("bybit.secret"))
        .arg("--passphrase-file")
        .arg(&pass));
    assert!(stderr(&refused).contains("is not encrypted"), "{refused:?}");
    let demo = run(binary()
        .args(["keys", "--allow-demo-keys", "--keyring"])
        .arg(keyring("bybit.secret"))
        .arg("--passphrase-file")
        .arg(&pass));
    assert_eq!(stdout(&demo).lines().count(), 2, "{demo:?}");
}

#[test]
fn published_keys_are_refused_unless_demo_keys_are_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let key = write_file(dir.path(), "key", KEY, 0o600);
    let refused = run(binary().args(["address", "--key-file"]).arg(&key));
    assert!(stderr(&refused).contains("is not encrypted"), "{refused:?}");
    let import = run(binary()
        .args(["import", "--kind", "secp256k1", "--from"])
        .arg(&key)
        .arg("--out")
        .arg(dir.path().join("out.json"))
        .arg("--passphrase-file")
        .arg(passphrase_file(dir.path()))
        .args(LIGHT));
    let message = stderr(&import);
    assert!(
        message.contains("published key") && message.contains("anyone can sign with it"),
        "{message}"
    );
    assert!(!dir.path().join("out.json").exists());
    let demo = run(binary()
        .args(["address", "--allow-demo-keys", "--key-file"])
        .arg(&key));
    assert_eq!(stdout(&demo).trim(), ADDRESS);
    // The shipped demo key, copied 0600 (a checkout keeps no file modes).
    let shipped = include_str!("../../../../configs/local-demo.key");
    let demo_key = write_file(dir.path(), "local-demo.key", shipped, 0o600);
    let demo_key = run(binary().args(["address", "--key-file"]).arg(&demo_key));
    assert!(
        stderr(&demo_key).contains("is not encrypted"),
        "{demo_key:?}"
    );
}

/// Runs the signer with `args` on a new pseudo-terminal, answering each
/// prompt in turn; returns whether it succeeded and what the terminal showed.
fn on_a_terminal(args: &[&str], answers: &[&str]) -> (bool, String) {
    let Some(python) = std::env::var_os("CONNECTOR_TEST_PYTHON") else {
        panic!("CONNECTOR_TEST_PYTHON is not set: run the tests with host/run-tests.sh");
    };
    let argv: Vec<&str> = std::iter::once(env!("CARGO_BIN_EXE_connector-signer"))
        .chain(args.iter().copied())
        .collect();
    let script = format!(
        r#"
import json, os, pty, sys
argv, answers = json.loads({argv:?}), json.loads({answers:?})
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
shown = b""
def more():
    global shown
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        chunk = b""
    shown += chunk
    return chunk
for answer in answers:
    seen = shown.count(b": ")
    while shown.count(b": ") == seen and more():
        pass
    os.write(fd, answer.encode() + b"\n")
while more():
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#,
        argv = serde_json::to_string(&argv).unwrap(),
        answers = serde_json::to_string(answers).unwrap(),
    );
    let output = run(Command::new(python).arg("-c").arg(script));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_passphrase_is_asked_on_the_terminal_when_no_source_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("agent.json");
    let out = out.to_str().unwrap();
    let new = [
        "new",
        "--kind",
        "secp256k1",
        "--out",
        out,
        LIGHT[0],
        LIGHT[1],
    ];
    let (made, shown) = on_a_terminal(&new, &["first try", "second try"]);
    assert!(
        !made && shown.contains("the two passphrases differ"),
        "{shown}"
    );
    assert!(!Path::new(out).exists());
    let (made, shown) = on_a_terminal(&new, &["typed twice", "typed twice"]);
    assert!(made, "{shown}");
    let address = shown
        .lines()
        .find_map(|line| line.trim().strip_prefix("0x"))
        .map(|hex| format!("0x{hex}"))
        .unwrap_or_else(|| panic!("no address in {shown}"));
    let (shown_ok, shown) = on_a_terminal(&["address", "--key-file", out], &["typed twice"]);
    assert!(shown_ok && shown.contains(&address), "{shown}");
    let (refused, shown) = on_a_terminal(&["address", "--key-file", out], &["typed once"]);
    assert!(!refused && shown.contains("wrong passphrase"), "{shown}");
}
