//! The DynamoDB store: one table, string keys `pk` and `sk`. The design (partitions, item
//! shapes, access patterns, sharding, the 400 KB item limit, TTL, retries) is described in
//! `docs/dynamodb.md`; [`keys`] is the single place that spells the keys out.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, KeySchemaElement, KeyType,
    KeysAndAttributes, PutRequest, ScalarAttributeType, TimeToLiveSpecification, WriteRequest,
};
use backon::BackoffBuilder;
use chrono::NaiveDate;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::*;

type Item = HashMap<String, AttributeValue>;

/// Issues spread over this many partitions per integration (see [`keys::issue_shard`]).
pub const ISSUE_SHARDS: u64 = 16;
/// JSON bodies larger than this are gzipped: write units are charged per KB.
const COMPRESS_OVER: usize = 1024;
/// The largest body kept inside one item; DynamoDB's limit is 400 KB for the whole item, keys
/// and attribute names included, so this leaves room for them.
const MAX_INLINE_BODY: usize = 350 * 1024;
/// Run records expire (DynamoDB TTL) this long after they were last written.
const RUN_RETENTION_SECS: i64 = 90 * 24 * 3600;
/// Batch writes in flight at once for one call.
const WRITE_CONCURRENCY: usize = 4;
/// How often a batch's unprocessed or throttled items are retried before the call fails.
const BATCH_RETRIES: usize = 10;
/// BatchGetItem's limit on keys per request.
const BATCH_GET_LIMIT: usize = 100;
/// A reader that finds an issue's parts replaced under it re-reads the issue this many times.
const PART_READ_ATTEMPTS: usize = 3;

/// Attribute names.
const PK: &str = "pk";
const SK: &str = "sk";
const BODY: &str = "body";
const ENCODING: &str = "enc";
const PARTS: &str = "parts";
const GENERATION: &str = "gen";
const CHUNK: &str = "chunk";
const TTL_ATTRIBUTE: &str = "expires_at";

/// Every key the store writes. Integration-scoped partitions are `INT#{integration}#…`; the
/// integration records themselves live in their account's partition.
mod keys {
    use super::{ISSUE_SHARDS, RecordKind};

    pub fn account(account: &str) -> String {
        format!("ACCOUNT#{account}")
    }

    pub const INTEGRATION_PREFIX: &str = "INTEGRATION#";

    pub fn integration(id: &str) -> String {
        format!("{INTEGRATION_PREFIX}{id}")
    }

    fn scoped(integration: &str, partition: &str) -> String {
        format!("INT#{integration}#{partition}")
    }

    pub fn issues(integration: &str, shard: u64) -> String {
        scoped(integration, &format!("ISSUE#{shard}"))
    }

    pub fn index(integration: &str, shard: u64) -> String {
        scoped(integration, &format!("INDEX#{shard}"))
    }

    pub fn parts(integration: &str) -> String {
        scoped(integration, "PART")
    }

    pub fn records(integration: &str, kind: RecordKind) -> String {
        scoped(integration, &format!("REC#{}", kind.name()))
    }

    pub fn projects(integration: &str) -> String {
        scoped(integration, "PROJECT")
    }

    pub fn cursors(integration: &str) -> String {
        scoped(integration, "CURSOR")
    }

    pub fn leases(integration: &str) -> String {
        scoped(integration, "LEASE")
    }

    pub fn runs(integration: &str) -> String {
        scoped(integration, "RUN")
    }

    pub fn daily(integration: &str) -> String {
        scoped(integration, "DAILY")
    }

    /// Every partition an integration's data can occupy: deleting it empties each one.
    pub fn all_partitions(integration: &str) -> Vec<String> {
        let shards =
            (0..ISSUE_SHARDS).flat_map(|s| [issues(integration, s), index(integration, s)]);
        let kinds = RecordKind::ALL.map(|k| records(integration, k));
        shards
            .chain(kinds)
            .chain([
                parts(integration),
                projects(integration),
                cursors(integration),
                leases(integration),
                runs(integration),
                daily(integration),
            ])
            .collect()
    }

    /// Numeric ids (all of Jira's) spread evenly by value; anything else by a stable hash (FNV-1a:
    /// the shard is part of the stored key, so it must never change between releases).
    pub fn issue_shard(id: &str) -> u64 {
        let spread = id.parse::<u64>().unwrap_or_else(|_| {
            id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        });
        spread % ISSUE_SHARDS
    }

