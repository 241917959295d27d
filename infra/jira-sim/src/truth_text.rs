//! What tests look for in a store to prove exclusions took effect.

use serde_json::Value;

/// Every text of a `/_sim/truth` answer's issues that exclusions keep out: each issue's summary
/// and description (their text nodes), every summary and description a history recorded, and
/// each comment's text; as they stand in stored JSON (escaped), the short ones left out.
pub fn excluded_texts(truth: &[Value]) -> Vec<String> {
    fn texts(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| texts(i, out)),
            Value::Object(map) => {
                if let Some(t) = map.get("text") {
                    texts(t, out);
                }
                if let Some(c) = map.get("content") {
                    texts(c, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for t in truth {
        texts(&t["fields"]["summary"], &mut out);
        texts(&t["fields"]["description"], &mut out);
        for h in t["changelog"].as_array().unwrap() {
            for i in h["items"].as_array().unwrap() {
                if i["field"] == "summary" || i["field"] == "description" {
                    texts(&i["fromString"], &mut out);
                    texts(&i["toString"], &mut out);
                }
            }
        }
        for c in t["comments"].as_array().unwrap() {
            texts(&c["body"], &mut out);
        }
    }
    // Short words (a heading, "OK") could stand anywhere; the longer texts are the site's own.
    out.retain(|s| s.chars().count() >= 24);
    // As they stand in stored JSON (quotes and control characters escaped).
    let mut out: Vec<String> = out
        .iter()
        .map(|s| {
            let quoted = serde_json::to_string(s).unwrap();
            quoted[1..quoted.len() - 1].to_string()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
