//! What the hygiene rules need to know of one issue, read once from its stored form: times,
//! whether fields are empty, the description's length, the first response, status changes and
//! whether it sits in an active sprint. Plain data, so the rules never touch Jira's JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jira::{adf, time};
use crate::store::records::StoredIssue;

/// The assignee as hygiene sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignee {
    /// Cloud's `accountId`, or Data Center's `key` / `name`.
    pub id: String,
    /// Jira's `active` flag; None when Jira did not say.
    pub active: Option<bool>,
}

/// One issue, reduced to what the hygiene rules read (and what the kept index holds of it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IssueFacts {
    pub created_ms: Option<i64>,
    pub updated_ms: i64,
    pub resolved_ms: Option<i64>,
    pub has_due_date: bool,
    pub assignee: Option<Assignee>,
    pub components: usize,
    /// Characters of the description's plain text after trimming; None without a description.
    pub description_chars: Option<usize>,
    pub first_comment_ms: Option<i64>,
    pub first_status_change_ms: Option<i64>,
    pub last_status_change_ms: Option<i64>,
    pub in_active_sprint: bool,
    /// Names, for the SLA of the issue's (project, issue type, priority) and for filters.
    pub project: String,
    pub issue_type: Option<String>,
    pub priority: Option<String>,
    pub status: Option<String>,
    /// The status category's name (`To Do`, `In Progress`, `Done`).
    pub status_category: Option<String>,
}

impl IssueFacts {
    /// The facts of a stored issue; `sprint_field` is the site's sprint field id, if it has one.
    pub fn of(issue: &StoredIssue, sprint_field: Option<&str>) -> IssueFacts {
        let f = &issue.fields;
        let status_changes: Vec<i64> = issue
            .changelog
            .iter()
            .filter(|h| {
                h.items
                    .iter()
                    .any(|i| is_status(i.field_id.as_deref(), &i.field))
            })
            .filter_map(|h| instant(&h.created))
            .collect();
        IssueFacts {
            created_ms: f.get("created").and_then(Value::as_str).and_then(instant),
            updated_ms: issue.updated_ms,
            resolved_ms: f
                .get("resolutiondate")
                .and_then(Value::as_str)
                .and_then(instant),
            has_due_date: f
                .get("duedate")
                .and_then(Value::as_str)
                .is_some_and(|d| !d.trim().is_empty()),
            assignee: f.get("assignee").and_then(assignee),
            components: f
                .get("components")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
            description_chars: f
                .get("description")
                .filter(|d| !d.is_null())
                .map(|d| adf::plain_text(d).trim().chars().count()),
            first_comment_ms: issue
                .comments
                .iter()
                .filter_map(|c| instant(&c.created))
                .min(),
            first_status_change_ms: status_changes.iter().copied().min(),
            last_status_change_ms: status_changes.iter().copied().max(),
            in_active_sprint: sprint_field
                .and_then(|id| f.get(id))
                .is_some_and(has_active_sprint),
            project: issue.project_key.clone(),
            issue_type: name_of(f.get("issuetype")),
            priority: name_of(f.get("priority")),
            status: name_of(f.get("status")),
            status_category: name_of(f.get("status").and_then(|s| s.get("statusCategory"))),
        }
    }
}

fn instant(text: &str) -> Option<i64> {
    time::parse(text).map(|t| t.timestamp_millis())
}

fn is_status(field_id: Option<&str>, field: &str) -> bool {
    field_id.unwrap_or(field).eq_ignore_ascii_case("status")
}

fn assignee(v: &Value) -> Option<Assignee> {
    let id = ["accountId", "key", "name"]
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_str))?;
    Some(Assignee {
        id: id.to_string(),
        active: v.get("active").and_then(Value::as_bool),
    })
}

fn name_of(v: Option<&Value>) -> Option<String> {
    v?.get("name").and_then(Value::as_str).map(str::to_string)
}

