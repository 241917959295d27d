//! Scope changes: issues a narrowed scope no longer takes in are kept, flagged out of scope, and
//! leave every metric and total; a widened scope takes them back. Metrics are checked against
//! a store synced from scratch with the scope as it now stands (the same site, the same time):
//! what a narrowed store reports must be exactly what it would report had it never held more.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use jira_sim::{Mode, Settings};
use sei_jira_core::dora::{self, Aggregation, DoraProfile, DoraReport, Granularity};
use sei_jira_core::hygiene::{self, Report};
use sei_jira_core::monitoring::{MonitoringInput, Range, summarize};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{IssueStore, ProjectStore, RunLog, RunOutcome, RunRecord};
use sei_jira_core::sync::{Scope, run};
use serde_json::{Value, json};

#[path = "support/site.rs"]
mod site;

use site::*;

const ID: &str = "acme";

/// Incidents: bugs; changes: stories. Done restores and deploys.
fn profile() -> DoraProfile {
    let set = |t: &str| json!({"sets": [{"conditions": [{"field": "issuetype", "operator": "equals", "values": [t]}]}]});
    serde_json::from_value(json!({
        "name": "scope",
        "incidents": set("Bug"),
        "changes": set("Story"),
        "restored_statuses": ["Done"],
        "deployed_statuses": ["Done"],
    }))
    .unwrap()
}

/// What the store reports: hygiene (every category, every ticket), DORA, the onboarded
/// projects and the monitoring totals.
struct Reported {
    hygiene: Report,
    dora: DoraReport,
    projects: Vec<String>,
    tickets: u64,
}

async fn reported(store: &EmbeddedStore, at_ms: i64) -> Reported {
    let request = hygiene::Request {
        at_ms,
        ..hygiene::Request::default()
    };
    let hygiene = hygiene::report_from_store(store, ID, &request)
        .await
        .unwrap();
    let profile = profile();
    let days = dora::ReportDays {
        from: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        to: Utc::now().date_naive(),
        granularity: Granularity::Month,
        aggregation: Aggregation::Median,
    };
    let dora = dora::report_from_store(
        store,
        ID,
        &[],
        &profile,
        &days.query(profile.failure_window_hours),
    )
    .await
    .unwrap();
    let projects = store.list_projects(ID).await.unwrap();
    let today = Utc::now().date_naive();
    let input = MonitoringInput {
        range: Range::Days7,
        created_ms: (Utc::now() - Duration::days(1)).timestamp_millis(),
        runs: store.list_runs(ID, 0).await.unwrap(),
        daily: store
            .list_daily(ID, today - Duration::days(2), today)
            .await
            .unwrap(),
        projects: projects.clone(),
        ..MonitoringInput::default()
    };
    Reported {
        hygiene,
        dora,
        projects: projects.into_iter().map(|p| p.key).collect(),
        tickets: summarize(&input, today, Utc::now().timestamp_millis())
            .tickets
            .total,
    }
}

/// What a store synced from scratch with `scope` reports at `at_ms`.
async fn reported_fresh(e: &Env, scope: Scope, name: &str, at_ms: i64) -> Reported {
    let store = EmbeddedStore::open(&e.path.with_file_name(name)).unwrap();
    let fresh = run(&e.client(ALICE), &store, &options(ID, scope), None)
        .await
        .unwrap();
    assert_eq!(fresh.outcome, RunOutcome::Succeeded, "{fresh:?}");
    reported(&store, at_ms).await
}

/// Asserts two reports are the same, naming what differs (the whole reports are long).
fn assert_same(got: &Reported, want: &Reported) {
    assert_eq!(got.projects, want.projects);
    assert_eq!(got.tickets, want.tickets);
    assert_eq!(got.hygiene, want.hygiene);
    let (g, w) = (&got.dora, &want.dora);
    assert_eq!(g.time_to_restore, w.time_to_restore, "time to restore");
    assert_eq!(g.change_failure_rate, w.change_failure_rate, "failure rate");
    let (gf, wf) = (&g.deployment_frequency, &w.deployment_frequency);
    assert_eq!(
        (gf.deployments, gf.releases),
        (wf.deployments, wf.releases),
        "deployments and releases"
    );
    assert!(g == w, "the DORA reports differ elsewhere");
}

async fn synced(e: &Env, scope: Scope) -> RunRecord {
    let record = run(&e.client(ALICE), &e.store, &options(ID, scope), None)
        .await
        .unwrap();
    assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
    record
}

