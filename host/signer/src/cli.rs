//! The `connector-signer` command line.

use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use hyperliquid_core::{
    Action, Address, ApproveAgent, DigestError, ExchangeRequest, Network, SigningContext,
    sign_digest, signing_digest,
};
use tracing_subscriber::EnvFilter;
use zeroize::Zeroizing;

use crate::audit::AuditLog;
use crate::handler::Signer;
use crate::hardening::protect_process;
use crate::key::{KeyFileError, Unlock, ed25519_key, load_key, read_plain, secp256k1_key};
use crate::keyring::{Keyring, KeyringError};
use crate::keystore::{self, KeystoreError, ScryptCost, SecretKind, random_secret};
use crate::marks;
use crate::passphrase::{self, PassphraseError, PassphraseSource};
use crate::policy::hyperliquid::{Policy, PolicyError};
use crate::protocol::{EXIT_SOCKET_IN_USE, ErrorCode, FATAL_LINE_PREFIX, MAX_LINE_BYTES, Response};
use crate::schemes::hyperliquid::parse_network;
use crate::server::{self, Access, ServeError};
use plugin_api::socket_path::ClaimError;
use rust_decimal::Decimal;

/// Holds trading keys and signs only what each key's policy allows.
#[derive(Debug, Parser)]
#[command(name = "connector-signer", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The key file argument.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// File holding the private key: a keystore (mode 0600), or for a local
    /// emulator 0x + 64 hex digits on one line.
    #[arg(long, value_name = "PATH")]
    pub key_file: PathBuf,
    /// How it is unlocked.
    #[command(flatten)]
    pub unlock: UnlockArgs,
}

/// Where the passphrase of encrypted key files comes from (at most one);
/// never an argument or an environment variable.
#[derive(Debug, Args)]
#[group(id = "passphrase", multiple = false)]
pub struct PassphraseArgs {
    /// Read the passphrase from this open file descriptor (its first line),
    /// e.g. `--passphrase-fd 3 3<pass.txt` or a password manager's pipe.
    #[arg(long, value_name = "FD")]
    pub passphrase_fd: Option<i32>,
    /// Read it from this file's first line (this user's, mode 0600).
    #[arg(long, value_name = "PATH")]
    pub passphrase_file: Option<PathBuf>,
    /// Read it from this systemd credential (`LoadCredential=` or
    /// `LoadCredentialEncrypted=`; `$CREDENTIALS_DIRECTORY/NAME`).
    #[arg(long, value_name = "NAME")]
    pub passphrase_credential: Option<String>,
}

impl PassphraseArgs {
    /// The source given; without one, the terminal if stdin is one.
    pub fn source(&self) -> Option<PassphraseSource> {
        self.passphrase_fd
            .map(PassphraseSource::Fd)
            .or_else(|| self.passphrase_file.clone().map(PassphraseSource::File))
            .or_else(|| {
                self.passphrase_credential
                    .clone()
                    .map(PassphraseSource::Credential)
            })
            .or_else(|| {
                io::stdin()
                    .is_terminal()
                    .then_some(PassphraseSource::Terminal)
            })
    }
}

/// How key files are opened.
#[derive(Debug, Args)]
pub struct UnlockArgs {
    /// The passphrase of encrypted key files.
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Take plain (unencrypted) key files and published keys, such as the
    /// demo keys in configs/: for local emulators only. connector-host
    /// passes it when every exchange it trades on is on this machine.
    #[arg(long)]
    pub allow_demo_keys: bool,
}

impl UnlockArgs {
    /// The unlock these arguments describe.
    pub fn unlock(&self) -> Unlock {
        Unlock::new(self.passphrase.source(), self.allow_demo_keys)
    }
}

