//! One issue, bulk fetch, an issue's changelog (paged and bulk), transitions and comments.

// Helpers return the finished error `Response` so handlers can `return` it as is; these are
// error paths of a test server, where boxing would only add noise.
#![allow(clippy::result_large_err)]

use axum::Extension;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Params, Query, extend, now_ms, page_bean, page_token, read_token, renderer, visible_issue,
};
use crate::expand::Expand;
use crate::http::{Auth, Shared, error, unauthorized};
use crate::model::{Issue, Mode};
use crate::render::{CHANGELOG_EMBED_LIMIT, COMMENT_EMBED_LIMIT, FieldSelection, Renderer};

/// An issue carrying its own `names` and `schema` expands (GET issue, the bulk fetch).
fn with_field_meta(r: &Renderer, mut issue: Value, expand: &Expand) -> Value {
    let meta = r.field_meta(std::slice::from_ref(&issue), expand);
    extend(&mut issue, meta);
    issue
}

pub async fn issue(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    Path(key): Path<String>,
    q: Query,
) -> Response {
    let site = st.site.read().unwrap();
    let p = Params::parse(&q);
    let i = match visible_issue(&site, &auth, &key) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let sel = FieldSelection::parse(&p.all("fields"), "*all");
    let expand = Expand::parse(&p.all("expand"));
    // Data Center embeds the whole changelog; Cloud's GET issue embeds at most 100 histories.
    let limit = if site.mode == Mode::DataCenter {
        usize::MAX
    } else {
        100
    };
    let r = renderer(&site, st.base(), &uri, &auth);
    let v = r.issue(i, &sel, &expand, now_ms(), limit, limit);
    let mut v = with_field_meta(&r, v, &expand);
    if sel.id_only() {
        v["key"] = json!(site.issue_key(i));
    }
    Json(v).into_response()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct BulkFetchBody {
    issue_ids_or_keys: Vec<Value>,
    fields: Option<Vec<String>>,
    expand: Vec<String>,
    #[allow(dead_code)]
    fields_by_keys: bool,
    #[allow(dead_code)]
    properties: Vec<String>,
}

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub async fn bulk_fetch(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    body: Option<Json<BulkFetchBody>>,
) -> Response {
    let Some(Json(b)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
        );
    };
    let site = st.site.read().unwrap();
    let sel = FieldSelection::parse(b.fields.as_deref().unwrap_or(&[]), "*navigable");
    let expand = Expand::parse(&b.expand);
    // Up to 1000 ids for light requests (explicit fields, no multi-value fields, no heavy expand).
    let light = !sel.all
        && !sel.navigable
        && sel.include.len() <= 100
        && !sel.include.contains("comment")
        && !expand.heavy();
    let limit = if light { 1000 } else { 100 };
    if b.issue_ids_or_keys.is_empty() || b.issue_ids_or_keys.len() > limit {
        return error(
            StatusCode::BAD_REQUEST,
            format!("The number of issue IDs or keys must be between 1 and {limit}."),
        );
    }
    let mut found: Vec<&Issue> = b
        .issue_ids_or_keys
        .iter()
        .filter_map(|k| site.find_issue(&id_text(k)))
        .filter(|i| site.can_see_issue(auth.user, i))
        .collect();
    found.sort_by_key(|i| i.id);
    found.dedup_by_key(|i| i.id);
    let r = renderer(&site, st.base(), &uri, &auth);
    let now = now_ms();
    let issues: Vec<Value> = found
        .iter()
        .map(|i| {
            let v = r.issue(
                i,
                &sel,
                &expand,
                now,
                CHANGELOG_EMBED_LIMIT,
                COMMENT_EMBED_LIMIT,
            );
            with_field_meta(&r, v, &expand)
        })
        .collect();
    let mut out = json!({"issueErrors": []});
    out["issues"] = Value::Array(issues); // moved: `json!` would copy every issue
    Json(out).into_response()
}

