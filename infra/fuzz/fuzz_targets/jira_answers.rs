//! What a Jira site answers, as bytes: no model, nor the ADF reader, may panic on any of it;
//! and where an issue's fields parse, the lean parser keeps exactly what plain JSON parsing
//! keeps, less the presentation-only keys at every depth.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sei_jira_client::adf::plain_text;
use sei_jira_client::lean::PRESENTATION_ONLY;
use sei_jira_client::models::{
    BulkChangelog, BulkIssues, CommentsPage, Issue, LegacySearchPage, SearchPage,
};
use serde_json::{Value, json};

fn without_presentation(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !PRESENTATION_ONLY.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), without_presentation(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_presentation).collect()),
        other => other.clone(),
    }
}

fuzz_target!(|bytes: &[u8]| {
    let _ = serde_json::from_slice::<SearchPage>(bytes);
    let _ = serde_json::from_slice::<LegacySearchPage>(bytes);
    let _ = serde_json::from_slice::<BulkIssues>(bytes);
    let _ = serde_json::from_slice::<BulkChangelog>(bytes);
    let _ = serde_json::from_slice::<CommentsPage>(bytes);
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    let text = plain_text(&value);
    assert_eq!(text.trim_end(), text, "ADF text never ends in whitespace");
    if value.is_object() {
        let issue = json!({"id": "1", "key": "K-1", "fields": value});
        let parsed: Issue = serde_json::from_value(issue).expect("an object is a field map");
        assert_eq!(Value::Object(parsed.fields), without_presentation(&value));
    }
});
