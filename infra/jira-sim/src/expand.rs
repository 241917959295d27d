//! Jira's `expand` options on issues: which ones a request asked for (values Jira does not know
//! are ignored, as Jira ignores them), and what each adds to an `IssueBean`.
//!
//! Where each goes, as on Jira Cloud: searches carry `names` and `schema` once, beside the
//! issues; GET issue and the bulk fetch carry them on each issue. `versionedRepresentations`
//! replaces `fields` (the `fields` parameter is then ignored); `/search/jql` answers it with an
//! empty object, as Atlassian documents for that endpoint.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::model::{Block, Comment, Issue, RichText};
use crate::render::{FieldSelection, Renderer};

/// The expand options of one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expand {
    pub changelog: bool,
    pub rendered_fields: bool,
    pub names: bool,
    pub schema: bool,
    pub transitions: bool,
    pub operations: bool,
    pub editmeta: bool,
    pub versioned_representations: bool,
}

impl Expand {
    /// Parses `expand` values; each may itself be a comma-separated list.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Self {
        let mut e = Expand::default();
        for value in values.iter().flat_map(|v| v.as_ref().split(',')) {
            match value.trim() {
                "changelog" => e.changelog = true,
                "renderedFields" => e.rendered_fields = true,
                "names" => e.names = true,
                "schema" => e.schema = true,
                "transitions" => e.transitions = true,
                "operations" => e.operations = true,
                "editmeta" => e.editmeta = true,
                "versionedRepresentations" => e.versioned_representations = true,
                _ => {}
            }
        }
        e
    }

    /// Whether Jira counts the request as heavy: such bulk fetches take at most 100 issues.
    pub fn heavy(&self) -> bool {
        self.changelog
            || self.editmeta
            || self.operations
            || self.rendered_fields
            || self.transitions
            || self.versioned_representations
    }

    /// Whether the issue carries anything beyond its identity.
    pub fn any(&self) -> bool {
        *self != Expand::default()
    }
}

/// The fields Jira never lets the edit screen change.
const READ_ONLY: [&str; 9] = [
    "status",
    "project",
    "creator",
    "created",
    "updated",
    "resolutiondate",
    "statuscategorychangedate",
    "subtasks",
    "comment",
];

