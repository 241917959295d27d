//! The function's events (source `sei-jira`): `jira.sync.completed`, `hygiene.index.requested`
//! and `dora.index.requested` bring that integration's hygiene index (and with it the DORA
//! profiles' members) up to date and take the day's snapshot from it; `hygiene.snapshot.daily` does so for every integration that has a
//! snapshot. A build that runs out of time asks for itself again on the bus and takes the
//! snapshot when it is done.

use std::time::Instant;

use chrono::{DateTime, Utc};
use sei_jira_core::hygiene::indexer::{IndexState, refresh};
use sei_jira_core::hygiene::query::HygieneError;
use sei_jira_core::hygiene::service::take_snapshot;
use sei_jira_core::ports::{
    DETAIL_COMPLETED, DETAIL_DORA_INDEX, DETAIL_HYGIENE_INDEX, EVENT_SOURCE, IntegrationRef,
    SyncEvent,
};
use sei_jira_core::store::Store;
use serde_json::{Value, json};

use crate::{App, cut};

/// The detail type of the daily schedule's event.
pub const DETAIL_DAILY: &str = "hygiene.snapshot.daily";

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
    let source = event["source"].as_str().unwrap_or_default();
    let detail_type = event["detail-type"].as_str().unwrap_or_default();
    let detail = || {
        serde_json::from_value::<IntegrationRef>(event["detail"].clone())
            .map_err(|e| format!("event detail: {e}"))
    };
    match (source, detail_type) {
        // A completed sync's detail names its integration as a request for the index does; the
        // index keeps the DORA profiles' members too.
        (EVENT_SOURCE, DETAIL_COMPLETED | DETAIL_HYGIENE_INDEX | DETAIL_DORA_INDEX) => {
            Ok(answer(turn(app, &detail()?, now, deadline).await?))
        }
        (EVENT_SOURCE, DETAIL_DAILY) => {
            let store = app.store.as_ref();
            let targets = store.snapshot_targets().await.map_err(|e| e.to_string())?;
            let (mut taken, mut continued, mut withdrawn) = (0u32, 0u32, 0u32);
            let mut failed = Vec::new();
            for (account, id) in &targets {
                let target = IntegrationRef {
                    account_id: account.clone(),
                    integration_id: id.clone(),
                };
                match turn(app, &target, now, deadline).await {
                    Ok(Turn::Snapshot) => taken += 1,
                    Ok(Turn::Continued) => continued += 1,
                    // Its integration is gone: visited no more.
                    Ok(Turn::Gone) => match withdraw(store, id).await {
                        Ok(()) => withdrawn += 1,
                        Err(e) => {
                            tracing::error!(integration = %id, error = %e, "could not withdraw the daily snapshot of a deleted integration");
                            failed.push(id.clone());
                        }
                    },
                    Ok(Turn::Busy) => {}
                    // One integration's fault must not cost the others their snapshot.
                    Err(e) => {
                        tracing::error!(integration = %id, error = %e, "daily snapshot failed");
                        failed.push(id.clone());
                    }
                }
            }
            Ok(
                json!({"snapshots": taken, "continued": continued, "withdrawn": withdrawn, "failed": failed}),
            )
        }
        _ => Err(format!(
            "not a hygiene event (source '{}', detail-type '{}')",
            cut(source),
            cut(detail_type)
        )),
    }
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
    target: &IntegrationRef,
    now: DateTime<Utc>,
    deadline: Option<Instant>,
) -> Result<Turn, String> {
    let store: &dyn Store = app.store.as_ref();
    let id = target.integration_id.as_str();
    let Some(record) = store
        .get_integration(&target.account_id, id)
        .await
        .map_err(|e| e.to_string())?
    else {
        tracing::warn!(integration = %id, "integration not found; nothing to do");
        return Ok(Turn::Gone);
    };
    let owner = format!(
        "score-hygiene-{}",
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    let refreshed = refresh(store, &record, &owner, deadline)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(integration = %id, state = ?refreshed.state, evaluated = refreshed.evaluated, rebuilt = refreshed.rebuilt, "hygiene index refreshed");
    match refreshed.state {
        IndexState::Busy => Ok(Turn::Busy),
        IndexState::Gone => Ok(Turn::Gone),
        IndexState::Behind => {
            app.events
                .publish(&SyncEvent::HygieneIndex(target.clone()))
                .await
                .map_err(|e| e.to_string())?;
            Ok(Turn::Continued)
        }
        IndexState::Current => {
            let snapshot = match take_snapshot(store, &record, now.timestamp_millis()).await {
                Ok(snapshot) => snapshot,
                Err(HygieneError::IntegrationDeleted) => return Ok(Turn::Gone),
                Err(e) => return Err(e.to_string()),
            };
            let tickets: u64 = snapshot.cells.iter().map(|(_, c)| c.tickets).sum();
            tracing::info!(integration = %id, tickets, cells = snapshot.cells.len(), "hygiene snapshot taken");
            Ok(Turn::Snapshot)
        }
    }
}
