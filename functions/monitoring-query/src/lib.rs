//! Monitoring for one integration, answered from pre-aggregated items: its reads grow with days,
//! never with issues; and the report page, which draws monitoring, hygiene and DORA together.
//!
//! Routes ([`routes`]): `GET /integrations/{integrationId}/monitoring?range=7d|30d` (JSON) and
//! `GET /integrations/{integrationId}/report?range=7d|30d` (`text/html`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use chrono::Utc;
use sei_jira_aws::dynamo;
use sei_jira_core::monitoring::{self, Range};
use sei_jira_core::report;
use sei_jira_core::store::{IntegrationStore, ReadLimit, Store};
use sei_jira_lambda::failure::Failure;
use sei_jira_lambda::http_api::{self, json};
use sei_jira_lambda::routes::{
    Answer, Caller, Ids, IntegrationPath, Integrations, QueryPairs, Route, TheIntegration,
    router_of,
};

/// The AWS actions this function's calls need (reads only), by adapter: exactly what its policies
/// in `template.yaml` must allow (see [`sei_jira_aws::dynamo::READ_ACTIONS`]).
pub const AWS_ACTIONS: &[&[&str]] = &[dynamo::READ_ACTIONS];

pub struct App {
    pub store: Box<dyn Store>,
    /// Stored issues the report page reads at most ([`http_api::ISSUES_PER_REQUEST`]): a page
    /// whose hygiene or DORA would be counted from more (an index being built) is answered 503.
    pub issues_per_request: usize,
}

impl Integrations for App {
    fn integrations(&self) -> &dyn IntegrationStore {
        self.store.as_ref()
    }
}

type Shared = State<Arc<App>>;

/// Every route this function serves, as `template.yaml` and `docs/openapi.yaml` name them.
pub fn routes() -> Vec<Route<Arc<App>>> {
    vec![
        Route::new("GET /integrations/{integrationId}/monitoring", monitoring),
        Route::new("GET /integrations/{integrationId}/report", page),
    ]
}

/// [`routes`], for the caller a layer in front of it names.
pub fn router(app: Arc<App>) -> Router {
    router_of(routes(), app)
}

async fn monitoring(
    State(app): Shared,
    Caller(account): Caller,
    Ids(path): Ids<IntegrationPath>,
    query: QueryPairs,
) -> Answer {
    let id = path.integration;
    let range = range(&query)?;
    match monitoring::query(app.store.as_ref(), &account, &id, range, Utc::now()).await? {
        Some(m) => Ok(json(200, &m)),
        None => Err(Failure::NotFound(format!("integration '{id}' not found"))),
    }
}

/// `range`: absent means 7 days.
fn range(query: &QueryPairs) -> Result<Range, Failure> {
    match query.first("range") {
        None => Ok(Range::Days7),
        Some(text) => Range::parse(text).map_err(Failure::BadRequest),
    }
}

async fn page(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    query: QueryPairs,
) -> Answer {
    let store = app.store.as_ref();
    let range = range(&query)?;
    let limit = ReadLimit::AtMost(app.issues_per_request);
    let page = report::gather(store, &record, range, Utc::now(), limit).await?;
    Ok(http_api::html(200, report::html::render(&page)))
}
