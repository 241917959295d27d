//! The integration API's operations, behind the HTTP layer: validate credentials and JQL, list
//! projects, create, read, change and delete integrations, replace their credentials, flag issues
//! by hand and ask for a sync. Every operation is scoped to the caller's account (from the
//! authorizer): an integration of another account is "not found", never "forbidden".
//!
//! Here: the operations on stored integrations. `connection`: a connection as the API takes it
//! and what can be asked of one before an integration exists. `input`: request bodies, views and
//! the check of each field.
//!
//! Tokens go to the secret store only. Records, responses and errors carry the secret's name at
//! most, never its value.

use serde::Serialize;

use crate::jira::Deployment;
use crate::ports::{EventPublisher, SecretStore, SyncEvent, SyncScheduler, SyncTrigger, Trigger};
use crate::store::{
    CallCounter, IntegrationRecord, IntegrationStore, IssueFlag, IssueStore, RecordKind,
    RecordStore, ScopeConfig, StoreError,
};
use crate::sync::Excluded;
use crate::sync::chain;
use crate::validation::{self, AuthMethod, ConnectionRequest, Report, ValidationSettings};

mod connection;
mod input;

pub use connection::*;
pub use input::*;

/// Everything the operations reach: the store's integrations and issues, the ports, and the
/// deployment's settings.
pub struct Services<'a> {
    pub integrations: &'a dyn IntegrationStore,
    /// The account's calls, counted for its quotas.
    pub calls: &'a dyn CallCounter,
    /// The sync's state: whether a chain of runs is requested or under way.
    pub records: &'a dyn RecordStore,
    /// Only for flags set by hand.
    pub issues: &'a dyn IssueStore,
    pub secrets: &'a dyn SecretStore,
    pub scheduler: &'a dyn SyncScheduler,
    pub events: &'a dyn EventPublisher,
    pub settings: &'a ApiSettings,
}

#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// Secret names start with this (IAM grants access to this prefix only).
    pub secret_prefix: String,
    pub default_schedule_rate: String,
    /// The shortest time between two syncs of one integration a schedule may ask for.
    pub min_schedule_minutes: u32,
    /// The most integrations one account may have (template: `MaxIntegrationsPerAccount`): each
    /// is a secret, a schedule and a share of the sync function.
    pub max_integrations: usize,
    /// Credential checks, JQL checks and project searches an account may ask for in a minute
    /// (template: `ValidationsPerMinute`): each asks a Jira site.
    pub validations_per_minute: u32,
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
    /// The request contradicts what is stored (an idempotency key reused for another body).
    #[error("{0}")]
    Conflict(String),
    /// The site asked for a wait longer than the request may take: the caller tries again
    /// after `after`.
    #[error("{message}")]
    RetryLater {
        message: String,
        after: std::time::Duration,
    },
    /// The account has made as many calls of the kind as its quota allows for now: it tries
    /// again after `after`.
    #[error("{message}")]
    QuotaExceeded {
        message: String,
        after: std::time::Duration,
    },
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

async fn owned(s: &Services<'_>, account: &str, id: &str) -> ApiResult<IntegrationRecord> {
    s.integrations
        .get_integration(account, id)
        .await?
        .ok_or_else(|| gone(id))
}

fn gone(id: &str) -> ApiError {
    ApiError::NotFound(format!("integration '{id}'"))
}

/// The longest `Idempotency-Key` taken.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

/// The id of an integration about to be created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewIntegrationId {
    pub id: String,
    /// Derived from the client's `Idempotency-Key`: another request may find it.
    pub idempotent: bool,
}

/// The id a new integration gets: random, or, when the client sent an idempotency key, derived
/// from the account and the key, so that a retried create finds the integration its first try
/// made instead of making a second one.
pub fn new_integration_id(
    account: &str,
    idempotency_key: Option<&str>,
) -> ApiResult<NewIntegrationId> {
    let Some(key) = idempotency_key else {
        return Ok(NewIntegrationId {
            id: uuid::Uuid::new_v4().to_string(),
            idempotent: false,
        });
    };
    let key = key.trim();
    if key.is_empty()
        || key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS
        || !key.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(bad(
            "Idempotency-Key",
            format!("must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters"),
        ));
    }
    let name = format!("sei-jira/integration\n{account}\n{key}");
    Ok(NewIntegrationId {
        id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, name.as_bytes()).to_string(),
        idempotent: true,
    })
}

