//! A Jira connection as the API takes it, and what can be asked of one before an integration
//! exists: the credential checks, a JQL check and a project search.

use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult, Services, bad};
use crate::jira::{Credentials, Deployment, JiraClient, JiraError, Secret, SiteConfig};
use crate::validation::{
    self, AuthMethod, ConnectionRequest, Report, ValidationSettings, url_guard,
};

/// How to reach a Jira site, as the API takes it.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    pub deployment: String,
    pub url: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("deployment", &self.deployment)
            .field("url", &self.url)
            .field("email", &self.email)
            .field("token", &"***")
            .finish()
    }
}

pub(super) fn parse_deployment(value: &str, field: &str) -> ApiResult<Deployment> {
    Deployment::parse(value).ok_or_else(|| {
        bad(
            field,
            format!("'{value}' is not a deployment: use cloud or datacenter"),
        )
    })
}

impl Connection {
    pub(super) fn request(&self, jql: Option<String>) -> ApiResult<ConnectionRequest> {
        let deployment = parse_deployment(&self.deployment, "connection.deployment")?;
        if self.url.trim().is_empty() {
            return Err(bad("connection.url", "is required"));
        }
        let credentials = CredentialInput {
            email: self.email.as_deref(),
            token: self.token.as_deref(),
        };
        Ok(ConnectionRequest {
            jql,
            ..credentials.request(deployment, &self.url, "connection.")?
        })
    }
}

/// An email and token as a request gives them, before they are checked.
pub(super) struct CredentialInput<'a> {
    pub email: Option<&'a str>,
    pub token: Option<&'a str>,
}

impl CredentialInput<'_> {
    /// The request to validate, once a token (and on Cloud an email) is there; `prefix` is where
    /// the fields sit in the request body, so a refusal names them as the caller sent them.
    pub(super) fn request(
        &self,
        deployment: Deployment,
        url: &str,
        prefix: &str,
    ) -> ApiResult<ConnectionRequest> {
        let token = self
            .token
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| bad(&format!("{prefix}token"), "is required"))?;
        // Atlassian's API tokens are about 200 characters, personal access tokens far fewer;
        // a token goes into a header, where control characters have no place.
        if token.chars().count() > MAX_TOKEN_CHARS {
            return Err(bad(
                &format!("{prefix}token"),
                format!("must be at most {MAX_TOKEN_CHARS} characters"),
            ));
        }
        if token.chars().any(char::is_control) {
            return Err(bad(
                &format!("{prefix}token"),
                "must not hold control characters (a line break pasted with it?)",
            ));
        }
        if deployment == Deployment::Cloud && self.email.is_none_or(|e| e.trim().is_empty()) {
            return Err(bad(
                &format!("{prefix}email"),
                "is required for Jira Cloud (the email of the user whose API token this is)",
            ));
        }
        if let Some(email) = self.email.map(str::trim).filter(|e| !e.is_empty())
            && !is_email(email)
        {
            // Not repeated: it may be the token, pasted into the wrong field.
            return Err(bad(&format!("{prefix}email"), "is not an email address"));
        }
        Ok(ConnectionRequest {
            deployment,
            auth_method: AuthMethod::ApiToken,
            url: url.trim().to_string(),
            email: self.email.map(|e| e.trim().to_string()),
            token: Secret::new(token),
            jql: None,
        })
    }
}

/// The longest token taken.
const MAX_TOKEN_CHARS: usize = 1_024;

/// An address as an email field may hold one: something before and after a single `@`, no
/// spaces, and no longer than addresses can be (RFC 5321). Lenient past that: Jira checks it.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// What a request's call to Jira ended with, as the API answers it: a wait Jira asked for that
/// the request cannot outlast is "try again later", anything else is the connection's fault.
pub(super) fn jira_refusal(e: JiraError) -> ApiError {
    match e {
        JiraError::PastDeadline { wait, .. } | JiraError::WaitedTooLong { wait, .. } => {
            ApiError::RetryLater {
                message: format!(
                    "Jira asked for a wait of {} s, longer than this request may take; try again \
                     later",
                    wait.as_secs().max(1)
                ),
                after: wait,
            }
        }
        other => bad("connection", other.to_string()),
    }
}

