//! Runs as monitoring sees them (completed, in progress, abandoned, left out), and each day's
//! status from its runs or, without any, from its counters.

use chrono::{DateTime, NaiveDate, NaiveTime};

use super::view::{ABANDONED_AFTER_MS, DayAvailability, HealthStatus};
use crate::store::{DailyCounts, ErrorCategory, RunOutcome, RunRecord};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    Succeeded,
    Failed,
    /// Partial (stopped at its budget) or still running.
    InProgress,
}

/// A run record reduced to what monitoring judges.
#[derive(Clone, Debug)]
pub(super) struct Run {
    pub(super) state: State,
    pub(super) started_ms: i64,
    /// When it ended; for an abandoned run, when it started; None while it runs.
    pub(super) ended_ms: Option<i64>,
    pub(super) abandoned: bool,
    /// The failure's category (failed runs only).
    pub(super) category: Option<&'static str>,
    /// Non-fatal errors a successful run recorded.
    pub(super) warnings: usize,
}

impl Run {
    pub(super) fn completed(&self) -> bool {
        self.state != State::InProgress
    }

    /// The instant that orders completed runs.
    pub(super) fn end_ms(&self) -> i64 {
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
pub(super) fn runs_in_window(records: &[RunRecord], window_start_ms: i64, now_ms: i64) -> Vec<Run> {
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

/// What the runs still under way have written so far (their records' counts, rewritten as they
/// go): the daily counters get it only when a run ends. Abandoned runs are left out: their
/// process may have died after adding its counts and before replacing its record.
pub(super) fn written_by_runs_under_way(records: &[RunRecord], now_ms: i64) -> DailyCounts {
    let mut written = DailyCounts::default();
    for r in records
        .iter()
        .filter(|r| r.outcome == RunOutcome::Running && now_ms - r.started_ms <= ABANDONED_AFTER_MS)
    {
        written.add(&DailyCounts::written(&r.counts));
    }
    written
}

pub(super) fn day_availability(
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
pub(super) fn counters_status(c: &DailyCounts) -> HealthStatus {
    if c.runs > 0 && c.failed_runs >= c.runs {
        HealthStatus::Unhealthy
    } else if c.runs > 0 || c.issues_new > 0 || c.issues_updated > 0 {
        HealthStatus::Healthy
    } else {
        HealthStatus::NoData
    }
}

pub(super) fn day_of(ms: i64) -> Option<NaiveDate> {
    DateTime::from_timestamp_millis(ms).map(|t| t.date_naive())
}

pub(super) fn start_ms(day: NaiveDate) -> i64 {
    day.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
}

/// A fixed label for an error's category. Only labels reach the reason: the messages carry text
/// from Jira and the network, which the monitoring view must not repeat.
pub(super) fn label(category: ErrorCategory) -> &'static str {
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
        ErrorCategory::ScopeEmpty => "a project or filter of the scope holds no visible issue",
        ErrorCategory::Configuration => "configuration cannot be used",
        ErrorCategory::LeaseHeld => "another run holds the unit",
        ErrorCategory::StoreFault => "storage error",
        ErrorCategory::Other => "other error",
    }
}

pub(super) const INTERRUPTED: &str = "interrupted before recording an outcome";
