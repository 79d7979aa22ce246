//! The client's address, for rate limits and logs: the peer's own, or — when the peer is a
//! trusted proxy — the right-most hop of `Forwarded` / `X-Forwarded-For` that is not itself a
//! trusted proxy. From an untrusted peer those headers are ignored, so nobody can choose the
//! address they are counted under.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use super::AppState;
use super::connections::Peer;

/// The proxies whose forwarding headers are believed (`--trusted-proxies`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(networks)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer`, given the request's headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_hops(headers).into_iter().rev() {
            let Some(ip) = hop else {
                // A hop we cannot read (`unknown`, an obfuscated name): the nearest readable
                // one is the best we know.
                return client;
            };
            client = ip;
            if !self.trusts(ip) {
                return ip;
            }
        }
        client
    }
}

/// The hops a request passed, nearest last: `Forwarded`'s `for=` values if that header is
/// present, else `X-Forwarded-For`'s. `None` for a hop that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| parse_node(value.trim().trim_matches('"')))
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .map(|v| parse_node(v))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`.
fn parse_node(value: &str) -> Option<IpAddr> {
    if let Ok(ip) = value.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    value
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}

/// Parses one `--trusted-proxies` entry: a CIDR block or a single address.
pub fn parse_network(value: &str) -> Result<IpNet, String> {
    let value = value.trim();
    value
        .parse::<IpNet>()
        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{value:?} is not an address or a CIDR block like 10.0.0.0/8"))
}

/// The resolved client address of a request.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// Resolves the client address once per request, before the request is logged.
pub async fn resolve(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<Peer>>() {
        let client = state
            .trusted_proxies
            .client(peer.addr.ip(), request.headers());
        request.extensions_mut().insert(ClientAddr(client));
    }
    next.run(request).await
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    /// Every request through the server has one; a request handed to the router by other
    /// means (none in the product) counts as coming from nowhere.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .copied()
            .unwrap_or(ClientAddr(IpAddr::from([0, 0, 0, 0]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|s| parse_network(s).unwrap()).collect())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(trusted.client(ip("198.51.100.1"), &h), ip("198.51.100.1"));
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &h),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn a_trusted_peer_forwards_the_right_most_untrusted_hop() {
        let trusted = proxies(&["10.0.0.0/8", "127.0.0.1"]);
        // A client may prepend anything; only what trusted proxies appended counts.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.1.1.1")]);
        assert_eq!(trusted.client(ip("127.0.0.1"), &h), ip("203.0.113.9"));
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &h), ip("203.0.113.9"));
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn forwarded_is_read_with_ports_quotes_and_brackets() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let h = headers(&[(
            "forwarded",
            r#"for=1.2.3.4, for="[2001:db8::17]:4711";proto=https, for=10.0.0.3:80"#,
        )]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("2001:db8::17"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(trusted.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn networks_parse_as_blocks_or_addresses() {
        assert!(parse_network("10.0.0.0/8").is_ok());
        assert!(parse_network("::1").is_ok());
        assert!(parse_network("nope").is_err());
    }
}
