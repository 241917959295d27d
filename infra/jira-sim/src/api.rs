//! The Jira REST endpoints. Shapes, defaults, limits and error bodies follow Atlassian's OpenAPI
//! spec (a copy is kept in `tests/fidelity/spec/`) and documentation.

// Helpers return the finished error `Response` so handlers can `return` it as is; these are
// error paths of a test server, where boxing would only add noise.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;

use axum::Extension;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::expand::Expand;
use crate::jql;
use crate::model::{Category, Issue, Mode, Site};
use crate::render::{Api, CHANGELOG_EMBED_LIMIT, COMMENT_EMBED_LIMIT, FieldSelection, Renderer};
use crate::server::{Auth, Shared, error, unauthorized};

pub(crate) type Query = RawQuery;

/// Query parameters, keeping repeats (`fields=a&fields=b`, `accountId=…&accountId=…`).
pub(crate) struct Params(BTreeMap<String, Vec<String>>);

impl Params {
    pub(crate) fn parse(q: &Query) -> Self {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in
            q.0.as_deref()
                .unwrap_or("")
                .split('&')
                .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            map.entry(decode(k)).or_default().push(decode(v));
        }
        Params(map)
    }
    pub(crate) fn one(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(|v| v.first()).map(String::as_str)
    }
    pub(crate) fn all(&self, k: &str) -> Vec<String> {
        self.0.get(k).cloned().unwrap_or_default()
    }
    /// `startAt` (≥ 0) and `maxResults` (default, clamped to `min..=max`), or the 400 to return.
    pub(crate) fn paging(
        &self,
        default_max: i64,
        min: i64,
        max: i64,
    ) -> Result<(usize, usize), Response> {
        let start = self.number("startAt", 0)?.max(0) as usize;
        let size = self.number("maxResults", default_max)?.clamp(min, max) as usize;
        Ok((start, size))
    }

    fn number(&self, k: &str, default: i64) -> Result<i64, Response> {
        match self.one(k) {
            None | Some("") => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                error(
                    StatusCode::BAD_REQUEST,
                    format!("The value '{v}' is invalid for the parameter '{k}'."),
                )
            }),
        }
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn api_of(uri: &Uri) -> Api {
    if uri.path().starts_with("/rest/api/2") {
        Api::V2
    } else {
        Api::V3
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn renderer<'a>(site: &'a Site, base: &'a str, uri: &Uri, auth: &Auth) -> Renderer<'a> {
    let zone = auth
        .user
        .map(|u| site.users[u].time_zone)
        .unwrap_or(chrono_tz::UTC);
    Renderer::new(site, base, api_of(uri), zone)
}

fn context(site: &Site, auth: &Auth) -> jql::SearchContext {
    jql::SearchContext {
        user: auth.user,
        zone: auth
            .user
            .map(|u| site.users[u].time_zone)
            .unwrap_or(chrono_tz::UTC),
        now_ms: now_ms(),
    }
}

fn not_found_issue() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Issue does not exist or you do not have permission to see it.",
    )
}

fn visible_issue<'a>(site: &'a Site, auth: &Auth, key: &str) -> Result<&'a Issue, Response> {
    site.find_issue(key)
        .filter(|i| site.can_see_issue(auth.user, i))
        .ok_or_else(not_found_issue)
}

// ---------------------------------------------------------------- identity and permissions

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

/// The project (by key or id), when the user may browse it.
pub(crate) fn browsable<'a>(
    site: &'a Site,
    auth: &Auth,
    key: &str,
) -> Option<&'a crate::model::Project> {
    site.project_by_key_or_id(key)
        .filter(|p| site.can_browse(auth.user, p))
}

/// Jira's answer for a project that does not exist or the user may not browse.
pub(crate) fn no_project(key: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("No project could be found with key '{key}'."),
    )
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

fn page_token(jql: &str, offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{offset}:{:016x}", fingerprint(jql)))
}

