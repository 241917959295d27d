//! The embedded on-disk store (redb): the default for local runs. One table per record kind;
//! keys are `{integration}/{sort key}` so that a prefix range is DynamoDB's query by partition.
//! Integrations themselves are keyed `{account}/{integration}`.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use chrono::NaiveDate;
use codec::{Dictionary, decode, encode};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::records::{
    Cursor, DailyCounts, IntegrationRecord, ProjectRecord, Record, RecordKind, RunRecord,
    issue_order,
};
use super::{
    CallCounter, DeletionFence, IntegrationStore, ProjectStore, RecordStore, RunLog, StoreError,
    StoreResult, SyncStateStore,
};
use crate::hygiene::index::ChangeMark;

mod codec;
mod dora;
mod file;
mod history;
mod hygiene;
mod hygiene_index;
mod issues;

pub use file::Space;

type Table = TableDefinition<'static, &'static str, &'static [u8]>;
const ISSUES: Table = TableDefinition::new("issues");
const RECORDS: Table = TableDefinition::new("records");
const PROJECTS: Table = TableDefinition::new("projects");
const CURSORS: Table = TableDefinition::new("cursors");
const LEASES: Table = TableDefinition::new("leases");
const RUNS: Table = TableDefinition::new("runs");
const DAILY: Table = TableDefinition::new("daily");
const CALLS: Table = TableDefinition::new("calls");
/// A small projection of every issue (id, project, updated, flags), kept in step with ISSUES so
/// the sync reads its index without decoding whole issues.
const INDEX: Table = TableDefinition::new("issue_index");
/// Every table keyed by integration id: what deleting an integration clears.
const INTEGRATION_SCOPED: [Table; 18] = [
    ISSUES,
    RECORDS,
    PROJECTS,
    CURSORS,
    LEASES,
    RUNS,
    DAILY,
    INDEX,
    HYGIENE,
    SNAPSHOTS,
    HISTORY,
    TARGETS,
    INDEX_HEADS,
    INDEX_CELLS,
    CONTRIBUTIONS,
    CHANGED,
    DORA,
    DORA_MEMBERS,
];
const HYGIENE: Table = TableDefinition::new("hygiene_config");
const SNAPSHOTS: Table = TableDefinition::new("hygiene_snapshots");
/// `{integration}/build` → its history build, `{integration}/sum/{position}` → a running
/// build's sums, `{integration}/point/{day}` → a kept point.
const HISTORY: Table = TableDefinition::new("hygiene_history");
/// `{integration}/` → the account, for each integration the daily snapshot visits.
const TARGETS: Table = TableDefinition::new("hygiene_targets");
const INTEGRATIONS: Table = TableDefinition::new("integrations");
/// `{integration}` → when its deletion happened: the tombstones of [`DeletionFence`].
const DELETED: Table = TableDefinition::new("deleted_integrations");
/// The kept hygiene aggregate: `{integration}/` → its head, `{integration}/{cell as JSON}` → a
/// cell's tallies, `{issue key}` → an issue's contribution.
const INDEX_HEADS: Table = TableDefinition::new("hygiene_index_heads");
const INDEX_CELLS: Table = TableDefinition::new("hygiene_index_cells");
const CONTRIBUTIONS: Table = TableDefinition::new("hygiene_contributions");
/// `{issue key}/{stamp}` → a change mark, written with the issue in one transaction.
const CHANGED: Table = TableDefinition::new("hygiene_changed");
/// `{integration}/config` → its DORA profiles, `{integration}/heads` → where their
/// classification stands; `{integration}/{profile}/{issue key}` → a member's facts.
const DORA: Table = TableDefinition::new("dora");
const DORA_MEMBERS: Table = TableDefinition::new("dora_members");
/// The store's own settings: `issue-dictionary` → the content of its issue dictionary.
const CODEC: Table = TableDefinition::new("codec");
const ISSUE_DICTIONARY: &str = "issue-dictionary";

