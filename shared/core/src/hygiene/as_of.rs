//! A ticket as it stood at an instant: what the hygiene rules read of it ([`IssueFacts`]),
//! reconstructed from its stored form and its complete changelog. Today's values are taken back
//! through every change made after the instant, newest first; what a change at the instant
//! itself set counts (Jira's changelog times are to the millisecond).
//!
//! Reconstructed: the status and its category, the assignee, the due date, the number of
//! components, the priority, the issue type, the resolution (and so its date), the
//! description's length, sprint membership (with each sprint's state at the instant, from its
//! start and completion dates), `updated` (the latest of creation, changes and comments up to the
//! instant), the first comment and the status changes up to it. A ticket created after the
//! instant did not exist then. What history cannot tell is not guessed: a field whose change
//! Jira did not record keeps today's value, and an assignee's account status (active or not) is
//! today's, from the users the store keeps.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::facts::{Assignee, IssueFacts};
use crate::jira::models::ChangeItem;
use crate::jira::time;
use crate::store::records::{Record, StoredIssue};

/// What the changelog does not carry but the store keeps: each status's category, each sprint's
/// dates, and each user's account status.
#[derive(Clone, Debug, Default)]
pub struct Past {
    /// Status name (lowercase) → its category's name.
    categories: HashMap<String, String>,
    /// Sprint id → (started, completed), epoch milliseconds.
    sprints: HashMap<String, (Option<i64>, Option<i64>)>,
    /// Account id, key or name → active.
    active: HashMap<String, bool>,
}

impl Past {
    /// From the store's status, sprint and user records.
    pub fn new(statuses: &[Record], sprints: &[Record], users: &[Record]) -> Past {
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        Past {
            categories: statuses
                .iter()
                .filter_map(|r| {
                    let category = r.data.get("statusCategory").and_then(|c| text(c, "name"))?;
                    Some((text(&r.data, "name")?.to_lowercase(), category))
                })
                .collect(),
            sprints: sprints
                .iter()
                .map(|r| {
                    let at = |k: &str| text(&r.data, k).as_deref().and_then(instant);
                    (r.id.clone(), (at("startDate"), at("completeDate")))
                })
                .collect(),
            active: users
                .iter()
                .filter_map(|r| {
                    let active = r.data.get("active").and_then(Value::as_bool)?;
                    Some((r.id.clone(), active))
                })
                .collect(),
        }
    }

    /// The category of the status named `status`, as the store keeps it.
    pub(super) fn category_of(&self, status: &str) -> Option<String> {
        self.categories.get(&status.to_lowercase()).cloned()
    }

    /// Whether sprint `id` was under way at `at_ms`, from its dates: the issue's own copy of the
    /// sprint (`today`, which Cloud gives with its dates and state) first, else the store's
    /// record; without dates, as its state says today.
    fn sprint_active_at(&self, id: &str, today: Option<&Value>, at_ms: i64) -> bool {
        let dates = |v: &Value| {
            let at = |k: &str| v.get(k).and_then(Value::as_str).and_then(instant);
            (at("startDate"), at("completeDate"))
        };
        let (start, complete) = today
            .map(dates)
            .filter(|(start, _)| start.is_some())
            .or_else(|| self.sprints.get(id).copied())
            .unwrap_or_default();
        match start {
            Some(start) => start <= at_ms && complete.is_none_or(|c| c > at_ms),
            None => today
                .and_then(|v| v.get("state"))
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("active")),
        }
    }
}

/// What the hygiene rules read of `issue` as it stood at `at_ms`; None when it was created after.
/// `sprint_field` is the site's sprint field id, if it has one.
pub fn facts_at(
    issue: &StoredIssue,
    sprint_field: Option<&str>,
    past: &Past,
    at_ms: i64,
) -> Option<IssueFacts> {
    Timeline::of(issue, sprint_field).at(past, at_ms)
}

