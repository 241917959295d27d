//! A real store behind a tap: every call reaches the store unchanged, and the tap sees each
//! read's size and may run a step of its own just before each issue write. The benchmarks count
//! reads with it; the sync tests land another writer's change inside a sync's write window,
//! which no observer event can reach. The forwarding is generated role by role, so a tap states
//! only what it does.
#![allow(dead_code)]

use std::ops::Deref;

use async_trait::async_trait;
use chrono::NaiveDate;
use sei_jira_core::dora::DoraConfig;
use sei_jira_core::dora::DoraFacts;
use sei_jira_core::dora::index::DoraHeads;
use sei_jira_core::hygiene::history::{HistoryBuild, Sum};
use sei_jira_core::hygiene::index::{ChangeMark, Contribution, IndexHead, IndexedCell};
use sei_jira_core::hygiene::{Cell, HygieneConfig, Snapshot};
use sei_jira_core::store::*;

/// What a tap does around the calls it sees; by default, nothing.
#[async_trait]
pub trait Tap: Send + Sync {
    /// After each read, with the number of items it answered.
    fn read(&self, _items: usize) {}
    /// Before a `put_issues` call reaches the store, with the issues about to be written.
    async fn before_issue_write(&self, _issues: &[StoredIssue]) {}
}

/// `inner` (a `&` or an `Arc` of a store) with `tap` around its calls.
pub struct Tapped<S, T> {
    pub inner: S,
    pub tap: T,
}

impl<S, T> Tapped<S, T> {
    pub fn new(inner: S, tap: T) -> Self {
        Self { inner, tap }
    }
}

/// How many items a read answered.
trait Items {
    fn items(&self) -> usize;
}

impl<T> Items for Vec<T> {
    fn items(&self) -> usize {
        self.len()
    }
}

impl<T> Items for Option<T> {
    fn items(&self) -> usize {
        usize::from(self.is_some())
    }
}

/// Implements a role for `Tapped` by forwarding each listed method: `pass` as is, `read` telling
/// the tap how many items came back, `write` running the tap's step first.
macro_rules! forward {
    ($role:ident { $($kind:ident fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)* }) => {
        #[async_trait]
        impl<S, T> $role for Tapped<S, T>
        where
            S: Deref + Send + Sync,
            S::Target: $role,
            T: Tap,
        {
            $(async fn $name(&self, $($arg: $ty),*) -> $ret {
                forward!(@$kind self, $name, $($arg),*)
            })*
        }
    };
    (@pass $s:ident, $name:ident, $($arg:ident),*) => {
        $s.inner.$name($($arg),*).await
    };
    (@read $s:ident, $name:ident, $($arg:ident),*) => {{
        let out = $s.inner.$name($($arg),*).await?;
        $s.tap.read(Items::items(&out));
        Ok(out)
    }};
    (@write $s:ident, $name:ident, $integration:ident, $issues:ident) => {{
        $s.tap.before_issue_write($issues).await;
        $s.inner.$name($integration, $issues).await
    }};
}

forward!(IssueStore {
    read fn get_issue(i: &str, id: &str) -> StoreResult<Option<StoredIssue>>;
    write fn put_issues(i: &str, issues: &[StoredIssue]) -> StoreResult<Superseded>;
    read fn index_page(i: &str, after: Option<&str>, limit: usize) -> StoreResult<Vec<IssueIndexEntry>>;
    read fn index_entries(i: &str, ids: &[String]) -> StoreResult<Vec<IssueIndexEntry>>;
    read fn list_issues(i: &str, after: Option<&str>, limit: usize) -> StoreResult<Vec<StoredIssue>>;
    pass fn flag_issue(i: &str, id: &str, flag: IssueFlag) -> StoreResult<bool>;
});

forward!(RecordStore {
    pass fn put_records(i: &str, kind: RecordKind, records: &[Record]) -> StoreResult<()>;
    read fn list_records(i: &str, kind: RecordKind) -> StoreResult<Vec<Record>>;
});

forward!(ProjectStore {
    pass fn put_project(i: &str, project: &ProjectRecord) -> StoreResult<()>;
    read fn list_projects(i: &str) -> StoreResult<Vec<ProjectRecord>>;
    pass fn remove_project(i: &str, key: &str) -> StoreResult<()>;
});

