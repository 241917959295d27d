//! How to reach one Jira site: where, as whom, and how gently.

use crate::address::PrivateNetworks;
use std::fmt;
use std::time::Duration;

/// Jira Cloud or Jira Data Center / Server. Named `cloud` and `datacenter` wherever it is
/// written down (the HTTP API, stored integrations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Deployment {
    /// `/rest/api/3`, Basic `email:token` with a classic API token, enhanced search.
    Cloud,
    /// `/rest/api/2`, `Bearer` personal access token, startAt/total search.
    DataCenter,
}

impl Deployment {
    /// `cloud` or `datacenter`; None for anything else.
    pub fn parse(name: &str) -> Option<Deployment> {
        match name {
            "cloud" => Some(Deployment::Cloud),
            "datacenter" => Some(Deployment::DataCenter),
            _ => None,
        }
    }

    pub fn api_prefix(self) -> &'static str {
        match self {
            Deployment::Cloud => "/rest/api/3",
            Deployment::DataCenter => "/rest/api/2",
        }
    }
}

/// A secret that never prints: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The raw value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Clone, Debug)]
pub enum Credentials {
    /// Jira Cloud: the user's email and a classic API token.
    ApiToken { email: String, token: Secret },
    /// Jira Data Center: a personal access token.
    PersonalAccessToken { token: Secret },
}

impl Credentials {
    /// What the deployment authenticates with: Cloud the email and API token, Data Center the
    /// token alone (the email, if any, is not used).
    pub fn new(deployment: Deployment, email: Option<&str>, token: Secret) -> Self {
        match deployment {
            Deployment::Cloud => Credentials::ApiToken {
                email: email.unwrap_or_default().trim().to_string(),
                token,
            },
            Deployment::DataCenter => Credentials::PersonalAccessToken { token },
        }
    }
}

/// Retry behaviour for throttling (429) and transient failures (5xx, timeouts, resets).
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Retries per request before giving up with a clear error.
    pub max_retries: usize,
    /// First backoff delay; doubles each retry, with jitter, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Atlassian's guidance: start around 2 s, double, cap at 30 s, jitter ×0.7–1.3, ~4 retries.
    /// We allow a few more because a sync is long-running and resumable.
    fn default() -> Self {
        Self {
            max_retries: 6,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Requests in flight at once for a site unless set otherwise (Atlassian suggests 5–10).
/// The bytes of Jira's answers a client holds at once by default: a quarter of the sync
/// function's default 512 MB, where the answers are read into models besides.
pub const DEFAULT_ANSWER_BUDGET: usize = 128 * 1024 * 1024;

pub const DEFAULT_MAX_IN_FLIGHT: usize = 10;
/// Requests per second for a site unless set otherwise: the burst rate Jira Cloud documents per
/// tenant.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 100;

#[derive(Clone, Debug)]
pub struct SiteConfig {
    /// The site URL, e.g. `https://acme.atlassian.net` (no trailing path).
    pub base_url: String,
    pub deployment: Deployment,
    pub credentials: Credentials,
    /// Requests in flight at once for this site ([`DEFAULT_MAX_IN_FLIGHT`]).
    pub max_in_flight: usize,
    /// Steady request rate for this site, shared by every request of a run
    /// ([`DEFAULT_REQUESTS_PER_SECOND`]).
    pub requests_per_second: u32,
    /// Per-request timeout.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// The largest response body read; past it a request fails with `JiraError::TooLarge`.
    pub max_body_bytes: usize,
    /// The bytes of the answers in flight at once, all requests together ([`DEFAULT_ANSWER_BUDGET`]):
    /// an answer that finds it spent is tried again after a backoff. No answer may be larger.
    pub answer_budget_bytes: usize,
    /// The non-public networks the site may be on (a Data Center site inside the network, the
    /// simulator in a local run); every other address the client connects to must be public.
    pub private_networks: PrivateNetworks,
    /// No retry waits past this instant: such a wait fails at once with
    /// `JiraError::PastDeadline` (a sync then ends as partial and resumes later).
    pub deadline: Option<std::time::Instant>,
    /// The most this client spends waiting on Jira in all (rate limits, backoff): a wait past
    /// it fails at once with `JiraError::WaitedTooLong` (a sync then ends as partial).
    pub max_wait: Option<std::time::Duration>,
}

impl SiteConfig {
    pub fn new(
        base_url: impl Into<String>,
        deployment: Deployment,
        credentials: Credentials,
    ) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            deployment,
            credentials,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            private_networks: PrivateNetworks::default(),
            max_body_bytes: 64 * 1024 * 1024,
            answer_budget_bytes: DEFAULT_ANSWER_BUDGET,
            deadline: None,
            max_wait: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let c = Credentials::ApiToken {
            email: "a@b.c".into(),
            token: Secret::new("ATATT-very-secret"),
        };
        let shown = format!("{c:?} {}", Secret::new("x"));
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("***"));
    }
}
