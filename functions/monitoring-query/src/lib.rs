//! Monitoring for one integration, answered from pre-aggregated items: its reads grow with days,
//! never with issues.
//!
//! Route ([`ROUTES`]): `GET /integrations/{integrationId}/monitoring?range=7d|30d`.

use lambda_http::{Body, Request, Response};
use sei_jira_core::monitoring::{self, Range};
use sei_jira_core::store::Store;
use sei_jira_lambda::http_api::{self, json, path_param, query_param};

pub struct App {
    pub store: Box<dyn Store>,
    pub account_claim: String,
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let Some(account) = http_api::account(&req, &app.account_claim) else {
        return http_api::unauthorized();
    };
    if let Some(refused) = http_api::oversized_path_param(&req) {
        return refused;
    }
    let id = path_param(&req, "integrationId").unwrap_or_default();
    let range = match query_param(&req, "range").as_deref().map(Range::parse) {
        None => Range::Days7,
        Some(Ok(range)) => range,
        Some(Err(message)) => return http_api::error(400, "invalid_request", message),
    };
    match monitoring::query(app.store.as_ref(), &account, &id, range, chrono::Utc::now()).await {
        Ok(Some(m)) => json(200, &m),
        Ok(None) => http_api::error(404, "not_found", format!("integration '{id}' not found")),
        Err(e) => {
            tracing::error!(error = %e, "monitoring query failed");
            http_api::error(500, "internal", "internal error; see the function's logs")
        }
    }
}

/// The route this function serves, for the test that keeps `docs/openapi.yaml` true.
pub const ROUTES: &[&str] = &["GET /integrations/{integrationId}/monitoring"];
