//! The hygiene definitions written out independently of the scorer, over the simulator's ground
//! truth (`/_sim/truth`): what each built-in category means for one issue, and the established
//! product's step table. End-to-end tests compare reports with these, never with the scorer.

use chrono::DateTime;
use serde_json::Value;

pub const DAY_MS: i64 = 86_400_000;

/// Jira's timestamp (`2026-01-25T11:09:27.985+0000`) in epoch milliseconds.
pub fn ms(text: &str) -> i64 {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_millis()
}

/// The description's plain text: the text of each paragraph, heading and code block, one line
/// each; wiki markup (a string) as it is.
pub fn plain_text(doc: &Value) -> String {
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

pub fn empty(v: &Value) -> bool {
    v.is_null() || v.as_str().is_some_and(str::is_empty) || v.as_array().is_some_and(Vec::is_empty)
}

/// Which built-in categories a truth issue misses at `at`, by the definitions.
pub fn expected_misses(issue: &Value, sprint_field: &str, at: i64) -> Vec<&'static str> {
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
pub fn step(misses: u64, total: u64) -> f64 {
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

pub async fn truth(base: &str, email: &str) -> Vec<Value> {
    let v: Value = reqwest::get(format!("{base}/_sim/truth?as={email}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["issues"].as_array().unwrap().clone()
}
