//! Turns what Jira returned into what we store: excluded text removed everywhere it appears
//! (fields, linked issues' summaries, changelog items), presentation noise dropped (avatars,
//! icons, self links), timestamps kept as Jira wrote them.

use serde_json::{Map, Value};

use super::plan::Excluded;
use crate::jira::lean::PRESENTATION_ONLY;
use crate::jira::models::{Comment, History, Issue};
use crate::store::StoredIssue;

/// Drops presentation noise at any depth.
fn compact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for k in PRESENTATION_ONLY {
                map.remove(*k);
            }
            map.values_mut().for_each(compact);
        }
        Value::Array(items) => items.iter_mut().for_each(compact),
        _ => {}
    }
}

/// Drops excluded text from the copies of linked issues (parent, issuelinks, subtasks embed
/// their own summary) at any depth; whether any was there.
fn drop_linked_text(v: &mut Value, excluded: &Excluded) -> bool {
    match v {
        Value::Object(map) => {
            let mut dropped = false;
            if let Some(Value::Object(fields)) = map.get_mut("fields") {
                dropped |= drop_fields(fields, excluded);
            }
            for child in map.values_mut() {
                dropped |= drop_linked_text(child, excluded);
            }
            dropped
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |d, i| drop_linked_text(i, excluded) | d),
        _ => false,
    }
}

fn drop_fields(fields: &mut Map<String, Value>, excluded: &Excluded) -> bool {
    let before = fields.len();
    excluded.drop_text(fields);
    fields.len() != before
}

/// Removes from an issue everything `excluded` keeps out of the store: the fields, their copies
/// in linked issues, changelog items about them (and histories left empty), the comments. The
/// one place exclusions are applied, to what Jira answers and to what is already stored;
/// whether anything was removed.
pub fn scrub(issue: &mut StoredIssue, excluded: &Excluded) -> bool {
    if *excluded == Excluded::default() {
        // Nothing to look for: no walk over every field of every issue synced.
        return false;
    }
    let mut dropped = drop_fields(&mut issue.fields, excluded);
    for v in issue.fields.values_mut() {
        dropped |= drop_linked_text(v, excluded);
    }
    let items = |c: &[History]| c.iter().map(|h| h.items.len()).sum::<usize>();
    let (histories, before) = (issue.changelog.len(), items(&issue.changelog));
    for h in &mut issue.changelog {
        h.items
            .retain(|i| !excluded.drops_item(i.field_id.as_deref(), &i.field));
    }
    // A history whose only items were excluded text says nothing once they are gone.
    issue.changelog.retain(|h| !h.items.is_empty());
    dropped |= issue.changelog.len() != histories || items(&issue.changelog) != before;
    if excluded.comments && !issue.comments.is_empty() {
        issue.comments.clear();
        dropped = true;
    }
    dropped
}

/// The stored form of an issue. `changelog` must be complete and oldest first; `comments`
/// complete and oldest first (ignored when comments are excluded).
pub fn stored_issue(
    issue: Issue,
    changelog: Vec<History>,
    comments: Vec<Comment>,
    excluded: &Excluded,
) -> StoredIssue {
    let mut fields: Map<String, Value> = issue.fields;
    fields.remove("comment");
    fields.values_mut().for_each(compact);
    let project_key = fields
        .get("project")
        .and_then(|p| p["key"].as_str())
        .map(String::from)
        .unwrap_or_else(|| issue.key.split('-').next().unwrap_or("").to_string());
    let updated_ms = fields
        .get("updated")
        .and_then(Value::as_str)
        .and_then(crate::jira::time::parse)
        .map(|t| t.timestamp_millis())
        .unwrap_or(0);
    let mut stored = StoredIssue {
        id: issue.id,
        key: issue.key,
        project_key,
        updated_ms,
        fields,
        changelog,
        comments,
        ..StoredIssue::default()
    };
    scrub(&mut stored, excluded);
    stored
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::models::ChangeItem;
    use serde_json::json;

    #[test]
    fn excluded_text_is_gone_from_every_corner() {
        let issue = Issue {
            id: "1".into(),
            key: "P-1".into(),
            fields: json!({
                "summary": "secret summary", "description": {"type": "doc"}, "comment": {"total": 1},
                "updated": "2026-01-01T00:00:00.000+0000", "project": {"key": "P", "self": "x", "avatarUrls": {}},
                "parent": {"key": "P-0", "fields": {"summary": "parent secret", "status": {"name": "Done", "iconUrl": "i"}}},
                "issuelinks": [{"outwardIssue": {"key": "P-2", "fields": {"summary": "linked secret"}}}],
            })
            .as_object()
            .unwrap()
            .clone(),
            changelog: None,
        };
        let item = |f: &str| ChangeItem {
            field: f.into(),
            field_id: Some(f.into()),
            to_string: Some(format!("{f} text")),
            ..ChangeItem::default()
        };
        let histories = vec![
            History {
                id: "1".into(),
                items: vec![item("summary")],
                ..History::default()
            },
            History {
                id: "2".into(),
                items: vec![item("status"), item("description")],
                ..History::default()
            },
        ];
        let e = Excluded {
            summary: true,
            description: true,
            comments: true,
        };
        let stored = stored_issue(issue, histories, vec![Comment::default()], &e);
        let text = serde_json::to_string(&stored).unwrap();
        for secret in [
            "secret",
            "summary text",
            "description text",
            "avatarUrls",
            "iconUrl",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(stored.changelog.len(), 1);
        assert_eq!(stored.changelog[0].items.len(), 1);
        assert!(stored.comments.is_empty());
        assert_eq!(
            (stored.project_key.as_str(), stored.updated_ms),
            ("P", 1_767_225_600_000)
        );
    }
}