pub async fn changelog(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    Path(key): Path<String>,
    q: Query,
) -> Response {
    let site = st.site.read().unwrap();
    let p = Params::parse(&q);
    let (start, max) = match p.paging(100, 1, 100) {
        Ok(paging) => paging,
        Err(e) => return e,
    };
    let i = match visible_issue(&site, &auth, &key) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let r = renderer(&site, st.base(), &uri, &auth);
    let values = i
        .histories
        .iter()
        .skip(start)
        .take(max)
        .map(|h| r.history(h))
        .collect();
    Json(page_bean(
        st.base(),
        uri.path(),
        start,
        max,
        i.histories.len(),
        values,
    ))
    .into_response()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ChangelogBulkBody {
    issue_ids_or_keys: Vec<Value>,
    field_ids: Vec<String>,
    max_results: Option<i64>,
    next_page_token: Option<String>,
}

pub async fn changelog_bulk(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    body: Option<Json<ChangelogBulkBody>>,
) -> Response {
    if auth.user.is_none() {
        return unauthorized(&auth);
    }
    let Some(Json(b)) = body else {
        return error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
        );
    };
    if b.issue_ids_or_keys.is_empty() || b.issue_ids_or_keys.len() > 1000 {
        return error(
            StatusCode::BAD_REQUEST,
            "issueIdsOrKeys must contain between 1 and 1000 issue IDs or keys.",
        );
    }
    if b.field_ids.len() > 10 {
        return error(
            StatusCode::BAD_REQUEST,
            "fieldIds must contain at most 10 field IDs.",
        );
    }
    let max = b.max_results.unwrap_or(1000);
    if !(1..=10_000).contains(&max) {
        return error(
            StatusCode::BAD_REQUEST,
            "maxResults must be between 1 and 10000.",
        );
    }
    let site = st.site.read().unwrap();
    let mut issues: Vec<&Issue> = b
        .issue_ids_or_keys
        .iter()
        .filter_map(|k| site.find_issue(&id_text(k)))
        .filter(|i| site.can_see_issue(auth.user, i))
        .collect();
    issues.sort_by_key(|i| i.id);
    issues.dedup_by_key(|i| i.id);
    // Every (issue, history) entry, filtered by field, ordered by date then issue id: oldest first.
    let mut entries: Vec<(&Issue, &crate::model::History)> = issues
        .iter()
        .flat_map(|i| i.histories.iter().map(move |h| (*i, h)))
        .filter(|(_, h)| {
            b.field_ids.is_empty() || h.items.iter().any(|it| b.field_ids.contains(&it.field_id))
        })
        .collect();
    entries.sort_by_key(|(i, h)| (h.created, i.id, h.id));
    let print: String = b
        .issue_ids_or_keys
        .iter()
        .map(id_text)
        .collect::<Vec<_>>()
        .join(",")
        + &b.field_ids.join(",");
    let offset = match b.next_page_token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => match read_token(&print, t) {
            Some(o) => o,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The provided next page token is invalid or expired.",
                );
            }
        },
    };
    let r = renderer(&site, st.base(), &uri, &auth);
    let page = &entries[offset.min(entries.len())..(offset + max as usize).min(entries.len())];
    let mut grouped: Vec<(u64, Vec<Value>)> = Vec::new();
    for (issue, h) in page {
        let mut history = r.history(h);
        if !b.field_ids.is_empty() {
            let items: Vec<Value> = h
                .items
                .iter()
                .zip(history["items"].as_array().cloned().unwrap_or_default())
                .filter(|(it, _)| b.field_ids.contains(&it.field_id))
                .map(|(_, v)| v)
                .collect();
            history["items"] = json!(items);
        }
        match grouped.iter_mut().find(|(id, _)| *id == issue.id) {
            Some((_, list)) => list.push(history),
            None => grouped.push((issue.id, vec![history])),
        }
    }
    let mut out = json!({"issueChangeLogs": grouped.into_iter().map(|(id, h)| json!({"issueId": id.to_string(), "changeHistories": h})).collect::<Vec<_>>()});
    let end = offset + page.len();
    if end < entries.len() {
        out["nextPageToken"] = json!(page_token(&print, end));
    }
    Json(out).into_response()
}

/// `GET /issue/{key}/transitions`: the transitions available from the issue's status.
pub async fn transitions(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    Path(key): Path<String>,
) -> Response {
    let site = st.site.read().unwrap();
    let i = match visible_issue(&site, &auth, &key) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let r = renderer(&site, st.base(), &uri, &auth);
    Json(json!({"expand": "transitions", "transitions": r.transitions(i)})).into_response()
}

pub async fn comments(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    Path(key): Path<String>,
    q: Query,
) -> Response {
    let site = st.site.read().unwrap();
    let p = Params::parse(&q);
    let (start, max) = match p.paging(100, 0, 5000) {
        Ok(paging) => paging,
        Err(e) => return e,
    };
    let newest_first = match p.one("orderBy") {
        None | Some("created") | Some("+created") => false,
        Some("-created") => true,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("Invalid orderBy value '{other}'. Valid values are: created, -created."),
            );
        }
    };
    let i = match visible_issue(&site, &auth, &key) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let r = renderer(&site, st.base(), &uri, &auth);
    let ordered: Box<dyn Iterator<Item = _>> = if newest_first {
        Box::new(i.comments.iter().rev())
    } else {
        Box::new(i.comments.iter())
    };
    let list: Vec<Value> = ordered
        .skip(start)
        .take(max)
        .map(|c| r.comment(i, c))
        .collect();
    Json(json!({"startAt": start, "maxResults": max, "total": i.comments.len(), "comments": list}))
        .into_response()
}

// ---------------------------------------------------------------- JQL