/// redb caches up to 1 GiB by default; a sync streams through its data once, so a small cache
/// keeps the process within a small Lambda's memory.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Clones share one open database (a file is opened once per process), as the local server's
/// functions share one store.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    /// The store's issue dictionary, once it has one ([`codec`]).
    dictionary: Arc<OnceLock<Dictionary>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Lease {
    owner: String,
    expires_ms: i64,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn integration_key(account: &str, id: &str) -> String {
    format!("{account}/{id}")
}

/// Keys are `{integration}/…`, so an id holding the separator could reach into another
/// integration's key range (and its deletion would clear that range too).
fn check_integration_id(id: &str) -> StoreResult<()> {
    if id.is_empty() || id.contains('/') {
        return Err(StoreError::Backend(format!(
            "integration id {id:?} must be non-empty and contain no '/'"
        )));
    }
    Ok(())
}

/// A record read under `{account}/{id}` belongs to that account and id exactly: an account
/// name holding the separator must not reach another account's records.
fn owned_by(record: &IntegrationRecord, account: &str) -> bool {
    record.account == account
}

fn issue_key(integration: &str, id: &str) -> String {
    format!("{integration}/{}", issue_order(id))
}

/// A change mark is kept as its issue id under a key that ends in its stamp (every issue write
/// leaves one, so it is kept small).
fn change_key(issue_key: &str, mark: &ChangeMark) -> String {
    format!("{issue_key}/{}", mark.stamp)
}

/// The change mark kept under `key`; marks written as JSON before still read.
fn change_mark(key: &str, value: &[u8]) -> StoreResult<ChangeMark> {
    if value.first() == Some(&b'{') {
        return decode(value, None);
    }
    let corrupt = || StoreError::Corrupt(format!("change mark {key:?}"));
    Ok(ChangeMark {
        id: String::from_utf8(value.to_vec()).map_err(|_| corrupt())?,
        stamp: key.rsplit_once('/').ok_or_else(corrupt)?.1.to_string(),
    })
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
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => {
                    StoreError::InUse(path.display().to_string())
                }
                e => StoreError::Backend(format!("cannot open {}: {e}", path.display())),
            })?;
        let tx = db.begin_write().map_err(backend)?;
        let dictionary = OnceLock::new();
        for t in INTEGRATION_SCOPED
            .into_iter()
            .chain([INTEGRATIONS, DELETED, CODEC])
        {
            tx.open_table(t).map_err(backend)?;
        }
        if let Some(content) = tx
            .open_table(CODEC)
            .map_err(backend)?
            .get(ISSUE_DICTIONARY)
            .map_err(backend)?
        {
            let _ = dictionary.set(Dictionary::new(content.value()));
        }
        tx.commit().map_err(backend)?;
        Ok(Self {
            db: Arc::new(db),
            dictionary: Arc::new(dictionary),
        })
    }

    /// A dictionary made from `jsons`, the issues about to be written, and kept in `tx`; None
    /// while they are too few to make one.
    fn make_dictionary<'j>(
        &self,
        tx: &redb::WriteTransaction,
        jsons: impl IntoIterator<Item = &'j [u8]>,
    ) -> StoreResult<Option<Dictionary>> {
        let Some(content) = Dictionary::content_from(jsons) else {
            return Ok(None);
        };
        tx.open_table(CODEC)
            .map_err(backend)?
            .insert(ISSUE_DICTIONARY, content.as_slice())
            .map_err(backend)?;
        Ok(Some(Dictionary::new(&content)))
    }

    fn get<T: DeserializeOwned>(&self, table: Table, key: &str) -> StoreResult<Option<T>> {
        self.get_with(table, key, |v| decode(v, None))
    }

    /// [`Self::get`] of a table whose values are read back by `decode`.
    fn get_with<T>(
        &self,
        table: Table,
        key: &str,
        decode: impl Fn(&[u8]) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let tx = self.db.begin_read().map_err(backend)?;
        let t = tx.open_table(table).map_err(backend)?;
        match t.get(key).map_err(backend)? {
            Some(v) => decode(v.value()).map(Some),
            None => Ok(None),
        }
    }

    /// Those of `keys` the table holds, read in one transaction and read back by `decode`, each
    /// beside the tag it was asked with.
    fn get_each<K, T>(
        &self,
        table: Table,
        keys: impl IntoIterator<Item = (K, String)>,
        decode: impl Fn(&[u8]) -> StoreResult<T>,
    ) -> StoreResult<Vec<(K, T)>> {
        let tx = self.db.begin_read().map_err(backend)?;
        let t = tx.open_table(table).map_err(backend)?;
        let mut found = Vec::new();
        for (tag, key) in keys {
            if let Some(v) = t.get(key.as_str()).map_err(backend)? {
                found.push((tag, decode(v.value())?));
            }
        }
        Ok(found)
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
        self.scan_with(table, prefix, after, limit, |v| decode(v, None))
    }

    /// [`Self::scan`] of a table whose values are read back by `decode`.
    fn scan_with<T>(
        &self,
        table: Table,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
        decode: impl Fn(&[u8]) -> StoreResult<T>,
    ) -> StoreResult<Vec<(String, T)>> {
        let start = after
            .map(|a| format!("{a}\u{0}"))
            .unwrap_or_else(|| prefix.to_string());
        let end = format!("{prefix}\u{10FFFF}");
        let tx = self.db.begin_read().map_err(backend)?;
        let t = tx.open_table(table).map_err(backend)?;
        let mut out = Vec::new();
        for entry in t.range(start.as_str()..end.as_str()).map_err(backend)? {
            if out.len() >= limit {
                break;
            }
            let (k, v) = entry.map_err(backend)?;
            out.push((k.value().to_string(), decode(v.value())?));
        }
        Ok(out)
    }

    /// Removes the integration's record and, in the same transaction, every key under its id,
    /// leaving its tombstone.
    fn delete_integration_data(&self, account: &str, id: &str) -> StoreResult<bool> {
        let key = integration_key(account, id);
        let tx = self.db.begin_write().map_err(backend)?;
        let owned = {
            let integrations = tx.open_table(INTEGRATIONS).map_err(backend)?;
            match integrations.get(key.as_str()).map_err(backend)? {
                Some(v) => owned_by(&decode(v.value(), None)?, account),
                None => false,
            }
        };
        if !owned {
            tx.abort().map_err(backend)?;
            return Ok(false);
        }
        {
            let mut integrations = tx.open_table(INTEGRATIONS).map_err(backend)?;
            integrations.remove(key.as_str()).map_err(backend)?;
            let mut deleted = tx.open_table(DELETED).map_err(backend)?;
            let at = chrono::Utc::now().timestamp_millis();
            deleted
                .insert(id, encode(&at)?.as_slice())
                .map_err(backend)?;
        }
        remove_scoped(&tx, id)?;
        tx.commit().map_err(backend)?;
        Ok(true)
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
                Some(v) => Some(decode(v.value(), None)?),
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

/// Removes every key under the integration id from `table`.
fn remove_under(tx: &redb::WriteTransaction, table: Table, id: &str) -> StoreResult<()> {
    remove_prefixed(tx, table, &format!("{id}/"))
}

/// Removes every key that starts with `prefix`.
fn remove_prefixed(tx: &redb::WriteTransaction, table: Table, prefix: &str) -> StoreResult<()> {
    let (start, end) = (prefix.to_string(), format!("{prefix}\u{10FFFF}"));
    tx.open_table(table)
        .map_err(backend)?
        .retain_in(start.as_str()..end.as_str(), |_, _| false)
        .map_err(backend)
}

/// Removes every key under the integration id from every integration-scoped table.
fn remove_scoped(tx: &redb::WriteTransaction, id: &str) -> StoreResult<()> {
    for table in INTEGRATION_SCOPED {
        remove_under(tx, table, id)?;
    }
    Ok(())
}

#[async_trait]
impl DeletionFence for EmbeddedStore {
    async fn integration_deleted(&self, integration: &str) -> StoreResult<bool> {
        Ok(self.get::<i64>(DELETED, integration)?.is_some())
    }

    async fn sweep_deleted(&self, integration: &str) -> StoreResult<bool> {
        let tx = self.db.begin_write().map_err(backend)?;
        let tombstone = tx
            .open_table(DELETED)
            .map_err(backend)?
            .get(integration)
            .map_err(backend)?
            .is_some();
        if !tombstone {
            tx.abort().map_err(backend)?;
            return Ok(false);
        }
        remove_scoped(&tx, integration)?;
        tx.commit().map_err(backend)?;
        Ok(true)
    }
}

#[async_trait]
impl RecordStore for EmbeddedStore {
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
}

#[async_trait]
impl ProjectStore for EmbeddedStore {
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

    async fn remove_project(&self, integration: &str, key: &str) -> StoreResult<()> {
        let tx = self.db.begin_write().map_err(backend)?;
        {
            let mut t = tx.open_table(PROJECTS).map_err(backend)?;
            t.remove(format!("{integration}/{key}").as_str())
                .map_err(backend)?;
        }
        tx.commit().map_err(backend)
    }
}

impl EmbeddedStore {
    /// Gives back every lease the store holds, and answers how many there were. The store's file
    /// is locked while it is open, so the process that opened it holds none of them yet: each
    /// belongs to a process that ended without giving it back (a sync killed or cut off), and
    /// waiting for it to expire would only hold the next run back.
    pub fn release_abandoned_leases(&self) -> StoreResult<usize> {
        let tx = self.db.begin_write().map_err(backend)?;
        let released = {
            let mut t = tx.open_table(LEASES).map_err(backend)?;
            let held = t.len().map_err(backend)?;
            t.retain(|_, _| false).map_err(backend)?;
            held
        };
        tx.commit().map_err(backend)?;
        Ok(usize::try_from(released).unwrap_or(usize::MAX))
    }
}

#[async_trait]
impl SyncStateStore for EmbeddedStore {
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
                Some(v) => decode::<Lease>(v.value(), None)?.owner == owner,
                None => false,
            };
            if mine {
                t.remove(key.as_str()).map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)
    }
}

