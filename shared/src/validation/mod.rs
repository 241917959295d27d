//! Credential validation: a list of named checks, each passed, failed (with a message a person
//! can act on) or skipped because an earlier check failed.

pub mod url_guard;

use std::time::Duration;

use serde::Serialize;

use crate::jira::{
    Credentials, Deployment, JiraClient, JiraError, RetryPolicy, Secret, SiteConfig,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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
    /// Local mode: allow loopback/private addresses and plain http (the simulator).
    pub allow_private_network: bool,
    /// Atlassian's API gateway, where scoped tokens work (used to recognise them).
    pub gateway_url: String,
    pub timeout: Duration,
}

impl Default for ValidationSettings {
    fn default() -> Self {
        Self {
            allow_private_network: false,
            gateway_url: "https://api.atlassian.com".into(),
            timeout: Duration::from_secs(20),
        }
    }
}

struct Checks(Vec<Check>);

impl Checks {
    fn pass(&mut self, id: CheckId, message: impl Into<String>) {
        self.0.push(Check {
            id,
            title: id.title(),
            outcome: Outcome::Passed,
            message: message.into(),
        });
    }
    fn fail(&mut self, id: CheckId, message: impl Into<String>) {
        self.0.push(Check {
            id,
            title: id.title(),
            outcome: Outcome::Failed,
            message: message.into(),
        });
    }
    /// Marks the remaining checks as not run, because of `why`.
    fn skip_rest(mut self, all: &[CheckId], why: &str) -> Vec<Check> {
        for id in all {
            if !self.0.iter().any(|c| c.id == *id) {
                self.0.push(Check {
                    id: *id,
                    title: id.title(),
                    outcome: Outcome::Skipped,
                    message: format!("not checked: {why}"),
                });
            }
        }
        self.0
    }
}