/// Validates the connection (every check must pass), then keeps the integration in the store,
/// its token in the secret store, and schedules its syncs. The record is created by one
/// conditional write, so of two requests with the same idempotency key exactly one creates it;
/// the other (and any later retry) answers from what the first stored when it asks for the same
/// integration, and is a conflict otherwise. Nothing is made twice, and no undo removes what
/// another request answered for.
pub async fn create(
    s: &Services<'_>,
    account: &str,
    input: &IntegrationCreate,
    new_id: &NewIntegrationId,
    now_ms: i64,
) -> ApiResult<IntegrationView> {
    let id = new_id.id.as_str();
    let name = checked_name(&input.name)?;
    let scope = input.scope.config()?;
    let excluded_fields = checked_excluded(&input.excluded_fields)?;
    let schedule_rate = checked_rate(
        input
            .schedule_rate
            .as_deref()
            .unwrap_or(&s.settings.default_schedule_rate),
        s.settings.min_schedule_minutes,
    )?;
    let jql = match &scope {
        ScopeConfig::Jql { jql } => Some(jql.clone()),
        _ => None,
    };
    let req = input.connection.request(jql)?;
    let description = checked_description(&input.description)?;
    let tags = checked_tags(&input.tags)?;
    let custom_fields = normalized_custom_fields(&input.custom_fields)?;
    let asked = Asked {
        name: &name,
        url: req.url.trim_end_matches('/'),
        scope: &scope,
    };
    if let Some(existing) = s.integrations.get_integration(account, id).await? {
        return asked.answer_from(s, &existing).await;
    }
    let held = s.integrations.list_integrations(account).await?.len();
    if held >= s.settings.max_integrations {
        return Err(ApiError::Conflict(format!(
            "this account has {held} integrations, the most it may have \
             (MaxIntegrationsPerAccount = {}): delete one to create another",
            s.settings.max_integrations
        )));
    }
    let report = validation::validate(&req, &s.settings.validation).await;
    if !report.passed() {
        return Err(ApiError::ValidationFailed(Box::new(report)));
    }
    let excluded = Excluded::parse(&checked_excluded(&input.excluded_fields)?.join(","))
        .map_err(|e| bad("excluded_fields", e))?;
    check_custom_fields_exist(s, &req, &custom_fields, excluded).await?;
    let secret = crate::ports::secret_name(&s.settings.secret_prefix, account, id)?;
    let record = IntegrationRecord {
        account: account.to_string(),
        id: id.to_string(),
        name: name.clone(),
        description,
        tags,
        deployment: req.deployment,
        url: asked.url.to_string(),
        email: req
            .email
            .clone()
            .filter(|_| req.deployment == Deployment::Cloud),
        secret_name: secret,
        scope: scope.clone(),
        excluded_fields,
        custom_fields,
        schedule_rate,
        created_ms: now_ms,
        updated_ms: now_ms,
    };
    if !s.integrations.create_integration(&record).await? {
        // Another request with the same key created it meanwhile.
        let existing = s
            .integrations
            .get_integration(account, id)
            .await?
            .ok_or_else(|| ApiError::Conflict(IN_PROGRESS.into()))?;
        return asked.answer_from(s, &existing).await;
    }
    if let Err(e) = s.secrets.put_secret(&record.secret_name, &req.token).await {
        // No other request answers for a record without its token (see `answer_from`).
        undo_record(s, account, id).await;
        return Err(e.into());
    }
    if let Err(e) = s
        .scheduler
        .upsert_schedule(account, id, &record.schedule_rate)
        .await
    {
        // Without its schedule the integration would never sync. A random id no one else can
        // know is undone, so the caller's retry starts clean; a keyed one stays, since another
        // request may already have answered for it, and a retry with the key makes the schedule.
        if !new_id.idempotent {
            undo_record(s, account, id).await;
            if let Err(undo) = s.secrets.delete_secret(&record.secret_name).await {
                tracing::warn!(integration = %id, error = %undo, "undoing a failed create: the secret stays");
            }
        }
        return Err(e.into());
    }
    Ok(IntegrationView::from(&record))
}

/// The answer to a create whose id another request created first, while it is still being made.
const IN_PROGRESS: &str =
    "Idempotency-Key: a create with this key is still in progress; retry in a moment";

/// What a create asks for, to compare with an integration already stored under its id.
struct Asked<'a> {
    name: &'a str,
    url: &'a str,
    scope: &'a ScopeConfig,
}

