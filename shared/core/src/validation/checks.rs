//! The checks, run as the steps of [`STEPS`] in order. Each step declares the checks it decides
//! ([`Step::decides`]), which makes [`STEPS`] the one ordered list of checks; it records their
//! outcomes and stops the run (naming why) when what follows cannot be checked.

use std::time::Duration;

use url::Url;

use super::{
    AuthMethod, Check, CheckId, ConnectionRequest, Identity, Outcome, Report, ValidationSettings,
    url_guard,
};
use crate::jira::models::{Myself, ParsedQueries};
use crate::jira::{Credentials, Deployment, JiraClient, JiraError, RetryPolicy, SiteConfig};

/// A Data Center or Server site asked as Cloud.
const WRONG_PRODUCT_DATA_CENTER: &str =
    "This site is Jira Data Center / Server: choose Data Center and use a personal access token.";

/// Why the remaining checks are not run.
pub(super) struct Stop(pub &'static str);

type StepResult = Result<(), Stop>;

#[derive(Clone, Copy)]
pub(super) enum Step {
    Credentials,
    UrlFormat,
    UrlAllowed,
    Connect,
    Site,
    SignIn,
    Account,
    Permissions,
    Jql,
}

impl Step {
    /// The checks this step decides, in report order. (An early failure may also be reported on
    /// a later step's check: an unresolvable host fails Reachable.)
    pub(super) fn decides(self) -> &'static [CheckId] {
        match self {
            Step::Credentials => &[CheckId::AuthMethod],
            Step::UrlFormat => &[CheckId::UrlFormat],
            Step::UrlAllowed => &[CheckId::UrlAllowed],
            Step::Connect => &[],
            Step::Site => &[CheckId::Reachable, CheckId::Deployment],
            Step::SignIn => &[CheckId::Authenticated],
            Step::Account => &[CheckId::ClassicToken, CheckId::RealUser],
            Step::Permissions => &[
                CheckId::BrowseProjects,
                CheckId::ViewAggregatedData,
                CheckId::BrowseUsers,
                CheckId::UserPicker,
            ],
            Step::Jql => &[CheckId::Jql],
        }
    }

    /// Whether the step runs for this request: account checks only on Cloud (Data Center tokens
    /// have no scoped or service-account kinds), the JQL check only with a filter.
    pub(super) fn applies(self, req: &ConnectionRequest) -> bool {
        match self {
            Step::Account => req.deployment == Deployment::Cloud,
            Step::Jql => jql(req).is_some(),
            _ => true,
        }
    }
}

fn jql(req: &ConnectionRequest) -> Option<&str> {
    req.jql.as_deref().filter(|j| !j.trim().is_empty())
}

/// The steps, in order: each may rely on what the ones before it learned.
pub(super) const STEPS: [Step; 9] = [
    Step::Credentials,
    Step::UrlFormat,
    Step::UrlAllowed,
    Step::Connect,
    Step::Site,
    Step::SignIn,
    Step::Account,
    Step::Permissions,
    Step::Jql,
];

/// Answers a later step judges, asked for side by side with an earlier step's own request (one
/// round trip instead of two): the sign-in beside the anonymous serverInfo, the JQL beside the
/// permissions. Each step still records its checks in order, and reads nothing ahead that an
/// earlier failure would have stopped it from asking.
#[derive(Default)]
struct Ahead {
    me: Option<Result<Myself, JiraError>>,
    jql: Option<Result<ParsedQueries, JiraError>>,
    /// How many issues the JQL matches, asked beside its parse (an invalid one counts nothing).
    jql_matches: Option<Result<u64, JiraError>>,
}

/// One validation: the request, and what the steps decided and learned so far.
pub(super) struct Session<'a> {
    req: &'a ConnectionRequest,
    settings: &'a ValidationSettings,
    checks: Vec<Check>,
    url: Option<Url>,
    client: Option<JiraClient>,
    ahead: Ahead,
    me: Option<Myself>,
    identity: Option<Identity>,
    /// When the validation began: its deadline counts from here.
    started: std::time::Instant,
}

