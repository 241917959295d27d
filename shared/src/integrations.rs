//! The integration API's operations, behind the HTTP layer: validate credentials and JQL, list
//! projects, create, read, change and delete integrations, replace their credentials, flag issues
//! by hand and ask for a sync. Every operation is scoped to the caller's account (from the
//! authorizer): an integration of another account is "not found", never "forbidden".
//!
//! Tokens go to the secret store only. Records, responses and errors carry the secret's name at
//! most, never its value.

use serde::{Deserialize, Serialize};

use crate::jira::{Credentials, Deployment, JiraClient, Secret, SiteConfig};
use crate::ports::{EventPublisher, SecretStore, SyncEvent, SyncScheduler, SyncTrigger, Trigger};
use crate::store::{IntegrationRecord, IssueFlag, ScopeConfig, Store, StoreError};
use crate::sync::Excluded;
use crate::validation::{
    self, AuthMethod, CheckId, ConnectionRequest, Report, ValidationSettings, url_guard,
};

/// Everything the operations reach: the store and the ports, and the deployment's settings.
pub struct Services<'a> {
    pub store: &'a dyn Store,
    pub secrets: &'a dyn SecretStore,
    pub scheduler: &'a dyn SyncScheduler,
    pub events: &'a dyn EventPublisher,
    pub settings: &'a Settings,
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// Secret names start with this (IAM grants access to this prefix only).
    pub secret_prefix: String,
    pub default_schedule_rate: String,
    pub validation: ValidationSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input: `field` names what to fix.
    #[error("{field}: {message}")]
    BadRequest { field: String, message: String },
    /// The credentials failed named checks.
    #[error("the connection failed validation: {}", failed_titles(.0))]
    ValidationFailed(Box<Report>),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Internal(String),
}

