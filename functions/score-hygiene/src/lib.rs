//! The hygiene of an integration's tickets: its report, trend and missing tickets over the HTTP
//! API; its custom hygiene misses and SLA rows kept per integration; the daily snapshot a trend
//! is drawn from, taken after every completed sync and once a day.
//!
//! Routes ([`routes`]): `GET /integrations/{integrationId}/hygiene`, `…/hygiene/trend`,
//! `…/hygiene/misses`; `GET|POST …/hygiene/history`; `GET|POST …/hygiene/criteria`, `PUT|DELETE
//! …/hygiene/criteria/{criterionId}`; `GET|POST …/hygiene/slas`, `PUT|DELETE
//! …/hygiene/slas/{slaId}`. Events: see [`events`], served by the `hygiene-events` binary (a
//! function of its own, with a longer timeout). A change to the custom criteria asks (on the
//! bus) for the integration's hygiene index to be built again; until it is, reports are counted
//! from the issues and say so (`recomputing`).

pub mod events;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use chrono::Utc;
use sei_jira_aws::dynamo;
use sei_jira_core::hygiene::IntegrationHygiene;
use sei_jira_core::hygiene::history::{self, HistoryBuild};
use sei_jira_core::hygiene::history_build;
use sei_jira_core::hygiene::service::{change_config, request_index};
use sei_jira_core::hygiene::{Criterion, HygieneConfig, Seen, SlaInput, Which, trend};
use sei_jira_core::hygiene::{kept_snapshots, misses_from_store, report_answered};
use sei_jira_core::ports::EventPublisher;
use sei_jira_core::store::{IntegrationStore, ReadLimit, Store};
use sei_jira_lambda::failure::Failure;
use sei_jira_lambda::http_api::{self, all_with_ids, json, with_id};
use sei_jira_lambda::routes::{
    Answer, Ids, Integrations, JsonBody, QueryPairs, Route, TheIntegration, router_of,
};
use serde::Deserialize;
use serde_json::{Value, json};

use sei_jira_core::hygiene::params::{self, Params};

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
            issues_per_request: http_api::ISSUES_PER_REQUEST,
            metrics: Box::new(sei_jira_lambda::metrics::LogLines),
            stale_after: DEFAULT_STALE_AFTER,
        }
    }
}

/// The route's own id (the integration's is [`TheIntegration`]'s).
#[derive(Deserialize)]
struct CriterionPath {
    #[serde(rename = "criterionId")]
    criterion: String,
}

/// The route's own id (the integration's is [`TheIntegration`]'s).
#[derive(Deserialize)]
struct SlaPath {
    #[serde(rename = "slaId")]
    sla: String,
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
        Route::new("GET /integrations/{integrationId}/hygiene", report),
        Route::new("GET /integrations/{integrationId}/hygiene/trend", trend_of),
        Route::new("GET /integrations/{integrationId}/hygiene/misses", misses),
        Route::new(
            "GET /integrations/{integrationId}/hygiene/history",
            history_of,
        ),
        Route::new(
            "POST /integrations/{integrationId}/hygiene/history",
            rebuild_history,
        ),
        Route::new(
            "GET /integrations/{integrationId}/hygiene/criteria",
            criteria,
        ),
        Route::new(
            "POST /integrations/{integrationId}/hygiene/criteria",
            add_criterion,
        ),
        Route::new(
            "PUT /integrations/{integrationId}/hygiene/criteria/{criterionId}",
            replace_criterion,
        ),
        Route::new(
            "DELETE /integrations/{integrationId}/hygiene/criteria/{criterionId}",
            remove_criterion,
        ),
        Route::new("GET /integrations/{integrationId}/hygiene/slas", slas),
        Route::new("POST /integrations/{integrationId}/hygiene/slas", add_sla),
        Route::new(
            "PUT /integrations/{integrationId}/hygiene/slas/{slaId}",
            replace_sla,
        ),
        Route::new(
            "DELETE /integrations/{integrationId}/hygiene/slas/{slaId}",
            remove_sla,
        ),
    ]
}

/// [`routes`], for the caller a layer in front of it names.
pub fn router(app: Arc<App>) -> Router {
    router_of(routes(), app)
}

async fn criteria(State(app): Shared, TheIntegration(record): TheIntegration) -> Answer {
    let store = app.store.as_ref();
    let config = IntegrationHygiene::load(store, &record).await?.config;
    Ok(json(200, &criteria_list(&config)))
}

async fn add_criterion(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    JsonBody(c): JsonBody<Criterion>,
) -> Answer {
    let store = app.store.as_ref();
    let (id, _) = change_config(store, &record, |config, catalog| {
        config.add_criterion(c.clone(), catalog)
    })
    .await?;
    request_index(app.events.as_ref(), &record.account, &record.id).await;
    Ok(json(201, &with_id(&id, &c)))
}

async fn replace_criterion(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    Ids(path): Ids<CriterionPath>,
    JsonBody(c): JsonBody<Criterion>,
) -> Answer {
    let store = app.store.as_ref();
    change_config(store, &record, |config, catalog| {
        config.replace_criterion(&path.criterion, c.clone(), catalog)
    })
    .await?;
    request_index(app.events.as_ref(), &record.account, &record.id).await;
    Ok(json(200, &with_id(&path.criterion, &c)))
}

