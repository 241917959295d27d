//! Where and how to connect: flags, or the environment (`JIRA_URL`, `JIRA_EMAIL`, `JIRA_API_TOKEN`).

use anyhow::bail;
use sei_jira_core::jira::{
    Credentials, DEFAULT_MAX_IN_FLIGHT, DEFAULT_REQUESTS_PER_SECOND, Deployment, PrivateNetworks,
    Secret, SiteConfig,
};
use sei_jira_core::validation::{AuthMethod, ConnectionRequest};

#[derive(clap::Args, Debug, Clone)]
pub struct ConnectionArgs {
    /// Jira site URL, e.g. https://acme.atlassian.net.
    #[arg(long, env = "JIRA_URL")]
    pub url: Option<String>,
    /// The Jira user's email (Jira Cloud).
    #[arg(long, env = "JIRA_EMAIL")]
    pub email: Option<String>,
    /// A classic API token (Cloud), or with --pat a personal access token (Data Center).
    #[arg(long, env = "JIRA_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The token is a Data Center personal access token.
    #[arg(long)]
    pub pat: bool,
    /// Allow loopback and the private ranges, and plain http (a local simulator or an internal
    /// Data Center); never link-local addresses nor the cloud metadata service.
    #[arg(long)]
    pub allow_private_network: bool,
    /// Requests to Jira in flight at once (Atlassian suggests 5–10).
    #[arg(long, default_value_t = DEFAULT_MAX_IN_FLIGHT as u16, value_parser = clap::value_parser!(u16).range(1..=100))]
    pub max_in_flight: u16,
    /// Requests to Jira per second, at most (the default is the burst rate Jira Cloud documents).
    #[arg(long, default_value_t = DEFAULT_REQUESTS_PER_SECOND, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub requests_per_second: u32,
}

impl ConnectionArgs {
    pub fn deployment(&self) -> Deployment {
        if self.pat {
            Deployment::DataCenter
        } else {
            Deployment::Cloud
        }
    }

    fn required(&self) -> anyhow::Result<(String, String)> {
        let Some(url) = self.url.clone().filter(|u| !u.trim().is_empty()) else {
            bail!("--url (or JIRA_URL) is required")
        };
        let Some(token) = self.token.clone().filter(|t| !t.trim().is_empty()) else {
            bail!("--token (or JIRA_API_TOKEN) is required")
        };
        if !self.pat && self.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
            bail!(
                "--email (or JIRA_EMAIL) is required for Jira Cloud; use --pat for a Data Center personal access token"
            );
        }
        Ok((url, token))
    }

    pub fn request(&self, jql: Option<String>) -> anyhow::Result<ConnectionRequest> {
        let (url, token) = self.required()?;
        Ok(ConnectionRequest {
            deployment: self.deployment(),
            auth_method: AuthMethod::ApiToken,
            url,
            email: self.email.clone(),
            token: Secret::new(token),
            jql,
        })
    }

    /// The non-public networks the site may be on: loopback and the private ranges with
    /// `--allow-private-network`, none otherwise.
    pub fn private_networks(&self) -> PrivateNetworks {
        if self.allow_private_network {
            PrivateNetworks::local()
        } else {
            PrivateNetworks::default()
        }
    }

    pub fn site(&self) -> anyhow::Result<SiteConfig> {
        let (url, token) = self.required()?;
        let credentials =
            Credentials::new(self.deployment(), self.email.as_deref(), Secret::new(token));
        Ok(SiteConfig {
            private_networks: self.private_networks(),
            max_in_flight: usize::from(self.max_in_flight),
            requests_per_second: self.requests_per_second,
            ..SiteConfig::new(
                url.trim().trim_end_matches('/'),
                self.deployment(),
                credentials,
            )
        })
    }
}
