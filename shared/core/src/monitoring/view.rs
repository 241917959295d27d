//! What monitoring answers (the `Monitoring` schema of `docs/openapi.yaml`), what it is
//! computed from, and the times its rules use.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::store::{DailyCounts, ProjectRecord, RunRecord};
use crate::sync::ExclusionProgress;
use crate::sync::stall::Stall;

pub(super) const MINUTE_MS: i64 = 60_000;
pub(super) const HOUR_MS: i64 = 60 * MINUTE_MS;

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
    pub(super) fn label(self) -> &'static str {
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
