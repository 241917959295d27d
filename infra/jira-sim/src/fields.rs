//! The site's fields as `GET /field` lists them: one home for each field's id, name and schema,
//! which the `names`, `schema` and `editmeta` expands read too.

use serde_json::{Value, json};

use crate::model::Site;

/// Every field of the site (`FieldDetails`), system fields first.
pub fn definitions(site: &Site) -> Vec<Value> {
    let system = |id: &str, name: &str, ty: &str, items: Option<&str>, navigable: bool| {
        let mut schema = json!({"type": ty, "system": id});
        if let Some(i) = items {
            schema["items"] = json!(i);
        }
        json!({"id": id, "key": id, "name": name, "custom": false, "orderable": true, "navigable": navigable, "searchable": true, "clauseNames": [id], "schema": schema})
    };
    let custom = |id: &str, name: &str, ty: &str, items: Option<&str>, plugin: &str| {
        let numeric: u64 = id.trim_start_matches("customfield_").parse().unwrap_or(0);
        let mut schema = json!({"type": ty, "custom": plugin, "customId": numeric});
        if let Some(i) = items {
            schema["items"] = json!(i);
        }
        json!({"id": id, "key": id, "name": name, "custom": true, "orderable": true, "navigable": true, "searchable": true,
               "clauseNames": [format!("cf[{numeric}]"), name], "schema": schema})
    };
    let cf = &site.custom_fields;
    let mut list = vec![
        system("summary", "Summary", "string", None, true),
        system("status", "Status", "status", None, true),
        system("issuetype", "Issue Type", "issuetype", None, true),
        system("project", "Project", "project", None, true),
        system("priority", "Priority", "priority", None, true),
        system("assignee", "Assignee", "user", None, true),
        system("reporter", "Reporter", "user", None, true),
        system("creator", "Creator", "user", None, true),
        system("created", "Created", "datetime", None, true),
        system("updated", "Updated", "datetime", None, true),
        system("resolutiondate", "Resolved", "datetime", None, true),
        system("resolution", "Resolution", "resolution", None, true),
        system(
            "statuscategorychangedate",
            "Status Category Changed",
            "datetime",
            None,
            true,
        ),
        system("labels", "Labels", "array", Some("string"), true),
        system("components", "Components", "array", Some("component"), true),
        system(
            "fixVersions",
            "Fix versions",
            "array",
            Some("version"),
            true,
        ),
        system("duedate", "Due date", "date", None, true),
        system("description", "Description", "string", None, true),
        system("comment", "Comment", "comments-page", None, false),
        system("parent", "Parent", "issuelink", None, true),
        system(
            "issuelinks",
            "Linked Issues",
            "array",
            Some("issuelinks"),
            true,
        ),
        system("subtasks", "Sub-tasks", "array", Some("issuelinks"), true),
        custom(
            &cf.story_points,
            "Story point estimate",
            "number",
            None,
            "com.pyxis.greenhopper.jira:jsw-story-points",
        ),
        // Real sites often have both estimation fields; the dataset fills one of them.
        custom(
            &cf.story_points_classic,
            "Story Points",
            "number",
            None,
            "com.atlassian.jira.plugin.system.customfieldtypes:float",
        ),
        custom(
            &cf.sprint,
            "Sprint",
            "array",
            Some("json"),
            "com.pyxis.greenhopper.jira:gh-sprint",
        ),
        custom(
            &cf.severity,
            "Severity",
            "option",
            None,
            "com.atlassian.jira.plugin.system.customfieldtypes:select",
        ),
    ];
    for f in list.iter_mut().filter(|f| f["custom"] == json!(false)) {
        if f["id"] == "comment" {
            f["orderable"] = json!(false);
        }
    }
    list
}