impl<'a> Session<'a> {
    pub(super) fn new(req: &'a ConnectionRequest, settings: &'a ValidationSettings) -> Self {
        Self {
            req,
            settings,
            checks: Vec::new(),
            url: None,
            client: None,
            ahead: Ahead::default(),
            me: None,
            identity: None,
            started: std::time::Instant::now(),
        }
    }

    pub(super) async fn run(&mut self, step: Step) -> StepResult {
        match step {
            Step::Credentials => self.credentials(),
            Step::UrlFormat => self.url_format(),
            Step::UrlAllowed => self.url_allowed().await,
            Step::Connect => self.connect(),
            Step::Site => self.site().await,
            Step::SignIn => self.sign_in().await,
            Step::Account => self.account(),
            Step::Permissions => self.permissions().await,
            Step::Jql => self.jql().await,
        }
    }

    pub(super) fn report(self) -> Report {
        Report {
            checks: self.checks,
            identity: self.identity,
        }
    }

    /// The report of a run stopped early: the planned checks not decided are skipped.
    pub(super) fn report_stopped(mut self, planned: &[CheckId], why: &str) -> Report {
        for id in planned {
            if !self.checks.iter().any(|c| c.id == *id) {
                self.record(*id, Outcome::Skipped, format!("not checked: {why}"));
            }
        }
        self.report()
    }

    fn record(&mut self, id: CheckId, outcome: Outcome, message: String) {
        self.checks.push(Check {
            id,
            title: id.title(),
            outcome,
            message,
        });
    }

    fn pass(&mut self, id: CheckId, message: impl Into<String>) {
        self.record(id, Outcome::Passed, message.into());
    }

    fn fail(&mut self, id: CheckId, message: impl Into<String>) {
        self.record(id, Outcome::Failed, message.into());
    }

    /// Fails `id` and stops.
    fn stop(&mut self, id: CheckId, message: impl Into<String>, why: &'static str) -> StepResult {
        self.fail(id, message);
        Err(Stop(why))
    }

    fn cloud(&self) -> bool {
        self.req.deployment == Deployment::Cloud
    }

    fn email(&self) -> &str {
        self.req.email.as_deref().unwrap_or("").trim()
    }

    fn client(&self) -> &JiraClient {
        self.client.as_ref().expect("the Connect step ran")
    }

    fn credentials(&mut self) -> StepResult {
        if self.req.auth_method == AuthMethod::ConnectApp {
            return self.stop(CheckId::AuthMethod, "The Jira Connect App method is no longer supported: connect with a classic (unscoped) API token of a Jira user account.", "unsupported authentication method");
        }
        if self.req.token.is_empty() || (self.cloud() && self.email().is_empty()) {
            let what = if self.cloud() {
                "the user's email and a classic API token"
            } else {
                "a personal access token"
            };
            return self.stop(
                CheckId::AuthMethod,
                format!("Missing credentials: provide {what}."),
                "missing credentials",
            );
        }
        self.pass(CheckId::AuthMethod, "API token");
        Ok(())
    }

    fn url_format(&mut self) -> StepResult {
        let networks = &self.settings.private_networks;
        match url_guard::parse_site_url(&self.req.url, self.req.deployment, networks) {
            Ok(u) => {
                self.pass(CheckId::UrlFormat, u.as_str().trim_end_matches('/'));
                self.url = Some(u);
                Ok(())
            }
            Err(e) => self.stop(CheckId::UrlFormat, e, "the URL is invalid"),
        }
    }

    async fn url_allowed(&mut self) -> StepResult {
        let url = self.url.as_ref().expect("the UrlFormat step ran");
        match url_guard::resolve_checked(url, &self.settings.private_networks).await {
            Ok(_) => {
                self.pass(CheckId::UrlAllowed, "resolves to allowed addresses");
                Ok(())
            }
            Err(e) if e.is_unresolvable() => {
                self.pass(CheckId::UrlAllowed, "no forbidden address");
                self.stop(CheckId::Reachable, e.to_string(), "the site is unreachable")
            }
            Err(e) => self.stop(CheckId::UrlAllowed, e.to_string(), "the URL is not allowed"),
        }
    }

