//! `connector-host keygen`: a CURVE key pair for the host or a client.

use std::path::Path;
use std::process::ExitCode;

use crate::auth::KeyPair;

/// Writes `out.key` and `out.pub` and prints the public key and where it
/// goes in the configuration.
pub fn keygen(out: &Path) -> ExitCode {
    if zmq::has("curve") != Some(true) {
        eprintln!(
            "this libzmq has no CURVE (built without libsodium); build connector-host against \
             one that has it (see .cargo/config.toml)"
        );
        return ExitCode::from(2);
    }
    let written = KeyPair::generate()
        .map_err(|error| format!("cannot make a key pair: {error}"))
        .and_then(|pair| {
            pair.write(out)
                .map(|paths| (pair.public, paths))
                .map_err(|error| error.to_string())
        });
    match written {
        Ok((public, (secret_path, public_path))) => {
            println!("public key {}", public.z85());
            println!("secret key file {} (mode 0600)", secret_path.display());
            println!("public key file {}", public_path.display());
            println!(
                "for the host: [zmq.curve] secret_key_file = {:?}; for a client: \
                 [[zmq.curve.clients]] name = …, role = \"read\"|\"trade\"|\"admin\", \
                 public_key_file = {:?}",
                secret_path.display().to_string(),
                public_path.display().to_string()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(1)
        }
    }
}
