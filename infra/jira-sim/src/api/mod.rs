//! The Jira REST endpoints. Shapes, defaults, limits and error bodies follow Atlassian's OpenAPI
//! spec (a copy is kept in `tests/fidelity/spec/`) and documentation.

// Helpers return the finished error `Response` so handlers can `return` it as is; these are
// error paths of a test server, where boxing would only add noise.
#![allow(clippy::result_large_err)]

mod agile;
mod identity;
mod issues;
mod projects;
mod search;
mod users;

pub use agile::{board_sprints, boards};
pub use identity::{gateway_myself, my_permissions, myself, server_info, tenant_info};
pub use issues::{bulk_fetch, changelog, changelog_bulk, comments, issue, transitions};
pub use projects::{fields, project, project_search, projects, status_categories, statuses};
pub use search::{
    approximate_count, jql_parse, legacy_search_get, legacy_search_post, search_get, search_post,
};
pub use users::{user_bulk, users_search};

use std::collections::BTreeMap;

use axum::extract::RawQuery;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};

use crate::http::{Auth, error};
use crate::jql;
use crate::model::{Issue, Site};
use crate::render::{Api, Renderer};

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
/// Adds `entries` to a JSON object.
fn extend(target: &mut Value, entries: serde_json::Map<String, Value>) {
    if let Value::Object(o) = target {
        o.extend(entries);
    }
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
