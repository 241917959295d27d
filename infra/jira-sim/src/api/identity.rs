//! Who is asking and what they may do: `myself`, `mypermissions`, `serverInfo`, the tenant and
//! the gateway's view of a token.

// Helpers return the finished error `Response` so handlers can `return` it as is; these are
// error paths of a test server, where boxing would only add noise.
#![allow(clippy::result_large_err)]

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Params, Query, browsable, no_project, renderer, visible_issue};
use crate::http::{Auth, Shared, error, unauthorized};
use crate::model::Mode;

pub async fn myself(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    q: Query,
) -> Response {
    let Some(user) = auth.user else {
        return unauthorized(&auth);
    };
    let site = st.site.read().unwrap();
    let expand = Params::parse(&q)
        .one("expand")
        .unwrap_or("")
        .contains("groups");
    Json(renderer(&site, st.base(), &uri, &auth).user_full(user, expand)).into_response()
}

/// (key, id, type, name, description)
const PERMISSIONS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "ADMINISTER",
        "0",
        "GLOBAL",
        "Administer Jira",
        "Create and administer projects, issue types, fields, workflows, and schemes for all projects.",
    ),
    (
        "SYSTEM_ADMIN",
        "44",
        "GLOBAL",
        "Administer Jira",
        "Ability to perform most administration functions (excluding Import & Export, SMTP Configuration, etc.).",
    ),
    (
        "USER_PICKER",
        "27",
        "GLOBAL",
        "Browse users and groups",
        "View and select users or groups from the user picker, and share issues.",
    ),
    (
        "BROWSE_PROJECTS",
        "10",
        "PROJECT",
        "Browse Projects",
        "Ability to browse projects and the issues within them.",
    ),
    (
        "VIEW_AGGREGATED_DATA",
        "-1",
        "PROJECT",
        "View aggregated data",
        "Users with this permission can access aggregated project data, such as insights.",
    ),
    (
        "CREATE_ISSUES",
        "11",
        "PROJECT",
        "Create Issues",
        "Ability to create issues.",
    ),
    (
        "EDIT_ISSUES",
        "12",
        "PROJECT",
        "Edit Issues",
        "Ability to edit issues.",
    ),
    (
        "ADD_COMMENTS",
        "15",
        "PROJECT",
        "Add Comments",
        "Ability to comment on issues.",
    ),
    (
        "ASSIGNABLE_USER",
        "17",
        "PROJECT",
        "Assignable User",
        "Users with this permission may be assigned to issues.",
    ),
    (
        "TRANSITION_ISSUES",
        "46",
        "PROJECT",
        "Transition Issues",
        "Ability to transition issues.",
    ),
    (
        "VIEW_DEV_TOOLS",
        "29",
        "PROJECT",
        "View Development Tools",
        "Allows users to view development-related information on the issue.",
    ),
    (
        "VIEW_VOTERS_AND_WATCHERS",
        "31",
        "PROJECT",
        "View Voters and Watchers",
        "Ability to view the voters and watchers of an issue.",
    ),
    (
        "ADMINISTER_PROJECTS",
        "23",
        "PROJECT",
        "Administer Projects",
        "Ability to administer a project in Jira.",
    ),
    (
        "WORK_ON_ISSUES",
        "20",
        "PROJECT",
        "Work On Issues",
        "Ability to log work done against an issue.",
    ),
    (
        "DELETE_ISSUES",
        "16",
        "PROJECT",
        "Delete Issues",
        "Ability to delete issues.",
    ),
    (
        "ASSIGN_ISSUES",
        "13",
        "PROJECT",
        "Assign Issues",
        "Ability to assign issues to other people.",
    ),
    (
        "RESOLVE_ISSUES",
        "14",
        "PROJECT",
        "Resolve Issues",
        "Ability to resolve and reopen issues.",
    ),
    (
        "CLOSE_ISSUES",
        "18",
        "PROJECT",
        "Close Issues",
        "Ability to close issues.",
    ),
    (
        "LINK_ISSUES",
        "21",
        "PROJECT",
        "Link Issues",
        "Ability to link issues together and create linked issues.",
    ),
    (
        "MOVE_ISSUES",
        "25",
        "PROJECT",
        "Move Issues",
        "Ability to move issues between projects or between workflows of the same project.",
    ),
    (
        "SCHEDULE_ISSUES",
        "28",
        "PROJECT",
        "Schedule Issues",
        "Ability to view or edit an issue's due date.",
    ),
    (
        "CREATE_ATTACHMENTS",
        "19",
        "PROJECT",
        "Create Attachments",
        "Users with this permission may create attachments.",
    ),
    (
        "MANAGE_WATCHERS",
        "32",
        "PROJECT",
        "Manage Watchers",
        "Ability to manage the watchers of an issue.",
    ),
    (
        "BULK_CHANGE",
        "33",
        "GLOBAL",
        "Make bulk changes",
        "Modify collections of issues at once.",
    ),
    (
        "CREATE_SHARED_OBJECTS",
        "22",
        "GLOBAL",
        "Share dashboards and filters",
        "Share dashboards and filters with other users.",
    ),
];