    /// A client of the site as `deployment`, that retries once, briefly: a person is waiting
    /// for the answer.
    fn client_as(&self, deployment: Deployment) -> Result<JiraClient, JiraError> {
        let base = self.base_url();
        let credentials = Credentials::new(deployment, Some(self.email()), self.req.token.clone());
        JiraClient::new(&SiteConfig {
            timeout: self.settings.timeout,
            retry: RetryPolicy {
                max_retries: 1,
                base_delay: Duration::from_millis(200),
                max_delay: Duration::from_secs(1),
            },
            private_networks: self.settings.private_networks.clone(),
            deadline: Some(self.started + self.settings.deadline),
            ..SiteConfig::new(base, deployment, credentials)
        })
    }

    fn connect(&mut self) -> StepResult {
        match self.client_as(self.req.deployment) {
            Ok(client) => {
                self.client = Some(client);
                Ok(())
            }
            Err(e) => self.stop(
                CheckId::Authenticated,
                e.to_string(),
                "the credentials cannot be used",
            ),
        }
    }

    fn base_url(&self) -> String {
        let url = self.url.as_ref().expect("the UrlFormat step ran");
        url.as_str().trim_end_matches('/').to_string()
    }

    /// Reachability and product, anonymously: serverInfo answers everyone. The sign-in goes
    /// beside it, to the same site; the SignIn step judges its answer.
    async fn site(&mut self) -> StepResult {
        let prefix = self.req.deployment.api_prefix();
        let client = self.client();
        let (info, me) = tokio::join!(client.server_info(), client.myself());
        self.ahead.me = Some(me);
        let info = match info {
            Ok(info) => info,
            Err(JiraError::NotFound { .. }) if self.answers_as_data_center().await => {
                self.pass(CheckId::Reachable, "Jira Data Center / Server answered");
                return self.stop(
                    CheckId::Deployment,
                    WRONG_PRODUCT_DATA_CENTER,
                    "wrong Jira product",
                );
            }
            Err(JiraError::NotFound { .. }) => {
                let base = self.base_url();
                return self.stop(
                    CheckId::Reachable,
                    format!(
                        "{base} answered, but not as Jira (no {prefix}/serverInfo): check the URL"
                    ),
                    "the site is not Jira",
                );
            }
            Err(e) => {
                return self.stop(CheckId::Reachable, e.to_string(), "the site is unreachable");
            }
        };
        self.pass(
            CheckId::Reachable,
            format!("Jira {} answered", info.version.as_deref().unwrap_or("")),
        );
        let is_cloud = info.deployment_type.as_deref() == Some("Cloud");
        match (self.req.deployment, is_cloud) {
            (Deployment::Cloud, false) => self.stop(CheckId::Deployment, WRONG_PRODUCT_DATA_CENTER, "wrong Jira product"),
            (Deployment::DataCenter, true) => self.stop(CheckId::Deployment, "This site is Jira Cloud: choose Cloud and use your email with a classic API token.", "wrong Jira product"),
            _ => {
                self.pass(
                    CheckId::Deployment,
                    if is_cloud {
                        "Jira Cloud"
                    } else {
                        "Jira Data Center / Server"
                    },
                );
                Ok(())
            }
        }
    }

    /// Whether a site asked as Cloud, that has no Cloud API, answers as Data Center or Server:
    /// those serve only `/rest/api/2`.
    async fn answers_as_data_center(&self) -> bool {
        if self.req.deployment != Deployment::Cloud {
            return false;
        }
        let Ok(client) = self.client_as(Deployment::DataCenter) else {
            return false;
        };
        client
            .server_info()
            .await
            .is_ok_and(|info| info.deployment_type.as_deref() != Some("Cloud"))
    }