/// A client for a site whose URL has passed the URL checks (shape, and where it resolves), whose
/// waits for Jira end within the request's deadline ([`ValidationSettings::deadline`]).
pub(super) async fn checked_client(
    req: &ConnectionRequest,
    settings: &ValidationSettings,
) -> ApiResult<JiraClient> {
    let deployment = req.deployment;
    let networks = &settings.private_networks;
    let parsed = url_guard::parse_site_url(&req.url, deployment, networks)
        .map_err(|e| bad("connection.url", e))?;
    url_guard::resolve_checked(&parsed, networks)
        .await
        .map_err(|e| bad("connection.url", e.to_string()))?;
    let base = parsed.as_str().trim_end_matches('/').to_string();
    let credentials = Credentials::new(deployment, req.email.as_deref(), req.token.clone());
    JiraClient::new(&SiteConfig {
        private_networks: networks.clone(),
        deadline: Some(std::time::Instant::now() + settings.deadline),
        ..SiteConfig::new(base, deployment, credentials)
    })
    .map_err(|e| ApiError::Internal(e.to_string()))
}

#[derive(Debug, Serialize)]
pub struct ValidationResult {
    pub ok: bool,
    pub checks: Vec<validation::Check>,
}

impl From<Report> for ValidationResult {
    fn from(r: Report) -> Self {
        ValidationResult {
            ok: r.passed(),
            checks: r.checks,
        }
    }
}

/// The window of the validation quota.
const QUOTA_WINDOW_MS: i64 = 60_000;

/// Counts a call that asks the account's Jira site (a credential check, a JQL check, a project
/// search) against the account's quota; past it, the caller is told when to try again.
async fn within_quota(s: &Services<'_>, account: &str, now_ms: i64) -> ApiResult<()> {
    let window = now_ms - now_ms.rem_euclid(QUOTA_WINDOW_MS);
    let made = s.calls.count_call(account, "validation", window).await?;
    let most = s.settings.validations_per_minute;
    if made <= u64::from(most) {
        return Ok(());
    }
    let after = std::time::Duration::from_millis(
        u64::try_from(window + QUOTA_WINDOW_MS - now_ms)
            .unwrap_or(1_000)
            .max(1_000),
    );
    Err(ApiError::QuotaExceeded {
        message: format!(
            "this account has asked for {most} credential checks, JQL checks and project \
             searches this minute, the most it may (ValidationsPerMinute = {most}); try again \
             in {} s",
            after.as_secs()
        ),
        after,
    })
}

pub async fn validate_credentials(
    s: &Services<'_>,
    account: &str,
    conn: &Connection,
    now_ms: i64,
) -> ApiResult<Report> {
    let req = conn.request(None)?;
    within_quota(s, account, now_ms).await?;
    Ok(validation::validate(&req, &s.settings.validation).await)
}

#[derive(Debug, Serialize)]
pub struct JqlResult {
    pub ok: bool,
    pub errors: Vec<String>,
}

/// Checks a JQL filter with Jira's own parser, as the connection's user.
pub async fn validate_jql(
    s: &Services<'_>,
    account: &str,
    conn: &Connection,
    jql: &str,
    now_ms: i64,
) -> ApiResult<JqlResult> {
    if jql.trim().is_empty() {
        return Err(bad("jql", "is required"));
    }
    let req = conn.request(None)?;
    within_quota(s, account, now_ms).await?;
    jql_result(s, &req, jql).await
}

/// Jira's verdict on `jql` for the connection's user.
pub(super) async fn jql_result(
    s: &Services<'_>,
    req: &ConnectionRequest,
    jql: &str,
) -> ApiResult<JqlResult> {
    let client = checked_client(req, &s.settings.validation).await?;
    let parsed = client.parse_jql(&[jql]).await.map_err(jira_refusal)?;
    let errors: Vec<String> = parsed.queries.into_iter().flat_map(|q| q.errors).collect();
    Ok(JqlResult {
        ok: errors.is_empty(),
        errors,
    })
}

#[derive(Debug, Serialize)]
pub struct ProjectSummary {
    pub id: String,
    pub key: String,
    pub name: String,
}

/// The projects the connection's user can browse (the project selector).
pub async fn search_projects(
    s: &Services<'_>,
    account: &str,
    conn: &Connection,
    now_ms: i64,
) -> ApiResult<Vec<ProjectSummary>> {
    let req = conn.request(None)?;
    within_quota(s, account, now_ms).await?;
    let client = checked_client(&req, &s.settings.validation).await?;
    let projects = client.projects().await.map_err(jira_refusal)?;
    Ok(projects
        .into_iter()
        .map(|p| ProjectSummary {
            id: p.id,
            key: p.key,
            name: p.name,
        })
        .collect())
}
