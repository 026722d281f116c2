//! The client's address as the audit trail records it: the peer's, or,
//! when the peer is a trusted reverse proxy, the one `X-Forwarded-For`
//! names.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;

/// The client of a request from `peer` with `headers`: walking
/// `X-Forwarded-For` from the right (the hop nearest to us), the first
/// address that is not one of `trusted`; the peer itself when it is not
/// trusted or names no one.
pub(crate) fn client_of(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> String {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer.ip()) {
        return peer.to_string();
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .collect();
    match hops
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(hops.first())
    {
        Some(client) => client.to_string(),
        None => peer.to_string(),
    }
}

/// `trusted_proxies` as written: addresses or networks.
///
/// # Errors
/// The entry that is neither, with its index.
pub(crate) fn parse_trusted(entries: &[String]) -> Result<Vec<IpNet>, (usize, String)> {
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let entry = entry.trim();
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    (
                        i,
                        format!("{entry:?} is neither an address nor a network (10.0.0.0/8)"),
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        parse_trusted(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let peer: SocketAddr = "203.0.113.9:4000".parse().unwrap();
        let client = client_of(peer, &headers(&["198.51.100.1"]), &nets(&["10.0.0.0/8"]));
        assert_eq!(client, "203.0.113.9:4000");
    }

    #[test]
    fn through_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let peer: SocketAddr = "10.0.0.5:4000".parse().unwrap();
        let trusted = nets(&["10.0.0.0/8", "192.0.2.7"]);
        // A client may put anything on the left; only hops we trust vouch.
        let h = headers(&["1.2.3.4, 198.51.100.1", "192.0.2.7"]);
        assert_eq!(client_of(peer, &h, &trusted), "198.51.100.1");
        assert_eq!(client_of(peer, &headers(&[]), &trusted), "10.0.0.5:4000");
        assert_eq!(
            client_of(peer, &headers(&["10.1.1.1"]), &trusted),
            "10.1.1.1",
            "all trusted: the farthest hop"
        );
    }

    #[test]
    fn entries_are_addresses_or_networks() {
        assert_eq!(nets(&["::1", "fd00::/8"]).len(), 2);
        let err = parse_trusted(&["10.0.0.1".into(), "proxy.example".into()]).unwrap_err();
        assert_eq!(err.0, 1);
    }
}
