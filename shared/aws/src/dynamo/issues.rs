//! The issue role of the DynamoDB store: issues sharded over partitions, read back whole from
//! their parts, listed in id order by merging the shards.

use std::collections::{HashMap, VecDeque};

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt, stream};

use super::codec::put_request;
use super::codec::{
    IssueItems, Written, blob, decode_body, index_entry, issue_items, key_item, number,
    stale_parts, string,
};
use super::failures::backend;
use super::hygiene_index::change_mark_item;
use super::{
    BODY, CHUNK, DynamoStore, ENCODING, GENERATION, ISSUE_SHARDS, ISSUE_WRITE_CONCURRENCY, Item,
    PART_READ_ATTEMPTS, PARTS, PK, SK, SortRange, keys,
};
use sei_jira_core::hygiene::index::ChangeMark;
use sei_jira_core::store::records::{IssueFlag, IssueIndexEntry, StoredIssue};
use sei_jira_core::store::{
    IssueStore, StoreError, StoreResult, Superseded, flag_stored_issue, last_per_key,
};

impl DynamoStore {
    /// The issue an issue item holds; None when its parts were replaced while being read.
    pub(super) async fn issue_from_item(
        &self,
        integration: &str,
        item: &Item,
    ) -> StoreResult<Option<Vec<u8>>> {
        self.body_of(&keys::parts(integration), item).await
    }

    /// The body an item holds, inline or in its parts in `parts_pk` (see `put_body_or_parts`);
    /// None when its parts were replaced while being read.
    pub(super) async fn body_of(
        &self,
        parts_pk: &str,
        item: &Item,
    ) -> StoreResult<Option<Vec<u8>>> {
        if item.contains_key(BODY) {
            return Ok(Some(blob(item, BODY)?.to_vec()));
        }
        let expected: usize = number(item, PARTS)?;
        let prefix = keys::part_prefix(string(item, SK)?, string(item, GENERATION)?);
        let parts = self
            .query_all(parts_pk, SortRange::BeginsWith(prefix), true)
            .await?;
        if parts.len() != expected {
            return Ok(None);
        }
        let mut body = Vec::new();
        for part in &parts {
            body.extend_from_slice(blob(part, CHUNK)?);
        }
        Ok(Some(body))
    }

    pub(super) async fn read_issue(
        &self,
        integration: &str,
        id: &str,
    ) -> StoreResult<Option<StoredIssue>> {
        let pk = keys::issues(integration, keys::issue_shard(id));
        self.read_issue_at(integration, &pk, &keys::issue_sort(id))
            .await
    }

    pub(super) async fn read_issue_at(
        &self,
        integration: &str,
        pk: &str,
        sk: &str,
    ) -> StoreResult<Option<StoredIssue>> {
        for _ in 0..PART_READ_ATTEMPTS {
            let Some(item) = self.get_item(pk.to_string(), sk.to_string()).await? else {
                return Ok(None);
            };
            if let Some(body) = self.issue_from_item(integration, &item).await? {
                return decode_body(&body, string(&item, ENCODING)?).map(Some);
            }
        }
        Err(StoreError::Corrupt(format!(
            "{pk}/{sk}: the issue's parts kept changing while being read"
        )))
    }

    /// Decodes a listed issue item; a split issue is re-read whole (None if it is gone by then).
    pub(super) async fn listed_issue(
        &self,
        integration: &str,
        item: &Item,
    ) -> StoreResult<Option<StoredIssue>> {
        if item.contains_key(BODY) {
            return decode_body(blob(item, BODY)?, string(item, ENCODING)?).map(Some);
        }
        self.read_issue_at(integration, string(item, PK)?, string(item, SK)?)
            .await
    }

    /// One issue of `put_issues`: its parts, then its item, index entry and change mark at the
    /// revision read; answers its items and whether they were taken.
    async fn put_issue<'a>(
        &self,
        integration: &str,
        issue: &'a StoredIssue,
    ) -> StoreResult<(&'a StoredIssue, IssueItems, bool)> {
        let next = StoredIssue {
            rev: issue.rev + 1,
            ..issue.clone()
        };
        let items = issue_items(integration, &next)?;
        let parts = items.parts.iter().cloned().map(put_request);
        self.write_all(parts.collect::<StoreResult<_>>()?).await?;
        // The mark goes in the issue's own transaction: written after it, a throttle or a stopped
        // Lambda in between would leave an issue the indexes never count, and the next run would
        // not write it again (its `updated` is already held).
        let mark = change_mark_item(integration, &ChangeMark::new(&issue.id));
        let taken = self
            .put_at_revision(&items.issue, &[items.index.clone(), mark], issue.rev)
            .await?;
        Ok((issue, items, taken))
    }

    /// Deletes the parts of earlier versions of the issues just written: a split issue that
    /// shrank, or was removed by hand, must not leave its old content behind; nor does a
    /// writer refused at its revision (the parts it wrote first are older than this version).
    pub(super) async fn delete_stale_parts(
        &self,
        integration: &str,
        current: &HashMap<String, Written>,
    ) -> StoreResult<()> {
        let (Some(first), Some(last)) = (current.keys().min(), current.keys().max()) else {
            return Ok(());
        };
        // Generations are hex, so `~` sorts after every part of the last issue.
        let range = SortRange::Between(format!("{first}#"), format!("{last}#~"));
        let parts = self.query_keys(&keys::parts(integration), range).await?;
        self.write_all(stale_parts(parts, current)?).await
    }
}

/// One issue (or index) partition read page by page, for [`ShardMerge`].
struct ShardReader {
    pk: String,
    buffered: VecDeque<Item>,
    resume_after: Option<Item>,
    exhausted: bool,
}

