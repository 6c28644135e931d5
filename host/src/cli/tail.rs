//! `connector-host tail`: events as they arrive, one line each.

use std::process::ExitCode;

use crate::auth::ClientKeys;

/// Subscribes to `endpoint` (with CURVE `keys` when given) and prints each
/// event whose topic starts with `topic`, `count` of them or until stopped.
pub fn tail(
    topic: &str,
    endpoint: &str,
    keys: Option<&ClientKeys>,
    count: Option<u64>,
) -> ExitCode {
    let context = zmq::Context::new();
    let subscribed = context.socket(zmq::SUB).and_then(|socket| {
        if let Some(keys) = keys {
            keys.secure(&socket)?;
        }
        socket.connect(endpoint)?;
        socket.set_subscribe(topic.as_bytes())?;
        Ok(socket)
    });
    let socket = match subscribed {
        Ok(socket) => socket,
        Err(error) => {
            eprintln!("cannot subscribe to {endpoint}: {error}");
            return ExitCode::from(2);
        }
    };
    let mut seen = 0u64;
    while count.is_none_or(|count| seen < count) {
        match socket.recv_multipart(0) {
            Ok(parts) => {
                let topic = String::from_utf8_lossy(parts.first().map_or(&[][..], |p| p));
                let body = String::from_utf8_lossy(parts.get(1).map_or(&[][..], |p| p));
                println!("{topic}  {body}");
                seen += 1;
            }
            Err(error) => {
                eprintln!("receive failed: {error}");
                return ExitCode::from(1);
            }
        }
    }
    ExitCode::SUCCESS
}
