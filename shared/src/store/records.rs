//! The records the store holds. Plain data, serialisable to JSON (the embedded store) and to
//! DynamoDB items.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
}

impl StoredIssue {
    /// Whether metrics should count it.
    pub fn counts(&self) -> bool {
        self.deleted_at_ms.is_none() && !self.hidden && !self.removed
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    User,
    Status,
    Sprint,
    Version,
    Field,
}

impl RecordKind {
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::User => "user",
            RecordKind::Status => "status",
            RecordKind::Sprint => "sprint",
            RecordKind::Version => "version",
            RecordKind::Field => "field",
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
    pub changelog_entries: u64,
    pub comments: u64,
    pub requests: u64,
    pub retries: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.issues_new += o.issues_new;
        self.issues_updated += o.issues_updated;
        self.issues_deleted += o.issues_deleted;
        self.changelog_entries += o.changelog_entries;
        self.comments += o.comments;
        self.requests += o.requests;
        self.retries += o.retries;
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
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub outcome: RunOutcome,
    pub projects: Vec<String>,
    pub counts: Counts,
    pub errors: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCounts {
    pub issues_new: u64,
    pub issues_updated: u64,
    pub issues_deleted: u64,
    pub runs: u64,
    pub failed_runs: u64,
}

impl DailyCounts {
    pub fn add(&mut self, o: &DailyCounts) {
        self.issues_new += o.issues_new;
        self.issues_updated += o.issues_updated;
        self.issues_deleted += o.issues_deleted;
        self.runs += o.runs;
        self.failed_runs += o.failed_runs;
    }
}
