//! The integration API (HTTP API routes, payload v2): parse the request, call the operation in
//! `sei_jira_core::integrations`, shape the response. The account always comes from the authorizer.
//!
//! Routes ([`routes`], the same as `template.yaml` and `docs/openapi.yaml`):
//! `POST /credentials/validate`, `POST /jql/validate`, `POST /projects/search`,
//! `POST /integrations`, `GET /integrations`, `GET|PATCH|DELETE /integrations/{integrationId}`,
//! `PUT /integrations/{integrationId}/credentials`,
//! `POST /integrations/{integrationId}/issues/{issueId}/hide|unhide|remove`,
//! `POST /integrations/{integrationId}/sync`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use sei_jira_aws::{dynamo, events, scheduler, secrets};
use sei_jira_core::integrations::{
    self as ops, ApiSettings, Connection, CredentialsUpdate, HandFlag, IntegrationCreate,
    IntegrationPatch, Services, ValidationResult,
};
use sei_jira_core::ports::{EventPublisher, SecretStore, SyncScheduler};
use sei_jira_core::store::Store;
use sei_jira_lambda::http_api::{self, json};
use sei_jira_lambda::routes::{Answer, Caller, Ids, IntegrationPath, JsonBody, Route, router_of};
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
    pub settings: ApiSettings,
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

#[derive(Deserialize)]
struct IssuePath {
    #[serde(rename = "integrationId")]
    integration: String,
    #[serde(rename = "issueId")]
    issue: String,
}

type Shared = State<Arc<App>>;

/// Every route of the integration API, as `template.yaml` and `docs/openapi.yaml` name them.
pub fn routes() -> Vec<Route<Arc<App>>> {
    vec![
        Route::new("POST /credentials/validate", validate_credentials),
        Route::new("POST /jql/validate", validate_jql),
        Route::new("POST /projects/search", search_projects),
        Route::new("POST /integrations", create),
        Route::new("GET /integrations", list),
        Route::new("GET /integrations/{integrationId}", read),
        Route::new("PATCH /integrations/{integrationId}", update),
        Route::new(
            "PUT /integrations/{integrationId}/credentials",
            replace_credentials,
        ),
        Route::new("DELETE /integrations/{integrationId}", delete),
        Route::new(
            "POST /integrations/{integrationId}/issues/{issueId}/hide",
            hide,
        ),
        Route::new(
            "POST /integrations/{integrationId}/issues/{issueId}/unhide",
            unhide,
        ),
        Route::new(
            "POST /integrations/{integrationId}/issues/{issueId}/remove",
            remove,
        ),
        Route::new("POST /integrations/{integrationId}/sync", sync_now),
    ]
}

/// [`routes`], for the caller a layer in front of it names
/// ([`sei_jira_lambda::routes::behind_authorizer`] in a deployment).
pub fn router(app: Arc<App>) -> Router {
    router_of(routes(), app)
}

async fn validate_credentials(
    State(app): Shared,
    Caller(account): Caller,
    JsonBody(b): JsonBody<ConnectionOnly>,
) -> Answer {
    let r = ops::validate_credentials(&app.services(), &account, &b.connection, now_ms()).await?;
    Ok(json(200, &ValidationResult::from(r)))
}

async fn validate_jql(
    State(app): Shared,
    Caller(account): Caller,
    JsonBody(b): JsonBody<JqlRequest>,
) -> Answer {
    let r = ops::validate_jql(&app.services(), &account, &b.connection, &b.jql, now_ms()).await?;
    Ok(json(200, &r))
}

async fn search_projects(
    State(app): Shared,
    Caller(account): Caller,
    JsonBody(b): JsonBody<ConnectionOnly>,
) -> Answer {
    let p = ops::search_projects(&app.services(), &account, &b.connection, now_ms()).await?;
    Ok(json(200, &serde_json::json!({ "projects": p })))
}

async fn create(
    State(app): Shared,
    Caller(account): Caller,
    headers: HeaderMap,
    JsonBody(b): JsonBody<IntegrationCreate>,
) -> Answer {
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let new_id = ops::new_integration_id(&account, key)?;
    let created = ops::create(&app.services(), &account, &b, &new_id, now_ms()).await?;
    Ok(json(201, &created))
}

async fn list(State(app): Shared, Caller(account): Caller) -> Answer {
    let v = ops::list(&app.services(), &account).await?;
    Ok(json(200, &serde_json::json!({ "integrations": v })))
}

async fn read(
    State(app): Shared,
    Caller(account): Caller,
    Ids(path): Ids<IntegrationPath>,
) -> Answer {
    let v = ops::get(&app.services(), &account, &path.integration).await?;
    Ok(json(200, &v))
}

async fn update(
    State(app): Shared,
    Caller(account): Caller,
    Ids(path): Ids<IntegrationPath>,
    JsonBody(b): JsonBody<IntegrationPatch>,
) -> Answer {
    let v = ops::update(&app.services(), &account, &path.integration, &b, now_ms()).await?;
    Ok(json(200, &v))
}

async fn replace_credentials(
    State(app): Shared,
    Caller(account): Caller,
    Ids(path): Ids<IntegrationPath>,
    JsonBody(b): JsonBody<CredentialsUpdate>,
) -> Answer {
    let s = app.services();
    let r = ops::update_credentials(&s, &account, &path.integration, &b, now_ms()).await?;
    Ok(json(200, &ValidationResult::from(r)))
}

async fn delete(
    State(app): Shared,
    Caller(account): Caller,
    Ids(path): Ids<IntegrationPath>,
) -> Answer {
    ops::delete(&app.services(), &account, &path.integration).await?;
    Ok(http_api::empty(204))
}

async fn hide(state: Shared, caller: Caller, ids: Ids<IssuePath>) -> Answer {
    flag(state, caller, ids, HandFlag::Hide).await
}

async fn unhide(state: Shared, caller: Caller, ids: Ids<IssuePath>) -> Answer {
    flag(state, caller, ids, HandFlag::Unhide).await
}

async fn remove(state: Shared, caller: Caller, ids: Ids<IssuePath>) -> Answer {
    flag(state, caller, ids, HandFlag::Remove).await
}

async fn flag(
    State(app): Shared,
    Caller(account): Caller,
    Ids(path): Ids<IssuePath>,
    flag: HandFlag,
) -> Answer {
    let s = app.services();
    ops::flag_issue(&s, &account, &path.integration, &path.issue, flag).await?;
    Ok(http_api::empty(204))
}

async fn sync_now(
    State(app): Shared,
    Caller(account): Caller,
    Ids(path): Ids<IntegrationPath>,
) -> Answer {
    let r = ops::request_sync(&app.services(), &account, &path.integration, now_ms()).await?;
    Ok(json(202, &r))
}