fn failed_titles(r: &Report) -> String {
    r.failed()
        .iter()
        .map(|c| c.title())
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<crate::ports::PortError> for ApiError {
    fn from(e: crate::ports::PortError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

fn bad(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        field: field.into(),
        message: message.into(),
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

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

fn parse_deployment(value: &str, field: &str) -> ApiResult<Deployment> {
    match value {
        "cloud" => Ok(Deployment::Cloud),
        "datacenter" => Ok(Deployment::DataCenter),
        other => Err(bad(
            field,
            format!("'{other}' is not a deployment: use cloud or datacenter"),
        )),
    }
}

impl Connection {
    fn request(&self, jql: Option<String>) -> ApiResult<ConnectionRequest> {
        let deployment = parse_deployment(&self.deployment, "connection.deployment")?;
        if self.url.trim().is_empty() {
            return Err(bad("connection.url", "is required"));
        }
        let token = self
            .token
            .clone()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| bad("connection.token", "is required"))?;
        if deployment == Deployment::Cloud
            && self.email.as_deref().is_none_or(|e| e.trim().is_empty())
        {
            return Err(bad(
                "connection.email",
                "is required for Jira Cloud (the email of the user whose API token this is)",
            ));
        }
        Ok(ConnectionRequest {
            deployment,
            auth_method: AuthMethod::ApiToken,
            url: self.url.trim().to_string(),
            email: self.email.clone().map(|e| e.trim().to_string()),
            token: Secret::new(token),
            jql,
        })
    }
}

/// A client for a site whose URL has passed the URL checks (shape, and where it resolves).
async fn checked_client(
    req: &ConnectionRequest,
    settings: &ValidationSettings,
) -> ApiResult<JiraClient> {
    let deployment = req.deployment;
    let parsed = url_guard::parse_site_url(&req.url, deployment, settings.allow_private_network)
        .map_err(|e| bad("connection.url", e))?;
    url_guard::resolve_checked(&parsed, settings.allow_private_network)
        .await
        .map_err(|e| bad("connection.url", e))?;
    let base = parsed.as_str().trim_end_matches('/').to_string();
    JiraClient::new(&SiteConfig::new(base, deployment, credentials(req)))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn credentials(req: &ConnectionRequest) -> Credentials {
    match req.deployment {
        Deployment::Cloud => Credentials::ApiToken {
            email: req.email.clone().unwrap_or_default(),
            token: req.token.clone(),
        },
        Deployment::DataCenter => Credentials::PersonalAccessToken {
            token: req.token.clone(),
        },
    }
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

pub async fn validate_credentials(s: &Services<'_>, conn: &Connection) -> ApiResult<Report> {
    let req = conn.request(None)?;
    Ok(validation::validate(&req, &s.settings.validation).await)
}

#[derive(Debug, Serialize)]
pub struct JqlResult {
    pub ok: bool,
    pub errors: Vec<String>,
}

/// Checks a JQL filter with Jira's own parser, as the connection's user.
pub async fn validate_jql(s: &Services<'_>, conn: &Connection, jql: &str) -> ApiResult<JqlResult> {
    if jql.trim().is_empty() {
        return Err(bad("jql", "is required"));
    }
    let req = conn.request(None)?;
    let client = checked_client(&req, &s.settings.validation).await?;
    let parsed = client
        .parse_jql(&[jql])
        .await
        .map_err(|e| bad("connection", e.to_string()))?;
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
    conn: &Connection,
) -> ApiResult<Vec<ProjectSummary>> {
    let req = conn.request(None)?;
    let client = checked_client(&req, &s.settings.validation).await?;
    let projects = client
        .projects()
        .await
        .map_err(|e| bad("connection", e.to_string()))?;
    Ok(projects
        .into_iter()
        .map(|p| ProjectSummary {
            id: p.id,
            key: p.key,
            name: p.name,
        })
        .collect())
}

/// Which issues an integration ingests, as the API takes it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeInput {
    pub kind: String,
    #[serde(default)]
    pub keys: Option<Vec<String>>,
    #[serde(default)]
    pub jql: Option<String>,
}

impl ScopeInput {
    fn config(&self) -> ApiResult<ScopeConfig> {
        match self.kind.as_str() {
            "projects" => {
                let keys: Vec<String> = self
                    .keys
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|k| k.trim().to_string())
                    .filter(|k| !k.is_empty())
                    .collect();
                if keys.is_empty() {
                    return Err(bad("scope.keys", "list at least one project key"));
                }
                Ok(ScopeConfig::Projects { keys })
            }
            "jql" => match self.jql.as_deref().map(str::trim) {
                Some(jql) if !jql.is_empty() => Ok(ScopeConfig::Jql {
                    jql: jql.to_string(),
                }),
                _ => Err(bad("scope.jql", "is required when scope.kind is jql")),
            },
            "all_accessible" => Ok(ScopeConfig::AllAccessible),
            other => Err(bad(
                "scope.kind",
                format!("'{other}' is not a scope: use projects, jql or all_accessible"),
            )),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationCreate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub connection: Connection,
    pub scope: ScopeInput,
    #[serde(default)]
    pub excluded_fields: Vec<String>,
    #[serde(default)]
    pub custom_fields: Vec<String>,
    #[serde(default)]
    pub schedule_rate: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub scope: Option<ScopeInput>,
    pub excluded_fields: Option<Vec<String>>,
    pub custom_fields: Option<Vec<String>>,
    pub schedule_rate: Option<String>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsUpdate {
    #[serde(default)]
    pub email: Option<String>,
    pub token: String,
}

/// An integration as the API shows it: never the token, nor where it is kept.
#[derive(Clone, Debug, Serialize)]
pub struct IntegrationView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub deployment: String,
    pub url: String,
    pub email: Option<String>,
    pub scope: ScopeConfig,
    pub excluded_fields: Vec<String>,
    pub custom_fields: Vec<String>,
    pub schedule_rate: String,
    pub created_at: String,
    pub updated_at: String,
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl From<&IntegrationRecord> for IntegrationView {
    fn from(r: &IntegrationRecord) -> Self {
        IntegrationView {
            id: r.id.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            tags: r.tags.clone(),
            deployment: r.deployment.clone(),
            url: r.url.clone(),
            email: r.email.clone(),
            scope: r.scope.clone(),
            excluded_fields: r.excluded_fields.clone(),
            custom_fields: r.custom_fields.clone(),
            schedule_rate: r.schedule_rate.clone(),
            created_at: rfc3339(r.created_ms),
            updated_at: rfc3339(r.updated_ms),
        }
    }
}

fn checked_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(bad("name", "must be 1 to 200 characters"));
    }
    Ok(name.to_string())
}

/// At most this many characters of description, tags of at most [`MAX_TAG_CHARS`], and
/// [`MAX_TAGS`] of them: an integration record stays small, and an oversized one is a 400
/// naming the field rather than a store error.
const MAX_DESCRIPTION_CHARS: usize = 2_000;
const MAX_TAGS: usize = 50;
const MAX_TAG_CHARS: usize = 128;

fn checked_description(description: &str) -> ApiResult<String> {
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(bad(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(description.to_string())
}

fn checked_tags(tags: &[String]) -> ApiResult<Vec<String>> {
    if tags.len() > MAX_TAGS {
        return Err(bad("tags", format!("at most {MAX_TAGS} tags")));
    }
    let mut out = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim();
        if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
            return Err(bad(
                "tags",
                format!("each tag must be 1 to {MAX_TAG_CHARS} characters"),
            ));
        }
        if !out.iter().any(|t: &String| t == tag) {
            out.push(tag.to_string());
        }
    }
    Ok(out)
}

/// The custom fields to map, trimmed, each once (names compare case-insensitively, as the
/// sync resolves them).
fn normalized_custom_fields(fields: &[String]) -> ApiResult<Vec<String>> {
    let mut wanted: Vec<String> = Vec::new();
    for field in fields.iter().map(|f| f.trim()) {
        if field.is_empty() || field.chars().count() > 255 {
            return Err(bad(
                "custom_fields",
                "each field name or id must be 1 to 255 characters",
            ));
        }
        if !wanted.iter().any(|w| w.eq_ignore_ascii_case(field)) {
            wanted.push(field.to_string());
        }
    }
    Ok(wanted)
}

/// Checks that the site has every field of `wanted` (a name or id), as the sync will resolve
/// them, so a typo is a 400 naming `custom_fields` now rather than a failed sync every hour.
async fn check_custom_fields_exist(
    s: &Services<'_>,
    req: &ConnectionRequest,
    wanted: &[String],
) -> ApiResult<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let client = checked_client(req, &s.settings.validation).await?;
    let site_fields = client
        .fields()
        .await
        .map_err(|e| bad("connection", e.to_string()))?;
    crate::sync::plan::resolve_fields(&site_fields, wanted).map_err(|e| bad("custom_fields", e))?;
    Ok(())
}

fn checked_excluded(fields: &[String]) -> ApiResult<Vec<String>> {
    Excluded::parse(&fields.join(",")).map_err(|e| bad("excluded_fields", e))?;
    let mut out: Vec<String> = fields.iter().map(|f| f.trim().to_lowercase()).collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// `rate(N unit)` or `cron(…)`, checked as EventBridge Scheduler checks them, so no expression
/// is stored that the schedule would then refuse.
fn checked_rate(rate: &str) -> ApiResult<String> {
    let rate = rate.trim();
    crate::schedule_expression::validate_rate(rate).map_err(|why| {
        bad(
            "schedule_rate",
            format!("{why}; e.g. rate(1 hour), rate(30 minutes) or cron(0 * * * ? *)"),
        )
    })?;
    Ok(rate.to_string())
}

async fn owned(s: &Services<'_>, account: &str, id: &str) -> ApiResult<IntegrationRecord> {
    s.store
        .get_integration(account, id)
        .await?
        .ok_or_else(|| gone(id))
}

fn gone(id: &str) -> ApiError {
    ApiError::NotFound(format!("integration '{id}'"))
}

/// Validates the connection (every check must pass), then keeps the token in the secret store,
/// the integration in the store, and schedules its syncs.
pub async fn create(
    s: &Services<'_>,
    account: &str,
    input: &IntegrationCreate,
    id: &str,
    now_ms: i64,
) -> ApiResult<IntegrationView> {
    let name = checked_name(&input.name)?;
    let scope = input.scope.config()?;
    let excluded_fields = checked_excluded(&input.excluded_fields)?;
    let schedule_rate = checked_rate(
        input
            .schedule_rate
            .as_deref()
            .unwrap_or(&s.settings.default_schedule_rate),
    )?;
    let jql = match &scope {
        ScopeConfig::Jql { jql } => Some(jql.clone()),
        _ => None,
    };
    let req = input.connection.request(jql)?;
    let description = checked_description(&input.description)?;
    let tags = checked_tags(&input.tags)?;
    let report = validation::validate(&req, &s.settings.validation).await;
    if !report.passed() {
        return Err(ApiError::ValidationFailed(Box::new(report)));
    }
    let custom_fields = normalized_custom_fields(&input.custom_fields)?;
    check_custom_fields_exist(s, &req, &custom_fields).await?;
    let secret = crate::ports::secret_name(&s.settings.secret_prefix, account, id)?;
    s.secrets.put_secret(&secret, &req.token).await?;
    let record = IntegrationRecord {
        account: account.to_string(),
        id: id.to_string(),
        name,
        description,
        tags,
        deployment: input.connection.deployment.clone(),
        url: req.url.trim_end_matches('/').to_string(),
        email: req
            .email
            .clone()
            .filter(|_| req.deployment == Deployment::Cloud),
        secret_name: secret,
        scope,
        excluded_fields,
        custom_fields,
        schedule_rate,
        created_ms: now_ms,
        updated_ms: now_ms,
    };
    s.store.put_integration(&record).await?;
    if let Err(e) = s
        .scheduler
        .upsert_schedule(account, id, &record.schedule_rate)
        .await
    {
        // Without its schedule the integration would never sync: undo the create, so the
        // caller's retry starts clean rather than meeting a half-made integration.
        if let Err(undo) = s.store.delete_integration(account, id).await {
            tracing::warn!(integration = %id, error = %undo, "undoing a failed create: the record stays");
        }
        if let Err(undo) = s.secrets.delete_secret(&record.secret_name).await {
            tracing::warn!(integration = %id, error = %undo, "undoing a failed create: the secret stays");
        }
        return Err(e.into());
    }
    Ok(IntegrationView::from(&record))
}

pub async fn list(s: &Services<'_>, account: &str) -> ApiResult<Vec<IntegrationView>> {
    Ok(s.store
        .list_integrations(account)
        .await?
        .iter()
        .map(IntegrationView::from)
        .collect())
}

pub async fn get(s: &Services<'_>, account: &str, id: &str) -> ApiResult<IntegrationView> {
    Ok(IntegrationView::from(&owned(s, account, id).await?))
}

/// Changes the advanced configuration; a new JQL filter is checked with Jira's parser first.
pub async fn update(
    s: &Services<'_>,
    account: &str,
    id: &str,
    patch: &IntegrationPatch,
    now_ms: i64,
) -> ApiResult<IntegrationView> {
    let mut record = owned(s, account, id).await?;
    if let Some(name) = &patch.name {
        record.name = checked_name(name)?;
    }
    if let Some(d) = &patch.description {
        record.description = checked_description(d)?;
    }
    if let Some(tags) = &patch.tags {
        record.tags = checked_tags(tags)?;
    }
    if let Some(fields) = &patch.excluded_fields {
        record.excluded_fields = checked_excluded(fields)?;
    }
    if let Some(fields) = &patch.custom_fields {
        let wanted = normalized_custom_fields(fields)?;
        if !wanted.is_empty() {
            let req = stored_connection(s, &record).await?.request(None)?;
            check_custom_fields_exist(s, &req, &wanted).await?;
        }
        record.custom_fields = wanted;
    }
    let rate_changed = match &patch.schedule_rate {
        Some(rate) => {
            record.schedule_rate = checked_rate(rate)?;
            true
        }
        None => false,
    };
    if let Some(scope) = &patch.scope {
        let scope = scope.config()?;
        if let ScopeConfig::Jql { jql } = &scope {
            let conn = stored_connection(s, &record).await?;
            let result = validate_jql(s, &conn, jql).await?;
            if !result.ok {
                return Err(bad("scope.jql", result.errors.join("; ")));
            }
        }
        record.scope = scope;
    }
    // The schedule first: if Scheduler refuses, the stored record still says what runs.
    if rate_changed {
        s.scheduler
            .upsert_schedule(account, id, &record.schedule_rate)
            .await?;
    }
    record.updated_ms = now_ms;
    if !s.store.replace_integration(&record).await? {
        return Err(gone(id));
    }
    Ok(IntegrationView::from(&record))
}

/// The integration's own connection, its token read from the secret store: what the API uses
/// to check a changed configuration against Jira.
async fn stored_connection(s: &Services<'_>, record: &IntegrationRecord) -> ApiResult<Connection> {
    let token = s
        .secrets
        .get_secret(&record.secret_name)
        .await?
        .ok_or_else(|| ApiError::Internal("the integration's token is missing".into()))?;
    Ok(Connection {
        deployment: record.deployment.clone(),
        url: record.url.clone(),
        email: record.email.clone(),
        token: Some(token.expose().to_string()),
    })
}

/// Re-validates with a new token (and email); the secret is replaced only when every check passes.
pub async fn update_credentials(
    s: &Services<'_>,
    account: &str,
    id: &str,
    update: &CredentialsUpdate,
    now_ms: i64,
) -> ApiResult<Report> {
    let mut record = owned(s, account, id).await?;
    let conn = Connection {
        deployment: record.deployment.clone(),
        url: record.url.clone(),
        email: update.email.clone().or(record.email.clone()),
        token: Some(update.token.clone()),
    };
    let req = conn.request(None).map_err(|e| match e {
        ApiError::BadRequest { field, message } => ApiError::BadRequest {
            field: field.trim_start_matches("connection.").to_string(),
            message,
        },
        other => other,
    })?;
    let report = validation::validate(&req, &s.settings.validation).await;
    if !report.passed() {
        return Err(ApiError::ValidationFailed(Box::new(report)));
    }
    s.secrets
        .put_secret(&record.secret_name, &req.token)
        .await?;
    if record.deployment == "cloud" {
        record.email = req.email.clone();
    }
    record.updated_ms = now_ms;
    if !s.store.replace_integration(&record).await? {
        // Deleted while this was validating: the secret just written must not outlive it.
        s.secrets.delete_secret(&record.secret_name).await?;
        return Err(gone(id));
    }
    Ok(report)
}

/// Removes the schedule first (no sync starts mid-deletion), then the secret, then the data.
pub async fn delete(s: &Services<'_>, account: &str, id: &str) -> ApiResult<()> {
    let record = owned(s, account, id).await?;
    s.scheduler.delete_schedule(id).await?;
    s.secrets.delete_secret(&record.secret_name).await?;
    s.store.delete_integration(account, id).await?;
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandFlag {
    Hide,
    Unhide,
    Remove,
}

pub async fn flag_issue(
    s: &Services<'_>,
    account: &str,
    id: &str,
    issue_id: &str,
    flag: HandFlag,
) -> ApiResult<()> {
    owned(s, account, id).await?;
    if issue_id.is_empty() || !issue_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("issueId", "must be Jira's numeric issue id"));
    }
    let flag = match flag {
        HandFlag::Hide => IssueFlag::Hidden,
        HandFlag::Unhide => IssueFlag::Unhidden,
        HandFlag::Remove => IssueFlag::Removed,
    };
    if s.store.flag_issue(id, issue_id, flag).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("issue '{issue_id}'")))
    }
}