pub async fn my_permissions(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    q: Query,
) -> Response {
    let site = st.site.read().unwrap();
    let p = Params::parse(&q);
    let keys: Vec<String> = p
        .one("permissions")
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if keys.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "The permissions parameter is required.",
        );
    }
    let unknown: Vec<&String> = keys
        .iter()
        .filter(|k| !PERMISSIONS.iter().any(|p| p.0 == k.as_str()))
        .collect();
    if !unknown.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "Invalid permission keys: {}.",
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let project = match (
        p.one("projectId"),
        p.one("projectKey"),
        p.one("issueId").or(p.one("issueKey")),
    ) {
        (Some(id), _, _) | (None, Some(id), _) => match browsable(&site, &auth, id) {
            Some(pr) => Some(pr),
            None => return no_project(id),
        },
        (None, None, Some(issue)) => match visible_issue(&site, &auth, issue) {
            Ok(i) => Some(site.project(i.project_id)),
            Err(r) => return r,
        },
        _ => None,
    };
    let mut out = serde_json::Map::new();
    for key in &keys {
        let (k, id, kind, name, description) = *PERMISSIONS
            .iter()
            .find(|p| p.0 == key.as_str())
            .expect("checked above");
        let have = match auth.user {
            None => false,
            Some(u) => {
                let user = &site.users[u];
                let admin_only = matches!(k, "ADMINISTER" | "SYSTEM_ADMIN" | "ADMINISTER_PROJECTS");
                if user.denied.contains(k) || admin_only {
                    false
                } else if kind == "PROJECT" {
                    // Permissions are granted independently, per project the user belongs to;
                    // without a context a project permission counts if held in any project.
                    match project {
                        Some(pr) => !user.hidden_projects.contains(&pr.key),
                        None => site
                            .projects
                            .iter()
                            .any(|pr| !user.hidden_projects.contains(&pr.key)),
                    }
                } else {
                    true
                }
            }
        };
        out.insert(k.to_string(), json!({"id": id, "key": k, "name": name, "type": kind, "description": description, "havePermission": have}));
    }
    Json(json!({"permissions": out})).into_response()
}

pub async fn server_info(State(st): State<Shared>) -> Response {
    let site = st.site.read().unwrap();
    let now = chrono::Utc::now();
    let (version, numbers, deployment) = match site.mode {
        Mode::Cloud => ("1001.0.0-SNAPSHOT", json!([1001, 0, 0]), "Cloud"),
        Mode::DataCenter => ("9.12.15", json!([9, 12, 15]), "Server"),
    };
    Json(json!({
        "baseUrl": st.base(),
        "displayUrl": st.base(),
        "version": version,
        "versionNumbers": numbers,
        "deploymentType": deployment,
        "buildNumber": 100_300,
        "buildDate": "2025-12-24T00:00:00.000+0000",
        "serverTime": sei_jira_client::time::format(&now),
        "serverTimeZone": "Etc/UTC",
        "scmInfo": "57a0ca5b2e7a1f0d9f3c7a4e4b1c2d3e4f5a6b7c",
        "serverTitle": "Jira",
    }))
    .into_response()
}

fn cloud_id(seed: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        seed as u32,
        (seed >> 8) as u16,
        seed & 0xfff,
        (seed >> 4) & 0xfff,
        seed.wrapping_mul(0x9e37_79b9) & 0xffff_ffff_ffff
    )
}

pub async fn tenant_info(State(st): State<Shared>) -> Response {
    Json(json!({"cloudId": cloud_id(st.seed)})).into_response()
}

/// `/myself` through the gateway (`/ex/jira/{cloudId}/rest/api/3/myself`).
pub async fn gateway_myself(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    Path(id): Path<String>,
    q: Query,
) -> Response {
    if id != cloud_id(st.seed) {
        return error(StatusCode::NOT_FOUND, "Site not found");
    }
    myself(State(st), Extension(auth), uri, q).await
}

// ---------------------------------------------------------------- projects, fields, statuses
