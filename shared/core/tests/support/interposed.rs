//! A real store with a step of the test's own run just before each issue write reaches it:
//! how a test lands another writer's change inside a sync's write window, which no observer
//! event can reach.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::NaiveDate;
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::*;

/// What runs before a `put_issues` call: given the store and the issues about to be written.
pub type BeforeWrite = Box<
    dyn FnMut(Arc<EmbeddedStore>, Vec<String>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send,
>;

pub struct Interposed {
    pub inner: Arc<EmbeddedStore>,
    before_write: Mutex<BeforeWrite>,
}

impl Interposed {
    pub fn new(inner: Arc<EmbeddedStore>, before_write: BeforeWrite) -> Self {
        Self {
            inner,
            before_write: Mutex::new(before_write),
        }
    }
}

#[async_trait]
impl IssueStore for Interposed {
    async fn get_issue(&self, i: &str, id: &str) -> StoreResult<Option<StoredIssue>> {
        self.inner.get_issue(i, id).await
    }
    async fn put_issues(&self, i: &str, issues: &[StoredIssue]) -> StoreResult<Superseded> {
        let ids = issues.iter().map(|x| x.id.clone()).collect();
        let step = (self.before_write.lock().unwrap())(self.inner.clone(), ids);
        step.await;
        self.inner.put_issues(i, issues).await
    }
    async fn issue_index(&self, i: &str) -> StoreResult<Vec<IssueIndexEntry>> {
        self.inner.issue_index(i).await
    }
    async fn index_entries(&self, i: &str, ids: &[String]) -> StoreResult<Vec<IssueIndexEntry>> {
        self.inner.index_entries(i, ids).await
    }
    async fn list_issues(
        &self,
        i: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredIssue>> {
        self.inner.list_issues(i, after, limit).await
    }
    async fn flag_issue(&self, i: &str, id: &str, flag: IssueFlag) -> StoreResult<bool> {
        self.inner.flag_issue(i, id, flag).await
    }
}

#[async_trait]
impl RecordStore for Interposed {
    async fn put_records(&self, i: &str, kind: RecordKind, records: &[Record]) -> StoreResult<()> {
        self.inner.put_records(i, kind, records).await
    }
    async fn list_records(&self, i: &str, kind: RecordKind) -> StoreResult<Vec<Record>> {
        self.inner.list_records(i, kind).await
    }
}

#[async_trait]
impl ProjectStore for Interposed {
    async fn put_project(&self, i: &str, project: &ProjectRecord) -> StoreResult<()> {
        self.inner.put_project(i, project).await
    }
    async fn list_projects(&self, i: &str) -> StoreResult<Vec<ProjectRecord>> {
        self.inner.list_projects(i).await
    }
    async fn remove_project(&self, i: &str, key: &str) -> StoreResult<()> {
        self.inner.remove_project(i, key).await
    }
}

#[async_trait]
impl SyncStateStore for Interposed {
    async fn get_cursor(&self, i: &str, unit: &str) -> StoreResult<Option<Cursor>> {
        self.inner.get_cursor(i, unit).await
    }
    async fn put_cursor(&self, i: &str, unit: &str, cursor: &Cursor) -> StoreResult<()> {
        self.inner.put_cursor(i, unit, cursor).await
    }
    async fn acquire_lease(
        &self,
        i: &str,
        unit: &str,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        self.inner
            .acquire_lease(i, unit, owner, now_ms, ttl_ms)
            .await
    }
    async fn release_lease(&self, i: &str, unit: &str, owner: &str) -> StoreResult<()> {
        self.inner.release_lease(i, unit, owner).await
    }
}

#[async_trait]
impl RunLog for Interposed {
    async fn put_run(&self, i: &str, run: &RunRecord) -> StoreResult<()> {
        self.inner.put_run(i, run).await
    }
    async fn list_runs(&self, i: &str, since_ms: i64) -> StoreResult<Vec<RunRecord>> {
        self.inner.list_runs(i, since_ms).await
    }
    async fn add_daily(&self, i: &str, day: NaiveDate, delta: &DailyCounts) -> StoreResult<()> {
        self.inner.add_daily(i, day, delta).await
    }
    async fn list_daily(
        &self,
        i: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<(NaiveDate, DailyCounts)>> {
        self.inner.list_daily(i, from, to).await
    }
}

#[async_trait]
impl DeletionFence for Interposed {
    async fn integration_deleted(&self, i: &str) -> StoreResult<bool> {
        self.inner.integration_deleted(i).await
    }
    async fn sweep_deleted(&self, i: &str) -> StoreResult<bool> {
        self.inner.sweep_deleted(i).await
    }
}
