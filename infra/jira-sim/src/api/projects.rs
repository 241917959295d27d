//! Projects, their search, fields, statuses and status categories.

// Helpers return the finished error `Response` so handlers can `return` it as is; these are
// error paths of a test server, where boxing would only add noise.
#![allow(clippy::result_large_err)]

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Params, Query, browsable, no_project, renderer};
use crate::http::{Auth, Shared};
use crate::model::Category;

pub async fn projects(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    q: Query,
) -> Response {
    let site = st.site.read().unwrap();
    let r = renderer(&site, st.base(), &uri, &auth);
    let expand = Params::parse(&q).one("expand").unwrap_or("").to_string();
    Json(
        site.projects
            .iter()
            .filter(|p| site.can_browse(auth.user, p))
            .map(|p| r.project(p, &expand))
            .collect::<Vec<_>>(),
    )
    .into_response()
}

pub async fn project(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    Path(key): Path<String>,
    q: Query,
) -> Response {
    let site = st.site.read().unwrap();
    let expand = Params::parse(&q).one("expand").unwrap_or("").to_string();
    match browsable(&site, &auth, &key) {
        Some(p) => Json(
            renderer(&site, st.base(), &uri, &auth)
                .project(p, &format!("{expand},lead,description,issueTypes")),
        )
        .into_response(),
        None => no_project(&key),
    }
}

pub async fn project_search(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    q: Query,
) -> Response {
    let site = st.site.read().unwrap();
    let p = Params::parse(&q);
    let (start, max) = match p.paging(50, 1, 100) {
        Ok(paging) => paging,
        Err(e) => return e,
    };
    let keys: Vec<String> = p
        .all("keys")
        .iter()
        .flat_map(|k| k.split(',').map(String::from).collect::<Vec<_>>())
        .collect();
    let ids: Vec<String> = p.all("id");
    let query = p.one("query").unwrap_or("").to_lowercase();
    let mut list: Vec<_> = site
        .projects
        .iter()
        .filter(|pr| site.can_browse(auth.user, pr))
        .filter(|pr| keys.is_empty() || keys.iter().any(|k| k.eq_ignore_ascii_case(&pr.key)))
        .filter(|pr| ids.is_empty() || ids.contains(&pr.id.to_string()))
        .filter(|pr| {
            query.is_empty()
                || pr.key.to_lowercase().contains(&query)
                || pr.name.to_lowercase().contains(&query)
        })
        .collect();
    match p.one("orderBy").unwrap_or("key") {
        "name" => list.sort_by(|a, b| a.name.cmp(&b.name)),
        "-name" => list.sort_by(|a, b| b.name.cmp(&a.name)),
        "-key" => list.sort_by(|a, b| b.key.cmp(&a.key)),
        _ => list.sort_by(|a, b| a.key.cmp(&b.key)),
    }
    let r = renderer(&site, st.base(), &uri, &auth);
    let expand = p.one("expand").unwrap_or("").to_string();
    let total = list.len();
    let values: Vec<Value> = list
        .iter()
        .skip(start)
        .take(max)
        .map(|pr| r.project(pr, &expand))
        .collect();
    let is_last = start + values.len() >= total;
    // Page links keep the caller's filters; only the paging parameters change.
    let filters: String = q
        .0
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("startAt=") && !p.starts_with("maxResults="))
        .map(|p| format!("&{p}"))
        .collect();
    let link = |at: usize| {
        format!(
            "{}{}?maxResults={max}&startAt={at}{filters}",
            st.base(),
            uri.path()
        )
    };
    let mut body = json!({
        "self": link(start),
        "maxResults": max, "startAt": start, "total": total, "isLast": is_last, "values": values,
    });
    if !is_last {
        body["nextPage"] = json!(link(start + max));
    }
    Json(body).into_response()
}

pub async fn fields(State(st): State<Shared>) -> Response {
    let site = st.site.read().unwrap();
    Json(crate::fields::definitions(&site)).into_response()
}

pub async fn statuses(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
) -> Response {
    let site = st.site.read().unwrap();
    if auth.user.is_none() {
        return Json(json!([])).into_response();
    }
    let r = renderer(&site, st.base(), &uri, &auth);
    Json(
        site.statuses
            .iter()
            .map(|s| r.status(&s.id))
            .collect::<Vec<_>>(),
    )
    .into_response()
}

pub async fn status_categories(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
) -> Response {
    let site = st.site.read().unwrap();
    let r = renderer(&site, st.base(), &uri, &auth);
    let mut list = vec![
        json!({"self": format!("{}/rest/api/3/statuscategory/1", st.base()), "id": 1, "key": "undefined", "colorName": "medium-gray", "name": "No Category"}),
    ];
    list.extend(Category::ALL.iter().map(|c| r.category(*c)));
    Json(list).into_response()
}

// ---------------------------------------------------------------- search