impl Renderer<'_> {
    /// An `IssueBean` with the expands asked for, except `names` and `schema` (a search carries
    /// those once, beside its issues: see `Renderer::field_meta`). `changelog_limit`: how many
    /// newest histories `expand=changelog` embeds.
    pub fn issue(
        &self,
        issue: &Issue,
        sel: &FieldSelection,
        expand: &Expand,
        now_ms: i64,
        changelog_limit: usize,
        comment_limit: usize,
    ) -> Value {
        let mut v = Map::new();
        if sel.id_only() && !sel.include.contains("key") && !expand.any() {
            v.insert("id".into(), json!(issue.id.to_string()));
            return Value::Object(v);
        }
        v.insert(
            "expand".into(),
            json!(
                "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
            ),
        );
        v.insert("id".into(), json!(issue.id.to_string()));
        v.insert(
            "self".into(),
            json!(format!("{}/rest/api/3/issue/{}", self.base, issue.id)),
        );
        v.insert("key".into(), json!(self.site.issue_key(issue)));
        // With versioned representations Jira ignores the `fields` parameter.
        let every_field = FieldSelection::parse(&["*all"], "*all");
        let sel = if expand.versioned_representations {
            &every_field
        } else {
            sel
        };
        let present = sel.requested(self.site);
        let mut fields = Map::new();
        for f in &present {
            fields.insert(f.clone(), self.field_value(issue, f, now_ms, comment_limit));
        }
        if expand.versioned_representations {
            let versions: Map<String, Value> = fields
                .into_iter()
                .map(|(f, value)| (f, json!({ "1": value })))
                .collect();
            v.insert("versionedRepresentations".into(), Value::Object(versions));
        } else if !sel.id_only() {
            v.insert("fields".into(), Value::Object(fields));
        }
        if expand.rendered_fields {
            v.insert(
                "renderedFields".into(),
                self.rendered_fields(issue, &present, comment_limit),
            );
        }
        if expand.transitions {
            v.insert("transitions".into(), self.transitions(issue));
        }
        if expand.operations {
            v.insert("operations".into(), self.operations(issue));
        }
        if expand.editmeta {
            v.insert("editmeta".into(), self.editmeta());
        }
        if expand.changelog {
            let newest: Vec<Value> = issue
                .histories
                .iter()
                .rev()
                .take(changelog_limit)
                .map(|h| self.history(h))
                .collect();
            v.insert("changelog".into(), json!({"startAt": 0, "maxResults": newest.len(), "total": issue.histories.len(), "histories": newest}));
        }
        Value::Object(v)
    }

    /// The `names` and `schema` expands, as asked, for the fields shown on `issues` (one issue,
    /// or a search's page): each field's display name and type from the site's definitions.
    pub fn field_meta(&self, issues: &[Value], expand: &Expand) -> Map<String, Value> {
        let mut meta = Map::new();
        if !expand.names && !expand.schema {
            return meta;
        }
        let shown: BTreeSet<&str> = issues
            .iter()
            .filter_map(|i| {
                i.get("fields")
                    .or_else(|| i.get("versionedRepresentations"))
            })
            .filter_map(Value::as_object)
            .flat_map(|o| o.keys().map(String::as_str))
            .collect();
        let (mut names, mut schema) = (Map::new(), Map::new());
        for d in crate::fields::definitions(self.site) {
            let Some(id) = d["id"].as_str().filter(|id| shown.contains(id)) else {
                continue;
            };
            names.insert(id.to_string(), d["name"].clone());
            schema.insert(id.to_string(), d["schema"].clone());
        }
        if expand.names {
            meta.insert("names".into(), Value::Object(names));
        }
        if expand.schema {
            meta.insert("schema".into(), Value::Object(schema));
        }
        meta
    }

    /// `renderedFields`: HTML for rich text, display strings for dates, null for the rest.
    pub fn rendered_fields(
        &self,
        issue: &Issue,
        present: &[String],
        comment_limit: usize,
    ) -> Value {
        let date = |ms: Option<i64>| {
            ms.map(|t| json!(self.display_time(t)))
                .unwrap_or(Value::Null)
        };
        let out: Map<String, Value> = present
            .iter()
            .map(|f| {
                let v = match f.as_str() {
                    "created" => date(Some(issue.created)),
                    "updated" => date(Some(issue.updated)),
                    "resolutiondate" => date(issue.resolved),
                    "statuscategorychangedate" => date(Some(issue.status_changed)),
                    "duedate" => issue
                        .due_date
                        .map(|d| json!(d.format("%d/%b/%y").to_string()))
                        .unwrap_or(Value::Null),
                    "description" => issue
                        .description
                        .as_ref()
                        .map(|d| json!(html(d)))
                        .unwrap_or(Value::Null),
                    "comment" => {
                        let shown: Vec<Value> = issue
                            .comments
                            .iter()
                            .take(comment_limit)
                            .map(|c| self.rendered_comment(issue, c))
                            .collect();
                        json!({"comments": shown, "maxResults": shown.len(), "total": issue.comments.len(), "startAt": 0})
                    }
                    _ => Value::Null,
                };
                (f.clone(), v)
            })
            .collect();
        Value::Object(out)
    }

    fn rendered_comment(&self, issue: &Issue, c: &Comment) -> Value {
        let mut v = self.comment(issue, c);
        v["body"] = json!(html(&c.body));
        v["created"] = json!(self.display_time(c.created));
        v["updated"] = json!(self.display_time(c.updated));
        v
    }

    /// A time as Jira's pages show it to the user (`02/Dec/26 9:05 AM`, in their time zone).
    fn display_time(&self, ms: i64) -> String {
        use chrono::TimeZone;
        self.zone
            .timestamp_millis_opt(ms)
            .single()
            .map(|t| t.format("%d/%b/%y %-I:%M %p").to_string())
            .unwrap_or_default()
    }

    /// `transitions`: one to each other status of the issue's workflow (the simulator's
    /// workflows let any status move to any other, as Jira's simplified workflows do).
    pub fn transitions(&self, issue: &Issue) -> Value {
        let project = self.site.project(issue.project_id);
        json!(
            project
                .workflow(&issue.issue_type)
                .iter()
                .enumerate()
                .filter(|(_, s)| **s != issue.status)
                .map(|(i, s)| json!({
                    "id": transition_id(i),
                    "name": self.site.status(s).name,
                    "to": self.status(s),
                    "hasScreen": false,
                    "isGlobal": true,
                    "isInitial": false,
                    "isAvailable": true,
                    "isConditional": false,
                    "isLooped": false,
                }))
                .collect::<Vec<_>>()
        )
    }

    /// `operations`: the issue's operation bar (edit, and one link per transition).
    pub fn operations(&self, issue: &Issue) -> Value {
        let transitions: Vec<Value> = self
            .transitions(issue)
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(weight, t)| {
                json!({
                    "id": format!("action_id_{}", t["id"].as_str().unwrap_or_default()),
                    "styleClass": "issueaction-workflow-transition",
                    "label": t["name"],
                    "title": t["name"],
                    "href": format!("/secure/WorkflowUIDispatcher.jspa?id={}&action={}", issue.id, t["id"].as_str().unwrap_or_default()),
                    "weight": weight * 10,
                })
            })
            .collect();
        json!({"linkGroups": [{
            "id": "view.issue.opsbar",
            "links": [],
            "groups": [
                {"id": "edit-issue_container", "links": [{
                    "id": "edit-issue",
                    "styleClass": "issueaction-edit-issue",
                    "iconClass": "aui-icon aui-icon-small aui-iconfont-edit",
                    "label": "Edit",
                    "title": "Edit this issue",
                    "href": format!("/secure/EditIssue!default.jspa?id={}", issue.id),
                    "weight": 1,
                }], "groups": []},
                {"id": "transitions-all", "links": transitions, "groups": []},
            ],
        }]})
    }

    /// `editmeta`: each field the edit screen can change (`FieldMetadata`).
    pub fn editmeta(&self) -> Value {
        let fields: Map<String, Value> = crate::fields::definitions(self.site)
            .into_iter()
            .filter_map(|d| {
                let id = d["id"].as_str()?.to_string();
                if READ_ONLY.contains(&id.as_str()) {
                    return None;
                }
                let operations = if d["schema"]["type"] == "array" {
                    json!(["add", "set", "remove"])
                } else {
                    json!(["set"])
                };
                let mut meta = json!({
                    "required": id == "summary" || id == "issuetype",
                    "schema": d["schema"],
                    "name": d["name"],
                    "key": id,
                    "operations": operations,
                });
                if let Some(allowed) = self.allowed_values(&id) {
                    meta["allowedValues"] = allowed;
                }
                Some((id, meta))
            })
            .collect();
        json!({ "fields": fields })
    }

    fn allowed_values(&self, field: &str) -> Option<Value> {
        let site = self.site;
        let named = |kind: &str, items: &[crate::model::NamedItem]| {
            json!(
                items
                    .iter()
                    .map(|i| self.named(kind, i))
                    .collect::<Vec<_>>()
            )
        };
        match field {
            "priority" => Some(named("priority", &site.priorities)),
            f if f == site.custom_fields.severity => Some(json!(
                site.severities
                    .iter()
                    .map(|s| json!({"self": format!("{}/rest/api/3/customFieldOption/{}", self.base, s.id), "value": s.name, "id": s.id}))
                    .collect::<Vec<_>>()
            )),
            _ => None,
        }
    }
}

