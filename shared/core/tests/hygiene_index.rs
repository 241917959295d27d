//! The kept hygiene aggregate over the embedded store: built from every issue, moved on by the
//! marks of the issues written since, built again when the criteria change, and resumed after a
//! run that ran out of time or stopped in the middle of a batch. Each time, the kept aggregate
//! must equal the one counted from the issues now.

#[path = "support/sample_issues.rs"]
mod sample_issues;

use std::time::Instant;

use sample_issues::{Rng, SampleSite, issue, sample_site};
use sei_jira_core::hygiene::index::{Change, Journal, apply_journal};
use sei_jira_core::hygiene::indexer::{
    IndexState, LEASE_UNIT, basis, contribution_of, indexed_aggregate, refresh,
};
use sei_jira_core::hygiene::{
    Aggregate, Criterion, HygieneConfig, Request, aggregate_from_store, catalog_of,
};
use sei_jira_core::store::*;
use serde_json::json;

const ID: &str = "a0000000-0000-4000-8000-000000000001";

type Site = SampleSite;

async fn site(issues: u64) -> Site {
    sample_site(ID, issues, 7).await
}

/// The criteria kept for the integration.
async fn criteria(site: &Site) -> Vec<Criterion> {
    let config = site.store.get_hygiene_config(ID).await.unwrap();
    config.unwrap_or_default().criteria()
}

/// The aggregate counted from the issues now, with the stored criteria.
async fn counted(site: &Site) -> Aggregate {
    let criteria = criteria(site).await;
    let request = Request {
        criteria: &criteria,
        ..Request::default()
    };
    aggregate_from_store(&site.store, ID, &request)
        .await
        .unwrap()
}

/// The aggregate the index holds, if current for the stored criteria.
async fn kept(site: &Site) -> Option<Aggregate> {
    let basis = basis(&criteria(site).await, &site.record.custom_fields);
    indexed_aggregate(&site.store, ID, &basis).await.unwrap()
}

async fn refreshed(site: &Site) -> sei_jira_core::hygiene::indexer::Refreshed {
    refresh(&site.store, &site.record, "test", None)
        .await
        .unwrap()
}

#[tokio::test]
async fn given_a_synced_site_when_indexed_then_only_changed_issues_are_evaluated_again() {
    // GIVEN 2,000 stored issues, indexed once
    let site = site(2_000).await;
    let first = refreshed(&site).await;
    assert_eq!(
        (first.state, first.evaluated, first.rebuilt),
        (IndexState::Current, 2_000, true)
    );
    assert_eq!(kept(&site).await, Some(counted(&site).await));

    // WHEN 1 % of the issues change (a sync wrote them), one is hidden, one removed and one
    // leaves the scope
    let mut rng = Rng::new(99);
    let changed: Vec<StoredIssue> = (0..20).map(|k| issue(k * 97, 1, &mut rng)).collect();
    site.store
        .put_issues(ID, &changed)
        .await
        .unwrap()
        .expect_none()
        .unwrap();
    assert!(
        site.store
            .flag_issue(ID, "10005", IssueFlag::Hidden)
            .await
            .unwrap()
    );
    assert!(
        site.store
            .flag_issue(ID, "10006", IssueFlag::Removed)
            .await
            .unwrap()
    );
    assert!(
        site.store
            .flag_issue(ID, "10007", IssueFlag::OutOfScope)
            .await
            .unwrap()
    );
    let second = refreshed(&site).await;

    // THEN just those 23 were evaluated, and the kept aggregate is the counted one
    assert_eq!(
        (second.state, second.evaluated, second.rebuilt),
        (IndexState::Current, 23, false)
    );
    assert_eq!(kept(&site).await, Some(counted(&site).await));
    // AND nothing is left to do
    assert_eq!(refreshed(&site).await.evaluated, 0);
}