#[async_trait]
impl RunLog for EmbeddedStore {
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
            .filter(|r| r.active_since(since_ms))
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

impl EmbeddedStore {
    /// Keeps the record (only where none of its account and id is stored, with `only_new`) and
    /// lifts a deletion tombstone of its id, in one transaction; whether it was kept.
    fn write_integration(&self, record: &IntegrationRecord, only_new: bool) -> StoreResult<bool> {
        check_integration_id(&record.id)?;
        let tx = self.db.begin_write().map_err(backend)?;
        {
            let key = integration_key(&record.account, &record.id);
            let mut integrations = tx.open_table(INTEGRATIONS).map_err(backend)?;
            if only_new && integrations.get(key.as_str()).map_err(backend)?.is_some() {
                return Ok(false);
            }
            integrations
                .insert(key.as_str(), encode(record)?.as_slice())
                .map_err(backend)?;
            tx.open_table(DELETED)
                .map_err(backend)?
                .remove(record.id.as_str())
                .map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        Ok(true)
    }
}

#[async_trait]
impl IntegrationStore for EmbeddedStore {
    async fn put_integration(&self, record: &IntegrationRecord) -> StoreResult<()> {
        self.write_integration(record, false).map(|_| ())
    }

    async fn create_integration(&self, record: &IntegrationRecord) -> StoreResult<bool> {
        self.write_integration(record, true)
    }

