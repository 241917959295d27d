//! The `score-hygiene` function end to end on moto, against the simulator's ground truth.
//!
//! GIVEN an integration synced from the simulator, WHEN its `jira.sync.completed` event reaches
//! the hygiene function, THEN its snapshot shows in the trend; the report over the API equals the
//! definitions applied to the ground truth (`e2e::hygiene_truth`, not the scorer); custom misses
//! and SLA rows kept through the API change the report as the definitions say; the tickets listed
//! for a category are exactly those that miss it; another account sees none of it; bad input is a
//! 400 naming the parameter and changes nothing; the daily snapshot visits every integration that
//! has one, and a deleted integration no longer.

#[path = "deployed.rs"]
mod deployed;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use deployed::*;
use e2e::hygiene_truth::{DAY_MS, expected_misses, ms, step, truth};
use sei_jira_lambda::metrics::{emf_problems, names};
use serde_json::{Value, json};

const ALICE: &str = "alice@example.com";
const HOUR_MS: i64 = 3_600_000;

/// The misses of `category` among `issues` at `at`, by the definitions.
fn count(issues: &[&Value], sprint_field: &str, at: i64, category: &str) -> u64 {
    issues
        .iter()
        .filter(|i| expected_misses(i, sprint_field, at).contains(&category))
        .count() as u64
}

fn row<'a>(report: &'a Value, category: &str) -> &'a Value {
    report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == category || c["name"] == category)
        .unwrap_or_else(|| panic!("no {category} in {report}"))
}

/// A hygiene route of the integration's: `GET /integrations/{integrationId}/hygiene` and `tail`.
fn route(tail: &str) -> String {
    format!("GET /integrations/{{integrationId}}/hygiene{tail}")
}

/// The custom misses kept through the API.
const CRITERIA: &str = "/integrations/{integrationId}/hygiene/criteria";
/// The SLA rows kept through the API.
const SLAS: &str = "/integrations/{integrationId}/hygiene/slas";

/// The custom miss kept through the API: a ticket without labels.
fn unlabelled() -> Value {
    json!({"name": "Unlabelled", "conditions": [{"field": "labels", "operator": "missing"}]})
}

/// What the steps after the sync share: the integration, the ground truth its user can see, and
/// the instant the reports are evaluated at.
struct Scene<'a> {
    id: &'a str,
    all: Vec<&'a Value>,
    sprint_field: &'a str,
    total: u64,
    at: i64,
    at_text: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hygiene_over_the_api_follows_the_definitions() {
    let logs = capture_logs();
    let moto = e2e::start_moto();
    let (_sim, info) = site(300, 2).await;
    let base = info["base_url"].as_str().unwrap().to_string();
    let sprint_field = info["custom_fields"]["sprint"]
        .as_str()
        .unwrap()
        .to_string();
    let token = token_of(&info, ALICE);
    let mut w = World::new(moto.endpoint(), &base).await;
    let id = w.create_alices("Acme Jira", &base, &token).await;

    no_trend_period_has_a_score_before_any_sync(&mut w, &id).await;
    the_completed_sync_reaches_the_hygiene_function(&mut w, &id).await;
    let issues = truth(&base, ALICE).await;
    let all: Vec<&Value> = issues.iter().collect();
    let total = all.len() as u64;
    assert!(total > 100, "{total}");
    the_run_and_the_index_build_are_counted_for_operators(&w, &id, total);
    the_trend_shows_todays_snapshot_of_every_ticket(&mut w, &id, total).await;
    the_history_is_built_after_the_first_sync_and_again_on_demand(&mut w, &id, total).await;

    // Reports are evaluated on the hour (docs/hygiene.md); `at` scores the tickets as they
    // stood then, and the next hour is after every change the simulator made.
    let at = (Utc::now().timestamp_millis() / HOUR_MS + 1) * HOUR_MS;
    let at_text = DateTime::from_timestamp_millis(at)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let s = Scene {
        id: &id,
        all,
        sprint_field: &sprint_field,
        total,
        at,
        at_text,
    };
    let (report, score) = the_report_equals_the_definitions_over_the_ground_truth(&mut w, &s).await;
    let (project, priority) = filters_narrow_the_report_as_the_definitions_do(&mut w, &s).await;
    the_listed_misses_are_exactly_those_the_definitions_name(&mut w, &s).await;
    let criterion = only_a_valid_custom_miss_is_kept(&mut w, &s).await;
    let unlabelled_misses =
        a_kept_custom_miss_is_reported_weighed_and_listed(&mut w, &s, score).await;
    a_replaced_or_deleted_custom_miss_changes_the_report(&mut w, &s, &criterion, unlabelled_misses)
        .await;
    let (sla_id, issue_type) =
        an_sla_row_sets_the_resolution_goal_of_its_tickets(&mut w, &s, &project, &priority).await;
    let cell = [project.as_str(), issue_type.as_str(), priority.as_str()];
    sla_hours_are_whole_and_without_the_row_the_report_is_as_before(
        &mut w, &s, &sla_id, cell, &report,
    )
    .await;
    another_account_sees_nothing_of_it(&mut w, &id).await;
    bad_parameters_are_a_400_naming_the_parameter(&mut w, &id).await;
    the_daily_snapshot_visits_the_integration_until_it_is_deleted(&mut w, &id).await;

    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(!log_text.contains(&token) && !w.seen.join("\n").contains(&token));
}

