//! The store port: what the sync, the integration API and monitoring read and write, as one
//! trait per role ([`IssueStore`], [`RecordStore`], [`ProjectStore`], [`SyncStateStore`],
//! [`RunLog`], [`IntegrationStore`], [`HygieneStore`], [`HygieneIndexStore`], [`DoraStore`]) so
//! that each domain function asks for no more than it uses.
//! Two adapters implement every role: an embedded on-disk store ([`embedded::EmbeddedStore`]) for
//! local runs and the DynamoDB store of `sei-jira-aws`; one conformance suite runs against both.
//!
//! The interface is shaped for DynamoDB: every record is addressed by integration id plus a sort
//! key; writes are upserts or conditional puts (leases); listing is a query by key prefix. The
//! DynamoDB adapter splits batch writes into chunks of [`BATCH_LIMIT`]; the embedded adapter
//! writes each call in one transaction (the sync is idempotent, so partial batches are harmless
//! either way). Issue items are kept under 400 KB by the DynamoDB adapter (compressed or split);
//! its table design is described in `docs/dynamodb.md`.

pub mod embedded;
pub mod records;

use async_trait::async_trait;
use chrono::NaiveDate;

use crate::dora::config::DoraConfig;
use crate::dora::facts::DoraFacts;
use crate::dora::index::DoraHeads;
use crate::hygiene::history::{HistoryBuild, Sum};
use crate::hygiene::index::{ChangeMark, Contribution, IndexHead, IndexedCell};
use crate::hygiene::{Cell, HygieneConfig, Snapshot};
pub use records::*;

