//! `sei-jira hygiene` against the simulator's ground truth: the report of a synced store equals a
//! computation written here from the definitions, over `/_sim/truth` (what the syncing user can
//! see), without calling the scorer.

use std::path::Path;

use chrono::{DateTime, Datelike, Utc};
use std::collections::BTreeMap;

use e2e::hygiene_truth::{Beside, DAY_MS, as_it_stood, expected_misses, id_text, step, truth};
use e2e::{cli_sync, ok_json, sei_jira, start_sim};
use serde_json::Value;

/// Whether a ground-truth issue is in a criterion's undesired state.
type Rule<'a> = Box<dyn Fn(&Value) -> bool + 'a>;

/// What the steps share: the synced store, the ground truth its user can see, and the instant the
/// reports are evaluated at.
struct Scene<'a> {
    store: &'a str,
    dir: &'a Path,
    issues: &'a [Value],
    sprint_field: &'a str,
    total: u64,
    at: i64,
    at_text: &'a str,
}

#[tokio::test]
async fn the_report_equals_the_definitions_applied_to_the_ground_truth() {
    let sim = start_sim(&["--issues", "600", "--projects", "3"]);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let email = "alice@example.com";
    let token = jira_sim::user_token(&sim.startup, email).expect("a user of the simulator");
    let sprint_field = sim.startup["custom_fields"]["sprint"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.redb");
    let store = store.to_str().unwrap();
    cli_sync(store, &base, email, &token);
    // Reports are evaluated on the hour (docs/hygiene.md); `--at` scores the tickets as they
    // stood then, and the next hour is after every change the simulator made.
    let at = (Utc::now().timestamp_millis() / 3_600_000 + 1) * 3_600_000;
    let at_text = DateTime::from_timestamp_millis(at)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let report = ok_json(sei_jira(&[
        "hygiene", "--store", store, "--at", &at_text, "--json",
    ]));

    let issues = truth(&base, email).await;
    let total = issues.len() as u64;
    assert!(total > 100, "{total}");
    let s = Scene {
        store,
        dir: dir.path(),
        issues: &issues,
        sprint_field: &sprint_field,
        total,
        at,
        at_text: &at_text,
    };
    let expected_score = the_built_in_categories_follow_the_definitions(&s, &report);
    let story_points = sim.startup["custom_fields"]["story_points"]
        .as_str()
        .unwrap()
        .to_string();
    custom_misses_follow_the_definitions_of_their_operators(&s, &story_points, expected_score);
    a_filter_narrows_the_tickets_and_weights_move_the_score(&s);
    the_documented_weights_keep_those_given_and_share_the_rest(&s);
    every_sync_takes_the_days_snapshot_of_every_ticket(&s);
    an_earlier_snapshot_stands_for_its_day_and_holds_that_report(&s);
    a_trend_by_the_day_is_refused_naming_the_flag(&s);
}

/// Every built-in category of the report counts, weighs and scores as the definitions do over the
/// ground truth; the report's expected score.
fn the_built_in_categories_follow_the_definitions(s: &Scene<'_>, report: &Value) -> f64 {
    let (issues, total) = (s.issues, s.total);
    assert_eq!(report["total_tickets"], total);
    let mut expected_score = 0.0;
    for category in report["categories"].as_array().unwrap() {
        let name = category["category"].as_str().unwrap();
        let misses = issues
            .iter()
            .filter(|i| expected_misses(i, s.sprint_field, s.at).contains(&name))
            .count() as u64;
        assert_eq!(category["misses"], misses, "{name}");
        assert_eq!(category["total"], total, "{name}");
        let weight = if name == "stalled_in_active_sprint" {
            0.0
        } else {
            12.5
        };
        assert_eq!(category["weight"], weight, "{name}");
        assert_eq!(category["step_score"], step(misses, total), "{name}");
        let weighted = category["weighted_score"].as_f64().unwrap();
        assert!(
            (weighted - step(misses, total) * weight / 100.0).abs() < 1e-9,
            "{name}"
        );
        assert_eq!(category["skipped"], false, "{name}");
        expected_score += step(misses, total) * weight / 100.0;
    }
    assert_eq!(report["categories"].as_array().unwrap().len(), 9);
    assert!((report["score"].as_f64().unwrap() - expected_score).abs() < 1e-9);
    assert_eq!(report["evaluated_at"], s.at_text);
    expected_score
}

/// The undesired state of each custom miss the test keeps, one per operator, written here from
/// the operators' definitions over the ground truth.
fn custom_rules(story_points: &str) -> Vec<(&'static str, Rule<'_>)> {
    let names = |v: &Value, field: &str| -> Vec<String> {
        let one = |x: &Value| {
            x.as_str()
                .map(str::to_string)
                .or_else(|| x["name"].as_str().map(str::to_string))
        };
        match &v["fields"][field] {
            Value::Array(items) => items.iter().filter_map(one).collect(),
            Value::Null => Vec::new(),
            x => one(x).into_iter().collect(),
        }
    };
    let done = |v: &Value| {
        v["fields"]["status"]["statusCategory"]["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case("done"))
    };
    let points = move |v: &Value| v["fields"][story_points].as_f64();
    vec![
        (
            "No fix version",
            Box::new(move |v| names(v, "fixVersions").is_empty()),
        ),
        (
            "Labelled",
            Box::new(move |v| !names(v, "labels").is_empty()),
        ),
        (
            "Urgent",
            Box::new(move |v| {
                names(v, "priority")
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case("high") || p.eq_ignore_ascii_case("highest"))
            }),
        ),
        ("Not done", Box::new(move |v| !done(v))),
        (
            "Many labels",
            Box::new(move |v| names(v, "labels").len() > 1),
        ),
        ("Bare", Box::new(move |v| names(v, "components").is_empty())),
        (
            "Large",
            Box::new(move |v| points(v).is_some_and(|p| p > 5.0)),
        ),
        (
            "Small open",
            Box::new(move |v| points(v).is_some_and(|p| p < 3.0) && !done(v)),
        ),
    ]
}

/// Custom misses, one per operator, count as their definitions over the ground truth do, and a
/// weight given by name (with a built-in's moved) changes the score as the definitions say.
fn custom_misses_follow_the_definitions_of_their_operators(
    s: &Scene<'_>,
    story_points: &str,
    expected_score: f64,
) {
    let (issues, total) = (s.issues, s.total);
    let criteria = serde_json::json!([
        {"name": "No fix version", "conditions": [{"field": "fix versions", "operator": "missing"}]},
        {"name": "Labelled", "conditions": [{"field": "labels", "operator": "present"}]},
        {"name": "Urgent", "conditions": [{"field": "priority", "operator": "equals", "values": ["high", "HIGHEST"]}]},
        {"name": "Not done", "conditions": [{"field": "status category", "operator": "exclude", "values": ["Done"]}]},
        {"name": "Many labels", "conditions": [{"field": "labels", "operator": "length_greater_than", "value": 1}]},
        {"name": "Bare", "conditions": [{"field": "components", "operator": "length_less_than", "value": 1}]},
        {"name": "Large", "conditions": [{"field": "story points", "operator": "greater_than", "value": 5}]},
        {"name": "Small open", "conditions": [
            {"field": "story points", "operator": "less_than", "value": 3},
            {"field": "status category", "operator": "exclude", "values": ["done"]}
        ]}
    ]);
    let criteria_file = s.dir.join("criteria.json");
    std::fs::write(&criteria_file, criteria.to_string()).unwrap();
    let with_custom = ok_json(sei_jira(&[
        "hygiene",
        "--store",
        s.store,
        "--at",
        s.at_text,
        "--criteria",
        criteria_file.to_str().unwrap(),
        "--weights",
        "large=10,No Due Date=2.5",
        "--json",
    ]));
    let rules = custom_rules(story_points);
    let rows = with_custom["categories"].as_array().unwrap();
    assert_eq!(rows.len(), 9 + rules.len());
    let mut custom_score = 0.0;
    for (row, (name, rule)) in rows[9..].iter().zip(&rules) {
        let misses = issues.iter().filter(|i| rule(i)).count() as u64;
        assert_eq!(row["category"], "custom");
        assert_eq!(row["name"], *name);
        assert_eq!(row["misses"], misses, "{name}");
        assert!(misses > 0 && misses < total, "{name}: {misses} of {total}");
        let weight = if *name == "Large" { 10.0 } else { 0.0 };
        assert_eq!(row["weight"], weight, "{name}");
        custom_score += step(misses, total) * weight / 100.0;
    }
    let no_due = issues
        .iter()
        .filter(|i| expected_misses(i, s.sprint_field, s.at).contains(&"no_due_date"))
        .count() as u64;
    let expected = expected_score - step(no_due, total) * 12.5 / 100.0
        + step(no_due, total) * 2.5 / 100.0
        + custom_score;
    assert!((with_custom["score"].as_f64().unwrap() - expected).abs() < 1e-9);
}

/// A filter narrows the tickets to those of the ground truth it selects; weights move the score.
fn a_filter_narrows_the_tickets_and_weights_move_the_score(s: &Scene<'_>) {
    let plat = ok_json(sei_jira(&[
        "hygiene",
        "--store",
        s.store,
        "--at",
        s.at_text,
        "--projects",
        "PLAT",
        "--weights",
        "Idle=25,No Due Date=0",
        "--json",
    ]));
    let plat_issues: Vec<&Value> = s.issues.iter().filter(|i| i["project"] == "PLAT").collect();
    assert_eq!(plat["total_tickets"], plat_issues.len() as u64);
    let idle = &plat["categories"][0];
    assert_eq!(idle["category"], "idle");
    assert_eq!(idle["weight"], 25.0);
    assert_eq!(plat["categories"][2]["weighted_score"], 0.0);
}

/// The weights of the help and the docs, `Idle=20,No Assignee=10`: those given are kept, the six
/// other categories of the eight share the 70 left, and the score follows; weights given that add
/// up to more than 100 are refused with their sum, naming the flag.
fn the_documented_weights_keep_those_given_and_share_the_rest(s: &Scene<'_>) {
    let report = ok_json(sei_jira(&[
        "hygiene",
        "--store",
        s.store,
        "--at",
        s.at_text,
        "--weights",
        "Idle=20,No Assignee=10",
        "--json",
    ]));
    let mut expected_score = 0.0;
    for category in report["categories"].as_array().unwrap() {
        let name = category["category"].as_str().unwrap();
        let weight = match name {
            "idle" => 20.0,
            "no_assignee" => 10.0,
            "stalled_in_active_sprint" => 0.0,
            _ => 70.0 / 6.0,
        };
        let given = category["weight"].as_f64().unwrap();
        assert!((given - weight).abs() < 1e-9, "{name}: {given}");
        let misses = s
            .issues
            .iter()
            .filter(|i| expected_misses(i, s.sprint_field, s.at).contains(&name))
            .count() as u64;
        expected_score += step(misses, s.total) * weight / 100.0;
    }
    assert!((report["score"].as_f64().unwrap() - expected_score).abs() < 1e-9);

    let out = sei_jira(&[
        "hygiene",
        "--store",
        s.store,
        "--weights",
        "Idle=30,No Due Date=80",
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        said.contains("--weights") && said.contains("110 (Idle 30 + No Due Date 80)"),
        "{said}"
    );
}

/// Every sync takes the day's snapshot: the trend shows it, of every ticket.
fn every_sync_takes_the_days_snapshot_of_every_ticket(s: &Scene<'_>) {
    let trend = ok_json(sei_jira(&[
        "hygiene",
        "trend",
        "--store",
        s.store,
        "--interval",
        "month",
        "--json",
    ]));
    let last = trend["points"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["snapshot_day"],
        serde_json::json!(Utc::now().date_naive())
    );
    assert_eq!(last["total_tickets"], s.total);
}

/// A snapshot evaluated at an earlier instant stands for that day, and holds what the report at
/// that instant holds.
fn an_earlier_snapshot_stands_for_its_day_and_holds_that_report(s: &Scene<'_>) {
    let store = s.store;
    let then = "2026-11-02T12:00:00Z";
    ok_json(sei_jira(&[
        "hygiene", "snapshot", "--store", store, "--at", then, "--json",
    ]));
    let november = ok_json(sei_jira(&[
        "hygiene",
        "trend",
        "--store",
        store,
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--weights",
        "Idle=25,No Due Date=0",
        "--json",
    ]));
    let points = november["points"].as_array().unwrap();
    assert_eq!(
        points.len(),
        6,
        "six ISO weeks touch November 2026 (the 1st is a Sunday, the 30th a Monday): {november}"
    );
    assert_eq!(points[0]["from"], "2026-11-01");
    assert_eq!(points[0]["to"], "2026-11-01");
    // No snapshot was taken on the 1st: the sync's history build rebuilt that Sunday while it
    // was among the last 52 weeks.
    let first: chrono::NaiveDate = "2026-11-01".parse().unwrap();
    let today = Utc::now().date_naive();
    let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
    let rebuilt = monday - chrono::Days::new(7 * 52) < first;
    assert_eq!(points[0]["source"] == "history", rebuilt, "{november}");
    assert_eq!(points[0]["score"].is_null(), !rebuilt, "{november}");
    // The week after shows the snapshot taken in it, not the later point rebuilt for its end.
    assert_eq!(points[1]["snapshot_day"], "2026-11-02");
    assert_eq!(points[1]["source"], "snapshot");
    let at_then = ok_json(sei_jira(&[
        "hygiene",
        "--store",
        store,
        "--at",
        then,
        "--weights",
        "Idle=25,No Due Date=0",
        "--json",
    ]));
    assert_eq!(points[1]["score"], at_then["score"]);
}

/// A trend by the day is refused, naming `--interval`.
fn a_trend_by_the_day_is_refused_naming_the_flag(s: &Scene<'_>) {
    let out = sei_jira(&["hygiene", "trend", "--store", s.store, "--interval", "day"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--interval"));
}

#[tokio::test]
async fn excluded_description_and_comments_skip_their_categories() {
    let sim = start_sim(&["--issues", "150", "--projects", "2"]);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let token =
        jira_sim::user_token(&sim.startup, "alice@example.com").expect("a user of the simulator");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.redb");
    let store = store.to_str().unwrap();
    ok_json(sei_jira(&[
        "sync",
        "--exclude",
        "description,comments",
        "--store",
        store,
        "--url",
        &base,
        "--email",
        "alice@example.com",
        "--token",
        &token,
        "--allow-private-network",
        "--json",
    ]));
    let report = ok_json(sei_jira(&["hygiene", "--store", store, "--json"]));
    let by_name = |name: &str| {
        report["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["category"] == name)
            .unwrap()
            .clone()
    };
    for (name, reason) in [
        (
            "poor_description",
            "descriptions are excluded from ingestion",
        ),
        (
            "missed_response_time",
            "comments are excluded from ingestion",
        ),
    ] {
        let c = by_name(name);
        assert_eq!(c["skipped"], true, "{name}");
        assert_eq!(c["skipped_reason"], reason, "{name}");
        assert!(
            c["misses"].is_null(),
            "{name}: a skipped category has no count, not 0"
        );
        assert_eq!(c["weighted_score"], 0.0, "{name}");
    }
    assert_eq!(by_name("idle")["skipped"], false);

    // Bad input names the flag and changes nothing.
    let out = sei_jira(&["hygiene", "--store", store, "--weights", "Idle=190"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--weights"));
    let out = sei_jira(&["hygiene", "--store", store, "--at", "yesterday"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--at"));
    // The API's bounds and words, under the flag's name: one parser reads both.
    for (flags, said) in [
        (
            ["--idle-days", "4000"],
            "--idle-days: must be a whole number from 0 to 3650",
        ),
        (
            ["--stalled-days", "-1"],
            "--stalled-days: must be a whole number from 0 to 3650",
        ),
        (
            ["--response", "first-reply"],
            "--response: must be first_comment, first_status_change or earliest",
        ),
        (
            ["--created-to", "2020-01-01"],
            "--created-to: is before created_from",
        ),
    ] {
        let mut args = vec!["hygiene", "--store", store, "--created-from", "2021-01-01"];
        args.extend(flags);
        let out = sei_jira(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(said),
            "{flags:?}: {err}"
        );
    }
    // The flags the API has and the CLI lacked, taken as the API takes them.
    let out = sei_jira(&[
        "hygiene",
        "--store",
        store,
        "--json",
        "--stalled-days",
        "5",
        "--response",
        "first_status_change",
        "--priorities",
        "High,Highest",
        "--statuses",
        "To Do",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"name": "x", "conditions": [{"field": "labels", "operator": "greater_than", "value": 1}]}]"#,
    )
    .unwrap();
    let out = sei_jira(&[
        "hygiene",
        "--store",
        store,
        "--criteria",
        bad.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--criteria") && err.contains("criteria[0].conditions[0].operator"),
        "{err}"
    );
}

/// GIVEN a synced store of a site with two years of history, WHEN the report is asked at five
/// past instants, THEN each scores the tickets as they stood then, in every category: those
/// created by then, each with the fields, comments, resolution and sprints its events say it had
/// — as computed here from the simulator's own event history (`/_sim/truth`'s changelogs and
/// comments, its boards' sprints and its users), without calling the reconstruction. AND the
/// history the first sync built holds, at the end of each past week, what the definitions give
/// at that instant.
#[tokio::test]
async fn the_report_at_a_past_instant_scores_the_tickets_as_they_stood_then() {
    let sim = start_sim(&["--issues", "400", "--projects", "2"]);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let email = "alice@example.com";
    let token = jira_sim::user_token(&sim.startup, email).unwrap();
    let sprint_field = sim.startup["custom_fields"]["sprint"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.redb");
    let store = store.to_str().unwrap();
    cli_sync(store, &base, email, &token);
    let issues = truth(&base, email).await;
    let beside = beside(&base, email, &token, &issues).await;

    // What the definitions give at `at`: the tickets then, and each category's misses.
    let expected = |at: i64| -> (u64, BTreeMap<&'static str, u64>) {
        let then: Vec<Value> = issues
            .iter()
            .filter_map(|i| as_it_stood(i, sprint_field, &beside, at))
            .collect();
        let mut misses = BTreeMap::new();
        for issue in &then {
            for name in expected_misses(issue, sprint_field, at) {
                *misses.entry(name).or_insert(0) += 1;
            }
        }
        (then.len() as u64, misses)
    };
    // Custom misses on fields whose changes the simulator records (labels, priority), and one
    // it never changes (components).
    let named = ["Labelled", "Urgent", "Many labels", "Bare"];
    let rules: Vec<_> = custom_rules("no story points here")
        .into_iter()
        .filter(|(name, _)| named.contains(name))
        .collect();
    let kept = serde_json::json!([
        {"name": "Labelled", "conditions": [{"field": "labels", "operator": "present"}]},
        {"name": "Urgent", "conditions": [{"field": "priority", "operator": "equals", "values": ["high", "HIGHEST"]}]},
        {"name": "Many labels", "conditions": [{"field": "labels", "operator": "length_greater_than", "value": 1}]},
        {"name": "Bare", "conditions": [{"field": "components", "operator": "length_less_than", "value": 1}]},
    ]);
    let criteria_file = dir.path().join("criteria.json");
    std::fs::write(&criteria_file, kept.to_string()).unwrap();
    let criteria = criteria_file.to_str().unwrap();
    const HOUR: i64 = 3_600_000;
    let now = Utc::now().timestamp_millis() / HOUR * HOUR;
    for days_ago in [600, 400, 180, 90, 7] {
        let at = now - days_ago * DAY_MS;
        let at_text = DateTime::from_timestamp_millis(at)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let report = ok_json(sei_jira(&[
            "hygiene",
            "--store",
            store,
            "--at",
            &at_text,
            "--criteria",
            criteria,
            "--json",
        ]));
        let (tickets, misses) = expected(at);
        // The custom misses, on the fields as their events say they stood.
        let rows = report["categories"].as_array().unwrap();
        assert_eq!(rows.len(), 9 + rules.len());
        for (row, (name, rule)) in rows[9..].iter().zip(&rules) {
            let want = issues
                .iter()
                .filter_map(|i| as_it_stood(i, sprint_field, &beside, at))
                .filter(|i| rule(i))
                .count();
            assert_eq!(row["name"], *name);
            assert_eq!(row["misses"], want as u64, "{name}, {days_ago} days ago");
        }
        assert_eq!(report["total_tickets"], tickets, "{days_ago} days ago");
        assert!(
            0 < tickets && tickets < issues.len() as u64,
            "{days_ago} days ago: some did not exist yet"
        );
        for category in &rows[..9] {
            let name = category["category"].as_str().unwrap();
            let want = misses.get(name).copied().unwrap_or(0);
            assert_eq!(category["misses"], want, "{name}, {days_ago} days ago");
        }
        assert_eq!(report["counted_from"], "issues");
    }

    // The history the sync built: each week's end as the definitions give it then.
    let from = (Utc::now() - chrono::Days::new(70))
        .date_naive()
        .to_string();
    let trend = ok_json(sei_jira(&[
        "hygiene", "trend", "--store", store, "--from", &from, "--json",
    ]));
    let rebuilt: Vec<&Value> = trend["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["source"] == "history")
        .collect();
    assert!(rebuilt.len() >= 9, "{trend}");
    for point in rebuilt {
        let day: chrono::NaiveDate = point["snapshot_day"].as_str().unwrap().parse().unwrap();
        // The last hour of the week's Sunday.
        let at = day
            .and_hms_opt(23, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let (tickets, misses) = expected(at);
        assert_eq!(point["total_tickets"], tickets, "{day}");
        let score: f64 = misses
            .iter()
            .filter(|(name, _)| **name != "stalled_in_active_sprint")
            .map(|(_, n)| step(*n, tickets) * 12.5 / 100.0)
            .sum::<f64>()
            + 12.5
                * (8 - misses
                    .keys()
                    .filter(|n| **n != "stalled_in_active_sprint")
                    .count()) as f64;
        assert!(
            (point["score"].as_f64().unwrap() - score).abs() < 0.051,
            "{day}: {point} vs {score} from {misses:?}"
        );
    }

    // Asked again for fewer weeks, the build starts over and keeps those weeks' points; weeks out
    // of bounds are refused under the flag's name.
    let asked = ok_json(sei_jira(&[
        "hygiene", "history", "--store", store, "--weeks", "3", "--json",
    ]));
    assert_eq!(asked["state"], "built", "{asked}");
    assert_eq!(asked["build"]["weeks"], 3);
    assert_eq!(asked["build"]["issues"], issues.len() as u64);
    assert!(asked["build"]["instants"].as_array().unwrap().len() >= 3);
    let out = sei_jira(&["hygiene", "history", "--store", store, "--weeks", "0"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("--weeks: weeks must be from 1 to 104"),
        "{err}"
    );
}

/// The simulator's sprints (from its boards, as the Agile API lists them) and users' account
/// status (from the issues' people).
async fn beside(base: &str, email: &str, token: &str, issues: &[Value]) -> Beside {
    let client = reqwest::Client::new();
    let get = |path: String| {
        let client = client.clone();
        async move {
            client
                .get(format!("{base}{path}"))
                .basic_auth(email, Some(token))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let mut out = Beside::default();
    let boards = get("/rest/agile/1.0/board?maxResults=100".into()).await;
    for board in boards["values"].as_array().unwrap() {
        let mut start_at = 0;
        loop {
            let page = get(format!(
                "/rest/agile/1.0/board/{}/sprint?startAt={start_at}&maxResults=50",
                board["id"]
            ))
            .await;
            let values = page["values"].as_array().unwrap();
            for sprint in values {
                let when = |k: &str| sprint[k].as_str().map(e2e::hygiene_truth::iso_ms);
                out.sprints.insert(
                    id_text(&sprint["id"]),
                    (when("startDate"), when("completeDate")),
                );
            }
            start_at += values.len();
            if page["isLast"] != false || values.is_empty() {
                break;
            }
        }
    }
    let people = issues.iter().flat_map(|i| {
        let f = &i["fields"];
        [
            f["assignee"].clone(),
            f["reporter"].clone(),
            f["creator"].clone(),
        ]
    });
    for person in people {
        if let (Some(id), Some(active)) = (person["accountId"].as_str(), person["active"].as_bool())
        {
            out.active.insert(id.to_string(), active);
        }
    }
    assert!(!out.sprints.is_empty() && !out.active.is_empty());
    out
}
