//! An integration's health from its runs and its stall state: the rules, first match wins,
//! and the reasons they give.

use chrono::DateTime;

use super::runs::{Run, State, label};
use super::view::{
    DayAvailability, HOUR_MS, Health, HealthStatus, MINUTE_MS, MonitoringInput, Range,
    STALE_AFTER_MS,
};
use crate::sync::stall::{NextTry, Stall};

pub(super) fn health(
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
