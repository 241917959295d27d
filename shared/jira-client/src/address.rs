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

/// The non-public networks a site may lead to: none by default (public sites only), a list of
/// CIDRs in a deployment (a Data Center site inside its network), loopback and the private
/// ranges for a local run. Whatever it holds, the cloud metadata service, link-local,
/// unspecified, multicast and broadcast addresses stay refused: no list opens them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrivateNetworks(Vec<ipnet::IpNet>);

impl PrivateNetworks {
    /// Loopback and the private ranges (RFC 1918, IPv6 unique local): a local run against the
    /// simulator, or a site on the machine's own network.
    pub fn local() -> Self {
        Self::parse("127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7")
            .unwrap_or_default()
    }

    /// A comma-separated list of CIDRs (`10.20.0.0/16, fd00:1::/64`); empty for none. Names the
    /// entry it cannot read, and refuses one that could only open what stays refused.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net: ipnet::IpNet = entry.parse().map_err(|_| {
                format!("'{entry}' is not a CIDR block (e.g. 10.20.0.0/16 or fd00:1::/64)")
            })?;
            if let Some(reason) = never_opened(net.network()).filter(|_| net.prefix_len() > 0) {
                return Err(format!(
                    "'{entry}' is {reason}, which no setting opens to Jira sites"
                ));
            }
            nets.push(net.trunc());
        }
        Ok(PrivateNetworks(nets))
    }

    /// Whether no non-public address is allowed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Why `ip` must not be contacted, if it must not.
    pub fn refusal(&self, ip: IpAddr) -> Option<&'static str> {
        if let Some(reason) = never_opened(ip) {
            return Some(reason);
        }
        let reason = forbidden_reason(ip)?;
        let inside = |ip: IpAddr| self.0.iter().any(|n| n.contains(&ip));
        let carried = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        (!inside(ip) && !carried.is_some_and(inside)).then_some(reason)
    }
}

/// Addresses no setting opens: the metadata services, link-local, unspecified, multicast and
/// broadcast (and the IPv6 forms that carry such an IPv4 address).
fn never_opened(ip: IpAddr) -> Option<&'static str> {
    let v4 = match ip {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => v4,
            None => {
                let s = v6.segments();
                return if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
                    Some("the cloud instance-metadata address")
                } else if (s[0] & 0xffc0) == 0xfe80 {
                    Some("a link-local address")
                } else if v6.is_unspecified() {
                    Some("an unspecified address")
                } else if v6.is_multicast() {
                    Some("a multicast address")
                } else {
                    None
                };
            }
        },
    };
    if v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() {
        v4_reason(v4)
    } else {
        None
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
    pub(crate) fn of(
        host: &str,
        ip: std::net::IpAddr,
        allowed: &PrivateNetworks,
    ) -> Option<RefusedAddress> {
        allowed.refusal(ip).map(|reason| RefusedAddress {
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

/// Resolves like the system does, then refuses the host if any address it resolves to is
/// neither public nor in the allowed private networks: checked at every connection, so a name
/// that turns to a private address after the credential checks (DNS rebinding) is refused too.
pub(crate) struct Guarded(pub PrivateNetworks);

impl reqwest::dns::Resolve for Guarded {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let allowed = self.0.clone();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if let Some(refused) = addrs
                .iter()
                .find_map(|a| RefusedAddress::of(&host, a.ip(), &allowed))
            {
                return Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list of CIDRs opens what it names and nothing more; the metadata service and
    /// link-local stay shut whatever it names, even everything.
    #[test]
    fn private_networks_open_what_they_name_and_never_the_metadata_service() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let dc = PrivateNetworks::parse("10.20.0.0/16, fd00:1::/64").unwrap();
        for open in ["10.20.3.4", "fd00:1::9", "::ffff:10.20.0.1", "8.8.8.8"] {
            assert_eq!(dc.refusal(ip(open)), None, "{open}");
        }
        for shut in ["10.21.0.1", "127.0.0.1", "192.168.1.1", "fd00:2::1"] {
            assert!(dc.refusal(ip(shut)).is_some(), "{shut}");
        }
        let everything = PrivateNetworks::parse("0.0.0.0/0,::/0").unwrap();
        let local = PrivateNetworks::local();
        for allowed in [&everything, &local] {
            assert_eq!(allowed.refusal(ip("127.0.0.1")), None);
            for shut in [
                "169.254.169.254",
                "169.254.170.2",
                "169.254.1.1",
                "fd00:ec2::254",
                "fe80::1",
                "::ffff:169.254.169.254",
                "0.0.0.0",
                "255.255.255.255",
            ] {
                assert!(allowed.refusal(ip(shut)).is_some(), "{shut} in {allowed:?}");
            }
        }
        assert_eq!(
            PrivateNetworks::parse(" ").unwrap(),
            PrivateNetworks::default()
        );
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "169.254.0.0/16",
            "fe80::/10",
            "x",
        ] {
            assert!(PrivateNetworks::parse(bad).is_err(), "{bad}");
        }
    }

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
