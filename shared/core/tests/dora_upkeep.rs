//! The kept DORA classification over the embedded store: each profile's members are classified
//! from every issue when the profile is new or changes, moved on by the issues written since,
//! dropped with their profile, and resumed by the next run when one runs out of time. Each time
//! the members must be exactly the issues the profile selects now (decided here from the issues'
//! JSON), and the report answered from them must equal the one counted from every issue. A
//! refresh of an integration whose deletion began leaves nothing behind.

#[path = "support/sample_issues.rs"]
mod sample_issues;

use std::time::Instant;

use sample_issues::{Rng, SampleSite, issue, sample_site};
use sei_jira_core::dora::metrics::{Aggregation, Granularity};
use sei_jira_core::dora::{
    DoraConfig, DoraProfile, ReportDays, change_profiles, report_from_store, report_of_kept,
};
use sei_jira_core::hygiene::criteria::Catalog;
use sei_jira_core::hygiene::indexer::{IndexState, refresh};
use sei_jira_core::store::*;
use serde_json::json;

const ID: &str = "d0000000-0000-4000-8000-000000000001";

/// Incidents: bugs. Changes: high-priority stories (and, with `tasks`, every task too).
fn profile(name: &str, tasks: bool) -> DoraProfile {
    let mut changes = vec![json!({"conditions": [
        {"field": "issuetype", "operator": "equals", "values": ["Story"]},
        {"field": "priority", "operator": "equals", "values": ["High"]},
    ]})];
    if tasks {
        changes.push(json!({"conditions": [{"field": "issuetype", "operator": "equals", "values": ["Task"]}]}));
    }
    serde_json::from_value(json!({
        "name": name,
        "incidents": {"sets": [{"conditions": [{"field": "issuetype", "operator": "equals", "values": ["Bug"]}]}]},
        "changes": {"sets": changes, "join": "or"},
        "restored_statuses": ["Done"],
        "deployed_statuses": ["Done"],
    }))
    .unwrap()
}

/// The ids the profile selects, decided from the stored JSON.
async fn selected(site: &SampleSite, tasks: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = site
            .store
            .list_issues(ID, after.as_deref(), 1_000)
            .await
            .unwrap();
        let Some(last) = page.last() else {
            return out;
        };
        after = Some(last.id.clone());
        for i in page.iter().filter(|i| i.counts()) {
            let kind = i.fields["issuetype"]["name"].as_str().unwrap();
            let priority = i.fields["priority"]["name"].as_str().unwrap();
            let change = (kind == "Story" && priority == "High") || (tasks && kind == "Task");
            if kind == "Bug" || change {
                out.push(i.id.clone());
            }
        }
    }
}

async fn members(site: &SampleSite, profile: &str) -> Vec<String> {
    let mut ids: Vec<String> = site
        .store
        .list_dora_members(ID, profile)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    ids.sort_by_key(|id| id.parse::<u64>().unwrap());
    ids
}

async fn keep(
    site: &SampleSite,
    mut change: impl FnMut(&mut DoraConfig, &Catalog) -> String,
) -> String {
    let (id, _) = change_profiles(&site.store, &site.record, |config, catalog| {
        Ok(change(config, catalog))
    })
    .await
    .unwrap();
    id
}

/// Every day the sample issues span (2025-2026).
fn request() -> ReportDays {
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    ReportDays {
        from: day(2025, 1, 1),
        to: day(2027, 12, 31),
        granularity: Granularity::Month,
        aggregation: Aggregation::Median,
    }
}

/// The kept report equals the one counted from every issue, and says whether it was kept.
async fn assert_report_kept(site: &SampleSite, id: &str, profile: &DoraProfile, kept: bool) {
    let answered = report_of_kept(&site.store, &site.record, id, &request(), ReadLimit::Every)
        .await
        .unwrap();
    assert_eq!(answered.recomputing, !kept);
    let query = request().query(profile.failure_window_hours);
    let counted = report_from_store(&site.store, ID, &[], profile, &query)
        .await
        .unwrap();
    assert!(counted.time_to_restore.sample > 0 && counted.lead_time.sample > 0);
    assert_eq!(answered.metrics, counted);
}

async fn refreshed(site: &SampleSite) -> IndexState {
    refresh(&site.store, &site.record, "test", None)
        .await
        .unwrap()
        .state
}

