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
//! - A *Running* run that started more than [`ABANDONED_AFTER_MS`] ago is **abandoned**: its
//!   process died before it could record an outcome (a Lambda lives at most 15 minutes). It counts
//!   as a failed run that ended when it started, with the error category "interrupted before
//!   recording an outcome". Runs that died before the window are ignored.
//!
//! # Health (first matching rule wins)
//!
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

use crate::store::{DailyCounts, ProjectRecord, RunOutcome, RunRecord, Store, StoreError};

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
    /// Runs active in the window (`Store::list_runs` since its first day); others are ignored.
    pub runs: Vec<RunRecord>,
    /// Daily counters from the integration's creation day to today, in any order.
    pub daily: Vec<(NaiveDate, DailyCounts)>,
    pub projects: Vec<ProjectRecord>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HealthStatus {
    Healthy,
    Unhealthy,
    Pending,
    #[serde(rename = "No Data")]
    NoData,
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
    /// Issues stored now, from the counters: new minus deleted since creation.
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
}

/// Reads what [`summarize`] needs and summarises it; `None` when `account` holds no such
/// integration (the API answers 404, as for any other account's integration).
///
/// Four reads: the integration, its projects, the runs since the window's first day and the
/// daily counters since the creation day (one item per day). None reads an issue, so the cost
/// grows with the integration's age and run count (runs expire after 90 days), never with the
/// number of issues.
pub async fn query(
    store: &dyn Store,
    account: &str,
    integration_id: &str,
    range: Range,
    now: DateTime<Utc>,
) -> Result<Option<Monitoring>, StoreError> {
    let Some(integration) = store.get_integration(account, integration_id).await? else {
        return Ok(None);
    };
    let today = now.date_naive();
    let from = range.first_day(today);
    // Clamped: DynamoDB rejects a BETWEEN whose bounds are reversed (a clock ahead of ours).
    let created_day = day_of(integration.created_ms).unwrap_or(from).min(today);
    let id = integration.id.as_str();
    let (projects, runs, daily) = tokio::try_join!(
        store.list_projects(id),
        store.list_runs(id, start_ms(from)),
        store.list_daily(id, created_day, today),
    )?;
    let input = MonitoringInput {
        range,
        created_ms: integration.created_ms,
        runs,
        daily,
        projects,
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
            .map(|c| i128::from(c.issues_new) - i128::from(c.issues_deleted))
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
        .map(|r| {
            let abandoned =
                r.outcome == RunOutcome::Running && now_ms - r.started_ms > ABANDONED_AFTER_MS;
            let state = match r.outcome {
                RunOutcome::Succeeded => State::Succeeded,
                RunOutcome::Failed => State::Failed,
                RunOutcome::Running if abandoned => State::Failed,
                RunOutcome::Running | RunOutcome::Partial => State::InProgress,
            };
            let category = match state {
                State::Failed if abandoned => Some(INTERRUPTED),
                // The engine pushes the fatal error last, after the run's warnings.
                State::Failed => Some(r.errors.last().map_or("unknown error", |e| category(e))),
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

const INTERRUPTED: &str = "interrupted before recording an outcome";

/// A fixed label for an error message. Only labels reach the reason: the messages carry text
/// from Jira and the network, which the monitoring view must not repeat. The patterns follow
/// the `Display` texts of `JiraError`, `StoreError` and the sync's configuration errors.
fn category(message: &str) -> &'static str {
    const LABELS: [(&str, &str); 14] = [
        ("rejected the credentials", "credentials rejected"),
        ("token is missing", "token missing from the secret store"),
        (
            "only public jira sites",
            "site address refused (not a public address)",
        ),
        ("cannot resolve host", "site address does not resolve"),
        ("refused access", "access refused (missing Jira permission)"),
        (
            "not found or not visible",
            "projects not found or not visible",
        ),
        ("throttled", "rate limited by Jira"),
        ("kept failing", "Jira unavailable"),
        ("could not reach", "Jira unreachable"),
        ("removed this api", "Jira API removed"),
        ("rejected the request", "request rejected by Jira"),
        ("unexpected response", "unexpected response from Jira"),
        ("storage failure", "storage error"),
        ("stored data is unreadable", "storage error"),
    ];
    let message = message.to_ascii_lowercase();
    LABELS
        .iter()
        .find(|(pattern, _)| message.contains(pattern))
        .map_or("other error", |(_, label)| label)
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
mod tests {
    use super::*;
    use crate::jira::JiraError;
    use crate::store::{Counts, IntegrationRecord, ScopeConfig};
    use serde_json::{Value, json};
    use std::time::Duration;

    const DAY_MS: i64 = 24 * HOUR_MS;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Today in every test, and "now": noon on it.
    fn today() -> NaiveDate {
        date("2025-06-30")
    }

    fn now_ms() -> i64 {
        start_ms(today()) + 12 * HOUR_MS
    }

    fn run(id: &str, started_ms: i64, ended_ms: Option<i64>, outcome: RunOutcome) -> RunRecord {
        RunRecord {
            run_id: id.into(),
            started_ms,
            ended_ms,
            outcome,
            projects: vec!["PLAT".into()],
            counts: Counts::default(),
            errors: Vec::new(),
        }
    }

    /// A completed run of ten minutes that ended `hours_ago` hours before now.
    fn done(id: &str, hours_ago: i64, outcome: RunOutcome) -> RunRecord {
        let end = now_ms() - hours_ago * HOUR_MS;
        run(id, end - 10 * MINUTE_MS, Some(end), outcome)
    }

    fn failed(id: &str, hours_ago: i64, error: &str) -> RunRecord {
        RunRecord {
            errors: vec![error.into()],
            ..done(id, hours_ago, RunOutcome::Failed)
        }
    }

    fn counters(new: u64, updated: u64, deleted: u64, runs: u64, failed: u64) -> DailyCounts {
        DailyCounts {
            issues_new: new,
            issues_updated: updated,
            issues_deleted: deleted,
            runs,
            failed_runs: failed,
        }
    }

    /// An integration created 40 days ago.
    fn input(runs: Vec<RunRecord>) -> MonitoringInput {
        MonitoringInput {
            range: Range::Days7,
            created_ms: now_ms() - 40 * DAY_MS,
            runs,
            daily: Vec::new(),
            projects: Vec::new(),
        }
    }

    fn project(key: &str, onboarded_at_ms: i64) -> ProjectRecord {
        ProjectRecord {
            key: key.into(),
            id: format!("1{}", key.len()),
            name: key.into(),
            onboarded_at_ms,
        }
    }

    fn summary(input: &MonitoringInput) -> Monitoring {
        summarize(input, today(), now_ms())
    }

    fn status_of(m: &Monitoring, day: &str) -> HealthStatus {
        m.availability
            .iter()
            .find(|d| d.date == date(day))
            .unwrap()
            .status
    }

    // --- range ---

    #[test]
    fn given_7d_or_30d_when_parsed_then_the_matching_range() {
        assert_eq!(Range::parse("7d"), Ok(Range::Days7));
        assert_eq!(Range::parse("30d"), Ok(Range::Days30));
        assert_eq!(Range::default(), Range::Days7);
        assert_eq!(Range::Days30.as_str(), "30d");
    }

    #[test]
    fn given_another_value_when_parsed_then_the_error_names_range_and_the_allowed_values() {
        for bad in ["14d", "", "7D", " 7d", "7", "30days"] {
            let e = Range::parse(bad).unwrap_err();
            assert!(e.starts_with("range:"), "{e}");
            assert!(e.contains("\"7d\"") && e.contains("\"30d\""), "{e}");
        }
    }

    #[test]
    fn given_a_range_when_the_window_is_computed_then_it_ends_today_and_includes_it() {
        assert_eq!(Range::Days7.first_day(today()), date("2025-06-24"));
        assert_eq!(Range::Days30.first_day(today()), date("2025-06-01"));
    }

    // --- series and totals ---

    #[test]
    fn given_sparse_counters_when_summarized_then_every_series_has_one_zero_filled_entry_per_day_oldest_first()
     {
        for (range, days) in [(Range::Days7, 7), (Range::Days30, 30)] {
            let m = summary(&MonitoringInput {
                range,
                daily: vec![(date("2025-06-27"), counters(3, 2, 0, 1, 0))],
                ..input(Vec::new())
            });
            let expected: Vec<NaiveDate> =
                range.first_day(today()).iter_days().take(days).collect();
            assert_eq!(expected.last(), Some(&today()));
            let dates = |s: &[DailyCount]| s.iter().map(|d| d.date).collect::<Vec<_>>();
            assert_eq!(dates(&m.tickets.daily), expected);
            assert_eq!(dates(&m.projects.daily), expected);
            assert_eq!(
                m.availability.iter().map(|d| d.date).collect::<Vec<_>>(),
                expected
            );
            assert_eq!((m.from, m.to), (expected[0], today()));
            for d in &m.tickets.daily {
                let want = if d.date == date("2025-06-27") { 5 } else { 0 };
                assert_eq!(d.count, want, "{}", d.date);
            }
            assert!(m.projects.daily.iter().all(|d| d.count == 0));
        }
    }

    #[test]
    fn given_counters_inside_and_before_the_window_when_summarized_then_ingested_counts_the_window_and_total_counts_all_days()
     {
        let m = summary(&MonitoringInput {
            daily: vec![
                (date("2025-05-25"), counters(1000, 0, 0, 1, 0)),
                (date("2025-06-10"), counters(50, 400, 20, 5, 1)),
                (date("2025-06-24"), counters(10, 5, 3, 2, 0)),
                (date("2025-06-30"), counters(2, 8, 1, 1, 0)),
                // A second entry for a day adds up.
                (date("2025-06-30"), counters(1, 0, 0, 1, 0)),
            ],
            ..input(Vec::new())
        });
        assert_eq!(m.tickets.ingested_in_range, 10 + 5 + 2 + 8 + 1);
        assert_eq!(m.tickets.total, 1000 + 50 + 10 + 2 + 1 - 20 - 3 - 1);
        assert_eq!(m.tickets.daily.last().unwrap().count, 11);
    }

    #[test]
    fn given_more_deletions_than_new_issues_when_summarized_then_the_total_is_zero_not_negative() {
        let m = summary(&MonitoringInput {
            daily: vec![
                (date("2025-06-28"), counters(3, 0, 10, 1, 0)),
                (date("2025-06-29"), counters(0, 0, u64::MAX, 1, 0)),
            ],
            ..input(Vec::new())
        });
        assert_eq!(m.tickets.total, 0);
    }

    #[test]
    fn given_projects_onboarded_before_and_during_the_window_when_summarized_then_in_range_counts_the_window_and_total_all()
     {
        let day = |s: &str| start_ms(date(s));
        let m = summary(&MonitoringInput {
            projects: vec![
                project("OLD", day("2025-05-01") + HOUR_MS),
                project("EDGE", day("2025-06-23") + 23 * HOUR_MS), // the day before the window
                project("FIRST", day("2025-06-24")),               // the window's first instant
                project("PLAT", day("2025-06-28") + HOUR_MS),
                project("WEB", day("2025-06-28") + 2 * HOUR_MS),
            ],
            ..input(Vec::new())
        });
        assert_eq!(m.projects.total, 5);
        assert_eq!(m.projects.onboarded_in_range, 3);
        let counts: Vec<u64> = m.projects.daily.iter().map(|d| d.count).collect();
        assert_eq!(counts, vec![1, 0, 0, 0, 2, 0, 0]);
    }

    // --- health ---

    #[test]
    fn given_an_old_integration_without_runs_or_counters_when_summarized_then_no_data() {
        let m = summary(&input(Vec::new()));
        assert_eq!(m.health.status, HealthStatus::NoData);
        assert_eq!(m.health.reason, "no sync ran in the last 7 days");
        assert!(
            m.availability
                .iter()
                .all(|d| d.status == HealthStatus::NoData && d.runs == 0)
        );
    }

    #[test]
    fn given_runs_only_before_the_window_when_summarized_then_no_data() {
        let m = summary(&MonitoringInput {
            daily: vec![(date("2025-06-01"), counters(5, 0, 0, 1, 0))],
            ..input(vec![done("old", 10 * 24, RunOutcome::Succeeded)])
        });
        assert_eq!(m.health.status, HealthStatus::NoData);
        assert_eq!(m.tickets.total, 5);
    }

    #[test]
    fn given_an_integration_created_an_hour_ago_without_runs_when_summarized_then_pending() {
        let m = summary(&MonitoringInput {
            created_ms: now_ms() - HOUR_MS,
            ..input(Vec::new())
        });
        assert_eq!(m.health.status, HealthStatus::Pending);
        assert_eq!(
            m.health.reason,
            "waiting for the first sync (integration created 60 min ago)"
        );
    }

    #[test]
    fn given_the_first_run_still_running_when_summarized_then_pending_and_today_pending() {
        let m = summary(&MonitoringInput {
            created_ms: now_ms() - 2 * HOUR_MS,
            ..input(vec![run(
                "first",
                now_ms() - HOUR_MS,
                None,
                RunOutcome::Running,
            )])
        });
        assert_eq!(m.health.status, HealthStatus::Pending);
        assert!(
            m.health.reason.contains("in progress"),
            "{}",
            m.health.reason
        );
        assert_eq!(status_of(&m, "2025-06-30"), HealthStatus::Pending);
        assert_eq!(status_of(&m, "2025-06-29"), HealthStatus::NoData);
    }

    #[test]
    fn given_only_partial_runs_for_less_than_a_day_when_summarized_then_pending_not_unhealthy() {
        let m = summary(&MonitoringInput {
            daily: vec![(date("2025-06-30"), counters(900, 0, 0, 3, 0))],
            ..input(vec![
                done("p1", 6, RunOutcome::Partial),
                done("p2", 4, RunOutcome::Partial),
                done("p3", 2, RunOutcome::Partial),
            ])
        });
        assert_eq!(m.health.status, HealthStatus::Pending);
        assert_eq!(
            m.health.reason,
            "a sync is in progress (3 runs so far, none completed yet)"
        );
        let today = m.availability.last().unwrap();
        assert_eq!(
            (today.status, today.runs, today.failed_runs),
            (HealthStatus::Pending, 3, 0)
        );
    }

    #[test]
    fn given_only_partial_runs_for_more_than_a_day_when_summarized_then_unhealthy() {
        let m = summary(&input(vec![
            done("p1", 30, RunOutcome::Partial),
            done("p2", 2, RunOutcome::Partial),
        ]));
        assert_eq!(m.health.status, HealthStatus::Unhealthy);
        assert!(
            m.health.reason
                == "no sync has completed in the last 7 days; 2 runs, the first 30 h ago, stopped \
                    at their time budget or are still running",
            "{}",
            m.health.reason
        );
    }

    #[test]
    fn given_the_latest_completed_run_succeeded_when_summarized_then_healthy() {
        let m = summary(&input(vec![
            failed("f", 5, "Jira kept failing after 5 attempts: HTTP 503"),
            done("ok", 1, RunOutcome::Succeeded),
        ]));
        assert_eq!(m.health.status, HealthStatus::Healthy);
        assert_eq!(m.health.reason, "the latest sync succeeded 60 min ago");
    }

    #[test]
    fn given_a_success_with_warnings_when_summarized_then_healthy_and_the_warnings_are_counted() {
        let mut ok = done("ok", 3, RunOutcome::Succeeded);
        ok.errors = vec!["PLAT: another sync holds this unit's lease; skipped".into()];
        let m = summary(&input(vec![ok]));
        assert_eq!(m.health.status, HealthStatus::Healthy);
        assert_eq!(
            m.health.reason,
            "the latest sync succeeded 3 h ago with 1 warning"
        );
    }

    #[test]
    fn given_partial_runs_after_a_recent_success_when_summarized_then_healthy_because_partial_is_no_failure()
     {
        let m = summary(&input(vec![
            done("ok", 5, RunOutcome::Succeeded),
            done("p1", 3, RunOutcome::Partial),
            run("now", now_ms() - MINUTE_MS, None, RunOutcome::Running),
        ]));
        assert_eq!(m.health.status, HealthStatus::Healthy);
        // The day's last completed run decides: partial runs after it change nothing.
        assert_eq!(status_of(&m, "2025-06-30"), HealthStatus::Healthy);
    }

    #[test]
    fn given_the_last_three_completed_runs_failed_when_summarized_then_unhealthy_naming_the_count_and_category()
     {
        let token = "ATATT3xFfGF0-secret-token";
        let m = summary(&input(vec![
            done("ok", 50, RunOutcome::Succeeded),
            failed(
                "f1",
                3,
                "Jira rejected the credentials (HTTP 401): check the email and API token",
            ),
            done("p", 2, RunOutcome::Partial),
            failed(
                "f2",
                2,
                &format!("unexpected response from Jira: token={token}"),
            ),
            failed(
                "f3",
                1,
                &JiraError::Unauthenticated { status: 401 }.to_string(),
            ),
        ]));
        assert_eq!(m.health.status, HealthStatus::Unhealthy);
        assert_eq!(
            m.health.reason,
            "the last 3 completed runs failed (latest error: credentials rejected, 60 min ago); \
             last success 2 days ago"
        );
        assert!(!m.health.reason.contains(token));
    }

    #[test]
    fn given_every_completed_run_failed_when_summarized_then_unhealthy_without_a_last_success() {
        let m = summary(&input(vec![
            failed("f1", 30, "could not reach example.atlassian.net: dns error"),
            failed("f2", 2, "could not reach example.atlassian.net: dns error"),
        ]));
        assert_eq!(m.health.status, HealthStatus::Unhealthy);
        assert_eq!(
            m.health.reason,
            "all 2 completed runs in the window failed (latest error: Jira unreachable, 2 h ago); \
             no successful run in the last 7 days"
        );
    }

    #[test]
    fn given_a_success_older_than_a_day_and_only_partial_runs_since_when_summarized_then_unhealthy()
    {
        let m = summary(&input(vec![
            done("ok", 30, RunOutcome::Succeeded),
            done("p1", 20, RunOutcome::Partial),
            done("p2", 1, RunOutcome::Partial),
        ]));
        assert_eq!(m.health.status, HealthStatus::Unhealthy);
        assert_eq!(
            m.health.reason,
            "no sync has completed since the last success 30 h ago; 2 runs since then stopped \
             at their time budget or are still running"
        );
    }

    #[test]
    fn given_a_success_older_than_a_day_and_no_run_since_when_summarized_then_still_healthy() {
        // The schedule may be daily or slower: without later runs the data is as fresh as it gets.
        let m = summary(&input(vec![done("ok", 30, RunOutcome::Succeeded)]));
        assert_eq!(m.health.status, HealthStatus::Healthy);
    }

    #[test]
    fn given_a_run_marked_running_for_hours_when_summarized_then_it_counts_as_an_interrupted_failure()
     {
        let started = now_ms() - 4 * HOUR_MS;
        let m = summary(&input(vec![
            done("ok", 5, RunOutcome::Succeeded),
            run("dead", started, None, RunOutcome::Running),
        ]));
        assert_eq!(m.health.status, HealthStatus::Unhealthy);
        assert!(m.health.reason.contains(INTERRUPTED), "{}", m.health.reason);
        let today = m.availability.last().unwrap();
        assert_eq!(
            (today.status, today.runs, today.failed_runs),
            (HealthStatus::Unhealthy, 1, 1)
        );
    }

    #[test]
    fn given_a_run_that_died_before_the_window_when_summarized_then_it_is_ignored() {
        let m = summary(&input(vec![run(
            "dead",
            now_ms() - 20 * DAY_MS,
            None,
            RunOutcome::Running,
        )]));
        assert_eq!(m.health.status, HealthStatus::NoData);
        assert!(m.availability.iter().all(|d| d.runs == 0));
    }

    #[test]
    fn given_counters_but_no_run_records_when_summarized_then_the_latest_counted_day_decides() {
        let m = summary(&MonitoringInput {
            daily: vec![
                (date("2025-06-27"), counters(5, 0, 0, 1, 0)),
                (date("2025-06-29"), counters(0, 0, 0, 2, 2)),
            ],
            ..input(Vec::new())
        });
        assert_eq!(m.health.status, HealthStatus::Unhealthy);
        assert!(
            m.health.reason.contains("2025-06-29"),
            "{}",
            m.health.reason
        );
        assert_eq!(status_of(&m, "2025-06-27"), HealthStatus::Healthy);
        assert_eq!(status_of(&m, "2025-06-28"), HealthStatus::NoData);
    }

    // --- day status ---

    #[test]
    fn given_runs_on_several_days_when_summarized_then_each_day_follows_its_last_completed_run() {
        let at = |day: &str, h: i64| start_ms(date(day)) + h * HOUR_MS;
        let span = |id: &str, day: &str, h: i64, outcome: RunOutcome| {
            run(id, at(day, h), Some(at(day, h + 1)), outcome)
        };
        let fail = |id: &str, day: &str, h: i64| RunRecord {
            errors: vec!["storage failure: boom".into()],
            ..span(id, day, h, RunOutcome::Failed)
        };
        let m = summary(&MonitoringInput {
            created_ms: at("2025-06-25", 1),
            daily: vec![
                (date("2025-06-26"), counters(10, 0, 0, 2, 1)),
                (date("2025-06-27"), counters(0, 1, 0, 2, 1)),
                (date("2025-06-28"), counters(4, 0, 0, 1, 0)),
                (date("2025-06-30"), counters(0, 0, 0, 1, 0)),
            ],
            ..input(vec![
                // 26th: failed, then succeeded.
                fail("a", "2025-06-26", 1),
                span("b", "2025-06-26", 3, RunOutcome::Succeeded),
                // 27th: succeeded, then failed.
                span("c", "2025-06-27", 1, RunOutcome::Succeeded),
                fail("d", "2025-06-27", 3),
                // 28th: only a partial run.
                span("e", "2025-06-28", 1, RunOutcome::Partial),
                // Started late on the 29th and ended after midnight: it counts on the 30th.
                run(
                    "f",
                    at("2025-06-29", 23),
                    Some(at("2025-06-30", 1)),
                    RunOutcome::Succeeded,
                ),
            ])
        });
        use HealthStatus::*;
        let statuses: Vec<HealthStatus> = m.availability.iter().map(|d| d.status).collect();
        // 24th and 25th: no run (the 24th is before the integration existed).
        assert_eq!(
            statuses,
            vec![NoData, NoData, Healthy, Unhealthy, Pending, NoData, Healthy]
        );
        let day27 = &m.availability[3];
        assert_eq!((day27.runs, day27.failed_runs), (2, 1));
        assert_eq!(m.health.status, Healthy);
    }

    #[test]
    fn given_a_run_running_since_yesterday_when_summarized_shortly_after_midnight_then_both_days_are_pending()
     {
        let midnight = start_ms(today());
        let m = summarize(
            &input(vec![run(
                "long",
                midnight - 10 * MINUTE_MS,
                None,
                RunOutcome::Running,
            )]),
            today(),
            midnight + 30 * MINUTE_MS,
        );
        assert_eq!(status_of(&m, "2025-06-29"), HealthStatus::Pending);
        assert_eq!(status_of(&m, "2025-06-30"), HealthStatus::Pending);
        assert_eq!(status_of(&m, "2025-06-28"), HealthStatus::NoData);
        assert_eq!(m.health.status, HealthStatus::Pending);
    }

    // --- error categories ---

    #[test]
    fn given_the_sync_error_texts_when_categorised_then_each_gets_its_label() {
        let cases = [
            (
                JiraError::Unauthenticated { status: 401 }.to_string(),
                "credentials rejected",
            ),
            (
                JiraError::Forbidden {
                    message: "no".into(),
                }
                .to_string(),
                "access refused (missing Jira permission)",
            ),
            (
                JiraError::RateLimited {
                    attempts: 5,
                    last_wait: Duration::from_secs(3),
                }
                .to_string(),
                "rate limited by Jira",
            ),
            (
                JiraError::Unavailable {
                    attempts: 5,
                    last: "HTTP 502".into(),
                }
                .to_string(),
                "Jira unavailable",
            ),
            (
                JiraError::Unreachable {
                    host: "h".into(),
                    reason: "tls".into(),
                }
                .to_string(),
                "Jira unreachable",
            ),
            (
                JiraError::Gone {
                    message: "x".into(),
                }
                .to_string(),
                "Jira API removed",
            ),
            (
                JiraError::Rejected {
                    status: 400,
                    message: "bad jql".into(),
                }
                .to_string(),
                "request rejected by Jira",
            ),
            (
                JiraError::Protocol("x".into()).to_string(),
                "unexpected response from Jira",
            ),
            (StoreError::Backend("x".into()).to_string(), "storage error"),
            (StoreError::Corrupt("x".into()).to_string(), "storage error"),
            (
                "project(s) not found or not visible to this user: OPS".to_string(),
                "projects not found or not visible",
            ),
            (
                crate::sync::service::TOKEN_MISSING.to_string(),
                "token missing from the secret store",
            ),
            (
                "'jira.example.com' resolves to 10.0.0.5, a private address; only public Jira \
                 sites can be connected"
                    .to_string(),
                "site address refused (not a public address)",
            ),
            (
                "cannot resolve host 'jira.example.com': failed to lookup".to_string(),
                "site address does not resolve",
            ),
            ("something new: password=hunter2".to_string(), "other error"),
        ];
        for (message, label) in cases {
            assert_eq!(category(&message), label, "{message}");
        }
    }

    // --- serialisation ---

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    #[test]
    fn given_a_summary_when_serialised_then_the_json_matches_the_monitoring_schema() {
        let m = summary(&MonitoringInput {
            range: Range::Days30,
            daily: vec![(date("2025-06-29"), counters(4, 1, 0, 2, 1))],
            projects: vec![project("PLAT", now_ms())],
            ..input(vec![failed("f", 1, "storage failure: x")])
        });
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            keys(&v),
            [
                "availability",
                "from",
                "health",
                "projects",
                "range",
                "tickets",
                "to"
            ]
        );
        assert_eq!(v["range"], "30d");
        assert_eq!(v["from"], "2025-06-01");
        assert_eq!(v["to"], "2025-06-30");
        assert_eq!(keys(&v["health"]), ["reason", "status"]);
        assert_eq!(v["health"]["status"], "Unhealthy");
        assert_eq!(
            keys(&v["projects"]),
            ["daily", "onboarded_in_range", "total"]
        );
        assert_eq!(keys(&v["tickets"]), ["daily", "ingested_in_range", "total"]);
        for series in [&v["projects"]["daily"], &v["tickets"]["daily"]] {
            assert_eq!(series.as_array().unwrap().len(), 30);
            assert_eq!(keys(&series[0]), ["count", "date"]);
        }
        assert_eq!(
            v["tickets"]["daily"][28],
            json!({"date": "2025-06-29", "count": 5})
        );
        let days = v["availability"].as_array().unwrap();
        assert_eq!(days.len(), 30);
        assert_eq!(keys(&days[0]), ["date", "failed_runs", "runs", "status"]);
        assert_eq!(
            days[0],
            json!({"date": "2025-06-01", "status": "No Data", "runs": 0, "failed_runs": 0})
        );
        assert_eq!(days[28]["status"], "Healthy");
        assert_eq!(days[29]["status"], "Unhealthy");
        // What the API returns reads back unchanged.
        assert_eq!(serde_json::from_value::<Monitoring>(v).unwrap(), m);
    }

    #[test]
    fn given_each_health_status_when_serialised_then_the_schema_enum_strings() {
        let strings: Vec<Value> = [
            HealthStatus::Healthy,
            HealthStatus::Unhealthy,
            HealthStatus::Pending,
            HealthStatus::NoData,
        ]
        .iter()
        .map(|s| serde_json::to_value(s).unwrap())
        .collect();
        assert_eq!(
            strings,
            [
                json!("Healthy"),
                json!("Unhealthy"),
                json!("Pending"),
                json!("No Data")
            ]
        );
    }

    // --- query ---

    fn integration(account: &str, id: &str, created_ms: i64) -> IntegrationRecord {
        IntegrationRecord {
            account: account.into(),
            id: id.into(),
            name: "Jira".into(),
            description: String::new(),
            tags: Vec::new(),
            deployment: "cloud".into(),
            url: "https://example.atlassian.net".into(),
            email: Some("alice@example.com".into()),
            secret_name: format!("sei-jira/{id}"),
            scope: ScopeConfig::AllAccessible,
            excluded_fields: Vec::new(),
            custom_fields: Vec::new(),
            schedule_rate: "rate(1 hour)".into(),
            created_ms,
            updated_ms: created_ms,
        }
    }

    #[tokio::test]
    async fn given_a_stored_integration_when_queried_then_its_view_and_none_for_another_account() {
        use crate::store::embedded::EmbeddedStore;

        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(&dir.path().join("store.redb")).unwrap();
        let id = "0b8d6d1e-1111-4c0f-9d0e-000000000001";
        let now = DateTime::from_timestamp_millis(now_ms()).unwrap();
        store
            .put_integration(&integration("acme", id, now_ms() - 10 * DAY_MS))
            .await
            .unwrap();
        store
            .put_project(id, &project("PLAT", now_ms() - 9 * DAY_MS))
            .await
            .unwrap();
        store
            .put_project(id, &project("WEB", now_ms() - 2 * DAY_MS))
            .await
            .unwrap();
        // Before the window: counted in the totals, not in the range.
        store
            .add_daily(id, date("2025-06-21"), &counters(100, 0, 0, 1, 0))
            .await
            .unwrap();
        store
            .put_run(id, &done("old", 9 * 24, RunOutcome::Succeeded))
            .await
            .unwrap();
        store
            .add_daily(id, date("2025-06-29"), &counters(20, 5, 2, 2, 1))
            .await
            .unwrap();
        store
            .put_run(id, &done("ok", 20, RunOutcome::Succeeded))
            .await
            .unwrap();
        store
            .put_run(id, &failed("bad", 14, "storage failure: disk"))
            .await
            .unwrap();
        store
            .add_daily(id, date("2025-06-30"), &counters(0, 3, 0, 1, 0))
            .await
            .unwrap();
        store
            .put_run(id, &done("fixed", 1, RunOutcome::Succeeded))
            .await
            .unwrap();

        let m = query(&store, "acme", id, Range::Days7, now)
            .await
            .unwrap()
            .expect("the account's own integration");
        assert_eq!((m.from, m.to), (date("2025-06-24"), today()));
        assert_eq!(m.health.status, HealthStatus::Healthy);
        assert_eq!((m.projects.onboarded_in_range, m.projects.total), (1, 2));
        assert_eq!(m.tickets.ingested_in_range, 28);
        assert_eq!(m.tickets.total, 118);
        let statuses: Vec<HealthStatus> = m.availability.iter().map(|d| d.status).collect();
        use HealthStatus::*;
        assert_eq!(
            statuses,
            vec![NoData, NoData, NoData, NoData, NoData, Unhealthy, Healthy]
        );
        assert_eq!(m.availability[5].runs, 2);

        assert_eq!(
            query(&store, "globex", id, Range::Days7, now)
                .await
                .unwrap(),
            None
        );
        assert_eq!(
            query(&store, "acme", "no-such-integration", Range::Days30, now)
                .await
                .unwrap(),
            None
        );
    }
}
