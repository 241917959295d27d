//! Monitoring: the health of an integration, its onboarded projects, its ingested tickets and a
//! per-day data-availability timeline over the last 7 or 30 UTC days (the `Monitoring` schema of
//! `docs/openapi.yaml`; the rules are also written down in `docs/monitoring.md`).
//!
//! [`summarize`] is pure: it turns what the store holds (the integration's creation time, the run
//! records of the window, the daily counters since creation and the projects) into the view.
//! [`query`] is the only I/O: four reads whose cost grows with the number of days and runs, never
//! with the number of issues (no issue is read; ticket totals come from the daily counters).
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

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{
    DailyCounts, ErrorCategory, IntegrationStore, ProjectRecord, ProjectStore, RecordKind,
    RecordStore, RunLog, RunOutcome, RunRecord, StoreError,
};
use crate::sync::stall::{NextTry, Stall, stall_in};
use crate::sync::{ExclusionProgress, exclusion_progress_in};

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// How long nothing may complete before monitoring calls the integration unhealthy, and how long
/// a new integration may wait for its first sync: the reference product gives a new integration
/// up to 24 hours for its first data, and a scheduled sync runs hourly by default.
pub const STALE_AFTER_MS: i64 = 24 * HOUR_MS;

/// After this long a run still marked Running is taken as dead. A sync Lambda runs at most
/// 15 minutes; the margin leaves room for long local backfills run from the CLI.
pub const ABANDONED_AFTER_MS: i64 = 3 * HOUR_MS;

/// The `range` query parameter: the window ends today (UTC) and includes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Range {
    /// The API's default.
    #[default]
    #[serde(rename = "7d")]
    Days7,
    #[serde(rename = "30d")]
    Days30,
}

