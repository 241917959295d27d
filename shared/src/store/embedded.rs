//! The embedded on-disk store (redb): the default for local runs. One table per record kind;
//! keys are `{integration}/{sort key}` so that a prefix range is DynamoDB's query by partition.

use std::path::Path;

use async_trait::async_trait;
use chrono::NaiveDate;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::*;

type Table = TableDefinition<'static, &'static str, &'static [u8]>;
const ISSUES: Table = TableDefinition::new("issues");
const RECORDS: Table = TableDefinition::new("records");
const PROJECTS: Table = TableDefinition::new("projects");
const CURSORS: Table = TableDefinition::new("cursors");
const LEASES: Table = TableDefinition::new("leases");
const RUNS: Table = TableDefinition::new("runs");
const DAILY: Table = TableDefinition::new("daily");
/// A small projection of every issue (id, project, updated, flags), kept in step with ISSUES so
/// the sync reads its index without decoding whole issues.
const INDEX: Table = TableDefinition::new("issue_index");
const ALL: [Table; 8] = [
    ISSUES, RECORDS, PROJECTS, CURSORS, LEASES, RUNS, DAILY, INDEX,
];

/// redb caches up to 1 GiB by default; a sync streams through its data once, so a small cache
/// keeps the process within a small Lambda's memory.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

fn index_entry(i: &StoredIssue) -> IssueIndexEntry {
    IssueIndexEntry {
        id: i.id.clone(),
        project_key: i.project_key.clone(),
        updated_ms: i.updated_ms,
        deleted: i.deleted_at_ms.is_some(),
        hidden: i.hidden,
        removed: i.removed,
    }
}

