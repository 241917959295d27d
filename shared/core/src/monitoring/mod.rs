//! Monitoring: the health of an integration, its onboarded projects, its ingested tickets and a
//! per-day data-availability timeline over the last 7 or 30 UTC days (the `Monitoring` schema of
//! `docs/openapi.yaml`; the rules are also written down in `docs/monitoring.md`).
//!
//! [`summarize`] is pure: it turns what the store holds (the integration's creation time, the run
//! records of the window, the daily counters since creation and the projects) into the view.
//! [`query`] is the only I/O: four reads whose cost grows with the number of days and runs, never
//! with the number of issues (no issue is read; ticket totals come from the daily counters).
//! What it answers is in `view`; runs and days as monitoring sees them in `runs`; the health
//! rules below in `health`.
//!
//! # Runs as monitoring sees them
//!
//! - *Succeeded* and *Failed* runs are **completed**. A run ends on the UTC day of `ended_ms`
//!   (the day the sync engine adds it to the daily counters).
//! - *Partial* runs (stopped at their time budget with a checkpoint; a continuation resumes them)
//!   and *Running* runs are **in progress**: never a failure, never a success.
//! - *Skipped* runs (every unit held by another run) did nothing and are left out.
//! - A *Running* run that started more than [`ABANDONED_AFTER_MS`] ago is **abandoned**: its
//!   process died before it could record an outcome (a Lambda lives at most 15 minutes). It counts
//!   as a failed run that ended when it started, with the error category "interrupted before
//!   recording an outcome". Runs that died before the window are ignored.
//!
//! # Health (first matching rule wins)
//!
//! 0. **Unhealthy**: the latest runs stopped early without progress (the sync's stall state,
//!    `sync::stall`). The reason says how many, why the latest stopped, and what tries next, when.
//! 1. **Unhealthy**: the latest completed run in the window failed. The reason says how many of
//!    the latest completed runs failed in a row, the latest error's category (never the raw error
//!    text, which could echo anything Jira or the network returned) and when the last success was.
//! 2. **Unhealthy**: the latest completed run succeeded more than [`STALE_AFTER_MS`] ago and runs
//!    have started since, none of which completed (syncs keep stopping early or never finish).
//! 3. **Healthy**: the latest completed run succeeded.
//! 4. No completed run in the window but runs in progress: **Pending** while the oldest of them
//!    started less than [`STALE_AFTER_MS`] ago (a first backfill spans several runs), otherwise
//!    **Unhealthy** (nothing has completed for more than a day).
//! 5. No run record in the window but daily counters that show runs or ingestion (the final run
//!    record could not be written): the status of the latest such day (see below).
//! 6. Nothing ran in the window: **Pending** while the integration is younger than
//!    [`STALE_AFTER_MS`] (waiting for its first sync; the reference product allows up to 24 hours
//!    for the first data), otherwise **No Data**.
//!
//! # Day status (the availability timeline)
//!
//! - **Healthy** / **Unhealthy**: the day's last completed run succeeded / failed.
//! - **Pending**: no run completed that day, but one was in progress (a Partial run ended that
//!   day, or a Running run started that day or earlier and is still going).
//! - Without any run record for the day, its counters decide: **Unhealthy** when every counted
//!   run failed, **Healthy** when runs were counted or issues written otherwise.
//! - **No Data**: none of the above (no run that day, e.g. before the integration existed).
//!
//! `runs` and `failed_runs` are the day's counters (completed and Partial runs, on the day they
//! ended) plus the abandoned runs that started that day, which never reached the counters.
//!
//! # Tickets
//!
//! Totals and the tickets ingested per day come from the daily counters, to which a run adds its
//! counts when it ends, plus the counts of the runs still under way (a running sync rewrites its
//! record with them every few seconds), on today: a long backfill's tickets show as they land.

mod health;
mod runs;
mod view;

pub use view::{
    ABANDONED_AFTER_MS, DailyCount, DayAvailability, Health, HealthStatus, Monitoring,
    MonitoringInput, ProjectsSummary, Range, STALE_AFTER_MS, TicketsSummary,
};

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::store::{
    DailyCounts, IntegrationStore, ProjectStore, RecordKind, RecordStore, RunLog, StoreError,
};
use crate::sync::exclusion_progress_in;
use crate::sync::stall::stall_in;
use health::health;
use runs::{day_availability, day_of, runs_in_window, start_ms, written_by_runs_under_way};

