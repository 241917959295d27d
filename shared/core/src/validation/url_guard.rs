//! Checks a user-supplied Jira URL before we connect to it: its shape, and where it resolves.
//! Loopback, private, link-local, shared (CGNAT) and cloud-metadata addresses are refused unless
//! the caller explicitly allows them (local runs against the simulator).

use std::net::IpAddr;

use url::Url;

use crate::jira::{Deployment, PrivateNetworks};

/// Parses and checks the shape of a site URL; returns it normalised (no trailing slash). Plain
/// http is allowed only where private networks are (`networks`).
pub fn parse_site_url(
    raw: &str,
    deployment: Deployment,
    networks: &PrivateNetworks,
) -> Result<Url, String> {
    let allow_plain_http = !networks.is_empty();
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("the URL is empty".into());
    }
    // The text is not repeated: a token pasted into the wrong field must not come back.
    let url = Url::parse(trimmed).map_err(|e| {
        let why = match e {
            url::ParseError::RelativeUrlWithoutBase => {
                "it does not start with https:// (write the whole address)"
            }
            url::ParseError::EmptyHost => "it names no host",
            url::ParseError::InvalidPort => "its port is not a number from 1 to 65535",
            url::ParseError::InvalidIpv4Address | url::ParseError::InvalidIpv6Address => {
                "its IP address is not a valid one"
            }
            url::ParseError::IdnaError | url::ParseError::InvalidDomainCharacter => {
                "its host name holds characters no host name can"
            }
            _ => "it cannot be read as a web address",
        };
        format!("not a valid URL: {why}; expected e.g. https://your-site.atlassian.net")
    })?;
    // Atlassian serves Cloud over https only: plain http for Cloud is a site on this machine
    // (the simulator, local runs), never one across a network.
    let on_this_machine = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        // A personal access token must not cross the internet in clear: plain http only where
        // the operator allowed private networks (local runs, a site inside the network).
        "http" if allow_plain_http && (deployment == Deployment::DataCenter || on_this_machine) => {
        }
        "http" if deployment == Deployment::DataCenter => {
            return Err(
                "use https://: plain http is allowed only where private networks are \
                 (ALLOW_PRIVATE_NETWORK, or --allow-private-network locally)"
                    .into(),
            );
        }
        "http" => return Err("Jira Cloud URLs must use https://".into()),
        other => return Err(format!("unsupported scheme '{other}': use https://")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "the URL must not contain credentials; enter the email and token separately".into(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the URL must not contain a query or fragment".into());
    }
    if deployment == Deployment::Cloud && url.path() != "/" {
        return Err(format!(
            "use the site root (e.g. https://{}), without a path",
            url.host_str().unwrap_or("your-site.atlassian.net")
        ));
    }
    let mut normalised = url;
    let path = normalised.path().trim_end_matches('/').to_string();
    normalised.set_path(&path);
    Ok(normalised)
}

/// Why a site's address cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    #[error("the URL has no host")]
    NoHost,
    #[error("cannot resolve host '{host}': {reason}")]
    Unresolvable { host: String, reason: String },
    #[error("host '{host}' has no addresses")]
    NoAddresses { host: String },
    #[error("'{host}' resolves to {ip}, {reason}; only public Jira sites can be connected")]
    Forbidden {
        host: String,
        ip: IpAddr,
        reason: &'static str,
    },
}

impl AddressError {
    /// The host does not lead anywhere (as opposed to leading somewhere refused).
    pub fn is_unresolvable(&self) -> bool {
        matches!(
            self,
            AddressError::Unresolvable { .. } | AddressError::NoAddresses { .. }
        )
    }
}

