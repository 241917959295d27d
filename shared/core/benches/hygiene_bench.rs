//! Hygiene benchmark (not a test): report latency and store reads from the kept index against
//! counting from the issues, at 10,000 and 100,000 stored issues side by side; the work of a
//! refresh after a sync that changed 1 % of the issues; a 52-week trend from daily snapshots.
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
use sei_jira_core::hygiene::indexer::refresh;
use sei_jira_core::hygiene::service::take_snapshot;
use sei_jira_core::hygiene::{
    Filter, Interval, Request, Source, Weights, report_answered, report_from_store, trend,
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
        "{:>8} | {:>8} | {:>10} {:>14} {:>10} {:>8} | {:>10} {:>16} | {:>8} {:>9} | {:>9} {:>12}",
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
        "trend ms",
        "reads (items)"
    );
    for r in rows {
        println!(
            "{:>8} | {:>8.1} | {:>10.2} {:>14} {:>10.0} {:>8} | {:>10.0} {:>16} | {:>8} {:>9.0} | {:>9.2} {:>12}",
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
            r.trend_ms,
            format!("{} ({})", r.trend_reads.0, r.trend_reads.1),
        );
    }
}