/// Runs every check in order; a failed prerequisite skips what depends on it.
pub async fn validate(req: &ConnectionRequest, settings: &ValidationSettings) -> Report {
    let mut all = vec![
        CheckId::AuthMethod,
        CheckId::UrlFormat,
        CheckId::UrlAllowed,
        CheckId::Reachable,
        CheckId::Deployment,
        CheckId::Authenticated,
    ];
    if req.deployment == Deployment::Cloud {
        all.extend([CheckId::ClassicToken, CheckId::RealUser]);
    }
    all.extend([
        CheckId::BrowseProjects,
        CheckId::ViewAggregatedData,
        CheckId::BrowseUsers,
        CheckId::UserPicker,
    ]);
    if req.jql.as_deref().is_some_and(|j| !j.trim().is_empty()) {
        all.push(CheckId::Jql);
    }
    let mut c = Checks(Vec::new());
    let done = |c: Checks, why: &str, identity: Option<Identity>| Report {
        checks: c.skip_rest(&all, why),
        identity,
    };

    if req.auth_method == AuthMethod::ConnectApp {
        c.fail(CheckId::AuthMethod, "The Jira Connect App method is no longer supported: connect with a classic (unscoped) API token of a Jira user account.");
        return done(c, "unsupported authentication method", None);
    }
    let email = req.email.as_deref().unwrap_or("").trim();
    if req.token.is_empty() || (req.deployment == Deployment::Cloud && email.is_empty()) {
        let what = if req.deployment == Deployment::Cloud {
            "the user's email and a classic API token"
        } else {
            "a personal access token"
        };
        c.fail(
            CheckId::AuthMethod,
            format!("Missing credentials: provide {what}."),
        );
        return done(c, "missing credentials", None);
    }
    c.pass(CheckId::AuthMethod, "API token");

    let url =
        match url_guard::parse_site_url(&req.url, req.deployment, settings.allow_private_network) {
            Ok(u) => {
                c.pass(CheckId::UrlFormat, u.as_str().trim_end_matches('/'));
                u
            }
            Err(e) => {
                c.fail(CheckId::UrlFormat, e);
                return done(c, "the URL is invalid", None);
            }
        };
    match url_guard::resolve_checked(&url, settings.allow_private_network).await {
        Ok(_) => c.pass(CheckId::UrlAllowed, "resolves to allowed addresses"),
        Err(e) if e.starts_with("cannot resolve") || e.contains("no addresses") => {
            c.pass(CheckId::UrlAllowed, "no forbidden address");
            c.fail(CheckId::Reachable, e);
            return done(c, "the site is unreachable", None);
        }
        Err(e) => {
            c.fail(CheckId::UrlAllowed, e);
            return done(c, "the URL is not allowed", None);
        }
    }
    let base = url.as_str().trim_end_matches('/').to_string();
    let quick = RetryPolicy {
        max_retries: 1,
        base_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(1),
    };
    let config = |credentials: Credentials| SiteConfig {
        timeout: settings.timeout,
        retry: quick.clone(),
        ..SiteConfig::new(base.clone(), req.deployment, credentials)
    };

    let credentials = match req.deployment {
        Deployment::Cloud => Credentials::ApiToken {
            email: email.to_string(),
            token: req.token.clone(),
        },
        Deployment::DataCenter => Credentials::PersonalAccessToken {
            token: req.token.clone(),
        },
    };
    let client = match JiraClient::new(&config(credentials)) {
        Ok(client) => client,
        Err(e) => {
            c.fail(CheckId::Authenticated, e.to_string());
            return done(c, "the credentials cannot be used", None);
        }
    };

    // Reachability and product, anonymously: serverInfo answers everyone.
    let info = client
        .get_anonymous::<crate::jira::models::ServerInfo>(&format!(
            "{}/serverInfo",
            req.deployment.api_prefix()
        ))
        .await;
    match info {
        Ok(info) => {
            c.pass(
                CheckId::Reachable,
                format!("Jira {} answered", info.version.as_deref().unwrap_or("")),
            );
            let is_cloud = info.deployment_type.as_deref() == Some("Cloud");
            match (req.deployment, is_cloud) {
                (Deployment::Cloud, false) => {
                    c.fail(CheckId::Deployment, "This site is Jira Data Center / Server: choose Data Center and use a personal access token.");
                    return done(c, "wrong Jira product", None);
                }
                (Deployment::DataCenter, true) => {
                    c.fail(CheckId::Deployment, "This site is Jira Cloud: choose Cloud and use your email with a classic API token.");
                    return done(c, "wrong Jira product", None);
                }
                _ => c.pass(
                    CheckId::Deployment,
                    if is_cloud {
                        "Jira Cloud"
                    } else {
                        "Jira Data Center / Server"
                    },
                ),
            }
        }
        Err(JiraError::NotFound { .. }) => {
            c.fail(
                CheckId::Reachable,
                format!(
                    "{base} answered, but not as Jira (no {}/serverInfo): check the URL",
                    req.deployment.api_prefix()
                ),
            );
            return done(c, "the site is not Jira", None);
        }
        Err(e) => {
            c.fail(CheckId::Reachable, e.to_string());
            return done(c, "the site is unreachable", None);
        }
    }

    let me = match client.myself().await {
        Ok(me) => me,
        Err(JiraError::Unauthenticated { .. }) => {
            // The token carries no type marker: a token the site refuses but Atlassian's
            // gateway accepts is a scoped token, or a service account's (also scoped).
            let through_gateway = if req.deployment == Deployment::Cloud {
                via_gateway(&client, &settings.gateway_url).await
            } else {
                None
            };
            match through_gateway {
                Some(me) if me.account_type.as_deref() == Some("app") => {
                    c.fail(CheckId::RealUser, "This is a service account, which is not supported: use a classic API token (without scopes) of a regular Jira user account.");
                    return done(c, "service accounts are not supported", None);
                }
                Some(_) => {
                    c.fail(CheckId::ClassicToken, "This is a scoped API token, which only works through Atlassian's API gateway: create a classic API token (without scopes) for a Jira user account.");
                    return done(c, "the token is a scoped token", None);
                }
                None => {
                    c.fail(CheckId::Authenticated, "Jira rejected the email and API token: check both, and that the token has not expired or been revoked.");
                    return done(c, "the credentials were rejected", None);
                }
            }
        }
        Err(e) => {
            c.fail(CheckId::Authenticated, e.to_string());
            return done(c, "the credentials could not be checked", None);
        }
    };
    c.pass(
        CheckId::Authenticated,
        format!(
            "signed in as {}",
            me.display_name
                .as_deref()
                .or(me.name.as_deref())
                .unwrap_or("?")
        ),
    );
    let identity = Identity {
        account_id: me.account_id.clone().or(me.key.clone()),
        display_name: me.display_name.clone(),
        time_zone: me.time_zone.clone(),
    };
    if req.deployment == Deployment::Cloud {
        c.pass(CheckId::ClassicToken, "accepted on the site URL");
        if me.account_type.as_deref() == Some("app") {
            c.fail(CheckId::RealUser, "This is a service account (or app) account, which is not supported: use a classic API token of a regular Jira user account.");
            return done(c, "not a user account", Some(identity));
        }
        c.pass(CheckId::RealUser, "a regular Jira user account");
    }

    match client
        .my_permissions(
            &["BROWSE_PROJECTS", "VIEW_AGGREGATED_DATA", "USER_PICKER"],
            None,
        )
        .await
    {
        Ok(p) => {
            let grant = |c: &mut Checks, id: CheckId, key: &str| {
                if p.permissions.get(key).is_some_and(|x| x.have_permission) {
                    c.pass(id, format!("{key} granted"));
                } else {
                    c.fail(id, format!("The user lacks the {} permission ({key}): ask a Jira admin to grant it in the projects to track.", id.title().trim_end_matches(" permission")));
                }
            };
            grant(&mut c, CheckId::BrowseProjects, "BROWSE_PROJECTS");
            grant(&mut c, CheckId::ViewAggregatedData, "VIEW_AGGREGATED_DATA");
            // Browse users: proven by listing users, which needs "Browse users and groups".
            match client.probe_user_search().await {
                Ok(()) => c.pass(CheckId::BrowseUsers, "users can be listed"),
                Err(JiraError::Forbidden { .. }) => c.fail(CheckId::BrowseUsers, "The user cannot list users (HTTP 403): grant the global \"Browse users and groups\" permission."),
                Err(e) => c.fail(CheckId::BrowseUsers, e.to_string()),
            }
            grant(&mut c, CheckId::UserPicker, "USER_PICKER");
        }
        Err(e) => {
            c.fail(
                CheckId::BrowseProjects,
                format!("permissions could not be read: {e}"),
            );
            return done(c, "permissions could not be read", Some(identity));
        }
    }

    if let Some(jql) = req.jql.as_deref().filter(|j| !j.trim().is_empty()) {
        match client.parse_jql(&[jql]).await {
            Ok(parsed) => match parsed.queries.first() {
                Some(q) if q.errors.is_empty() => c.pass(CheckId::Jql, "valid"),
                Some(q) => c.fail(CheckId::Jql, q.errors.join(" ")),
                None => c.fail(CheckId::Jql, "Jira returned no verdict for the query"),
            },
            Err(e) => c.fail(CheckId::Jql, e.to_string()),
        }
    }
    Report {
        checks: c.0,
        identity: Some(identity),
    }
}

/// `/myself` through Atlassian's gateway with the same credentials, if it works there.
async fn via_gateway(site: &JiraClient, gateway: &str) -> Option<crate::jira::models::Myself> {
    let tenant = site
        .get_anonymous::<serde_json::Value>("/_edge/tenant_info")
        .await
        .ok()?;
    let cloud_id = tenant["cloudId"].as_str()?;
    site.with_base_url(&format!(
        "{}/ex/jira/{cloud_id}",
        gateway.trim_end_matches('/')
    ))
    .myself()
    .await
    .ok()
}
