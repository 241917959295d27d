//! The sync engine against the simulator, through the real HTTP client and the embedded store:
//! backfill, incremental convergence in far time zones, faults and kills, exclusions, Data Center.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use jira_sim::{DatasetConfig, Mode, Settings, SimConfig};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{
    IssueStore, ProjectStore, RecordKind, RecordStore, RunOutcome, StoredIssue,
};
use sei_jira_core::sync::{Excluded, Scope, SyncOptions, run};
use serde_json::{Value, json};

#[path = "support/site.rs"]
mod site;
#[path = "support/tapped.rs"]
mod tapped;

use site::*;

fn ms(text: &str) -> i64 {
    sei_jira_core::jira::time::parse(text)
        .unwrap()
        .timestamp_millis()
}

/// What must match between Jira and the store, in a zone-independent form.
fn truth_view(t: &Value, custom: &Value) -> Value {
    let f = &t["fields"];
    let history = |h: &Value| json!({"id": h["id"], "at": ms(h["created"].as_str().unwrap()), "items": h["items"].as_array().unwrap().iter().map(|i| json!([i["field"], i["from"], i["fromString"], i["to"], i["toString"]])).collect::<Vec<_>>()});
    json!({
        "key": t["key"], "project": t["project"], "updated": ms(f["updated"].as_str().unwrap()),
        "status": f["status"]["id"], "assignee": f["assignee"]["accountId"], "summary": f["summary"], "labels": f["labels"],
        "points": f[custom["story_points"].as_str().unwrap()], "sprints": f[custom["sprint"].as_str().unwrap()].as_array().map(|s| s.iter().map(|x| x["id"].clone()).collect::<Vec<_>>()),
        "severity": f[custom["severity"].as_str().unwrap()]["value"],
        "changelog": t["changelog"].as_array().unwrap().iter().map(history).collect::<Vec<_>>(),
        "comments": t["comments"].as_array().unwrap().iter().map(|c| json!([c["id"], ms(c["created"].as_str().unwrap()), c["body"]])).collect::<Vec<_>>(),
    })
}

fn stored_view(s: &StoredIssue, custom: &Value) -> Value {
    let f = &s.fields;
    let get = |k: &str| f.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "key": s.key, "project": s.project_key, "updated": s.updated_ms,
        "status": get("status")["id"], "assignee": get("assignee")["accountId"], "summary": get("summary"), "labels": get("labels"),
        "points": get(custom["story_points"].as_str().unwrap()), "sprints": get(custom["sprint"].as_str().unwrap()).as_array().map(|s| s.iter().map(|x| x["id"].clone()).collect::<Vec<_>>()),
        "severity": get(custom["severity"].as_str().unwrap())["value"],
        "changelog": s.changelog.iter().map(|h| json!({"id": h.id, "at": ms(&h.created), "items": h.items.iter().map(|i| json!([i.field, i.from, i.from_string, i.to, i.to_string])).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        "comments": s.comments.iter().map(|c| json!([c.id, ms(&c.created), c.body])).collect::<Vec<_>>(),
    })
}

/// Asserts the store holds exactly the ground truth (deleted issues flagged, not counted).
fn assert_converged(truth: &[Value], stored: &[StoredIssue], custom: &Value) {
    let live: BTreeMap<&str, &StoredIssue> = stored
        .iter()
        .filter(|s| s.counts())
        .map(|s| (s.id.as_str(), s))
        .collect();
    let expected: BTreeMap<&str, &Value> = truth
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t))
        .collect();
    let missing: Vec<&&str> = expected.keys().filter(|k| !live.contains_key(*k)).collect();
    let extra: Vec<&&str> = live.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra (should be flagged) {extra:?}"
    );
    for (id, t) in &expected {
        let (got, want) = (stored_view(live[id], custom), truth_view(t, custom));
        let differing: Vec<String> = want
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, v)| got[k.as_str()] != **v)
            .map(|(k, v)| format!("{k}: stored {} / jira {}", got[k.as_str()], v))
            .collect();
        assert!(differing.is_empty(), "issue {id}: {}", differing.join("\n"));
    }
    let ids: HashSet<&str> = stored.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), stored.len(), "no duplicates");
}

#[tokio::test]
async fn backfill_stores_the_ground_truth() {
    let e = env(20_000, Mode::Cloud, Settings::default(), 42).await;
    let client = e.client(ALICE);
    let record = run(
        &client,
        &e.store,
        &options("acme", Scope::AllAccessible),
        None,
    )
    .await
    .unwrap();
    assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
    let truth = e.truth(ALICE).await;
    assert_eq!(record.counts.issues_new as usize, truth.len());
    assert!(
        truth
            .iter()
            .any(|t| t["changelog"].as_array().unwrap().len() > 100)
            && truth
                .iter()
                .any(|t| t["comments"].as_array().unwrap().len() > 100)
    );
    assert_converged(&truth, &e.stored("acme").await, &e.info["custom_fields"]);
    assert_eq!(e.store.list_projects("acme").await.unwrap().len(), 5);
    // A backfill reads every id: it is its own census, with no count of the scope after it;
    // the units' listings are checked against one count for all of them.
    let counts = |log: &Value| {
        log["log"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["path"]
                    .as_str()
                    .unwrap()
                    .ends_with("/search/approximate-count")
            })
            .count()
    };
    let log = e.admin(reqwest::Method::GET, "/requests", None).await;
    assert_eq!(counts(&log), 1);

    // A repeat run with no changes: a few requests per run, nothing written.
    let before = client.stats().requests();
    let again = run(
        &client,
        &e.store,
        &options("acme", Scope::AllAccessible),
        None,
    )
    .await
    .unwrap();
    let requests = client.stats().requests() - before;
    assert_eq!(
        (
            again.counts.issues_new,
            again.counts.issues_updated,
            again.counts.issues_deleted
        ),
        (0, 0, 0)
    );
    // /project/search (new projects), one window scan per project, one count for the whole
    // scope (no deletions, so no census), and each project's versions (refreshed every run);
    // fields and statuses, sprints and users come from the store while fresh.
    let log = e.admin(reqwest::Method::GET, "/requests", None).await;
    let tail: Vec<String> = log["log"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .take(requests as usize)
        .map(|e| format!("{} {} {}", e["path"], e["query"], e["body"]))
        .collect();
    assert!(
        requests == 1 + 5 + 1 + 5 && again.counts.reference_requests == 5,
        "{requests} requests: {tail:#?}"
    );
    // The backfill's count, then this run's one for the scope.
    assert_eq!(counts(&log), 1 + 1, "{tail:#?}");
}

