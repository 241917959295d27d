//! Which addresses a user-supplied Jira URL may lead to. Loopback, private, link-local, shared
//! (CGNAT), cloud-metadata, reserved and documentation addresses are refused, and so is every
//! IPv6 form that carries such an IPv4 address. The client applies this to every address it
//! connects to (its resolver); the credential checks apply it before the first connection.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::JiraError;

/// Why an address must not be contacted, if it must not.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(v4: Ipv4Addr) -> Option<&'static str> {
    let o = v4.octets();
    if v4 == Ipv4Addr::new(169, 254, 169, 254) || v4 == Ipv4Addr::new(169, 254, 170, 2) {
        Some("the cloud instance-metadata address")
    } else if v4.is_loopback() {
        Some("a loopback address")
    } else if v4.is_private() {
        Some("a private address")
    } else if v4.is_link_local() {
        Some("a link-local address")
    } else if o[0] == 100 && (64..128).contains(&o[1]) {
        Some("a shared (carrier-grade NAT) address")
    } else if v4.is_unspecified() || o[0] == 0 {
        Some("an unspecified address")
    } else if v4.is_broadcast() || v4.is_multicast() {
        Some("a broadcast or multicast address")
    } else if o[0] == 198 && (o[1] & 0xfe) == 18 {
        Some("a benchmarking address (198.18.0.0/15)")
    } else if o[0] >= 240 {
        Some("a reserved address (240.0.0.0/4)")
    } else if o[..3] == [192, 0, 0] {
        Some("an IETF protocol address (192.0.0.0/24)")
    } else if matches!(o[..3], [192, 0, 2] | [198, 51, 100] | [203, 0, 113]) {
        Some("a documentation address")
    } else {
        None
    }
}

fn v6_reason(v6: Ipv6Addr) -> Option<&'static str> {
    let s = v6.segments();
    if v6.is_loopback() {
        return Some("a loopback address");
    }
    if v6.is_unspecified() {
        return Some("an unspecified address");
    }
    // Forms that carry an IPv4 address reach wherever that address does.
    if let Some(v4) = embedded_v4(v6) {
        return v4_reason(v4);
    }
    if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        Some("the cloud instance-metadata address")
    } else if (s[0] & 0xfe00) == 0xfc00 {
        Some("a private (unique local) address")
    } else if (s[0] & 0xffc0) == 0xfe80 {
        Some("a link-local address")
    } else if (s[0] & 0xffc0) == 0xfec0 {
        Some("a site-local address")
    } else if v6.is_multicast() {
        Some("a multicast address")
    } else if s[..3] == [0x64, 0xff9b, 1] {
        Some("a local-use NAT64 address (64:ff9b:1::/48)")
    } else if s[..2] == [0x2001, 0] {
        Some("a Teredo tunnel address (2001::/32)")
    } else if s[..2] == [0x2001, 0xdb8] {
        Some("a documentation address")
    } else if s[..4] == [0x100, 0, 0, 0] {
        Some("a discard-only address (100::/64)")
    } else {
        None
    }
}

/// The IPv4 address inside an IPv6 form made to carry one: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), NAT64 (`64:ff9b::/96`)
/// and 6to4 (`2002::/16`, the address in the next 32 bits).
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo]
        | [0, 0, 0, 0, 0, 0, hi, lo]
        | [0, 0, 0, 0, 0xffff, 0, hi, lo]
        | [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

/// A site address the policy refuses.
#[derive(Clone, Debug, thiserror::Error)]
#[error("'{host}' leads to {ip}, {reason}")]
pub(crate) struct RefusedAddress {
    host: String,
    ip: std::net::IpAddr,
    reason: &'static str,
}

impl RefusedAddress {
    pub(crate) fn of(host: &str, ip: std::net::IpAddr) -> Option<RefusedAddress> {
        forbidden_reason(ip).map(|reason| RefusedAddress {
            host: host.to_string(),
            ip,
            reason,
        })
    }
}

impl From<RefusedAddress> for JiraError {
    fn from(r: RefusedAddress) -> Self {
        JiraError::AddressRefused {
            host: r.host,
            ip: r.ip,
            reason: r.reason,
        }
    }
}

/// Resolves like the system does, then refuses the host if any address it resolves to is not
/// public: checked at every connection, so a name that turns to a private address after the
/// credential checks (DNS rebinding) is refused too.
pub(crate) struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(refused) = addrs.iter().find_map(|a| RefusedAddress::of(&host, a.ip())) {
                return Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_internal_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fc00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            // IPv6 forms that carry an internal IPv4 address.
            "::127.0.0.1",
            "::169.254.169.254",
            "::ffff:0:10.0.0.1",
            "::ffff:0:169.254.169.254",
            "64:ff9b::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "2002:7f00:1::",
            // Internal or unroutable IPv6 ranges.
            "64:ff9b:1::8.8.8.8",
            "fec0::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:db8::1",
            "100::1",
            "ff02::1",
            // IPv4 ranges beyond the private ones.
            "198.18.0.1",
            "198.19.255.255",
            "240.0.0.1",
            "255.255.255.255",
            "192.0.0.170",
            "192.0.2.1",
        ] {
            assert!(forbidden_reason(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in [
            "104.192.136.1",
            "8.8.8.8",
            "2600:1f18::1",
            "198.20.0.1",
            "192.0.1.1",
            // Public IPv4 addresses reached through IPv6 forms stay reachable.
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
            "::ffff:104.192.136.1",
        ] {
            assert!(forbidden_reason(ip.parse().unwrap()).is_none(), "{ip}");
        }
    }
}