impl Range {
    pub fn parse(value: &str) -> Result<Range, String> {
        match value {
            "7d" => Ok(Range::Days7),
            "30d" => Ok(Range::Days30),
            other => Err(format!(
                "range: {other:?} is not allowed; use \"7d\" or \"30d\""
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Range::Days7 => "7d",
            Range::Days30 => "30d",
        }
    }

    pub fn days(self) -> u64 {
        match self {
            Range::Days7 => 7,
            Range::Days30 => 30,
        }
    }

    /// The window's first day when it ends on `today`.
    pub fn first_day(self, today: NaiveDate) -> NaiveDate {
        today
            .checked_sub_days(Days::new(self.days() - 1))
            .unwrap_or(NaiveDate::MIN)
    }

    /// The human label used in reasons ("the last 7 days").
    fn label(self) -> &'static str {
        match self {
            Range::Days7 => "the last 7 days",
            Range::Days30 => "the last 30 days",
        }
    }
}

/// What [`summarize`] needs, as the store returns it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MonitoringInput {
    pub range: Range,
    /// The integration's `created_ms`.
    pub created_ms: i64,
    /// Runs active in the window (`RunLog::list_runs` since its first day); others are ignored.
    pub runs: Vec<RunRecord>,
    /// Daily counters from the integration's creation day to today, in any order.
    pub daily: Vec<(NaiveDate, DailyCounts)>,
    pub projects: Vec<ProjectRecord>,
    pub exclusions: ExclusionProgress,
    /// The integration's latest runs stopped early without progress (see `sync::stall`).
    pub stall: Option<Stall>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HealthStatus {
    Healthy,
    Unhealthy,
    Pending,
    #[serde(rename = "No Data")]
    NoData,
}

impl HealthStatus {
    /// The status as the API and the report page name it.
    pub fn name(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "Healthy",
            HealthStatus::Unhealthy => "Unhealthy",
            HealthStatus::Pending => "Pending",
            HealthStatus::NoData => "No Data",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    /// For people; names error categories, never error text.
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCount {
    pub date: NaiveDate,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectsSummary {
    /// Projects first onboarded (`onboarded_at_ms`) on a day of the window.
    pub onboarded_in_range: u64,
    pub total: u64,
    pub daily: Vec<DailyCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TicketsSummary {
    /// Issues written (new or changed) in the window.
    pub ingested_in_range: u64,
    /// Issues counted now, from the counters since creation: new and returned (back in the
    /// scope, or seen again after a deletion) minus deleted and out of scope.
    pub total: u64,
    pub daily: Vec<DailyCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayAvailability {
    pub date: NaiveDate,
    pub status: HealthStatus,
    pub runs: u64,
    pub failed_runs: u64,
}

/// The monitoring view (schema `Monitoring`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Monitoring {
    pub range: Range,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub health: Health,
    pub projects: ProjectsSummary,
    pub tickets: TicketsSummary,
    pub availability: Vec<DayAvailability>,
    /// Where the stored issues stand with the integration's excluded fields: a scrub of newly
    /// excluded text under way shows how far it has got.
    pub exclusions: ExclusionProgress,
}

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Succeeded,
    Failed,
    /// Partial (stopped at its budget) or still running.
    InProgress,
}

/// A run record reduced to what monitoring judges.
#[derive(Clone, Debug)]
struct Run {
    state: State,
    started_ms: i64,
    /// When it ended; for an abandoned run, when it started; None while it runs.
    ended_ms: Option<i64>,
    abandoned: bool,
    /// The failure's category (failed runs only).
    category: Option<&'static str>,
    /// Non-fatal errors a successful run recorded.
    warnings: usize,
}

impl Run {
    fn completed(&self) -> bool {
        self.state != State::InProgress
    }

    /// The instant that orders completed runs.
    fn end_ms(&self) -> i64 {
        self.ended_ms.unwrap_or(self.started_ms)
    }

    fn end_day(&self) -> Option<NaiveDate> {
        self.ended_ms.and_then(day_of)
    }

    fn active_on(&self, day: NaiveDate) -> bool {
        match self.ended_ms {
            Some(_) => self.end_day() == Some(day),
            // Still running: in progress on every day from its start through today.
            None => day_of(self.started_ms).is_some_and(|s| s <= day),
        }
    }
}

/// The runs that touch the window, oldest end first; abandoned runs become failures.
fn runs_in_window(records: &[RunRecord], window_start_ms: i64, now_ms: i64) -> Vec<Run> {
    let mut runs: Vec<Run> = records
        .iter()
        // A run that found every unit held did nothing: the holders' runs tell the story.
        .filter(|r| r.outcome != RunOutcome::Skipped)
        .map(|r| {
            let abandoned =
                r.outcome == RunOutcome::Running && now_ms - r.started_ms > ABANDONED_AFTER_MS;
            let state = match r.outcome {
                RunOutcome::Succeeded => State::Succeeded,
                RunOutcome::Failed => State::Failed,
                RunOutcome::Running if abandoned => State::Failed,
                RunOutcome::Running | RunOutcome::Partial | RunOutcome::Skipped => {
                    State::InProgress
                }
            };
            let category = match state {
                State::Failed if abandoned => Some(INTERRUPTED),
                // The engine pushes the fatal error last, after the run's warnings.
                State::Failed => Some(
                    r.errors
                        .last()
                        .map_or("unknown error", |e| label(e.category)),
                ),
                _ => None,
            };
            Run {
                state,
                started_ms: r.started_ms,
                ended_ms: if abandoned {
                    Some(r.started_ms)
                } else {
                    r.ended_ms
                },
                abandoned,
                category,
                warnings: if state == State::Succeeded {
                    r.errors.len()
                } else {
                    0
                },
            }
        })
        // After the reduction: a dead run stays Running in the store forever and would
        // otherwise reach every window; as a failure it belongs only to the day it started.
        .filter(|r| r.ended_ms.is_none_or(|end| end >= window_start_ms))
        .collect();
    runs.sort_by_key(|r| (r.end_ms(), r.started_ms));
    runs
}

fn day_availability(
    day: NaiveDate,
    runs: &[Run],
    counters: Option<&DailyCounts>,
) -> DayAvailability {
    let c = counters.copied().unwrap_or_default();
    let abandoned = runs
        .iter()
        .filter(|r| r.abandoned && day_of(r.started_ms) == Some(day))
        .count() as u64;
    let last_completed = runs
        .iter()
        .rfind(|r| r.completed() && r.end_day() == Some(day));
    let in_progress = runs
        .iter()
        .any(|r| r.state == State::InProgress && r.active_on(day));
    let status = match last_completed {
        Some(r) if r.state == State::Failed => HealthStatus::Unhealthy,
        Some(_) => HealthStatus::Healthy,
        None if in_progress => HealthStatus::Pending,
        None => counters_status(&c),
    };
    DayAvailability {
        date: day,
        status,
        runs: c.runs + abandoned,
        failed_runs: c.failed_runs + abandoned,
    }
}

/// A day's status from its counters alone (its run records are missing).
fn counters_status(c: &DailyCounts) -> HealthStatus {
    if c.runs > 0 && c.failed_runs >= c.runs {
        HealthStatus::Unhealthy
    } else if c.runs > 0 || c.issues_new > 0 || c.issues_updated > 0 {
        HealthStatus::Healthy
    } else {
        HealthStatus::NoData
    }
}

fn health(
    input: &MonitoringInput,
    range: Range,
    runs: &[Run],
    availability: &[DayAvailability],
    now_ms: i64,
) -> Health {
    if let Some(stall) = &input.stall {
        return stall_health(stall, now_ms);
    }
    let completed: Vec<&Run> = runs.iter().filter(|r| r.completed()).collect();
    let in_progress: Vec<&Run> = runs
        .iter()
        .filter(|r| r.state == State::InProgress)
        .collect();

    if let Some(latest) = completed.last() {
        if latest.state == State::Failed {
            return failure_health(&completed, range, now_ms);
        }
        let since = in_progress
            .iter()
            .filter(|r| r.started_ms >= latest.end_ms())
            .count();
        if now_ms - latest.end_ms() > STALE_AFTER_MS && since > 0 {
            return Health {
                status: HealthStatus::Unhealthy,
                reason: format!(
                    "no sync has completed since the last success {}; {} since then stopped \
                     at their time budget or are still running",
                    ago(now_ms, latest.end_ms()),
                    plural(since, "run", "runs"),
                ),
            };
        }
        let warnings = match latest.warnings {
            0 => String::new(),
            n => format!(" with {}", plural(n, "warning", "warnings")),
        };
        return Health {
            status: HealthStatus::Healthy,
            reason: format!(
                "the latest sync succeeded {}{warnings}",
                ago(now_ms, latest.end_ms())
            ),
        };
    }

    if let Some(oldest) = in_progress.iter().map(|r| r.started_ms).min() {
        let n = plural(in_progress.len(), "run", "runs");
        return if now_ms - oldest < STALE_AFTER_MS {
            Health {
                status: HealthStatus::Pending,
                reason: format!("a sync is in progress ({n} so far, none completed yet)"),
            }
        } else {
            Health {
                status: HealthStatus::Unhealthy,
                reason: format!(
                    "no sync has completed in {}; {n}, the first {}, stopped at their time \
                     budget or are still running",
                    range.label(),
                    ago(now_ms, oldest)
                ),
            }
        };
    }

    if let Some(day) = availability
        .iter()
        .rev()
        .find(|d| d.status != HealthStatus::NoData)
    {
        return Health {
            status: day.status,
            reason: format!(
                "judged from the daily counters of {} ({} run(s), {} failed); the run records \
                 are missing",
                day.date, day.runs, day.failed_runs
            ),
        };
    }

    if now_ms - input.created_ms < STALE_AFTER_MS {
        Health {
            status: HealthStatus::Pending,
            reason: format!(
                "waiting for the first sync (integration created {})",
                ago(now_ms, input.created_ms)
            ),
        }
    } else {
        Health {
            status: HealthStatus::NoData,
            reason: format!("no sync ran in {}", range.label()),
        }
    }
}

/// Unhealthy because the latest completed run failed: how many failed in a row, why the latest
/// did, and when the last success was.
fn failure_health(completed: &[&Run], range: Range, now_ms: i64) -> Health {
    let streak = completed
        .iter()
        .rev()
        .take_while(|r| r.state == State::Failed)
        .count();
    let latest = completed[completed.len() - 1];
    let head = match (streak, streak == completed.len()) {
        (1, true) => "the only completed run in the window failed".to_string(),
        (n, true) => format!("all {n} completed runs in the window failed"),
        (1, false) => "the latest completed run failed".to_string(),
        (n, false) => format!("the last {n} completed runs failed"),
    };
    let last_success = match completed.iter().rev().find(|r| r.state == State::Succeeded) {
        Some(r) => format!("last success {}", ago(now_ms, r.end_ms())),
        None => format!("no successful run in {}", range.label()),
    };
    Health {
        status: HealthStatus::Unhealthy,
        reason: format!(
            "{head} (latest error: {}, {}); {last_success}",
            latest.category.unwrap_or("unknown error"),
            ago(now_ms, latest.end_ms()),
        ),
    }
}

/// Unhealthy because the latest runs got nowhere: how many, why the latest stopped, and what
/// tries next, when.
fn stall_health(stall: &Stall, now_ms: i64) -> Health {
    let runs = match stall.in_a_row {
        1 => "latest run".to_string(),
        n => format!("last {n} runs"),
    };
    let why = stall.category.map_or("stopped early", label);
    let at = |ms: Option<i64>| {
        ms.and_then(DateTime::from_timestamp_millis)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
    };
    let next = match (stall.next_try, at(stall.next_try_ms)) {
        (NextTry::Retry, Some(t)) => format!("the next try is at {t}"),
        (NextTry::Retry, None) => "a retry is scheduled".to_string(),
        (NextTry::Schedule, t) => format!(
            "the next scheduled sync tries again{}",
            t.map_or(String::new(), |t| format!(" by {t}"))
        ),
        (NextTry::Stopped, t) => format!(
            "no retry follows until the next scheduled sync{}",
            t.map_or(String::new(), |t| format!(" (by {t})"))
        ),
    };
    Health {
        status: HealthStatus::Unhealthy,
        reason: format!(
            "the {runs} made no progress (latest: {why}, {}; first {}); {next}",
            ago(now_ms, stall.latest_ms),
            ago(now_ms, stall.since_ms),
        ),
    }
}

const INTERRUPTED: &str = "interrupted before recording an outcome";

/// A fixed label for an error's category. Only labels reach the reason: the messages carry text
/// from Jira and the network, which the monitoring view must not repeat.
fn label(category: ErrorCategory) -> &'static str {
    match category {
        ErrorCategory::CredentialsRejected => "credentials rejected",
        ErrorCategory::TokenMissing => "token missing from the secret store",
        ErrorCategory::AddressRefused => "site address refused (not a public address)",
        ErrorCategory::AddressUnresolvable => "site address does not resolve",
        ErrorCategory::PermissionMissing => "access refused (missing Jira permission)",
        ErrorCategory::ProjectsNotVisible => "projects not found or not visible",
        ErrorCategory::IssuesNotVisible => "issues no longer visible",
        ErrorCategory::RateLimited => "rate limited by Jira",
        ErrorCategory::JiraUnavailable => "Jira unavailable",
        ErrorCategory::SiteUnreachable => "Jira unreachable",
        ErrorCategory::ApiRemoved => "Jira API removed",
        ErrorCategory::RequestRejected => "request rejected by Jira",
        ErrorCategory::UnexpectedResponse => "unexpected response from Jira",
        ErrorCategory::ListingInconsistent => "Jira's listing contradicted the question",
        ErrorCategory::IssuesMissing => "issues listed by Jira were not answered",
        ErrorCategory::CountShortfall => "fewer issues listed than Jira counts",
        ErrorCategory::Configuration => "configuration cannot be used",
        ErrorCategory::LeaseHeld => "another run holds the unit",
        ErrorCategory::StoreFault => "storage error",
        ErrorCategory::Other => "other error",
    }
}

fn day_of(ms: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp_millis(ms).map(|t| t.date_naive())
}

fn start_ms(day: NaiveDate) -> i64 {
    day.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "5 min ago", "3 h ago", "2 days ago".
fn ago(now_ms: i64, at_ms: i64) -> String {
    let ms = (now_ms - at_ms).max(0);
    if ms < MINUTE_MS {
        "less than a minute ago".to_string()
    } else if ms < 2 * HOUR_MS {
        format!("{} min ago", ms / MINUTE_MS)
    } else if ms < 48 * HOUR_MS {
        format!("{} h ago", ms / HOUR_MS)
    } else {
        format!("{} days ago", ms / (24 * HOUR_MS))
    }
}

#[cfg(test)]
mod tests;
