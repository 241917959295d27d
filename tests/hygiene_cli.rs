//! `sei-jira hygiene` against the simulator's ground truth: the report of a synced store equals a
//! computation written here from the definitions, over `/_sim/truth` (what the syncing user can
//! see), without calling the scorer.

use chrono::{DateTime, Utc};
use e2e::{sei_jira, start_sim};
use serde_json::Value;

const DAY_MS: i64 = 86_400_000;

/// Whether a ground-truth issue is in a criterion's undesired state.
type Rule<'a> = Box<dyn Fn(&Value) -> bool + 'a>;

fn ok_json(out: std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Jira's timestamp (`2026-01-25T11:09:27.985+0000`) in epoch milliseconds.
fn ms(text: &str) -> i64 {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_millis()
}

/// The description's plain text: the text of each paragraph, heading and code block, one line
/// each; wiki markup (a string) as it is.
fn plain_text(doc: &Value) -> String {
    fn blocks(node: &Value, lines: &mut Vec<String>) {
        let kind = node["type"].as_str().unwrap_or("");
        if matches!(kind, "paragraph" | "heading" | "codeBlock") {
            let mut line = String::new();
            texts(node, &mut line);
            lines.push(line);
        } else if let Some(children) = node["content"].as_array() {
            children.iter().for_each(|c| blocks(c, lines));
        }
    }
    fn texts(node: &Value, out: &mut String) {
        if let Some(t) = node["text"].as_str() {
            out.push_str(t);
        }
        if let Some(children) = node["content"].as_array() {
            children.iter().for_each(|c| texts(c, out));
        }
    }
    if let Some(s) = doc.as_str() {
        return s.to_string();
    }
    let mut lines = Vec::new();
    blocks(doc, &mut lines);
    lines.join("\n")
}

fn empty(v: &Value) -> bool {
    v.is_null() || v.as_str().is_some_and(str::is_empty) || v.as_array().is_some_and(Vec::is_empty)
}

/// Which built-in categories a truth issue misses at `at`, by the definitions.
fn expected_misses(issue: &Value, sprint_field: &str, at: i64) -> Vec<&'static str> {
    let f = &issue["fields"];
    let created = ms(f["created"].as_str().unwrap());
    let status_changes: Vec<i64> = issue["changelog"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| {
            h["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["field"] == "status")
        })
        .map(|h| ms(h["created"].as_str().unwrap()))
        .collect();
    let first_comment = issue["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| ms(c["created"].as_str().unwrap()))
        .min();
    let resolved = f["resolutiondate"].as_str().map(ms);
    let in_active_sprint = f[sprint_field]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s["state"] == "active"));
    let mut misses = Vec::new();
    if at - ms(f["updated"].as_str().unwrap()) > 10 * DAY_MS {
        misses.push("idle");
    }
    if f["description"].is_null() || plain_text(&f["description"]).trim().chars().count() < 30 {
        misses.push("poor_description");
    }
    if empty(&f["duedate"]) {
        misses.push("no_due_date");
    }
    if f["assignee"].is_null() {
        misses.push("no_assignee");
    }
    if empty(&f["components"]) {
        misses.push("no_components");
    }
    if first_comment.unwrap_or(at) - created > DAY_MS {
        misses.push("missed_response_time");
    }
    if resolved.unwrap_or(at) - created > DAY_MS {
        misses.push("missed_resolution_time");
    }
    if f["assignee"]["active"] == false {
        misses.push("inactive_assignee");
    }
    if in_active_sprint && at - status_changes.iter().max().copied().unwrap_or(created) > 3 * DAY_MS
    {
        misses.push("stalled_in_active_sprint");
    }
    misses
}

/// The established product's step table.
fn step(misses: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    if misses == 0 {
        return 100.0;
    }
    let pct = misses as f64 * 100.0 / total as f64;
    match pct {
        p if p <= 11.0 => 75.0,
        p if p <= 21.0 => 55.0,
        p if p <= 31.0 => 30.0,
        p if p <= 41.0 => 10.0,
        _ => 5.0,
    }
}

