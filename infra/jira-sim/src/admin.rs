//! `/_sim/*`: the simulator's own admin API (not Jira's). Tests use it to change the site
//! mid-run, tune faults, and read the ground truth and the request log.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::control::SettingsPatch;
use crate::edits::{self, Edit, NewIssue};
use crate::expand::Expand;
use crate::http::Shared;
use crate::model::Site;
use crate::render::{Api, CHANGELOG_EMBED_LIMIT, COMMENT_EMBED_LIMIT, FieldSelection, Renderer};

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/info", get(info))
        .route("/truth", get(truth))
        .route("/issues", post(create))
        .route("/issues/{key}", axum::routing::delete(delete))
        .route("/issues/{key}/edit", post(edit))
        .route("/issues/{key}/move", post(move_issue))
        .route("/users/{user}/permissions", put(permissions))
        .route("/users/{user}/deactivate", post(deactivate_user))
        .route("/versions/{id}/release", post(release_version))
        .route("/sprints/{id}/close", post(close_sprint))
        .route("/requests", get(requests).delete(reset_requests))
        .route("/control", get(control).put(set_control))
}

fn bad(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

/// The startup description: base URL, credential holders, custom field ids.
pub fn describe(st: &Shared) -> Value {
    let site = st.site.read().unwrap();
    let users: Vec<Value> = site
        .users
        .iter()
        .filter_map(|u| {
            let (kind, token) = u.credential.as_ref()?;
            Some(json!({
                "email": u.email, "token": token, "kind": kind, "time_zone": u.time_zone.name(),
                "account_id": u.account_id, "name": u.name, "display_name": u.display_name,
                "denied_permissions": u.denied, "hidden_projects": u.hidden_projects,
            }))
        })
        .collect();
    json!({
        "base_url": st.base(),
        "mode": site.mode,
        "users": users,
        "projects": site.projects.iter().map(|p| &p.key).collect::<Vec<_>>(),
        "issues": site.issues.len(),
        "custom_fields": site.custom_fields,
        "request_bound": request_bound(&site),
    })
}

/// Histories a bulk changelog page holds (`POST /changelog/bulkfetch`).
const BULK_CHANGELOG_PAGE: usize = 10_000;

/// The fewest requests that read every issue whole (what a benchmark holds a sync against): a
/// search page per 100 issues, the bulk changelog pages that the embedded changelogs'
/// truncation forces, and the comment pages of issues whose embedded comments were cut.
fn request_bound(site: &Site) -> Value {
    let truncated_histories: usize = site
        .issues
        .values()
        .filter(|i| i.histories.len() > CHANGELOG_EMBED_LIMIT)
        .map(|i| i.histories.len())
        .sum();
    let comment_pages: usize = site
        .issues
        .values()
        .filter(|i| i.comments.len() > COMMENT_EMBED_LIMIT)
        .map(|i| i.comments.len().div_ceil(100))
        .sum();
    let issues = site.issues.len();
    json!({
        "issues": issues,
        "truncated_histories": truncated_histories,
        "comment_pages": comment_pages,
        "lower_bound": issues.div_ceil(100)
            + truncated_histories.div_ceil(BULK_CHANGELOG_PAGE)
            + comment_pages,
    })
}

async fn info(State(st): State<Shared>) -> Response {
    Json(describe(&st)).into_response()
}

#[derive(Deserialize)]
struct TruthQuery {
    /// Only what this user (email) may browse.
    #[serde(rename = "as")]
    as_user: Option<String>,
    project: Option<String>,
}

/// Every issue, rendered in UTC as `/rest/api/3` would (all fields), with its complete changelog
/// (oldest first) and all comments.
async fn truth(State(st): State<Shared>, Query(q): Query<TruthQuery>) -> Response {
    let site = st.site.read().unwrap();
    let viewer = match q.as_user.as_deref().map(|u| site.user_index(u)) {
        Some(None) => return bad("unknown user".into()),
        Some(Some(u)) => Some(Some(u)),
        None => None,
    };
    let r = Renderer::new(&site, st.base(), Api::V3, chrono_tz::UTC);
    let sel = FieldSelection::parse(&["*all"], "*all");
    let now = chrono::Utc::now().timestamp_millis();
    let issues: Vec<Value> = site
        .issues
        .values()
        .filter(|i| viewer.is_none_or(|v| site.can_see_issue(v, i)))
        .filter(|i| {
            q.project
                .as_deref()
                .is_none_or(|p| site.project(i.project_id).key.eq_ignore_ascii_case(p))
        })
        .map(|i| {
            let mut v = r.issue(i, &sel, &Expand::default(), now, 0, usize::MAX);
            v["project"] = json!(site.project(i.project_id).key);
            v["changelog"] = json!(i.histories.iter().map(|h| r.history(h)).collect::<Vec<_>>());
            v["comments"] = json!(
                i.comments
                    .iter()
                    .map(|c| r.comment(i, c))
                    .collect::<Vec<_>>()
            );
            v
        })
        .collect();
    Json(json!({"total": issues.len(), "issues": issues})).into_response()
}

async fn create(State(st): State<Shared>, Json(req): Json<NewIssue>) -> Response {
    let mut site = st.site.write().unwrap();
    let result = edits::create(&mut site, req);
    match result {
        Ok(id) => {
            let key = site.issue_key(&site.issues[&id]);
            (
                StatusCode::CREATED,
                Json(json!({"id": id.to_string(), "key": key})),
            )
                .into_response()
        }
        Err(e) => bad(e),
    }
}

async fn edit(
    State(st): State<Shared>,
    Path(key): Path<String>,
    Json(req): Json<Edit>,
) -> Response {
    let mut site = st.site.write().unwrap();
    let result = edits::edit(&mut site, &key, req);
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => bad(e),
    }
}