/// Reads what [`summarize`] needs and summarises it; `None` when `account` holds no such
/// integration (the API answers 404, as for any other account's integration).
///
/// Five reads: the integration, its projects, the runs since the window's first day, the daily
/// counters since the creation day (one item per day) and the sync's state (its exclusions, a
/// stall under way).
/// None reads an issue, so the cost grows with the integration's age and run count (runs expire
/// after 90 days), never with the number of issues.
pub async fn query<S>(
    store: &S,
    account: &str,
    integration_id: &str,
    range: Range,
    now: DateTime<Utc>,
) -> Result<Option<Monitoring>, StoreError>
where
    S: IntegrationStore + ProjectStore + RunLog + RecordStore + ?Sized,
{
    let Some(integration) = store.get_integration(account, integration_id).await? else {
        return Ok(None);
    };
    let today = now.date_naive();
    let from = range.first_day(today);
    // Clamped: DynamoDB rejects a BETWEEN whose bounds are reversed (a clock ahead of ours).
    let created_day = day_of(integration.created_ms).unwrap_or(from).min(today);
    let id = integration.id.as_str();
    let (projects, runs, daily, sync_state) = tokio::try_join!(
        store.list_projects(id),
        store.list_runs(id, start_ms(from)),
        store.list_daily(id, created_day, today),
        store.list_records(id, RecordKind::SyncState),
    )?;
    let input = MonitoringInput {
        range,
        created_ms: integration.created_ms,
        runs,
        daily,
        projects,
        exclusions: exclusion_progress_in(&sync_state),
        stall: stall_in(&sync_state),
    };
    Ok(Some(summarize(&input, today, now.timestamp_millis())))
}

/// The monitoring view of `input` for the window ending `today`, as seen at `now_ms`.
pub fn summarize(input: &MonitoringInput, today: NaiveDate, now_ms: i64) -> Monitoring {
    let range = input.range;
    let from = range.first_day(today);
    let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= today).collect();

    let mut counters: BTreeMap<NaiveDate, DailyCounts> = BTreeMap::new();
    for (day, c) in &input.daily {
        counters.entry(*day).or_default().add(c);
    }
    // A run under way counts on the day it would end if it ended now.
    counters
        .entry(today)
        .or_default()
        .add(&written_by_runs_under_way(&input.runs, now_ms));
    let in_window = |d: &NaiveDate| (from..=today).contains(d);

    let runs = runs_in_window(&input.runs, start_ms(from), now_ms);

    let tickets = {
        let written = |c: &DailyCounts| c.issues_new.saturating_add(c.issues_updated);
        let daily: Vec<DailyCount> = days
            .iter()
            .map(|d| DailyCount {
                date: *d,
                count: counters.get(d).map_or(0, written),
            })
            .collect();
        // i128: a u64 sum cannot overflow it, and deletions beyond what was counted as new
        // (issues stored before counting began) must not wrap around.
        let net: i128 = counters
            .values()
            .map(|c| {
                i128::from(c.issues_new) + i128::from(c.issues_returned)
                    - i128::from(c.issues_deleted)
                    - i128::from(c.issues_left_scope)
            })
            .sum();
        TicketsSummary {
            ingested_in_range: daily.iter().fold(0, |sum, d| sum.saturating_add(d.count)),
            total: u64::try_from(net.max(0)).unwrap_or(u64::MAX),
            daily,
        }
    };

    let projects = {
        let mut per_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
        for p in &input.projects {
            if let Some(d) = day_of(p.onboarded_at_ms).filter(in_window) {
                *per_day.entry(d).or_default() += 1;
            }
        }
        ProjectsSummary {
            onboarded_in_range: per_day.values().sum(),
            total: input.projects.len() as u64,
            daily: days
                .iter()
                .map(|d| DailyCount {
                    date: *d,
                    count: per_day.get(d).copied().unwrap_or(0),
                })
                .collect(),
        }
    };

    let availability: Vec<DayAvailability> = days
        .iter()
        .map(|d| day_availability(*d, &runs, counters.get(d)))
        .collect();

    let health = health(input, range, &runs, &availability, now_ms);

    Monitoring {
        range,
        from,
        to: today,
        health,
        projects,
        tickets,
        availability,
        exclusions: input.exclusions.clone(),
    }
}

#[cfg(test)]
mod tests;
