//! One integration's sync as the scheduled function runs it: from a trigger to a finished (or
//! checkpointed) run, with the follow-up event — a continuation when the time ran out, or
//! `jira.sync.completed` when it finished.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::jira::{Credentials, JiraClient, RetryPolicy, SiteConfig};
use crate::ports::{
    EventPublisher, RetryScheduler, SecretStore, SyncCompleted, SyncEvent, SyncTrigger, Trigger,
};
use crate::schedule_expression::rate_minutes;
use crate::store::{
    ErrorCategory, IntegrationRecord, RecordKind, RunError, RunOutcome, RunRecord, Store,
};
use crate::sync::chain;
use crate::sync::engine::record_unstarted_run;
use crate::sync::progress::Board;
use crate::sync::stall::{self, NextTry, StallPolicy, Stalled};
use crate::sync::{Excluded, Scope, SyncError, SyncOptions};
use crate::validation::ValidationSettings;
use crate::validation::url_guard::{self, AddressError};

/// The failure recorded when the integration's secret is gone.
pub(crate) fn token_missing() -> RunError {
    RunError::new(
        ErrorCategory::TokenMissing,
        "its token is missing from the secret store",
    )
}

/// The failure recorded when the site's address cannot be used.
pub(crate) fn address_error(e: &AddressError) -> RunError {
    let category = if e.is_unresolvable() {
        ErrorCategory::AddressUnresolvable
    } else {
        ErrorCategory::AddressRefused
    };
    RunError::new(category, e.to_string())
}

pub struct SyncServices<'a> {
    pub store: &'a dyn Store,
    pub secrets: &'a dyn SecretStore,
    pub events: &'a dyn EventPublisher,
    pub retries: &'a dyn RetryScheduler,
    pub stall: StallPolicy,
    pub validation: &'a ValidationSettings,
    /// How hard to retry Jira (Atlassian's guidance by default; tests shorten it).
    pub retry: RetryPolicy,
    /// The bytes of Jira's answers the run may hold at once ([`SiteConfig::answer_budget_bytes`]).
    pub answer_budget: usize,
    /// Where a reader in this process follows each run (the local console); none deployed.
    pub board: Option<&'a Arc<Board>>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncServiceError {
    /// The integration is gone (deleted since the event was sent): nothing to do.
    #[error("integration '{0}' not found for this account")]
    NotFound(String),
    #[error("integration '{integration}': {error}")]
    Unusable {
        integration: String,
        error: RunError,
    },
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Port(#[from] crate::ports::PortError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl SyncServiceError {
    /// Whether the failure is already in the integration's runs (a failed run record and the
    /// day's counters), so that retrying the event would only count it again. Store and secret
    /// store faults are not: the record may be missing, and a retry may get through.
    /// The category of the error a recorded failure left in the run record.
    pub fn recorded_category(&self) -> Option<ErrorCategory> {
        match self {
            SyncServiceError::Unusable { error, .. } => Some(error.category),
            SyncServiceError::Sync(e) if self.is_recorded() => Some(e.run_error().category),
            _ => None,
        }
    }

    pub fn is_recorded(&self) -> bool {
        match self {
            SyncServiceError::Unusable { .. } => true,
            SyncServiceError::Sync(e) => !matches!(e, SyncError::Store(_)),
            _ => false,
        }
    }
}

fn scope(record: &IntegrationRecord) -> Scope {
    Scope::from(&record.scope)
}

/// How often a run logs its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// Runs the integration's sync until done or until `deadline`, then publishes what follows.
pub async fn sync_integration(
    s: &SyncServices<'_>,
    trigger: &SyncTrigger,
    deadline: Option<Instant>,
    run_id: &str,
) -> Result<RunRecord, SyncServiceError> {
    let record = s
        .store
        .get_integration(&trigger.account_id, &trigger.integration_id)
        .await?
        .ok_or_else(|| SyncServiceError::NotFound(trigger.integration_id.clone()))?;
    let connected = connect(s, &record, deadline).await;
    if let Err(SyncServiceError::Unusable { error, .. }) = &connected {
        // Recorded as a failed run, so monitoring shows it like any other failure.
        record_unstarted_run(s.store, &record.id, run_id, error.clone()).await?;
    }
    let (client, mut opts) = connected?;
    opts.deadline = deadline;
    opts.run_id = run_id.to_string();
    opts.current_since_ms = trigger.chain_started_ms;
    let mut progress = super::progress::logged_every(PROGRESS_EVERY, record.id.clone());
    if let Some(board) = s.board {
        progress = super::progress::both(progress, board.observer(&record.id));
    }
    let ran = crate::sync::run(&client, s.store, &opts, Some(progress)).await;
    if let Some(board) = s.board {
        board.ended(&record.id);
    }
    let run = match ran {
        // Deleted while the run went on: it swept what it wrote, and nothing follows.
        Err(SyncError::IntegrationDeleted) => {
            return Err(SyncServiceError::NotFound(record.id.clone()));
        }
        other => other?,
    };
    // The runs holding the units announce their own completion.
    if run.outcome != RunOutcome::Skipped {
        let asked = client.stats().refused_wait();
        follow_up(s, &record, trigger, &run, asked).await?;
    }
    Ok(run)
}