impl Asked<'_> {
    /// The answer to a retried create: the stored integration when it is the one asked for and
    /// complete (its token kept), its schedule made sure of (an upsert: the first try may have
    /// stopped before it); a conflict otherwise.
    async fn answer_from(
        &self,
        s: &Services<'_>,
        existing: &IntegrationRecord,
    ) -> ApiResult<IntegrationView> {
        let same =
            existing.name == self.name && existing.url == self.url && existing.scope == *self.scope;
        if !same {
            return Err(ApiError::Conflict(
                "Idempotency-Key: already used to create another integration".into(),
            ));
        }
        if s.secrets.get_secret(&existing.secret_name).await?.is_none() {
            return Err(ApiError::Conflict(IN_PROGRESS.into()));
        }
        s.scheduler
            .upsert_schedule(&existing.account, &existing.id, &existing.schedule_rate)
            .await?;
        Ok(IntegrationView::from(existing))
    }
}

/// Removes a record this request created and could not finish.
async fn undo_record(s: &Services<'_>, account: &str, id: &str) {
    if let Err(undo) = s.integrations.delete_integration(account, id).await {
        tracing::warn!(integration = %id, error = %undo, "undoing a failed create: the record stays");
    }
}

pub async fn list(s: &Services<'_>, account: &str) -> ApiResult<Vec<IntegrationView>> {
    Ok(s.integrations
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
    let read = record.clone();
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
            let req = stored_connection(s, &record).await?;
            let excluded = Excluded::parse(&record.excluded_fields.join(","))
                .map_err(|e| bad("excluded_fields", e))?;
            check_custom_fields_exist(s, &req, &wanted, excluded).await?;
        }
        record.custom_fields = wanted;
    }
    let rate_changed = match &patch.schedule_rate {
        Some(rate) => {
            record.schedule_rate = checked_rate(rate, s.settings.min_schedule_minutes)?;
            true
        }
        None => false,
    };
    if let Some(scope) = &patch.scope {
        let scope = scope.config()?;
        if let ScopeConfig::Jql { jql } = &scope {
            let req = stored_connection(s, &record).await?;
            let result = jql_result(s, &req, jql).await?;
            if !result.ok {
                return Err(bad("scope.jql", result.errors.join("; ")));
            }
        }
        record.scope = scope;
    }
    // A change kept in the same millisecond must still be a new version.
    record.updated_ms = now_ms.max(read.updated_ms + 1);
    if !s
        .integrations
        .replace_integration(&record, read.updated_ms)
        .await?
    {
        return Err(lost_race(s, account, id).await?);
    }
    if rate_changed {
        if let Err(e) = s
            .scheduler
            .upsert_schedule(account, id, &record.schedule_rate)
            .await
        {
            // Scheduler refused: the stored record goes back to saying what runs.
            if let Err(undo) = s
                .integrations
                .replace_integration(&read, record.updated_ms)
                .await
            {
                tracing::warn!(integration = %id, error = %undo, "undoing a refused schedule change");
            }
            return Err(e.into());
        }
        // Deleted while the schedule was being written: the deletion removed the schedule
        // before this wrote it, so it is removed again here.
        if s.integrations.get_integration(account, id).await?.is_none() {
            s.scheduler.delete_schedule(id).await?;
            return Err(gone(id));
        }
    }
    Ok(IntegrationView::from(&record))
}

/// Why a replacement was refused: the integration is gone (404), or another change was kept
/// since it was read (409: read it again and retry).
async fn lost_race(s: &Services<'_>, account: &str, id: &str) -> ApiResult<ApiError> {
    Ok(match s.integrations.get_integration(account, id).await? {
        None => gone(id),
        Some(_) => ApiError::Conflict(format!(
            "integration '{id}' was changed by another request meanwhile; read it again and retry"
        )),
    })
}

