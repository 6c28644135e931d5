//! The URLs in an exchange's settings, judged without knowing the plugin's
//! keys: any string value that is an `http`, `https`, `ws` or `wss` URL.
//! Credentials in a URL are refused (they end up in logs and in front of
//! whoever the URL names; keys belong in the signer's keyring), and so is
//! plain `http://` or `ws://` to a host beyond loopback — API keys and
//! signed requests would cross the network readable and alterable — unless
//! the exchange says `insecure_transport = true` (an emulator on a private
//! network).

use std::net::IpAddr;

/// Why the URL `text` must not be used; `None` for a URL that may be (or a
/// string that is no such URL). `insecure` allows plain text beyond
/// loopback.
pub fn refusal(text: &str, insecure: bool) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "ws" | "wss") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((credentials, host_port)) => (Some(credentials), host_port),
        None => (None, authority),
    };
    if credentials.is_some() {
        return Some(format!(
            "`{scheme}://…@{host_port}` carries credentials in the URL: they would be logged \
             and sent to whoever the URL names; put the key in the signer's keyring"
        ));
    }
    let plain = matches!(scheme.as_str(), "http" | "ws");
    if !plain || insecure || is_loopback(host_port) {
        return None;
    }
    let secure = if scheme == "http" { "https" } else { "wss" };
    Some(format!(
        "`{text}` is plain {scheme}:// to a host beyond loopback: API keys and signed \
         requests would cross the network readable and alterable; use {secure}://, or set \
         `insecure_transport = true` on the exchange for an emulator on a private network"
    ))
}

/// Whether a URL's `host[:port]` names this machine.
fn is_loopback(host_port: &str) -> bool {
    let host = match host_port.strip_prefix('[') {
        // `[::1]:8080`
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_beyond_loopback_and_credentials_are_refused() {
        for allowed in [
            "https://api.example.com",
            "wss://stream.example.com/ws",
            "http://127.0.0.1:8080",
            "ws://localhost:9000/v5/public/linear",
            "http://[::1]:8080/info",
            "not a url",
            "0x278dbc9D13eFF5342acB01ba06a95F3d08e4D1FE",
            "ftp://example.com",
        ] {
            assert_eq!(refusal(allowed, false), None, "{allowed}");
        }
        let plain = refusal("http://10.0.0.5:8080", false).unwrap();
        assert!(plain.contains("use https://"), "{plain}");
        assert!(
            refusal("ws://emulator:9000", false)
                .unwrap()
                .contains("use wss://")
        );
        assert_eq!(
            refusal("http://emulator:8080", true),
            None,
            "the exchange allows it"
        );
        for with_credentials in [
            "https://user:secret@api.example.com/v1",
            "wss://key@stream.example.com",
            "http://user:pw@127.0.0.1:80",
        ] {
            let refused = refusal(with_credentials, true).unwrap();
            assert!(
                refused.contains("credentials") && !refused.contains("secret"),
                "{refused}"
            );
        }
    }
}