/// Where the keys come from: one Hyperliquid key file (with an optional
/// policy file), or a keyring of named keys.
#[derive(Debug, Args)]
pub struct KeysArg {
    /// File holding one Hyperliquid private key: a keystore (mode 0600), or
    /// for a local emulator 0x + 64 hex digits on one line. It is the key
    /// named `default`.
    #[arg(long, value_name = "PATH", required_unless_present = "keyring")]
    pub key_file: Option<PathBuf>,
    /// TOML policy for `--key-file`, narrowing what is signed (default: the
    /// trading actions, any asset, notional and network).
    #[arg(long, value_name = "FILE", requires = "key_file")]
    pub policy: Option<PathBuf>,
    /// TOML keyring: named keys of any venue, each with its policy (see
    /// docs/signer-protocol.md).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key_file", "policy"])]
    pub keyring: Option<PathBuf>,
    /// The notional cap of every key whose policy sets no
    /// `max_order_notional` (a positive decimal). connector-host passes the
    /// largest `max_order_notional` of its config to the signer it starts.
    #[arg(long, value_name = "DECIMAL", value_parser = parse_notional)]
    pub default_max_order_notional: Option<Decimal>,
    /// Values at the mark, fetched from URL (a venue's public REST API),
    /// the orders of the key a scheme's requests use — by name after `:`,
    /// or the only key of the scheme's venue — where its policy caps the
    /// notional and names no `[mark_prices]` of its own; repeatable.
    /// connector-host passes each exchange's public REST URL to the signer
    /// it starts.
    #[arg(long, value_name = "SCHEME[:KEY]=URL")]
    pub default_mark_prices: Vec<marks::DefaultMarks>,
    /// How key files are unlocked.
    #[command(flatten)]
    pub unlock: UnlockArgs,
}

fn parse_notional(text: &str) -> Result<Decimal, String> {
    crate::policy::positive_decimal(text)
        .ok_or_else(|| format!("{text:?} is not a positive decimal"))
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve signing requests on a Unix socket (mode 0600) until SIGINT or
    /// SIGTERM.
    Serve {
        /// The keys.
        #[command(flatten)]
        keys: KeysArg,
        /// The socket to create; a stale socket there is replaced.
        #[arg(long, value_name = "PATH")]
        socket: PathBuf,
        /// Stop when the process that started this one ends (for a signer
        /// started by connector-host: a host killed with SIGKILL must not
        /// leave its signer behind).
        #[arg(long)]
        exit_with_parent: bool,
        /// A uid whose connections are served (repeatable); the kernel
        /// reports each peer's uid. Default: this process's own user only.
        /// Allowing another user makes the socket 0660, so that it can be
        /// reached by the signer's group: put that user in the group.
        #[arg(long = "allow-uid", value_name = "UID")]
        allowed_uids: Vec<u32>,
        /// Connections open at once; more are closed as they come.
        #[arg(long, value_name = "N", default_value_t = server::DEFAULT_MAX_CONNECTIONS,
              value_parser = clap::value_parser!(u16).range(1..))]
        max_connections: u16,
        /// Append a JSON line per request answered — the peer's uid and
        /// pid, the request, the response — to this file (created 0600);
        /// a request that cannot be recorded is refused.
        #[arg(long, value_name = "PATH")]
        audit_log: Option<PathBuf>,
    },
    /// Read one request from standard input and write its response to standard
    /// output (exit status 0 when signed, 1 when refused).
    Sign {
        /// The keys.
        #[command(flatten)]
        keys: KeysArg,
    },
    /// List the keys: name, venue, who signs (address or API key) and policy.
    Keys {
        /// The keys.
        #[command(flatten)]
        keys: KeysArg,
    },
    /// Make a new key, write it to an encrypted keystore file (created
    /// 0600) and print its public part: the address (secp256k1) or the
    /// public key PEM to register at the venue (Ed25519).
    New {
        /// The kind of key.
        #[arg(long, value_parser = PossibleValuesParser::new(["secp256k1", "ed25519"])
            .map(|name| secret_kind(&name)))]
        kind: SecretKind,
        /// The keystore file to create (an existing file is never replaced).
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// How it is encrypted.
        #[command(flatten)]
        sealing: SealArgs,
    },
    /// Encrypt a plain key file into a keystore file (created 0600); then
    /// delete the plain file.
    Import {
        /// What the plain file holds.
        #[arg(long, value_parser = PossibleValuesParser::new(["secp256k1", "hmac-sha256", "ed25519"])
            .map(|name| secret_kind(&name)))]
        kind: SecretKind,
        /// The plain key file: 0x + 64 hex digits, the API secret on one
        /// line, or an Ed25519 PKCS#8 PEM; mode 0600.
        #[arg(long, value_name = "PATH")]
        from: PathBuf,
        /// The keystore file to create (an existing file is never replaced).
        #[arg(long, value_name = "PATH")]
        out: PathBuf,
        /// How it is encrypted.
        #[command(flatten)]
        sealing: SealArgs,
    },
    /// Print the key's address (EIP-55).
    Address {
        /// The key.
        #[command(flatten)]
        key: KeyArg,
    },
    /// Sign an approveAgent action with the master key and print the body to
    /// POST to /exchange. Never available over the socket.
    ApproveAgent {
        /// The master key.
        #[command(flatten)]
        key: KeyArg,
        /// The agent (API wallet) address to authorize.
        #[arg(long, value_name = "0xADDRESS")]
        agent: Address,
        /// Agent name (omitted from the body and signed as "" when absent).
        #[arg(long)]
        name: Option<String>,
        /// The Hyperliquid chain.
        #[arg(
            long,
            value_parser = PossibleValuesParser::new(["mainnet", "testnet"])
                .try_map(|name| parse_network(&name).ok_or("unknown network")),
        )]
        network: Network,
        /// Nonce in milliseconds (default: now).
        #[arg(long, value_name = "MS")]
        nonce: Option<u64>,
    },
}

