//! Where the checker may send its requests, some of them hostile and all of them carrying the
//! manifest's password: this machine only, unless `--allow-remote` says otherwise. The URL is
//! read by a real URL parser, not split by hand, and the host is resolved, so neither
//! `http://localhost:x@remote.example` nor `http://127.0.0.1.nip.io` gets through.

use std::net::{IpAddr, SocketAddr};

use url::{Host, Url};

/// Parses a target URL: `http` or `https`, a host, and no user name or password (the part before
/// `@` would hide the real host, and the checker sends its own credentials).
pub fn parse_target(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|e| format!("`{text}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{text}` must start with http:// or https://"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{text}` carries a user name or password before `@`; give the add-on's address alone, \
             such as http://127.0.0.1:5000 (the checker sends the manifest's credentials itself)"
        ));
    }
    if url.host().is_none() {
        return Err(format!("`{text}` has no host"));
    }
    Ok(url)
}

/// The addresses the URL's host stands for, each of them loopback; refused otherwise, and when
/// the name does not resolve. These are the addresses to connect to, so a second lookup cannot
/// answer differently.
pub async fn loopback_addresses(url: &Url) -> Result<Vec<SocketAddr>, String> {
    let port = url.port_or_known_default().unwrap_or(80);
    let addresses: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => tokio::net::lookup_host((name, port))
            .await
            .map_err(|e| format!("{url} is not on this machine: `{name}` does not resolve ({e})"))?
            .collect(),
        None => return Err(format!("{url} has no host")),
    };
    if addresses.is_empty() {
        return Err(format!("{url} is not on this machine: its host resolves to no address"));
    }
    match addresses.iter().find(|a| !a.ip().is_loopback()) {
        Some(remote) => Err(format!("{url} is not on this machine: its host resolves to {}", remote.ip())),
        None => Ok(addresses),
    }
}

/// Whether a request's `Host` header names this machine: `127.0.0.1`, `localhost` or `[::1]`,
/// with the listening port if it gives one. Any other name reaching a loopback server is a page
/// on another site that rebound its name here (DNS rebinding).
pub fn is_loopback_host_header(value: &str, port: u16) -> bool {
    let (host, given_port) = match value.rsplit_once(':') {
        Some((host, p)) if !host.is_empty() && !p.contains(']') => (host, Some(p)),
        _ => (value, None),
    };
    let loopback = matches!(host.to_ascii_lowercase().as_str(), "localhost" | "[::1]")
        || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback());
    loopback && given_port.is_none_or(|p| p.parse() == Ok(port))
}

/// Where a sign-in's `Location` leads, resolved against the URL the form was posted to; refused
/// when it leaves that origin, so the session cookie is never sent to another host.
pub fn same_origin_location(posted_to: &str, location: &str) -> Result<Url, String> {
    let base = Url::parse(posted_to).map_err(|e| format!("`{posted_to}` is not a URL: {e}"))?;
    let target = base.join(location).map_err(|e| format!("`{location}` is not a URL: {e}"))?;
    if target.origin() == base.origin() {
        Ok(target)
    } else {
        Err(format!(
            "the sign-in redirects to {target}, another origin than {}; the session cookie was not sent there",
            base.origin().ascii_serialization()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_refused() {
        for text in
            ["http://localhost:x@203.0.113.9:5401", "http://user@127.0.0.1:5000", "http://:p@localhost/"]
        {
            let error = parse_target(text).unwrap_err();
            assert!(error.contains("user name or password"), "{text}: {error}");
        }
        assert!(parse_target("ftp://127.0.0.1/").unwrap_err().contains("http://"));
        assert!(parse_target("127.0.0.1:5000").is_err());
        assert_eq!(parse_target("http://[::1]:5000").unwrap().port(), Some(5000));
    }

    #[tokio::test]
    async fn loopback_addresses_and_names_pass() {
        for text in
            ["http://127.0.0.1:5000", "http://[::1]:5000/x", "http://localhost:5000", "http://127.8.9.10"]
        {
            let url = parse_target(text).unwrap();
            let addresses = loopback_addresses(&url).await.unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(addresses.iter().all(|a| a.ip().is_loopback()), "{text}: {addresses:?}");
        }
    }

    #[tokio::test]
    async fn remote_addresses_and_names_are_refused() {
        for text in ["http://203.0.113.9:5401", "http://[2001:db8::1]:5401", "http://0.0.0.0:5000"] {
            let error = loopback_addresses(&parse_target(text).unwrap()).await.unwrap_err();
            assert!(error.contains("not on this machine"), "{text}: {error}");
        }
        // Looks like loopback to a hand-written check, resolves elsewhere or nowhere: refused,
        // and a failed lookup says so.
        let error = loopback_addresses(&parse_target("http://127.0.0.1.example.invalid:5401").unwrap())
            .await
            .unwrap_err();
        assert!(error.contains("not on this machine") && error.contains("does not resolve"), "{error}");
    }

    #[test]
    fn host_headers_of_loopback_only() {
        for host in ["127.0.0.1:4000", "localhost:4000", "[::1]:4000", "LOCALHOST", "127.0.0.1", "[::1]"] {
            assert!(is_loopback_host_header(host, 4000), "{host}");
        }
        for host in
            ["rebind.example:4000", "127.0.0.1.nip.io:4000", "127.0.0.1:4001", "", ":4000", "[::2]:4000"]
        {
            assert!(!is_loopback_host_header(host, 4000), "{host}");
        }
    }

    #[test]
    fn the_cookie_follows_only_same_origin_redirects() {
        let posted = "http://127.0.0.1:5000/sso/login";
        assert_eq!(
            same_origin_location(posted, "/dashboard").unwrap().as_str(),
            "http://127.0.0.1:5000/dashboard"
        );
        assert!(same_origin_location(posted, "http://127.0.0.1:5000/d").is_ok());
        for location in [
            "http://evil.example/steal",
            "//evil.example/",
            "http://127.0.0.1:5001/",
            "https://127.0.0.1:5000/",
        ] {
            let error = same_origin_location(posted, location).unwrap_err();
            assert!(error.contains("another origin"), "{location}: {error}");
        }
    }
}