/// DynamoDB's BatchWriteItem limit.
pub const BATCH_LIMIT: usize = 25;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage failure: {0}")]
    Backend(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    #[error("issue {0} kept changing while being written")]
    Superseded(String),
    /// The embedded store's file is open in another process (which holds its lock).
    #[error("{0} is open in another process")]
    InUse(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The issues of a [`IssueStore::put_issues`] call not written because another writer changed
/// them after they were read.
#[must_use = "superseded issues were not written"]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Superseded(pub Vec<String>);

impl Superseded {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// For writers that expect no competition (loading fixtures, tests): an error otherwise.
    pub fn expect_none(self) -> StoreResult<()> {
        match self.0.first() {
            None => Ok(()),
            Some(id) => Err(StoreError::Superseded(id.clone())),
        }
    }
}

/// How often a read-modify-write of one issue ([`IssueStore::flag_issue`], a sync's batch) is
/// redone when other writers keep moving the issue on, before it fails.
pub const ISSUE_WRITE_ATTEMPTS: usize = 5;

/// The last occurrence of each key: a batch may not address one key twice, and a later write
/// of the same key wins.
pub fn last_per_key<T>(values: &[T], key: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<&T> = values
        .iter()
        .rev()
        .filter(|v| seen.insert(key(v).to_string()))
        .collect();
    out.reverse();
    out
}

/// Issues and their index, keyed by Jira's numeric id (keys change on moves; ids never do).
#[async_trait]
pub trait IssueStore: Send + Sync {
    async fn get_issue(&self, integration: &str, id: &str) -> StoreResult<Option<StoredIssue>>;
    /// Writes each issue only while the store still holds the revision it was read at
    /// (`issue.rev`; 0: not stored), keeping it as revision `rev + 1`; an id given twice is
    /// written once, as its last occurrence. Answers the ids another writer moved on meanwhile:
    /// those are left as the other writer made them, for the caller to read again and redo.
    async fn put_issues(
        &self,
        integration: &str,
        issues: &[StoredIssue],
    ) -> StoreResult<Superseded>;
    /// Index entries in id order after the issue id `after`, `limit` at a time: fewer only when
    /// no more follow. What the sync reads of the whole integration (the census, the scope's
    /// edge), a page at a time, so that a run holds no structure the size of the site.
    async fn index_page(
        &self,
        integration: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<IssueIndexEntry>>;
    /// The current index entries of these ids (those stored), in no particular order: what the
    /// sync re-reads before overwriting issues, so a flag set by hand during its run stands.
    async fn index_entries(
        &self,
        integration: &str,
        ids: &[String],
    ) -> StoreResult<Vec<IssueIndexEntry>>;
    /// Issues in id order after `after`, `limit` at a time: fewer only when no more follow.
    async fn list_issues(
        &self,
        integration: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredIssue>>;
    /// Sets a flag on an issue (read, flagged and written at the revision read, again while
    /// other writers move it on); false when no such issue is stored.
    async fn flag_issue(&self, integration: &str, id: &str, flag: IssueFlag) -> StoreResult<bool>;
}

/// Index entries read a page at a time by [`each_index_entry`].
pub const INDEX_PAGE: usize = 1_000;

/// The index entries after an issue id, in id order, read [`INDEX_PAGE`] at a time.
pub struct IndexPages<'a, S: ?Sized> {
    store: &'a S,
    integration: &'a str,
    after: Option<String>,
    done: bool,
}

impl<'a, S: IssueStore + ?Sized> IndexPages<'a, S> {
    pub fn new(store: &'a S, integration: &'a str, after: Option<&str>) -> Self {
        IndexPages {
            store,
            integration,
            after: after.map(str::to_string),
            done: false,
        }
    }

    /// The next page; None once the index is read (a short page is the last).
    pub async fn next(&mut self) -> StoreResult<Option<Vec<IssueIndexEntry>>> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .store
            .index_page(self.integration, self.after.as_deref(), INDEX_PAGE)
            .await?;
        match page.last() {
            Some(last) if page.len() == INDEX_PAGE => self.after = Some(last.id.clone()),
            _ => self.done = true,
        }
        Ok((!page.is_empty()).then_some(page))
    }
}

/// Calls `visit` with each index entry after the issue id `after`, in id order, reading
/// [`INDEX_PAGE`] entries at a time, until it answers false.
pub async fn each_index_entry<S: IssueStore + ?Sized>(
    store: &S,
    integration: &str,
    after: Option<&str>,
    mut visit: impl FnMut(&IssueIndexEntry) -> bool,
) -> StoreResult<()> {
    let mut pages = IndexPages::new(store, integration, after);
    while let Some(page) = pages.next().await? {
        for entry in &page {
            if !visit(entry) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Every index entry of the integration, in id order: for tests and tools on small stores (the
/// sync reads the index a page at a time).
pub async fn whole_issue_index<S: IssueStore + ?Sized>(
    store: &S,
    integration: &str,
) -> StoreResult<Vec<IssueIndexEntry>> {
    let mut all = Vec::new();
    each_index_entry(store, integration, None, |e| {
        all.push(e.clone());
        true
    })
    .await?;
    Ok(all)
}

/// Calls `visit` with each issue that counts (not hidden, removed or deleted) after the issue id
/// `after`, in id order, reading `page` issues at a time, until it answers false.
pub async fn each_counted_issue<S: IssueStore + ?Sized>(
    store: &S,
    integration: &str,
    after: Option<&str>,
    page: usize,
    mut visit: impl FnMut(&StoredIssue) -> bool,
) -> StoreResult<()> {
    let mut after: Option<String> = after.map(str::to_string);
    loop {
        let page = store
            .list_issues(integration, after.as_deref(), page)
            .await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(last.id.clone());
        for issue in page.iter().filter(|i| i.counts()) {
            if !visit(issue) {
                return Ok(());
            }
        }
    }
}

/// How many stored issues one answer may read. An HTTP request must answer within API Gateway's
/// 30 s, so what it counts from the issues themselves it counts only up to `AtMost(n)`; work off
/// the request path (events, the CLI) reads `Every` issue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadLimit {
    #[default]
    Every,
    AtMost(usize),
}

/// The integration holds more counted issues than the answer's [`ReadLimit`] (this many) lets it
/// read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("more than {0} stored issues")]
pub struct OverReadLimit(pub usize);

/// Calls `visit` with each issue that counts, in id order, reading `page` issues at a time; stops
/// with [`OverReadLimit`] instead of reading one more than `limit` allows.
pub async fn each_counted_issue_within<S: IssueStore + ?Sized>(
    store: &S,
    integration: &str,
    limit: ReadLimit,
    page: usize,
    mut visit: impl FnMut(&StoredIssue),
) -> StoreResult<Result<(), OverReadLimit>> {
    let mut read = 0;
    let mut over = None;
    each_counted_issue(store, integration, None, page, |issue| {
        if let ReadLimit::AtMost(n) = limit
            && read == n
        {
            over = Some(OverReadLimit(n));
            return false;
        }
        read += 1;
        visit(issue);
        true
    })
    .await?;
    Ok(over.map_or(Ok(()), Err))
}

/// [`IssueStore::flag_issue`] as every store does it: read the issue, flag it, write it at the
/// revision read; again while other writers move it on, up to [`ISSUE_WRITE_ATTEMPTS`] times.
pub async fn flag_stored_issue<S: IssueStore + ?Sized>(
    store: &S,
    integration: &str,
    id: &str,
    flag: IssueFlag,
) -> StoreResult<bool> {
    for _ in 0..ISSUE_WRITE_ATTEMPTS {
        let Some(mut issue) = store.get_issue(integration, id).await? else {
            return Ok(false);
        };
        issue.apply_flag(flag);
        if store
            .put_issues(integration, std::slice::from_ref(&issue))
            .await?
            .is_empty()
        {
            return Ok(true);
        }
    }
    Err(StoreError::Superseded(id.to_string()))
}

/// Writes issues a caller changed, each at the revision it was read at. One that another writer
/// moved on meanwhile is read again and changed again (`change` answers whether it still needs
/// the change; when not, it is left as it is), for up to [`ISSUE_WRITE_ATTEMPTS`] rounds.
pub async fn rewrite_stored_issues<S: IssueStore + ?Sized>(
    store: &S,
    integration: &str,
    mut pending: Vec<StoredIssue>,
    change: impl Fn(&mut StoredIssue) -> bool,
) -> StoreResult<()> {
    for _ in 0..ISSUE_WRITE_ATTEMPTS {
        if pending.is_empty() {
            return Ok(());
        }
        let superseded = store.put_issues(integration, &pending).await?.0;
        let mut again = Vec::new();
        for id in &superseded {
            if let Some(mut issue) = store.get_issue(integration, id).await?
                && change(&mut issue)
            {
                again.push(issue);
            }
        }
        pending = again;
    }
    match pending.first() {
        Some(issue) => Err(StoreError::Superseded(issue.id.clone())),
        None => Ok(()),
    }
}

/// Deletion as writers that outlive it see it (a sync under way when its integration is
/// deleted): deleting an integration first leaves a tombstone of its id, then removes its data;
/// a writer that finds the tombstone after its last write sweeps what it wrote itself. Either the
/// deletion's removal comes after that write and takes it, or the writer sees the tombstone.
#[async_trait]
pub trait DeletionFence: Send + Sync {
    /// Whether the deletion of the integration has begun (a strongly consistent read).
    async fn integration_deleted(&self, integration: &str) -> StoreResult<bool>;
    /// Removes everything stored under the id of an integration whose deletion has begun;
    /// false, and nothing removed, when it has not.
    async fn sweep_deleted(&self, integration: &str) -> StoreResult<bool>;
}

/// Reference data: users, statuses, sprints, versions, fields.
#[async_trait]
pub trait RecordStore: Send + Sync {
    async fn put_records(
        &self,
        integration: &str,
        kind: RecordKind,
        records: &[Record],
    ) -> StoreResult<()>;
    async fn list_records(&self, integration: &str, kind: RecordKind) -> StoreResult<Vec<Record>>;
}

/// Projects with their onboarding time (kept from the first put).
#[async_trait]
pub trait ProjectStore: Send + Sync {
    async fn put_project(&self, integration: &str, project: &ProjectRecord) -> StoreResult<()>;
    async fn list_projects(&self, integration: &str) -> StoreResult<Vec<ProjectRecord>>;
    /// Takes a project the scope no longer takes in off the list (nothing when it is not there).
    async fn remove_project(&self, integration: &str, key: &str) -> StoreResult<()>;
}

/// Sync state per scope unit (a project, or the integration's JQL filter): where it stands, and
/// which run may work on it.
#[async_trait]
pub trait SyncStateStore: Send + Sync {
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
}

/// Run records and daily counters: what every run writes and monitoring reads.
#[async_trait]
pub trait RunLog: Send + Sync {
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
}

/// Integrations, scoped by account: a record another account holds reads as absent.
#[async_trait]
pub trait IntegrationStore: Send + Sync {
    /// Upserts by (account, id).
    async fn put_integration(&self, record: &IntegrationRecord) -> StoreResult<()>;
    /// Puts the record only while no integration of that account and id is stored, in one
    /// conditional write: of two creates racing with one id, exactly one answers true; false
    /// writes nothing. Like `put_integration`, it lifts a deletion tombstone of the id.
    async fn create_integration(&self, record: &IntegrationRecord) -> StoreResult<bool>;
    /// Replaces the record only while it still exists for its account and was last updated at
    /// `expected_updated_ms` (the version the change was made from); false otherwise (deleted or
    /// changed meanwhile), so an update racing a deletion never brings the integration back and
    /// one racing another update never undoes it.
    async fn replace_integration(
        &self,
        record: &IntegrationRecord,
        expected_updated_ms: i64,
    ) -> StoreResult<bool>;
    async fn get_integration(
        &self,
        account: &str,
        id: &str,
    ) -> StoreResult<Option<IntegrationRecord>>;
    async fn list_integrations(&self, account: &str) -> StoreResult<Vec<IntegrationRecord>>;
    /// Deletes the integration and everything stored under its id (issues, records, projects,
    /// cursors, leases, runs, daily counters), leaving a tombstone of the id first
    /// ([`DeletionFence`]); false when `account` holds no such integration. Putting an
    /// integration of that id again lifts the tombstone.
    async fn delete_integration(&self, account: &str, id: &str) -> StoreResult<bool>;
}

/// Calls an account makes, counted for its quotas.
#[async_trait]
pub trait CallCounter: Send + Sync {
    /// Counts one call of `kind` by `account` in the window that starts at `window_ms`,
    /// atomically (concurrent calls never lose each other's count): the window's count, this
    /// call included. A window's count is kept a day.
    async fn count_call(&self, account: &str, kind: &str, window_ms: i64) -> StoreResult<u64>;
}

/// An integration's hygiene settings and daily snapshots, and which integrations take one.
#[async_trait]
pub trait HygieneStore: Send + Sync {
    async fn get_hygiene_config(&self, integration: &str) -> StoreResult<Option<HygieneConfig>>;
    /// Keeps `config` only while the stored version is still `config.version - 1` (none stored
    /// counts as 0); false when another change came first, and nothing is written.
    async fn put_hygiene_config(
        &self,
        integration: &str,
        config: &HygieneConfig,
    ) -> StoreResult<bool>;
    /// Keeps one snapshot per UTC day (a later one replaces it), and enrols the integration in
    /// the daily snapshot ([`HygieneStore::snapshot_targets`]).
    async fn put_snapshot(
        &self,
        account: &str,
        integration: &str,
        snapshot: &Snapshot,
    ) -> StoreResult<()>;
    /// The snapshots of the days from `from` to `to`, both included, oldest first.
    async fn list_snapshots(
        &self,
        integration: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Snapshot>>;
    /// Every (account, integration) that has a snapshot; deleting an integration withdraws it.
    async fn snapshot_targets(&self) -> StoreResult<Vec<(String, String)>>;
    /// Takes the integration off the daily snapshot's list (no error when it is not on it).
    async fn withdraw_snapshot_target(&self, integration: &str) -> StoreResult<()>;
}

/// An integration's hygiene history ([`crate::hygiene::history`]): the record of its build, the
/// sums a running build has counted, and the points it kept.
#[async_trait]
pub trait HistoryStore: Send + Sync {
    async fn get_history_build(&self, integration: &str) -> StoreResult<Option<HistoryBuild>>;
    async fn put_history_build(&self, integration: &str, build: &HistoryBuild) -> StoreResult<()>;
    /// The running build's sums with their positions, in position order.
    async fn history_sums(&self, integration: &str) -> StoreResult<Vec<(usize, Sum)>>;
    async fn put_history_sums(&self, integration: &str, sums: &[(usize, Sum)]) -> StoreResult<()>;
    async fn clear_history_sums(&self, integration: &str) -> StoreResult<()>;
    /// Keeps one point per UTC day (replacing one kept before for that day).
    async fn put_history_points(&self, integration: &str, points: &[Snapshot]) -> StoreResult<()>;
    /// The points of the days from `from` to `to`, both included, oldest first.
    async fn list_history_points(
        &self,
        integration: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Snapshot>>;
}

/// The kept hygiene aggregate of an integration, maintained incrementally by
/// [`crate::hygiene::indexer`]: a head (what the aggregate counts, where a build or an
/// interrupted batch stands), the tallies per cell, each issue's contribution, and the marks
/// every issue write leaves so the indexer knows which issues changed.
#[async_trait]
pub trait HygieneIndexStore: Send + Sync {
    async fn get_index_head(&self, integration: &str) -> StoreResult<Option<IndexHead>>;
    async fn put_index_head(&self, integration: &str, head: &IndexHead) -> StoreResult<()>;
    async fn list_index_cells(&self, integration: &str) -> StoreResult<Vec<IndexedCell>>;
    /// The kept cells among `cells`, each once, in no particular order.
    async fn get_index_cells(
        &self,
        integration: &str,
        cells: &[Cell],
    ) -> StoreResult<Vec<IndexedCell>>;
    async fn put_index_cells(&self, integration: &str, cells: &[IndexedCell]) -> StoreResult<()>;
    /// Removes every cell: a build counts from none.
    async fn clear_index_cells(&self, integration: &str) -> StoreResult<()>;
    /// The contributions kept for these issue ids (those that have one), in no particular order.
    async fn get_contributions(
        &self,
        integration: &str,
        ids: &[String],
    ) -> StoreResult<Vec<(String, Contribution)>>;
    /// Keeps each issue's contribution; None removes it.
    async fn put_contributions(
        &self,
        integration: &str,
        contributions: &[(String, Option<Contribution>)],
    ) -> StoreResult<()>;
    /// Up to `limit` marks of issues written since their marks were last cleared. Every
    /// [`IssueStore::put_issues`] (and so every flag) leaves a new mark per issue, written
    /// atomically with the issue: no issue is ever stored without its mark.
    async fn changed_issues(&self, integration: &str, limit: usize)
    -> StoreResult<Vec<ChangeMark>>;
    /// Clears exactly these marks: a mark left by a later write stays.
    async fn clear_changed(&self, integration: &str, marks: &[ChangeMark]) -> StoreResult<()>;
}

/// An integration's DORA profiles and their kept classification ([`crate::dora::upkeep`]): where
/// each profile's classification stands, and the facts of its members (the issues that are
/// incidents or change requests under it), so that a report reads those and no other issue.
#[async_trait]
pub trait DoraStore: Send + Sync {
    async fn get_dora_config(&self, integration: &str) -> StoreResult<Option<DoraConfig>>;
    /// Keeps `config` only while the stored version is still `config.version - 1` (none stored
    /// counts as 0); false when another change came first, and nothing is written.
    async fn put_dora_config(&self, integration: &str, config: &DoraConfig) -> StoreResult<bool>;
    async fn get_dora_heads(&self, integration: &str) -> StoreResult<Option<DoraHeads>>;
    async fn put_dora_heads(&self, integration: &str, heads: &DoraHeads) -> StoreResult<()>;
    /// The facts of every member of the profile, in issue order.
    async fn list_dora_members(
        &self,
        integration: &str,
        profile: &str,
    ) -> StoreResult<Vec<DoraFacts>>;
    /// Those of `ids` that are members of the profile, in no particular order.
    async fn dora_members_among(
        &self,
        integration: &str,
        profile: &str,
        ids: &[&str],
    ) -> StoreResult<Vec<String>>;
    /// Keeps each issue's facts under the profile; None removes the issue from its members.
    async fn put_dora_members(
        &self,
        integration: &str,
        profile: &str,
        members: &[(String, Option<DoraFacts>)],
    ) -> StoreResult<()>;
}

/// What one sync reads and writes: everything but the integrations themselves, and whether its
/// integration is being deleted under it.
pub trait SyncStore:
    IssueStore + RecordStore + ProjectStore + SyncStateStore + RunLog + DeletionFence
{
}

impl<T: IssueStore + RecordStore + ProjectStore + SyncStateStore + RunLog + DeletionFence + ?Sized>
    SyncStore for T
{
}

/// A whole store, as the binaries open one and hand out its roles.
pub trait Store:
    SyncStore
    + IntegrationStore
    + CallCounter
    + HygieneStore
    + HygieneIndexStore
    + HistoryStore
    + DoraStore
{
}

impl<
    T: SyncStore
        + IntegrationStore
        + CallCounter
        + HygieneStore
        + HygieneIndexStore
        + HistoryStore
        + DoraStore
        + ?Sized,
> Store for T
{
}