/// Resolves the URL's host and refuses it if any address is forbidden (all must be safe: a
/// resolver may answer differently on the next lookup). Returns the addresses.
pub async fn resolve_checked(
    url: &Url,
    networks: &PrivateNetworks,
) -> Result<Vec<std::net::SocketAddr>, AddressError> {
    let host = url.host_str().ok_or(AddressError::NoHost)?;
    let port = url.port_or_known_default().unwrap_or(443);
    let host_for_lookup = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<_> = tokio::net::lookup_host((host_for_lookup, port))
        .await
        .map_err(|e| AddressError::Unresolvable {
            host: host.to_string(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(AddressError::NoAddresses {
            host: host.to_string(),
        });
    }
    for a in &addrs {
        if let Some(reason) = networks.refusal(a.ip()) {
            return Err(AddressError::Forbidden {
                host: host.to_string(),
                ip: a.ip(),
                reason,
            });
        }
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> PrivateNetworks {
        PrivateNetworks::default()
    }
    fn lan() -> PrivateNetworks {
        PrivateNetworks::local()
    }

    #[test]
    fn cloud_urls_need_https_and_no_path() {
        assert!(parse_site_url("https://acme.atlassian.net/", Deployment::Cloud, &none()).is_ok());
        assert!(
            parse_site_url("http://acme.atlassian.net", Deployment::Cloud, &none())
                .unwrap_err()
                .contains("https")
        );
        assert!(
            parse_site_url(
                "https://acme.atlassian.net/jira/software",
                Deployment::Cloud,
                &none()
            )
            .unwrap_err()
            .contains("site root")
        );
        assert!(
            parse_site_url(
                "https://user:pw@acme.atlassian.net",
                Deployment::Cloud,
                &none()
            )
            .unwrap_err()
            .contains("credentials")
        );
        assert_eq!(
            parse_site_url("acme.atlassian.net", Deployment::Cloud, &none()).unwrap_err(),
            "not a valid URL: it does not start with https:// (write the whole address); \
             expected e.g. https://your-site.atlassian.net"
        );
        assert!(
            parse_site_url(
                "https://acme.atlassian.net:99999",
                Deployment::Cloud,
                &none()
            )
            .unwrap_err()
            .contains("port")
        );
        let pasted = "ATATT3xFfGF0TokenPastedIntoTheUrlField";
        let refused = parse_site_url(pasted, Deployment::Cloud, &none()).unwrap_err();
        assert!(!refused.contains(pasted), "{refused}");
        assert!(
            parse_site_url("ftp://acme.atlassian.net", Deployment::Cloud, &none())
                .unwrap_err()
                .contains("scheme")
        );
        let dc = parse_site_url(
            "https://jira.example.com/jira/",
            Deployment::DataCenter,
            &none(),
        )
        .unwrap();
        assert_eq!(dc.as_str(), "https://jira.example.com/jira");
        // Plain http for Data Center only where private networks are allowed.
        let plain = "http://jira.example.com/jira";
        assert!(
            parse_site_url(plain, Deployment::DataCenter, &none())
                .unwrap_err()
                .contains("https")
        );
        assert!(parse_site_url(plain, Deployment::DataCenter, &lan()).is_ok());
        // Cloud is https whatever the setting, but for a site on this machine (the simulator).
        for across in [
            "http://acme.atlassian.net",
            "http://10.0.0.7",
            "http://jira.internal",
        ] {
            let refused = parse_site_url(across, Deployment::Cloud, &lan()).unwrap_err();
            assert!(refused.contains("https"), "{across}: {refused}");
        }
        for local in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert!(
                parse_site_url(local, Deployment::Cloud, &lan()).is_ok(),
                "{local}"
            );
            assert!(
                parse_site_url(local, Deployment::Cloud, &none()).is_err(),
                "{local}"
            );
        }
    }

    #[tokio::test]
    async fn resolution_is_checked() {
        let url = Url::parse("http://127.0.0.1:8080").unwrap();
        assert!(
            resolve_checked(&url, &none())
                .await
                .unwrap_err()
                .to_string()
                .contains("loopback")
        );
        assert_eq!(resolve_checked(&url, &lan()).await.unwrap().len(), 1);
        let url = Url::parse("http://localhost:8080").unwrap();
        assert!(resolve_checked(&url, &none()).await.is_err());
    }
}
