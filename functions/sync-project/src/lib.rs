//! The scheduled sync: takes a scheduled event (EventBridge Scheduler) or a continuation/manual
//! event (the service's bus), syncs the integration's scope until done or until its time is
//! nearly up, and reports the run.
//!
//! Events served (source `sei-jira`): `jira.sync.scheduled` (the schedule's target input) and
//! `jira.sync.continuation` (a run that stopped at its time budget, or a sync asked for through
//! the API). Events published: `jira.sync.continuation` when the run stopped early,
//! `jira.sync.completed` when it finished.

use sei_jira_aws::{dynamo, events, scheduler, secrets};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sei_jira_core::jira::RetryPolicy;
use sei_jira_core::ports::{EventPublisher, RetryScheduler, SecretStore, SyncEvent, SyncTrigger};
use sei_jira_core::store::Store;
use sei_jira_core::sync::progress::Board;
use sei_jira_core::sync::service::{SyncServiceError, SyncServices, sync_integration};
use sei_jira_core::sync::stall::StallPolicy;
use sei_jira_core::validation::ValidationSettings;
use sei_jira_lambda::metrics::{self, Metrics, record_all};
use serde_json::{Value, json};

/// The function's name in its metrics (its folder and crate).
pub const FUNCTION: &str = env!("CARGO_PKG_NAME");

/// Left for the checkpoint, the run record and the continuation event once the sync stops.
pub const STOP_BEFORE_TIMEOUT: Duration = Duration::from_secs(60);

/// The AWS actions this function's calls need (the store written, the token read, continuation and
/// completion on the bus, one-time retries scheduled), by adapter: exactly what its policies in `template.yaml` must allow (see
/// [`sei_jira_aws::dynamo::READ_ACTIONS`]).
pub const AWS_ACTIONS: &[&[&str]] = &[
    dynamo::READ_ACTIONS,
    dynamo::WRITE_ACTIONS,
    secrets::READ_ACTIONS,
    events::ACTIONS,
    scheduler::RETRY_ACTIONS,
];

pub struct App {
    pub store: Box<dyn Store>,
    pub secrets: Box<dyn SecretStore>,
    pub events: Box<dyn EventPublisher>,
    pub retries: Box<dyn RetryScheduler>,
    pub stall: StallPolicy,
    pub validation: ValidationSettings,
    pub retry: RetryPolicy,
    /// The bytes of Jira's answers a run may hold at once (a share of the function's memory).
    pub answer_budget: usize,
    /// Each run's figures ([`metrics::sync_run`]).
    pub metrics: Box<dyn Metrics>,
    /// Where a reader in this process follows each run (`sei-jira serve`'s console); none in
    /// Lambda.
    pub board: Option<Arc<Board>>,
}

/// The trigger in an event, which must be a sync event of ours.
pub fn trigger(event: &Value) -> Result<SyncTrigger, String> {
    match SyncEvent::from_envelope(event).map_err(|e| e.to_string())? {
        SyncEvent::Scheduled(trigger) | SyncEvent::Continue(trigger) => Ok(trigger),
        other => Err(format!(
            "not a sync event (detail-type '{}')",
            other.detail_type()
        )),
    }
}

/// When to stop, from the invocation's deadline (epoch ms).
pub fn stop_at(deadline_ms: u64, now_ms: u64) -> Instant {
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Instant::now() + left.saturating_sub(STOP_BEFORE_TIMEOUT)
}

pub async fn handle(
    app: &App,
    event: Value,
    stop: Option<Instant>,
    run_id: &str,
) -> Result<Value, String> {
    let trigger = trigger(&event)?;
    let services = SyncServices {
        store: app.store.as_ref(),
        secrets: app.secrets.as_ref(),
        events: app.events.as_ref(),
        retries: app.retries.as_ref(),
        stall: app.stall,
        validation: &app.validation,
        retry: app.retry.clone(),
        answer_budget: app.answer_budget,
        board: app.board.as_ref(),
    };
    tracing::info!(integration = %trigger.integration_id, trigger = ?trigger.trigger, "sync starting");
    match sync_integration(&services, &trigger, stop, run_id).await {
        Ok(run) => {
            tracing::info!(integration = %trigger.integration_id, outcome = ?run.outcome, counts = ?run.counts, "sync ended");
            let figures = metrics::sync_run(FUNCTION, &trigger.integration_id, &run);
            record_all(app.metrics.as_ref(), &figures);
            Ok(json!({"run_id": run.run_id, "outcome": run.outcome, "counts": run.counts}))
        }
        // A stale schedule or event of a deleted integration: nothing to retry.
        Err(SyncServiceError::NotFound(id)) => {
            tracing::warn!(integration = %id, "integration not found; event ignored");
            Ok(json!({"skipped": "integration not found"}))
        }
        // Jira refused or failed past its retries, or the integration cannot be used: the
        // failed run is recorded, and the next scheduled run tries again. Answering with an
        // error would make Lambda retry the event and count the failure twice more.
        Err(e) if e.is_recorded() => {
            tracing::error!(integration = %trigger.integration_id, error = %e, "sync failed");
            if let Some(category) = e.recorded_category() {
                let figures = metrics::failed_run(FUNCTION, &trigger.integration_id, category);
                record_all(app.metrics.as_ref(), &figures);
            }
            Ok(json!({"run_id": run_id, "outcome": "failed", "error": e.to_string()}))
        }
        // A store or secret-store fault: nothing may be recorded; Lambda retries the event.
        Err(e) => {
            tracing::error!(integration = %trigger.integration_id, error = %e, "sync failed; the event will be retried");
            Err(e.to_string())
        }
    }
}