#[tokio::test]
async fn given_a_kept_profile_when_issues_change_then_its_members_follow() {
    // GIVEN 1,500 stored issues and a kept profile, not classified yet
    let site = sample_site(ID, 1_500, 11).await;
    let p = keep(&site, |c, catalog| {
        c.add(profile("Ops", false), catalog).unwrap()
    })
    .await;
    assert_report_kept(&site, &p, &profile("Ops", false), false).await;

    // WHEN the index is refreshed
    assert_eq!(refreshed(&site).await, IndexState::Current);

    // THEN the members are exactly the issues it selects, and reports are read from them
    let expected = selected(&site, false).await;
    assert!(expected.len() > 300, "a fair share: {}", expected.len());
    assert_eq!(members(&site, &p).await, expected);
    assert_report_kept(&site, &p, &profile("Ops", false), true).await;

    // WHEN issues change type (a sync wrote them again), one is hidden and one removed
    let mut rng = Rng::new(5);
    let changed: Vec<StoredIssue> = (0..60).map(|k| issue(k * 23, 1, &mut rng)).collect();
    site.store
        .put_issues(ID, &changed)
        .await
        .unwrap()
        .expect_none()
        .unwrap();
    let first = expected[0].clone();
    assert!(
        site.store
            .flag_issue(ID, &first, IssueFlag::Hidden)
            .await
            .unwrap()
    );
    let second = expected[1].clone();
    assert!(
        site.store
            .flag_issue(ID, &second, IssueFlag::Removed)
            .await
            .unwrap()
    );
    assert_eq!(refreshed(&site).await, IndexState::Current);

    // THEN the members follow
    let now = selected(&site, false).await;
    assert_ne!(now, expected);
    assert!(!now.contains(&first) && !now.contains(&second));
    assert_eq!(members(&site, &p).await, now);
    assert_report_kept(&site, &p, &profile("Ops", false), true).await;
}

#[tokio::test]
async fn given_classified_profiles_when_one_changes_or_goes_then_it_is_classified_again_or_dropped()
{
    let site = sample_site(ID, 1_200, 12).await;
    let a = keep(&site, |c, catalog| {
        c.add(profile("A", false), catalog).unwrap()
    })
    .await;
    let b = keep(&site, |c, catalog| {
        c.add(profile("B", false), catalog).unwrap()
    })
    .await;
    assert_eq!(refreshed(&site).await, IndexState::Current);
    let narrow = selected(&site, false).await;
    assert_eq!(members(&site, &a).await, narrow);

    // WHEN A takes tasks as changes too, and B is deleted
    keep(&site, |c, catalog| {
        c.replace(&a, profile("A", true), catalog).unwrap();
        c.remove(&b).unwrap();
        String::new()
    })
    .await;
    // THEN until the background run, A's report is counted from the issues (and right)
    assert_report_kept(&site, &a, &profile("A", true), false).await;

    // WHEN the runs have only a moment each (a deadline already past): each gets a step done
    let mut runs = 0;
    loop {
        runs += 1;
        let state = refresh(&site.store, &site.record, "test", Some(Instant::now()))
            .await
            .unwrap()
            .state;
        if state == IndexState::Current {
            break;
        }
        assert_eq!(state, IndexState::Behind);
        assert!(runs < 50, "the classification never finished");
    }
    assert!(runs > 2, "it took several runs: {runs}");

    // THEN A's members are what it selects now, and B's are gone with it
    let wide = selected(&site, true).await;
    assert!(wide.len() > narrow.len());
    assert_eq!(members(&site, &a).await, wide);
    assert!(members(&site, &b).await.is_empty());
    assert_report_kept(&site, &a, &profile("A", true), true).await;
}

#[tokio::test]
async fn given_an_integration_deleted_before_its_refresh_when_refreshed_then_nothing_is_left() {
    // GIVEN a site with a kept profile, whose integration is deleted after the event that asks
    // for its refresh was read (the record is in hand)
    let site = sample_site(ID, 800, 13).await;
    keep(&site, |c, catalog| {
        c.add(profile("Ops", false), catalog).unwrap()
    })
    .await;
    assert!(
        site.store
            .delete_integration(&site.record.account, ID)
            .await
            .unwrap()
    );

    // WHEN the refresh runs
    let state = refreshed(&site).await;

    // THEN it stops, and leaves no index, classification or member behind
    assert_eq!(state, IndexState::Gone);
    assert_eq!(site.store.get_index_head(ID).await.unwrap(), None);
    assert!(site.store.list_index_cells(ID).await.unwrap().is_empty());
    assert_eq!(site.store.get_dora_heads(ID).await.unwrap(), None);
    assert!(members(&site, "p1").await.is_empty());
}
