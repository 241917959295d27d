//! The embedded store behind the benchmarks, counting the read calls and the items they
//! return, and the best-of-runs timer the benchmarks print.
#![allow(dead_code)]

use sei_jira_core::dora::DoraConfig;
use sei_jira_core::dora::DoraFacts;
use sei_jira_core::dora::index::DoraHeads;
use sei_jira_core::hygiene::index::ChangeMark;
use sei_jira_core::hygiene::index::Contribution;
use sei_jira_core::hygiene::index::IndexHead;
use sei_jira_core::hygiene::index::IndexedCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::*;

/// The embedded store, counting the read calls and the items they return.
pub struct Counting<'a> {
    pub inner: &'a EmbeddedStore,
    calls: AtomicU64,
    items: AtomicU64,
}

impl<'a> Counting<'a> {
    pub fn new(inner: &'a EmbeddedStore) -> Counting<'a> {
        Counting {
            inner,
            calls: AtomicU64::new(0),
            items: AtomicU64::new(0),
        }
    }

    pub fn read<T>(&self, items: usize, out: T) -> T {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.items.fetch_add(items as u64, Ordering::Relaxed);
        out
    }

    pub fn take(&self) -> (u64, u64) {
        (
            self.calls.swap(0, Ordering::Relaxed),
            self.items.swap(0, Ordering::Relaxed),
        )
    }
}

#[async_trait]
impl IssueStore for Counting<'_> {
    async fn get_issue(&self, i: &str, id: &str) -> StoreResult<Option<StoredIssue>> {
        let out = self.inner.get_issue(i, id).await?;
        Ok(self.read(usize::from(out.is_some()), out))
    }
    async fn put_issues(&self, i: &str, issues: &[StoredIssue]) -> StoreResult<Superseded> {
        self.inner.put_issues(i, issues).await
    }
    async fn issue_index(&self, i: &str) -> StoreResult<Vec<IssueIndexEntry>> {
        let out = self.inner.issue_index(i).await?;
        Ok(self.read(out.len(), out))
    }
    async fn index_entries(&self, i: &str, ids: &[String]) -> StoreResult<Vec<IssueIndexEntry>> {
        let out = self.inner.index_entries(i, ids).await?;
        Ok(self.read(out.len(), out))
    }
    async fn list_issues(
        &self,
        i: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredIssue>> {
        let out = self.inner.list_issues(i, after, limit).await?;
        Ok(self.read(out.len(), out))
    }
    async fn flag_issue(&self, i: &str, id: &str, flag: IssueFlag) -> StoreResult<bool> {
        self.inner.flag_issue(i, id, flag).await
    }
}

#[async_trait]
impl RecordStore for Counting<'_> {
    async fn put_records(&self, i: &str, kind: RecordKind, records: &[Record]) -> StoreResult<()> {
        self.inner.put_records(i, kind, records).await
    }
    async fn list_records(&self, i: &str, kind: RecordKind) -> StoreResult<Vec<Record>> {
        let out = self.inner.list_records(i, kind).await?;
        Ok(self.read(out.len(), out))
    }
}

#[async_trait]
impl ProjectStore for Counting<'_> {
    async fn put_project(&self, i: &str, project: &ProjectRecord) -> StoreResult<()> {
        self.inner.put_project(i, project).await
    }
    async fn list_projects(&self, i: &str) -> StoreResult<Vec<ProjectRecord>> {
        let out = self.inner.list_projects(i).await?;
        Ok(self.read(out.len(), out))
    }
    async fn remove_project(&self, i: &str, key: &str) -> StoreResult<()> {
        self.inner.remove_project(i, key).await
    }
}

#[async_trait]
impl HygieneIndexStore for Counting<'_> {
    async fn get_index_head(&self, i: &str) -> StoreResult<Option<IndexHead>> {
        let out = self.inner.get_index_head(i).await?;
        Ok(self.read(usize::from(out.is_some()), out))
    }
    async fn put_index_head(&self, i: &str, head: &IndexHead) -> StoreResult<()> {
        self.inner.put_index_head(i, head).await
    }
    async fn list_index_cells(&self, i: &str) -> StoreResult<Vec<IndexedCell>> {
        let out = self.inner.list_index_cells(i).await?;
        Ok(self.read(out.len(), out))
    }
    async fn put_index_cells(&self, i: &str, cells: &[IndexedCell]) -> StoreResult<()> {
        self.inner.put_index_cells(i, cells).await
    }
    async fn get_contributions(
        &self,
        i: &str,
        ids: &[String],
    ) -> StoreResult<Vec<(String, Contribution)>> {
        let out = self.inner.get_contributions(i, ids).await?;
        Ok(self.read(out.len(), out))
    }
    async fn put_contributions(
        &self,
        i: &str,
        c: &[(String, Option<Contribution>)],
    ) -> StoreResult<()> {
        self.inner.put_contributions(i, c).await
    }
    async fn changed_issues(&self, i: &str, limit: usize) -> StoreResult<Vec<ChangeMark>> {
        let out = self.inner.changed_issues(i, limit).await?;
        Ok(self.read(out.len(), out))
    }
    async fn clear_changed(&self, i: &str, marks: &[ChangeMark]) -> StoreResult<()> {
        self.inner.clear_changed(i, marks).await
    }
}

#[async_trait]
impl DoraStore for Counting<'_> {
    async fn get_dora_config(&self, i: &str) -> StoreResult<Option<DoraConfig>> {
        let out = self.inner.get_dora_config(i).await?;
        Ok(self.read(usize::from(out.is_some()), out))
    }
    async fn put_dora_config(&self, i: &str, config: &DoraConfig) -> StoreResult<bool> {
        self.inner.put_dora_config(i, config).await
    }
    async fn get_dora_heads(&self, i: &str) -> StoreResult<Option<DoraHeads>> {
        let out = self.inner.get_dora_heads(i).await?;
        Ok(self.read(usize::from(out.is_some()), out))
    }
    async fn put_dora_heads(&self, i: &str, heads: &DoraHeads) -> StoreResult<()> {
        self.inner.put_dora_heads(i, heads).await
    }
    async fn list_dora_members(&self, i: &str, profile: &str) -> StoreResult<Vec<DoraFacts>> {
        let out = self.inner.list_dora_members(i, profile).await?;
        Ok(self.read(out.len(), out))
    }
    async fn put_dora_members(
        &self,
        i: &str,
        profile: &str,
        members: &[(String, Option<DoraFacts>)],
    ) -> StoreResult<()> {
        self.inner.put_dora_members(i, profile, members).await
    }
}

/// Seconds for the best of `runs` runs of `f`, and the reads of the last one.
pub async fn best_of<F, Fut>(runs: usize, store: &Counting<'_>, mut f: F) -> (f64, (u64, u64))
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut best = f64::MAX;
    let mut reads = (0, 0);
    for _ in 0..runs {
        store.take();
        let t = Instant::now();
        f().await;
        best = best.min(t.elapsed().as_secs_f64());
        reads = store.take();
    }
    (best, reads)
}
