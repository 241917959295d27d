//! DORA benchmark (not a test): a report's latency and store reads from a profile's kept
//! members, against counting from every issue, at 10,000 and 100,000 stored issues side by side
//! — the same 1,000 incidents and change requests in both, the rest unrelated to the profile, so
//! the kept report's reads must stay the same while the scan's grow; and what classifying the
//! profile from every issue costs once (a new or changed profile). Prints figures; asserts only
//! that both ways give the same report.
//!
//! `cargo bench -p sei-jira-core --bench dora_bench`
//! (env: DORA_BENCH_SIZES, default "10000,100000")

#[path = "support/counting.rs"]
mod counting;
#[path = "../tests/support/sample_issues.rs"]
mod sample_issues;
#[path = "../tests/support/tapped.rs"]
mod tapped;

use std::cell::RefCell;
use std::time::Instant;

use chrono::NaiveDate;
use counting::{best_of, counting, sizes};
use sample_issues::sample_site;
use sei_jira_core::dora::metrics::{Aggregation, Granularity};
use sei_jira_core::dora::{
    DoraProfile, ReportDays, change_profiles, report_from_store, report_of_kept,
};
use sei_jira_core::hygiene::indexer::refresh;
use sei_jira_core::store::*;
use serde_json::json;

const ID: &str = "c0000000-0000-4000-8000-000000000001";
/// Issues that are incidents or change requests, at every size.
const RELEVANT: u64 = 1_000;

fn profile() -> DoraProfile {
    serde_json::from_value(json!({
        "name": "Operations",
        "incidents": {"sets": [{"conditions": [{"field": "issuetype", "operator": "equals", "values": ["Incident"]}]}]},
        "changes": {"sets": [{"conditions": [{"field": "issuetype", "operator": "equals", "values": ["Change"]}]}]},
        "restored_statuses": ["Done"],
        "deployed_statuses": ["Done"],
    }))
    .unwrap()
}

struct Row {
    issues: u64,
    classify_s: f64,
    kept_ms: f64,
    kept_reads: (u64, u64),
    scan_ms: f64,
    scan_reads: (u64, u64),
}

async fn measure(issues: u64) -> Row {
    let site = sample_site(ID, issues, 21).await;
    let (store, record) = (&site.store, &site.record);
    // Every tenth of the first issues becomes an incident or a change request.
    let mut relevant = Vec::new();
    let mut after = None;
    while (relevant.len() as u64) < RELEVANT {
        let page = store
            .list_issues(ID, after.as_deref(), 1_000)
            .await
            .unwrap();
        assert!(!page.is_empty(), "at least {} issues", RELEVANT * 10);
        after = page.last().map(|i| i.id.clone());
        for (n, mut issue) in page.into_iter().enumerate().filter(|(n, _)| n % 10 == 0) {
            let kind = if n % 20 == 0 { "Incident" } else { "Change" };
            issue
                .fields
                .insert("issuetype".into(), json!({"name": kind}));
            relevant.push(issue);
        }
    }
    relevant.truncate(RELEVANT as usize);
    store
        .put_issues(ID, &relevant)
        .await
        .unwrap()
        .expect_none()
        .unwrap();
    refresh(store, record, "bench", None).await.unwrap();

    // The profile kept, then classified from every issue (as the background run does).
    let (p, _) = change_profiles(store, record, |c, catalog| c.add(profile(), catalog))
        .await
        .unwrap();
    let t = Instant::now();
    refresh(store, record, "bench", None).await.unwrap();
    let classify_s = t.elapsed().as_secs_f64();

    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let request = ReportDays {
        from: day(2025, 1, 1),
        to: day(2026, 12, 31),
        granularity: Granularity::Month,
        aggregation: Aggregation::Median,
    };
    let counting = counting(store);
    let kept = RefCell::new(None);
    let (kept_s, kept_reads) = best_of(5, &counting, || async {
        let answered = report_of_kept(&counting, record, &p, &request, ReadLimit::Every)
            .await
            .unwrap();
        assert!(!answered.recomputing);
        *kept.borrow_mut() = Some(answered.metrics);
    })
    .await;
    let scanned = RefCell::new(None);
    let (scan_s, scan_reads) = best_of(2, &counting, || async {
        let query = request.query(24);
        let report = report_from_store(&counting, ID, &[], &profile(), &query)
            .await
            .unwrap();
        *scanned.borrow_mut() = Some(report);
    })
    .await;
    assert_eq!(
        kept.into_inner(),
        scanned.into_inner(),
        "the kept members answer what the scan does"
    );
    Row {
        issues,
        classify_s,
        kept_ms: kept_s * 1e3,
        kept_reads,
        scan_ms: scan_s * 1e3,
        scan_reads,
    }
}

#[tokio::main]
async fn main() {
    let mut rows = Vec::new();
    for n in sizes("DORA_BENCH_SIZES") {
        eprintln!("measuring {n} issues ...");
        rows.push(measure(n).await);
    }
    println!(
        "{:>8} | {:>11} | {:>9} {:>16} | {:>9} {:>16} | {:>7}",
        "issues", "classify s", "kept ms", "reads (items)", "scan ms", "reads (items)", "speedup"
    );
    for r in rows {
        println!(
            "{:>8} | {:>11.1} | {:>9.1} {:>16} | {:>9.0} {:>16} | {:>6.0}x",
            r.issues,
            r.classify_s,
            r.kept_ms,
            format!("{} ({})", r.kept_reads.0, r.kept_reads.1),
            r.scan_ms,
            format!("{} ({})", r.scan_reads.0, r.scan_reads.1),
            r.scan_ms / r.kept_ms,
        );
    }
}
