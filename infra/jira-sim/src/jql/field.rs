//! Who searches, and the fields a query names.

use chrono_tz::Tz;

use crate::model::Site;

/// Who is searching, and when.
#[derive(Clone, Copy)]
pub struct SearchContext {
    pub user: Option<usize>,
    pub zone: Tz,
    pub now_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Project,
    IssueType,
    Status,
    StatusCategory,
    Priority,
    Resolution,
    Labels,
    Assignee,
    Reporter,
    Key,
    Id,
    Created,
    Updated,
    Resolved,
    DueDate,
    Summary,
    Description,
    Text,
    Parent,
    Sprint,
    Component,
    FixVersion,
}

/// The field a JQL name stands for on this site (its Sprint field goes by its custom id too).
pub(super) fn field(name: &str, site: &Site) -> Option<Field> {
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "project" => Field::Project,
        "issuetype" | "type" => Field::IssueType,
        "status" => Field::Status,
        "statuscategory" => Field::StatusCategory,
        "priority" => Field::Priority,
        "resolution" => Field::Resolution,
        "labels" => Field::Labels,
        "assignee" => Field::Assignee,
        "reporter" => Field::Reporter,
        "key" | "issuekey" | "issue" => Field::Key,
        "id" => Field::Id,
        "created" | "createddate" => Field::Created,
        "updated" | "updateddate" => Field::Updated,
        "resolved" | "resolutiondate" => Field::Resolved,
        "duedate" | "due" => Field::DueDate,
        "summary" => Field::Summary,
        "description" => Field::Description,
        "text" => Field::Text,
        "parent" => Field::Parent,
        "component" => Field::Component,
        "fixversion" => Field::FixVersion,
        "sprint" => Field::Sprint,
        _ if lower == site.custom_fields.sprint => Field::Sprint,
        _ => return None,
    })
}
