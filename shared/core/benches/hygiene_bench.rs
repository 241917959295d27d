//! Hygiene benchmark (not a test): report latency and store reads from the kept index against
//! counting from the issues, at 10,000 and 100,000 stored issues side by side; the work of a
//! refresh after a sync that changed 1 % of the issues; the history build of 52 weeks and the
//! trend it gives a site connected today; a 52-week trend from daily snapshots.
//! Prints figures; asserts nothing.
//!
//! `cargo bench -p sei-jira-core --bench hygiene_bench`
//! (env: HYGIENE_BENCH_SIZES, default "10000,100000")

#[path = "support/counting.rs"]
mod counting;
#[path = "../tests/support/sample_issues.rs"]
mod sample_issues;
#[path = "../tests/support/tapped.rs"]
mod tapped;

use std::time::Instant;

use chrono::{Duration, NaiveDate};
use sample_issues::{Rng, issue, sample_site};
use sei_jira_core::hygiene::history::DEFAULT_WEEKS;
use sei_jira_core::hygiene::history_build;
use sei_jira_core::hygiene::indexer::refresh;
use sei_jira_core::hygiene::service::take_snapshot;
use sei_jira_core::hygiene::{
    Filter, Interval, Request, Source, Weights, kept_snapshots, report_answered, report_from_store,
    trend,
};
use sei_jira_core::store::*;

use counting::{best_of, counting, sizes};

const ID: &str = "b0000000-0000-4000-8000-000000000001";

struct Row {
    issues: u64,
    build_s: f64,
    index_ms: f64,
    index_reads: (u64, u64),
    index_kib: f64,
    buckets: usize,
    scan_ms: f64,
    scan_reads: (u64, u64),
    touched: usize,
    incremental_ms: f64,
    history_s: f64,
    history_points: usize,
    history_trend_ms: f64,
    history_trend_reads: (u64, u64),
    trend_ms: f64,
    trend_reads: (u64, u64),
}

async fn measure(issues: u64) -> Row {
    let site = sample_site(ID, issues, 11).await;
    let (store, record) = (&site.store, &site.record);
    let counting = counting(store);
    let now_ms = sample_issues::START_MS + sample_issues::SPAN_HOURS * 3_600_000;

    let t = Instant::now();
    refresh(store, record, "bench", None).await.unwrap();
    let build_s = t.elapsed().as_secs_f64();

    let request = Request {
        at_ms: now_ms,
        weights: Weights::default(),
        ..Request::default()
    };
    let (index_s, index_reads) = best_of(5, &counting, || async {
        let answered = report_answered(&counting, ID, &request).await.unwrap();
        assert_eq!(answered.counted_from, Source::Index);
    })
    .await;
    let cells = store.list_index_cells(ID).await.unwrap();
    let index_kib = serde_json::to_vec(&cells).unwrap().len() as f64 / 1024.0;
    let buckets: usize = cells.iter().map(|c| c.tallies.updated_hour.buckets()).sum();
    let (scan_s, scan_reads) = best_of(1, &counting, || async {
        report_from_store(&counting, ID, &request).await.unwrap();
    })
    .await;

    // A sync that changed 1 % of the issues, then the refresh that follows it.
    let mut rng = Rng::new(12);
    let changed: Vec<StoredIssue> = (0..issues / 100)
        .map(|k| issue(k * 100 + 7, 1, &mut rng))
        .collect();
    for chunk in changed.chunks(1_000) {
        store
            .put_issues(ID, chunk)
            .await
            .unwrap()
            .expect_none()
            .unwrap();
    }
    let t = Instant::now();
    let after_sync = refresh(store, record, "bench", None).await.unwrap();
    let incremental_ms = t.elapsed().as_secs_f64() * 1e3;

    // The history of the last 52 weeks, built from every issue, then the trend it gives before
    // any daily snapshot.
    let t = Instant::now();
    history_build::request(store, record, "bench", DEFAULT_WEEKS)
        .await
        .unwrap()
        .unwrap();
    let built = history_build::run(store, record, "bench", None, &mut |_| true)
        .await
        .unwrap();
    let history_s = t.elapsed().as_secs_f64();
    let instants = built.build.unwrap().instants.len();
    let today = chrono::Utc::now().date_naive();
    let year_ago = today - Duration::days(7 * i64::from(DEFAULT_WEEKS));
    let (history_trend_s, history_trend_reads) = best_of(5, &counting, || async {
        let kept = kept_snapshots(&counting, ID, year_ago, today)
            .await
            .unwrap();
        let points = trend(
            &kept,
            Interval::Week,
            year_ago,
            today,
            &Filter::default(),
            &Weights::default(),
        );
        assert!(points.iter().filter(|p| p.score.is_some()).count() >= 52);
    })
    .await;

    // A year of daily snapshots, then the trend of its 52 weeks.
    let last = chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap()
        .date_naive();
    let first: NaiveDate = last - Duration::days(363);
    for d in 0..364 {
        let at = (first + Duration::days(d))
            .and_hms_opt(23, 30, 0)
            .unwrap()
            .and_utc();
        take_snapshot(store, record, at.timestamp_millis())
            .await
            .unwrap();
    }
    let (trend_s, trend_reads) = best_of(5, &counting, || async {
        let snapshots = counting.list_snapshots(ID, first, last).await.unwrap();
        let points = trend(
            &snapshots,
            Interval::Week,
            first,
            last,
            &Filter::default(),
            &Weights::default(),
        );
        assert!(points.len() >= 52);
    })
    .await;

    Row {
        issues,
        build_s,
        index_ms: index_s * 1e3,
        index_reads,
        index_kib,
        buckets,
        scan_ms: scan_s * 1e3,
        scan_reads,
        touched: after_sync.evaluated,
        incremental_ms,
        history_s,
        history_points: instants,
        history_trend_ms: history_trend_s * 1e3,
        history_trend_reads,
        trend_ms: trend_s * 1e3,
        trend_reads,
    }
}

#[tokio::main]
async fn main() {
    let mut rows = Vec::new();
    for n in sizes("HYGIENE_BENCH_SIZES") {
        eprintln!("measuring {n} issues ...");
        rows.push(measure(n).await);
    }
    println!(
        "{:>8} | {:>8} | {:>10} {:>14} {:>10} {:>8} | {:>10} {:>16} | {:>8} {:>9} | {:>9} {:>8} {:>10} {:>12} | {:>9} {:>12}",
        "issues",
        "build s",
        "report ms",
        "reads (items)",
        "index KiB",
        "buckets",
        "scan ms",
        "reads (items)",
        "touched",
        "incr ms",
        "history s",
        "instants",
        "h-trend ms",
        "reads (items)",
        "trend ms",
        "reads (items)"
    );
    for r in rows {
        println!(
            "{:>8} | {:>8.1} | {:>10.2} {:>14} {:>10.0} {:>8} | {:>10.0} {:>16} | {:>8} {:>9.0} | {:>9.1} {:>8} {:>10.2} {:>12} | {:>9.2} {:>12}",
            r.issues,
            r.build_s,
            r.index_ms,
            format!("{} ({})", r.index_reads.0, r.index_reads.1),
            r.index_kib,
            r.buckets,
            r.scan_ms,
            format!("{} ({})", r.scan_reads.0, r.scan_reads.1),
            r.touched,
            r.incremental_ms,
            r.history_s,
            r.history_points,
            r.history_trend_ms,
            format!("{} ({})", r.history_trend_reads.0, r.history_trend_reads.1),
            r.trend_ms,
            format!("{} ({})", r.trend_reads.0, r.trend_reads.1),
        );
    }
}
