//! The caller's address as the request log records it: the socket's peer, or, when the
//! peer is a proxy the operator trusts (`GATEHOUSE_TRUSTED_PROXIES`), the nearest
//! address in `X-Forwarded-For` that is not one of those proxies. A client cannot
//! choose its recorded address by sending the header itself: without a trusted peer
//! the header is not read.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use gatehouse_app::ssr::ClientAddress;
use gatehouse_domain::webhooks::NetworkPolicy;

use crate::state::AppState;

/// Finds every request's client address once and puts it into the request's
/// extensions as [`ClientAddress`], where the request log and sign-in read it.
pub async fn remember_client_address(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    let client = client_ip(peer, request.headers(), &state.trusted_proxies);
    request.extensions_mut().insert(ClientAddress(client));
    next.run(request).await
}

/// The client's address, from the peer and the forwarding chain.
pub fn client_ip(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &NetworkPolicy,
) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted.allows_network(peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    // From the nearest hop outwards, past every trusted proxy; a hop that is not an
    // address ends the chain (what lies beyond it cannot be trusted).
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        let Ok(hop) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = hop;
        if !trusted.allows_network(hop) {
            break;
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::headers;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let trusted = NetworkPolicy::parse("10.0.0.0/8").unwrap();
        let forwarded = headers(&[("x-forwarded-for", "203.0.113.7, 10.0.0.5")]);
        // Straight from a client: its own address, whatever it claims.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &forwarded, &trusted),
            ip("198.51.100.1")
        );
        // Through the trusted proxies: the first address outside them.
        assert_eq!(
            client_ip(ip("10.0.0.9"), &forwarded, &trusted),
            ip("203.0.113.7")
        );
        // Nobody trusted: the peer.
        let none = NetworkPolicy::parse("").unwrap();
        assert_eq!(client_ip(ip("10.0.0.9"), &forwarded, &none), ip("10.0.0.9"));
        // A trusted proxy without the header, or with garbage in it: the proxy.
        assert_eq!(
            client_ip(ip("10.0.0.9"), &headers(&[]), &trusted),
            ip("10.0.0.9")
        );
        let garbage = headers(&[("x-forwarded-for", "not-an-address")]);
        assert_eq!(
            client_ip(ip("10.0.0.9"), &garbage, &trusted),
            ip("10.0.0.9")
        );
        // No peer known (a test's in-process request): none.
        assert_eq!(client_ip(None, &forwarded, &trusted), None);
    }
}