/// The integration's own connection, its token read from the secret store: what the API uses
/// to check a changed configuration against Jira.
async fn stored_connection(
    s: &Services<'_>,
    record: &IntegrationRecord,
) -> ApiResult<ConnectionRequest> {
    let token = s
        .secrets
        .get_secret(&record.secret_name)
        .await?
        .ok_or_else(|| ApiError::Internal("the integration's token is missing".into()))?;
    Ok(ConnectionRequest {
        deployment: record.deployment,
        auth_method: AuthMethod::ApiToken,
        url: record.url.clone(),
        email: record.email.clone(),
        token,
        jql: None,
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
    let credentials = connection::CredentialInput {
        email: update.email.as_deref().or(record.email.as_deref()),
        token: Some(&update.token),
    };
    let req = credentials.request(record.deployment, &record.url, "")?;
    let report = validation::validate(&req, &s.settings.validation).await;
    if !report.passed() {
        return Err(ApiError::ValidationFailed(Box::new(report)));
    }
    s.secrets
        .put_secret(&record.secret_name, &req.token)
        .await?;
    // The token is in: the record must now carry its email, over whatever other change was kept
    // meanwhile (never an old email beside the new token).
    for _ in 0..CHANGE_ATTEMPTS {
        let read_ms = record.updated_ms;
        if record.deployment == Deployment::Cloud {
            record.email = req.email.clone();
        }
        record.updated_ms = now_ms.max(read_ms + 1);
        if s.integrations.replace_integration(&record, read_ms).await? {
            return Ok(report);
        }
        match s.integrations.get_integration(account, id).await? {
            Some(latest) => record = latest,
            None => {
                // Deleted while this was validating: the secret just written must not outlive it.
                s.secrets.delete_secret(&record.secret_name).await?;
                return Err(gone(id));
            }
        }
    }
    Err(ApiError::Conflict(format!(
        "integration '{id}' kept changing while its credentials were replaced; retry"
    )))
}

/// How often a change is made again over a newer version before giving up.
const CHANGE_ATTEMPTS: usize = 5;

/// Removes the schedule first (no sync starts mid-deletion), then the secret, then the data,
/// then the schedule once more: an update that wrote it in between (it checks the record after
/// writing a schedule) is caught by one side or the other.
pub async fn delete(s: &Services<'_>, account: &str, id: &str) -> ApiResult<()> {
    let record = owned(s, account, id).await?;
    s.scheduler.delete_schedule(id).await?;
    s.secrets.delete_secret(&record.secret_name).await?;
    s.integrations.delete_integration(account, id).await?;
    s.scheduler.delete_schedule(id).await?;
    Ok(())
}

/// What a person does to an issue by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandFlag {
    Hide,
    Unhide,
    Remove,
}

impl HandFlag {
    /// The store's flag for it.
    pub fn issue_flag(self) -> IssueFlag {
        match self {
            HandFlag::Hide => IssueFlag::Hidden,
            HandFlag::Unhide => IssueFlag::Unhidden,
            HandFlag::Remove => IssueFlag::Removed,
        }
    }

    /// What it did, as a person reads it.
    pub fn done(self) -> &'static str {
        match self {
            HandFlag::Hide => "hidden (excluded from metrics)",
            HandFlag::Unhide => "unhidden (counted in metrics again)",
            HandFlag::Remove => "removed (its data dropped; syncs will not bring it back)",
        }
    }
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
    if !s.issues.flag_issue(id, issue_id, flag.issue_flag()).await? {
        return Err(ApiError::NotFound(format!("issue '{issue_id}'")));
    }
    // Hygiene counts the issue no longer (or again): its index takes the flag's mark now rather
    // than after the next sync.
    crate::hygiene::service::request_index(s.events, account, id).await;
    Ok(())
}

/// A sync asked for now: when it was asked for, and whether this request found it already
/// requested or under way.
#[derive(Debug, Serialize)]
pub struct SyncRequested {
    pub run_requested: bool,
    pub requested_at: chrono::DateTime<chrono::Utc>,
    pub already_under_way: bool,
}

/// Asks for a sync now, through the same event a sync uses to continue itself; while a chain of
/// runs is requested or under way, answers with it instead of starting another.
pub async fn request_sync(
    s: &Services<'_>,
    account: &str,
    id: &str,
    now_ms: i64,
) -> ApiResult<SyncRequested> {
    owned(s, account, id).await?;
    let state = s.records.list_records(id, RecordKind::SyncState).await?;
    let answer = |requested_ms: i64, already_under_way| SyncRequested {
        run_requested: true,
        requested_at: chrono::DateTime::from_timestamp_millis(requested_ms).unwrap_or_default(),
        already_under_way,
    };
    if let Some(requested_ms) = chain::chain_in(&state, now_ms) {
        return Ok(answer(requested_ms, true));
    }
    chain::mark_chain(s.records, id, now_ms, now_ms).await?;
    s.events
        .publish(&SyncEvent::Continue(SyncTrigger {
            account_id: account.to_string(),
            integration_id: id.to_string(),
            trigger: Trigger::Manual,
            chain_started_ms: None,
        }))
        .await?;
    Ok(answer(now_ms, false))
}

#[cfg(test)]
mod tests;