#[tokio::test]
async fn given_an_index_kept_by_other_rules_when_refreshed_then_it_is_built_again_and_not_used_before()
 {
    // GIVEN an index built, then kept as a release with other built-in rules left it: a basis
    // without this version's number (how the first release kept it)
    let site = site(300).await;
    refreshed(&site).await;
    let mut head = site.store.get_index_head(ID).await.unwrap().unwrap();
    let criteria = criteria(&site).await;
    head.basis = serde_json::to_string(&(&criteria, &site.record.custom_fields)).unwrap();
    site.store.put_index_head(ID, &head).await.unwrap();

    // THEN reports do not read it
    assert_eq!(kept(&site).await, None);
    // WHEN refreshed, THEN it is built again from every issue, and answers again
    let again = refreshed(&site).await;
    assert_eq!(
        (again.state, again.evaluated, again.rebuilt),
        (IndexState::Current, 300, true)
    );
    assert_eq!(kept(&site).await, Some(counted(&site).await));
}

#[tokio::test]
async fn given_new_criteria_when_refreshed_then_the_index_is_built_again_and_not_used_before() {
    // GIVEN an index, then a custom hygiene miss kept
    let site = site(600).await;
    refreshed(&site).await;
    let catalog = catalog_of(&site.store, ID, &[]).await.unwrap();
    let mut config = HygieneConfig::default();
    let criterion: Criterion = serde_json::from_value(json!({
        "name": "Unassigned bug",
        "conditions": [
            {"field": "assignee", "operator": "missing"},
            {"field": "issue type", "operator": "equals", "values": ["Bug"]}
        ]
    }))
    .unwrap();
    config.add_criterion(criterion, &catalog).unwrap();
    assert!(site.store.put_hygiene_config(ID, &config).await.unwrap());

    // THEN the old index no longer answers
    assert_eq!(kept(&site).await, None);

    // WHEN refreshed
    let again = refreshed(&site).await;

    // THEN it was built from every issue, and counts the new miss as the issues do
    assert_eq!(
        (again.state, again.evaluated, again.rebuilt),
        (IndexState::Current, 600, true)
    );
    let kept = kept(&site).await.expect("current again");
    assert_eq!(kept, counted(&site).await);
    let matched: u64 = kept.cells.values().map(|t| t.custom[0]).sum();
    assert!(matched > 0, "some unassigned bugs among 600 issues");
}

#[tokio::test]
async fn given_a_build_out_of_time_when_run_again_then_it_goes_on_where_it_stopped() {
    // GIVEN a build whose run has no time at all: it still takes its first step, then stops
    let site = site(450).await;
    let out_of_time = refresh(&site.store, &site.record, "test", Some(Instant::now()))
        .await
        .unwrap();
    assert_eq!(
        (out_of_time.state, out_of_time.evaluated),
        (IndexState::Behind, 0)
    );
    assert_eq!(kept(&site).await, None, "a build under way does not answer");

    // WHEN runs with no time at all go on until the index is current, each a step at a time
    let mut runs = 0;
    let mut evaluated = 0;
    loop {
        runs += 1;
        let r = refresh(&site.store, &site.record, "test", Some(Instant::now()))
            .await
            .unwrap();
        evaluated += r.evaluated;
        if r.state == IndexState::Current {
            break;
        }
        assert!(runs < 100, "the build moves on");
    }

    // THEN every issue was read once, in more than one run, and the result is the counted one
    assert_eq!(evaluated, 450);
    assert!(runs > 1);
    assert_eq!(kept(&site).await, Some(counted(&site).await));
}

