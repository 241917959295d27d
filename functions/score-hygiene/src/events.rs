//! The function's events (source `sei-jira`): `jira.sync.completed`, `hygiene.index.requested`,
//! `dora.index.requested` and `hygiene.snapshot.requested` bring that integration's hygiene
//! index (and with it the DORA profiles' members) up to date and take the day's snapshot from
//! it; `hygiene.snapshot.daily` asks for that (`hygiene.snapshot.requested`, which also counts
//! whether the integration synced lately), one event each, for every integration that has a
//! snapshot. A build that runs out of time asks for itself again on the bus and takes the
//! snapshot when it is done.

use std::time::Instant;

use chrono::{DateTime, Utc};
use sei_jira_core::hygiene::HygieneError;
use sei_jira_core::hygiene::history_build::{self, HistoryState};
use sei_jira_core::hygiene::indexer::{IndexState, refresh};
use sei_jira_core::hygiene::service::take_snapshot;
use sei_jira_core::ports::{DailyCursor, IntegrationRef, SyncEvent};
use sei_jira_core::store::{IntegrationRecord, RunOutcome, Store};
use sei_jira_lambda::metrics;
use serde_json::{Value, json};

use crate::App;

/// The function these events are served by (`functions/hygiene-events`), as its metrics name it.
pub const FUNCTION: &str = "hygiene-events";

/// Index requests published between two looks at the deadline.
const FAN_OUT_PAGE: usize = 100;

/// What one integration's turn did.
#[derive(Debug, PartialEq, Eq)]
enum Turn {
    /// The integration is gone (deleted since the event was sent).
    Gone,
    /// Another run holds its index; that run takes the snapshot.
    Busy,
    /// The index is behind (out of time); a continuation was asked for.
    Continued,
    Snapshot,
}

/// Answers what was done; an error makes Lambda retry the event. `deadline` is when the
/// invocation must have answered.
pub async fn handle_event(
    app: &App,
    event: &Value,
    now: DateTime<Utc>,
    deadline: Option<Instant>,
) -> Result<Value, String> {
    let (target, requested) = match SyncEvent::from_envelope(event).map_err(|e| e.to_string())? {
        // A completed sync names its integration as a request for the index does; the index
        // keeps the DORA profiles' members too. The daily snapshot's turn of an integration also
        // counts whether it synced lately.
        SyncEvent::Completed(done) => (
            IntegrationRef {
                account_id: done.account_id,
                integration_id: done.integration_id,
            },
            false,
        ),
        SyncEvent::HygieneIndex(target) | SyncEvent::DoraIndex(target) => (target, false),
        SyncEvent::SnapshotRequested(target) => (target, true),
        SyncEvent::SnapshotDaily(cursor) => {
            return fan_out(app, cursor.after.as_deref(), deadline).await;
        }
        other => {
            return Err(format!(
                "not a hygiene event (detail-type '{}')",
                other.detail_type()
            ));
        }
    };
    let id = target.integration_id.as_str();
    let record = app
        .store
        .get_integration(&target.account_id, id)
        .await
        .map_err(|e| e.to_string())?;
    let turn = match &record {
        Some(record) => turn(app, record, now, deadline).await?,
        None => {
            tracing::warn!(integration = %id, "integration not found; nothing to do");
            Turn::Gone
        }
    };
    let Some(record) = record.filter(|_| turn != Turn::Gone) else {
        // Visited no more by the daily snapshot.
        withdraw(app.store.as_ref(), id).await?;
        return Ok(json!({"snapshots": 0, "continued": 0, "withdrawn": 1}));
    };
    if requested {
        let stale = stale(app, &record, now).await?;
        app.metrics.record(&metrics::staleness(FUNCTION, id, stale));
    }
    Ok(answer(turn))
}

/// The daily snapshot, fanned out: one `hygiene.snapshot.requested` event per integration on
/// the list, so that each has an invocation of its own (its index brought up to date, then the day's
/// snapshot; or, gone, its place on the list withdrawn), however long the list. Walked in id
/// order a page at a time; once the deadline has passed, the rest is asked for by a daily event
/// that goes on after the last id asked for.
async fn fan_out(
    app: &App,
    after: Option<&str>,
    deadline: Option<Instant>,
) -> Result<Value, String> {
    let mut targets = app
        .store
        .snapshot_targets()
        .await
        .map_err(|e| e.to_string())?;
    targets.retain(|(_, id)| after.is_none_or(|after| id.as_str() > after));
    targets.sort_by(|a, b| a.1.cmp(&b.1));
    let mut asked = 0;
    for page in targets.chunks(FAN_OUT_PAGE) {
        // At least a page an invocation, so that one short of time still gets through in turn.
        if asked > 0 && deadline.is_some_and(|d| Instant::now() >= d) {
            let last = targets[asked - 1].1.clone();
            let rest = DailyCursor {
                after: Some(last.clone()),
            };
            app.events
                .publish(&SyncEvent::SnapshotDaily(rest))
                .await
                .map_err(|e| e.to_string())?;
            return Ok(json!({"asked": asked, "continues_after": last}));
        }
        let requests: Vec<SyncEvent> = page
            .iter()
            .map(|(account, id)| {
                SyncEvent::SnapshotRequested(IntegrationRef {
                    account_id: account.clone(),
                    integration_id: id.clone(),
                })
            })
            .collect();
        app.events
            .publish_all(&requests)
            .await
            .map_err(|e| e.to_string())?;
        asked += page.len();
    }
    Ok(json!({"asked": asked}))
}

