//! The fields custom criteria read ([`super::criteria`]), as they stood at an instant: each
//! change made after it taken back, newest first, as [`super::as_of`] does for the built-in
//! categories' facts. A change is taken back by the field id Jira gives it, with the value shapes
//! criteria read names from (a text, a number, an object's name or value, a list of them):
//! labels as the words the change replaced; components and versions by the one element a change
//! added or removed; the status with its category then; people, priority, type and resolution by
//! name; sprints by the names the change replaced; any other field as the text (or number) it
//! replaced, an option by its value. A change Jira recorded without a field id (some Data Center
//! custom fields) cannot be placed and leaves today's value.

use serde_json::{Map, Value, json};

use super::as_of::{Past, instant};
use crate::jira::models::ChangeItem;
use crate::store::records::StoredIssue;

/// `issue` as custom criteria read it at `at_ms`: its fields taken back through every change
/// made after it (the changelog and comments are left out: criteria do not read them).
pub fn fields_at(issue: &StoredIssue, past: &Past, at_ms: i64) -> StoredIssue {
    let mut fields = issue.fields.clone();
    let later = issue
        .changelog
        .iter()
        .rev()
        .filter(|h| instant(&h.created).is_some_and(|t| t > at_ms));
    for history in later {
        for item in history.items.iter().rev() {
            if let Some(id) = item.field_id.as_deref() {
                take_back(&mut fields, id, item, past);
            }
        }
    }
    StoredIssue {
        id: issue.id.clone(),
        key: issue.key.clone(),
        project_key: issue.project_key.clone(),
        updated_ms: issue.updated_ms,
        fields,
        ..StoredIssue::default()
    }
}

/// Puts back in `fields[id]` what `item` replaced.
fn take_back(fields: &mut Map<String, Value>, id: &str, item: &ChangeItem, past: &Past) {
    let from = item.from_string.as_deref().filter(|s| !s.trim().is_empty());
    let named = |name: Option<&str>| name.map_or(Value::Null, |n| json!({ "name": n }));
    let value = match id {
        "labels" => Value::Array(
            from.unwrap_or_default()
                .split_whitespace()
                .map(|l| json!(l))
                .collect(),
        ),
        "status" => match from {
            Some(name) => json!({"name": name, "statusCategory": {"name": past.category_of(name)}}),
            None => Value::Null,
        },
        "assignee" | "reporter" => match item.from.as_deref() {
            Some(account) => json!({"accountId": account, "displayName": from}),
            None => Value::Null,
        },
        "priority" | "issuetype" | "resolution" => named(from),
        "components" | "fixVersions" | "versions" => {
            let mut list = match fields.remove(id) {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            };
            if let Some(added) = item.to_string.as_deref() {
                if let Some(at) = list.iter().position(|v| v["name"] == added) {
                    list.remove(at);
                }
            }
            if let Some(removed) = from {
                list.push(json!({ "name": removed }));
            }
            Value::Array(list)
        }
        _ if item.field.eq_ignore_ascii_case("sprint") => Value::Array(
            from.unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|n| json!({ "name": n }))
                .collect(),
        ),
        _ => match (fields.get(id), from) {
            (_, None) => Value::Null,
            (Some(Value::Number(_)) | None | Some(Value::Null), Some(text)) => number(text),
            (Some(Value::Object(_)), Some(text)) => json!({ "value": text }),
            (Some(Value::Array(_)), Some(text)) => Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|v| json!({ "value": v }))
                    .collect(),
            ),
            (Some(_), Some(text)) => json!(text),
        },
    };
    fields.insert(id.to_string(), value);
}

/// A number as Jira wrote it in the changelog (`5`, `2.5`), else the text.
fn number(text: &str) -> Value {
    let text = text.trim();
    if let Ok(n) = text.parse::<i64>() {
        return json!(n);
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or_else(|| json!(text), Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hygiene::as_of::tests::{HOUR, T0, at};
    use crate::hygiene::criteria::{Catalog, Criterion, matches};
    use crate::jira::models::History;

    fn change(hours: i64, id: &str, from: Option<&str>, to: Option<&str>) -> History {
        History {
            created: at(hours),
            items: vec![ChangeItem {
                field: id.into(),
                field_id: Some(id.into()),
                from_string: from.map(str::to_string),
                to_string: to.map(str::to_string),
                ..ChangeItem::default()
            }],
            ..History::default()
        }
    }

    fn criterion(text: serde_json::Value) -> Criterion {
        serde_json::from_value(text).unwrap()
    }

    #[test]
    fn custom_criteria_read_the_fields_as_they_stood() {
        let issue = StoredIssue {
            id: "1".into(),
            fields: serde_json::from_value(json!({
                "labels": ["api", "ux"],
                "priority": {"name": "High"},
                "customfield_10016": 8,
                "components": [{"name": "Web"}],
                "customfield_10050": {"value": "Gold"},
            }))
            .unwrap(),
            changelog: vec![
                change(1, "labels", None, Some("api")),
                change(2, "customfield_10016", Some("3"), Some("8")),
                change(3, "labels", Some("api"), Some("api ux")),
                change(3, "priority", Some("Low"), Some("High")),
                change(4, "components", None, Some("Web")),
                change(5, "customfield_10050", Some("Silver"), Some("Gold")),
            ],
            ..StoredIssue::default()
        };
        let past = Past::default();
        let labels = |h: i64| fields_at(&issue, &past, T0 + h * HOUR).fields["labels"].clone();
        assert_eq!(labels(0), json!([]));
        assert_eq!(labels(1), json!(["api"]), "a change at the instant counts");
        assert_eq!(labels(2), json!(["api"]));
        assert_eq!(labels(9), json!(["api", "ux"]));
        let then = fields_at(&issue, &past, T0 + 2 * HOUR);
        assert_eq!(then.fields["customfield_10016"], json!(8));
        assert_eq!(then.fields["priority"], json!({"name": "Low"}));
        assert_eq!(then.fields["components"], json!([]));
        assert_eq!(then.fields["customfield_10050"], json!({"value": "Silver"}));
        let before = fields_at(&issue, &past, T0 + HOUR + HOUR / 2);
        assert_eq!(before.fields["customfield_10016"], json!(3));

        let catalog = Catalog::new(&[], &crate::sync::plan::FieldMap::default());
        let urgent = criterion(json!({"name": "Urgent", "conditions": [
            {"field": "priority", "operator": "equals", "values": ["High"]}]}));
        let many = criterion(json!({"name": "Many labels", "conditions": [
            {"field": "labels", "operator": "length_greater_than", "value": 1}]}));
        for (hours, expected) in [(2, [false, false]), (3, [true, true])] {
            let then = fields_at(&issue, &past, T0 + hours * HOUR);
            let got = [
                matches(&urgent, &then, &catalog),
                matches(&many, &then, &catalog),
            ];
            assert_eq!(got, expected, "{hours} h");
        }
    }
}
