//! The URLs in an exchange's settings, judged without knowing the plugin's
//! keys: any string value that is an `http`, `https`, `ws` or `wss` URL.
//! Credentials in a URL are refused (they end up in logs and in front of
//! whoever the URL names; keys belong in the signer's keyring), and so is
//! plain `http://` or `ws://` to a host beyond loopback — API keys and
//! signed requests would cross the network readable and alterable — unless
//! the exchange says `insecure_transport = true` (an emulator on a private
//! network).

use std::net::IpAddr;

use super::KeyPath;

/// An `http`, `https`, `ws` or `wss` URL taken apart.
struct Url<'a> {
    /// Lower case.
    scheme: String,
    credentials: Option<&'a str>,
    host_port: &'a str,
}

fn split_url(text: &str) -> Option<Url<'_>> {
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
    Some(Url {
        scheme,
        credentials,
        host_port,
    })
}

/// Why the URL `text` must not be used; `None` for a URL that may be (or a
/// string that is no such URL). `insecure` allows plain text beyond
/// loopback.
pub fn refusal(text: &str, insecure: bool) -> Option<String> {
    let Url {
        scheme,
        credentials,
        host_port,
    } = split_url(text)?;
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

/// Calls `visit` with every string among `value`'s, at any depth, and its
/// key path.
pub fn for_each_string(
    path: &KeyPath,
    value: &toml::Value,
    visit: &mut impl FnMut(&KeyPath, &str),
) {
    match value {
        toml::Value::String(text) => visit(path, text),
        toml::Value::Table(table) => {
            for (key, value) in table {
                for_each_string(&path.join(key), value, visit);
            }
        }
        toml::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                for_each_string(&path.index(index), item, visit);
            }
        }
        _ => {}
    }
}

/// Whether an exchange's settings keep it on this machine: they name at
/// least one URL, and every URL they name is on loopback. Settings naming
/// none leave the plugin its defaults — the venue itself.
pub fn stays_on_this_machine(settings: &toml::Table) -> bool {
    let (mut local, mut remote) = (0usize, 0usize);
    for_each_string(
        &KeyPath::key("settings"),
        &toml::Value::Table(settings.clone()),
        &mut |_, text| {
            if let Some(url) = split_url(text) {
                if is_loopback(url.host_port) {
                    local += 1;
                } else {
                    remote += 1;
                }
            }
        },
    );
    local > 0 && remote == 0
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

    #[test]
    fn an_exchange_stays_on_this_machine_only_if_every_url_is_loopback() {
        let settings = |text: &str| text.parse::<toml::Table>().unwrap();
        assert!(stays_on_this_machine(&settings(
            "api_url = \"http://127.0.0.1:8097\"\nws_url = \"ws://localhost:8097\"\naccount = \"x\""
        )));
        for beyond in [
            "account = \"x\"",
            "api_url = \"http://127.0.0.1:8097\"\nws_url = \"wss://fstream.example.com\"",
            "nested = { urls = [\"http://[::1]:1\", \"https://10.0.0.1\"] }",
        ] {
            assert!(!stays_on_this_machine(&settings(beyond)), "{beyond}");
        }
    }
}