    async fn sign_in(&mut self) -> StepResult {
        let me = match self.ahead.me.take() {
            Some(me) => me,
            None => self.client().myself().await,
        };
        let me = match me {
            Ok(me) => me,
            Err(JiraError::Unauthenticated { .. }) => return self.refused_sign_in().await,
            Err(e) => {
                return self.stop(
                    CheckId::Authenticated,
                    e.to_string(),
                    "the credentials could not be checked",
                );
            }
        };
        self.pass(
            CheckId::Authenticated,
            format!(
                "signed in as {}",
                me.display_name
                    .as_deref()
                    .or(me.name.as_deref())
                    .unwrap_or("?")
            ),
        );
        self.identity = Some(Identity {
            account_id: me.account_id.clone().or(me.key.clone()),
            display_name: me.display_name.clone(),
            time_zone: me.time_zone.clone(),
        });
        self.me = Some(me);
        Ok(())
    }

    /// The token carries no type marker: a token the site refuses but Atlassian's gateway
    /// accepts is a scoped token, or a service account's (also scoped).
    async fn refused_sign_in(&mut self) -> StepResult {
        let gateway = self.gateway();
        let through_gateway = match gateway {
            Some(url) => via_gateway(self.client(), url).await,
            None => None,
        };
        match through_gateway {
            Some(me) if me.account_type.as_deref() == Some("app") => self.stop(CheckId::RealUser, "This is a service account, which is not supported: use a classic API token (without scopes) of a regular Jira user account.", "service accounts are not supported"),
            Some(_) => self.stop(CheckId::ClassicToken, "This is a scoped API token, which only works through Atlassian's API gateway: create a classic API token (without scopes) for a Jira user account.", "the token is a scoped token"),
            None => {
                let unasked = match gateway.is_none() && self.cloud() {
                    true => " (Whether it is a scoped token was not checked: Atlassian's gateway is asked about a token only for an Atlassian Cloud site, *.atlassian.net or *.jira.com.)",
                    false => "",
                };
                self.stop(CheckId::Authenticated, format!("Jira rejected the email and API token: check both, and that the token has not expired or been revoked.{unasked}"), "the credentials were rejected")
            }
        }
    }

    /// Atlassian's gateway, where a Cloud token the site refused may be asked about: only for an
    /// Atlassian Cloud site, or where the gateway is the site itself (the simulator plays both).
    /// Elsewhere the token would go to a host that is not its site's.
    fn gateway(&self) -> Option<&str> {
        let gateway = self.settings.gateway_url.as_str();
        let site = Url::parse(self.req.url.trim()).ok()?;
        let same_origin = Url::parse(gateway).is_ok_and(|g| g.origin() == site.origin());
        (self.cloud() && (is_atlassian_cloud_host(site.host_str()?) || same_origin))
            .then_some(gateway)
    }

    /// The token worked on the site itself, and belongs to a person.
    fn account(&mut self) -> StepResult {
        self.pass(CheckId::ClassicToken, "accepted on the site URL");
        let me = self.me.as_ref().expect("the SignIn step ran");
        if me.account_type.as_deref() == Some("app") {
            return self.stop(CheckId::RealUser, "This is a service account (or app) account, which is not supported: use a classic API token of a regular Jira user account.", "not a user account");
        }
        self.pass(CheckId::RealUser, "a regular Jira user account");
        Ok(())
    }