/// Before any sync there is no snapshot, so the trend's periods have no score.
async fn no_trend_period_has_a_score_before_any_sync(w: &mut World, id: &str) {
    let (status, trend) = w.api("acme", &route("/trend"), &[id], None).await;
    assert_eq!(status, 200, "{trend}");
    assert!(
        trend["points"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["score"].is_null())
    );
}

/// The schedule fires; the completed sync's event reaches the hygiene function, which takes a
/// snapshot.
async fn the_completed_sync_reaches_the_hygiene_function(w: &mut World, id: &str) {
    let scheduled = scheduled(id);
    let run = w.sync(scheduled, None, "run-1").await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    let completed = w.delivered(1).await.remove(0);
    assert_eq!(completed["detail-type"], "jira.sync.completed");
    assert_eq!(
        w.hygiene_event(&completed).await,
        json!({"snapshots": 1, "continued": 0})
    );
}

/// The run and the index build were counted for operators: every issue written by a run that
/// succeeded, and every issue evaluated by the build (docs/operations.md).
fn the_run_and_the_index_build_are_counted_for_operators(w: &World, id: &str, total: u64) {
    let documents = w.metrics.documents();
    for d in &documents {
        assert_eq!(emf_problems(d), Vec::<String>::new(), "{d}");
    }
    let run = documents
        .iter()
        .find(|d| d[names::SYNC_RUNS] == 1.0)
        .expect("a SyncRuns document");
    assert_eq!(
        (&run["Function"], &run["Outcome"], &run["integration_id"]),
        (&json!("sync-project"), &json!("succeeded"), &json!(id))
    );
    assert_eq!(run[names::ISSUES_WRITTEN], total as f64);
    assert!(run[names::JIRA_REQUESTS].as_f64().unwrap() >= 1.0, "{run}");
    // Its every unit now has a watermark: the run's start, so the lag is at most its duration.
    let lag = run[names::SYNC_LAG]
        .as_f64()
        .expect("a SyncLagSeconds figure");
    assert!(
        (0.0..=run[names::SYNC_DURATION].as_f64().unwrap()).contains(&lag),
        "{run}"
    );
    let refresh = documents
        .iter()
        .find(|d| d.get(names::ISSUES_EVALUATED).is_some())
        .expect("an IssuesEvaluated document");
    assert_eq!(refresh["Function"], "hygiene-events");
    assert_eq!(refresh[names::ISSUES_EVALUATED], total as f64);
}

/// The trend shows today's snapshot, of every ticket.
async fn the_trend_shows_todays_snapshot_of_every_ticket(w: &mut World, id: &str, total: u64) {
    let (_, trend) = w
        .api("acme", &route("/trend?interval=month"), &[id], None)
        .await;
    let last = trend["points"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["snapshot_day"],
        json!(Utc::now().date_naive()),
        "{trend}"
    );
    assert_eq!(last["total_tickets"], total);
    assert_eq!(trend["interval"], "month");
}

