//! Jira's reference-data endpoints that a sync reads beside issues: a project's versions (paged
//! on Cloud `/project/{key}/version`, whole on `/project/{key}/versions`), one sprint of the Agile
//! API, and users by id (`/user/bulk` on Cloud, `/user?key=` on Data Center). Each answers what
//! the site holds now, so a version released, a sprint closed or a user deactivated without any
//! issue being edited shows here.

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::api::{Params, Query, browsable, no_project, now_ms, page_bean, renderer};
use crate::http::{Auth, Shared, error, unauthorized};
use crate::model::{Project, Version};
use crate::render::version_json;

/// A version as its project's listings render it.
fn listed_version(base: &str, project: &Project, v: &Version) -> Value {
    let mut listed = version_json(base, v);
    listed["projectId"] = json!(project.id);
    listed
}

/// `GET /project/{key}/version`: a page of the project's versions.
pub async fn project_versions_paged(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    Path(key): Path<String>,
    q: Query,
) -> Response {
    let (start, max) = match Params::parse(&q).paging(50, 1, 50) {
        Ok(paging) => paging,
        Err(e) => return e,
    };
    let site = st.site.read().unwrap();
    let Some(project) = browsable(&site, &auth, &key) else {
        return no_project(&key);
    };
    let values = project
        .versions
        .iter()
        .skip(start)
        .take(max)
        .map(|v| listed_version(st.base(), project, v))
        .collect();
    Json(page_bean(
        st.base(),
        uri.path(),
        start,
        max,
        project.versions.len(),
        values,
    ))
    .into_response()
}

/// `GET /project/{key}/versions`: every version of the project, unpaged.
pub async fn project_versions(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    Path(key): Path<String>,
) -> Response {
    let site = st.site.read().unwrap();
    match browsable(&site, &auth, &key) {
        Some(project) => Json(
            project
                .versions
                .iter()
                .map(|v| listed_version(st.base(), project, v))
                .collect::<Vec<_>>(),
        )
        .into_response(),
        None => no_project(&key),
    }
}

/// `GET /rest/agile/1.0/sprint/{id}`: one sprint, for a user who can browse its board's project.
pub async fn sprint(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    if auth.user.is_none() {
        return unauthorized(&auth);
    }
    let site = st.site.read().unwrap();
    let found = id
        .parse::<u64>()
        .ok()
        .and_then(|id| site.sprints.iter().find(|s| s.id == id))
        .filter(|s| {
            site.boards
                .iter()
                .find(|b| b.id == s.board_id)
                .is_some_and(|b| site.can_browse(auth.user, site.project(b.project_id)))
        });
    match found {
        Some(s) => {
            Json(renderer(&site, st.base(), &uri, &auth).sprint(s, now_ms())).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            format!("Sprint with id {id} does not exist or you do not have permission to see it."),
        ),
    }
}

/// `GET /rest/api/2/user?key=` (Data Center): one user by key (or `username`).
pub async fn user(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    q: Query,
) -> Response {
    if auth.user.is_none() {
        return unauthorized(&auth);
    }
    let p = Params::parse(&q);
    let site = st.site.read().unwrap();
    let found = match (p.one("key"), p.one("username")) {
        (Some(key), _) => site.users.iter().position(|u| u.key == key),
        (None, Some(name)) => site.users.iter().position(|u| u.name == name),
        (None, None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Either the 'username' or the 'key' query parameters need to be provided",
            );
        }
    };
    match found {
        Some(u) => {
            Json(renderer(&site, st.base(), &uri, &auth).user_full(u, false)).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "The user named 'null' does not exist",
        ),
    }
}
