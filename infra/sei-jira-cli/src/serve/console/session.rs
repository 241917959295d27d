//! Who may use the console: the browser that opened the one-time link printed at start. The
//! link's code works once; it is traded for a session id kept in an HttpOnly, SameSite=Strict
//! cookie, so neither another local user (who never saw the link) nor another site (whose forms
//! would carry no cookie) can act through the console.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Shared, page};

const COOKIE: &str = "sei_jira_console";

pub struct Sessions {
    /// The login link's code until it is used.
    code: Mutex<Option<String>>,
    ids: Mutex<HashSet<String>>,
}

impl Sessions {
    pub fn new() -> (Self, String) {
        let code = crate::serve::new_token();
        let sessions = Sessions {
            code: Mutex::new(Some(code.clone())),
            ids: Mutex::default(),
        };
        (sessions, code)
    }

    /// A new session for `code` when it is the link's and unused; the code is spent either way
    /// only when it matched.
    fn open(&self, code: &str) -> Option<String> {
        let mut kept = self.code.lock().expect("never poisoned");
        let matches = kept
            .as_deref()
            .is_some_and(|k| sei_jira_lambda::routes::same_bytes(k.as_bytes(), code.as_bytes()));
        if !matches {
            return None;
        }
        *kept = None;
        let id = crate::serve::new_token();
        self.ids.lock().expect("never poisoned").insert(id.clone());
        Some(id)
    }

    pub fn holds(&self, headers: &HeaderMap) -> bool {
        let ids = self.ids.lock().expect("never poisoned");
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .any(|(name, value)| name == COOKIE && ids.contains(value))
    }
}

#[derive(Deserialize)]
pub struct Link {
    #[serde(default)]
    code: String,
}

/// `GET /console/login?code=…`: the printed link.
pub async fn login(State(console): Shared, Query(link): Query<Link>) -> Response {
    match console.sessions.open(&link.code) {
        Some(id) => {
            let cookie = format!("{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict");
            ([(header::SET_COOKIE, cookie)], Redirect::to("/console")).into_response()
        }
        None => page::signed_out().into_response(),
    }
}
