//! Monitoring for one integration, answered from pre-aggregated items: its reads grow with days,
//! never with issues; and the report page, which draws monitoring, hygiene and DORA together.
//!
//! Routes ([`ROUTES`]): `GET /integrations/{integrationId}/monitoring?range=7d|30d` (JSON) and
//! `GET /integrations/{integrationId}/report?range=7d|30d` (`text/html`).

use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response};
use sei_jira_aws::dynamo;
use sei_jira_core::monitoring::{self, Range};
use sei_jira_core::report;
use sei_jira_core::store::{ReadLimit, Store};
use sei_jira_lambda::failure::{Failure, requested_integration};
use sei_jira_lambda::http_api::{self, json, path_param, query_param};

/// The AWS actions this function's calls need (reads only), by adapter: exactly what its policies
/// in `template.yaml` must allow (see [`sei_jira_aws::dynamo::READ_ACTIONS`]).
pub const AWS_ACTIONS: &[&[&str]] = &[dynamo::READ_ACTIONS];

pub struct App {
    pub store: Box<dyn Store>,
    pub account_claim: String,
    /// Stored issues the report page reads at most ([`http_api::ISSUES_PER_REQUEST`]): a page
    /// whose hygiene or DORA would be counted from more (an index being built) is answered 503.
    pub issues_per_request: usize,
}

/// The routes this function serves, for the test that keeps `docs/openapi.yaml` true.
pub const ROUTES: &[&str] = &[
    "GET /integrations/{integrationId}/monitoring",
    "GET /integrations/{integrationId}/report",
];

pub async fn handle(app: &App, req: Request, now: DateTime<Utc>) -> Response<Body> {
    let route = http_api::route(&req);
    if route == ROUTES[1] {
        return page(app, &req, now)
            .await
            .unwrap_or_else(|failure| failure.answer("report page"));
    }
    let Some(account) = http_api::account(&req, &app.account_claim) else {
        return http_api::unauthorized();
    };
    if let Some(refused) = http_api::oversized_path_param(&req) {
        return refused;
    }
    let id = path_param(&req, "integrationId").unwrap_or_default();
    let range = match range(&req) {
        Ok(range) => range,
        Err(failure) => return failure.answer("monitoring query"),
    };
    match monitoring::query(app.store.as_ref(), &account, &id, range, now).await {
        Ok(Some(m)) => json(200, &m),
        Ok(None) => http_api::error(404, "not_found", format!("integration '{id}' not found")),
        Err(e) => {
            tracing::error!(error = %e, "monitoring query failed");
            http_api::error(500, "internal", "internal error; see the function's logs")
        }
    }
}

/// `range`: absent means 7 days.
fn range(req: &Request) -> Result<Range, Failure> {
    match query_param(req, "range") {
        None => Ok(Range::Days7),
        Some(text) => Range::parse(&text).map_err(Failure::BadRequest),
    }
}

async fn page(app: &App, req: &Request, now: DateTime<Utc>) -> Result<Response<Body>, Failure> {
    let store = app.store.as_ref();
    let record = requested_integration(req, &app.account_claim, store).await?;
    let range = range(req)?;
    let limit = ReadLimit::AtMost(app.issues_per_request);
    let page = report::gather(store, &record, range, now, limit).await?;
    Ok(http_api::html(200, report::html::render(&page)))
}
