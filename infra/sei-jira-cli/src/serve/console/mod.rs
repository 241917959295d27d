//! The console: pages a person clicks through, served beside the API by `sei-jira serve`.
//! Server-rendered HTML forms; every change goes through the same API routes a platform calls
//! (in-process, with the run's bearer token), so a form's errors are the API's, naming the same
//! fields. What the API does not answer (the site's fields as the last sync stored them, the
//! runs with their errors, a sync's live progress) is read from the store and the progress board.
//!
//! A browser gets in through the one-time link printed at start: it trades the link's code for a
//! session cookie (HttpOnly, SameSite=Strict, so no other site can submit these forms).

mod api;
mod dora;
mod form;
mod hygiene;
mod integrations;
mod monitoring;
mod page;
mod session;
mod settings;
mod tickets;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::sync::progress::Board;

pub use api::Api;
use session::Sessions;

/// What every page handler reaches.
pub struct Console {
    pub api: Api,
    /// What the API does not answer (the runs, the site's fields, the tickets' states).
    /// Read only after the API has answered that the integration is the caller's.
    pub store: EmbeddedStore,
    pub board: Arc<Board>,
    sessions: Sessions,
    drafts: integrations::Drafts,
}

type Shared = State<Arc<Console>>;

impl Console {
    /// The console and the one-time code of its login link.
    pub fn new(api: Api, store: EmbeddedStore, board: Arc<Board>) -> (Self, String) {
        let (sessions, code) = Sessions::new();
        let console = Console {
            api,
            store,
            board,
            sessions,
            drafts: Default::default(),
        };
        (console, code)
    }
}

impl Console {
    /// The integration `id` as the API answers it, or the page saying why not (another
    /// account's is not found, as in the API).
    pub async fn integration(&self, id: &str) -> Result<serde_json::Value, Response> {
        let answer = self
            .api
            .get(&format!("/integrations/{}", api::seg(id)))
            .await;
        if answer.ok() {
            Ok(answer.body)
        } else {
            Err(page::failed(answer.status, &answer.message()))
        }
    }
}

/// The path of the login link for `code`.
pub fn login_path(code: &str) -> String {
    format!("/console/login?code={code}")
}

/// Every page, under `/console`; `/` leads there.
pub fn router(console: Arc<Console>) -> Router {
    let pages = Router::new()
        .route("/console", get(integrations::list))
        .route(
            "/console/new",
            get(integrations::new_form).post(integrations::new_submit),
        )
        .route("/console/i/{id}", get(monitoring::show))
        .route("/console/i/{id}/sync", post(monitoring::sync_now))
        .route("/console/i/{id}/progress", get(monitoring::progress))
        .route(
            "/console/i/{id}/settings",
            get(settings::show).post(settings::save),
        )
        .route("/console/i/{id}/credentials", post(settings::rotate_token))
        .route("/console/i/{id}/delete", post(settings::delete))
        .route("/console/i/{id}/hygiene", get(hygiene::show))
        .route(
            "/console/i/{id}/hygiene/criteria",
            post(hygiene::add_criterion),
        )
        .route(
            "/console/i/{id}/hygiene/criteria/{criterion}/delete",
            post(hygiene::remove_criterion),
        )
        .route("/console/i/{id}/hygiene/slas", post(hygiene::add_sla))
        .route(
            "/console/i/{id}/hygiene/slas/{sla}/delete",
            post(hygiene::remove_sla),
        )
        .route("/console/i/{id}/dora", get(dora::show))
        .route("/console/i/{id}/dora/profiles", post(dora::add_profile))
        .route(
            "/console/i/{id}/dora/profiles/{profile}/delete",
            post(dora::remove_profile),
        )
        .route(
            "/console/i/{id}/tickets",
            get(tickets::show).post(tickets::act),
        )
        .route("/console/app.js", get(page::script))
        .route("/console/{*rest}", get(page::not_found))
        .layer(middleware::from_fn_with_state(console.clone(), signed_in));
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console/login", get(session::login))
        .merge(pages)
        .with_state(console)
}

/// Lets a request through only with a session cookie from the login link.
async fn signed_in(State(console): Shared, req: Request, next: Next) -> Response {
    if console.sessions.holds(req.headers()) {
        next.run(req).await
    } else {
        page::signed_out().into_response()
    }
}
