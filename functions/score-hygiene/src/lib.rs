//! The hygiene of an integration's tickets: its report, trend and missing tickets over the HTTP
//! API; its custom hygiene misses and SLA rows kept per integration; the daily snapshot a trend
//! is drawn from, taken after every completed sync and once a day.
//!
//! Routes ([`ROUTES`]): `GET /integrations/{integrationId}/hygiene`, `…/hygiene/trend`,
//! `…/hygiene/misses`; `GET|POST …/hygiene/criteria`, `PUT|DELETE
//! …/hygiene/criteria/{criterionId}`; `GET|POST …/hygiene/slas`, `PUT|DELETE
//! …/hygiene/slas/{slaId}`. Events: see [`events`], served by the `hygiene-events` binary (a
//! function of its own, with a longer timeout). A change to the custom criteria asks (on the
//! bus) for the integration's hygiene index to be built again; until it is, reports are counted
//! from the issues and say so (`recomputing`).

pub mod events;
pub mod params;

use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, RequestExt, Response};
use sei_jira_aws::dynamo;
use sei_jira_core::hygiene::service::{Scope, change_config, request_index};
use sei_jira_core::hygiene::{Category, Criterion, HygieneConfig, SlaInput, Which, trend};
use sei_jira_core::hygiene::{misses_from_store, report_answered};
use sei_jira_core::ports::EventPublisher;
use sei_jira_core::store::{IntegrationRecord, ReadLimit, Store};
use sei_jira_lambda::failure::{Failure, parsed, requested_integration};
use sei_jira_lambda::http_api::{self, all_with_ids, json, path_param, with_id};
use serde_json::{Value, json};

use params::Params;

pub use events::handle_event;

/// The AWS actions this function's calls need (the hygiene index and snapshots written; index
/// builds asked for on the bus), by adapter: exactly what its policies in `template.yaml` must
/// allow (see [`sei_jira_aws::dynamo::READ_ACTIONS`]).
pub const AWS_ACTIONS: &[&[&str]] = &[
    dynamo::READ_ACTIONS,
    dynamo::WRITE_ACTIONS,
    sei_jira_aws::events::ACTIONS,
];

pub struct App {
    pub store: Box<dyn Store>,
    /// The bus: requests to build an index again, and continuations of a build.
    pub events: Box<dyn EventPublisher>,
    pub account_claim: String,
    /// Stored issues one request reads at most ([`http_api::ISSUES_PER_REQUEST`]): a page of
    /// missing tickets stops there; a report counted from more (its index being built) is
    /// answered 503.
    pub issues_per_request: usize,
    /// The event work's figures (index refreshes: [`sei_jira_lambda::metrics::index_refresh`]).
    pub metrics: Box<dyn sei_jira_lambda::metrics::Metrics>,
    /// How long an integration may go without a successful sync before the daily snapshot
    /// counts it stale (`StaleAfterHours`, read by `hygiene-events`).
    pub stale_after: std::time::Duration,
}

/// [`App::stale_after`] until a deployment says otherwise.
pub const DEFAULT_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(48 * 3_600);

impl App {
    /// The clients of a deployment (`score-hygiene` and `hygiene-events` serve the same app).
    pub fn deployed(d: sei_jira_lambda::lambda_env::Deployed) -> App {
        App {
            store: Box::new(d.store),
            events: Box::new(d.events),
            account_claim: d.account_claim,
            issues_per_request: http_api::ISSUES_PER_REQUEST,
            metrics: Box::new(sei_jira_lambda::metrics::LogLines),
            stale_after: DEFAULT_STALE_AFTER,
        }
    }
}

/// Every route this function serves, as `template.yaml` and `docs/openapi.yaml` name them.
pub const ROUTES: &[&str] = &[
    "GET /integrations/{integrationId}/hygiene",
    "GET /integrations/{integrationId}/hygiene/trend",
    "GET /integrations/{integrationId}/hygiene/misses",
    "GET /integrations/{integrationId}/hygiene/criteria",
    "POST /integrations/{integrationId}/hygiene/criteria",
    "PUT /integrations/{integrationId}/hygiene/criteria/{criterionId}",
    "DELETE /integrations/{integrationId}/hygiene/criteria/{criterionId}",
    "GET /integrations/{integrationId}/hygiene/slas",
    "POST /integrations/{integrationId}/hygiene/slas",
    "PUT /integrations/{integrationId}/hygiene/slas/{slaId}",
    "DELETE /integrations/{integrationId}/hygiene/slas/{slaId}",
];

impl From<params::Refused> for Failure {
    fn from(e: params::Refused) -> Self {
        Failure::BadRequest(e.to_string())
    }
}

pub async fn handle(app: &App, req: Request, now: DateTime<Utc>) -> Response<Body> {
    let store = app.store.as_ref();
    let served = match requested_integration(&req, &app.account_claim, store).await {
        Ok(record) => serve(app, &req, &record, now).await,
        Err(refused) => Err(refused),
    };
    served.unwrap_or_else(|failure| failure.answer("hygiene request"))
}