pub struct EmbeddedStore {
    db: Database,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Lease {
    owner: String,
    expires_ms: i64,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn encode<T: Serialize>(v: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Issue ids sort numerically once zero-padded.
fn issue_key(integration: &str, id: &str) -> String {
    match id.parse::<u64>() {
        Ok(n) => format!("{integration}/{n:020}"),
        Err(_) => format!("{integration}/{id}"),
    }
}

impl EmbeddedStore {
    /// Opens (or creates) the store file; its parent directory is created if needed.
    pub fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Backend(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
        let tx = db.begin_write().map_err(backend)?;
        for t in ALL {
            tx.open_table(t).map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        Ok(Self { db })
    }

    fn get<T: DeserializeOwned>(&self, table: Table, key: &str) -> StoreResult<Option<T>> {
        let tx = self.db.begin_read().map_err(backend)?;
        let t = tx.open_table(table).map_err(backend)?;
        match t.get(key).map_err(backend)? {
            Some(v) => decode(v.value()).map(Some),
            None => Ok(None),
        }
    }

    /// One transaction (one fsync) for the whole call: the sync calls once per group of issues.
    fn put_all<T: Serialize>(&self, table: Table, items: &[(String, T)]) -> StoreResult<()> {
        if items.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write().map_err(backend)?;
        {
            let mut t = tx.open_table(table).map_err(backend)?;
            for (k, v) in items {
                t.insert(k.as_str(), encode(v)?.as_slice())
                    .map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)
    }

    /// Values under `{integration}/{prefix}`, in key order, starting after `after` (a full key).
    fn scan<T: DeserializeOwned>(
        &self,
        table: Table,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, T)>> {
        let start = after
            .map(|a| format!("{a}\u{0}"))
            .unwrap_or_else(|| prefix.to_string());
        let end = format!("{prefix}\u{10FFFF}");
        let tx = self.db.begin_read().map_err(backend)?;
        let t = tx.open_table(table).map_err(backend)?;
        let mut out = Vec::new();
        for entry in t.range(start.as_str()..end.as_str()).map_err(backend)? {
            let (k, v) = entry.map_err(backend)?;
            out.push((k.value().to_string(), decode(v.value())?));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn update<T: Serialize + DeserializeOwned>(
        &self,
        table: Table,
        key: &str,
        f: impl FnOnce(Option<T>) -> Option<T>,
    ) -> StoreResult<bool> {
        let tx = self.db.begin_write().map_err(backend)?;
        let changed;
        {
            let mut t = tx.open_table(table).map_err(backend)?;
            let current: Option<T> = match t.get(key).map_err(backend)? {
                Some(v) => Some(decode(v.value())?),
                None => None,
            };
            match f(current) {
                Some(next) => {
                    t.insert(key, encode(&next)?.as_slice()).map_err(backend)?;
                    changed = true;
                }
                None => changed = false,
            }
        }
        tx.commit().map_err(backend)?;
        Ok(changed)
    }
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn get_issue(&self, integration: &str, id: &str) -> StoreResult<Option<StoredIssue>> {
        self.get(ISSUES, &issue_key(integration, id))
    }

    async fn put_issues(&self, integration: &str, issues: &[StoredIssue]) -> StoreResult<()> {
        if issues.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write().map_err(backend)?;
        {
            let mut items = tx.open_table(ISSUES).map_err(backend)?;
            let mut index = tx.open_table(INDEX).map_err(backend)?;
            for i in issues {
                let key = issue_key(integration, &i.id);
                items
                    .insert(key.as_str(), encode(i)?.as_slice())
                    .map_err(backend)?;
                index
                    .insert(key.as_str(), encode(&index_entry(i))?.as_slice())
                    .map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)
    }

    async fn issue_index(&self, integration: &str) -> StoreResult<Vec<IssueIndexEntry>> {
        Ok(self
            .scan(INDEX, &format!("{integration}/"), None, usize::MAX)?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    async fn list_issues(
        &self,
        integration: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredIssue>> {
        let after = after.map(|a| issue_key(integration, a));
        Ok(self
            .scan(ISSUES, &format!("{integration}/"), after.as_deref(), limit)?
            .into_iter()
            .map(|(_, i)| i)
            .collect())
    }

    async fn flag_issue(&self, integration: &str, id: &str, flag: IssueFlag) -> StoreResult<bool> {
        let key = issue_key(integration, id);
        let Some(mut issue) = self.get::<StoredIssue>(ISSUES, &key)? else {
            return Ok(false);
        };
        match flag {
            IssueFlag::Deleted { at_ms } => issue.deleted_at_ms = Some(at_ms),
            IssueFlag::Restored => issue.deleted_at_ms = None,
            IssueFlag::Hidden => issue.hidden = true,
            IssueFlag::Unhidden => issue.hidden = false,
            IssueFlag::Removed => {
                issue.removed = true;
                issue.fields.clear();
                issue.changelog.clear();
                issue.comments.clear();
            }
        }
        self.put_issues(integration, std::slice::from_ref(&issue))
            .await?;
        Ok(true)
    }

    async fn put_records(
        &self,
        integration: &str,
        kind: RecordKind,
        records: &[Record],
    ) -> StoreResult<()> {
        let items: Vec<(String, &Record)> = records
            .iter()
            .map(|r| (format!("{integration}/{}/{}", kind.name(), r.id), r))
            .collect();
        self.put_all(RECORDS, &items)
    }

    async fn list_records(&self, integration: &str, kind: RecordKind) -> StoreResult<Vec<Record>> {
        Ok(self
            .scan(
                RECORDS,
                &format!("{integration}/{}/", kind.name()),
                None,
                usize::MAX,
            )?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    async fn put_project(&self, integration: &str, project: &ProjectRecord) -> StoreResult<()> {
        let p = project.clone();
        self.update(
            PROJECTS,
            &format!("{integration}/{}", project.key),
            move |current: Option<ProjectRecord>| {
                Some(match current {
                    // Onboarding time is the first time the project was seen.
                    Some(old) => ProjectRecord {
                        onboarded_at_ms: old.onboarded_at_ms,
                        ..p
                    },
                    None => p,
                })
            },
        )?;
        Ok(())
    }

    async fn list_projects(&self, integration: &str) -> StoreResult<Vec<ProjectRecord>> {
        Ok(self
            .scan(PROJECTS, &format!("{integration}/"), None, usize::MAX)?
            .into_iter()
            .map(|(_, p)| p)
            .collect())
    }

    async fn get_cursor(&self, integration: &str, unit: &str) -> StoreResult<Option<Cursor>> {
        self.get(CURSORS, &format!("{integration}/{unit}"))
    }

    async fn put_cursor(&self, integration: &str, unit: &str, cursor: &Cursor) -> StoreResult<()> {
        self.put_all(CURSORS, &[(format!("{integration}/{unit}"), cursor)])
    }

    async fn acquire_lease(
        &self,
        integration: &str,
        unit: &str,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        self.update(
            LEASES,
            &format!("{integration}/{unit}"),
            |current: Option<Lease>| match current {
                Some(l) if l.owner != owner && l.expires_ms > now_ms => None,
                _ => Some(Lease {
                    owner: owner.to_string(),
                    expires_ms: now_ms + ttl_ms,
                }),
            },
        )
    }

    async fn release_lease(&self, integration: &str, unit: &str, owner: &str) -> StoreResult<()> {
        let key = format!("{integration}/{unit}");
        let tx = self.db.begin_write().map_err(backend)?;
        {
            let mut t = tx.open_table(LEASES).map_err(backend)?;
            let mine = match t.get(key.as_str()).map_err(backend)? {
                Some(v) => decode::<Lease>(v.value())?.owner == owner,
                None => false,
            };
            if mine {
                t.remove(key.as_str()).map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)
    }

    async fn put_run(&self, integration: &str, run: &RunRecord) -> StoreResult<()> {
        self.put_all(
            RUNS,
            &[(
                format!("{integration}/{:020}/{}", run.started_ms, run.run_id),
                run,
            )],
        )
    }

    async fn list_runs(&self, integration: &str, since_ms: i64) -> StoreResult<Vec<RunRecord>> {
        let all: Vec<(String, RunRecord)> =
            self.scan(RUNS, &format!("{integration}/"), None, usize::MAX)?;
        Ok(all
            .into_iter()
            .map(|(_, r)| r)
            .filter(|r| r.started_ms >= since_ms || r.ended_ms.is_none_or(|e| e >= since_ms))
            .collect())
    }

    async fn add_daily(
        &self,
        integration: &str,
        day: NaiveDate,
        delta: &DailyCounts,
    ) -> StoreResult<()> {
        let delta = *delta;
        self.update(
            DAILY,
            &format!("{integration}/{day}"),
            move |current: Option<DailyCounts>| {
                let mut c = current.unwrap_or_default();
                c.add(&delta);
                Some(c)
            },
        )?;
        Ok(())
    }

    async fn list_daily(
        &self,
        integration: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<(NaiveDate, DailyCounts)>> {
        let all: Vec<(String, DailyCounts)> =
            self.scan(DAILY, &format!("{integration}/"), None, usize::MAX)?;
        Ok(all
            .into_iter()
            .filter_map(|(k, c)| {
                NaiveDate::parse_from_str(k.rsplit('/').next()?, "%Y-%m-%d")
                    .ok()
                    .map(|d| (d, c))
            })
            .filter(|(d, _)| *d >= from && *d <= to)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (EmbeddedStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (
            EmbeddedStore::open(&dir.path().join("s.redb")).unwrap(),
            dir,
        )
    }

    fn issue(id: &str, project: &str) -> StoredIssue {
        StoredIssue {
            id: id.into(),
            key: format!("{project}-{id}"),
            project_key: project.into(),
            updated_ms: 1,
            ..StoredIssue::default()
        }
    }

    #[tokio::test]
    async fn upserts_by_id_and_lists_in_id_order() {
        let (s, _d) = store();
        s.put_issues(
            "a",
            &[issue("10010", "P"), issue("9", "P"), issue("10002", "Q")],
        )
        .await
        .unwrap();
        s.put_issues(
            "a",
            &[StoredIssue {
                key: "R-1".into(),
                project_key: "R".into(),
                ..issue("10010", "P")
            }],
        )
        .await
        .unwrap();
        s.put_issues("b", &[issue("1", "X")]).await.unwrap();
        let ids: Vec<String> = s
            .list_issues("a", None, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(ids, vec!["9", "10002", "10010"]);
        assert_eq!(s.get_issue("a", "10010").await.unwrap().unwrap().key, "R-1");
        let page: Vec<String> = s
            .list_issues("a", Some("9"), 1)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(page, vec!["10002"]);
        assert_eq!(
            s.issue_index("b").await.unwrap().len(),
            1,
            "integrations never mix"
        );
    }

    #[tokio::test]
    async fn leases_are_exclusive_until_expiry() {
        let (s, _d) = store();
        assert!(
            s.acquire_lease("a", "P", "run-1", 1_000, 500)
                .await
                .unwrap()
        );
        assert!(
            !s.acquire_lease("a", "P", "run-2", 1_200, 500)
                .await
                .unwrap()
        );
        assert!(
            s.acquire_lease("a", "P", "run-1", 1_300, 500)
                .await
                .unwrap(),
            "the owner renews"
        );
        assert!(
            s.acquire_lease("a", "P", "run-2", 2_000, 500)
                .await
                .unwrap(),
            "expired"
        );
        s.release_lease("a", "P", "run-1").await.unwrap();
        assert!(
            !s.acquire_lease("a", "P", "run-3", 2_100, 500)
                .await
                .unwrap(),
            "only the owner releases"
        );
        s.release_lease("a", "P", "run-2").await.unwrap();
        assert!(
            s.acquire_lease("a", "P", "run-3", 2_100, 500)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn projects_keep_their_onboarding_time_and_counters_add_up() {
        let (s, _d) = store();
        let p = ProjectRecord {
            key: "P".into(),
            id: "1".into(),
            name: "P".into(),
            onboarded_at_ms: 5,
        };
        s.put_project("a", &p).await.unwrap();
        s.put_project(
            "a",
            &ProjectRecord {
                onboarded_at_ms: 99,
                name: "Renamed".into(),
                ..p
            },
        )
        .await
        .unwrap();
        let got = s.list_projects("a").await.unwrap();
        assert_eq!(
            (got[0].onboarded_at_ms, got[0].name.as_str()),
            (5, "Renamed")
        );
        let day = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        s.add_daily(
            "a",
            day,
            &DailyCounts {
                issues_new: 2,
                runs: 1,
                ..DailyCounts::default()
            },
        )
        .await
        .unwrap();
        s.add_daily(
            "a",
            day,
            &DailyCounts {
                issues_new: 3,
                runs: 1,
                ..DailyCounts::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            s.list_daily("a", day, day).await.unwrap()[0].1.issues_new,
            5
        );
    }

    #[tokio::test]
    async fn removal_drops_content_but_keeps_a_tombstone() {
        let (s, _d) = store();
        let mut i = issue("7", "P");
        i.fields
            .insert("summary".into(), serde_json::json!("secret plans"));
        s.put_issues("a", &[i]).await.unwrap();
        assert!(s.flag_issue("a", "7", IssueFlag::Removed).await.unwrap());
        let got = s.get_issue("a", "7").await.unwrap().unwrap();
        assert!(got.removed && got.fields.is_empty());
        assert!(!s.flag_issue("a", "8", IssueFlag::Hidden).await.unwrap());
    }
}
