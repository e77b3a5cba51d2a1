//! Who the client is: the peer address, or, when the peer is a trusted proxy, the right-most
//! untrusted address of `X-Forwarded-For`.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::config::ConfigIssue;

/// The set of proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Parses CIDRs or single addresses, reporting problems under `trusted_proxies[i]`.
    pub fn compile(entries: &[String], issues: &mut Vec<ConfigIssue>) -> Self {
        let mut nets = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let parsed = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from));
            match parsed {
                Ok(net) => nets.push(net),
                Err(_) => issues.push(ConfigIssue::new(
                    format!("trusted_proxies[{i}]"),
                    format!("{entry:?} is not an IP address or CIDR"),
                )),
            }
        }
        Self { nets }
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client address for a request from `peer` carrying `x_forwarded_for` (all
    /// `X-Forwarded-For` values joined by commas).
    pub fn client_ip(&self, peer: IpAddr, x_forwarded_for: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let Some(xff) = x_forwarded_for else {
            return peer;
        };
        let mut last_trusted = peer;
        for hop in xff.rsplit(',') {
            match parse_hop(hop) {
                Some(ip) if self.contains(ip) => last_trusted = ip,
                Some(ip) => return ip,
                // A malformed entry ends the chain we can believe.
                None => return last_trusted,
            }
        }
        last_trusted
    }
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// IPv4-mapped IPv6 addresses compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(entries: &[&str]) -> TrustedProxies {
        let mut issues = Vec::new();
        let t = TrustedProxies::compile(
            &entries.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &mut issues,
        );
        assert!(issues.is_empty());
        t
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_is_the_client() {
        let t = trusted(&["10.0.0.0/8"]);
        assert_eq!(
            t.client_ip(ip("203.0.113.7"), Some("1.2.3.4")),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn trusted_chain_is_walked_from_the_right() {
        let t = trusted(&["10.0.0.0/8", "192.0.2.1"]);
        assert_eq!(
            t.client_ip(ip("10.1.1.1"), Some("6.6.6.6, 198.51.100.9, 192.0.2.1")),
            ip("198.51.100.9")
        );
        assert_eq!(t.client_ip(ip("10.1.1.1"), None), ip("10.1.1.1"));
        assert_eq!(t.client_ip(ip("10.1.1.1"), Some("garbage")), ip("10.1.1.1"));
        assert_eq!(
            t.client_ip(ip("::ffff:10.1.1.1"), Some("198.51.100.9")),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn bad_entries_are_reported() {
        let mut issues = Vec::new();
        TrustedProxies::compile(&["10.0.0.0/33".into()], &mut issues);
        assert_eq!(issues[0].key, "trusted_proxies[0]");
    }
}