/// How a new keystore is encrypted.
#[derive(Debug, Args)]
pub struct SealArgs {
    /// The passphrase to encrypt with; without one, it is asked for twice
    /// on the terminal.
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// scrypt's cost, N = 2^this (18, geth's standard, takes 256 MiB and
    /// about a second to unlock; lower only for tests).
    #[arg(long, value_name = "LOG2_N", default_value_t = ScryptCost::STANDARD.log_n,
          value_parser = clap::value_parser!(u8).range(10..=20))]
    pub scrypt_log_n: u8,
}

fn secret_kind(name: &str) -> SecretKind {
    match name {
        "hmac-sha256" => SecretKind::HmacSha256,
        "ed25519" => SecretKind::Ed25519,
        _ => SecretKind::Secp256k1,
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The key file.
    #[error(transparent)]
    Key(#[from] KeyFileError),
    /// The policy file.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The keyring.
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The socket.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// Mark prices cannot be set up (two default sources for one key) or
    /// fetched at all.
    #[error("{0}")]
    Marks(String),
    /// The approveAgent action could not be hashed.
    #[error(transparent)]
    Digest(#[from] DigestError),
    /// The approveAgent body could not be encoded.
    #[error("cannot encode the request body: {0}")]
    Json(#[from] serde_json::Error),
    /// The audit log cannot be opened.
    #[error("audit log {path}: {source}")]
    Audit {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The keystore could not be made.
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// The passphrase could not be read.
    #[error(transparent)]
    Passphrase(#[from] PassphraseError),
    /// No passphrase source and no terminal to ask on, or two different
    /// answers.
    #[error("{0}")]
    NoPassphrase(&'static str),
    /// The keystore file could not be written.
    #[error("cannot create {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Neither `--key-file` nor `--keyring` was given.
    #[error("give --key-file or --keyring")]
    NoKeys,
    /// The clock is before 1970 or beyond u64 milliseconds.
    #[error("the system clock cannot give a millisecond nonce; pass --nonce")]
    Clock,
    /// Standard input or output, or the runtime.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// Runs a parsed command line. Every command reads keys, so the process is
/// made non-dumpable first ([`crate::hardening`]).
pub fn run(cli: Cli) -> ExitCode {
    if let Err(error) = protect_process() {
        eprintln!("{FATAL_LINE_PREFIX}cannot protect this process's memory: {error}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Serve {
            keys,
            socket,
            exit_with_parent,
            allowed_uids,
            max_connections,
            audit_log,
        } => {
            let mut access = Access::own_user();
            if !allowed_uids.is_empty() {
                access.allowed_uids = allowed_uids;
            }
            access.max_connections = usize::from(max_connections);
            serve(
                &keys,
                &socket,
                &access,
                audit_log.as_deref(),
                exit_with_parent,
            )
        }
        Command::Sign { keys } => sign_stdin(&keys),
        Command::Keys { keys } => list_keys(&keys),
        Command::New { kind, out, sealing } => new_key(kind, &out, &sealing),
        Command::Import {
            kind,
            from,
            out,
            sealing,
        } => import_key(kind, &from, &out, &sealing),
        Command::Address { key } => print_address(&key),
        Command::ApproveAgent {
            key,
            agent,
            name,
            network,
            nonce,
        } => approve_agent(&key, agent, name, network, nonce),
    };
    result.unwrap_or_else(|error| {
        eprintln!("{FATAL_LINE_PREFIX}{error}");
        match error {
            CliError::Serve(ServeError::Taken(ClaimError::InUse { .. })) => {
                ExitCode::from(EXIT_SOCKET_IN_USE)
            }
            _ => ExitCode::FAILURE,
        }
    })
}

/// Logs to standard error: `RUST_LOG` if set, otherwise `default_filter`.
fn init_logging(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Fails only if a subscriber is already installed (tests); keep that one.
    // No colour codes into a pipe (the host relays this) or the journal.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr);
    let _ = if io::stderr().is_terminal() {
        builder.try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
}

fn load_keyring(keys: &KeysArg) -> Result<Keyring, CliError> {
    let unlock = keys.unlock.unlock();
    let mut keyring = if let Some(path) = &keys.keyring {
        Keyring::load(path, &unlock)?
    } else {
        let policy = match &keys.policy {
            Some(path) => Policy::load(path)?,
            None => Policy::default(),
        };
        let Some(key_file) = &keys.key_file else {
            return Err(CliError::NoKeys);
        };
        Keyring::single(load_key(key_file, &unlock)?, policy)
    };
    if let Some(max) = keys.default_max_order_notional {
        keyring.default_max_order_notional(max);
    }
    keyring
        .default_mark_prices(&keys.default_mark_prices)
        .map_err(CliError::Marks)?;
    Ok(keyring)
}

fn serve(
    keys: &KeysArg,
    socket: &Path,
    access: &Access,
    audit_log: Option<&Path>,
    exit_with_parent: bool,
) -> Result<ExitCode, CliError> {
    init_logging("info");
    let signer = Arc::new(Signer::new(load_keyring(keys)?));
    let audit = audit_log
        .map(|path| {
            AuditLog::open(path).map_err(|source| CliError::Audit {
                path: path.to_owned(),
                source,
            })
        })
        .transpose()?;
    // Not fatal: a low `RLIMIT_MEMLOCK` should not stop trading, but it
    // must be seen.
    if let Err(error) = signer.keyring().lock_in_memory() {
        tracing::warn!(
            %error,
            "cannot lock the keys in memory; they may be written to swap (raise RLIMIT_MEMLOCK, \
             `LimitMEMLOCK=` under systemd)"
        );
    }
    runtime(tokio::runtime::Builder::new_multi_thread())?.block_on(async {
        marks::start(signer.keyring(), true)
            .await
            .map_err(CliError::Marks)?;
        server::run(socket, signer, access, audit, exit_with_parent)
            .await
            .map_err(CliError::from)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The runtime `builder` makes, with I/O and timers.
fn runtime(mut builder: tokio::runtime::Builder) -> Result<tokio::runtime::Runtime, CliError> {
    builder.enable_all().build().map_err(|source| CliError::Io {
        context: "cannot start the runtime",
        source,
    })
}

fn sign_stdin(keys: &KeysArg) -> Result<ExitCode, CliError> {
    init_logging("warn");
    let signer = Signer::new(load_keyring(keys)?);
    runtime(tokio::runtime::Builder::new_current_thread())?
        .block_on(marks::start(signer.keyring(), false))
        .map_err(CliError::Marks)?;
    let mut input = Vec::new();
    io::stdin()
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|source| CliError::Io {
            context: "cannot read standard input",
            source,
        })?;
    let response = if input.len() > MAX_LINE_BYTES {
        Response::failure(
            None,
            ErrorCode::BadRequest,
            format!("request longer than {MAX_LINE_BYTES} bytes"),
        )
    } else {
        signer.handle_line(input.trim_ascii())
    };
    io::stdout()
        .write_all(&response.to_json_line())
        .map_err(|source| CliError::Io {
            context: "cannot write standard output",
            source,
        })?;
    Ok(if response.result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn list_keys(keys: &KeysArg) -> Result<ExitCode, CliError> {
    for key in load_keyring(keys)?.keys() {
        println!(
            "{}\t{}\t{}\t{}",
            key.name,
            key.venue,
            key.identity(),
            key.policy.summary()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_address(key: &KeyArg) -> Result<ExitCode, CliError> {
    println!(
        "{}",
        load_key(&key.key_file, &key.unlock.unlock())?
            .address()
            .to_checksum()
    );
    Ok(ExitCode::SUCCESS)
}

fn approve_agent(
    key: &KeyArg,
    agent: Address,
    name: Option<String>,
    network: Network,
    nonce: Option<u64>,
) -> Result<ExitCode, CliError> {
    let master = load_key(&key.key_file, &key.unlock.unlock())?;
    let nonce = match nonce {
        Some(nonce) => nonce,
        None => now_ms()?,
    };
    let action = Action::ApproveAgent(ApproveAgent::new(network, agent, name, nonce));
    let context = SigningContext::new(network, nonce);
    let signature = sign_digest(&master, &signing_digest(&action, &context)?);
    let body = ExchangeRequest::new(action, &context, signature).to_json()?;
    println!("{body}");
    eprintln!(
        "approveAgent for {} signed by {}; POST this body to /exchange",
        agent.to_checksum(),
        master.address().to_checksum()
    );
    Ok(ExitCode::SUCCESS)
}

fn new_key(kind: SecretKind, out: &Path, sealing: &SealArgs) -> Result<ExitCode, CliError> {
    let secret = loop {
        let seed = random_secret()?;
        // Almost every 32 bytes are a secp256k1 key; retry the others.
        if kind != SecretKind::Secp256k1 || secp256k1_key(out, seed.as_slice()).is_ok() {
            break Zeroizing::new(seed.to_vec());
        }
    };
    seal_to_file(kind, &secret, out, sealing)
}

fn import_key(
    kind: SecretKind,
    from: &Path,
    out: &Path,
    sealing: &SealArgs,
) -> Result<ExitCode, CliError> {
    let secret = read_plain(from, kind)?;
    let done = seal_to_file(kind, &secret, out, sealing)?;
    eprintln!(
        "{} encrypted into {}; delete the plain file (`shred -u {}`)",
        from.display(),
        out.display(),
        from.display()
    );
    Ok(done)
}

/// Encrypts `secret` into a new file `out` and prints its public part.
fn seal_to_file(
    kind: SecretKind,
    secret: &[u8],
    out: &Path,
    sealing: &SealArgs,
) -> Result<ExitCode, CliError> {
    let (address, public) = match kind {
        SecretKind::Secp256k1 => {
            let address = secp256k1_key(out, secret)?.address();
            (Some(hex::encode(address.as_bytes())), address.to_checksum())
        }
        SecretKind::Ed25519 => (None, ed25519_public_pem(&ed25519_key(out, secret)?)?),
        SecretKind::HmacSha256 => (None, "(an HMAC secret has no public part)".to_owned()),
    };
    let passphrase = new_passphrase(&sealing.passphrase)?;
    let cost = ScryptCost {
        log_n: sealing.scrypt_log_n,
    };
    let text = keystore::seal(secret, kind, &passphrase, cost, address)?;
    write_new_private(out, text.as_bytes()).map_err(|source| CliError::Write {
        path: out.to_owned(),
        source,
    })?;
    println!("{public}");
    Ok(ExitCode::SUCCESS)
}

fn ed25519_public_pem(key: &ed25519_dalek::SigningKey) -> Result<String, CliError> {
    use ed25519_dalek::pkcs8::EncodePublicKey;
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    key.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map(|pem| pem.trim_end().to_owned())
        .map_err(|error| CliError::Io {
            context: "cannot encode the public key",
            source: io::Error::other(error.to_string()),
        })
}

/// The passphrase for a new keystore: from the source given, else asked
/// twice on the terminal.
fn new_passphrase(args: &PassphraseArgs) -> Result<Zeroizing<Vec<u8>>, CliError> {
    match args.source() {
        Some(PassphraseSource::Terminal) => {
            let first = passphrase::ask("Passphrase for the new keystore: ")?;
            if passphrase::ask("Again: ")? != first {
                return Err(CliError::NoPassphrase("the two passphrases differ"));
            }
            Ok(first)
        }
        Some(source) => Ok(source.read()?),
        None => Err(CliError::NoPassphrase(
            "no terminal to ask the passphrase on: give --passphrase-fd, --passphrase-file or \
             --passphrase-credential",
        )),
    }
}

/// Creates `path` with mode 0600 whatever the umask, refusing to replace a
/// file, and writes `bytes` to disk.
fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn now_ms() -> Result<u64, CliError> {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| CliError::Clock)?;
    u64::try_from(elapsed.as_millis()).map_err(|_| CliError::Clock)
}