    /// Zero-padded so that sort-key order is numeric id order (the embedded store's order).
    pub fn issue_sort(id: &str) -> String {
        match id.parse::<u64>() {
            Ok(n) => format!("{n:020}"),
            Err(_) => id.to_string(),
        }
    }

    /// Parts of one stored version of an issue: `{issue}#{generation}#{n}`.
    pub fn part_sort(issue_sort: &str, generation: &str, n: usize) -> String {
        format!("{}{n:04}", part_prefix(issue_sort, generation))
    }

    pub fn part_prefix(issue_sort: &str, generation: &str) -> String {
        format!("{issue_sort}#{generation}#")
    }

    /// The issue sort key and generation a part key belongs to.
    pub fn part_owner(part_sort: &str) -> Option<(&str, &str)> {
        let mut fields = part_sort.rsplitn(3, '#');
        let _n = fields.next()?;
        let generation = fields.next()?;
        Some((fields.next()?, generation))
    }
}

/// The sort-key condition of a query within one partition.
enum SortRange {
    All,
    After(String),
    Between(String, String),
    BeginsWith(String),
}

pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Creates the store's table (on-demand capacity, `pk`/`sk`) and enables TTL on
    /// `expires_at`, once the table is active.
    pub async fn create_table(client: &Client, name: &str) -> StoreResult<()> {
        let key = |attribute: &str, key_type: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(attribute)
                .key_type(key_type)
                .build()
                .map_err(backend("CreateTable"))
        };
        let string_attribute = |attribute: &str| {
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(backend("CreateTable"))
        };
        client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(string_attribute(PK)?)
            .attribute_definitions(string_attribute(SK)?)
            .key_schema(key(PK, KeyType::Hash)?)
            .key_schema(key(SK, KeyType::Range)?)
            .send()
            .await
            .map_err(backend("CreateTable"))?;
        client
            .wait_until_table_exists()
            .table_name(name)
            .wait(Duration::from_secs(120))
            .await
            .map_err(backend("waiting for the table"))?;
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(backend("UpdateTimeToLive"))?;
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(backend("UpdateTimeToLive"))?;
        Ok(())
    }

    async fn get_item(&self, pk: String, sk: String) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(backend("GetItem"))?;
        Ok(out.item)
    }

    fn query(&self, pk: &str, range: &SortRange, consistent: bool) -> QueryFluentBuilder {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .consistent_read(consistent)
            .expression_attribute_values(":pk", s(pk));
        match range {
            SortRange::All => query.key_condition_expression("pk = :pk"),
            SortRange::After(sk) => query
                .key_condition_expression("pk = :pk AND sk > :sk")
                .expression_attribute_values(":sk", s(sk)),
            SortRange::Between(from, to) => query
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":from", s(from))
                .expression_attribute_values(":to", s(to)),
            SortRange::BeginsWith(prefix) => query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix)),
        }
    }

    /// Every item of the range, following `LastEvaluatedKey` across pages.
    async fn query_all(
        &self,
        pk: &str,
        range: SortRange,
        consistent: bool,
    ) -> StoreResult<Vec<Item>> {
        self.query(pk, &range, consistent)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(backend("Query"))
    }

    /// Only the keys of every item of the range (deletions).
    async fn query_keys(&self, pk: &str, range: SortRange) -> StoreResult<Vec<Item>> {
        self.query(pk, &range, true)
            .projection_expression("pk, sk")
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(backend("Query"))
    }

    /// Writes (puts and deletes) in batches of [`BATCH_LIMIT`], a few batches at a time. The
    /// caller ensures no two requests address the same key.
    async fn write_all(&self, requests: Vec<WriteRequest>) -> StoreResult<()> {
        stream::iter(into_batches(requests).into_iter().map(Ok::<_, StoreError>))
            .try_for_each_concurrent(WRITE_CONCURRENCY, |batch| self.write_batch(batch))
            .await
    }

    /// One BatchWriteItem, resubmitting what DynamoDB left unprocessed and what it throttled,
    /// with exponential backoff and jitter between attempts.
    async fn write_batch(&self, mut pending: Vec<WriteRequest>) -> StoreResult<()> {
        let mut delays = batch_backoff();
        loop {
            // The request consumes its items; a throttled batch is resubmitted from `pending`.
            let sent = self
                .client
                .batch_write_item()
                .request_items(&self.table, pending.clone())
                .send()
                .await;
            match sent {
                Ok(out) => {
                    pending = out
                        .unprocessed_items
                        .and_then(|mut by_table| by_table.remove(&self.table))
                        .unwrap_or_default();
                    if pending.is_empty() {
                        return Ok(());
                    }
                }
                Err(e) if is_throttling(&e) => {}
                Err(e) => return Err(backend("BatchWriteItem")(e)),
            }
            pause_before_retry(&mut delays, "BatchWriteItem", pending.len(), "items").await?;
        }
    }

    /// One BatchGetItem (strongly consistent) of at most [`BATCH_GET_LIMIT`] keys, resubmitting
    /// unprocessed keys and throttled requests with exponential backoff and jitter.
    async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
        let mut delays = batch_backoff();
        let mut found = Vec::new();
        let mut pending = keys;
        loop {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending.clone()))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Backend(format!("BatchGetItem: {e}")))?;
            let sent = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await;
            match sent {
                Ok(out) => {
                    if let Some(mut by_table) = out.responses {
                        found.extend(by_table.remove(&self.table).unwrap_or_default());
                    }
                    pending = out
                        .unprocessed_keys
                        .and_then(|mut by_table| by_table.remove(&self.table))
                        .map(|k| k.keys)
                        .unwrap_or_default();
                    if pending.is_empty() {
                        return Ok(found);
                    }
                }
                Err(e) if is_throttling(&e) => {}
                Err(e) => return Err(backend("BatchGetItem")(e)),
            }
            pause_before_retry(&mut delays, "BatchGetItem", pending.len(), "keys").await?;
        }
    }

    /// The issue an issue item holds; None when its parts were replaced while being read.
    async fn issue_from_item(
        &self,
        integration: &str,
        item: &Item,
    ) -> StoreResult<Option<Vec<u8>>> {
        if item.contains_key(BODY) {
            return Ok(Some(blob(item, BODY)?.to_vec()));
        }
        let expected: usize = number(item, PARTS)?;
        let prefix = keys::part_prefix(string(item, SK)?, string(item, GENERATION)?);
        let parts = self
            .query_all(
                &keys::parts(integration),
                SortRange::BeginsWith(prefix),
                true,
            )
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

    async fn read_issue(&self, integration: &str, id: &str) -> StoreResult<Option<StoredIssue>> {
        let pk = keys::issues(integration, keys::issue_shard(id));
        self.read_issue_at(integration, &pk, &keys::issue_sort(id))
            .await
    }

    async fn read_issue_at(
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
    async fn listed_issue(
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

    /// Deletes the parts of earlier versions of the issues just written: a split issue that
    /// shrank, or was removed by hand, must not leave its old content behind.
    async fn delete_stale_parts(
        &self,
        integration: &str,
        current: &HashMap<String, Option<String>>,
    ) -> StoreResult<()> {
        let (Some(first), Some(last)) = (current.keys().min(), current.keys().max()) else {
            return Ok(());
        };
        // Generations are hex, so `~` sorts after every part of the last issue.
        let range = SortRange::Between(format!("{first}#"), format!("{last}#~"));
        let stale = self
            .query_keys(&keys::parts(integration), range)
            .await?
            .into_iter()
            .filter(|part| {
                let owner = string(part, SK).ok().and_then(keys::part_owner);
                matches!(owner, Some((issue, generation))
                    if current.get(issue).is_some_and(|g| g.as_deref() != Some(generation)))
            })
            .map(delete_request)
            .collect::<StoreResult<Vec<_>>>()?;
        self.write_all(stale).await
    }

    /// Deletes every item of every partition of the integration.
    async fn delete_integration_partitions(&self, integration: &str) -> StoreResult<()> {
        stream::iter(keys::all_partitions(integration))
            .map(|pk| async move {
                let keys = self.query_keys(&pk, SortRange::All).await?;
                let deletes = keys
                    .into_iter()
                    .map(delete_request)
                    .collect::<StoreResult<Vec<_>>>()?;
                self.write_all(deletes).await
            })
            .buffer_unordered(WRITE_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn put_body<T: Serialize>(&self, pk: String, sk: String, value: &T) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(body_item(pk, sk, value)?))
            .send()
            .await
            .map_err(backend("PutItem"))?;
        Ok(())
    }

    async fn get_body<T: DeserializeOwned>(
        &self,
        pk: String,
        sk: String,
    ) -> StoreResult<Option<T>> {
        match self.get_item(pk, sk).await? {
            Some(item) => from_body_item(&item).map(Some),
            None => Ok(None),
        }
    }
}

/// The items that store one issue: the issue item (body inline, or a pointer to its parts),
/// its parts, and its index entry.
struct IssueItems {
    sort: String,
    /// Set when the body is split into parts: which version of the parts is current.
    generation: Option<String>,
    issue: Item,
    parts: Vec<Item>,
    index: Item,
}

fn issue_items(integration: &str, issue: &StoredIssue) -> StoreResult<IssueItems> {
    let shard = keys::issue_shard(&issue.id);
    let sort = keys::issue_sort(&issue.id);
    let (body, encoding) = encode_body(issue)?;
    let mut item = key_item(keys::issues(integration, shard), sort.clone());
    item.insert(ENCODING.into(), s(encoding));
    let (generation, parts) = if body.len() <= MAX_INLINE_BODY {
        item.insert(BODY.into(), AttributeValue::B(Blob::new(body)));
        (None, Vec::new())
    } else {
        let generation = content_generation(&body);
        let parts: Vec<Item> = body
            .chunks(MAX_INLINE_BODY)
            .enumerate()
            .map(|(n, chunk)| {
                let mut part = key_item(
                    keys::parts(integration),
                    keys::part_sort(&sort, &generation, n),
                );
                part.insert(CHUNK.into(), AttributeValue::B(Blob::new(chunk)));
                part
            })
            .collect();
        item.insert(PARTS.into(), number_value(parts.len()));
        item.insert(GENERATION.into(), s(generation.clone()));
        (Some(generation), parts)
    };
    Ok(IssueItems {
        index: index_item(integration, shard, &sort, &issue.index_entry()),
        sort,
        generation,
        issue: item,
        parts,
    })
}

fn index_item(integration: &str, shard: u64, sort: &str, entry: &IssueIndexEntry) -> Item {
    let mut item = key_item(keys::index(integration, shard), sort.to_string());
    item.insert("id".into(), s(&entry.id));
    item.insert("project_key".into(), s(&entry.project_key));
    item.insert("updated_ms".into(), number_value(entry.updated_ms));
    item.insert("deleted".into(), AttributeValue::Bool(entry.deleted));
    item.insert("hidden".into(), AttributeValue::Bool(entry.hidden));
    item.insert("removed".into(), AttributeValue::Bool(entry.removed));
    item
}

fn index_entry(item: &Item) -> StoreResult<IssueIndexEntry> {
    Ok(IssueIndexEntry {
        id: string(item, "id")?.to_string(),
        project_key: string(item, "project_key")?.to_string(),
        updated_ms: number(item, "updated_ms")?,
        deleted: flag(item, "deleted")?,
        hidden: flag(item, "hidden")?,
        removed: flag(item, "removed")?,
    })
}

/// Names one version of a split body. Derived from the content, so rewriting an unchanged
/// issue rewrites the same parts instead of orphaning them.
fn content_generation(body: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The last occurrence of each id: a batch may not address one key twice, and a later write
/// of the same id wins (as it does in the embedded store).
fn last_per_key<T>(values: &[T], key: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut seen = HashSet::new();
    let mut out: Vec<&T> = values
        .iter()
        .rev()
        .filter(|v| seen.insert(key(v).to_string()))
        .collect();
    out.reverse();
    out
}

fn into_batches(requests: Vec<WriteRequest>) -> Vec<Vec<WriteRequest>> {
    let mut batches = Vec::new();
    let mut batch = Vec::with_capacity(BATCH_LIMIT);
    for request in requests {
        batch.push(request);
        if batch.len() == BATCH_LIMIT {
            batches.push(std::mem::replace(
                &mut batch,
                Vec::with_capacity(BATCH_LIMIT),
            ));
        }
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

fn put_request(item: Item) -> StoreResult<WriteRequest> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(backend("PutRequest"))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

fn delete_request(item: Item) -> StoreResult<WriteRequest> {
    let key: Item = item
        .into_iter()
        .filter(|(name, _)| name == PK || name == SK)
        .collect();
    let delete = DeleteRequest::builder()
        .set_key(Some(key))
        .build()
        .map_err(backend("DeleteRequest"))?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

fn is_throttling<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(
        err.code(),
        Some(
            "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
        )
    )
}

/// Backoff between rounds of a batch call whose items were throttled or left unprocessed.
fn batch_backoff() -> backon::ExponentialBackoff {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(BATCH_RETRIES)
        .with_jitter()
        .build()
}

/// Waits the next backoff delay, or fails naming what is still pending once they run out.
async fn pause_before_retry(
    delays: &mut backon::ExponentialBackoff,
    operation: &str,
    left: usize,
    what: &str,
) -> StoreResult<()> {
    let Some(delay) = delays.next() else {
        return Err(StoreError::Backend(format!(
            "{operation}: {left} {what} still unprocessed after {BATCH_RETRIES} retries"
        )));
    };
    tokio::time::sleep(delay).await;
    Ok(())
}

fn is_conditional_check_failure<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

/// Maps an SDK error to a store error naming the operation, with the SDK's full context.
fn backend<E: std::error::Error>(operation: &'static str) -> impl Fn(E) -> StoreError {
    move |e| StoreError::Backend(format!("DynamoDB {operation}: {}", DisplayErrorContext(&e)))
}

/// JSON, gzipped when that saves write units; with the name of the encoding.
fn encode_body<T: Serialize>(value: &T) -> StoreResult<(Vec<u8>, &'static str)> {
    let json = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if json.len() <= COMPRESS_OVER {
        return Ok((json, "json"));
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&json)
        .and_then(|()| encoder.finish())
        .map(|gz| (gz, "gzip"))
        .map_err(|e| StoreError::Backend(format!("gzip: {e}")))
}

fn decode_body<T: DeserializeOwned>(body: &[u8], encoding: &str) -> StoreResult<T> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(e.to_string());
    match encoding {
        "json" => serde_json::from_slice(body).map_err(|e| corrupt(&e)),
        "gzip" => {
            let mut json = Vec::new();
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut json)
                .map_err(|e| corrupt(&e))?;
            serde_json::from_slice(&json).map_err(|e| corrupt(&e))
        }
        other => Err(StoreError::Corrupt(format!(
            "unknown body encoding {other:?}"
        ))),
    }
}

/// An item holding one JSON value (everything but issues, which may be split).
fn body_item<T: Serialize>(pk: String, sk: String, value: &T) -> StoreResult<Item> {
    let (body, encoding) = encode_body(value)?;
    if body.len() > MAX_INLINE_BODY {
        return Err(StoreError::Backend(format!(
            "{pk}/{sk}: {} bytes encoded, over the {MAX_INLINE_BODY}-byte item budget",
            body.len()
        )));
    }
    let mut item = key_item(pk, sk);
    item.insert(ENCODING.into(), s(encoding));
    item.insert(BODY.into(), AttributeValue::B(Blob::new(body)));
    Ok(item)
}

fn from_body_item<T: DeserializeOwned>(item: &Item) -> StoreResult<T> {
    decode_body(blob(item, BODY)?, string(item, ENCODING)?)
}

fn key_item(pk: String, sk: String) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn number_value(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn attribute<'a>(item: &'a Item, name: &str) -> StoreResult<&'a AttributeValue> {
    item.get(name)
        .ok_or_else(|| StoreError::Corrupt(format!("item without attribute {name:?}")))
}

fn wrong_type(name: &str) -> StoreError {
    StoreError::Corrupt(format!("attribute {name:?} has an unexpected type"))
}

fn string<'a>(item: &'a Item, name: &str) -> StoreResult<&'a str> {
    attribute(item, name)?
        .as_s()
        .map(String::as_str)
        .map_err(|_| wrong_type(name))
}

