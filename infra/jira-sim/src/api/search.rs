//! JQL search: the enhanced `search/jql` (GET and POST, `nextPageToken`), the approximate count,
//! the removed legacy search's answer, and the JQL parser endpoint.

// Helpers return the finished error `Response` so handlers can `return` it as is; these are
// error paths of a test server, where boxing would only add noise.
#![allow(clippy::result_large_err)]

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Params, Query, context, extend, now_ms, page_token, read_token, renderer};
use crate::expand::Expand;
use crate::http::{Auth, Shared, error, unauthorized};
use crate::jql;
use crate::model::{Issue, Mode, Site};
use crate::render::{CHANGELOG_EMBED_LIMIT, COMMENT_EMBED_LIMIT, FieldSelection};

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchBody {
    jql: Option<String>,
    next_page_token: Option<String>,
    max_results: Option<i64>,
    fields: Option<Vec<String>>,
    expand: Option<String>,
    reconcile_issues: Option<Vec<i64>>,
    #[allow(dead_code)]
    properties: Option<Vec<String>>,
    #[allow(dead_code)]
    fields_by_keys: Option<bool>,
    #[allow(dead_code)]
    fail_fast: Option<bool>,
}

pub async fn search_get(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    q: Query,
) -> Response {
    let p = Params::parse(&q);
    let max_results = match p.number("maxResults", 50) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let mut reconcile = Vec::new();
    for v in p
        .all("reconcileIssues")
        .iter()
        .flat_map(|v| v.split(',').map(String::from).collect::<Vec<_>>())
    {
        match v.trim().parse() {
            Ok(id) => reconcile.push(id),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("The value '{v}' is invalid for the parameter 'reconcileIssues'."),
                );
            }
        }
    }
    let body = SearchBody {
        jql: p.one("jql").map(String::from),
        next_page_token: p.one("nextPageToken").map(String::from),
        max_results: Some(max_results),
        fields: Some(p.all("fields")),
        expand: p.one("expand").map(String::from),
        reconcile_issues: Some(reconcile),
        ..SearchBody::default()
    };
    search(st, auth, uri, body)
}

pub async fn search_post(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    body: Option<Json<SearchBody>>,
) -> Response {
    match body {
        Some(Json(b)) => search(st, auth, uri, b),
        None => error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
        ),
    }
}

const UNBOUNDED: &str =
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.";

/// Parses and checks JQL for a search; errors are the 400 response Jira gives.
fn compile_for_search(
    site: &Site,
    auth: &Auth,
    jql_text: &str,
    require_bound: bool,
) -> Result<jql::Compiled, Response> {
    let query = jql::parse::parse(jql_text).map_err(|e| error(StatusCode::BAD_REQUEST, e))?;
    if require_bound && query.clause.is_none() {
        return Err(error(StatusCode::BAD_REQUEST, UNBOUNDED));
    }
    jql::compile(&query, site, context(site, auth)).map_err(|errors| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"errorMessages": errors, "errors": {}})),
        )
            .into_response()
    })
}

/// The issues a search returns, in order: visible to the caller, matching, and (under simulated
/// eventual consistency) not edited too recently unless named in `reconcile`.
fn run_search<'a>(
    st: &Shared,
    site: &'a Site,
    auth: &Auth,
    compiled: &jql::Compiled,
    reconcile: &[i64],
) -> Vec<&'a Issue> {
    let lag = st.control.settings().consistency_lag_ms as i64;
    let now = now_ms();
    let mut hits: Vec<&Issue> = site
        .issues
        .values()
        .filter(|i| site.can_see_issue(auth.user, i))
        .filter(|i| lag == 0 || now - i.updated >= lag || reconcile.contains(&(i.id as i64)))
        .filter(|i| compiled.matches(site, i))
        .collect();
    compiled.sort(site, &mut hits);
    hits
}

fn search(st: Shared, auth: Auth, uri: Uri, body: SearchBody) -> Response {
    let site = st.site.read().unwrap();
    let jql_text = body.jql.unwrap_or_default();
    if jql_text.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, UNBOUNDED);
    }
    let reconcile = body.reconcile_issues.unwrap_or_default();
    if reconcile.len() > 50 {
        return error(
            StatusCode::BAD_REQUEST,
            "The number of reconcileIssues must not exceed 50.",
        );
    }
    let compiled = match compile_for_search(&site, &auth, &jql_text, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let sel = FieldSelection::parse(&body.fields.unwrap_or_default(), "id");
    let expand = Expand::parse(&[body.expand.unwrap_or_default()]);
    // Pages are largest when only ids are requested.
    let jira_cap = if sel.id_only() && !expand.any() {
        5_000
    } else {
        100
    };
    let cap = match st.control.settings().search_page_cap {
        0 => jira_cap,
        smaller => jira_cap.min(i64::from(smaller)),
    };
    let max = body.max_results.unwrap_or(50).clamp(1, cap) as usize;
    let offset = match body.next_page_token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => match read_token(&jql_text, t) {
            Some(o) => o,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The provided next page token is invalid or expired.",
                );
            }
        },
    };
    let hits = run_search(&st, &site, &auth, &compiled, &reconcile);
    let r = renderer(&site, st.base(), &uri, &auth);
    let now = now_ms();
    let issues: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(max)
        .map(|i| {
            let mut v = r.issue(
                i,
                &sel,
                &expand,
                now,
                CHANGELOG_EMBED_LIMIT,
                COMMENT_EMBED_LIMIT,
            );
            // This endpoint answers versioned representations with an empty object (Atlassian's
            // knowledge base: "versionedRepresentations expand field returns null").
            if expand.versioned_representations {
                v["versionedRepresentations"] = json!({});
            }
            v
        })
        .collect();
    let end = offset + issues.len();
    let mut out = json!({"isLast": end >= hits.len()});
    extend(&mut out, r.field_meta(&issues, &expand));
    out["issues"] = Value::Array(issues); // moved: `json!` would copy every issue
    if end < hits.len() {
        out["nextPageToken"] = json!(page_token(&jql_text, end));
    }
    Json(out).into_response()
}

