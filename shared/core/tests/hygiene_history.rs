//! The hygiene history over the embedded store: a build stopped after any chunk — by its
//! deadline, by its caller, or between writing a chunk's sums and its own record (a Lambda
//! stopped) — is finished by the next run with the same points as a build that never stopped;
//! and each point holds what a report of the tickets as they stood at its instant counts.

#[path = "support/sample_issues.rs"]
mod sample_issues;

use std::time::Instant;

use chrono::NaiveDate;
use sample_issues::{SampleSite, sample_site};
use sei_jira_core::hygiene::history::HistoryBuild;
use sei_jira_core::hygiene::history_build::{CHUNK, HistoryRun, HistoryState, request, run};
use sei_jira_core::hygiene::{Filter, Request, Snapshot, Weights, report_from_store};
use sei_jira_core::store::{HistoryStore, StoreError};

const ID: &str = "a0000000-0000-4000-8000-000000000002";
/// More than two chunks.
const ISSUES: u64 = 2 * CHUNK as u64 + 500;
const WEEKS: u32 = 104;

async fn go_on(site: &SampleSite, deadline: Option<Instant>) -> HistoryRun {
    run(&site.store, &site.record, "test", deadline, &mut |_| true)
        .await
        .unwrap()
}

async fn points(site: &SampleSite) -> Result<Vec<Snapshot>, StoreError> {
    let (from, to) = (NaiveDate::MIN, NaiveDate::MAX);
    site.store.list_history_points(ID, from, to).await
}

async fn kept_build(site: &SampleSite) -> HistoryBuild {
    site.store.get_history_build(ID).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_build_stopped_after_any_chunk_ends_with_the_points_of_one_that_never_stopped() {
    // GIVEN a site, and the points of a build that ran through
    let site = sample_site(ID, ISSUES, 11).await;
    request(&site.store, &site.record, "test", WEEKS)
        .await
        .unwrap()
        .unwrap();
    let whole = go_on(&site, None).await;
    assert_eq!(whole.state, HistoryState::Built);
    assert_eq!(whole.read, ISSUES);
    let expected = points(&site).await.unwrap();
    assert!(expected.len() > 100, "{}", expected.len());

    // WHEN the same build runs again, a chunk per run (its deadline past)
    request(&site.store, &site.record, "test", WEEKS)
        .await
        .unwrap()
        .unwrap();
    let first = go_on(&site, Some(Instant::now())).await;
    assert_eq!(first.state, HistoryState::Behind);
    assert_eq!(first.build.as_ref().unwrap().chunks, 1);
    // AND the next run stops after writing its chunk's sums but before its own record: the
    // record it found is put back
    let found = kept_build(&site).await;
    let second = go_on(&site, Some(Instant::now())).await;
    assert_eq!(second.build.unwrap().chunks, 2);
    site.store.put_history_build(ID, &found).await.unwrap();
    // AND its caller stops the run after which the build is told of the next chunk
    let stopped = run(&site.store, &site.record, "test", None, &mut |_| false)
        .await
        .unwrap();
    assert_eq!(stopped.state, HistoryState::Behind);
    assert_eq!(stopped.build.unwrap().chunks, 2, "chunk 2 counted again");
    // THEN the run that finishes keeps the points of the build that never stopped
    let last = go_on(&site, None).await;
    assert_eq!(last.state, HistoryState::Built);
    assert_eq!(points(&site).await.unwrap(), expected);
    // AND a build on the same criteria is not started again
    let again = go_on(&site, None).await;
    assert_eq!((again.state, again.read), (HistoryState::Built, 0));

    // AND each point holds what the report of the tickets as they stood then counts
    for point in expected.iter().step_by(17) {
        let asked = Request {
            at_ms: point.at_ms,
            as_of: true,
            ..Request::default()
        };
        let report = report_from_store(&site.store, ID, &asked).await.unwrap();
        let kept = point.report(&Filter::default(), &Weights::default());
        assert_eq!(kept, report, "{}", point.day());
    }
}