/// Jira numbers a workflow's transitions 11, 21, 31, …
fn transition_id(index: usize) -> String {
    (index * 10 + 11).to_string()
}

/// Rich text as the HTML Jira renders it.
pub fn html(text: &RichText) -> String {
    text.iter()
        .map(|b| match b {
            Block::Paragraph(s) => match s.split_once(' ') {
                Some((first, rest)) => format!("<p><b>{}</b> {}</p>", escape(first), escape(rest)),
                None => format!("<p>{}</p>", escape(s)),
            },
            Block::Heading(level, s) => format!("<h{level}>{}</h{level}>", escape(s)),
            Block::Bullets(items) => format!(
                "<ul>{}</ul>",
                items
                    .iter()
                    .map(|i| format!("<li>{}</li>", escape(i)))
                    .collect::<String>()
            ),
            Block::Code(s) => format!(
                "<div class=\"code panel\"><div class=\"codeContent panelContent\"><pre class=\"code-bash\">{}</pre></div></div>",
                escape(s)
            ),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_ignored_and_lists_may_be_split_or_repeated() {
        let e = Expand::parse(&["changelog, names", "transitions", "nonsense", ""]);
        assert!(e.changelog && e.names && e.transitions);
        assert!(!e.schema && !e.rendered_fields && !e.versioned_representations);
        assert_eq!(Expand::parse(&["nonsense"]), Expand::default());
        assert!(!Expand::parse(&["names,schema"]).heavy());
        assert!(Expand::parse(&["renderedFields"]).heavy());
    }

    #[test]
    fn rendered_rich_text_is_escaped_html() {
        let text = vec![
            Block::Paragraph("Fix <script> & more".into()),
            Block::Bullets(vec!["a".into(), "b".into()]),
        ];
        assert_eq!(
            html(&text),
            "<p><b>Fix</b> &lt;script&gt; &amp; more</p>\n<ul><li>a</li><li>b</li></ul>"
        );
    }
}
