//! What every handler shares: the simulator's state, who is calling, and Jira's error answers.

use std::sync::{Arc, OnceLock, RwLock};

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use crate::control::Control;
use crate::model::{CredentialKind, Mode, Site};

pub struct SimState {
    pub site: RwLock<Site>,
    pub control: Control,
    pub base_url: OnceLock<String>,
    pub seed: u64,
}

pub type Shared = Arc<SimState>;

impl SimState {
    pub fn base(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or("")
    }
}

/// Who is calling. `failed` is set when credentials were sent but rejected: Jira then serves
/// anonymous-capable endpoints anonymously and flags every response with
/// `X-Seraph-LoginReason: AUTHENTICATED_FAILED`.
#[derive(Clone, Copy, Debug)]
pub struct Auth {
    pub user: Option<usize>,
    pub failed: bool,
}

/// Resolves the caller. `gateway`: the request came through the simulated api.atlassian.com
/// gateway (`/ex/jira/{cloudId}/…`), where scoped tokens are valid and classic ones are too.
pub fn identify(site: &Site, headers: &HeaderMap, gateway: bool) -> Auth {
    let anonymous = Auth {
        user: None,
        failed: false,
    };
    let failed = Auth {
        user: None,
        failed: true,
    };
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return anonymous;
    };
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    let find = |login: &str, token: &str, allowed: &[CredentialKind]| {
        site.users.iter().position(|u| {
            (u.email.eq_ignore_ascii_case(login)
                || (site.mode == Mode::DataCenter && u.name == login))
                && u.active
                && matches!(&u.credential, Some((kind, t)) if t == token && allowed.contains(kind))
        })
    };
    let user = match (site.mode, scheme.to_ascii_lowercase().as_str()) {
        (_, "basic") => {
            let decoded = base64::engine::general_purpose::STANDARD.decode(credentials.trim()).ok().and_then(|b| String::from_utf8(b).ok());
            let Some((login, token)) = decoded.as_deref().and_then(|d| d.split_once(':')) else { return failed };
            // A scoped token is only valid on the api.atlassian.com gateway, never on the site URL.
            let kinds: &[CredentialKind] = match (site.mode, gateway) {
                // Service-account tokens are scoped tokens: like any scoped token they only
                // work through the gateway, and the site URL answers 401.
                (Mode::Cloud, false) => &[CredentialKind::User],
                (Mode::Cloud, true) => &[CredentialKind::User, CredentialKind::ServiceAccount, CredentialKind::ScopedToken],
                (Mode::DataCenter, _) => &[CredentialKind::Pat],
            };
            find(login, token, kinds)
        }
        (Mode::DataCenter, "bearer") => site.users.iter().position(|u| u.active && matches!(&u.credential, Some((CredentialKind::Pat, t)) if t == credentials.trim())),
        _ => None,
    };
    match user {
        Some(u) => Auth {
            user: Some(u),
            failed: false,
        },
        None => failed,
    }
}

/// 401 as Jira sends it for missing or rejected credentials.
pub fn unauthorized(auth: &Auth) -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, Json(json!({"message": "Client must be authenticated to access this resource.", "status-code": 401}))).into_response();
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("OAuth realm=\"https%3A%2F%2Fsite.atlassian.net\""),
    );
    if auth.failed {
        r.headers_mut().insert(
            "x-seraph-loginreason",
            HeaderValue::from_static("AUTHENTICATED_FAILED"),
        );
    }
    r
}

pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"errorMessages": [message.into()], "errors": {}})),
    )
        .into_response()
}