/// GIVEN a site of five projects, WHEN a run with an observer backfills it, THEN the observer
/// learns how many units there are and, per unit, the issues Jira expects (what the CLI's bar
/// shows); an incremental run asks for no count.
#[tokio::test]
async fn an_observer_learns_each_units_expected_issues() {
    use std::sync::{Arc, Mutex};

    use sei_jira_core::sync::{Event, Observer};

    let e = env(1_500, Mode::Cloud, Settings::default(), 7).await;
    let client = e.client(ALICE);
    let mut per_project: BTreeMap<String, u64> = BTreeMap::new();
    for t in e.truth(ALICE).await {
        *per_project
            .entry(t["project"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    for backfill in [true, false] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let observer: Observer = {
            let seen = seen.clone();
            Arc::new(move |event: &Event| seen.lock().unwrap().push(event.clone()))
        };
        let before = client.stats().requests();
        let opts = options("acme", Scope::AllAccessible);
        let record = run(&client, &e.store, &opts, Some(observer)).await.unwrap();
        assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
        let seen = std::mem::take(&mut *seen.lock().unwrap());
        assert!(
            matches!(seen.first(), Some(Event::Planned { units: 5 })),
            "{seen:?}"
        );
        let expected: BTreeMap<String, u64> = seen
            .iter()
            .filter_map(|e| match e {
                Event::Expected { unit, issues } => Some((unit.clone(), *issues)),
                _ => None,
            })
            .collect();
        let stored: u64 = seen
            .iter()
            .map(|e| match e {
                Event::Stored { issues, .. } => *issues,
                _ => 0,
            })
            .sum();
        if backfill {
            assert_eq!(expected, per_project);
            assert_eq!(stored, per_project.values().sum::<u64>());
        } else {
            assert_eq!(expected, BTreeMap::new());
            assert_eq!(stored, 0, "nothing changed");
            // As without an observer: /project/search, a window scan per project, a count of
            // the scope, the versions of each project (see backfill_stores_the_ground_truth).
            assert_eq!(client.stats().requests() - before, 1 + 5 + 1 + 5);
        }
    }
}

#[tokio::test]
async fn the_units_share_one_in_flight_budget_and_keep_it_full() {
    // GIVEN twelve small projects (a bulk fetch each, comments excluded so a batch is one
    // request), answering in 40 ms, and a client allowed four requests in flight
    let dataset = DatasetConfig {
        issues: 900,
        projects: 12,
        seed: 7,
        ..DatasetConfig::default()
    };
    let settings = Settings {
        latency_ms: 40,
        ..Settings::default()
    };
    let e = env_of(dataset, settings).await;
    let client = e.client_with(ALICE, |c| c.max_in_flight = 4);
    let mut opts = options("acme", Scope::AllAccessible);
    opts.excluded = Excluded::parse("comments").unwrap();
    // WHEN the scope is synced
    let record = run(&client, &e.store, &opts, None).await.unwrap();
    // THEN the projects' requests were answered side by side, up to the limit and never past it
    assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
    let log = e.admin(reqwest::Method::GET, "/requests", None).await;
    assert_eq!(log["peak_in_flight"], 4, "{}", log["counts"]);
    // AND the changelogs Jira truncated, in many projects, came in one pool: no request per unit
    let truth = e.truth(ALICE).await;
    let truncated: Vec<&Value> = truth
        .iter()
        .filter(|t| t["changelog"].as_array().unwrap().len() > 40)
        .collect();
    let projects: HashSet<&str> = truncated
        .iter()
        .map(|t| t["project"].as_str().unwrap())
        .collect();
    let histories: usize = truncated
        .iter()
        .map(|t| t["changelog"].as_array().unwrap().len())
        .sum();
    assert!(projects.len() >= 3, "{projects:?}");
    let bulk_changelogs = log["counts"]["POST /rest/api/3/changelog/bulkfetch"]
        .as_u64()
        .unwrap();
    assert!(
        bulk_changelogs as usize <= histories.div_ceil(10_000) + 1,
        "{bulk_changelogs} requests for {histories} histories"
    );
    // AND every issue is stored
    let stored = e.stored("acme").await;
    assert_eq!(stored.len(), truth.len());
}

#[tokio::test]
async fn incremental_runs_converge_in_far_time_zones() {
    for user in ["alice@example.com", "bob@example.com"] {
        let e = env(600, Mode::Cloud, Settings::default(), 7).await;
        let client = e.client(user);
        let opts = options(
            "acme",
            Scope::Projects(vec!["PLAT".into(), "SRE".into(), "WEB".into()]),
        );
        run(&client, &e.store, &opts, None).await.unwrap();

        use reqwest::Method;
        let truth = e.truth(user).await;
        let in_scope: Vec<&Value> = truth
            .iter()
            .filter(|t| ["PLAT", "SRE", "WEB"].contains(&t["project"].as_str().unwrap()))
            .collect();
        for n in 0..3 {
            e.admin(
                Method::POST,
                "/issues",
                Some(json!({"project": "SRE", "summary": format!("new {n}")})),
            )
            .await;
        }
        for t in in_scope.iter().take(5) {
            e.admin(
                Method::POST,
                &format!("/issues/{}/edit", t["key"].as_str().unwrap()),
                Some(json!({"status": "Done", "summary": "edited", "comment": "looked at it"})),
            )
            .await;
        }
        // Moves: within scope (key changes), and out of scope (MOB is not synced).
        let movable: Vec<&&Value> = in_scope
            .iter()
            .skip(10)
            .filter(|t| t["project"] != "WEB" && t["fields"]["issuetype"]["name"] != "Sub-task")
            .take(2)
            .collect();
        e.admin(
            Method::POST,
            &format!("/issues/{}/move", movable[0]["key"].as_str().unwrap()),
            Some(json!({"project": "WEB"})),
        )
        .await;
        e.admin(
            Method::POST,
            &format!("/issues/{}/move", movable[1]["key"].as_str().unwrap()),
            Some(json!({"project": "MOB"})),
        )
        .await;
        for t in in_scope.iter().skip(20).take(2) {
            e.admin(
                Method::DELETE,
                &format!("/issues/{}", t["key"].as_str().unwrap()),
                None,
            )
            .await;
        }
        let record = run(&client, &e.store, &opts, None).await.unwrap();
        assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
        assert!(record.counts.issues_deleted >= 2, "{record:?}");
        let truth: Vec<Value> = e
            .truth(user)
            .await
            .into_iter()
            .filter(|t| ["PLAT", "SRE", "WEB"].contains(&t["project"].as_str().unwrap()))
            .collect();
        assert_converged(&truth, &e.stored("acme").await, &e.info["custom_fields"]);
    }
}

#[tokio::test]
async fn faults_and_kills_at_random_points_lose_nothing() {
    for seed in 1..=10u64 {
        let settings = Settings {
            fault_rate: 0.1,
            drop_share: 0.25,
            latency_ms: 1,
            jitter_ms: 4,
            ..Settings::default()
        };
        let e = env(400, Mode::Cloud, settings, seed).await;
        let client = e.client(ALICE);
        let mut opts = options("acme", Scope::AllAccessible);
        opts.run_id = format!("run-{seed}"); // a continuation resumes the same run (and its lease)
        let mut rng_state = seed * 7919;
        let mut kills = 0;
        let record = loop {
            rng_state = rng_state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let budget = Duration::from_millis(20 + (rng_state >> 33) % 200);
            // Bursts of throttling now and then.
            if rng_state % 3 == 0 {
                e.admin(
                    reqwest::Method::PUT,
                    "/control",
                    Some(json!({"force_429": 3})),
                )
                .await;
            }
            match tokio::time::timeout(budget, run(&client, &e.store, &opts, None)).await {
                Ok(result) => break result.unwrap(),
                Err(_) => kills += 1,
            }
            assert!(kills < 200, "never finished");
        };
        assert_eq!(record.outcome, RunOutcome::Succeeded);
        e.admin(
            reqwest::Method::PUT,
            "/control",
            Some(json!({"fault_rate": 0.0, "force_429": 0})),
        )
        .await;
        assert_converged(
            &e.truth(ALICE).await,
            &e.stored("acme").await,
            &e.info["custom_fields"],
        );
        assert!(
            kills > 0 || seed > 5,
            "seed {seed}: the run was never interrupted"
        );
    }
}

#[tokio::test]
async fn excluded_fields_are_never_requested_nor_stored() {
    let e = env(500, Mode::Cloud, Settings::default(), 3).await;
    let mut opts = options("acme", Scope::AllAccessible);
    opts.excluded = Excluded {
        summary: true,
        description: true,
        comments: true,
    };
    run(&e.client(ALICE), &e.store, &opts, None).await.unwrap();
    drop(e.store);
    let bytes = std::fs::read(&e.path).unwrap();
    let truth = {
        let r: Value = e
            .http
            .get(format!("{}/_sim/truth", e.sim.base_url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["issues"].as_array().unwrap().clone()
    };
    let mut secrets: Vec<String> = Vec::new();
    for t in &truth {
        secrets.push(t["fields"]["summary"].as_str().unwrap().to_string());
        if let Some(d) = t["fields"]["description"].as_object() {
            secrets.push(
                sei_jira_core::jira::adf::plain_text(&Value::Object(d.clone()))
                    .lines()
                    .last()
                    .unwrap()
                    .to_string(),
            );
        }
        for c in t["comments"].as_array().unwrap() {
            secrets.push(
                sei_jira_core::jira::adf::plain_text(&c["body"])
                    .lines()
                    .next()
                    .unwrap()
                    .to_string(),
            );
        }
        for h in t["changelog"].as_array().unwrap() {
            for i in h["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["field"] == "summary" || i["field"] == "description")
            {
                secrets.extend(i["toString"].as_str().map(String::from));
            }
        }
    }
    // Summaries repeat words, but each whole text is distinctive enough to search for.
    let secrets: HashSet<String> = secrets.into_iter().filter(|s| s.len() >= 24).collect();
    assert!(secrets.len() > 300);
    let haystack = String::from_utf8_lossy(&bytes);
    for s in &secrets {
        assert!(
            !haystack.contains(s.as_str()),
            "found excluded text in the store: {s}"
        );
    }
    let log: Value = e
        .http
        .get(format!("{}/_sim/requests", e.sim.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for entry in log["log"].as_array().unwrap() {
        let text = format!("{} {} {}", entry["path"], entry["query"], entry["body"]);
        for word in ["summary", "description", "comment", "*all", "*navigable"] {
            assert!(!text.contains(word), "requested {word}: {text}");
        }
    }
}

#[tokio::test]
async fn data_center_syncs_the_same_way() {
    let e = env(600, Mode::DataCenter, Settings::default(), 11).await;
    let record = run(
        &e.client(ALICE),
        &e.store,
        &options("dc", Scope::AllAccessible),
        None,
    )
    .await
    .unwrap();
    assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
    // Reference data refreshed through Data Center's own endpoints (whole version lists, users
    // by key, the Agile API's sprints), without a warning: the versions with every run, the
    // sprints and users when due (the backfill has just read them).
    let mut recheck = options("dc", Scope::AllAccessible);
    recheck.census_every_ms = 0;
    let refreshed = run(&e.client(ALICE), &e.store, &recheck, None)
        .await
        .unwrap();
    for r in [&record, &refreshed] {
        assert!(r.errors.is_empty(), "{:?}", r.errors);
    }
    assert_eq!(record.counts.reference_requests, 5, "{:?}", record.counts);
    assert!(
        refreshed.counts.reference_requests > 5,
        "{:?}",
        refreshed.counts
    );
    let users = e.store.list_records("dc", RecordKind::User).await.unwrap();
    assert!(
        users.iter().all(|u| u.data["active"].is_boolean()),
        "{users:?}"
    );
    let truth = e.truth(ALICE).await;
    let stored = e.stored("dc").await;
    assert_eq!(stored.len(), truth.len());
    // Data Center identifies users by key; compare the rest.
    for t in &truth {
        let s = stored
            .iter()
            .find(|s| s.id == t["id"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            s.changelog.len(),
            t["changelog"].as_array().unwrap().len(),
            "{}",
            s.key
        );
        assert_eq!(s.comments.len(), t["comments"].as_array().unwrap().len());
        assert_eq!(s.updated_ms, ms(t["fields"]["updated"].as_str().unwrap()));
    }
}

#[tokio::test]
async fn a_jql_filter_scopes_the_sync_and_onboards_its_projects() {
    let e = env(800, Mode::Cloud, Settings::default(), 5).await;
    let jql = "project in (PLAT, SRE) AND issuetype in (Bug, Story) ORDER BY created DESC";
    run(
        &e.client(ALICE),
        &e.store,
        &options("acme", Scope::Jql(jql.into())),
        None,
    )
    .await
    .unwrap();
    let truth: Vec<Value> = e
        .truth(ALICE)
        .await
        .into_iter()
        .filter(|t| {
            ["PLAT", "SRE"].contains(&t["project"].as_str().unwrap())
                && ["Bug", "Story"].contains(&t["fields"]["issuetype"]["name"].as_str().unwrap())
        })
        .collect();
    assert_converged(&truth, &e.stored("acme").await, &e.info["custom_fields"]);
    let projects: Vec<String> = e
        .store
        .list_projects("acme")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.key)
        .collect();
    assert_eq!(projects, vec!["PLAT", "SRE"]);
}

/// GIVEN two stored issues edited in Jira, WHEN one is removed and the other hidden by hand
/// at the last moment of the next run's write of them (after it decided what to write, just
/// before the write reaches the store), THEN the run keeps both flags: the removed issue stays
/// a tombstone, the hidden one takes Jira's edit and stays hidden.
#[tokio::test]
async fn flags_set_by_hand_during_a_run_are_not_overwritten() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use sei_jira_core::store::IssueFlag;
    use tapped::{Tap, Tapped};

    /// Removes one issue and hides the other by hand just before the write that carries the
    /// hidden one reaches the store.
    struct FlagBeforeWrite {
        store: Arc<EmbeddedStore>,
        removed_id: String,
        hidden_id: String,
        flagged: AtomicBool,
    }

    #[async_trait::async_trait]
    impl Tap for FlagBeforeWrite {
        async fn before_issue_write(&self, issues: &[StoredIssue]) {
            let carries_hidden = issues.iter().any(|i| i.id == self.hidden_id);
            if !carries_hidden || self.flagged.swap(true, Ordering::SeqCst) {
                return;
            }
            let removed = self
                .store
                .flag_issue("acme", &self.removed_id, IssueFlag::Removed);
            assert!(removed.await.unwrap());
            let hidden = self
                .store
                .flag_issue("acme", &self.hidden_id, IssueFlag::Hidden);
            assert!(hidden.await.unwrap());
        }
    }

    let e = env(300, Mode::Cloud, Settings::default(), 11).await;
    let inner = Arc::new(EmbeddedStore::open(&e.path.with_file_name("flags.redb")).unwrap());
    let client = e.client(ALICE);
    let opts = options("acme", Scope::Projects(vec!["PLAT".into()]));
    run(&client, inner.as_ref(), &opts, None).await.unwrap();

    let truth = e.truth(ALICE).await;
    let plat: Vec<&Value> = truth.iter().filter(|t| t["project"] == "PLAT").collect();
    let (removed, hidden) = (plat[0], plat[1]);
    for t in [removed, hidden] {
        e.admin(
            reqwest::Method::POST,
            &format!("/issues/{}/edit", t["key"].as_str().unwrap()),
            Some(json!({"summary": "edited after the backfill"})),
        )
        .await;
    }
    let removed_id = removed["id"].as_str().unwrap().to_string();
    let hidden_id = hidden["id"].as_str().unwrap().to_string();

    let tap = FlagBeforeWrite {
        store: inner.clone(),
        removed_id: removed_id.clone(),
        hidden_id: hidden_id.clone(),
        flagged: AtomicBool::new(false),
    };
    let store = Tapped::new(inner.clone(), tap);
    let record = run(&client, &store, &opts, None).await.unwrap();
    assert!(
        store.tap.flagged.load(Ordering::SeqCst),
        "the flags were set during the run's write"
    );
    assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");

    let removed_now = inner.get_issue("acme", &removed_id).await.unwrap().unwrap();
    assert!(removed_now.removed, "still removed");
    assert!(
        removed_now.fields.is_empty() && removed_now.changelog.is_empty(),
        "a removed issue keeps no content: {removed_now:?}"
    );
    let hidden_now = inner.get_issue("acme", &hidden_id).await.unwrap().unwrap();
    assert!(hidden_now.hidden, "still hidden");
    assert_eq!(
        hidden_now.fields["summary"], "edited after the backfill",
        "the hidden issue took Jira's edit"
    );
    assert_eq!(
        record.counts.issues_updated, 1,
        "only the hidden issue was rewritten: {record:?}"
    );
}

/// GIVEN an integration, WHEN it is deleted at the moment its sync writes its first issues,
/// THEN the run stops at that batch, answers `IntegrationDeleted`, and nothing stored under the
/// integration is left behind: no issue, record, project, cursor, lease, run or counter.
#[tokio::test]
async fn an_integration_deleted_during_its_sync_leaves_nothing_behind() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use sei_jira_core::store::*;
    use sei_jira_core::sync::SyncError;
    use tapped::{Tap, Tapped};

    /// Deletes the integration just before the run's first issue write reaches the store.
    struct DeleteBeforeWrite {
        store: Arc<EmbeddedStore>,
        deleted: AtomicBool,
    }

    #[async_trait::async_trait]
    impl Tap for DeleteBeforeWrite {
        async fn before_issue_write(&self, _issues: &[StoredIssue]) {
            if !self.deleted.swap(true, Ordering::SeqCst) {
                assert!(self.store.delete_integration("acct", "acme").await.unwrap());
            }
        }
    }

    let e = env(300, Mode::Cloud, Settings::default(), 13).await;
    let inner = Arc::new(EmbeddedStore::open(&e.path.with_file_name("deleted.redb")).unwrap());
    let record: IntegrationRecord = serde_json::from_value(json!({
        "account": "acct", "id": "acme", "name": "n", "description": "", "tags": [],
        "deployment": "cloud", "url": "https://example.atlassian.net", "email": null, "secret_name": "s",
        "scope": {"kind": "projects", "keys": ["PLAT"]}, "excluded_fields": [],
        "custom_fields": [], "schedule_rate": "rate(1 hour)", "created_ms": 1, "updated_ms": 1
    }))
    .unwrap();
    inner.put_integration(&record).await.unwrap();

    let tap = DeleteBeforeWrite {
        store: inner.clone(),
        deleted: AtomicBool::new(false),
    };
    let store = Tapped::new(inner.clone(), tap);
    let client = e.client(ALICE);
    let opts = options("acme", Scope::Projects(vec!["PLAT".into()]));
    let outcome = run(&client, &store, &opts, None).await;

    assert!(
        store.tap.deleted.load(Ordering::SeqCst),
        "deleted during the run"
    );
    assert!(
        matches!(outcome, Err(SyncError::IntegrationDeleted)),
        "{outcome:?}"
    );
    assert!(
        whole_issue_index(&*inner, "acme").await.unwrap().is_empty(),
        "no issue"
    );
    assert!(
        inner.list_runs("acme", 0).await.unwrap().is_empty(),
        "no run"
    );
    assert!(
        inner.list_projects("acme").await.unwrap().is_empty(),
        "no project"
    );
    assert!(
        inner.get_cursor("acme", "PLAT").await.unwrap().is_none(),
        "no cursor"
    );
    assert!(
        inner
            .acquire_lease("acme", "PLAT", "next", 0, 1)
            .await
            .unwrap(),
        "no lease"
    );
    inner.release_lease("acme", "PLAT", "next").await.unwrap();
    for kind in RecordKind::ALL {
        assert!(
            inner.list_records("acme", kind).await.unwrap().is_empty(),
            "no {kind:?}"
        );
    }
    let (from, to) = (chrono::NaiveDate::MIN, chrono::NaiveDate::MAX);
    assert!(
        inner.list_daily("acme", from, to).await.unwrap().is_empty(),
        "no counter"
    );
}

/// The owner of the leases another run holds.
const ELSEWHERE: &str = "run-elsewhere";

/// Takes the lease on `unit` of integration `acme` for another run, for ten minutes.
async fn hold_elsewhere(store: &EmbeddedStore, unit: &str) {
    use sei_jira_core::store::SyncStateStore;

    let now = chrono::Utc::now().timestamp_millis();
    let taken = store.acquire_lease("acme", unit, ELSEWHERE, now, 600_000);
    assert!(taken.await.unwrap(), "the lease on {unit} was free");
}

#[tokio::test]
async fn a_run_that_finds_every_unit_held_is_skipped_not_succeeded() {
    use sei_jira_core::store::{RunLog, SyncStateStore};

    let e = env(40, Mode::Cloud, Settings::default(), 5).await;
    let client = e.client(ALICE);
    let opts = options("acme", Scope::Projects(vec!["PLAT".into()]));
    hold_elsewhere(&e.store, "PLAT").await;

    let record = run(&client, &e.store, &opts, None).await.unwrap();

    assert_eq!(record.outcome, RunOutcome::Skipped, "{record:?}");
    assert!(e.stored("acme").await.is_empty(), "nothing written");
    let today = chrono::Utc::now().date_naive();
    let daily = e.store.list_daily("acme", today, today).await.unwrap();
    assert!(
        daily.iter().all(|(_, c)| c.runs == 0),
        "not counted as a run: {daily:?}"
    );

    // Once the lease is free, the next run does the work.
    e.store
        .release_lease("acme", "PLAT", ELSEWHERE)
        .await
        .unwrap();
    let record = run(&client, &e.store, &opts, None).await.unwrap();
    assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
    assert!(!e.stored("acme").await.is_empty());
}

/// GIVEN a run under way (it holds the run's lease), WHEN another run of the integration starts,
/// THEN it is skipped before any work: no request to Jira, nothing read or written but its
/// record.
#[tokio::test]
async fn a_run_while_another_is_under_way_is_skipped_before_any_work() {
    use sei_jira_core::store::SyncStateStore;

    let e = env(40, Mode::Cloud, Settings::default(), 5).await;
    let client = e.client(ALICE);
    let opts = options("acme", Scope::Projects(vec!["PLAT".into()]));
    hold_elsewhere(&e.store, "~run").await;
    let record = run(&client, &e.store, &opts, None).await.unwrap();
    assert_eq!(record.outcome, RunOutcome::Skipped, "{record:?}");
    assert_eq!(client.stats().requests(), 0, "Jira was asked");
    assert!(e.stored("acme").await.is_empty(), "nothing written");

    e.store
        .release_lease("acme", "~run", ELSEWHERE)
        .await
        .unwrap();
    let record = run(&client, &e.store, &opts, None).await.unwrap();
    assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
}

// Two workers: the observer below blocks one while the simulator answers on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_for_jira_past_the_deadline_ends_the_run_as_partial_with_its_leases_given_back() {
    use sei_jira_core::store::SyncStateStore;

    use std::io::Write;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use sei_jira_core::sync::{Event, Observer};

    let e = env(60, Mode::Cloud, Settings::default(), 9).await;
    let opts = options("acme", Scope::Projects(vec!["PLAT".into()]));
    // Once the unit has started (its lease taken), Jira throttles everything (Retry-After:
    // 1 s), and the run has half a second left.
    let throttled = Arc::new(AtomicBool::new(false));
    let observer: Observer = {
        let addr = e.sim.base_url.trim_start_matches("http://").to_string();
        let throttled = throttled.clone();
        Arc::new(move |event: &Event| {
            if matches!(event, Event::UnitStarted { .. }) && !throttled.swap(true, Ordering::SeqCst)
            {
                // The observer cannot wait on the runtime: a plain blocking request.
                let body = r#"{"force_429": 1000}"#;
                let mut conn = std::net::TcpStream::connect(addr.as_str()).unwrap();
                write!(
                    conn,
                    "PUT /_sim/control HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
                let mut answer = String::new();
                std::io::Read::read_to_string(&mut conn, &mut answer).unwrap();
                assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            }
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_millis(500);
    let client = e.client_with(ALICE, |c| c.deadline = Some(deadline));
    let started = std::time::Instant::now();
    let record = run(&client, &e.store, &opts, Some(observer)).await.unwrap();
    assert!(throttled.load(Ordering::SeqCst), "the unit started");
    assert_eq!(record.outcome, RunOutcome::Partial, "{record:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped without waiting: {:?}",
        started.elapsed()
    );
    let now = chrono::Utc::now().timestamp_millis();
    assert!(
        e.store
            .acquire_lease("acme", "PLAT", "another-run", now, 60_000)
            .await
            .unwrap(),
        "the unit's lease was given back"
    );
    e.store
        .release_lease("acme", "PLAT", "another-run")
        .await
        .unwrap();

    // Once Jira lets requests through, the next run finishes the work.
    e.admin(
        reqwest::Method::PUT,
        "/control",
        Some(json!({"force_429": 0})),
    )
    .await;
    let record = run(&e.client(ALICE), &e.store, &opts, None).await.unwrap();
    assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
    let truth = e.truth(ALICE).await;
    let plat = truth.iter().filter(|t| t["project"] == "PLAT").count();
    assert_eq!(e.stored("acme").await.len(), plat);
}

/// GIVEN a census that stopped halfway (its place kept in the unit's cursor) and two issues
/// deleted in Jira, one on each side of that place, WHEN the next run comes, THEN its census goes
/// on from the place kept (finding the deletion above it), and the census after that starts from
/// the first id again (finding the other).
#[tokio::test]
async fn a_census_goes_on_from_the_place_it_kept() {
    use sei_jira_core::store::SyncStateStore;

    let e = env(1_500, Mode::Cloud, Settings::default(), 21).await;
    let client = e.client(ALICE);
    let mut opts = options("acme", Scope::Projects(vec!["PLAT".into()]));
    run(&client, &e.store, &opts, None).await.unwrap();
    let mut ids: Vec<(u64, String)> = e
        .stored("acme")
        .await
        .iter()
        .map(|i| (i.id.parse().unwrap(), i.key.clone()))
        .collect();
    ids.sort();
    assert!(ids.len() > 20, "{}", ids.len());
    let (low, high) = (ids[1].clone(), ids[ids.len() - 2].clone());
    for (_, key) in [&low, &high] {
        e.admin(reqwest::Method::DELETE, &format!("/issues/{key}"), None)
            .await;
    }
    let mut cursor = e.store.get_cursor("acme", "PLAT").await.unwrap().unwrap();
    cursor.census_after = Some(ids[ids.len() / 2].0);
    e.store.put_cursor("acme", "PLAT", &cursor).await.unwrap();
    let record = run(&client, &e.store, &opts, None).await.unwrap();
    // At least one: deleting an issue in Jira deletes its sub-tasks too.
    assert!(record.counts.issues_deleted >= 1, "{record:?}");
    assert!(is_deleted(&e, high.0).await && !is_deleted(&e, low.0).await);
    let after = e.store.get_cursor("acme", "PLAT").await.unwrap().unwrap();
    assert_eq!(after.census_after, None, "the census finished");
    assert!(after.last_census_ms > cursor.last_census_ms);

    opts.census_every_ms = 0;
    let record = run(&client, &e.store, &opts, None).await.unwrap();
    // At least one: deleting an issue in Jira deletes its sub-tasks too.
    assert!(record.counts.issues_deleted >= 1, "{record:?}");
    assert!(is_deleted(&e, low.0).await);
}

/// GIVEN an issue removed by hand (kept as a tombstone) and then deleted in Jira, WHEN the next
/// run finds the scope's count differ, THEN its census flags the tombstone deleted, and the run
/// after that asks Jira no more than a run with no changes. (The census passed tombstones by
/// while the count counted them: the counts differed for ever, and every run read every id of
/// every unit again.)
#[tokio::test]
async fn a_tombstone_deleted_in_jira_is_flagged_once_not_censused_every_run() {
    use sei_jira_core::store::IssueFlag;

    let e = env(300, Mode::Cloud, Settings::default(), 23).await;
    let client = e.client(ALICE);
    let opts = options("acme", Scope::Projects(vec!["PLAT".into()]));
    run(&client, &e.store, &opts, None).await.unwrap();
    let asked = |before: u64| client.stats().requests() - before;
    let before = client.stats().requests();
    run(&client, &e.store, &opts, None).await.unwrap();
    let quiet = asked(before);

    let tombstone = e.stored("acme").await.swap_remove(0);
    assert!(
        e.store
            .flag_issue("acme", &tombstone.id, IssueFlag::Removed)
            .await
            .unwrap()
    );
    e.admin(
        reqwest::Method::DELETE,
        &format!("/issues/{}", tombstone.key),
        None,
    )
    .await;
    run(&client, &e.store, &opts, None).await.unwrap();
    assert!(is_deleted(&e, tombstone.id.parse().unwrap()).await);

    let before = client.stats().requests();
    let record = run(&client, &e.store, &opts, None).await.unwrap();
    assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
    assert_eq!(asked(before), quiet, "the counts agree: no census");
}

/// GIVEN a tombstone whose issue moved to a project outside the scope in Jira (so a census flags
/// it out of scope, not deleted: Jira still has it), WHEN the issue moves back into the scope,
/// THEN the next census takes the flag off (the tombstone stays a tombstone), and the run after
/// that needs no census. (A sync never writes over a tombstone: a flag left on made the scope's
/// count differ for ever, and every run read every id again.)
#[tokio::test]
async fn a_tombstone_back_in_scope_loses_its_flag() {
    use sei_jira_core::store::IssueFlag;

    let e = env(300, Mode::Cloud, Settings::default(), 24).await;
    let client = e.client(ALICE);
    let opts = options("acme", Scope::Projects(vec!["PLAT".into()]));
    run(&client, &e.store, &opts, None).await.unwrap();

    let tombstone = e
        .stored("acme")
        .await
        .into_iter()
        .find(|i| i.fields["issuetype"]["name"] != "Sub-task")
        .unwrap();
    let id: u64 = tombstone.id.parse().unwrap();
    e.store
        .flag_issue("acme", &tombstone.id, IssueFlag::Removed)
        .await
        .unwrap();
    let moved = |key: String, project: &'static str| {
        let e = &e;
        async move {
            let to = json!({ "project": project });
            let answer = e
                .admin(
                    reqwest::Method::POST,
                    &format!("/issues/{key}/move"),
                    Some(to),
                )
                .await;
            answer["key"].as_str().unwrap().to_string()
        }
    };
    let away = moved(tombstone.key.clone(), "MOB").await;
    run(&client, &e.store, &opts, None).await.unwrap();
    let away_flags = e.store.get_issue("acme", &tombstone.id).await.unwrap();
    let away_flags = away_flags.unwrap();
    assert!(
        away_flags.out_of_scope && away_flags.deleted_at_ms.is_none() && away_flags.removed,
        "moved out of the scope: flagged out of scope, not deleted {away_flags:?}"
    );
    assert!(!is_deleted(&e, id).await);

    moved(away, "PLAT").await;
    run(&client, &e.store, &opts, None).await.unwrap();
    let kept = e
        .store
        .get_issue("acme", &tombstone.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        kept.deleted_at_ms.is_none() && !kept.out_of_scope && kept.removed,
        "{kept:?}"
    );

    e.admin(reqwest::Method::DELETE, "/requests", None).await;
    let record = run(&client, &e.store, &opts, None).await.unwrap();
    assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
    // One id scan (the window's, which finds the moved tombstone newer than the store: a sync
    // reads it, and leaves it be); a census would be a second.
    let log = e.admin(reqwest::Method::GET, "/requests", None).await;
    assert_eq!(
        log["counts"]["POST /rest/api/3/search/jql"], 1,
        "the counts agree: no census {log}"
    );
}

/// GIVEN a count that differs whatever a census does (an issue edited within Jira's search lag
/// is missing from searches and counts, not from the store) and units whose census takes several
/// pages, WHEN a chain of continuations runs with no time left (a page of census a run), THEN
/// each unit is censused once in the chain: no census page is asked for twice, and the chain
/// ends.
#[tokio::test]
async fn a_chain_censuses_each_unit_once_however_the_count_differs() {
    let e = env(300, Mode::Cloud, Settings::default(), 25).await;
    let client = e.client(ALICE);
    let mut opts = options("acme", Scope::Projects(vec!["PLAT".into(), "WEB".into()]));
    run(&client, &e.store, &opts, None).await.unwrap();
    let edited = e.stored("acme").await.swap_remove(0).key;
    let lag = json!({"consistency_lag_ms": 3_600_000, "search_page_cap": 20});
    e.admin(reqwest::Method::PUT, "/control", Some(lag)).await;
    let edit = json!({"summary": "edited"});
    e.admin(
        reqwest::Method::POST,
        &format!("/issues/{edited}/edit"),
        Some(edit),
    )
    .await;
    e.admin(reqwest::Method::DELETE, "/requests", None).await;

    opts.current_since_ms = Some(chrono::Utc::now().timestamp_millis());
    let mut runs = 0;
    loop {
        opts.deadline = Some(std::time::Instant::now());
        let record = run(&client, &e.store, &opts, None).await.unwrap();
        runs += 1;
        if record.outcome != RunOutcome::Partial {
            assert_eq!(record.outcome, RunOutcome::Succeeded, "{record:?}");
            break;
        }
        assert!(runs < 40, "the chain has not ended after {runs} runs");
    }
    // Census pages ask for ids alone; the windows ask for `updated` too.
    let log = e.admin(reqwest::Method::GET, "/requests", None).await;
    let census_pages: Vec<&str> = log["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"] == "/rest/api/3/search/jql")
        .map(|r| r["body"].as_str().unwrap())
        .filter(|body| body.contains(r#""fields":["id"]"#))
        .collect();
    assert!(
        census_pages.len() >= 4,
        "several pages a unit: {census_pages:?}"
    );
    let distinct: HashSet<&str> = census_pages.iter().copied().collect();
    assert_eq!(distinct.len(), census_pages.len(), "{census_pages:#?}");
}

async fn is_deleted(e: &Env, id: u64) -> bool {
    let stored = e.store.get_issue("acme", &id.to_string()).await.unwrap();
    stored.unwrap().deleted_at_ms.is_some()
}

/// Real sites have both the company-managed "Story Points" and the team-managed "Story point
/// estimate", with values in either: every issue with a value has its story points, whichever
/// field holds them.
#[tokio::test]
async fn story_points_are_found_in_whichever_field_holds_them() {
    for classic in [false, true] {
        let sim = jira_sim::start(SimConfig {
            dataset: DatasetConfig {
                issues: 600,
                projects: 3,
                classic_story_points: classic,
                ..DatasetConfig::default()
            },
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let info = jira_sim::describe(&sim);
        let dir = tempfile::tempdir().unwrap();
        let e = Env {
            sim,
            info,
            http: reqwest::Client::new(),
            path: dir.path().join("store.redb"),
            store: EmbeddedStore::open(&dir.path().join("store.redb")).unwrap(),
            _dir: dir,
        };
        let record = run(
            &e.client(ALICE),
            &e.store,
            &SyncOptions::new("acme", Scope::AllAccessible),
            None,
        )
        .await
        .unwrap();
        assert_eq!(record.outcome, RunOutcome::Succeeded);
        let holder = e.info["custom_fields"]["story_points_in"].as_str().unwrap();
        let truth: BTreeMap<String, Option<f64>> = e
            .truth(ALICE)
            .await
            .iter()
            .map(|t| {
                let id = t["id"].as_str().unwrap().to_string();
                (id, t["fields"][holder].as_f64())
            })
            .collect();
        let catalog = sei_jira_core::hygiene::catalog_of(&e.store, "acme", &[])
            .await
            .unwrap();
        let stored: BTreeMap<String, Option<f64>> = e
            .stored("acme")
            .await
            .iter()
            .filter(|s| s.counts())
            .map(|s| (s.id.clone(), catalog.story_points(s)))
            .collect();
        assert!(
            truth.values().filter(|p| p.is_some()).count() > 50,
            "values in the {} field",
            if classic { "classic" } else { "estimate" }
        );
        assert_eq!(stored.len(), truth.len());
        let wrong: Vec<(&String, &Option<f64>, Option<f64>)> = truth
            .iter()
            .filter(|(id, want)| stored.get(*id).copied().flatten() != **want)
            .map(|(id, want)| (id, want, stored.get(id).copied().flatten()))
            .collect();
        assert!(
            wrong.is_empty(),
            "classic {classic}: {} issues differ, e.g. {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        );
    }
}

/// GIVEN a synced site, WHEN a version is released, a sprint completed and a user deactivated
/// through the simulator's controls, no issue edited, THEN the next sync brings each into the
/// store: the version records, and every stored issue's sprints and people, equal what the site
/// renders now (its truth), and the issues that embed them were written again (so the indexers
/// re-evaluate them).
#[tokio::test]
async fn reference_data_changed_at_its_source_reaches_the_store() {
    let e = env(400, Mode::Cloud, Settings::default(), 17).await;
    let client = e.client(ALICE);
    let mut opts = options("acme", Scope::AllAccessible);
    let first = run(&client, &e.store, &opts, None).await.unwrap();
    assert_eq!(first.outcome, RunOutcome::Succeeded, "{first:?}");
    let sprint_field = e.info["custom_fields"]["sprint"]
        .as_str()
        .unwrap()
        .to_string();
    let alice = e.info["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == ALICE)
        .unwrap()["account_id"]
        .clone();
    let truth = e.truth(ALICE).await;
    let revs: HashMap<String, u64> = e
        .stored("acme")
        .await
        .into_iter()
        .map(|i| (i.id, i.rev))
        .collect();

    // Something of each kind to change, as the site has it now.
    let unreleased = truth
        .iter()
        .flat_map(|t| {
            t["fields"]["fixVersions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|v| v["released"] == false)
        .expect("an unreleased version in use");
    let active = truth
        .iter()
        .flat_map(|t| {
            t["fields"][&sprint_field]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|s| s["state"] == "active")
        .expect("an active sprint in use");
    let assignee = truth
        .iter()
        .map(|t| &t["fields"]["assignee"])
        .find(|a| a["active"] == true && a["accountId"] != alice)
        .expect("an active assignee")
        .clone();
    let controls = [
        format!("/versions/{}/release", unreleased["id"].as_str().unwrap()),
        format!("/sprints/{}/close", active["id"]),
        format!(
            "/users/{}/deactivate",
            assignee["accountId"].as_str().unwrap()
        ),
    ];
    for control in &controls {
        e.admin(reqwest::Method::POST, control, None).await;
    }

    // WHEN the next sync runs (its daily refresh due)
    opts.census_every_ms = 0;
    let next = run(&client, &e.store, &opts, None).await.unwrap();
    assert_eq!(next.outcome, RunOutcome::Succeeded, "{next:?}");
    assert_eq!(
        (next.counts.issues_new, next.counts.issues_updated),
        (0, 0),
        "no issue was edited"
    );
    assert!(next.counts.reference_requests >= 5, "{:?}", next.counts);

    // THEN versions, sprints and people are as the site has them now.
    let truth = e.truth(ALICE).await;
    let versions: HashMap<String, Value> = e
        .store
        .list_records("acme", RecordKind::Version)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.data))
        .collect();
    let released = &versions[unreleased["id"].as_str().unwrap()];
    assert_eq!(
        (&released["released"], released["releaseDate"].is_string()),
        (&json!(true), true)
    );
    let stored: HashMap<String, StoredIssue> = e
        .stored("acme")
        .await
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let sprint_states = |sprints: &Value| -> Vec<(Value, Value)> {
        sprints
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| (s["id"].clone(), s["state"].clone()))
            .collect()
    };
    let (mut closed_in, mut inactive_in) = (0, 0);
    for t in &truth {
        let i = &stored[t["id"].as_str().unwrap()];
        let sprints = &t["fields"][&sprint_field];
        assert_eq!(
            sprint_states(&i.fields[&sprint_field]),
            sprint_states(sprints),
            "{}",
            i.key
        );
        for role in ["assignee", "reporter", "creator"] {
            assert_eq!(
                i.fields[role]["active"], t["fields"][role]["active"],
                "{} {role}",
                i.key
            );
        }
        closed_in +=
            usize::from(sprint_states(sprints).contains(&(active["id"].clone(), json!("closed"))));
        inactive_in += usize::from(t["fields"]["assignee"]["accountId"] == assignee["accountId"]);
    }
    assert!(
        closed_in > 0 && inactive_in > 0,
        "{closed_in} {inactive_in}"
    );
    // Each such issue was written again (a new revision, and with it a change mark for the
    // indexers); no other.
    for t in &truth {
        let id = t["id"].as_str().unwrap();
        let embeds = sprint_states(&t["fields"][&sprint_field])
            .contains(&(active["id"].clone(), json!("closed")))
            || ["assignee", "reporter", "creator"]
                .iter()
                .any(|role| t["fields"][role]["accountId"] == assignee["accountId"]);
        assert_eq!(stored[id].rev > revs[id], embeds, "{}", t["key"]);
    }
}

/// GIVEN a store synced without exclusions, WHEN a later sync excludes summary, description and
/// comments, THEN none of their text is left in any stored issue (fields, linked issues' copies,
/// changelog, comments); WHEN the one after excludes nothing again, THEN all of it is back, as
/// the site has it.
#[tokio::test]
async fn exclusions_changed_later_take_effect_on_what_is_stored_both_ways() {
    let e = env(300, Mode::Cloud, Settings::default(), 23).await;
    let client = e.client(ALICE);
    let mut opts = options("acme", Scope::AllAccessible);
    let first = run(&client, &e.store, &opts, None).await.unwrap();
    assert_eq!(first.outcome, RunOutcome::Succeeded, "{first:?}");
    let truth = e.truth(ALICE).await;
    let secrets = jira_sim::excluded_texts(&truth);
    assert!(secrets.len() > 300, "{}", secrets.len());
    let stored_text = |issues: &[StoredIssue]| {
        issues
            .iter()
            .map(|i| serde_json::to_string(i).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let present = |text: &str| secrets.iter().filter(|s| text.contains(s.as_str())).count();
    let before = stored_text(&e.stored("acme").await);
    assert_eq!(
        present(&before),
        secrets.len(),
        "all of it is stored at first"
    );

    // WHEN the exclusions are added
    opts.excluded = Excluded {
        summary: true,
        description: true,
        comments: true,
    };
    let excluded = run(&client, &e.store, &opts, None).await.unwrap();
    assert_eq!(excluded.outcome, RunOutcome::Succeeded, "{excluded:?}");
    let scrubbed = e.stored("acme").await;
    assert_eq!(scrubbed.len(), truth.len());
    assert_eq!(
        present(&stored_text(&scrubbed)),
        0,
        "no excluded text is left"
    );
    assert!(scrubbed.iter().all(|i| i.comments.is_empty()));

    // WHEN they are taken away again
    opts.excluded = Excluded::default();
    let back = run(&client, &e.store, &opts, None).await.unwrap();
    assert_eq!(back.outcome, RunOutcome::Succeeded, "{back:?}");
    let restored = e.stored("acme").await;
    assert_eq!(
        present(&stored_text(&restored)),
        secrets.len(),
        "all of it is back"
    );
    assert_converged(&truth, &restored, &e.info["custom_fields"]);
    // And the runs after write nothing more.
    let again = run(&client, &e.store, &opts, None).await.unwrap();
    assert_eq!(
        (again.counts.issues_new, again.counts.issues_updated),
        (0, 0),
        "{again:?}"
    );
}
