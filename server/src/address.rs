//! Who a client is, for every per-address budget: the real address of the peer,
//! taken from `X-Forwarded-For` only when the connection comes from a trusted
//! proxy, and reduced to the unit one party controls (an IPv4 address,
//! or an IPv6 /64, which one home or phone usually gets whole).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

/// The key every per-address limit counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// The key of an address: IPv4 whole, IPv6 cut to its /64 (an IPv4-mapped
    /// IPv6 address counts as the IPv4 address).
    pub fn of(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(v4) => Self(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Self(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// The proxies whose word on the client's address is taken.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// No proxy is trusted: the peer's own address is the client's.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether `address` is one of the trusted proxies.
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's real address: the peer's, unless the peer is a trusted proxy,
    /// in which case `X-Forwarded-For` is read from the nearest hop back,
    /// skipping trusted proxies, and the first address not trusted is the
    /// client's. Only what trusted proxies wrote is read: the entries further
    /// left, which the client may have written itself, are never reached, and an
    /// unreadable entry where the reading stops leaves the last trusted hop as
    /// the client. Headers from anybody else are ignored, so a client cannot
    /// claim another address. (`Forwarded` is not read: proxies such as nginx
    /// pass a client's own `Forwarded` header through untouched.)
    ///
    /// `forwarded_for` holds the values of the request's `X-Forwarded-For`
    /// headers in order, `None` for one that is not text.
    pub fn client_address(&self, peer: IpAddr, forwarded_for: &[Option<&str>]) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in entries(forwarded_for).into_iter().rev() {
            let Some(hop) = hop else { break };
            client = canonical(hop);
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of networks (`10.0.0.0/8`) or single addresses.
    fn from_str(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{item}` is neither a network (10.0.0.0/8) nor an address"))?;
            nets.push(net);
        }
        Ok(Self(nets))
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// The entries of every `X-Forwarded-For` header, first hop first, each an
/// address or `None` when unreadable.
fn entries(values: &[Option<&str>]) -> Vec<Option<IpAddr>> {
    values
        .iter()
        .flat_map(|value| match value {
            Some(value) => value.split(',').map(|item| parse_node(item.trim())).collect(),
            None => vec![None],
        })
        .collect()
}

/// One entry: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse() {
        return Some(address);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.rsplit_once(':').and_then(|(host, _port)| host.parse::<std::net::Ipv4Addr>().ok()).map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// The `X-Forwarded-For` values among these headers.
    fn headers<'a>(pairs: &[(&'static str, &'a str)]) -> Vec<Option<&'a str>> {
        pairs.iter().filter(|(name, _)| *name == "x-forwarded-for").map(|(_, value)| Some(*value)).collect()
    }

    #[test]
    fn ipv6_addresses_of_one_64_share_a_key_and_ipv4_stays_whole() {
        assert_eq!(ClientKey::of(ip("2001:db8:1:2:aaaa::1")), ClientKey::of(ip("2001:db8:1:2:ffff::9")));
        assert_ne!(ClientKey::of(ip("2001:db8:1:2::1")), ClientKey::of(ip("2001:db8:1:3::1")));
        assert_ne!(ClientKey::of(ip("192.0.2.1")), ClientKey::of(ip("192.0.2.2")));
        assert_eq!(ClientKey::of(ip("::ffff:192.0.2.1")), ClientKey::of(ip("192.0.2.1")));
        assert_eq!(ClientKey::of(ip("2001:db8:1:2::1")).to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_proxy() {
        let trusted: TrustedProxies = "10.0.0.0/8, 127.0.0.1".parse().unwrap();
        let forwarded = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(trusted.client_address(ip("10.1.2.3"), &forwarded), ip("198.51.100.7"));
        assert_eq!(trusted.client_address(ip("203.0.113.9"), &forwarded), ip("203.0.113.9"));
        assert_eq!(TrustedProxies::none().client_address(ip("10.1.2.3"), &forwarded), ip("10.1.2.3"));
    }

    #[test]
    fn the_client_is_the_nearest_untrusted_hop() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        // A client that writes its own header gets its forged entry put first;
        // the proxy appends the address it saw, which is the one believed.
        let forged = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.5")]);
        assert_eq!(trusted.client_address(ip("10.0.0.1"), &forged), ip("198.51.100.7"));
        let split = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "[2001:db8::7]:4711")]);
        assert_eq!(trusted.client_address(ip("10.0.0.1"), &split), ip("2001:db8::7"));
        let with_port = headers(&[("x-forwarded-for", "198.51.100.7:5555")]);
        assert_eq!(trusted.client_address(ip("10.0.0.1"), &with_port), ip("198.51.100.7"));
    }

    #[test]
    fn what_the_client_wrote_itself_is_never_read() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        // Garbage or a chosen address left of what the proxy appended changes
        // nothing, and neither does a `Forwarded` header, which nginx passes on.
        for forged in ["garbage, 198.51.100.7", "unknown, 198.51.100.7", "203.0.113.1, 198.51.100.7"] {
            let map = headers(&[("x-forwarded-for", forged), ("forwarded", "for=203.0.113.99")]);
            assert_eq!(trusted.client_address(ip("10.0.0.1"), &map), ip("198.51.100.7"), "{forged}");
        }
    }

    #[test]
    fn an_unreadable_nearest_entry_leaves_the_proxy_as_the_client() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        for bad in ["unknown", "not an address", "", "198.51.100.7, garbage"] {
            let map = headers(&[("x-forwarded-for", bad)]);
            assert_eq!(trusted.client_address(ip("10.0.0.1"), &map), ip("10.0.0.1"), "{bad}");
        }
        // Read back past a trusted hop to an unreadable one: the trusted hop.
        let map = headers(&[("x-forwarded-for", "garbage, 10.0.0.7")]);
        assert_eq!(trusted.client_address(ip("10.0.0.1"), &map), ip("10.0.0.7"));
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("".parse::<TrustedProxies>().unwrap().0.is_empty());
    }
}
