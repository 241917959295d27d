//! The HTTP server: routes, authentication, and the control layer in front of the Jira API.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, RwLock};

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::control::{Control, LogEntry, Settings, Verdict};
use crate::http::{Shared, SimState, error, identify};
use crate::model::{Mode, Site};
use crate::{admin, api, reference};

/// Counting, logging, latency, rate limiting and faults for every Jira API request.
async fn control_layer(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let endpoint = format!(
        "{} {}",
        request.method(),
        request
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_string())
            .unwrap_or_else(|| request.uri().path().to_string())
    );
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let mut entry = LogEntry {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        body: String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned(),
        status: 0,
    };
    let auth = identify(
        &state.site.read().unwrap(),
        &parts.headers,
        parts.uri.path().starts_with("/ex/jira/"),
    );
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(auth);

    // A request takes at least the latency, the time spent answering it included: the latency
    // stands for a real site's whole server time, not for a wait on top of the simulator's own
    // work (which would count the simulator's CPU, on the machine the client shares, twice).
    let _in_flight = state.control.begin();
    let answer_by = tokio::time::Instant::now() + state.control.delay();
    let mut response = match state.control.admit(request.uri().path()) {
        Verdict::Reject(r) => r,
        Verdict::Pass => {
            let mut r = next.run(request).await;
            state.control.rate_headers(&mut r);
            r
        }
    };
    tokio::time::sleep_until(answer_by).await;
    if auth.failed {
        response.headers_mut().insert(
            "x-seraph-loginreason",
            HeaderValue::from_static("AUTHENTICATED_FAILED"),
        );
    }
    // A dropped connection never delivers its status: log it as 0.
    entry.status = if response
        .extensions()
        .get::<crate::control::Dropped>()
        .is_some()
    {
        0
    } else {
        response.status().as_u16()
    };
    state.control.record(endpoint, entry);
    response
}

pub fn router(state: Shared) -> Router {
    let mode = state.site.read().unwrap().mode;
    let mut jira = Router::new()
        .route("/rest/agile/1.0/board", get(api::boards))
        .route("/rest/agile/1.0/board/{id}/sprint", get(api::board_sprints))
        .route("/rest/agile/1.0/sprint/{id}", get(reference::sprint));
    let versions: &[&str] = match mode {
        Mode::Cloud => &["/rest/api/3", "/rest/api/2"],
        Mode::DataCenter => &["/rest/api/2"],
    };
    for p in versions {
        jira = jira
            .route(&format!("{p}/myself"), get(api::myself))
            .route(&format!("{p}/mypermissions"), get(api::my_permissions))
            .route(&format!("{p}/serverInfo"), get(api::server_info))
            .route(&format!("{p}/project"), get(api::projects))
            .route(&format!("{p}/project/search"), get(api::project_search))
            .route(&format!("{p}/project/{{key}}"), get(api::project))
            .route(
                &format!("{p}/project/{{key}}/version"),
                get(reference::project_versions_paged),
            )
            .route(
                &format!("{p}/project/{{key}}/versions"),
                get(reference::project_versions),
            )
            .route(&format!("{p}/field"), get(api::fields))
            .route(&format!("{p}/status"), get(api::statuses))
            .route(&format!("{p}/statuscategory"), get(api::status_categories))
            .route(
                &format!("{p}/search"),
                get(api::legacy_search_get).post(api::legacy_search_post),
            )
            .route(&format!("{p}/issue/{{key}}"), get(api::issue))
            .route(&format!("{p}/issue/{{key}}/comment"), get(api::comments))
            .route(
                &format!("{p}/issue/{{key}}/transitions"),
                get(api::transitions),
            )
            .route(&format!("{p}/jql/parse"), post(api::jql_parse));
        jira = match mode {
            Mode::Cloud => jira
                .route(
                    &format!("{p}/search/jql"),
                    get(api::search_get).post(api::search_post),
                )
                .route(
                    &format!("{p}/search/approximate-count"),
                    post(api::approximate_count),
                )
                .route(&format!("{p}/issue/bulkfetch"), post(api::bulk_fetch))
                .route(&format!("{p}/issue/{{key}}/changelog"), get(api::changelog))
                .route(
                    &format!("{p}/changelog/bulkfetch"),
                    post(api::changelog_bulk),
                )
                .route(&format!("{p}/user/bulk"), get(api::user_bulk))
                .route(&format!("{p}/users/search"), get(api::users_search)),
            Mode::DataCenter => jira
                .route(&format!("{p}/user/search"), get(api::users_search))
                .route(&format!("{p}/user"), get(reference::user)),
        };
    }
    if mode == Mode::Cloud {
        jira = jira
            .route("/_edge/tenant_info", get(api::tenant_info))
            // The api.atlassian.com gateway, enough to tell a scoped token from a wrong one.
            .route(
                "/ex/jira/{cloud_id}/rest/api/3/myself",
                get(api::gateway_myself),
            );
    }
    let jira = jira.route_layer(middleware::from_fn_with_state(state.clone(), control_layer));
    Router::new()
        .merge(jira)
        .nest("/_sim", admin::router())
        .fallback(|| async { error(StatusCode::NOT_FOUND, "null for uri: not found") })
        .with_state(state)
}

/// A running simulator. Dropping the handle stops it.
pub struct SimHandle {
    pub base_url: String,
    pub state: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    pub fn addr(&self) -> &str {
        &self.base_url
    }

    /// Stops accepting requests and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves `site` on `addr` (use `127.0.0.1:0` for a free port) until the handle is dropped.
pub async fn serve(
    site: Site,
    settings: Settings,
    seed: u64,
    addr: SocketAddr,
) -> anyhow::Result<SimHandle> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let base_url = format!("http://{local}");
    let state = Arc::new(SimState {
        site: RwLock::new(site),
        control: Control::new(settings, seed),
        base_url: OnceLock::new(),
        seed,
    });
    let _ = state.base_url.set(base_url.clone());
    let app = router(state.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(SimHandle {
        base_url,
        state,
        shutdown: Some(tx),
        task: Some(task),
    })
}