/// Whether the integration has gone the stale period ([`App::stale_after`]) without a
/// successful sync: created before it, and no run since has succeeded.
async fn stale(app: &App, record: &IntegrationRecord, now: DateTime<Utc>) -> Result<bool, String> {
    let since_ms = now.timestamp_millis() - app.stale_after.as_millis() as i64;
    let runs = app
        .store
        .list_runs(&record.id, since_ms)
        .await
        .map_err(|e| e.to_string())?;
    Ok(record.created_ms < since_ms
        && !runs.iter().any(|r| {
            r.outcome == RunOutcome::Succeeded && r.ended_ms.is_some_and(|e| e >= since_ms)
        }))
}

/// Takes a gone integration off the daily list, with whatever a deletion racing its snapshot
/// left behind (a tombstone lets the sweep remove it).
async fn withdraw(store: &dyn Store, id: &str) -> Result<(), String> {
    store.sweep_deleted(id).await.map_err(|e| e.to_string())?;
    store
        .withdraw_snapshot_target(id)
        .await
        .map_err(|e| e.to_string())
}

fn answer(turn: Turn) -> Value {
    json!({
        "snapshots": u32::from(turn == Turn::Snapshot),
        "continued": u32::from(turn == Turn::Continued),
    })
}

/// Brings the integration's index up to date, then takes the day's snapshot from it.
async fn turn(
    app: &App,
    record: &IntegrationRecord,
    now: DateTime<Utc>,
    deadline: Option<Instant>,
) -> Result<Turn, String> {
    let store: &dyn Store = app.store.as_ref();
    let id = record.id.as_str();
    let owner = format!(
        "score-hygiene-{}",
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    let started = Instant::now();
    let refreshed = refresh(store, record, &owner, deadline)
        .await
        .map_err(|e| e.to_string())?;
    if refreshed.state != IndexState::Busy {
        let figures = metrics::index_refresh(FUNCTION, id, refreshed.evaluated, started.elapsed());
        app.metrics.record(&figures);
    }
    tracing::info!(integration = %id, state = ?refreshed.state, evaluated = refreshed.evaluated, rebuilt = refreshed.rebuilt, "hygiene index refreshed");
    match refreshed.state {
        IndexState::Busy => Ok(Turn::Busy),
        IndexState::Gone => Ok(Turn::Gone),
        IndexState::Behind => continue_later(app, record).await,
        IndexState::Current => {
            let snapshot = match take_snapshot(store, record, now.timestamp_millis()).await {
                Ok(snapshot) => snapshot,
                Err(HygieneError::IntegrationDeleted) => return Ok(Turn::Gone),
                Err(e) => return Err(e.to_string()),
            };
            let tickets: u64 = snapshot.cells.iter().map(|(_, c)| c.tickets).sum();
            tracing::info!(integration = %id, tickets, cells = snapshot.cells.len(), "hygiene snapshot taken");
            // The weeks before the first snapshot, rebuilt from the changelogs when due; a
            // build that runs out of time goes on in the next turn.
            let built = history_build::run(store, record, &owner, deadline, &mut |_| true)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(integration = %id, state = ?built.state, read = built.read, "hygiene history");
            match built.state {
                HistoryState::Behind => continue_later(app, record).await,
                HistoryState::Gone => Ok(Turn::Gone),
                HistoryState::Built | HistoryState::Busy => Ok(Turn::Snapshot),
            }
        }
    }
}

/// Asks on the bus for another turn of the integration: what this one left goes on there.
async fn continue_later(app: &App, record: &IntegrationRecord) -> Result<Turn, String> {
    app.events
        .publish(&SyncEvent::HygieneIndex(IntegrationRef {
            account_id: record.account.clone(),
            integration_id: record.id.clone(),
        }))
        .await
        .map_err(|e| e.to_string())?;
    Ok(Turn::Continued)
}
