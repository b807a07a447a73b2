//! Server URLs: normalized before they are used as keys anywhere.

use anyhow::Result;
use url::Url;

use crate::error::CliError;

/// The default server when nothing else names one.
pub const DEFAULT_SERVER: &str = "http://localhost:3000";

/// Normalize a server URL: lowercase scheme and host, default port dropped,
/// no trailing slash, no query or fragment. Only http and https are accepted.
pub fn normalize(raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("http://{trimmed}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| {
        CliError::usage(format!("invalid server URL '{raw}': {e}"))
            .with_hint("use a URL such as http://localhost:3000 or https://openctl.example.com")
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(CliError::usage(format!(
            "invalid server URL '{raw}': the scheme must be http or https"
        ))
        .into());
    }
    let host = url
        .host_str()
        .ok_or_else(|| CliError::usage(format!("invalid server URL '{raw}': it has no host")))?;
    let mut out = format!("{}://{}", url.scheme(), host.to_ascii_lowercase());
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    let path = url.path().trim_end_matches('/');
    out.push_str(path);
    Ok(out)
}

/// True when the URL is plain http to a host that is not loopback.
pub fn is_insecure_remote(normalized: &str) -> bool {
    let Ok(url) = Url::parse(normalized) else {
        return false;
    };
    if url.scheme() != "http" {
        return false;
    }
    match url.host() {
        Some(url::Host::Domain(d)) => d != "localhost" && !d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => !ip.is_loopback(),
        None => false,
    }
}

/// Join a possibly relative `url` from a server response onto the server URL.
pub fn absolute(server: &str, url: &str) -> String {
    match Url::parse(url) {
        Ok(abs) => abs.to_string(),
        Err(_) => match Url::parse(&format!("{server}/")).and_then(|base| base.join(url)) {
            Ok(joined) => joined.to_string(),
            Err(_) => format!("{server}{url}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(
            normalize("HTTP://LocalHost:3000/").unwrap(),
            "http://localhost:3000"
        );
        assert_eq!(
            normalize("https://Example.com:443").unwrap(),
            "https://example.com"
        );
        assert_eq!(
            normalize("http://example.com:80/base/").unwrap(),
            "http://example.com/base"
        );
        assert_eq!(
            normalize("localhost:3000").unwrap(),
            "http://localhost:3000"
        );
        assert!(normalize("ftp://x").is_err());
        assert!(normalize("http://").is_err());
    }

    #[test]
    fn insecure_remote() {
        assert!(!is_insecure_remote("http://localhost:3000"));
        assert!(!is_insecure_remote("http://127.0.0.1:3000"));
        assert!(!is_insecure_remote("https://example.com"));
        assert!(is_insecure_remote("http://example.com"));
    }

    #[test]
    fn joins_relative() {
        assert_eq!(
            absolute("http://h:1", "/sessions/a"),
            "http://h:1/sessions/a"
        );
        assert_eq!(
            absolute("http://h:1", "http://x/sessions/a"),
            "http://x/sessions/a"
        );
    }
}