    async fn replace_integration(
        &self,
        record: &IntegrationRecord,
        expected_updated_ms: i64,
    ) -> StoreResult<bool> {
        check_integration_id(&record.id)?;
        let key = integration_key(&record.account, &record.id);
        self.update(INTEGRATIONS, &key, |current: Option<IntegrationRecord>| {
            current
                .filter(|c| owned_by(c, &record.account) && c.updated_ms == expected_updated_ms)
                .map(|_| record.clone())
        })
    }

    async fn get_integration(
        &self,
        account: &str,
        id: &str,
    ) -> StoreResult<Option<IntegrationRecord>> {
        let found: Option<IntegrationRecord> =
            self.get(INTEGRATIONS, &integration_key(account, id))?;
        Ok(found.filter(|r| owned_by(r, account) && r.id == id))
    }

    async fn list_integrations(&self, account: &str) -> StoreResult<Vec<IntegrationRecord>> {
        Ok(self
            .scan(INTEGRATIONS, &format!("{account}/"), None, usize::MAX)?
            .into_iter()
            .map(|(_, r): (String, IntegrationRecord)| r)
            .filter(|r| owned_by(r, account))
            .collect())
    }

    async fn delete_integration(&self, account: &str, id: &str) -> StoreResult<bool> {
        if check_integration_id(id).is_err() {
            return Ok(false);
        }
        self.delete_integration_data(account, id)
    }
}

#[async_trait]
impl CallCounter for EmbeddedStore {
    /// Counted in one write transaction. Local runs keep the counts (nothing expires here).
    async fn count_call(&self, account: &str, kind: &str, window_ms: i64) -> StoreResult<u64> {
        let count = std::cell::Cell::new(0u64);
        self.update(
            CALLS,
            &format!("{account}/{kind}/{window_ms:020}"),
            |current: Option<u64>| {
                count.set(current.unwrap_or(0) + 1);
                Some(count.get())
            },
        )?;
        Ok(count.get())
    }
}
