use super::runs::{INTERRUPTED, label};
use super::view::{HOUR_MS, MINUTE_MS};
use super::*;
use crate::jira::JiraError;
use crate::store::{
    Counts, ErrorCategory, IntegrationRecord, ProjectRecord, RunError, RunOutcome, RunRecord,
    ScopeConfig,
};
use crate::sync::ExclusionProgress;
use crate::sync::SyncError;
use crate::validation::url_guard::AddressError;
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
        synced_through_ms: None,
    }
}

/// A completed run of ten minutes that ended `hours_ago` hours before now.
fn done(id: &str, hours_ago: i64, outcome: RunOutcome) -> RunRecord {
    let end = now_ms() - hours_ago * HOUR_MS;
    run(id, end - 10 * MINUTE_MS, Some(end), outcome)
}

/// What the sync records for `e`.
fn error_of(e: impl Into<SyncError>) -> RunError {
    e.into().run_error()
}

fn failed(id: &str, hours_ago: i64, error: RunError) -> RunRecord {
    RunRecord {
        errors: vec![error],
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
        ..DailyCounts::default()
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
        exclusions: ExclusionProgress::default(),
        stall: None,
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
        let expected: Vec<NaiveDate> = range.first_day(today()).iter_days().take(days).collect();
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
fn given_issues_that_left_the_scope_and_came_back_when_summarized_then_the_total_counts_them_out_then_in()
 {
    let scope = |left, returned| DailyCounts {
        issues_left_scope: left,
        issues_returned: returned,
        ..counters(0, 0, 0, 1, 0)
    };
    let m = summary(&MonitoringInput {
        daily: vec![
            (date("2025-06-20"), counters(300, 0, 0, 1, 0)),
            (date("2025-06-24"), scope(120, 0)),
            (date("2025-06-28"), scope(0, 45)),
        ],
        ..input(Vec::new())
    });
    assert_eq!(m.tickets.total, 300 - 120 + 45);
    assert_eq!(m.tickets.ingested_in_range, 0, "flags are not ingestion");
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
fn given_runs_under_way_with_counts_so_far_when_summarized_then_tickets_count_them_today_but_not_abandoned_ones()
 {
    let under_way = |id: &str, hours_ago: i64, new: u64, updated: u64| RunRecord {
        counts: Counts {
            issues_new: new,
            issues_updated: updated,
            issues_deleted: 1,
            ..Counts::default()
        },
        ..run(
            id,
            now_ms() - hours_ago * HOUR_MS,
            None,
            RunOutcome::Running,
        )
    };
    let m = summary(&MonitoringInput {
        daily: vec![(date("2025-06-28"), counters(100, 0, 0, 1, 0))],
        ..input(vec![
            under_way("backfill", 1, 700, 20),
            // Running for longer than a run can live: its process died, perhaps after adding
            // its counts to the day's counters.
            under_way("dead", 5, 5000, 0),
        ])
    });
    assert_eq!(m.tickets.total, 100 + 700 - 1);
    assert_eq!(m.tickets.ingested_in_range, 100 + 720);
    assert_eq!(m.tickets.daily.last().unwrap().count, 720);
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
fn given_runs_without_progress_since_a_success_when_summarized_then_unhealthy_with_the_next_try() {
    use crate::store::ErrorCategory;
    use crate::sync::stall::{NextTry, Stall};
    let stalled = |in_a_row, next_try, next_try_ms| Stall {
        in_a_row,
        since_ms: now_ms() - 3 * HOUR_MS,
        latest_ms: now_ms() - HOUR_MS / 2,
        category: Some(ErrorCategory::RateLimited),
        next_try,
        next_try_ms,
    };
    let at = start_ms(today()) + 13 * HOUR_MS;
    let cases = [
        (
            stalled(1, NextTry::Retry, Some(at)),
            "the latest run made no progress (latest: rate limited by Jira, 30 min ago; first 3 h \
             ago); the next try is at 2025-06-30 13:00 UTC",
        ),
        (
            stalled(3, NextTry::Schedule, Some(at)),
            "the last 3 runs made no progress (latest: rate limited by Jira, 30 min ago; first 3 \
             h ago); the next scheduled sync tries again by 2025-06-30 13:00 UTC",
        ),
        (
            stalled(5, NextTry::Stopped, None),
            "the last 5 runs made no progress (latest: rate limited by Jira, 30 min ago; first 3 \
             h ago); no retry follows until the next scheduled sync",
        ),
    ];
    for (stall, reason) in cases {
        let mut i = input(vec![
            done("ok", 5, RunOutcome::Succeeded),
            done("p1", 1, RunOutcome::Partial),
        ]);
        i.stall = Some(stall);
        let m = summary(&i);
        assert_eq!(m.health.status, HealthStatus::Unhealthy);
        assert_eq!(m.health.reason, reason);
    }
}

#[test]
fn given_the_latest_completed_run_succeeded_when_summarized_then_healthy() {
    let m = summary(&input(vec![
        failed(
            "f",
            5,
            error_of(JiraError::Unavailable {
                attempts: 5,
                last: "HTTP 503".into(),
            }),
        ),
        done("ok", 1, RunOutcome::Succeeded),
    ]));
    assert_eq!(m.health.status, HealthStatus::Healthy);
    assert_eq!(m.health.reason, "the latest sync succeeded 60 min ago");
}

#[test]
fn given_a_success_with_warnings_when_summarized_then_healthy_and_the_warnings_are_counted() {
    let mut ok = done("ok", 3, RunOutcome::Succeeded);
    ok.errors = vec![
        SyncError::LeaseHeld {
            unit: "PLAT".into(),
        }
        .run_error(),
    ];
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
            error_of(JiraError::Unauthenticated { status: 401 }),
        ),
        done("p", 2, RunOutcome::Partial),
        failed(
            "f2",
            2,
            error_of(JiraError::Protocol(format!("token={token}"))),
        ),
        failed(
            "f3",
            1,
            error_of(JiraError::Unauthenticated { status: 401 }),
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

fn unreachable() -> RunError {
    error_of(JiraError::Unreachable {
        host: "example.atlassian.net".into(),
        reason: "dns error".into(),
    })
}

fn storage_failure(what: &str) -> RunError {
    error_of(StoreError::Backend(what.into()))
}

#[test]
fn given_every_completed_run_failed_when_summarized_then_unhealthy_without_a_last_success() {
    let m = summary(&input(vec![
        failed("f1", 30, unreachable()),
        failed("f2", 2, unreachable()),
    ]));
    assert_eq!(m.health.status, HealthStatus::Unhealthy);
    assert_eq!(
        m.health.reason,
        "all 2 completed runs in the window failed (latest error: Jira unreachable, 2 h ago); \
         no successful run in the last 7 days"
    );
}

#[test]
fn given_a_success_older_than_a_day_and_only_partial_runs_since_when_summarized_then_unhealthy() {
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
fn given_a_run_marked_running_for_hours_when_summarized_then_it_counts_as_an_interrupted_failure() {
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
        errors: vec![storage_failure("boom")],
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
fn given_each_kind_of_sync_error_when_labelled_then_each_gets_its_label() {
    let cases = [
        (
            error_of(JiraError::Unauthenticated { status: 401 }),
            "credentials rejected",
        ),
        (
            error_of(JiraError::Forbidden {
                message: "no".into(),
            }),
            "access refused (missing Jira permission)",
        ),
        (
            error_of(JiraError::RateLimited {
                attempts: 5,
                last_wait: Duration::from_secs(3),
            }),
            "rate limited by Jira",
        ),
        (
            error_of(JiraError::Unavailable {
                attempts: 5,
                last: "HTTP 502".into(),
            }),
            "Jira unavailable",
        ),
        (
            error_of(JiraError::Unreachable {
                host: "h".into(),
                reason: "tls".into(),
            }),
            "Jira unreachable",
        ),
        (
            error_of(JiraError::Gone {
                message: "x".into(),
            }),
            "Jira API removed",
        ),
        (
            error_of(JiraError::Rejected {
                status: 400,
                message: "bad jql".into(),
            }),
            "request rejected by Jira",
        ),
        (
            error_of(JiraError::Protocol("x".into())),
            "unexpected response from Jira",
        ),
        (error_of(StoreError::Backend("x".into())), "storage error"),
        (error_of(StoreError::Corrupt("x".into())), "storage error"),
        (
            SyncError::ProjectsNotVisible(vec!["OPS".into()]).run_error(),
            "projects not found or not visible",
        ),
        (
            crate::sync::service::token_missing(),
            "token missing from the secret store",
        ),
        (
            crate::sync::service::address_error(&AddressError::Forbidden {
                host: "jira.example.com".into(),
                ip: "10.0.0.5".parse().unwrap(),
                reason: "a private address",
            }),
            "site address refused (not a public address)",
        ),
        (
            crate::sync::service::address_error(&AddressError::Unresolvable {
                host: "jira.example.com".into(),
                reason: "failed to lookup".into(),
            }),
            "site address does not resolve",
        ),
        (
            error_of(JiraError::NotFound {
                message: "no project".into(),
            }),
            "projects not found or not visible",
        ),
        (
            SyncError::Config("no field named Severity".into()).run_error(),
            "configuration cannot be used",
        ),
        (
            SyncError::LeaseHeld {
                unit: "PLAT".into(),
            }
            .run_error(),
            "another run holds the unit",
        ),
        (
            RunError::new(ErrorCategory::IssuesNotVisible, "PLAT: 40 of 50 issues"),
            "issues no longer visible",
        ),
        // A run recorded before errors carried a category: a bare message.
        (
            serde_json::from_value(json!("something new: password=hunter2")).unwrap(),
            "other error",
        ),
        // A category written by a newer version.
        (
            serde_json::from_value(json!({"category": "from_the_future", "message": "x"})).unwrap(),
            "other error",
        ),
    ];
    for (error, expected) in cases {
        assert_eq!(label(error.category), expected, "{error}");
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
        exclusions: ExclusionProgress {
            applied: vec!["comments".into()],
            scrubbing: Some(crate::sync::Scrubbing {
                issues_checked: 500,
            }),
            refetching: false,
        },
        ..input(vec![failed("f", 1, storage_failure("x"))])
    });
    let v = serde_json::to_value(&m).unwrap();
    assert_eq!(
        keys(&v),
        [
            "availability",
            "exclusions",
            "from",
            "health",
            "projects",
            "range",
            "tickets",
            "to"
        ]
    );
    assert_eq!(
        v["exclusions"],
        json!({"applied": ["comments"], "scrubbing": {"issues_checked": 500}, "refetching": false})
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
        deployment: crate::jira::Deployment::Cloud,
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
        .put_run(id, &failed("bad", 14, storage_failure("disk")))
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

#[test]
fn each_status_is_named_as_the_api_serialises_it() {
    for status in [
        HealthStatus::Healthy,
        HealthStatus::Unhealthy,
        HealthStatus::Pending,
        HealthStatus::NoData,
    ] {
        assert_eq!(serde_json::to_value(status).unwrap(), status.name());
    }
}
