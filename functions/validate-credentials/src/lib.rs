//! The integration API (HTTP API routes, payload v2): parse the request, call the operation in
//! `sei_jira_core::integrations`, shape the response. The account always comes from the authorizer.
//!
//! Routes ([`ROUTES`], the same as `template.yaml` and `docs/openapi.yaml`):
//! `POST /credentials/validate`, `POST /jql/validate`, `POST /projects/search`,
//! `POST /integrations`, `GET /integrations`, `GET|PATCH|DELETE /integrations/{integrationId}`,
//! `PUT /integrations/{integrationId}/credentials`,
//! `POST /integrations/{integrationId}/issues/{issueId}/hide|unhide|remove`,
//! `POST /integrations/{integrationId}/sync`.

use lambda_http::{Body, Request, Response};
use sei_jira_aws::{dynamo, events, scheduler, secrets};
use sei_jira_core::integrations::{
    self as ops, Connection, CredentialsUpdate, HandFlag, IntegrationCreate, IntegrationPatch,
    Services, Settings, ValidationResult,
};
use sei_jira_core::ports::{EventPublisher, SecretStore, SyncScheduler};
use sei_jira_core::store::Store;
use sei_jira_lambda::http_api::{self, api_error, body, json, path_param};
use serde::Deserialize;

/// The AWS actions this function's calls need (integrations kept and removed with their tokens and
/// schedules; syncs asked for on the bus), by adapter: exactly what its policies in `template.yaml`
/// must allow (see [`sei_jira_aws::dynamo::READ_ACTIONS`]).
pub const AWS_ACTIONS: &[&[&str]] = &[
    dynamo::READ_ACTIONS,
    dynamo::WRITE_ACTIONS,
    secrets::READ_ACTIONS,
    secrets::WRITE_ACTIONS,
    events::ACTIONS,
    scheduler::ACTIONS,
];

/// Built once per container in `main`, shared by every invocation.
pub struct App {
    pub store: Box<dyn Store>,
    pub secrets: Box<dyn SecretStore>,
    pub scheduler: Box<dyn SyncScheduler>,
    pub events: Box<dyn EventPublisher>,
    pub settings: Settings,
    /// The JWT claim that names the account.
    pub account_claim: String,
}

impl App {
    fn services(&self) -> Services<'_> {
        Services {
            integrations: self.store.as_ref(),
            calls: self.store.as_ref(),
            records: self.store.as_ref(),
            issues: self.store.as_ref(),
            secrets: self.secrets.as_ref(),
            scheduler: self.scheduler.as_ref(),
            events: self.events.as_ref(),
            settings: &self.settings,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConnectionOnly {
    connection: Connection,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JqlRequest {
    connection: Connection,
    jql: String,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Every route of the integration API; the routes are those of `template.yaml`.
pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let Some(account) = http_api::account(&req, &app.account_claim) else {
        return http_api::unauthorized();
    };
    if let Some(refused) = http_api::oversized_path_param(&req) {
        return refused;
    }
    let s = app.services();
    let id = path_param(&req, "integrationId").unwrap_or_default();
    let issue = path_param(&req, "issueId").unwrap_or_default();
    let result = match http_api::route(&req).as_str() {
        "POST /credentials/validate" => match body::<ConnectionOnly>(&req) {
            Ok(b) => ops::validate_credentials(&s, &account, &b.connection, now_ms())
                .await
                .map(|r| json(200, &ValidationResult::from(r))),
            Err(r) => return *r,
        },
        "POST /jql/validate" => match body::<JqlRequest>(&req) {
            Ok(b) => ops::validate_jql(&s, &account, &b.connection, &b.jql, now_ms())
                .await
                .map(|r| json(200, &r)),
            Err(r) => return *r,
        },
        "POST /projects/search" => match body::<ConnectionOnly>(&req) {
            Ok(b) => ops::search_projects(&s, &account, &b.connection, now_ms())
                .await
                .map(|p| json(200, &serde_json::json!({ "projects": p }))),
            Err(r) => return *r,
        },
        "POST /integrations" => match body::<IntegrationCreate>(&req) {
            Ok(b) => {
                let key = req
                    .headers()
                    .get("idempotency-key")
                    .map(|v| v.to_str().unwrap_or("\u{fffd}"));
                match ops::new_integration_id(&account, key) {
                    Ok(new_id) => ops::create(&s, &account, &b, &new_id, now_ms())
                        .await
                        .map(|v| json(201, &v)),
                    Err(e) => Err(e),
                }
            }
            Err(r) => return *r,
        },
        "GET /integrations" => ops::list(&s, &account)
            .await
            .map(|v| json(200, &serde_json::json!({ "integrations": v }))),
        "GET /integrations/{integrationId}" => {
            ops::get(&s, &account, &id).await.map(|v| json(200, &v))
        }
        "PATCH /integrations/{integrationId}" => match body::<IntegrationPatch>(&req) {
            Ok(b) => ops::update(&s, &account, &id, &b, now_ms())
                .await
                .map(|v| json(200, &v)),
            Err(r) => return *r,
        },
        "PUT /integrations/{integrationId}/credentials" => match body::<CredentialsUpdate>(&req) {
            Ok(b) => ops::update_credentials(&s, &account, &id, &b, now_ms())
                .await
                .map(|r| json(200, &ValidationResult::from(r))),
            Err(r) => return *r,
        },
        "DELETE /integrations/{integrationId}" => ops::delete(&s, &account, &id)
            .await
            .map(|()| http_api::empty(204)),
        "POST /integrations/{integrationId}/issues/{issueId}/hide" => {
            flag(&s, &account, &id, &issue, HandFlag::Hide).await
        }
        "POST /integrations/{integrationId}/issues/{issueId}/unhide" => {
            flag(&s, &account, &id, &issue, HandFlag::Unhide).await
        }
        "POST /integrations/{integrationId}/issues/{issueId}/remove" => {
            flag(&s, &account, &id, &issue, HandFlag::Remove).await
        }
        "POST /integrations/{integrationId}/sync" => ops::request_sync(&s, &account, &id, now_ms())
            .await
            .map(|r| json(202, &r)),
        other => {
            return http_api::error(404, "not_found", format!("no route '{other}'"));
        }
    };
    result.unwrap_or_else(|e| api_error(&e))
}

async fn flag(
    s: &Services<'_>,
    account: &str,
    id: &str,
    issue: &str,
    flag: HandFlag,
) -> ops::ApiResult<Response<Body>> {
    ops::flag_issue(s, account, id, issue, flag)
        .await
        .map(|()| http_api::empty(204))
}

/// The routes this function serves, for the test that keeps `docs/openapi.yaml` true.
pub const ROUTES: &[&str] = &[
    "POST /credentials/validate",
    "POST /jql/validate",
    "POST /projects/search",
    "POST /integrations",
    "GET /integrations",
    "GET /integrations/{integrationId}",
    "PATCH /integrations/{integrationId}",
    "PUT /integrations/{integrationId}/credentials",
    "DELETE /integrations/{integrationId}",
    "POST /integrations/{integrationId}/issues/{issueId}/hide",
    "POST /integrations/{integrationId}/issues/{issueId}/unhide",
    "POST /integrations/{integrationId}/issues/{issueId}/remove",
    "POST /integrations/{integrationId}/sync",
];