/// Asserts the run flagged `left` issues out of scope and deleted none.
fn assert_left(run: &RunRecord, left: u64) {
    let c = &run.counts;
    assert_eq!((c.issues_left_scope, c.issues_deleted), (left, 0), "{c:?}");
}

/// The ids of the site's issues in `projects`, as Jira has them now.
async fn ids_in(e: &Env, projects: &[&str]) -> BTreeSet<String> {
    e.truth(ALICE)
        .await
        .iter()
        .filter(|t| projects.contains(&t["project"].as_str().unwrap()))
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// The stored ids that count, and those kept out of scope.
async fn stored_ids(e: &Env) -> (BTreeSet<String>, BTreeSet<String>) {
    let stored = e.stored(ID).await;
    let counted = stored.iter().filter(|i| i.counts()).map(|i| i.id.clone());
    let out = stored
        .iter()
        .filter(|i| i.out_of_scope)
        .map(|i| i.id.clone());
    (counted.collect(), out.collect())
}

/// The two projects with the most issues, and one more.
async fn projects(e: &Env) -> [String; 3] {
    let mut per: Vec<(usize, String)> = Vec::new();
    for t in e.truth(ALICE).await {
        let key = t["project"].as_str().unwrap().to_string();
        match per.iter_mut().find(|(_, k)| *k == key) {
            Some((n, _)) => *n += 1,
            None => per.push((1, key)),
        }
    }
    per.sort();
    per.reverse();
    [per[0].1.clone(), per[1].1.clone(), per[2].1.clone()]
}

async fn admin_post(e: &Env, path: &str, body: Value) -> Value {
    e.admin(reqwest::Method::POST, path, Some(body)).await
}

/// GIVEN an integration synced with projects A and B, and an issue of A moved to C in Jira,
/// WHEN A alone stays in its scope, THEN B's issues and the moved one are kept, flagged out of
/// scope (none deleted), and hygiene, DORA, the onboarded projects and the ticket total are
/// exactly those of a store synced with A alone. WHEN B comes back (one of its issues edited
/// meanwhile), THEN they count again, as they are in Jira now, and every figure is that of a
/// store synced with A and B from scratch.
#[tokio::test]
async fn a_project_that_leaves_the_scope_leaves_every_figure_and_comes_back() {
    let e = env(500, Mode::Cloud, Settings::default(), 31).await;
    let [a, b, c] = projects(&e).await;
    let both = || Scope::Projects(vec![a.clone(), b.clone()]);
    synced(&e, both()).await;

    let moved = e
        .stored(ID)
        .await
        .into_iter()
        .find(|i| i.project_key == a && i.fields["issuetype"]["name"] != "Sub-task")
        .unwrap();
    admin_post(
        &e,
        &format!("/issues/{}/move", moved.key),
        json!({"project": c}),
    )
    .await;
    let in_b = ids_in(&e, &[&b]).await;

    // WHEN A alone stays in the scope
    let narrowed = synced(&e, Scope::Projects(vec![a.clone()])).await;
    let (counted, out) = stored_ids(&e).await;
    assert_eq!(counted, ids_in(&e, &[&a]).await);
    let mut expected_out = in_b.clone();
    expected_out.insert(moved.id.clone());
    assert_eq!(out, expected_out, "B's issues and the moved one, kept");
    assert_left(&narrowed, expected_out.len() as u64);
    let kept = e.store.get_issue(ID, &moved.id).await.unwrap().unwrap();
    assert!(
        kept.deleted_at_ms.is_none() && kept.project_key == c,
        "{kept:?}"
    );
    let at = Utc::now().timestamp_millis();
    let now = reported(&e.store, at).await;
    assert_eq!(now.projects, std::slice::from_ref(&a));
    assert_eq!(now.tickets, counted.len() as u64);
    assert!(now.hygiene.total_tickets > 0);
    let fresh = reported_fresh(&e, Scope::Projects(vec![a.clone()]), "a.redb", at).await;
    assert_same(&now, &fresh);

    // WHEN B comes back, one of its issues edited while it was out
    let edited = e
        .stored(ID)
        .await
        .into_iter()
        .find(|i| i.project_key == b)
        .unwrap();
    let summary = json!({"summary": "edited while out of the scope"});
    admin_post(&e, &format!("/issues/{}/edit", edited.key), summary).await;
    let widened = synced(&e, both()).await;
    let (counted, out) = stored_ids(&e).await;
    assert_eq!(counted, ids_in(&e, &[&a, &b]).await);
    assert_eq!(out, BTreeSet::from([moved.id.clone()]), "C is still out");
    assert_eq!(
        widened.counts.issues_returned,
        in_b.len() as u64,
        "{:?}",
        widened.counts
    );
    let now_edited = e.store.get_issue(ID, &edited.id).await.unwrap().unwrap();
    assert_eq!(
        now_edited.fields["summary"],
        "edited while out of the scope"
    );
    let at = Utc::now().timestamp_millis();
    let now = reported(&e.store, at).await;
    assert_eq!(now.tickets, counted.len() as u64);
    assert_same(&now, &reported_fresh(&e, both(), "ab.redb", at).await);
}

/// GIVEN an integration whose filter is changed, WHEN it takes in more (a second project),
/// THEN the next run reads every issue it now takes in, not only those updated since the last
/// run; WHEN it takes in less, THEN what it left is kept, flagged out of scope (not deleted),
/// and every figure is that of a store synced with the narrower filter from scratch; WHEN it is
/// widened again, THEN those issues count again.
#[tokio::test]
async fn a_changed_filter_reads_what_it_now_takes_in_and_flags_what_it_left() {
    let e = env(300, Mode::Cloud, Settings::default(), 32).await;
    let [a, b, _] = projects(&e).await;
    let only = |p: &str| Scope::Jql(format!("project = \"{p}\""));
    let both = || Scope::Jql(format!("project in (\"{a}\", \"{b}\") ORDER BY key"));
    synced(&e, only(&a)).await;

    let widened = synced(&e, both()).await;
    let (counted, out) = stored_ids(&e).await;
    assert_eq!(counted, ids_in(&e, &[&a, &b]).await, "{:?}", widened.counts);
    assert!(out.is_empty());

    let narrowed = synced(&e, only(&b)).await;
    let (counted, out) = stored_ids(&e).await;
    let in_a = ids_in(&e, &[&a]).await;
    assert_eq!(counted, ids_in(&e, &[&b]).await);
    assert_eq!(out, in_a, "A's issues kept, out of the scope");
    assert_left(&narrowed, in_a.len() as u64);
    let at = Utc::now().timestamp_millis();
    let now = reported(&e.store, at).await;
    assert_eq!(now.projects, std::slice::from_ref(&b));
    assert_eq!(now.tickets, counted.len() as u64);
    assert_same(&now, &reported_fresh(&e, only(&b), "b.redb", at).await);

    let back = synced(&e, both()).await;
    let (counted, out) = stored_ids(&e).await;
    assert_eq!(counted, ids_in(&e, &[&a, &b]).await);
    assert!(out.is_empty());
    assert_eq!(back.counts.issues_returned, in_a.len() as u64);
    let at = Utc::now().timestamp_millis();
    assert_same(
        &reported(&e.store, at).await,
        &reported_fresh(&e, both(), "ab.redb", at).await,
    );
}

/// GIVEN an integration synced with a filter, WHEN the filter is swapped for another that takes
/// in as many issues, none of them the same, THEN the next run reads the new filter's issues
/// (from the start, not from the old filter's watermark, and whatever the counts say) and flags
/// the old ones out of scope.
#[tokio::test]
async fn a_filter_swapped_for_one_as_large_reads_its_own_issues() {
    let e = env(200, Mode::Cloud, Settings::default(), 33).await;
    let keys: Vec<(String, String)> = e
        .truth(ALICE)
        .await
        .iter()
        .map(|t| {
            let key = t["key"].as_str().unwrap().to_string();
            (t["id"].as_str().unwrap().to_string(), key)
        })
        .collect();
    let filter = |part: &[(String, String)]| {
        let keys: Vec<&str> = part.iter().map(|(_, k)| k.as_str()).collect();
        Scope::Jql(format!("key in ({})", keys.join(", ")))
    };
    let ids = |part: &[(String, String)]| part.iter().map(|(id, _)| id.clone()).collect();
    let (first, second) = (&keys[..12], &keys[12..24]);
    synced(&e, filter(first)).await;
    assert_eq!(stored_ids(&e).await.0, ids(first));

    let swapped = synced(&e, filter(second)).await;
    let (counted, out) = stored_ids(&e).await;
    assert_eq!(counted, ids(second), "{:?}", swapped.counts);
    assert_eq!(out, ids(first));
}
