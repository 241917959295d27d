//! Typed views of Jira's responses. Unknown fields are ignored; issue fields stay raw JSON,
//! addressed by field id, because custom fields differ per site.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Myself {
    pub account_id: Option<String>,
    /// `atlassian` (a person), `app` (service accounts, Connect/OAuth apps) or `customer`.
    pub account_type: Option<String>,
    pub app_type: Option<String>,
    pub email_address: Option<String>,
    pub display_name: Option<String>,
    pub time_zone: Option<String>,
    pub active: Option<bool>,
    /// Data Center only.
    pub name: Option<String>,
    pub key: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServerInfo {
    pub base_url: Option<String>,
    pub version: Option<String>,
    pub deployment_type: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Permission {
    pub key: String,
    pub name: String,
    pub have_permission: bool,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Permissions {
    pub permissions: BTreeMap<String, Permission>,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Project {
    pub id: String,
    pub key: String,
    pub name: String,
}

/// Jira's offset-paged envelope (`PageBean…`).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageBean<T> {
    #[serde(default)]
    pub start_at: u64,
    #[serde(default)]
    pub max_results: u64,
    pub total: Option<u64>,
    pub is_last: Option<bool>,
    #[serde(default = "Vec::new")]
    pub values: Vec<T>,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldSchema {
    #[serde(rename = "type")]
    pub kind: String,
    pub items: Option<String>,
    pub system: Option<String>,
    /// The custom field type, e.g. `com.pyxis.greenhopper.jira:gh-sprint`.
    pub custom: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldDetails {
    pub id: String,
    pub name: String,
    pub custom: bool,
    pub schema: Option<FieldSchema>,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct StatusCategory {
    pub id: u64,
    /// `new`, `indeterminate` or `done`: stable across languages, unlike `name`.
    pub key: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Status {
    pub id: String,
    pub name: String,
    pub status_category: Option<StatusCategory>,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct UserRef {
    pub account_id: Option<String>,
    pub display_name: Option<String>,
    pub email_address: Option<String>,
    pub active: Option<bool>,
    pub account_type: Option<String>,
    pub time_zone: Option<String>,
    /// Data Center.
    pub name: Option<String>,
    pub key: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ChangeItem {
    pub field: String,
    pub field_id: Option<String>,
    pub fieldtype: Option<String>,
    pub from: Option<String>,
    pub from_string: Option<String>,
    pub to: Option<String>,
    pub to_string: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct History {
    pub id: String,
    pub author: Option<UserRef>,
    pub created: String,
    pub items: Vec<ChangeItem>,
}

/// The changelog embedded by `expand=changelog` (possibly truncated: compare `total`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EmbeddedChangelog {
    pub start_at: u64,
    pub max_results: u64,
    pub total: u64,
    pub histories: Vec<History>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Issue {
    pub id: String,
    pub key: String,
    /// By field id, without presentation links (see [`super::lean`]).
    #[serde(deserialize_with = "super::lean::fields")]
    pub fields: Map<String, Value>,
    pub changelog: Option<EmbeddedChangelog>,
}

/// `/search/jql`: token-paged, no total.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchPage {
    pub issues: Vec<Issue>,
    pub next_page_token: Option<String>,
    pub is_last: Option<bool>,
}

/// Data Center `/search`: offset-paged with a total.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LegacySearchPage {
    pub start_at: u64,
    pub max_results: u64,
    pub total: u64,
    pub issues: Vec<Issue>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BulkIssues {
    pub issues: Vec<Issue>,
    pub issue_errors: Vec<Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IssueChangelog {
    pub issue_id: String,
    pub change_histories: Vec<History>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BulkChangelog {
    pub issue_change_logs: Vec<IssueChangelog>,
    pub next_page_token: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Comment {
    pub id: String,
    pub author: Option<UserRef>,
    /// ADF on Cloud v3, wiki markup on Data Center.
    pub body: Value,
    pub created: String,
    pub updated: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CommentsPage {
    pub start_at: u64,
    pub max_results: u64,
    pub total: u64,
    pub comments: Vec<Comment>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ParsedQuery {
    pub query: String,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub structure: Option<Value>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ParsedQueries {
    pub queries: Vec<ParsedQuery>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_recorded_cloud_issue_page() {
        // Trimmed from a recorded Jira Cloud response (airbyte fixtures): unknown fields are fine.
        let page: SearchPage = serde_json::from_str(
            r#"{"issues":[{"expand":"x","id":"10627","self":"s","key":"IT-25","fields":{"customfield_10020":null,"status":{"id":"3"}},
                "projectId":"1","changelog":{"startAt":0,"maxResults":1,"total":3,"histories":[{"id":"1","created":"2021-01-25T11:09:27.985+0800",
                "items":[{"field":"status","fieldtype":"jira","fieldId":"status","from":"1","fromString":"To Do","to":"3","toString":"Done"}]}]}}],
                "isLast":true}"#,
        )
        .unwrap();
        let issue = &page.issues[0];
        assert_eq!(issue.key, "IT-25");
        assert!(issue.fields["customfield_10020"].is_null());
        let changelog = issue.changelog.as_ref().unwrap();
        assert_eq!((changelog.total, changelog.histories.len()), (3, 1));
        assert_eq!(
            changelog.histories[0].items[0].to_string.as_deref(),
            Some("Done")
        );
        assert_eq!(page.next_page_token, None);
    }
}