impl ShardReader {
    fn new(pk: String) -> Self {
        Self {
            pk,
            buffered: VecDeque::new(),
            resume_after: None,
            exhausted: false,
        }
    }

    fn needs_page(&self) -> bool {
        self.buffered.is_empty() && !self.exhausted
    }

    fn head_sort(&self) -> Option<&str> {
        self.buffered.front().and_then(|i| string(i, SK).ok())
    }

    async fn fetch_page(
        &mut self,
        store: &DynamoStore,
        range: &SortRange,
        page: i32,
        consistent: bool,
    ) -> StoreResult<()> {
        let out = store
            .query(&self.pk, range, consistent)
            .limit(page)
            .set_exclusive_start_key(self.resume_after.take())
            .send()
            .await
            .map_err(backend("Query"))?;
        self.buffered.extend(out.items.unwrap_or_default());
        self.resume_after = out.last_evaluated_key;
        self.exhausted = self.resume_after.is_none();
        Ok(())
    }
}

/// The items of every shard of one kind (issues or index entries) in sort-key (id) order after
/// an issue id, each shard read a page at a time.
struct ShardMerge {
    shards: Vec<ShardReader>,
    range: SortRange,
    page: i32,
    consistent: bool,
}

impl ShardMerge {
    /// `limit`: how many items the caller expects to take; ids spread evenly, so each shard
    /// holds about its share of them. `consistent`: strongly consistent reads.
    fn new(
        pk: impl Fn(u64) -> String,
        after: Option<&str>,
        limit: usize,
        consistent: bool,
    ) -> Self {
        Self {
            shards: (0..ISSUE_SHARDS).map(|s| ShardReader::new(pk(s))).collect(),
            range: match after {
                Some(id) => SortRange::After(keys::issue_sort(id)),
                None => SortRange::All,
            },
            page: i32::try_from(limit.div_ceil(ISSUE_SHARDS as usize) + 1).unwrap_or(i32::MAX),
            consistent,
        }
    }

    async fn next(&mut self, store: &DynamoStore) -> StoreResult<Option<Item>> {
        // The smallest head is the next item only once every unfinished shard shows its own.
        while self.shards.iter().any(ShardReader::needs_page) {
            let (range, page, consistent) = (&self.range, self.page, self.consistent);
            let refills = self
                .shards
                .iter_mut()
                .filter(|r| r.needs_page())
                .map(|r| r.fetch_page(store, range, page, consistent));
            futures_util::future::try_join_all(refills).await?;
        }
        Ok(self
            .shards
            .iter_mut()
            .filter(|r| r.head_sort().is_some())
            .min_by(|a, b| a.head_sort().cmp(&b.head_sort()))
            .and_then(|r| r.buffered.pop_front()))
    }
}

#[async_trait]
impl IssueStore for DynamoStore {
    async fn get_issue(&self, integration: &str, id: &str) -> StoreResult<Option<StoredIssue>> {
        self.read_issue(integration, id).await
    }

    /// Each issue on its own, a few at once: its parts first, then its item, index entry and
    /// change mark in one transaction taken only at the revision the writer read, so an issue
    /// item never points at parts not yet written, its index entry (which tells the sync what it
    /// holds) always agrees with it, the indexers always learn of it, and of two writers from
    /// one revision exactly one lands.
    async fn put_issues(
        &self,
        integration: &str,
        issues: &[StoredIssue],
    ) -> StoreResult<Superseded> {
        let writes: Vec<_> = last_per_key(issues, |i| &i.id)
            .into_iter()
            .map(|issue| self.put_issue(integration, issue))
            .collect();
        let outcomes: Vec<(&StoredIssue, IssueItems, bool)> = stream::iter(writes)
            .buffer_unordered(ISSUE_WRITE_CONCURRENCY)
            .try_collect()
            .await?;
        let mut superseded = Vec::new();
        let mut current = HashMap::new();
        for (issue, items, taken) in outcomes {
            if taken {
                current.insert(items.sort, items.written);
            } else {
                superseded.push(issue.id.clone());
            }
        }
        self.delete_stale_parts(integration, &current).await?;
        Ok(Superseded(superseded))
    }

    /// BatchGetItem of the index items (consistent), 100 keys a request, resubmitting the keys
    /// DynamoDB left unprocessed and throttled requests with backoff.
    async fn index_entries(
        &self,
        integration: &str,
        ids: &[String],
    ) -> StoreResult<Vec<IssueIndexEntry>> {
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique
            .iter()
            .map(|id| {
                key_item(
                    keys::index(integration, keys::issue_shard(id)),
                    keys::issue_sort(id),
                )
            })
            .collect();
        let mut entries = Vec::with_capacity(unique.len());
        for item in self.batch_get(keys).await? {
            entries.push(index_entry(&item)?);
        }
        Ok(entries)
    }

    async fn index_page(
        &self,
        integration: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<IssueIndexEntry>> {
        let mut merge = ShardMerge::new(|s| keys::index(integration, s), after, limit, true);
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(item) = merge.next(self).await? else {
                break;
            };
            out.push(index_entry(&item)?);
        }
        Ok(out)
    }

    /// Merges the shards in sort-key (id) order, reading each a page at a time.
    async fn list_issues(
        &self,
        integration: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredIssue>> {
        let mut merge = ShardMerge::new(|s| keys::issues(integration, s), after, limit, false);
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(item) = merge.next(self).await? else {
                break;
            };
            out.extend(self.listed_issue(integration, &item).await?);
        }
        Ok(out)
    }

    async fn flag_issue(&self, integration: &str, id: &str, flag: IssueFlag) -> StoreResult<bool> {
        flag_stored_issue(self, integration, id, flag).await
    }
}