async fn serve(
    app: &App,
    req: &Request,
    record: &IntegrationRecord,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Failure> {
    let store = app.store.as_ref();
    let params = Params::new(
        req.query_string_parameters_ref()
            .map(|q| {
                q.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
    );
    let criterion = path_param(req, "criterionId").unwrap_or_default();
    let sla = path_param(req, "slaId").unwrap_or_default();
    let route = http_api::route(req);
    let sub = route.replace("/integrations/{integrationId}", "");
    match sub.as_str() {
        "GET /hygiene" => report(app, record, &params, now).await,
        "GET /hygiene/trend" => trend_of(store, record, &params, now).await,
        "GET /hygiene/misses" => misses(app, record, &params, now).await,
        "GET /hygiene/criteria" => {
            let config = Scope::load(store, record).await?.config;
            Ok(json(200, &criteria_list(&config)))
        }
        "POST /hygiene/criteria" => {
            let c: Criterion = parsed(req)?;
            let (id, _) = change_config(store, record, |config, catalog| {
                config.add_criterion(c.clone(), catalog)
            })
            .await?;
            request_index(app.events.as_ref(), &record.account, &record.id).await;
            Ok(json(201, &with_id(&id, &c)))
        }
        "PUT /hygiene/criteria/{criterionId}" => {
            let c: Criterion = parsed(req)?;
            change_config(store, record, |config, catalog| {
                config.replace_criterion(&criterion, c.clone(), catalog)
            })
            .await?;
            request_index(app.events.as_ref(), &record.account, &record.id).await;
            Ok(json(200, &with_id(&criterion, &c)))
        }
        "DELETE /hygiene/criteria/{criterionId}" => {
            change_config(store, record, |config, _| {
                config.remove_criterion(&criterion)
            })
            .await?;
            request_index(app.events.as_ref(), &record.account, &record.id).await;
            Ok(http_api::empty(204))
        }
        "GET /hygiene/slas" => {
            let config = Scope::load(store, record).await?.config;
            Ok(json(200, &sla_list(&config)))
        }
        "POST /hygiene/slas" => {
            let row: SlaInput = parsed(req)?;
            let (id, _) =
                change_config(store, record, |config, _| config.add_sla(row.clone())).await?;
            Ok(json(201, &with_id(&id, &row)))
        }
        "PUT /hygiene/slas/{slaId}" => {
            let row: SlaInput = parsed(req)?;
            change_config(store, record, |config, _| {
                config.replace_sla(&sla, row.clone())
            })
            .await?;
            Ok(json(200, &with_id(&sla, &row)))
        }
        "DELETE /hygiene/slas/{slaId}" => {
            change_config(store, record, |config, _| config.remove_sla(&sla)).await?;
            Ok(http_api::empty(204))
        }
        _ => Err(Failure::no_route(&route)),
    }
}

async fn report(
    app: &App,
    record: &IntegrationRecord,
    params: &Params,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Failure> {
    let store = app.store.as_ref();
    let scope = Scope::load(store, record).await?;
    let q = params::report(params, &scope.custom_names(), now)?;
    let request = sei_jira_core::hygiene::Request {
        filter: q.filter,
        weights: q.weights,
        read_limit: ReadLimit::AtMost(app.issues_per_request),
        ..scope.request(q.settings, q.at_ms)
    };
    let answered = report_answered(store, &record.id, &request).await?;
    Ok(json(200, &answered))
}

async fn misses(
    app: &App,
    record: &IntegrationRecord,
    params: &Params,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Failure> {
    let store = app.store.as_ref();
    let scope = Scope::load(store, record).await?;
    let q = params::misses(params, &scope.custom_names(), now)?;
    let which = match Category::named(&q.category) {
        Some(category) => Which::Builtin(category),
        None => Which::Custom(q.category.clone()),
    };
    let request = sei_jira_core::hygiene::Request {
        filter: q.report.filter,
        ..scope.request(q.report.settings, q.report.at_ms)
    };
    let page = misses_from_store(
        store,
        &record.id,
        &request,
        &which,
        q.after.as_deref(),
        q.limit,
        app.issues_per_request,
    )
    .await?;
    Ok(json(200, &page))
}

async fn trend_of(
    store: &dyn Store,
    record: &IntegrationRecord,
    params: &Params,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Failure> {
    let scope = Scope::load(store, record).await?;
    let q = params::trend(params, &scope.custom_names(), now.date_naive())?;
    let snapshots = store.list_snapshots(&record.id, q.from, q.to).await?;
    let points = trend(&snapshots, q.interval, q.from, q.to, &q.filter, &q.weights);
    Ok(json(
        200,
        &json!({"interval": q.interval, "from": q.from, "to": q.to, "points": points}),
    ))
}

fn criteria_list(config: &HygieneConfig) -> Value {
    json!({"criteria": all_with_ids(&config.criteria)})
}

fn sla_list(config: &HygieneConfig) -> Value {
    json!({"slas": all_with_ids(&config.slas)})
}

/// A user's text, shortened before it is echoed.
pub(crate) fn cut(text: &str) -> String {
    text.chars().take(64).collect()
}
