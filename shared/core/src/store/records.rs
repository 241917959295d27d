//! The records the store holds. Plain data, serialisable to JSON (the embedded store) and to
//! DynamoDB items.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::jira::Deployment;
use crate::jira::models::{Comment, History};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredIssue {
    /// Jira's numeric issue id (as text).
    pub id: String,
    /// The current key (changes when the issue moves).
    pub key: String,
    pub project_key: String,
    /// `updated`, epoch milliseconds.
    pub updated_ms: i64,
    /// Field values by Jira field id, minus excluded fields.
    pub fields: Map<String, Value>,
    /// The complete changelog, oldest first, minus items of excluded fields.
    pub changelog: Vec<History>,
    /// All comments, oldest first (empty when comments are excluded).
    pub comments: Vec<Comment>,
    /// Set when the census no longer finds the issue: deleted or no longer visible.
    pub deleted_at_ms: Option<i64>,
    /// Hidden by hand: kept, but excluded from metrics.
    pub hidden: bool,
    /// Removed by hand: content dropped, kept as a tombstone so syncs do not bring it back.
    pub removed: bool,
    /// Its project or the integration's query left the scope: kept, not counted, and counted
    /// again when the scope takes it back.
    #[serde(default)]
    pub out_of_scope: bool,
    /// The store's revision of the issue: 0 until it is first stored, one more with each write.
    /// A write carries the revision its writer read and is refused once another writer has
    /// moved it on ([`crate::store::IssueStore::put_issues`]).
    #[serde(default)]
    pub rev: u64,
}

impl StoredIssue {
    /// Whether metrics should count it.
    pub fn counts(&self) -> bool {
        self.deleted_at_ms.is_none() && !self.hidden && !self.removed && !self.out_of_scope
    }

    /// What setting `flag` means for the stored issue (every store applies it the same way).
    pub fn apply_flag(&mut self, flag: IssueFlag) {
        match flag {
            IssueFlag::Deleted { at_ms } => self.deleted_at_ms = Some(at_ms),
            IssueFlag::Restored => self.deleted_at_ms = None,
            IssueFlag::Hidden => self.hidden = true,
            IssueFlag::Unhidden => self.hidden = false,
            IssueFlag::OutOfScope => self.out_of_scope = true,
            IssueFlag::InScope => self.out_of_scope = false,
            IssueFlag::Removed => {
                self.removed = true;
                self.fields.clear();
                self.changelog.clear();
                self.comments.clear();
            }
        }
    }

    pub fn index_entry(&self) -> IssueIndexEntry {
        IssueIndexEntry {
            id: self.id.clone(),
            project_key: self.project_key.clone(),
            updated_ms: self.updated_ms,
            deleted: self.deleted_at_ms.is_some(),
            hidden: self.hidden,
            removed: self.removed,
            out_of_scope: self.out_of_scope,
            rev: self.rev,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueIndexEntry {
    pub id: String,
    pub project_key: String,
    pub updated_ms: i64,
    pub deleted: bool,
    pub hidden: bool,
    pub removed: bool,
    /// [`StoredIssue::out_of_scope`].
    #[serde(default)]
    pub out_of_scope: bool,
    /// The issue's revision ([`StoredIssue::rev`]).
    #[serde(default)]
    pub rev: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IssueFlag {
    Deleted {
        at_ms: i64,
    },
    /// Seen again after being flagged deleted (visibility restored).
    Restored,
    Hidden,
    Unhidden,
    Removed,
    /// Its project or the integration's query no longer takes it in.
    OutOfScope,
    /// Taken back into the scope.
    InScope,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    User,
    Status,
    Sprint,
    Version,
    Field,
    /// The sync's own state kept beside the data (the exclusions the store is in line with).
    SyncState,
}

impl RecordKind {
    /// Every kind, for stores that must visit each kind's partition (deleting an integration).
    pub const ALL: [RecordKind; 6] = [
        RecordKind::User,
        RecordKind::Status,
        RecordKind::Sprint,
        RecordKind::Version,
        RecordKind::Field,
        RecordKind::SyncState,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RecordKind::User => "user",
            RecordKind::Status => "status",
            RecordKind::Sprint => "sprint",
            RecordKind::Version => "version",
            RecordKind::Field => "field",
            RecordKind::SyncState => "sync_state",
        }
    }
}

/// A reference record: its id and its JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub data: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectRecord {
    pub key: String,
    pub id: String,
    pub name: String,
    pub onboarded_at_ms: i64,
}

/// Where a unit's sync stands. `watermark_ms`: everything updated before it has been stored.
/// `in_progress`: a run that has not finished; a later run resumes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub watermark_ms: Option<i64>,
    pub in_progress: Option<Progress>,
    pub last_census_ms: Option<i64>,
    /// A census under way: every id up to this one has been compared (ids ascend), so a run
    /// stopped at its deadline resumes the census here.
    #[serde(default)]
    pub census_after: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The run's window starts here (`updated >= window_start_ms`); None for a backfill.
    pub window_start_ms: Option<i64>,
    /// When the interrupted run started: the next watermark once it completes.
    pub run_started_ms: i64,
    /// Issues with ids up to this one are stored (ids are scanned in ascending order).
    pub last_id: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub issues_new: u64,
    pub issues_updated: u64,
    pub issues_deleted: u64,
    /// Issues that left the scope (flagged, kept, no longer counted).
    #[serde(default)]
    pub issues_left_scope: u64,
    /// Issues counted again: back in the scope, or seen again after being flagged deleted.
    #[serde(default)]
    pub issues_returned: u64,
    pub changelog_entries: u64,
    pub comments: u64,
    pub requests: u64,
    pub retries: u64,
    /// Of `requests`, those that refreshed reference data at its source (versions, sprints,
    /// users).
    #[serde(default)]
    pub reference_requests: u64,
    /// Checkpoints saved: a unit's cursor moved, or a scrub of excluded text went a page on.
    #[serde(default)]
    pub checkpoints: u64,
    /// Of `requests`, those Jira answered 429 (Too Many Requests).
    #[serde(default)]
    pub throttled: u64,
    /// Time spent waiting on Jira before retries (its `Retry-After`, or the backoff), ms.
    #[serde(default)]
    pub waited_ms: u64,
}

impl Counts {
    /// Whether the run got anywhere: wrote or flagged an issue, or moved a checkpoint. A run
    /// that did neither has no reason to be followed at once by another.
    pub fn made_progress(&self) -> bool {
        self.issues_new
            + self.issues_updated
            + self.issues_deleted
            + self.issues_left_scope
            + self.issues_returned
            + self.checkpoints
            > 0
    }