/// An issue read once for evaluation at many instants: its facts today, its changes in time
/// order, its comments' times and its sprints today.
pub struct Timeline<'i> {
    today: IssueFacts,
    changes: Vec<(i64, &'i ChangeItem)>,
    /// (created, last edited) of each comment.
    comments: Vec<(i64, i64)>,
    sprints: BTreeSet<String>,
    sprint_copies: HashMap<String, &'i Value>,
}

impl<'i> Timeline<'i> {
    pub fn of(issue: &'i StoredIssue, sprint_field: Option<&str>) -> Timeline<'i> {
        Timeline {
            today: IssueFacts::of(issue, sprint_field),
            changes: issue
                .changelog
                .iter()
                .filter_map(|h| Some((instant(&h.created)?, &h.items)))
                .flat_map(|(t, items)| items.iter().map(move |i| (t, i)))
                .collect(),
            comments: issue
                .comments
                .iter()
                .filter_map(|c| {
                    let created = instant(&c.created)?;
                    Some((created, instant(&c.updated).unwrap_or(created)))
                })
                .collect(),
            sprints: current_sprints(issue, sprint_field),
            sprint_copies: today_sprints(issue, sprint_field),
        }
    }

    /// The facts as they stood at `at_ms`; None when the issue was created after.
    pub fn at(&self, past: &Past, at_ms: i64) -> Option<IssueFacts> {
        let mut facts = self.today.clone();
        if facts.created_ms.is_some_and(|c| c > at_ms) {
            return None;
        }
        let mut sprints = self.sprints.clone();
        let timed = &self.changes;
        // Newest first: each change after the instant is taken back to what it replaced.
        for (_, item) in timed.iter().rev().filter(|(t, _)| *t > at_ms) {
            match field_of(item) {
                Field::Status => {
                    facts.status = item.from_string.clone();
                    facts.status_category = item
                        .from_string
                        .as_deref()
                        .and_then(|s| past.categories.get(&s.to_lowercase()).cloned());
                }
                Field::Priority => facts.priority = item.from_string.clone(),
                Field::IssueType => facts.issue_type = item.from_string.clone(),
                Field::Assignee => {
                    facts.assignee = item.from.clone().map(|id| Assignee {
                        active: past.active.get(&id).copied(),
                        id,
                    })
                }
                Field::DueDate => {
                    facts.has_due_date = item.from.as_deref().is_some_and(|d| !d.trim().is_empty())
                }
                Field::Components => {
                    // A change adds one component (`to`) or takes one away (`from`).
                    if item.to.is_some() {
                        facts.components = facts.components.saturating_sub(1);
                    }
                    if item.from.is_some() {
                        facts.components += 1;
                    }
                }
                // The changelog carries the text replaced (an excluded description's changes are
                // never stored, so its category stays skipped).
                Field::Description => {
                    facts.description_chars = item
                        .from_string
                        .as_deref()
                        .map(|t| t.trim().chars().count())
                }
                Field::Sprint => sprints = ids(item.from.as_deref()),
                // Its date is settled below, from the changes on either side of the instant.
                Field::Resolution | Field::Other => {}
            }
        }
        // Resolved at the instant: as the latest resolution change at or before it left it; without
        // one, as the first change after it found it (resolved by then, at a time no change records:
        // today's date if that was by then); without any change, as today, if that was by then.
        let resolution = |i: &ChangeItem| field_of(i) == Field::Resolution;
        let before = timed.iter().rfind(|(t, i)| *t <= at_ms && resolution(i));
        let after = timed.iter().find(|(t, i)| *t > at_ms && resolution(i));
        let today = facts.resolved_ms.filter(|r| *r <= at_ms);
        facts.resolved_ms = match (before, after) {
            (Some((t, item)), _) => item.to.is_some().then_some(*t),
            (None, Some((_, item))) => item.from.as_ref().and(today),
            (None, None) => today,
        };
        let status_changes: Vec<i64> = timed
            .iter()
            .filter(|(t, i)| *t <= at_ms && field_of(i) == Field::Status)
            .map(|(t, _)| *t)
            .collect();
        facts.first_status_change_ms = status_changes.first().copied();
        facts.last_status_change_ms = status_changes.last().copied();
        // A comment counts from its creation; an edit of it, from the edit (both move `updated`).
        let comment_times: Vec<(i64, i64)> = self
            .comments
            .iter()
            .copied()
            .filter(|(created, _)| *created <= at_ms)
            .collect();
        facts.first_comment_ms = comment_times.iter().map(|(c, _)| *c).min();
        // Not updated since: Jira's own `updated` (it also moves on edits no changelog records).
        if facts.updated_ms > at_ms {
            facts.updated_ms = facts
                .created_ms
                .into_iter()
                .chain(timed.iter().map(|(t, _)| *t).filter(|t| *t <= at_ms))
                .chain(
                    comment_times
                        .iter()
                        .map(|(c, e)| if *e <= at_ms { *e } else { *c }),
                )
                .max()
                .unwrap_or(at_ms);
        }
        facts.in_active_sprint = sprints
            .iter()
            .any(|s| past.sprint_active_at(s, self.sprint_copies.get(s).copied(), at_ms));
        Some(facts)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Status,
    Priority,
    IssueType,
    Assignee,
    DueDate,
    Components,
    Description,
    Resolution,
    Sprint,
    Other,
}

/// The field a change item is of: by its id where Jira gives one, else by its name.
fn field_of(item: &ChangeItem) -> Field {
    let name = item
        .field_id
        .as_deref()
        .unwrap_or(&item.field)
        .to_ascii_lowercase();
    match name.as_str() {
        "status" => Field::Status,
        "priority" => Field::Priority,
        "issuetype" => Field::IssueType,
        "assignee" => Field::Assignee,
        "duedate" => Field::DueDate,
        "components" | "component" => Field::Components,
        "description" => Field::Description,
        "resolution" => Field::Resolution,
        _ if item.field.eq_ignore_ascii_case("sprint") => Field::Sprint,
        _ => Field::Other,
    }
}

/// The ids of the sprints the issue's sprint field holds today.
fn current_sprints(issue: &StoredIssue, sprint_field: Option<&str>) -> BTreeSet<String> {
    let Some(Value::Array(all)) = sprint_field.and_then(|f| issue.fields.get(f)) else {
        return BTreeSet::new();
    };
    all.iter()
        .filter_map(|s| match s {
            Value::Object(o) => o.get("id").map(sprint_id),
            // Data Center: `…Sprint@1f[id=3,state=ACTIVE,…]`.
            Value::String(text) => text.split_once("id=").map(|(_, rest)| {
                rest.split([',', ']'])
                    .next()
                    .unwrap_or_default()
                    .to_string()
            }),
            _ => None,
        })
        .collect()
}

/// The issue's own copies of its sprints today (Cloud's objects), by id.
fn today_sprints<'i>(
    issue: &'i StoredIssue,
    sprint_field: Option<&str>,
) -> HashMap<String, &'i Value> {
    let Some(Value::Array(all)) = sprint_field.and_then(|f| issue.fields.get(f)) else {
        return HashMap::new();
    };
    all.iter()
        .filter_map(|s| Some((sprint_id(s.get("id")?), s)))
        .collect()
}