#[derive(Deserialize)]
struct MoveBody {
    project: String,
}

async fn move_issue(
    State(st): State<Shared>,
    Path(key): Path<String>,
    Json(req): Json<MoveBody>,
) -> Response {
    let mut site = st.site.write().unwrap();
    let result = edits::move_issue(&mut site, &key, &req.project);
    match result {
        Ok(new_key) => Json(json!({"key": new_key})).into_response(),
        Err(e) => bad(e),
    }
}

async fn delete(State(st): State<Shared>, Path(key): Path<String>) -> Response {
    let mut site = st.site.write().unwrap();
    let result = edits::delete(&mut site, &key);
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::NOT_FOUND, Json(json!({"error": e}))).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PermissionBody {
    /// Permission keys the user lacks everywhere (replaces the current list).
    #[serde(default)]
    denied: Vec<String>,
    /// Project keys the user cannot browse (replaces the current list).
    #[serde(default)]
    hidden_projects: Vec<String>,
}

async fn permissions(
    State(st): State<Shared>,
    Path(who): Path<String>,
    Json(req): Json<PermissionBody>,
) -> Response {
    let mut site = st.site.write().unwrap();
    let Some(u) = site.user_index(&who) else {
        return bad(format!("unknown user '{who}'"));
    };
    site.users[u].denied = req.denied.into_iter().collect();
    site.users[u].hidden_projects = req.hidden_projects.into_iter().collect();
    StatusCode::NO_CONTENT.into_response()
}

/// Deactivates a user (as an admin does), touching no issue.
async fn deactivate_user(State(st): State<Shared>, Path(who): Path<String>) -> Response {
    let mut site = st.site.write().unwrap();
    let Some(u) = site.user_index(&who) else {
        return bad(format!("unknown user '{who}'"));
    };
    site.users[u].active = false;
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize, Default)]
struct ReleaseBody {
    /// The release date; today (UTC) when left out.
    date: Option<chrono::NaiveDate>,
}

/// Releases a version (as a release manager does), touching no issue.
async fn release_version(
    State(st): State<Shared>,
    Path(id): Path<String>,
    body: Option<Json<ReleaseBody>>,
) -> Response {
    let date = body
        .and_then(|Json(b)| b.date)
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let mut site = st.site.write().unwrap();
    let Some(version) = site
        .projects
        .iter_mut()
        .flat_map(|p| p.versions.iter_mut())
        .find(|v| v.id == id)
    else {
        return bad(format!("unknown version '{id}'"));
    };
    version.released = true;
    version.release_date = Some(date);
    StatusCode::NO_CONTENT.into_response()
}

/// Completes a sprint now (as its board's owner does), touching no issue.
async fn close_sprint(State(st): State<Shared>, Path(id): Path<u64>) -> Response {
    let now = chrono::Utc::now().timestamp_millis();
    let mut site = st.site.write().unwrap();
    let Some(sprint) = site.sprints.iter_mut().find(|s| s.id == id) else {
        return bad(format!("unknown sprint {id}"));
    };
    sprint.start = sprint.start.min(now - 1);
    sprint.end = now - 1;
    StatusCode::NO_CONTENT.into_response()
}

async fn requests(State(st): State<Shared>) -> Response {
    let counts = st.control.counts();
    let total: u64 = counts.values().sum();
    Json(json!({"total": total, "counts": counts, "peak_in_flight": st.control.peak_in_flight(), "log": st.control.log()}))
        .into_response()
}

async fn reset_requests(State(st): State<Shared>) -> Response {
    st.control.reset_log();
    StatusCode::NO_CONTENT.into_response()
}

async fn control(State(st): State<Shared>) -> Response {
    Json(st.control.settings()).into_response()
}

async fn set_control(
    State(st): State<Shared>,
    body: Result<Json<SettingsPatch>, axum::extract::rejection::JsonRejection>,
) -> Response {
    match body {
        Ok(Json(patch)) => match st.control.update(patch) {
            Ok(settings) => Json(settings).into_response(),
            Err(e) => bad(e),
        },
        Err(e) => bad(e.body_text()),
    }
}