fn read_token(jql: &str, token: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (offset, print) = text.split_once(':')?;
    (print == format!("{:016x}", fingerprint(jql)))
        .then(|| offset.parse().ok())
        .flatten()
}

fn fingerprint(s: &str) -> u64 {
    // FNV-1a: stable across runs, unlike the std hasher.
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
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

/// An issue carrying its own `names` and `schema` expands (GET issue, the bulk fetch).
fn with_field_meta(r: &Renderer, mut issue: Value, expand: &Expand) -> Value {
    let meta = r.field_meta(std::slice::from_ref(&issue), expand);
    extend(&mut issue, meta);
    issue
}

/// Adds `entries` to a JSON object.
fn extend(target: &mut Value, entries: serde_json::Map<String, Value>) {
    if let Value::Object(o) = target {
        o.extend(entries);
    }
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

pub(crate) fn page_bean(
    base: &str,
    path: &str,
    start: usize,
    max: usize,
    total: usize,
    values: Vec<Value>,
) -> Value {
    let is_last = start + values.len() >= total;
    let mut v = json!({
        "self": format!("{base}{path}?startAt={start}&maxResults={max}"),
        "maxResults": max, "startAt": start, "total": total, "isLast": is_last, "values": values,
    });
    if !is_last {
        v["nextPage"] = json!(format!(
            "{base}{path}?startAt={}&maxResults={max}",
            start + max
        ));
    }
    v
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

pub async fn user_bulk(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    q: Query,
) -> Response {
    if auth.user.is_none() {
        return unauthorized(&auth);
    }
    let p = Params::parse(&q);
    let ids = p.all("accountId");
    if ids.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "You must specify at least one accountId.",
        );
    }
    let (start, max) = match p.paging(10, 1, 200) {
        Ok(paging) => paging,
        Err(e) => return e,
    };
    let site = st.site.read().unwrap();
    let r = renderer(&site, st.base(), &uri, &auth);
    let found: Vec<usize> = ids
        .iter()
        .filter_map(|id| site.users.iter().position(|u| &u.account_id == id))
        .collect();
    let values = found
        .iter()
        .skip(start)
        .take(max)
        .map(|u| r.user_full(*u, false))
        .collect();
    Json(page_bean(
        st.base(),
        uri.path(),
        start,
        max,
        found.len(),
        values,
    ))
    .into_response()
}

pub async fn users_search(
    State(st): State<Shared>,
    Extension(auth): Extension<Auth>,
    uri: Uri,
    q: Query,
) -> Response {
    let Some(me) = auth.user else {
        return unauthorized(&auth);
    };
    let site = st.site.read().unwrap();
    if site.users[me].denied.contains("USER_PICKER") {
        return error(
            StatusCode::FORBIDDEN,
            "You do not have permission to browse users and groups.",
        );
    }
    let p = Params::parse(&q);
    let (start, max) = match p.paging(50, 1, 1000) {
        Ok(paging) => paging,
        Err(e) => return e,
    };
    // Data Center's /user/search filters by username; "." matches everyone.
    let filter = p.one("username").unwrap_or(".").to_lowercase();
    let r = renderer(&site, st.base(), &uri, &auth);
    let list: Vec<Value> = (0..site.users.len())
        .filter(|u| {
            filter == "."
                || site.users[*u].name.to_lowercase().contains(&filter)
                || site.users[*u].display_name.to_lowercase().contains(&filter)
        })
        .skip(start)
        .take(max)
        .map(|u| r.user_full(u, false))
        .collect();
    Json(list).into_response()
}

// ---------------------------------------------------------------- agile

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_query_strings() {
        assert_eq!(decode("project%20%3D%20PLAT+AND"), "project = PLAT AND");
        assert_eq!(decode("100%"), "100%");
    }

    #[test]
    fn tokens_are_bound_to_their_query() {
        let t = page_token("project = A", 100);
        assert_eq!(read_token("project = A", &t), Some(100));
        assert_eq!(read_token("project = B", &t), None);
        assert_eq!(read_token("project = A", "garbage!"), None);
    }
}