fn sprint_id(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Sprint ids as a changelog item lists them: `"12, 13"`.
fn ids(list: Option<&str>) -> BTreeSet<String> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub(super) fn instant(text: &str) -> Option<i64> {
    time::parse(text).map(|t| t.timestamp_millis())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::jira::models::{Comment, History};
    use serde_json::json;

    pub(in crate::hygiene) const HOUR: i64 = 3_600_000;
    /// 2026-01-01T00:00:00Z.
    pub(in crate::hygiene) const T0: i64 = 1_767_225_600_000;

    /// `hours` after [`T0`], as Jira writes a time.
    pub(in crate::hygiene) fn at(hours: i64) -> String {
        chrono::DateTime::from_timestamp_millis(T0 + hours * HOUR)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
            .to_string()
    }

    fn item(field: &str, from: Option<&str>, to: Option<&str>) -> ChangeItem {
        ChangeItem {
            field: field.into(),
            field_id: Some(field.into()),
            from: from.map(str::to_string),
            from_string: from.map(str::to_string),
            to: to.map(str::to_string),
            to_string: to.map(str::to_string),
            ..ChangeItem::default()
        }
    }

    fn change(hours: i64, items: Vec<ChangeItem>) -> History {
        History {
            id: hours.to_string(),
            author: None,
            created: at(hours),
            items,
        }
    }

    /// Created at T0; today: Done (resolved at 30 h), assigned to "cara", due, one component.
    fn issue(changelog: Vec<History>) -> StoredIssue {
        StoredIssue {
            id: "1".into(),
            key: "P-1".into(),
            project_key: "P".into(),
            updated_ms: T0 + 30 * HOUR,
            fields: json!({
                "created": at(0),
                "resolutiondate": at(30),
                "duedate": "2026-02-01",
                "assignee": {"accountId": "cara", "active": true},
                "components": [{"name": "api"}],
                "description": "a description of some length",
                "issuetype": {"name": "Bug"},
                "priority": {"name": "High"},
                "status": {"name": "Done", "statusCategory": {"name": "Done"}},
                "customfield_1": [{"id": 8, "state": "active"}],
            })
            .as_object()
            .unwrap()
            .clone(),
            changelog,
            comments: vec![Comment {
                id: "9".into(),
                author: None,
                body: json!("hi"),
                created: at(5),
                updated: at(5),
            }],
            ..StoredIssue::default()
        }
    }

    fn past() -> Past {
        let record = |id: &str, data: Value| Record {
            id: id.into(),
            data,
        };
        Past::new(
            &[
                record(
                    "1",
                    json!({"name": "To Do", "statusCategory": {"name": "To Do"}}),
                ),
                record(
                    "3",
                    json!({"name": "In Progress", "statusCategory": {"name": "In Progress"}}),
                ),
                record(
                    "5",
                    json!({"name": "Done", "statusCategory": {"name": "Done"}}),
                ),
            ],
            &[
                record("7", json!({"startDate": at(0), "completeDate": at(20)})),
                record("8", json!({"startDate": at(20)})),
            ],
            &[record("ann", json!({"active": false}))],
        )
    }

    fn facts(issue: &StoredIssue, hours: i64) -> Option<IssueFacts> {
        facts_at(issue, Some("customfield_1"), &past(), T0 + hours * HOUR)
    }

    #[test]
    fn a_field_set_changed_and_cleared_is_taken_back_to_each_value_it_had() {
        // Assigned to ann at 2 h, to bob at 4 h, to nobody at 6 h, to cara at 8 h (today's).
        let issue = issue(vec![
            change(2, vec![item("assignee", None, Some("ann"))]),
            change(4, vec![item("assignee", Some("ann"), Some("bob"))]),
            change(6, vec![item("assignee", Some("bob"), None)]),
            change(8, vec![item("assignee", None, Some("cara"))]),
        ]);
        let assignee = |hours| facts(&issue, hours).unwrap().assignee;
        assert_eq!(assignee(1), None);
        // ann's account is inactive today: history keeps today's account status.
        assert_eq!(
            assignee(3),
            Some(Assignee {
                id: "ann".into(),
                active: Some(false)
            })
        );
        assert_eq!(assignee(5).unwrap().id, "bob");
        assert_eq!(assignee(7), None);
        assert_eq!(assignee(9).unwrap().id, "cara");
    }

    #[test]
    fn a_change_exactly_at_the_instant_counts() {
        let issue = issue(vec![change(
            4,
            vec![item("priority", Some("Low"), Some("High"))],
        )]);
        let at_ms = T0 + 4 * HOUR;
        let exactly = facts_at(&issue, None, &past(), at_ms).unwrap();
        assert_eq!(exactly.priority.as_deref(), Some("High"));
        assert_eq!(exactly.updated_ms, at_ms);
        let before = facts_at(&issue, None, &past(), at_ms - 1).unwrap();
        assert_eq!(before.priority.as_deref(), Some("Low"));
    }

    #[test]
    fn a_reopened_issue_is_resolved_only_while_it_was_done() {
        // Done at 10 h, reopened at 20 h, done again at 30 h (today's resolution date).
        let done = |h, from: &str| {
            change(
                h,
                vec![
                    item("resolution", None, Some("Done")),
                    item("status", Some(from), Some("Done")),
                ],
            )
        };
        let issue = issue(vec![
            change(2, vec![item("status", Some("To Do"), Some("In Progress"))]),
            done(10, "In Progress"),
            change(
                20,
                vec![
                    item("resolution", Some("Done"), None),
                    item("status", Some("Done"), Some("In Progress")),
                ],
            ),
            done(30, "In Progress"),
        ]);
        let state = |hours| {
            let f = facts(&issue, hours).unwrap();
            (f.status.unwrap(), f.status_category.unwrap(), f.resolved_ms)
        };
        assert_eq!(state(1), ("To Do".into(), "To Do".into(), None));
        assert_eq!(
            state(15),
            ("Done".into(), "Done".into(), Some(T0 + 10 * HOUR))
        );
        assert_eq!(
            state(25),
            ("In Progress".into(), "In Progress".into(), None)
        );
        assert_eq!(
            state(31),
            ("Done".into(), "Done".into(), Some(T0 + 30 * HOUR))
        );
        let f = facts(&issue, 25).unwrap();
        assert_eq!(
            (f.first_status_change_ms, f.last_status_change_ms),
            (Some(T0 + 2 * HOUR), Some(T0 + 20 * HOUR))
        );
    }

    #[test]
    fn a_ticket_created_after_the_instant_did_not_exist() {
        let issue = issue(Vec::new());
        assert!(facts_at(&issue, None, &past(), T0 - 1).is_none());
        assert!(facts_at(&issue, None, &past(), T0).is_some());
    }

    #[test]
    fn updated_the_first_comment_and_sprints_are_those_of_the_instant() {
        // Moved from sprint 7 (ended at 20 h) to 8 (started at 20 h) at 12 h.
        let issue = issue(vec![change(12, vec![item("Sprint", Some("7"), Some("8"))])]);
        let f = facts(&issue, 3).unwrap();
        assert_eq!((f.updated_ms, f.first_comment_ms), (T0, None));
        assert!(f.in_active_sprint, "in sprint 7, active then");
        let f = facts(&issue, 15).unwrap();
        assert_eq!(f.updated_ms, T0 + 12 * HOUR);
        assert_eq!(f.first_comment_ms, Some(T0 + 5 * HOUR));
        assert!(!f.in_active_sprint, "sprint 8 had not started");
        assert!(facts(&issue, 21).unwrap().in_active_sprint);
    }

    #[test]
    fn due_dates_components_descriptions_and_types_are_taken_back() {
        let issue = issue(vec![change(
            6,
            vec![
                item("duedate", None, Some("2026-02-01")),
                item("components", None, Some("api")),
                item(
                    "description",
                    Some("short"),
                    Some("a description of some length"),
                ),
                item("issuetype", Some("Task"), Some("Bug")),
            ],
        )]);
        let f = facts(&issue, 5).unwrap();
        assert!(!f.has_due_date);
        assert_eq!(f.components, 0);
        assert_eq!(f.description_chars, Some(5));
        assert_eq!(f.issue_type.as_deref(), Some("Task"));
        let f = facts(&issue, 6).unwrap();
        assert!(f.has_due_date);
        assert_eq!((f.components, f.description_chars), (1, Some(28)));
    }

    #[test]
    fn an_excluded_description_stays_unknown_then_too() {
        // Excluded: neither the field nor its changes are stored.
        let mut issue = issue(Vec::new());
        issue.fields.remove("description");
        assert_eq!(facts(&issue, 3).unwrap().description_chars, None);
    }
}
