//! The DynamoDB store: one table, string keys `pk` and `sk`. The design (partitions, item
//! shapes, access patterns, sharding, the 400 KB item limit, TTL, retries) is described in
//! `docs/dynamodb.md`; [`keys`] is the single place that spells the keys out.
//!
//! Here: the table and single-partition reads. `codec`: item bodies, attributes and write
//! requests. `batch`: batch writes and reads with backoff. `failures`: how DynamoDB's errors
//! read. `issues`: the issue role. `roles`: every other role.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use sei_jira_core::store::StoreResult;

mod batch;
pub mod capacity;
mod codec;
mod dora;
mod failures;
mod history;
mod hygiene;
mod hygiene_index;
mod issues;
mod keys;
mod roles;
#[cfg(test)]
mod tests;

use codec::{body_item, from_body_item, number_value, s};
use failures::{backend, is_conditional_check_failure};

type Item = HashMap<String, AttributeValue>;

/// The IAM actions of the store's reads, for the functions' declared needs (each function's
/// `AWS_ACTIONS`), which the deployment rehearsal checks against its policies and its calls.
pub const READ_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
];
/// The IAM actions of the store's writes (a TransactWriteItems of puts is authorised as PutItem
/// on each item). Creating a table, for local tools and tests, is left out: a deployment's table
/// comes from the template.
pub const WRITE_ACTIONS: &[&str] = &[
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
];

/// Issues spread over this many partitions per integration (see [`keys::issue_shard`]).
pub const ISSUE_SHARDS: u64 = 16;
/// JSON bodies larger than this are gzipped: write units are charged per KB.
const COMPRESS_OVER: usize = 1024;
/// The largest body kept inside one item; DynamoDB's limit is 400 KB for the whole item, keys
/// and attribute names included, so this leaves room for them.
const MAX_INLINE_BODY: usize = 350 * 1024;
/// Run records expire (DynamoDB TTL) this long after they were last written.
const RUN_RETENTION_SECS: i64 = 90 * 24 * 3600;
/// A deleted integration's tombstone outlives any sync that was running at its deletion (a
/// Lambda runs 15 minutes at most) by far, then DynamoDB's TTL removes it.
const TOMBSTONE_RETENTION_SECS: i64 = 7 * 24 * 3600;
/// Batch writes in flight at once for one call.
const WRITE_CONCURRENCY: usize = 4;
/// Issues written at once by one call, each its own conditional transaction.
const ISSUE_WRITE_CONCURRENCY: usize = 16;
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
/// An issue's revision, on its item (the write condition) and its index entry.
const REV: &str = "rev";
const TTL_ATTRIBUTE: &str = "expires_at";

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
        every_item(self.query(pk, &range, consistent)).await
    }

    /// Only the keys of every item of the range (deletions).
    async fn query_keys(&self, pk: &str, range: SortRange) -> StoreResult<Vec<Item>> {
        every_item(self.query(pk, &range, true).projection_expression("pk, sk")).await
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

    /// Keeps `value` (its body and a `version` attribute) only while the stored item's version
    /// is still `version - 1` (no item counts as 0): of two changes made over the same version
    /// one is kept, the other answers false and writes nothing.
    async fn put_versioned<T: Serialize>(
        &self,
        pk: String,
        sk: String,
        value: &T,
        version: u64,
    ) -> StoreResult<bool> {
        let Some(expected) = version.checked_sub(1) else {
            return Ok(false);
        };
        let mut item = body_item(pk, sk, value)?;
        item.insert("version".into(), number_value(version));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .expression_attribute_values(":expected", number_value(expected));
        let put = if expected == 0 {
            put.condition_expression("attribute_not_exists(pk) OR version = :expected")
        } else {
            put.condition_expression("version = :expected")
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failure(&e) => Ok(false),
            Err(e) => Err(backend("PutItem")(e)),
        }
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

/// Every item a query matches, following its pages.
async fn every_item(query: QueryFluentBuilder) -> StoreResult<Vec<Item>> {
    query
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(backend("Query"))
}