async fn remove_criterion(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    Ids(path): Ids<CriterionPath>,
) -> Answer {
    let store = app.store.as_ref();
    change_config(store, &record, |config, _| {
        config.remove_criterion(&path.criterion)
    })
    .await?;
    request_index(app.events.as_ref(), &record.account, &record.id).await;
    Ok(http_api::empty(204))
}

async fn slas(State(app): Shared, TheIntegration(record): TheIntegration) -> Answer {
    let store = app.store.as_ref();
    let config = IntegrationHygiene::load(store, &record).await?.config;
    Ok(json(200, &sla_list(&config)))
}

async fn add_sla(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    JsonBody(row): JsonBody<SlaInput>,
) -> Answer {
    let store = app.store.as_ref();
    let (id, _) = change_config(store, &record, |config, _| config.add_sla(row.clone())).await?;
    Ok(json(201, &with_id(&id, &row)))
}

async fn replace_sla(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    Ids(path): Ids<SlaPath>,
    JsonBody(row): JsonBody<SlaInput>,
) -> Answer {
    let store = app.store.as_ref();
    change_config(store, &record, |config, _| {
        config.replace_sla(&path.sla, row.clone())
    })
    .await?;
    Ok(json(200, &with_id(&path.sla, &row)))
}

async fn remove_sla(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    Ids(path): Ids<SlaPath>,
) -> Answer {
    let store = app.store.as_ref();
    change_config(store, &record, |config, _| config.remove_sla(&path.sla)).await?;
    Ok(http_api::empty(204))
}

async fn report(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    QueryPairs(pairs): QueryPairs,
) -> Answer {
    let store = app.store.as_ref();
    let scope = IntegrationHygiene::load(store, &record).await?;
    let q = params::report(&Params::new(pairs), &scope.custom_names(), Utc::now())?;
    let request = sei_jira_core::hygiene::Request {
        filter: q.filter,
        weights: q.weights,
        read_limit: ReadLimit::AtMost(app.issues_per_request),
        as_of: q.as_of,
        ..scope.request(q.settings, q.at_ms)
    };
    let answered = report_answered(store, &record.id, &request).await?;
    Ok(json(200, &answered))
}

async fn misses(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    QueryPairs(pairs): QueryPairs,
) -> Answer {
    let store = app.store.as_ref();
    let scope = IntegrationHygiene::load(store, &record).await?;
    let q = params::misses(&Params::new(pairs), &scope.custom_names(), Utc::now())?;
    let which = Which::named(&q.category);
    let request = sei_jira_core::hygiene::Request {
        filter: q.report.filter,
        as_of: q.report.as_of,
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
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    QueryPairs(pairs): QueryPairs,
) -> Answer {
    let store = app.store.as_ref();
    let scope = IntegrationHygiene::load(store, &record).await?;
    let today = Utc::now().date_naive();
    let q = params::trend(&Params::new(pairs), &scope.custom_names(), today)?;
    let snapshots = kept_snapshots(store, &record.id, q.from, q.to).await?;
    let points = trend(&snapshots, q.interval, q.from, q.to, &q.filter, &q.weights);
    let warnings = Seen::of_snapshots(&snapshots).unseen(&q.filter);
    Ok(json(
        200,
        &json!({"interval": q.interval, "from": q.from, "to": q.to, "points": points,
            "warnings": warnings}),
    ))
}

/// Where the integration's history build stands: running (with the issues counted so far) or
/// finished; `null` before the first.
async fn history_of(State(app): Shared, TheIntegration(record): TheIntegration) -> Answer {
    let build = app.store.get_history_build(&record.id).await?;
    Ok(json(200, &json!({"build": build.as_ref().map(shown)})))
}

/// A build as the API shows it: without its basis (the criteria it was counted on, kept to
/// know when to count again).
fn shown(build: &HistoryBuild) -> Value {
    let mut value = json!(build);
    if let Some(fields) = value.as_object_mut() {
        fields.remove("basis");
    }
    value
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HistoryAsk {
    weeks: Option<u32>,
}

/// Starts a build of the last `weeks` weeks (default 52) from the first issue; the
/// `hygiene-events` function runs it, a deadline at a time. The points kept stay until it
/// replaces them.
async fn rebuild_history(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    JsonBody(ask): JsonBody<HistoryAsk>,
) -> Answer {
    let weeks = history_build::check_weeks(ask.weeks.unwrap_or(history::DEFAULT_WEEKS))
        .map_err(|e| Failure::BadRequest(format!("weeks: {e}")))?;
    let owner = format!(
        "score-hygiene-{}",
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let Some(build) = history_build::request(app.store.as_ref(), &record, &owner, weeks).await?
    else {
        return Err(Failure::Conflict(
            "the history is being built; ask again once that build has finished".into(),
        ));
    };
    request_index(app.events.as_ref(), &record.account, &record.id).await;
    Ok(json(202, &json!({"build": shown(&build)})))
}

fn criteria_list(config: &HygieneConfig) -> Value {
    json!({"criteria": all_with_ids(&config.criteria)})
}

fn sla_list(config: &HygieneConfig) -> Value {
    json!({"slas": all_with_ids(&config.slas)})
}