/// Asks for a sync now, through the same event a sync uses to continue itself.
pub async fn request_sync(s: &Services<'_>, account: &str, id: &str) -> ApiResult<()> {
    owned(s, account, id).await?;
    s.events
        .publish(&SyncEvent::Continue(SyncTrigger {
            account_id: account.to_string(),
            integration_id: id.to_string(),
            trigger: Trigger::Manual,
        }))
        .await?;
    Ok(())
}

/// Which check ids exist, for the API document's test.
pub fn check_ids() -> Vec<CheckId> {
    vec![
        CheckId::AuthMethod,
        CheckId::UrlFormat,
        CheckId::UrlAllowed,
        CheckId::Reachable,
        CheckId::Deployment,
        CheckId::Authenticated,
        CheckId::ClassicToken,
        CheckId::RealUser,
        CheckId::BrowseProjects,
        CheckId::ViewAggregatedData,
        CheckId::BrowseUsers,
        CheckId::UserPicker,
        CheckId::Jql,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_rates_are_checked() {
        for ok in [
            "rate(1 hour)",
            "rate(30 minutes)",
            "rate(2 days)",
            "cron(0 * * * ? *)",
        ] {
            assert!(checked_rate(ok).is_ok(), "{ok}");
        }
        for wrong in [
            "rate(1 hours)",
            "rate(0 minutes)",
            "hourly",
            "rate(5 weeks)",
            "cron()",
        ] {
            let err = checked_rate(wrong).unwrap_err();
            assert!(err.to_string().starts_with("schedule_rate:"), "{err}");
        }
    }

    #[test]
    fn scope_input_names_the_field_at_fault() {
        let s = |kind: &str| ScopeInput {
            kind: kind.into(),
            keys: None,
            jql: None,
        };
        assert!(
            s("projects")
                .config()
                .unwrap_err()
                .to_string()
                .starts_with("scope.keys")
        );
        assert!(
            s("jql")
                .config()
                .unwrap_err()
                .to_string()
                .starts_with("scope.jql")
        );
        assert!(
            s("everything")
                .config()
                .unwrap_err()
                .to_string()
                .starts_with("scope.kind")
        );
        assert_eq!(
            s("all_accessible").config().unwrap(),
            ScopeConfig::AllAccessible
        );
    }

    #[test]
    fn a_connection_never_prints_its_token() {
        let c = Connection {
            deployment: "cloud".into(),
            url: "https://x.atlassian.net".into(),
            email: Some("a@b.c".into()),
            token: Some("ATATT-secret-value".into()),
        };
        assert!(!format!("{c:?}").contains("secret-value"));
    }
}
