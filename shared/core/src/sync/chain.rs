//! Whether a chain of sync runs is requested or under way for an integration, so that "sync now"
//! asked again meanwhile answers with that chain rather than starting a second one. The API marks
//! a request; each run that hands over to a continuation marks the chain again; the run that
//! ends it (completed, failed, or stalled without progress) clears the mark. A mark older than
//! [`STANDS_FOR_MS`] stands no more (an event lost, a process killed): a sync Lambda lives at
//! most 15 minutes, so a chain under way marks itself more often than that.

use serde::{Deserialize, Serialize};

use crate::store::{Record, RecordKind, RecordStore, StoreError};

/// The sync-state record of the chain under way.
const CHAIN_RECORD: &str = "chain";

/// How long a mark stands without being renewed.
pub const STANDS_FOR_MS: i64 = 15 * 60 * 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct ChainMark {
    /// When the chain was asked for.
    requested_ms: i64,
    /// When it was last marked (asked for, or handed over to a continuation).
    marked_ms: i64,
}

/// When the chain under way in the integration's sync-state records was asked for, if one is
/// under way at `now_ms`.
pub fn chain_in(records: &[Record], now_ms: i64) -> Option<i64> {
    records
        .iter()
        .find(|r| r.id == CHAIN_RECORD)
        .and_then(|r| serde_json::from_value::<ChainMark>(r.data.clone()).ok())
        .filter(|m| now_ms - m.marked_ms < STANDS_FOR_MS)
        .map(|m| m.requested_ms)
}

/// Marks a chain under way at `now_ms`, asked for at `requested_ms`.
pub async fn mark_chain<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
    requested_ms: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    put(
        store,
        integration,
        Some(ChainMark {
            requested_ms,
            marked_ms: now_ms,
        }),
    )
    .await
}

/// The chain has ended.
pub async fn clear_chain<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
) -> Result<(), StoreError> {
    put(store, integration, None).await
}

async fn put<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
    mark: Option<ChainMark>,
) -> Result<(), StoreError> {
    let record = Record {
        id: CHAIN_RECORD.into(),
        data: serde_json::to_value(mark).unwrap_or(serde_json::Value::Null),
    };
    store
        .put_records(integration, RecordKind::SyncState, &[record])
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_stands_until_it_is_older_than_a_lambda_lives() {
        let mark = |requested_ms, marked_ms| Record {
            id: CHAIN_RECORD.into(),
            data: serde_json::to_value(ChainMark {
                requested_ms,
                marked_ms,
            })
            .unwrap(),
        };
        assert_eq!(chain_in(&[mark(10, 20)], 20 + STANDS_FOR_MS - 1), Some(10));
        assert_eq!(chain_in(&[mark(10, 20)], 20 + STANDS_FOR_MS), None);
        let cleared = Record {
            id: CHAIN_RECORD.into(),
            data: serde_json::Value::Null,
        };
        assert_eq!(chain_in(&[cleared], 30), None);
        assert_eq!(chain_in(&[], 30), None);
    }
}