async fn truth(base: &str, email: &str) -> Vec<Value> {
    let v: Value = reqwest::get(format!("{base}/_sim/truth?as={email}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["issues"].as_array().unwrap().clone()
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
    let connection = [
        "--url",
        &base,
        "--email",
        email,
        "--token",
        &token,
        "--allow-private-network",
    ];
    ok_json(sei_jira(
        &[&["sync", "--store", store, "--json"][..], &connection[..]].concat(),
    ));
    let at = Utc::now().timestamp_millis() / 1000 * 1000;
    let at_text = DateTime::from_timestamp_millis(at)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let report = ok_json(sei_jira(&[
        "hygiene", "--store", store, "--at", &at_text, "--json",
    ]));

    let issues = truth(&base, email).await;
    let total = issues.len() as u64;
    assert!(total > 100, "{total}");
    assert_eq!(report["total_tickets"], total);
    let mut expected_score = 0.0;
    for category in report["categories"].as_array().unwrap() {
        let name = category["category"].as_str().unwrap();
        let misses = issues
            .iter()
            .filter(|i| expected_misses(i, &sprint_field, at).contains(&name))
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
    assert_eq!(report["evaluated_at"], at_text);

    // Custom misses, one per operator, against the same definitions over the ground truth.
    let story_points = sim.startup["custom_fields"]["story_points"]
        .as_str()
        .unwrap()
        .to_string();
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
    let criteria_file = dir.path().join("criteria.json");
    std::fs::write(&criteria_file, criteria.to_string()).unwrap();
    let with_custom = ok_json(sei_jira(&[
        "hygiene",
        "--store",
        store,
        "--at",
        &at_text,
        "--criteria",
        criteria_file.to_str().unwrap(),
        "--weights",
        "large=10,No Due Date=2.5",
        "--json",
    ]));
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
    let points = |v: &Value| v["fields"][story_points.as_str()].as_f64();
    let rules: Vec<(&str, Rule)> = vec![
        (
            "No fix version",
            Box::new(|v| names(v, "fixVersions").is_empty()),
        ),
        ("Labelled", Box::new(|v| !names(v, "labels").is_empty())),
        (
            "Urgent",
            Box::new(|v| {
                names(v, "priority")
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case("high") || p.eq_ignore_ascii_case("highest"))
            }),
        ),
        ("Not done", Box::new(|v| !done(v))),
        ("Many labels", Box::new(|v| names(v, "labels").len() > 1)),
        ("Bare", Box::new(|v| names(v, "components").is_empty())),
        ("Large", Box::new(|v| points(v).is_some_and(|p| p > 5.0))),
        (
            "Small open",
            Box::new(|v| points(v).is_some_and(|p| p < 3.0) && !done(v)),
        ),
    ];
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
        .filter(|i| expected_misses(i, &sprint_field, at).contains(&"no_due_date"))
        .count() as u64;
    let expected = expected_score - step(no_due, total) * 12.5 / 100.0
        + step(no_due, total) * 2.5 / 100.0
        + custom_score;
    assert!((with_custom["score"].as_f64().unwrap() - expected).abs() < 1e-9);

    // A filter narrows the tickets; weights move the score.
    let plat = ok_json(sei_jira(&[
        "hygiene",
        "--store",
        store,
        "--at",
        &at_text,
        "--projects",
        "PLAT",
        "--weights",
        "Idle=25,No Due Date=0",
        "--json",
    ]));
    let plat_issues: Vec<&Value> = issues.iter().filter(|i| i["project"] == "PLAT").collect();
    assert_eq!(plat["total_tickets"], plat_issues.len() as u64);
    let idle = &plat["categories"][0];
    assert_eq!(idle["category"], "idle");
    assert_eq!(idle["weight"], 25.0);
    assert_eq!(plat["categories"][2]["weighted_score"], 0.0);
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
    let out = sei_jira(&["hygiene", "--store", store, "--weights", "Idle=90"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--weights"));
    let out = sei_jira(&["hygiene", "--store", store, "--at", "yesterday"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--at"));
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