/// Cloud lists sprints as objects with a `state`; Data Center as strings such as
/// `com.atlassian.greenhopper.service.sprint.Sprint@1f[id=3,state=ACTIVE,name=…]`.
fn has_active_sprint(sprints: &Value) -> bool {
    sprints.as_array().is_some_and(|all| {
        all.iter().any(|s| match s {
            Value::Object(o) => o
                .get("state")
                .and_then(Value::as_str)
                .is_some_and(|st| st.eq_ignore_ascii_case("active")),
            Value::String(text) => text.contains("state=ACTIVE"),
            _ => false,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::models::{ChangeItem, Comment, History};
    use serde_json::json;

    fn history(created: &str, field: &str) -> History {
        History {
            id: created.into(),
            author: None,
            created: created.into(),
            items: vec![ChangeItem {
                field: field.into(),
                field_id: Some(field.into()),
                ..ChangeItem::default()
            }],
        }
    }

    #[test]
    fn reads_every_fact_from_a_cloud_issue() {
        let issue = StoredIssue {
            id: "1".into(),
            key: "P-1".into(),
            project_key: "P".into(),
            updated_ms: 42,
            fields: json!({
                "created": "2026-01-01T00:00:00.000+0000",
                "resolutiondate": "2026-01-03T00:00:00.000+0000",
                "duedate": "2026-02-01",
                "assignee": {"accountId": "abc", "active": false},
                "components": [{"name": "api"}, {"name": "ui"}],
                "description": {"type": "doc", "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": "  héllo  "}]}]},
                "issuetype": {"name": "Bug"},
                "priority": {"name": "High"},
                "status": {"name": "In Review", "statusCategory": {"key": "indeterminate", "name": "In Progress"}},
                "customfield_10020": [{"id": 1, "state": "closed"}, {"id": 2, "state": "active"}],
            })
            .as_object()
            .unwrap()
            .clone(),
            changelog: vec![
                history("2026-01-02T00:00:00.000+0000", "status"),
                history("2026-01-02T12:00:00.000+0000", "labels"),
                history("2026-01-04T00:00:00.000+0000", "status"),
            ],
            comments: vec![Comment {
                id: "9".into(),
                author: None,
                body: json!("hi"),
                created: "2026-01-01T06:00:00.000+0000".into(),
                updated: "2026-01-01T06:00:00.000+0000".into(),
            }],
            ..StoredIssue::default()
        };
        let day = 86_400_000;
        let start = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        let facts = IssueFacts::of(&issue, Some("customfield_10020"));
        assert_eq!(facts.created_ms, Some(start));
        assert_eq!(facts.resolved_ms, Some(start + 2 * day));
        assert!(facts.has_due_date);
        assert_eq!(
            facts.assignee,
            Some(Assignee {
                id: "abc".into(),
                active: Some(false)
            })
        );
        assert_eq!(facts.components, 2);
        assert_eq!(facts.status.as_deref(), Some("In Review"));
        assert_eq!(facts.status_category.as_deref(), Some("In Progress"));
        assert_eq!(facts.description_chars, Some(5));
        assert_eq!(facts.first_comment_ms, Some(start + day / 4));
        assert_eq!(facts.first_status_change_ms, Some(start + day));
        assert_eq!(facts.last_status_change_ms, Some(start + 3 * day));
        assert!(facts.in_active_sprint);
        assert_eq!(facts.issue_type.as_deref(), Some("Bug"));
        assert_eq!(facts.priority.as_deref(), Some("High"));
        assert_eq!(facts.updated_ms, 42);
    }

    #[test]
    fn empty_fields_read_as_missing() {
        let issue = StoredIssue {
            fields:
                json!({"duedate": null, "assignee": null, "components": [], "description": null})
                    .as_object()
                    .unwrap()
                    .clone(),
            ..StoredIssue::default()
        };
        let facts = IssueFacts::of(&issue, Some("customfield_10020"));
        assert!(!facts.has_due_date);
        assert_eq!(facts.assignee, None);
        assert_eq!(facts.components, 0);
        assert_eq!(facts.description_chars, None);
        assert!(!facts.in_active_sprint);
    }

    #[test]
    fn data_center_sprints_are_strings_and_descriptions_wiki_markup() {
        let issue = StoredIssue {
            fields: json!({
                "description": "h1. Title",
                "customfield_10100": ["com.atlassian.greenhopper.service.sprint.Sprint@1f[id=3,state=ACTIVE,name=S1]"],
                "assignee": {"key": "JIRAUSER10000", "name": "alice", "active": true},
            })
            .as_object()
            .unwrap()
            .clone(),
            ..StoredIssue::default()
        };
        let facts = IssueFacts::of(&issue, Some("customfield_10100"));
        assert!(facts.in_active_sprint);
        assert_eq!(facts.description_chars, Some(9));
        assert_eq!(facts.assignee.unwrap().id, "JIRAUSER10000");
    }
}
