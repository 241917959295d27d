//! Batch writes and reads with backoff: DynamoDB's batch limits, the items it leaves
//! unprocessed, and throttling, retried until every item lands or the retries run out.

use super::*;

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

    /// One BatchGetItem (strongly consistent) of at most [`BATCH_GET_LIMIT`] keys, resubmitting
    /// unprocessed keys and throttled requests with exponential backoff and jitter.
    pub(super) async fn batch_get(&self, keys: Vec<Item>) -> StoreResult<Vec<Item>> {
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

/// The last occurrence of each id: a batch may not address one key twice, and a later write
/// of the same id wins (as it does in the embedded store).
pub(super) fn last_per_key<T>(values: &[T], key: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut seen = HashSet::new();
    let mut out: Vec<&T> = values
        .iter()
        .rev()
        .filter(|v| seen.insert(key(v).to_string()))
        .collect();
    out.reverse();
    out
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

pub(super) fn put_request(item: Item) -> StoreResult<WriteRequest> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(backend("PutRequest"))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

pub(super) fn delete_request(item: Item) -> StoreResult<WriteRequest> {
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

pub(super) fn is_throttling<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
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

pub(super) fn is_conditional_check_failure<E: ProvideErrorMetadata, R>(
    err: &SdkError<E, R>,
) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

/// Maps an SDK error to a store error naming the operation, with the SDK's full context.
pub(super) fn backend<E: std::error::Error>(operation: &'static str) -> impl Fn(E) -> StoreError {
    move |e| StoreError::Backend(format!("DynamoDB {operation}: {}", DisplayErrorContext(&e)))
}
