//! The Agile API: boards and their sprints.

// Helpers return the finished error `Response` so handlers can `return` it as is; these are
// error paths of a test server, where boxing would only add noise.
#![allow(clippy::result_large_err)]

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Params, Query, now_ms, renderer};
use crate::http::{Auth, Shared, error};

pub async fn boards(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    q: Query,
) -> Response {
    let site = st.site.read().unwrap();
    let p = Params::parse(&q);
    let (start, max) = match p.paging(50, 1, 50) {
        Ok(paging) => paging,
        Err(e) => return e,
    };
    let types: Vec<String> = p
        .one("type")
        .map(|t| t.split(',').map(String::from).collect())
        .unwrap_or_default();
    let project_filter = p.one("projectKeyOrId");
    let list: Vec<_> = site
        .boards
        .iter()
        .filter(|b| site.can_browse(auth.user, site.project(b.project_id)))
        .filter(|b| {
            types.is_empty()
                || types
                    .iter()
                    .any(|t| t == if b.scrum { "scrum" } else { "kanban" })
        })
        .filter(|b| {
            project_filter.is_none_or(|f| {
                site.project_by_key_or_id(f)
                    .is_some_and(|p| p.id == b.project_id)
            })
        })
        .collect();
    let values: Vec<Value> = list
        .iter()
        .skip(start)
        .take(max)
        .map(|b| {
            let pr = site.project(b.project_id);
            json!({
                "id": b.id, "self": format!("{}/rest/agile/1.0/board/{}", st.base(), b.id), "name": b.name,
                "type": if b.scrum { "scrum" } else { "kanban" },
                "location": {"projectId": pr.id, "displayName": format!("{} ({})", pr.name, pr.key), "projectName": pr.name, "projectKey": pr.key,
                             "projectTypeKey": "software", "avatarURI": format!("{}/secure/projectavatar?size=small&pid={}", st.base(), pr.id), "name": format!("{} ({})", pr.name, pr.key)},
            })
        })
        .collect();
    Json(json!({"maxResults": max, "startAt": start, "total": list.len(), "isLast": start + values.len() >= list.len(), "values": values})).into_response()
}

pub async fn board_sprints(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    Path(id): Path<String>,
    q: Query,
) -> Response {
    let site = st.site.read().unwrap();
    let p = Params::parse(&q);
    let (start, max) = match p.paging(50, 1, 50) {
        Ok(paging) => paging,
        Err(e) => return e,
    };
    let board = id
        .parse::<u64>()
        .ok()
        .and_then(|id| site.boards.iter().find(|b| b.id == id))
        .filter(|b| site.can_browse(auth.user, site.project(b.project_id)));
    let Some(board) = board else {
        return error(
            StatusCode::NOT_FOUND,
            format!("Board {id} does not exist or you do not have permission to see it."),
        );
    };
    if !board.scrum {
        return error(
            StatusCode::BAD_REQUEST,
            "The board does not support sprints",
        );
    }
    let states: Vec<String> = p
        .one("state")
        .map(|s| s.split(',').map(String::from).collect())
        .unwrap_or_default();
    let now = now_ms();
    let list: Vec<_> = site
        .sprints
        .iter()
        .filter(|s| s.board_id == board.id)
        .filter(|s| states.is_empty() || states.iter().any(|x| x == s.state(now)))
        .collect();
    let r = renderer(&site, st.base(), &uri, &auth);
    let values: Vec<Value> = list
        .iter()
        .skip(start)
        .take(max)
        .map(|s| r.sprint(s, now))
        .collect();
    Json(json!({"maxResults": max, "startAt": start, "isLast": start + values.len() >= list.len(), "values": values})).into_response()
}