#[derive(Deserialize)]
pub struct CountBody {
    jql: Option<String>,
}

pub async fn approximate_count(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    body: Option<Json<CountBody>>,
) -> Response {
    if auth.user.is_none() {
        return unauthorized(&auth);
    }
    let site = st.site.read().unwrap();
    let jql_text = body.and_then(|b| b.0.jql).unwrap_or_default();
    let compiled = match compile_for_search(&site, &auth, &jql_text, true) {
        Ok(c) => c,
        Err(r) => return r,
    };
    Json(json!({"count": run_search(&st, &site, &auth, &compiled, &[]).len()})).into_response()
}

/// `GET|POST /rest/api/{2,3}/search`: removed from Cloud (410); the startAt/total search on Data Center.
pub async fn legacy_search_get(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    q: Query,
) -> Response {
    let p = Params::parse(&q);
    // Data Center caps the page at jira.search.views.default.max (1000).
    let (start, max) = match p.paging(50, 0, 1000) {
        Ok((s, m)) => (s as i64, m as i64),
        Err(e) => return e,
    };
    legacy_search(
        st,
        auth,
        uri,
        p.one("jql").unwrap_or("").to_string(),
        start,
        max,
        p.all("fields"),
        p.one("expand").unwrap_or("").to_string(),
    )
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LegacySearchBody {
    jql: String,
    start_at: i64,
    max_results: Option<i64>,
    fields: Vec<String>,
    expand: Vec<String>,
}

pub async fn legacy_search_post(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    body: Option<Json<LegacySearchBody>>,
) -> Response {
    let b = body.map(|b| b.0).unwrap_or_default();
    legacy_search(
        st,
        auth,
        uri,
        b.jql,
        b.start_at,
        b.max_results.unwrap_or(50),
        b.fields,
        b.expand.join(","),
    )
}

#[allow(clippy::too_many_arguments)]
fn legacy_search(
    st: Shared,
    auth: Auth,
    uri: Uri,
    jql_text: String,
    start: i64,
    max: i64,
    fields: Vec<String>,
    expand: String,
) -> Response {
    let site = st.site.read().unwrap();
    if site.mode == Mode::Cloud {
        return error(
            StatusCode::GONE,
            "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
        );
    }
    // Data Center: unbounded queries are allowed; the page cap is jira.search.views.default.max (1000).
    let compiled = match compile_for_search(&site, &auth, &jql_text, false) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let sel = FieldSelection::parse(&fields, "*navigable");
    let expand = Expand::parse(&[expand]);
    let start = start.max(0) as usize;
    let max = max.clamp(0, 1000) as usize;
    let hits = run_search(&st, &site, &auth, &compiled, &[]);
    let r = renderer(&site, st.base(), &uri, &auth);
    let now = now_ms();
    let issues: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(max)
        .map(|i| r.issue(i, &sel, &expand, now, usize::MAX, usize::MAX))
        .collect();
    let mut out =
        json!({"expand": "schema,names", "startAt": start, "maxResults": max, "total": hits.len()});
    extend(&mut out, r.field_meta(&issues, &expand));
    out["issues"] = Value::Array(issues); // moved: `json!` would copy every issue
    Json(out).into_response()
}

// ---------------------------------------------------------------- issues

#[derive(Deserialize)]
pub struct ParseBody {
    queries: Option<Vec<String>>,
}

pub async fn jql_parse(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    q: Query,
    body: Option<Json<ParseBody>>,
) -> Response {
    let validation = Params::parse(&q)
        .one("validation")
        .unwrap_or("strict")
        .to_string();
    if !matches!(validation.as_str(), "strict" | "warn" | "none") {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "Invalid validation value '{validation}'. Valid values are: strict, warn, none."
            ),
        );
    }
    let Some(queries) = body.and_then(|b| b.0.queries).filter(|q| !q.is_empty()) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"errorMessages": [], "errors": {"queries": "At least one query is required."}}))).into_response();
    };
    let site = st.site.read().unwrap();
    let ctx = context(&site, &auth);
    let results: Vec<Value> = queries
        .iter()
        .map(|text| match jql::parse::parse(text) {
            Err(e) => json!({"query": text, "errors": [e]}),
            Ok(query) => {
                let problems = if validation == "none" { Vec::new() } else { jql::compile(&query, &site, ctx).err().unwrap_or_default() };
                match (validation.as_str(), problems.is_empty()) {
                    (_, true) => json!({"query": text, "structure": jql::structure(&query)}),
                    ("strict", false) => json!({"query": text, "errors": problems}),
                    _ => json!({"query": text, "structure": jql::structure(&query), "warnings": problems}),
                }
            }
        })
        .collect();
    Json(json!({"queries": results})).into_response()
}

// ---------------------------------------------------------------- users