/// What follows a run: a continuation when it stopped early having got somewhere; a retry later
/// (or only the schedule) when it got nowhere; the completion event when it ended. Keeps the
/// integration's stall and whether its chain is under way (see [`chain`]) in step.
async fn follow_up(
    s: &SyncServices<'_>,
    record: &IntegrationRecord,
    trigger: &SyncTrigger,
    run: &RunRecord,
    asked: Option<Duration>,
) -> Result<(), SyncServiceError> {
    let now = chrono::Utc::now().timestamp_millis();
    let state = s
        .store
        .list_records(&record.id, RecordKind::SyncState)
        .await?;
    let under_way = chain::chain_in(&state, now);
    let previous_stall = stall::stall_in(&state);
    let continuation = |trigger_kind| SyncTrigger {
        trigger: trigger_kind,
        chain_started_ms: Some(trigger.chain_started_ms.unwrap_or(run.started_ms)),
        ..trigger.clone()
    };
    let ends_chain = run.outcome != RunOutcome::Partial || !run.counts.made_progress();
    if ends_chain && under_way.is_some() {
        chain::clear_chain(s.store, &record.id).await?;
    }
    if run.outcome == RunOutcome::Partial && !run.counts.made_progress() {
        let retry = continuation(Trigger::Retry);
        return stalled(s, record, run, asked, retry, previous_stall).await;
    }
    // A run that got somewhere, or ended either way, ends the stall.
    if previous_stall.is_some() {
        stall::keep_stall(s.store, &record.id, None).await?;
    }
    let event = match run.outcome {
        RunOutcome::Partial => {
            let requested = under_way.unwrap_or(run.started_ms);
            chain::mark_chain(s.store, &record.id, requested, now).await?;
            SyncEvent::Continue(continuation(Trigger::Continuation))
        }
        _ => SyncEvent::Completed(SyncCompleted {
            account_id: trigger.account_id.clone(),
            integration_id: trigger.integration_id.clone(),
            run_id: run.run_id.clone(),
            outcome: run.outcome,
            counts: run.counts,
            started_ms: run.started_ms,
            ended_ms: run.ended_ms.unwrap_or(run.started_ms),
        }),
    };
    s.events.publish(&event).await?;
    Ok(())
}

/// After a run that stopped early without progress: no continuation at once, but a retry when
/// Jira said (or after a backoff), or nothing before the schedule (see [`stall`]).
async fn stalled(
    s: &SyncServices<'_>,
    record: &IntegrationRecord,
    run: &RunRecord,
    asked: Option<Duration>,
    retry: SyncTrigger,
    previous: Option<stall::Stall>,
) -> Result<(), SyncServiceError> {
    let now = stall::settle(
        &s.stall,
        previous.as_ref(),
        Stalled {
            ended_ms: run.ended_ms.unwrap_or(run.started_ms),
            category: run.errors.last().map(|e| e.category),
            asked,
            schedule_every: rate_minutes(&record.schedule_rate)
                .map(|m| Duration::from_secs(u64::from(m) * 60)),
        },
    );
    if let (NextTry::Retry, Some(at_ms)) = (now.next_try, now.next_try_ms) {
        s.retries.retry_at(&retry, at_ms).await?;
    }
    stall::keep_stall(s.store, &record.id, Some(&now)).await?;
    tracing::warn!(
        integration = %record.id,
        runs_in_a_row = now.in_a_row,
        next_try = ?now.next_try,
        next_try_ms = ?now.next_try_ms,
        "the sync made no progress; no continuation follows at once"
    );
    Ok(())
}

/// The Jira client and sync options for the integration's stored configuration: its token, its
/// URL (checked again: DNS can change), its scope and exclusions. `Unusable` names what stops it.
async fn connect(
    s: &SyncServices<'_>,
    record: &IntegrationRecord,
    deadline: Option<Instant>,
) -> Result<(JiraClient, SyncOptions), SyncServiceError> {
    let unusable = |error: RunError| SyncServiceError::Unusable {
        integration: record.id.clone(),
        error,
    };
    let configuration =
        |message: String| unusable(RunError::new(ErrorCategory::Configuration, message));
    let token = s
        .secrets
        .get_secret(&record.secret_name)
        .await?
        .ok_or_else(|| unusable(token_missing()))?;
    let deployment = record.deployment;
    // The URL was checked when the integration was created; where it resolves is checked again
    // before every connection (DNS can change).
    let networks = &s.validation.private_networks;
    let url =
        url_guard::parse_site_url(&record.url, deployment, networks).map_err(configuration)?;
    url_guard::resolve_checked(&url, networks)
        .await
        .map_err(|e| unusable(address_error(&e)))?;
    let credentials = Credentials::new(deployment, record.email.as_deref(), token);
    let client = JiraClient::new(&SiteConfig {
        retry: s.retry.clone(),
        private_networks: networks.clone(),
        answer_budget_bytes: s.answer_budget,
        // A wait for Jira past the run's deadline ends the run as partial instead.
        deadline,
        ..SiteConfig::new(url.as_str().trim_end_matches('/'), deployment, credentials)
    })
    .map_err(|e| configuration(e.to_string()))?;
    let mut opts = SyncOptions::new(&record.id, scope(record));
    opts.excluded = Excluded::parse(&record.excluded_fields.join(",")).map_err(configuration)?;
    opts.custom_fields = record.custom_fields.clone();
    Ok((client, opts))
}