    /// The permissions, the users' listing and (with a filter) the JQL, side by side: none
    /// depends on another's answer. The Jql step judges the JQL's.
    async fn permissions(&mut self) -> StepResult {
        let client = self.client();
        let filter = jql(self.req);
        let (granted, users, parsed, matches) = tokio::join!(
            client.my_permissions(
                &["BROWSE_PROJECTS", "VIEW_AGGREGATED_DATA", "USER_PICKER"],
                None,
            ),
            client.probe_user_search(),
            async {
                match filter {
                    Some(jql) => Some(client.parse_jql(&[jql]).await),
                    None => None,
                }
            },
            async {
                match filter {
                    Some(jql) => Some(client.count(jql).await),
                    None => None,
                }
            }
        );
        self.ahead.jql = parsed;
        self.ahead.jql_matches = matches;
        let p = match granted {
            Ok(p) => p,
            Err(e) => {
                return self.stop(
                    CheckId::BrowseProjects,
                    format!("permissions could not be read: {e}"),
                    "permissions could not be read",
                );
            }
        };
        let grant = |s: &mut Self, id: CheckId, key: &str| {
            if p.permissions.get(key).is_some_and(|x| x.have_permission) {
                s.pass(id, format!("{key} granted"));
            } else {
                s.fail(id, format!("The user lacks the {} permission ({key}): ask a Jira admin to grant it in the projects to track.", id.title().trim_end_matches(" permission")));
            }
        };
        grant(self, CheckId::BrowseProjects, "BROWSE_PROJECTS");
        grant(self, CheckId::ViewAggregatedData, "VIEW_AGGREGATED_DATA");
        // Browse users: proven by listing users, which needs "Browse users and groups".
        match users {
            Ok(()) => self.pass(CheckId::BrowseUsers, "users can be listed"),
            Err(JiraError::Forbidden { .. }) => self.fail(CheckId::BrowseUsers, "The user cannot list users (HTTP 403): grant the global \"Browse users and groups\" permission."),
            Err(e) => self.fail(CheckId::BrowseUsers, e.to_string()),
        }
        grant(self, CheckId::UserPicker, "USER_PICKER");
        Ok(())
    }

    async fn jql(&mut self) -> StepResult {
        let Some(jql) = jql(self.req) else {
            return Ok(());
        };
        let parsed = match self.ahead.jql.take() {
            Some(parsed) => parsed,
            None => self.client().parse_jql(&[jql]).await,
        };
        // Asked beside the parse when the permissions were; on its own otherwise.
        let matches = match self.ahead.jql_matches.take() {
            Some(matches) => matches,
            None => self.client().count(jql).await,
        };
        match parsed {
            Ok(parsed) => match parsed.queries.first() {
                Some(q) if q.errors.is_empty() => match matches {
                    // Valid, yet a sync would store nothing: said now, not after a sync.
                    Ok(0) => self.pass(
                        CheckId::Jql,
                        "valid, but it matches no issue this user can see: a sync would store nothing",
                    ),
                    _ => self.pass(CheckId::Jql, "valid"),
                },
                Some(q) => self.fail(CheckId::Jql, q.errors.join(" ")),
                None => self.fail(CheckId::Jql, "Jira returned no verdict for the query"),
            },
            Err(e) => self.fail(CheckId::Jql, e.to_string()),
        }
        Ok(())
    }
}

/// Whether `host` is an Atlassian Cloud site's: `*.atlassian.net`, or the older `*.jira.com`
/// (and Atlassian's own staging, `*.jira-dev.com`). Custom domains take no API tokens.
pub fn is_atlassian_cloud_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    [".atlassian.net", ".jira.com", ".jira-dev.com"]
        .iter()
        .any(|suffix| host.ends_with(suffix) && host.len() > suffix.len())
}

/// `/myself` through Atlassian's gateway with the same credentials, if it works there.
async fn via_gateway(site: &JiraClient, gateway: &str) -> Option<Myself> {
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

#[cfg(test)]
mod tests {
    use super::is_atlassian_cloud_host;

    #[test]
    fn atlassian_cloud_hosts_are_told_from_others() {
        for cloud in ["acme.atlassian.net", "ACME.Atlassian.NET.", "old.jira.com"] {
            assert!(is_atlassian_cloud_host(cloud), "{cloud}");
        }
        for other in [
            "atlassian.net",
            "evilatlassian.net",
            "acme.atlassian.net.evil.example",
            "jira.example.com",
            "127.0.0.1",
            "api.atlassian.com",
        ] {
            assert!(!is_atlassian_cloud_host(other), "{other}");
        }
    }
}