/// The first completed sync's turn also built the history: 52 weeks from every issue, shown in
/// the trend before today's snapshot. Asked again for fewer weeks, the build starts over and the
/// event it sends finishes it; weeks out of bounds are a 400 naming them.
async fn the_history_is_built_after_the_first_sync_and_again_on_demand(
    w: &mut World,
    id: &str,
    total: u64,
) {
    const HISTORY: &str = "/integrations/{integrationId}/hygiene/history";
    let (status, kept) = w.api("acme", &format!("GET {HISTORY}"), &[id], None).await;
    assert_eq!(status, 200, "{kept}");
    let build = &kept["build"];
    assert_eq!(
        (build["weeks"].as_u64(), build["issues"].as_u64()),
        (Some(52), Some(total)),
        "{kept}"
    );
    assert!(
        build["finished_ms"].is_i64() && build.get("basis").is_none(),
        "{kept}"
    );
    let from = (Utc::now() - chrono::Days::new(63)).date_naive();
    let (_, trend) = w
        .api("acme", &route(&format!("/trend?from={from}")), &[id], None)
        .await;
    let sources: Vec<&str> = trend["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["source"].as_str().unwrap_or("none"))
        .collect();
    let (today, before) = sources.split_last().unwrap();
    assert_eq!(*today, "snapshot", "{trend}");
    assert!(
        before.len() >= 8 && before.iter().all(|s| *s == "history"),
        "{trend}"
    );

    for weeks in [json!(0), json!(105), json!("many")] {
        let (status, body) = w
            .api(
                "acme",
                &format!("POST {HISTORY}"),
                &[id],
                Some(json!({"weeks": weeks})),
            )
            .await;
        assert_eq!(status, 400, "{weeks}: {body}");
        assert!(
            body["message"].as_str().unwrap().starts_with("weeks"),
            "{body}"
        );
    }
    let (status, started) = w
        .api(
            "acme",
            &format!("POST {HISTORY}"),
            &[id],
            Some(json!({"weeks": 4})),
        )
        .await;
    assert_eq!(status, 202, "{started}");
    assert!(started["build"]["finished_ms"].is_null(), "{started}");
    let asked = w.delivered(1).await.remove(0);
    assert_eq!(asked["detail-type"], "hygiene.index.requested");
    assert_eq!(
        w.hygiene_event(&asked).await,
        json!({"snapshots": 1, "continued": 0})
    );
    let (_, kept) = w.api("acme", &format!("GET {HISTORY}"), &[id], None).await;
    assert_eq!(kept["build"]["weeks"], 4, "{kept}");
    assert_eq!(kept["build"]["issues"], total, "{kept}");
    assert!(kept["build"]["finished_ms"].is_i64(), "{kept}");
    let (status, _) = w
        .api("globex", &format!("GET {HISTORY}"), &[id], None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .api("globex", &format!("POST {HISTORY}"), &[id], Some(json!({})))
        .await;
    assert_eq!(status, 404);
}

/// The report at a fixed time equals the definitions over the ground truth, counted from the kept
/// index and, for a time range, from the issues alike; the report and its expected score.
async fn the_report_equals_the_definitions_over_the_ground_truth(
    w: &mut World,
    s: &Scene<'_>,
) -> (Value, f64) {
    let (at, at_text, total) = (s.at, &s.at_text, s.total);
    let (status, report) = w
        .api("acme", &route(&format!("?at={at_text}")), &[s.id], None)
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["total_tickets"], total);
    assert_eq!(report["evaluated_at"], *at_text);
    // The sync's event built the kept index; the report is counted from it.
    assert_eq!(
        (&report["counted_from"], &report["recomputing"]),
        (&json!("index"), &json!(false))
    );
    // A time range needs each ticket's times: counted from the issues, to the same result.
    let (_, ranged) = w
        .api(
            "acme",
            &route(&format!("?at={at_text}&created_from=2000-01-01")),
            &[s.id],
            None,
        )
        .await;
    assert_eq!(
        (&ranged["counted_from"], &ranged["recomputing"]),
        (&json!("issues"), &json!(false))
    );
    assert_eq!(ranged["categories"], report["categories"]);
    let mut score = 0.0;
    for c in report["categories"].as_array().unwrap() {
        let name = c["category"].as_str().unwrap();
        let misses = count(&s.all, s.sprint_field, at, name);
        assert_eq!(c["misses"], misses, "{name}");
        let weight = if name == "stalled_in_active_sprint" {
            0.0
        } else {
            12.5
        };
        score += step(misses, total) * weight / 100.0;
    }
    assert!((report["score"].as_f64().unwrap() - score).abs() < 1e-9);
    (report, score)
}

/// Filters (one project, one priority) narrow the report to the tickets the definitions select;
/// the project and the priority filtered on.
async fn filters_narrow_the_report_as_the_definitions_do(
    w: &mut World,
    s: &Scene<'_>,
) -> (String, String) {
    let (all, at_text) = (&s.all, &s.at_text);
    let project = all[0]["project"].as_str().unwrap().to_string();
    let priority = all[0]["fields"]["priority"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let selected: Vec<&Value> = all
        .iter()
        .copied()
        .filter(|i| {
            i["project"] == project.as_str() && i["fields"]["priority"]["name"] == priority.as_str()
        })
        .collect();
    let (_, narrowed) = w
        .api(
            "acme",
            &route(&format!(
                "?at={at_text}&projects={}&priorities={}",
                project.to_lowercase(),
                priority
            )),
            &[s.id],
            None,
        )
        .await;
    assert_eq!(
        narrowed["total_tickets"],
        selected.len() as u64,
        "{narrowed}"
    );
    assert_eq!(
        row(&narrowed, "no_assignee")["misses"],
        count(&selected, s.sprint_field, s.at, "no_assignee")
    );
    (project, priority)
}

/// The tickets that miss a category, page by page: exactly those the definitions name, none
/// listed twice.
async fn the_listed_misses_are_exactly_those_the_definitions_name(w: &mut World, s: &Scene<'_>) {
    let at_text = &s.at_text;
    let mut listed = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let query = match &after {
            Some(a) => format!("/misses?category=no_assignee&limit=7&at={at_text}&after={a}"),
            None => format!("/misses?category=no_assignee&limit=7&at={at_text}"),
        };
        let (status, page) = w.api("acme", &route(&query), &[s.id], None).await;
        assert_eq!(status, 200, "{page}");
        assert!(page["tickets"].as_array().unwrap().len() <= 7);
        listed.extend(
            page["tickets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["key"].as_str().unwrap().to_string()),
        );
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    let expected: BTreeSet<String> = s
        .all
        .iter()
        .filter(|i| expected_misses(i, s.sprint_field, s.at).contains(&"no_assignee"))
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed.len(), expected.len(), "no ticket listed twice");
    assert_eq!(listed.into_iter().collect::<BTreeSet<_>>(), expected);
}

/// A custom miss is kept through the API; one with an operator its field does not take is refused
/// naming the condition and changes nothing. The kept criterion's id.
async fn only_a_valid_custom_miss_is_kept(w: &mut World, s: &Scene<'_>) -> String {
    let (status, saved) = w
        .api(
            "acme",
            &format!("POST {CRITERIA}"),
            &[s.id],
            Some(unlabelled()),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    let criterion = saved["id"].as_str().unwrap().to_string();
    let (status, refused) = w
        .api(
            "acme",
            &format!("POST {CRITERIA}"),
            &[s.id],
            Some(json!({"name": "Big", "conditions": [{"field": "labels", "operator": "greater_than", "value": 2}]})),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("conditions[0].operator"),
        "{refused}"
    );
    let (_, kept) = w
        .api("acme", &format!("GET {CRITERIA}"), &[s.id], None)
        .await;
    assert_eq!(
        kept,
        json!({"criteria": [saved]}),
        "a refused criterion changes nothing"
    );
    criterion
}

/// The kept custom miss is reported (from the issues while the index is built again, then from
/// the index), weighed by name and listed; the number of its misses by the definition.
async fn a_kept_custom_miss_is_reported_weighed_and_listed(
    w: &mut World,
    s: &Scene<'_>,
    score: f64,
) -> u64 {
    let (id, at_text, total) = (s.id, &s.at_text, s.total);
    let unlabelled_misses = s
        .all
        .iter()
        .filter(|i| i["fields"]["labels"].as_array().is_none_or(Vec::is_empty))
        .count() as u64;
    let with_weights = route(&format!("?at={at_text}&weights=Unlabelled=10,Idle=2.5"));
    // Kept criteria change the custom counts: the index is built again, asked for on the bus;
    // until then the report is counted from the issues, as exactly, and says so.
    let (_, meanwhile) = w.api("acme", &with_weights, &[id], None).await;
    assert_eq!(
        (&meanwhile["counted_from"], &meanwhile["recomputing"]),
        (&json!("issues"), &json!(true))
    );
    assert_eq!(row(&meanwhile, "Unlabelled")["misses"], unlabelled_misses);
    let requested = w.delivered(1).await.remove(0);
    assert_eq!(requested["detail-type"], "hygiene.index.requested");
    assert_eq!(requested["detail"]["integration_id"], json!(id));
    assert_eq!(
        w.hygiene_event(&requested).await,
        json!({"snapshots": 1, "continued": 0})
    );
    let (_, with_custom) = w.api("acme", &with_weights, &[id], None).await;
    assert_eq!(with_custom["counted_from"], "index");
    assert_eq!(
        with_custom["categories"], meanwhile["categories"],
        "the rebuilt index counts as the issues do"
    );
    let custom = row(&with_custom, "Unlabelled");
    assert_eq!(
        (custom["category"].as_str(), custom["misses"].as_u64()),
        (Some("custom"), Some(unlabelled_misses))
    );
    assert_eq!(custom["weight"], 10.0);
    let idle = count(&s.all, s.sprint_field, s.at, "idle");
    let expected_score = score - step(idle, total) * 12.5 / 100.0
        + step(idle, total) * 2.5 / 100.0
        + step(unlabelled_misses, total) * 10.0 / 100.0;
    assert!(
        (with_custom["score"].as_f64().unwrap() - expected_score).abs() < 1e-9,
        "{with_custom}"
    );
    let (status, page) = w
        .api(
            "acme",
            &route(&format!(
                "/misses?category=unlabelled&limit=500&at={at_text}"
            )),
            &[id],
            None,
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        page["tickets"].as_array().unwrap().len() as u64,
        unlabelled_misses
    );
    unlabelled_misses
}

/// A custom miss replaced flips its count once the index is built again; deleted, it is gone (a
/// second delete is a 404) and the index is asked for again.
async fn a_replaced_or_deleted_custom_miss_changes_the_report(
    w: &mut World,
    s: &Scene<'_>,
    criterion: &str,
    unlabelled_misses: u64,
) {
    let (id, at_text) = (s.id, &s.at_text);
    let one = format!("{CRITERIA}/{{criterionId}}");
    let replaced =
        json!({"name": "Unlabelled", "conditions": [{"field": "labels", "operator": "present"}]});
    let (status, body) = w
        .api(
            "acme",
            &format!("PUT {one}"),
            &[id, criterion],
            Some(replaced),
        )
        .await;
    assert_eq!(
        (status, body["id"].as_str()),
        (200, Some(criterion)),
        "{body}"
    );
    let requested = w.delivered(1).await.remove(0);
    w.hygiene_event(&requested).await;
    let (_, flipped) = w
        .api("acme", &route(&format!("?at={at_text}")), &[id], None)
        .await;
    assert_eq!(flipped["counted_from"], "index");
    assert_eq!(
        row(&flipped, "Unlabelled")["misses"],
        s.total - unlabelled_misses
    );
    let (status, _) = w
        .api("acme", &format!("DELETE {one}"), &[id, criterion], None)
        .await;
    assert_eq!(status, 204);
    let requested = w.delivered(1).await.remove(0);
    assert_eq!(requested["detail-type"], "hygiene.index.requested");
    let (status, _) = w
        .api("acme", &format!("DELETE {one}"), &[id, criterion], None)
        .await;
    assert_eq!(status, 404);
    let (_, none) = w.api("acme", &format!("GET {CRITERIA}"), &[id], None).await;
    assert_eq!(none, json!({"criteria": []}));
}

/// An SLA row for one (project, issue type, priority): its tickets get 87,000 hours (ten years) to
/// respond and to resolve, every other ticket keeps one day; a duplicate row is refused. The
/// row's id and its issue type.
async fn an_sla_row_sets_the_resolution_goal_of_its_tickets(
    w: &mut World,
    s: &Scene<'_>,
    project: &str,
    priority: &str,
) -> (String, String) {
    let (id, all, at, at_text) = (s.id, &s.all, s.at, &s.at_text);
    let first = &all[0]["fields"];
    let issue_type = first["issuetype"]["name"].as_str().unwrap().to_string();
    let (status, sla) = w
        .api(
            "acme",
            &format!("POST {SLAS}"),
            &[id],
            Some(json!({"project": project.to_lowercase(), "issue_type": issue_type, "priority": priority,
                "response_hours": 87000, "resolution_hours": 87000})),
        )
        .await;
    assert_eq!(status, 201, "{sla}");
    let (status, duplicate) = w
        .api(
            "acme",
            &format!("POST {SLAS}"),
            &[id],
            Some(json!({"project": project, "issue_type": issue_type.to_uppercase(), "priority": priority,
                "response_hours": 1, "resolution_hours": 0})),
        )
        .await;
    assert_eq!(status, 400, "{duplicate}");
    assert!(
        duplicate["message"]
            .as_str()
            .unwrap()
            .starts_with("resolution_hours"),
        "{duplicate}"
    );
    let (_, with_sla) = w
        .api("acme", &route(&format!("?at={at_text}")), &[id], None)
        .await;
    let in_cell = |i: &Value| {
        i["project"] == project
            && i["fields"]["issuetype"]["name"] == issue_type.as_str()
            && i["fields"]["priority"]["name"] == priority
    };
    let resolution_misses = all
        .iter()
        .filter(|i| {
            let created = ms(i["fields"]["created"].as_str().unwrap());
            let resolved = i["fields"]["resolutiondate"].as_str().map(ms).unwrap_or(at);
            let goal = if in_cell(i) {
                87_000 * DAY_MS / 24
            } else {
                DAY_MS
            };
            resolved - created > goal
        })
        .count() as u64;
    assert_eq!(
        row(&with_sla, "missed_resolution_time")["misses"],
        resolution_misses
    );
    assert_ne!(
        resolution_misses,
        count(all, s.sprint_field, at, "missed_resolution_time"),
        "the SLA row changes the count"
    );
    let sla_id = sla["id"].as_str().unwrap().to_string();
    let (_, listed_slas) = w.api("acme", &format!("GET {SLAS}"), &[id], None).await;
    assert_eq!(listed_slas["slas"], json!([sla]));
    (sla_id, issue_type)
}

/// An SLA row keeps whole hours and refuses a fraction naming the field; without the row the
/// report is as before.
async fn sla_hours_are_whole_and_without_the_row_the_report_is_as_before(
    w: &mut World,
    s: &Scene<'_>,
    sla_id: &str,
    [project, issue_type, priority]: [&str; 3],
    report: &Value,
) {
    let (id, at_text) = (s.id, &s.at_text);
    let one_sla = format!("{SLAS}/{{slaId}}");
    // Whole hours are kept; a fraction is refused naming the field.
    let row = |resolution_hours: Value| {
        json!({"project": project, "issue_type": issue_type, "priority": priority,
            "response_hours": 2, "resolution_hours": resolution_hours})
    };
    let put = format!("PUT {one_sla}");
    let (status, _) = w
        .api("acme", &put, &[id, sla_id], Some(row(json!(4))))
        .await;
    assert_eq!(status, 200);
    let (status, fractional) = w
        .api("acme", &put, &[id, sla_id], Some(row(json!(3.5))))
        .await;
    assert_eq!(status, 400, "{fractional}");
    assert!(
        fractional["message"]
            .as_str()
            .unwrap()
            .starts_with("resolution_hours"),
        "{fractional}"
    );
    let (status, _) = w
        .api("acme", &format!("DELETE {one_sla}"), &[id, sla_id], None)
        .await;
    assert_eq!(status, 204);
    let (_, restored) = w
        .api("acme", &route(&format!("?at={at_text}")), &[id], None)
        .await;
    assert_eq!(
        restored["score"], report["score"],
        "without the row the report is as before"
    );
}

/// Another account: nothing of the integration's hygiene exists for it.
async fn another_account_sees_nothing_of_it(w: &mut World, id: &str) {
    for request in [route(""), route("/trend"), format!("GET {CRITERIA}")] {
        let (status, _) = w.api("globex", &request, &[id], None).await;
        assert_eq!(status, 404, "{request}");
    }
    let (status, _) = w
        .api(
            "globex",
            &format!("POST {CRITERIA}"),
            &[id],
            Some(unlabelled()),
        )
        .await;
    assert_eq!(status, 404);
}

/// Bad parameters: a 400 naming the parameter.
async fn bad_parameters_are_a_400_naming_the_parameter(w: &mut World, id: &str) {
    for (query, parameter) in [
        ("?idle_days=-1", "idle_days"),
        ("?weights=Idle=101", "weights"),
        ("?at=yesterday", "at"),
        ("?projekts=PLAT", "'projekts'"),
        ("/misses?category=sloppy", "category"),
        ("/trend?created_from=2026-01-01", "'created_from'"),
        ("/trend?interval=day", "interval"),
    ] {
        let (status, body) = w.api("acme", &route(query), &[id], None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_request")),
            "{query}: {body}"
        );
        assert!(
            body["message"].as_str().unwrap().starts_with(parameter),
            "{query}: {body}"
        );
    }
}

/// The daily snapshot asks for the integration's turn; once it is deleted, no longer, and a
/// snapshot kept across the deletion is withdrawn by its turn, leaving nothing of it.
async fn the_daily_snapshot_visits_the_integration_until_it_is_deleted(w: &mut World, id: &str) {
    let daily =
        json!({"source": "sei-jira", "detail-type": "hygiene.snapshot.daily", "detail": {}});
    assert_eq!(w.hygiene_event(&daily).await, json!({"asked": 1}));
    let turn = w.delivered(1).await.remove(0);
    assert_eq!(turn["detail-type"], "hygiene.snapshot.requested");
    assert_eq!(
        w.hygiene_event(&turn).await,
        json!({"snapshots": 1, "continued": 0})
    );
    let (status, _) = w
        .api("acme", "DELETE /integrations/{integrationId}", &[id], None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(w.hygiene_event(&daily).await, json!({"asked": 0}));
    // A snapshot kept across the deletion (the race the snapshot's own fence check closes) would
    // leave its target: its turn finds the integration gone and withdraws it.
    store(&w.config, &w.table)
        .put_snapshot("acme", id, &Default::default())
        .await
        .unwrap();
    assert_eq!(w.hygiene_event(&daily).await, json!({"asked": 1}));
    let turn = w.delivered(1).await.remove(0);
    assert_eq!(
        w.hygiene_event(&turn).await,
        json!({"snapshots": 0, "continued": 0, "withdrawn": 1})
    );
    assert_eq!(
        w.hygiene_event(&daily).await,
        json!({"asked": 0}),
        "visited no more"
    );
    assert_eq!(
        w.items_naming(id).await,
        Vec::<String>::new(),
        "nothing of the integration is left"
    );
}

/// GIVEN thousands of integrations with a daily snapshot, WHEN the daily event comes with a
/// deadline already past at every invocation, THEN each invocation asks for a page of turns and
/// hands the rest to the next through the bus, and every integration is asked for exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_snapshot_reaches_thousands_of_integrations_whatever_the_deadline() {
    const TARGETS: usize = 2_000;
    let moto = e2e::start_moto();
    let mut w = World::new(moto.endpoint(), "http://127.0.0.1:9").await;
    let store = store(&w.config, &w.table);
    let ids: BTreeSet<String> = (0..TARGETS)
        .map(|n| format!("integration-{n:05}"))
        .collect();
    for id in &ids {
        store
            .put_snapshot("acme", id, &Default::default())
            .await
            .unwrap();
    }

    let mut event =
        json!({"source": "sei-jira", "detail-type": "hygiene.snapshot.daily", "detail": {}});
    let mut asked = Vec::new();
    let mut invocations = 0;
    loop {
        invocations += 1;
        assert!(invocations <= TARGETS, "no end in sight");
        let out = score_hygiene::handle_event(
            &w.hygiene,
            &event,
            chrono::Utc::now(),
            Some(std::time::Instant::now()),
        )
        .await
        .unwrap();
        let mut next = None;
        for e in w.drain_events().await {
            match e["detail-type"].as_str() {
                Some("hygiene.snapshot.requested") => {
                    asked.push(e["detail"]["integration_id"].as_str().unwrap().to_string())
                }
                Some("hygiene.snapshot.daily") => next = Some(e),
                other => panic!("{other:?}: {e}"),
            }
        }
        match next {
            Some(e) => {
                assert_eq!(out["continues_after"], e["detail"]["after"], "{out}");
                event = e;
            }
            None => break,
        }
    }
    println!(
        "the daily snapshot of {TARGETS} integrations: {invocations} invocations with no time \
         left, {} turns asked for",
        asked.len()
    );
    assert_eq!(asked.len(), TARGETS, "each asked for once");
    assert_eq!(asked.into_iter().collect::<BTreeSet<_>>(), ids);
    assert!(invocations > 1, "the deadline was heeded");
}

/// GIVEN an integration with more tickets than one request may read (120, a limit of 50), WHEN
/// its hygiene index is built again (a custom miss was kept) and a new DORA profile is being
/// classified, THEN the hygiene report, the DORA report and the report page answer 503
/// `retry_later` with `Retry-After` instead of counting every ticket within the request, and a
/// report with time ranges (which only the tickets can answer) is a 400 naming them; once the
/// index event has run, all three answer from what is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_report_reads_past_its_limit_while_the_index_is_built() {
    let (mut w, site) = stage(120, 2).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    let id = w.create_alices("Acme Jira", &base, &token).await;
    let scheduled = scheduled(&id);
    let run = w.sync(scheduled, None, "run-1").await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    let completed = w.delivered(1).await.remove(0);
    w.hygiene_event(&completed).await;
    only(&mut w.hygiene).issues_per_request = 50;
    only(&mut w.dora).issues_per_request = 50;
    only(&mut w.monitoring).issues_per_request = 50;

    let hygiene = "GET /integrations/{integrationId}/hygiene";
    let (status, indexed) = w.api("acme", hygiene, &[&id], None).await;
    assert_eq!((status, &indexed["counted_from"]), (200, &json!("index")));
    let ranged = format!("{hygiene}?created_from=2000-01-01");
    let (status, refused) = w.api("acme", &ranged, &[&id], None).await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("created"),
        "{refused}"
    );

    // A custom miss is kept: the index is to be built again.
    let criterion =
        json!({"name": "Unlabelled", "conditions": [{"field": "labels", "operator": "missing"}]});
    let criteria = "POST /integrations/{integrationId}/hygiene/criteria";
    let (status, saved) = w.api("acme", criteria, &[&id], Some(criterion)).await;
    assert_eq!(status, 201, "{saved}");
    let rebuild = w.delivered(1).await.remove(0);
    // A DORA profile is kept: its members are to be classified.
    let profile = json!({"name": "Operations",
        "incidents": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Incident"]}]}]},
        "changes": {"sets": [{"conditions": [{"field": "issue type", "operator": "in", "values": ["Change", "Bug"]}]}]},
        "failure_window_hours": 24});
    let profiles = "POST /integrations/{integrationId}/dora/profiles";
    let (status, kept) = w.api("acme", profiles, &[&id], Some(profile)).await;
    assert_eq!(status, 201, "{kept}");
    let classify = w.delivered(1).await.remove(0);
    let dora = format!(
        "GET /integrations/{{integrationId}}/dora?profile={}",
        kept["id"].as_str().unwrap()
    );
    let page = "GET /integrations/{integrationId}/report";

    // Meanwhile: 503 with Retry-After (checked on every 429/503 by `World::read`).
    let (status, later) = w.api("acme", hygiene, &[&id], None).await;
    assert_eq!(
        (status, &later["code"]),
        (503, &json!("retry_later")),
        "{later}"
    );
    assert!(
        later["message"].as_str().unwrap().contains("being built"),
        "{later}"
    );
    let (status, later) = w.api("acme", &dora, &[&id], None).await;
    assert_eq!(
        (status, &later["code"]),
        (503, &json!("retry_later")),
        "{later}"
    );
    let (status, text) = w.page("acme", page, &[&id]).await;
    assert_eq!(status, 503, "{text}");

    // The index event runs; the answers come from what it kept.
    w.hygiene_event(&rebuild).await;
    w.hygiene_event(&classify).await;
    let (status, rebuilt) = w.api("acme", hygiene, &[&id], None).await;
    assert_eq!((status, &rebuilt["counted_from"]), (200, &json!("index")));
    assert!(row(&rebuilt, "Unlabelled")["misses"].is_u64(), "{rebuilt}");
    let (status, classified) = w.api("acme", &dora, &[&id], None).await;
    assert_eq!(
        (status, &classified["recomputing"]),
        (200, &json!(false)),
        "{classified}"
    );
    let (status, text) = w.page("acme", page, &[&id]).await;
    assert_eq!(status, 200, "{text}");
}

/// GIVEN an integration synced just now and one created three days ago that never synced, WHEN
/// the daily snapshot's turn reaches each, THEN the operators' metric `IntegrationsStale` counts
/// the second (no successful sync for the 48 hours of `StaleAfterHours`) and not the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_snapshot_counts_the_integrations_without_a_recent_sync() {
    let (mut w, site) = stage(20, 1).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    let fresh = w.create_alices("Fresh", &base, &token).await;
    let scheduled = scheduled(&fresh);
    let run = w.sync(scheduled, None, "run-1").await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    w.drain_events().await;
    let store = store(&w.config, &w.table);
    let mut old = store
        .get_integration("acme", &fresh)
        .await
        .unwrap()
        .unwrap();
    old.id = "integration-created-three-days-ago".into();
    old.created_ms = Utc::now().timestamp_millis() - 3 * DAY_MS;
    store.put_integration(&old).await.unwrap();

    for id in [&fresh, &old.id] {
        let turn = json!({"source": "sei-jira", "detail-type": "hygiene.snapshot.requested",
            "detail": {"account_id": "acme", "integration_id": id}});
        w.hygiene_event(&turn).await;
    }
    let stale: Vec<(String, f64)> = w
        .metrics
        .documents()
        .iter()
        .filter_map(|d| {
            let value = d.get(names::INTEGRATIONS_STALE)?.as_f64()?;
            assert_eq!(emf_problems(d), Vec::<String>::new(), "{d}");
            Some((d["integration_id"].as_str()?.to_string(), value))
        })
        .collect();
    assert_eq!(stale, vec![(fresh.clone(), 0.0), (old.id.clone(), 1.0)]);
}
