//! Hygiene benchmark (not a test): report latency and store reads from the kept index against
//! counting from the issues, at 10,000 and 100,000 stored issues side by side; the work of a
//! refresh after a sync that changed 1 % of the issues; a 52-week trend from daily snapshots.
//! Prints figures; asserts nothing.
//!
//! `cargo bench -p sei-jira-core --bench hygiene_bench`
//! (env: HYGIENE_BENCH_SIZES, default "10000,100000")

#[path = "../tests/support/sample_issues.rs"]
mod sample_issues;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use chrono::{Duration, NaiveDate};
use sample_issues::{Rng, issue, sample_site};
use sei_jira_core::hygiene::indexer::refresh;
use sei_jira_core::hygiene::service::take_snapshot;
use sei_jira_core::hygiene::{
    Filter, Interval, Request, Source, Weights, report_answered, report_from_store, trend,
};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::*;

const ID: &str = "b0000000-0000-4000-8000-000000000001";

/// The embedded store, counting the read calls and the items they return.
struct Counting<'a> {
    inner: &'a EmbeddedStore,
    calls: AtomicU64,
    items: AtomicU64,
}

impl Counting<'_> {
    fn read<T>(&self, items: usize, out: T) -> T {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.items.fetch_add(items as u64, Ordering::Relaxed);
        out
    }

    fn take(&self) -> (u64, u64) {
        (
            self.calls.swap(0, Ordering::Relaxed),
            self.items.swap(0, Ordering::Relaxed),
        )
    }
}

#[async_trait]
impl IssueStore for Counting<'_> {
    async fn get_issue(&self, i: &str, id: &str) -> StoreResult<Option<StoredIssue>> {
        let out = self.inner.get_issue(i, id).await?;
        Ok(self.read(usize::from(out.is_some()), out))
    }
    async fn put_issues(&self, i: &str, issues: &[StoredIssue]) -> StoreResult<Superseded> {
        self.inner.put_issues(i, issues).await
    }
    async fn issue_index(&self, i: &str) -> StoreResult<Vec<IssueIndexEntry>> {
        let out = self.inner.issue_index(i).await?;
        Ok(self.read(out.len(), out))
    }
    async fn index_entries(&self, i: &str, ids: &[String]) -> StoreResult<Vec<IssueIndexEntry>> {
        let out = self.inner.index_entries(i, ids).await?;
        Ok(self.read(out.len(), out))
    }
    async fn list_issues(
        &self,
        i: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredIssue>> {
        let out = self.inner.list_issues(i, after, limit).await?;
        Ok(self.read(out.len(), out))
    }
    async fn flag_issue(&self, i: &str, id: &str, flag: IssueFlag) -> StoreResult<bool> {
        self.inner.flag_issue(i, id, flag).await
    }
}

#[async_trait]
impl RecordStore for Counting<'_> {
    async fn put_records(&self, i: &str, kind: RecordKind, records: &[Record]) -> StoreResult<()> {
        self.inner.put_records(i, kind, records).await
    }
    async fn list_records(&self, i: &str, kind: RecordKind) -> StoreResult<Vec<Record>> {
        let out = self.inner.list_records(i, kind).await?;
        Ok(self.read(out.len(), out))
    }
}

#[async_trait]
impl HygieneIndexStore for Counting<'_> {
    async fn get_index_head(&self, i: &str) -> StoreResult<Option<IndexHead>> {
        let out = self.inner.get_index_head(i).await?;
        Ok(self.read(usize::from(out.is_some()), out))
    }
    async fn put_index_head(&self, i: &str, head: &IndexHead) -> StoreResult<()> {
        self.inner.put_index_head(i, head).await
    }
    async fn list_index_cells(&self, i: &str) -> StoreResult<Vec<IndexedCell>> {
        let out = self.inner.list_index_cells(i).await?;
        Ok(self.read(out.len(), out))
    }
    async fn put_index_cells(&self, i: &str, cells: &[IndexedCell]) -> StoreResult<()> {
        self.inner.put_index_cells(i, cells).await
    }
    async fn get_contributions(
        &self,
        i: &str,
        ids: &[String],
    ) -> StoreResult<Vec<(String, Contribution)>> {
        let out = self.inner.get_contributions(i, ids).await?;
        Ok(self.read(out.len(), out))
    }
    async fn put_contributions(
        &self,
        i: &str,
        c: &[(String, Option<Contribution>)],
    ) -> StoreResult<()> {
        self.inner.put_contributions(i, c).await
    }
    async fn changed_issues(&self, i: &str, limit: usize) -> StoreResult<Vec<ChangeMark>> {
        let out = self.inner.changed_issues(i, limit).await?;
        Ok(self.read(out.len(), out))
    }
    async fn clear_changed(&self, i: &str, marks: &[ChangeMark]) -> StoreResult<()> {
        self.inner.clear_changed(i, marks).await
    }
}

/// Seconds for the best of `runs` runs of `f`, and the reads of the last one.
async fn best_of<F, Fut>(runs: usize, store: &Counting<'_>, mut f: F) -> (f64, (u64, u64))
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut best = f64::MAX;
    let mut reads = (0, 0);
    for _ in 0..runs {
        store.take();
        let t = Instant::now();
        f().await;
        best = best.min(t.elapsed().as_secs_f64());
        reads = store.take();
    }
    (best, reads)
}

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
    let counting = Counting {
        inner: store,
        calls: AtomicU64::new(0),
        items: AtomicU64::new(0),
    };
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
        let snapshots = counting
            .inner
            .list_snapshots(ID, first, last)
            .await
            .unwrap();
        counting.read(snapshots.len(), ());
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
    let sizes: Vec<u64> = std::env::var("HYGIENE_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut rows = Vec::new();
    for n in sizes {
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