forward!(SyncStateStore {
    read fn get_cursor(i: &str, unit: &str) -> StoreResult<Option<Cursor>>;
    pass fn put_cursor(i: &str, unit: &str, cursor: &Cursor) -> StoreResult<()>;
    pass fn acquire_lease(i: &str, unit: &str, owner: &str, now_ms: i64, ttl_ms: i64) -> StoreResult<bool>;
    pass fn release_lease(i: &str, unit: &str, owner: &str) -> StoreResult<()>;
});

forward!(RunLog {
    pass fn put_run(i: &str, run: &RunRecord) -> StoreResult<()>;
    read fn list_runs(i: &str, since_ms: i64) -> StoreResult<Vec<RunRecord>>;
    pass fn add_daily(i: &str, day: NaiveDate, delta: &DailyCounts) -> StoreResult<()>;
    read fn list_daily(i: &str, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<(NaiveDate, DailyCounts)>>;
});

forward!(DeletionFence {
    pass fn integration_deleted(i: &str) -> StoreResult<bool>;
    pass fn sweep_deleted(i: &str) -> StoreResult<bool>;
});

forward!(HygieneIndexStore {
    read fn get_index_head(i: &str) -> StoreResult<Option<IndexHead>>;
    pass fn put_index_head(i: &str, head: &IndexHead) -> StoreResult<()>;
    read fn list_index_cells(i: &str) -> StoreResult<Vec<IndexedCell>>;
    read fn get_index_cells(i: &str, cells: &[Cell]) -> StoreResult<Vec<IndexedCell>>;
    pass fn put_index_cells(i: &str, cells: &[IndexedCell]) -> StoreResult<()>;
    pass fn clear_index_cells(i: &str) -> StoreResult<()>;
    read fn get_contributions(i: &str, ids: &[String]) -> StoreResult<Vec<(String, Contribution)>>;
    pass fn put_contributions(i: &str, c: &[(String, Option<Contribution>)]) -> StoreResult<()>;
    read fn changed_issues(i: &str, limit: usize) -> StoreResult<Vec<ChangeMark>>;
    pass fn clear_changed(i: &str, marks: &[ChangeMark]) -> StoreResult<()>;
});

forward!(DoraStore {
    read fn get_dora_config(i: &str) -> StoreResult<Option<DoraConfig>>;
    pass fn put_dora_config(i: &str, config: &DoraConfig) -> StoreResult<bool>;
    read fn get_dora_heads(i: &str) -> StoreResult<Option<DoraHeads>>;
    pass fn put_dora_heads(i: &str, heads: &DoraHeads) -> StoreResult<()>;
    read fn list_dora_members(i: &str, profile: &str) -> StoreResult<Vec<DoraFacts>>;
    read fn dora_members_among(i: &str, profile: &str, ids: &[&str]) -> StoreResult<Vec<String>>;
    pass fn put_dora_members(i: &str, profile: &str, members: &[(String, Option<DoraFacts>)]) -> StoreResult<()>;
});

forward!(HygieneStore {
    read fn get_hygiene_config(i: &str) -> StoreResult<Option<HygieneConfig>>;
    pass fn put_hygiene_config(i: &str, config: &HygieneConfig) -> StoreResult<bool>;
    pass fn put_snapshot(account: &str, i: &str, snapshot: &Snapshot) -> StoreResult<()>;
    read fn list_snapshots(i: &str, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Snapshot>>;
    read fn snapshot_targets() -> StoreResult<Vec<(String, String)>>;
    pass fn withdraw_snapshot_target(i: &str) -> StoreResult<()>;
});

forward!(HistoryStore {
    read fn get_history_build(i: &str) -> StoreResult<Option<HistoryBuild>>;
    pass fn put_history_build(i: &str, build: &HistoryBuild) -> StoreResult<()>;
    read fn history_sums(i: &str) -> StoreResult<Vec<(usize, Sum)>>;
    pass fn put_history_sums(i: &str, sums: &[(usize, Sum)]) -> StoreResult<()>;
    pass fn clear_history_sums(i: &str) -> StoreResult<()>;
    pass fn put_history_points(i: &str, points: &[Snapshot]) -> StoreResult<()>;
    read fn list_history_points(i: &str, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Snapshot>>;
});