fn number<T: std::str::FromStr>(item: &Item, name: &str) -> StoreResult<T> {
    attribute(item, name)?
        .as_n()
        .ok()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| wrong_type(name))
}

/// A counter attribute; absent until first added to.
fn counter(item: &Item, name: &str) -> StoreResult<u64> {
    if item.contains_key(name) {
        number(item, name)
    } else {
        Ok(0)
    }
}

fn flag(item: &Item, name: &str) -> StoreResult<bool> {
    attribute(item, name)?
        .as_bool()
        .copied()
        .map_err(|_| wrong_type(name))
}

fn blob<'a>(item: &'a Item, name: &str) -> StoreResult<&'a [u8]> {
    attribute(item, name)?
        .as_b()
        .map(|b| -> &[u8] { b.as_ref() })
        .map_err(|_| wrong_type(name))
}

fn epoch_seconds_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// One issue partition read page by page, for the merge in `list_issues`.
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
    ) -> StoreResult<()> {
        let out = store
            .query(&self.pk, range, false)
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

#[async_trait]
impl Store for DynamoStore {
    async fn get_issue(&self, integration: &str, id: &str) -> StoreResult<Option<StoredIssue>> {
        self.read_issue(integration, id).await
    }

    /// Parts first, then issue items, then index entries, each stage stored before the next
    /// starts: an issue item never points at parts not yet written, and an index entry (which
    /// tells the sync what it already holds) never gets ahead of the issue it describes.
    async fn put_issues(&self, integration: &str, issues: &[StoredIssue]) -> StoreResult<()> {
        let written = last_per_key(issues, |i| &i.id)
            .into_iter()
            .map(|i| issue_items(integration, i))
            .collect::<StoreResult<Vec<_>>>()?;
        // Which version of each written issue is current: the parts of any other are stale.
        let mut current = HashMap::new();
        let mut parts = Vec::new();
        let mut contents = Vec::new();
        let mut index = Vec::new();
        for w in written {
            for part in w.parts {
                parts.push(put_request(part)?);
            }
            contents.push(put_request(w.issue)?);
            index.push(put_request(w.index)?);
            current.insert(w.sort, w.generation);
        }
        self.write_all(parts).await?;
        self.write_all(contents).await?;
        self.write_all(index).await?;
        self.delete_stale_parts(integration, &current).await
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
        let mut entries = Vec::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH_GET_LIMIT) {
            let keys = chunk
                .iter()
                .map(|id| {
                    key_item(
                        keys::index(integration, keys::issue_shard(id)),
                        keys::issue_sort(id),
                    )
                })
                .collect();
            for item in self.batch_get(keys).await? {
                entries.push(index_entry(&item)?);
            }
        }
        Ok(entries)
    }

    async fn issue_index(&self, integration: &str) -> StoreResult<Vec<IssueIndexEntry>> {
        let shards = (0..ISSUE_SHARDS).map(|shard| async move {
            self.query_all(&keys::index(integration, shard), SortRange::All, true)
                .await
        });
        let mut items: Vec<Item> = futures_util::future::try_join_all(shards)
            .await?
            .into_iter()
            .flatten()
            .collect();
        items.sort_by(|a, b| string(a, SK).ok().cmp(&string(b, SK).ok()));
        items.iter().map(index_entry).collect()
    }

    /// Merges the shards in sort-key (id) order, reading each a page at a time.
    async fn list_issues(
        &self,
        integration: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredIssue>> {
        let range = match after {
            Some(id) => SortRange::After(keys::issue_sort(id)),
            None => SortRange::All,
        };
        // Ids spread evenly, so each shard holds about its share of the next `limit` issues.
        let page = i32::try_from(limit.div_ceil(ISSUE_SHARDS as usize) + 1).unwrap_or(i32::MAX);
        let mut shards: Vec<ShardReader> = (0..ISSUE_SHARDS)
            .map(|shard| ShardReader::new(keys::issues(integration, shard)))
            .collect();
        let mut out = Vec::new();
        while out.len() < limit {
            // The smallest head is the next issue only once every unfinished shard shows its own.
            while shards.iter().any(ShardReader::needs_page) {
                let refills = shards
                    .iter_mut()
                    .filter(|r| r.needs_page())
                    .map(|r| r.fetch_page(self, &range, page));
                futures_util::future::try_join_all(refills).await?;
            }
            let next = shards
                .iter_mut()
                .filter(|r| r.head_sort().is_some())
                .min_by(|a, b| a.head_sort().cmp(&b.head_sort()))
                .and_then(|r| r.buffered.pop_front());
            let Some(item) = next else { break };
            out.extend(self.listed_issue(integration, &item).await?);
        }
        Ok(out)
    }

    async fn flag_issue(&self, integration: &str, id: &str, flag: IssueFlag) -> StoreResult<bool> {
        let Some(mut issue) = self.read_issue(integration, id).await? else {
            return Ok(false);
        };
        issue.apply_flag(flag);
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
        let pk = keys::records(integration, kind);
        let puts = last_per_key(records, |r| &r.id)
            .into_iter()
            .map(|r| put_request(body_item(pk.clone(), r.id.clone(), r)?))
            .collect::<StoreResult<Vec<_>>>()?;
        self.write_all(puts).await
    }

    async fn list_records(&self, integration: &str, kind: RecordKind) -> StoreResult<Vec<Record>> {
        self.query_all(&keys::records(integration, kind), SortRange::All, true)
            .await?
            .iter()
            .map(from_body_item)
            .collect()
    }

    /// One UpdateItem: `if_not_exists` keeps the first onboarding time without a read.
    async fn put_project(&self, integration: &str, project: &ProjectRecord) -> StoreResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::projects(integration)))
            .key(SK, s(&project.key))
            .update_expression(
                "SET #id = :id, #name = :name, \
                 #onboarded = if_not_exists(#onboarded, :onboarded)",
            )
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#onboarded", "onboarded_at_ms")
            .expression_attribute_values(":id", s(&project.id))
            .expression_attribute_values(":name", s(&project.name))
            .expression_attribute_values(":onboarded", number_value(project.onboarded_at_ms))
            .send()
            .await
            .map_err(backend("UpdateItem"))?;
        Ok(())
    }

    async fn list_projects(&self, integration: &str) -> StoreResult<Vec<ProjectRecord>> {
        self.query_all(&keys::projects(integration), SortRange::All, true)
            .await?
            .iter()
            .map(|item| {
                Ok(ProjectRecord {
                    key: string(item, SK)?.to_string(),
                    id: string(item, "id")?.to_string(),
                    name: string(item, "name")?.to_string(),
                    onboarded_at_ms: number(item, "onboarded_at_ms")?,
                })
            })
            .collect()
    }

    async fn get_cursor(&self, integration: &str, unit: &str) -> StoreResult<Option<Cursor>> {
        self.get_body(keys::cursors(integration), unit.to_string())
            .await
    }

    async fn put_cursor(&self, integration: &str, unit: &str, cursor: &Cursor) -> StoreResult<()> {
        self.put_body(keys::cursors(integration), unit.to_string(), cursor)
            .await
    }

    /// A conditional put: it succeeds only while the lease is free, expired or already ours.
    async fn acquire_lease(
        &self,
        integration: &str,
        unit: &str,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        let mut item = key_item(keys::leases(integration), unit.to_string());
        item.insert("owner".into(), s(owner));
        item.insert("expires_ms".into(), number_value(now_ms + ttl_ms));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #expires <= :now OR #owner = :owner")
            .expression_attribute_names("#expires", "expires_ms")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":now", number_value(now_ms))
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failure(&e) => Ok(false),
            Err(e) => Err(backend("PutItem")(e)),
        }
    }

    /// A conditional delete: only the owner releases; anyone else's release changes nothing.
    async fn release_lease(&self, integration: &str, unit: &str, owner: &str) -> StoreResult<()> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(keys::leases(integration)))
            .key(SK, s(unit))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_check_failure(&e) => Ok(()),
            Err(e) => Err(backend("DeleteItem")(e)),
        }
    }

    async fn put_run(&self, integration: &str, run: &RunRecord) -> StoreResult<()> {
        let sk = format!("{:020}#{}", run.started_ms, run.run_id);
        let mut item = body_item(keys::runs(integration), sk, run)?;
        item.insert(
            TTL_ATTRIBUTE.into(),
            number_value(epoch_seconds_now() + RUN_RETENTION_SECS),
        );
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(backend("PutItem"))?;
        Ok(())
    }

    /// The whole partition (TTL keeps it to 90 days of runs), filtered: a run that started
    /// before `since_ms` still counts while it runs or if it ended after.
    async fn list_runs(&self, integration: &str, since_ms: i64) -> StoreResult<Vec<RunRecord>> {
        let mut runs = Vec::new();
        for item in self
            .query_all(&keys::runs(integration), SortRange::All, false)
            .await?
        {
            let run: RunRecord = from_body_item(&item)?;
            if run.active_since(since_ms) {
                runs.push(run);
            }
        }
        Ok(runs)
    }

    /// An atomic ADD of each counter: concurrent runs never lose each other's increments.
    async fn add_daily(
        &self,
        integration: &str,
        day: NaiveDate,
        delta: &DailyCounts,
    ) -> StoreResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::daily(integration)))
            .key(SK, s(day.to_string()))
            .update_expression(
                "ADD issues_new :new, issues_updated :updated, issues_deleted :deleted, \
                 runs :runs, failed_runs :failed",
            )
            .expression_attribute_values(":new", number_value(delta.issues_new))
            .expression_attribute_values(":updated", number_value(delta.issues_updated))
            .expression_attribute_values(":deleted", number_value(delta.issues_deleted))
            .expression_attribute_values(":runs", number_value(delta.runs))
            .expression_attribute_values(":failed", number_value(delta.failed_runs))
            .send()
            .await
            .map_err(backend("UpdateItem"))?;
        Ok(())
    }

    async fn list_daily(
        &self,
        integration: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<(NaiveDate, DailyCounts)>> {
        let range = SortRange::Between(from.to_string(), to.to_string());
        self.query_all(&keys::daily(integration), range, false)
            .await?
            .iter()
            .map(|item| {
                let day = NaiveDate::parse_from_str(string(item, SK)?, "%Y-%m-%d")
                    .map_err(|e| StoreError::Corrupt(format!("daily counter key: {e}")))?;
                let counts = DailyCounts {
                    issues_new: counter(item, "issues_new")?,
                    issues_updated: counter(item, "issues_updated")?,
                    issues_deleted: counter(item, "issues_deleted")?,
                    runs: counter(item, "runs")?,
                    failed_runs: counter(item, "failed_runs")?,
                };
                Ok((day, counts))
            })
            .collect()
    }

    async fn put_integration(&self, record: &IntegrationRecord) -> StoreResult<()> {
        self.put_body(
            keys::account(&record.account),
            keys::integration(&record.id),
            record,
        )
        .await
    }

    async fn replace_integration(&self, record: &IntegrationRecord) -> StoreResult<bool> {
        let item = body_item(
            keys::account(&record.account),
            keys::integration(&record.id),
            record,
        )?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failure(&e) => Ok(false),
            Err(e) => Err(backend("PutItem")(e)),
        }
    }

    async fn get_integration(
        &self,
        account: &str,
        id: &str,
    ) -> StoreResult<Option<IntegrationRecord>> {
        self.get_body(keys::account(account), keys::integration(id))
            .await
    }

    async fn list_integrations(&self, account: &str) -> StoreResult<Vec<IntegrationRecord>> {
        let range = SortRange::BeginsWith(keys::INTEGRATION_PREFIX.into());
        self.query_all(&keys::account(account), range, true)
            .await?
            .iter()
            .map(from_body_item)
            .collect()
    }

    /// The record goes last: should the deletion fail midway, the integration is still listed
    /// and deleting it again finishes the job.
    async fn delete_integration(&self, account: &str, id: &str) -> StoreResult<bool> {
        if self.get_integration(account, id).await?.is_none() {
            return Ok(false);
        }
        self.delete_integration_partitions(id).await?;
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(keys::account(account)))
            .key(SK, s(keys::integration(id)))
            .send()
            .await
            .map_err(backend("DeleteItem"))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_shard_by_value_and_sort_numerically() {
        assert_eq!(keys::issue_shard("10017"), 10017 % ISSUE_SHARDS);
        assert!(keys::issue_sort("9") < keys::issue_sort("10002"));
        assert_eq!(keys::issue_sort("42"), "00000000000000000042");
        assert!(keys::issue_shard("not-a-number") < ISSUE_SHARDS);
        assert_eq!(
            keys::issue_shard("not-a-number"),
            keys::issue_shard("not-a-number")
        );
    }

    #[test]
    fn part_keys_sort_inside_their_issue_and_name_it() {
        let sort = keys::issue_sort("9");
        let part = keys::part_sort(&sort, "00ab", 3);
        assert_eq!(keys::part_owner(&part), Some((sort.as_str(), "00ab")));
        assert!(part > format!("{sort}#") && part < format!("{sort}#~"));
        assert!(part < keys::issue_sort("10"));
    }

    #[test]
    fn partitions_cover_every_shard_and_record_kind() {
        let all = keys::all_partitions("i");
        assert_eq!(
            all.len(),
            2 * ISSUE_SHARDS as usize + RecordKind::ALL.len() + 6
        );
        assert!(all.contains(&keys::parts("i")) && all.contains(&keys::index("i", 15)));
    }

    #[test]
    fn bodies_round_trip_compressed_or_not() {
        let small = Record {
            id: "1".into(),
            data: serde_json::json!({"name": "x"}),
        };
        let (body, encoding) = encode_body(&small).unwrap();
        assert_eq!(encoding, "json");
        assert_eq!(decode_body::<Record>(&body, encoding).unwrap(), small);
        let large = Record {
            id: "2".into(),
            data: serde_json::json!({"text": "word ".repeat(10_000)}),
        };
        let (body, encoding) = encode_body(&large).unwrap();
        assert_eq!(encoding, "gzip");
        assert!(body.len() < 5_000);
        assert_eq!(decode_body::<Record>(&body, encoding).unwrap(), large);
    }

    #[test]
    fn later_writes_of_one_key_win_within_a_call() {
        let values = [("a", 1), ("b", 2), ("a", 3)];
        let kept: Vec<_> = last_per_key(&values, |v| v.0)
            .into_iter()
            .copied()
            .collect();
        assert_eq!(kept, vec![("b", 2), ("a", 3)]);
    }

    #[test]
    fn batches_hold_at_most_the_batch_limit() {
        let requests = (0..60)
            .map(|n| put_request(key_item("p".into(), n.to_string())).unwrap())
            .collect();
        let sizes: Vec<usize> = into_batches(requests).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![25, 25, 10]);
    }
}