#[tokio::test]
async fn given_a_batch_stopped_halfway_when_run_again_then_nothing_is_counted_twice() {
    // GIVEN an index, and an issue moved to another project
    let site = site(300).await;
    refreshed(&site).await;
    let mut moved = site.store.get_issue(ID, "10003").await.unwrap().unwrap();
    let to = if moved.project_key == "OPS" {
        "WEB"
    } else {
        "OPS"
    };
    moved.project_key = to.into();
    site.store
        .put_issues(ID, std::slice::from_ref(&moved))
        .await
        .unwrap()
        .expect_none()
        .unwrap();

    // AND a run that journaled the batch and wrote one of its two cells, then stopped
    let marks = site.store.changed_issues(ID, 100).await.unwrap();
    let catalog = catalog_of(&site.store, ID, &[]).await.unwrap();
    let old = site
        .store
        .get_contributions(ID, &["10003".into()])
        .await
        .unwrap();
    let mut head = site.store.get_index_head(ID).await.unwrap().unwrap();
    let journal = Journal {
        seq: head.seq + 1,
        changes: vec![Change {
            id: "10003".into(),
            old: Some(old[0].1.clone()),
            new: contribution_of(&moved, &catalog, &[]),
        }],
        marks,
        build_after: None,
    };
    head.journal = Some(journal.clone());
    site.store.put_index_head(ID, &head).await.unwrap();
    let mut cells = site
        .store
        .list_index_cells(ID)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.cell.clone(), c))
        .collect();
    let due = apply_journal(&mut cells, &journal);
    assert_eq!(due.len(), 2);
    site.store
        .put_index_cells(ID, &[cells[&due[0]].clone()])
        .await
        .unwrap();
    assert_eq!(
        kept(&site).await,
        None,
        "a half-applied batch does not answer"
    );

    // WHEN the next run comes
    let r = refreshed(&site).await;

    // THEN it finished the batch (and found the mark cleared), counting the move once
    assert_eq!((r.state, r.evaluated), (IndexState::Current, 0));
    assert_eq!(kept(&site).await, Some(counted(&site).await));
}

#[tokio::test]
async fn given_another_run_holds_the_index_when_refreshed_then_it_is_left_alone() {
    let site = site(10).await;
    let now = chrono::Utc::now().timestamp_millis();
    assert!(
        site.store
            .acquire_lease(ID, LEASE_UNIT, "other", now, 60_000)
            .await
            .unwrap()
    );
    let r = refreshed(&site).await;
    assert_eq!((r.state, r.evaluated), (IndexState::Busy, 0));
    assert_eq!(kept(&site).await, None);
}

#[tokio::test]
async fn given_no_current_index_when_a_request_may_read_fewer_issues_than_stored_then_it_is_refused()
 {
    use sei_jira_core::hygiene::{Filter, HygieneError, Source, TimeRange, report_answered};
    // GIVEN 300 stored issues and no index yet
    let site = site(300).await;
    let within = |n| Request {
        read_limit: ReadLimit::AtMost(n),
        ..Request::default()
    };
    // WHEN a request may read 299, THEN it is refused as the index is not ready; 300 answer
    let refused = report_answered(&site.store, ID, &within(299)).await;
    assert!(
        matches!(refused, Err(HygieneError::IndexNotReady(299))),
        "{refused:?}"
    );
    let counted = report_answered(&site.store, ID, &within(300))
        .await
        .unwrap();
    assert_eq!(
        (counted.counted_from, counted.recomputing),
        (Source::Issues, true)
    );
    // Time ranges are counted from the issues even with an index: refused past the limit
    let ranged = |n| Request {
        filter: Filter {
            created: TimeRange {
                from_ms: Some(0),
                to_ms: None,
            },
            ..Filter::default()
        },
        ..within(n)
    };
    refreshed(&site).await;
    let refused = report_answered(&site.store, ID, &ranged(299)).await;
    assert!(
        matches!(refused, Err(HygieneError::RangesTooBroad(299))),
        "{refused:?}"
    );
    // Once the index is current, a request that may read a single issue is answered from it
    let indexed = report_answered(&site.store, ID, &within(1)).await.unwrap();
    assert_eq!(indexed.counted_from, Source::Index);
    assert_eq!(indexed.report, counted.report);
}
