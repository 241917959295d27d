//! Credential validation: a list of named checks, each passed, failed (with a message a person
//! can act on) or skipped because an earlier check failed. The steps that decide them, in order,
//! live in `checks` (their list is the one ordered list of checks); the URL guard in
//! [`url_guard`].

mod checks;
pub mod url_guard;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::jira::{Deployment, PrivateNetworks, Secret};
use checks::{STEPS, Session, Stop};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    #[serde(rename = "authentication_method")]
    AuthMethod,
    UrlFormat,
    UrlAllowed,
    Reachable,
    #[serde(rename = "jira_product")]
    Deployment,
    Authenticated,
    ClassicToken,
    RealUser,
    BrowseProjects,
    ViewAggregatedData,
    BrowseUsers,
    UserPicker,
    Jql,
}

impl CheckId {
    pub fn title(self) -> &'static str {
        match self {
            CheckId::AuthMethod => "Authentication method",
            CheckId::UrlFormat => "Site URL format",
            CheckId::UrlAllowed => "Site URL allowed",
            CheckId::Reachable => "Site reachable",
            CheckId::Deployment => "Jira product",
            CheckId::Authenticated => "Credentials accepted",
            CheckId::ClassicToken => "Classic (unscoped) API token",
            CheckId::RealUser => "Jira user account (not a service account)",
            CheckId::BrowseProjects => "Browse Projects permission",
            CheckId::ViewAggregatedData => "View Aggregated Data permission",
            CheckId::BrowseUsers => "Browse Users permission",
            CheckId::UserPicker => "User Picker permission",
            CheckId::Jql => "JQL filter",
        }
    }

    /// What a person does when this check fails.
    pub fn remedy(self) -> &'static str {
        match self {
            CheckId::AuthMethod => {
                "Choose Jira Cloud with an email and API token, or Data Center with a personal access token."
            }
            CheckId::UrlFormat => {
                "Enter the site's base address, such as https://your-site.atlassian.net, with no path after it."
            }
            CheckId::UrlAllowed => {
                "Use the site's https address; private, loopback and metadata addresses are refused unless private networks are allowed."
            }
            CheckId::Reachable => {
                "Check the address, and that this machine can reach the site (VPN, proxy, the site's IP allow list)."
            }
            CheckId::Deployment => {
                "Choose the other deployment: Cloud sites are at atlassian.net, Data Center runs on your own server."
            }
            CheckId::Authenticated => {
                "Check the email and make a new token: on Cloud under Atlassian account > Security > API tokens, on Data Center under Profile > Personal Access Tokens."
            }
            CheckId::ClassicToken => {
                "Create an API token without scopes (a classic token); a scoped token cannot read all a sync needs."
            }
            CheckId::RealUser => {
                "Use the token of a person's Jira account, not of a service or app account."
            }
            CheckId::BrowseProjects
            | CheckId::ViewAggregatedData
            | CheckId::BrowseUsers
            | CheckId::UserPicker => {
                "Ask a Jira administrator to grant this user the permission named, then validate again."
            }
            CheckId::Jql => {
                "Correct the query as Jira's message says; it must run in Jira's own issue search."
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
}

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub id: CheckId,
    pub title: &'static str,
    /// `status` in every JSON rendering (the HTTP API's field name).
    #[serde(rename = "status")]
    pub outcome: Outcome,
    pub message: String,
}

/// Who the credentials belong to, when they work.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Identity {
    pub account_id: Option<String>,
    pub display_name: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub checks: Vec<Check>,
    pub identity: Option<Identity>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.outcome == Outcome::Passed)
    }
    pub fn failed(&self) -> Vec<CheckId> {
        self.checks
            .iter()
            .filter(|c| c.outcome == Outcome::Failed)
            .map(|c| c.id)
            .collect()
    }
    pub fn outcome(&self, id: CheckId) -> Option<Outcome> {
        self.checks.iter().find(|c| c.id == id).map(|c| c.outcome)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ApiToken,
    /// The deprecated Jira Connect App integration: refused.
    ConnectApp,
}

#[derive(Clone, Debug)]
pub struct ConnectionRequest {
    pub deployment: Deployment,
    pub auth_method: AuthMethod,
    pub url: String,
    /// Cloud only.
    pub email: Option<String>,
    pub token: Secret,
    pub jql: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ValidationSettings {
    /// The non-public networks a site may be on (none by default; loopback and the private
    /// ranges for local runs against the simulator), where plain http is allowed for Data
    /// Center too.
    pub private_networks: PrivateNetworks,
    /// Atlassian's API gateway, where scoped tokens work (used to recognise them).
    pub gateway_url: String,
    pub timeout: Duration,
    /// The most all the checks may take, waits for Jira included: a validation answers within
    /// API Gateway's 30 s even when the site asks for a long wait.
    pub deadline: Duration,
}

impl Default for ValidationSettings {
    fn default() -> Self {
        Self {
            private_networks: PrivateNetworks::default(),
            gateway_url: "https://api.atlassian.com".into(),
            timeout: Duration::from_secs(20),
            deadline: Duration::from_secs(25),
        }
    }
}

/// Runs every check in order; a failed prerequisite skips what depends on it.
pub async fn validate(req: &ConnectionRequest, settings: &ValidationSettings) -> Report {
    let mut session = Session::new(req, settings);
    for step in STEPS.into_iter().filter(|s| s.applies(req)) {
        if let Err(Stop(why)) = session.run(step).await {
            return session.report_stopped(&planned_checks(req), why);
        }
    }
    session.report()
}

/// The checks a request gets, in the order they are reported.
pub fn planned_checks(req: &ConnectionRequest) -> Vec<CheckId> {
    STEPS
        .into_iter()
        .filter(|s| s.applies(req))
        .flat_map(|s| s.decides().iter().copied())
        .collect()
}
