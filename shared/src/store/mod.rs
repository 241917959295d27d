//! The store port: everything sync, hygiene, monitoring and DORA read and write, behind one
//! interface with an embedded on-disk adapter ([`embedded::EmbeddedStore`]) for local runs and a
//! DynamoDB adapter for AWS (issue #4).
//!
//! The interface is shaped for DynamoDB: every record is addressed by integration id plus a sort
//! key; writes are upserts or conditional puts (leases); listing is a query by key prefix. The
//! DynamoDB adapter splits batch writes into chunks of [`BATCH_LIMIT`]; the embedded adapter
//! writes each call in one transaction (the sync is idempotent, so partial batches are harmless
//! either way). Issue items are kept under 400 KB by the DynamoDB adapter (compressed or split);
//! its table design is described in `docs/dynamodb.md`.

#[cfg(feature = "aws")]
pub mod dynamo;
pub mod embedded;
pub mod records;

use async_trait::async_trait;
use chrono::NaiveDate;

pub use records::*;

/// DynamoDB's BatchWriteItem limit.
pub const BATCH_LIMIT: usize = 25;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage failure: {0}")]
    Backend(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait Store: Send + Sync {
    // Issues, keyed by Jira's numeric id (keys change on moves; ids never do).
    async fn get_issue(&self, integration: &str, id: &str) -> StoreResult<Option<StoredIssue>>;
    /// Upserts: an issue already stored under the same id is replaced.
    async fn put_issues(&self, integration: &str, issues: &[StoredIssue]) -> StoreResult<()>;
    /// Ids with the project they were last seen in, for the deletion census.
    async fn issue_index(&self, integration: &str) -> StoreResult<Vec<IssueIndexEntry>>;
    /// The current index entries of these ids (those stored), in no particular order: what the
    /// sync re-reads before overwriting issues, so a flag set by hand during its run stands.
    async fn index_entries(
        &self,
        integration: &str,
        ids: &[String],
    ) -> StoreResult<Vec<IssueIndexEntry>> {
        let wanted: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        Ok(self
            .issue_index(integration)
            .await?
            .into_iter()
            .filter(|e| wanted.contains(e.id.as_str()))
            .collect())
    }
    /// Issues in id order after `after`, `limit` at a time (exports).
    async fn list_issues(
        &self,
        integration: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredIssue>>;
    /// Sets a flag on an issue; false when no such issue is stored.
    async fn flag_issue(&self, integration: &str, id: &str, flag: IssueFlag) -> StoreResult<bool>;

    // Reference data: users, statuses, sprints, versions, fields.
    async fn put_records(
        &self,
        integration: &str,
        kind: RecordKind,
        records: &[Record],
    ) -> StoreResult<()>;
    async fn list_records(&self, integration: &str, kind: RecordKind) -> StoreResult<Vec<Record>>;

    // Projects with their onboarding time (kept from the first put).
    async fn put_project(&self, integration: &str, project: &ProjectRecord) -> StoreResult<()>;
    async fn list_projects(&self, integration: &str) -> StoreResult<Vec<ProjectRecord>>;

    // Sync state per scope unit (a project, or the integration's JQL filter).
    async fn get_cursor(&self, integration: &str, unit: &str) -> StoreResult<Option<Cursor>>;
    async fn put_cursor(&self, integration: &str, unit: &str, cursor: &Cursor) -> StoreResult<()>;
    /// Takes the unit's lease if it is free, expired, or already `owner`'s (a conditional put).
    async fn acquire_lease(
        &self,
        integration: &str,
        unit: &str,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool>;
    async fn release_lease(&self, integration: &str, unit: &str, owner: &str) -> StoreResult<()>;

    // Run records and daily counters (what monitoring serves).
    async fn put_run(&self, integration: &str, run: &RunRecord) -> StoreResult<()>;
    async fn list_runs(&self, integration: &str, since_ms: i64) -> StoreResult<Vec<RunRecord>>;
    async fn add_daily(
        &self,
        integration: &str,
        day: NaiveDate,
        delta: &DailyCounts,
    ) -> StoreResult<()>;
    async fn list_daily(
        &self,
        integration: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<(NaiveDate, DailyCounts)>>;

    // Integrations, scoped by account: a record another account holds reads as absent.
    // Both real stores implement these; the defaults refuse, so a store that keeps no
    // integrations (a test double) need not.

    /// Upserts by (account, id).
    async fn put_integration(&self, record: &IntegrationRecord) -> StoreResult<()> {
        let _ = record;
        Err(no_integrations())
    }
    /// Replaces the record only while it still exists for its account; false when it does not
    /// (deleted meanwhile), so an update racing a deletion never brings the integration back.
    async fn replace_integration(&self, record: &IntegrationRecord) -> StoreResult<bool> {
        let _ = record;
        Err(no_integrations())
    }
    async fn get_integration(
        &self,
        account: &str,
        id: &str,
    ) -> StoreResult<Option<IntegrationRecord>> {
        let _ = (account, id);
        Err(no_integrations())
    }
    async fn list_integrations(&self, account: &str) -> StoreResult<Vec<IntegrationRecord>> {
        let _ = account;
        Err(no_integrations())
    }
    /// Deletes the integration and everything stored under its id (issues, records, projects,
    /// cursors, leases, runs, daily counters); false when `account` holds no such integration.
    async fn delete_integration(&self, account: &str, id: &str) -> StoreResult<bool> {
        let _ = (account, id);
        Err(no_integrations())
    }
}

fn no_integrations() -> StoreError {
    StoreError::Backend("this store keeps no integrations".into())
}
