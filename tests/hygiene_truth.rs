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

/// What a rewound issue needs that its own history does not say: each sprint's start and
/// completion, and each user's account status (today's: Jira keeps no history of it).
#[derive(Default)]
pub struct Beside {
    pub sprints: std::collections::HashMap<String, (Option<i64>, Option<i64>)>,
    pub active: std::collections::HashMap<String, bool>,
}

/// A truth issue as it stood at `at`, by the simulator's own events: every change made after
/// `at` taken back, newest first; comments and changelog entries after `at` left out; `updated`
/// the latest event up to `at`; each sprint's state as its dates say. None when it was created
/// after `at`. Only what [`expected_misses`] reads is rewound.
pub fn as_it_stood(issue: &Value, sprint_field: &str, beside: &Beside, at: i64) -> Option<Value> {
    let created = ms(issue["fields"]["created"].as_str().unwrap());
    if created > at {
        return None;
    }
    let mut v = issue.clone();
    let histories = issue["changelog"].as_array().unwrap();
    let f = &mut v["fields"];
    let mut components: Vec<Value> = f["components"].as_array().cloned().unwrap_or_default();
    let mut resolved = !f["resolution"].is_null();
    let mut sprints: Vec<String> = f[sprint_field]
        .as_array()
        .map(|all| all.iter().map(|s| id_text(&s["id"])).collect())
        .unwrap_or_default();
    let text = |x: &Value| x.as_str().map(str::to_string);
    for h in histories.iter().rev() {
        if ms(h["created"].as_str().unwrap()) <= at {
            continue;
        }
        for item in h["items"].as_array().unwrap().iter().rev() {
            let (from, from_string) = (&item["from"], &item["fromString"]);
            match item["field"].as_str().unwrap() {
                "status" => f["status"] = serde_json::json!({"name": from_string}),
                "assignee" => {
                    f["assignee"] = match text(from) {
                        Some(id) => serde_json::json!({
                            "accountId": id,
                            "active": beside.active.get(&id).copied().unwrap_or(true),
                        }),
                        None => Value::Null,
                    }
                }
                "duedate" => f["duedate"] = from.clone(),
                "labels" => {
                    f["labels"] = from_string
                        .as_str()
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(|l| serde_json::json!(l))
                        .collect()
                }
                "priority" => f["priority"] = serde_json::json!({"name": from_string}),
                "description" => f["description"] = from_string.clone(),
                "resolution" => resolved = !from.is_null(),
                "Component" | "components" => {
                    if let Some(added) = item["to"].as_str()
                        && let Some(at) = components.iter().position(|c| c["id"] == added)
                    {
                        components.remove(at);
                    }
                    if !from.is_null() {
                        components.push(serde_json::json!({"id": from, "name": from_string}));
                    }
                }
                "Sprint" => {
                    sprints = text(from)
                        .unwrap_or_default()
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                }
                _ => {}
            }
        }
    }
    f["components"] = Value::Array(components);
    // Resolved then: since the last change up to `at` that set a resolution (else, with no such
    // change, since today's resolution date if that was by then).
    let set_by_then = histories
        .iter()
        .filter(|h| ms(h["created"].as_str().unwrap()) <= at)
        .filter(|h| {
            h["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["field"] == "resolution" && !i["to"].is_null())
        })
        .map(|h| ms(h["created"].as_str().unwrap()))
        .max();
    let today = f["resolutiondate"].as_str().map(ms).filter(|r| *r <= at);
    f["resolutiondate"] = match (resolved, set_by_then.or(today)) {
        (true, Some(when)) => Value::String(jira_time(when)),
        _ => Value::Null,
    };
    f[sprint_field] = Value::Array(
        sprints
            .iter()
            .map(|id| {
                let (start, complete) = beside.sprints.get(id).copied().unwrap_or_default();
                let active = start.is_some_and(|s| s <= at) && complete.is_none_or(|c| c > at);
                serde_json::json!({"id": id, "state": if active { "active" } else { "other" }})
            })
            .collect(),
    );
    let mut updated = created;
    for h in histories {
        let when = ms(h["created"].as_str().unwrap());
        if when <= at {
            updated = updated.max(when);
        }
    }
    let comments: Vec<Value> = issue["comments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| ms(c["created"].as_str().unwrap()) <= at)
        .cloned()
        .collect();
    for c in &comments {
        let (created, edited) = (
            ms(c["created"].as_str().unwrap()),
            ms(c["updated"].as_str().unwrap()),
        );
        updated = updated.max(if edited <= at { edited } else { created });
    }
    // Nothing happened after `at`: Jira's own `updated` stands (it also moves on edits no
    // changelog records).
    if ms(issue["fields"]["updated"].as_str().unwrap()) > at {
        v["fields"]["updated"] = Value::String(jira_time(updated));
    }
    v["comments"] = Value::Array(comments);
    v["changelog"] = Value::Array(
        histories
            .iter()
            .filter(|h| ms(h["created"].as_str().unwrap()) <= at)
            .cloned()
            .collect(),
    );
    Some(v)
}

/// An RFC 3339 instant (the Agile API's dates) in epoch milliseconds.
pub fn iso_ms(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_millis()
}

/// A sprint id, number or string, as text.
pub fn id_text(id: &Value) -> String {
    id.as_str().map_or_else(|| id.to_string(), str::to_string)
}

/// Epoch milliseconds as Jira writes a timestamp.
pub fn jira_time(at: i64) -> String {
    DateTime::from_timestamp_millis(at)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}
