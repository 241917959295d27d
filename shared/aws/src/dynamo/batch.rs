//! Batch writes and reads with backoff: DynamoDB's batch limits, the items it leaves
//! unprocessed, and throttling, retried until every item lands or the retries run out.

use std::time::Duration;

use aws_sdk_dynamodb::types::{KeysAndAttributes, Put, TransactWriteItem, WriteRequest};
use backon::BackoffBuilder;
use futures_util::{TryStreamExt, stream};

use super::codec::number_value;
use super::failures::{Cancelled, backend, cancellation, is_throttling};
use super::{BATCH_GET_LIMIT, BATCH_RETRIES, DynamoStore, Item, REV, WRITE_CONCURRENCY};
use sei_jira_core::store::{BATCH_LIMIT, StoreError, StoreResult};

impl DynamoStore {
    /// Writes (puts and deletes) in batches of [`BATCH_LIMIT`], a few batches at a time. The
    /// caller ensures no two requests address the same key.
    pub(super) async fn write_all(&self, requests: Vec<WriteRequest>) -> StoreResult<()> {
        stream::iter(into_batches(requests).into_iter().map(Ok::<_, StoreError>))
            .try_for_each_concurrent(WRITE_CONCURRENCY, |batch| self.write_batch(batch))
            .await
    }

    /// One BatchWriteItem, resubmitting what DynamoDB left unprocessed and what it throttled,
    /// with exponential backoff and jitter between attempts.
    pub(super) async fn write_batch(&self, mut pending: Vec<WriteRequest>) -> StoreResult<()> {
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

    /// One TransactWriteItems putting `guarded` only while its revision is still `expected`
    /// (0: no revision, as for an item not there) and every item of `with` beside it: all land
    /// or none does. False when that condition refused it. Transactions that collided with
    /// another on the same items, and throttled ones, are resubmitted with backoff.
    pub(super) async fn put_at_revision(
        &self,
        guarded: &Item,
        with: &[Item],
        expected: u64,
    ) -> StoreResult<bool> {
        let condition = match expected {
            0 => Put::builder().condition_expression("attribute_not_exists(#rev)"),
            _ => Put::builder()
                .condition_expression("#rev = :rev")
                .expression_attribute_values(":rev", number_value(expected)),
        };
        let guarded = condition
            .expression_attribute_names("#rev", REV)
            .table_name(&self.table)
            .set_item(Some(guarded.clone()))
            .build()
            .map_err(backend("TransactWriteItems"))?;
        let mut actions = vec![TransactWriteItem::builder().put(guarded).build()];
        for item in with {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .build()
                .map_err(backend("TransactWriteItems"))?;
            actions.push(TransactWriteItem::builder().put(put).build());
        }
        let mut delays = batch_backoff();
        loop {
            let sent = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions.clone()))
                .send()
                .await;
            match sent {
                Ok(_) => return Ok(true),
                Err(e) => match cancellation(&e) {
                    Some(Cancelled::ByCondition) => return Ok(false),
                    Some(Cancelled::ByContention) => {}
                    None if is_throttling(&e) => {}
                    None => return Err(backend("TransactWriteItems")(e)),
                },
            }
            pause_before_retry(&mut delays, "TransactWriteItems", 1, "issues").await?;
        }
    }

    /// The items of `keys` that exist, in no particular order: BatchGetItem (strongly
    /// consistent), [`BATCH_GET_LIMIT`] keys a request.
    pub(super) async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
        let (mut found, mut keys) = (Vec::with_capacity(keys.len()), keys);
        while !keys.is_empty() {
            let rest = keys.split_off(BATCH_GET_LIMIT.min(keys.len()));
            found.extend(self.batch_get_one(keys).await?);
            keys = rest;
        }
        Ok(found)
    }

    /// One BatchGetItem of at most [`BATCH_GET_LIMIT`] keys, resubmitting unprocessed keys and
    /// throttled requests with exponential backoff and jitter.
    async fn batch_get_one(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
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
}

pub(super) fn into_batches(requests: Vec<WriteRequest>) -> Vec<Vec<WriteRequest>> {
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

/// Backoff between rounds of a batch call whose items were throttled or left unprocessed.
pub(super) fn batch_backoff() -> backon::ExponentialBackoff {
    backon::ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(BATCH_RETRIES)
        .with_jitter()
        .build()
}

/// Waits the next backoff delay, or fails naming what is still pending once they run out.
pub(super) async fn pause_before_retry(
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