    pub fn add(&mut self, o: &Counts) {
        self.issues_new += o.issues_new;
        self.issues_updated += o.issues_updated;
        self.issues_deleted += o.issues_deleted;
        self.issues_left_scope += o.issues_left_scope;
        self.issues_returned += o.issues_returned;
        self.changelog_entries += o.changelog_entries;
        self.comments += o.comments;
        self.requests += o.requests;
        self.retries += o.retries;
        self.reference_requests += o.reference_requests;
        self.checkpoints += o.checkpoints;
        self.throttled += o.throttled;
        self.waited_ms += o.waited_ms;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    Running,
    Succeeded,
    /// Stopped early (time budget) with a checkpoint; a continuation resumes it.
    Partial,
    Failed,
    /// Did nothing: other runs held every unit's lease (they are syncing them). Neither a
    /// success nor a failure, and followed by no completion event.
    Skipped,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub outcome: RunOutcome,
    pub projects: Vec<String>,
    pub counts: Counts,
    /// Warnings of a run that went on, then, for a failed run, the error that ended it.
    pub errors: Vec<RunError>,
    /// The oldest of the scope's unit watermarks when the run ended, however it ended: every
    /// issue of those units updated before it is stored. Units still in their first backfill
    /// have none and are left out; None when no unit has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_through_ms: Option<i64>,
}

/// One error of a run: what kind of trouble (monitoring labels runs from it) and the message a
/// person reads (which may carry Jira's words, so monitoring never repeats it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredRunError")]
pub struct RunError {
    pub category: ErrorCategory,
    pub message: String,
}

impl RunError {
    pub fn new(category: ErrorCategory, message: impl Into<String>) -> Self {
        Self {
            category,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Run records written before errors carried a category hold bare messages.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredRunError {
    Categorised {
        category: ErrorCategory,
        message: String,
    },
    Bare(String),
}

impl From<StoredRunError> for RunError {
    fn from(stored: StoredRunError) -> Self {
        match stored {
            StoredRunError::Categorised { category, message } => RunError { category, message },
            StoredRunError::Bare(message) => RunError {
                category: ErrorCategory::Other,
                message,
            },
        }
    }
}

/// The kinds of trouble a run meets, as the sync classifies them from typed errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCategory {
    /// Jira refused the email and token (401).
    CredentialsRejected,
    /// The integration's secret is gone from the secret store.
    TokenMissing,
    /// The site's address is one we never connect to (loopback, private, metadata, …).
    AddressRefused,
    /// The site's host does not resolve.
    AddressUnresolvable,
    /// Jira answered 403: a permission is missing.
    PermissionMissing,
    /// Projects of the scope are not found or not visible to the user.
    ProjectsNotVisible,
    /// Issues the store holds are no longer visible; not flagged as deleted.
    IssuesNotVisible,
    /// Still throttled (429) after every retry.
    RateLimited,
    /// Jira kept failing (5xx, timeouts, dropped connections) after every retry.
    JiraUnavailable,
    /// No connection to the site could be made.
    SiteUnreachable,
    /// The endpoint is gone (410).
    ApiRemoved,
    /// Jira refused the request (another 4xx).
    RequestRejected,
    /// Jira's answer could not be understood.
    UnexpectedResponse,
    /// A listing contradicted its question (a restart ignored, a page repeated, another
    /// project's issues): believed, it would have ended with issues missing.
    ListingInconsistent,
    /// Issues Jira listed were not answered when fetched; the unit's checkpoint stays before them.
    IssuesMissing,
    /// A finished listing found fewer issues than Jira counts for its query; the next run lists
    /// the unit again.
    CountShortfall,
    /// A project or filter of the scope, listed whole, holds no issue the user can see: a warning
    /// (nothing is stored for it, which is not an error of the run).
    ScopeEmpty,
    /// The integration's configuration cannot be used (an unknown custom field, a bad URL, …).
    Configuration,
    /// Another run holds the unit's lease; the unit was skipped.
    LeaseHeld,
    /// Our own store failed.
    StoreFault,
    /// Anything else: every error recorded before categories existed, and a category this
    /// version does not know (one written by a newer version).
    #[serde(other)]
    Other,
}

impl RunRecord {
    /// Whether the run belongs in a listing since `since_ms`: it started then or later, is still
    /// going, or ended then or later.
    pub fn active_since(&self, since_ms: i64) -> bool {
        self.started_ms >= since_ms || self.ended_ms.is_none_or(|e| e >= since_ms)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCounts {
    pub issues_new: u64,
    pub issues_updated: u64,
    pub issues_deleted: u64,
    /// [`Counts::issues_left_scope`].
    #[serde(default)]
    pub issues_left_scope: u64,
    /// [`Counts::issues_returned`].
    #[serde(default)]
    pub issues_returned: u64,
    pub runs: u64,
    pub failed_runs: u64,
}

impl DailyCounts {
    /// The issues a run's `counts` say it wrote, without the run itself.
    pub fn written(counts: &Counts) -> DailyCounts {
        DailyCounts {
            issues_new: counts.issues_new,
            issues_updated: counts.issues_updated,
            issues_deleted: counts.issues_deleted,
            issues_left_scope: counts.issues_left_scope,
            issues_returned: counts.issues_returned,
            runs: 0,
            failed_runs: 0,
        }
    }

    pub fn add(&mut self, o: &DailyCounts) {
        self.issues_new += o.issues_new;
        self.issues_updated += o.issues_updated;
        self.issues_deleted += o.issues_deleted;
        self.issues_left_scope += o.issues_left_scope;
        self.issues_returned += o.issues_returned;
        self.runs += o.runs;
        self.failed_runs += o.failed_runs;
    }
}

/// A tenant's connection to one Jira site: what the API creates and every sync reads. The token
/// itself lives in Secrets Manager; the record only names the secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegrationRecord {
    /// The tenant, from the API authorizer; every read is scoped to it.
    pub account: String,
    /// Globally unique (a UUID): integration-scoped data is keyed by it alone.
    pub id: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub deployment: Deployment,
    pub url: String,
    /// The Atlassian account email (Cloud only).
    pub email: Option<String>,
    /// The Secrets Manager secret name holding the token (never the token).
    pub secret_name: String,
    pub scope: ScopeConfig,
    /// A subset of summary, description, comments: never fetched, never stored.
    pub excluded_fields: Vec<String>,
    /// Custom fields the user mapped, by name or id.
    pub custom_fields: Vec<String>,
    /// The sync schedule as an EventBridge expression, e.g. "rate(1 hour)".
    pub schedule_rate: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// What an integration syncs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScopeConfig {
    Projects { keys: Vec<String> },
    Jql { jql: String },
    AllAccessible,
}

/// The order every store lists issues in ([`crate::store::IssueStore::list_issues`]): an issue id as a key
/// that sorts numeric ids by value (zero-padded), any other id as it is. Stored keys are made
/// of it, so it must never change between releases.
pub fn issue_order(id: &str) -> String {
    match id.parse::<u64>() {
        Ok(n) => format!("{n:020}"),
        Err(_) => id.to_string(),
    }
}
