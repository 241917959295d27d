//! DORA metrics of one integration over the HTTP API, under profiles kept per integration.
//!
//! Routes ([`routes`]): `GET /integrations/{integrationId}/dora?profile=…&from=…&to=…&granularity=…&aggregation=…`;
//! `GET|POST …/dora/profiles`, `GET|PUT|DELETE …/dora/profiles/{profileId}`. A kept change of
//! the profiles asks (on the bus, `dora.index.requested`) for them to be classified again in
//! the background; until then a report is counted from every issue and says so
//! (`recomputing`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use chrono::Utc;
use sei_jira_aws::{dynamo, events};
use sei_jira_core::dora::{
    Asked, DoraConfig, DoraError, DoraProfile, ReportDays, change_profiles, report_of_kept,
    request_classification, unseen_values,
};
use sei_jira_core::ports::EventPublisher;
use sei_jira_core::store::{IntegrationRecord, IntegrationStore, ReadLimit, Store};
use sei_jira_core::user_text::echoed;
use sei_jira_lambda::failure::Failure;
use sei_jira_lambda::http_api::{self, all_with_ids, json, with_id};
use sei_jira_lambda::routes::{
    Answer, Ids, Integrations, JsonBody, QueryPairs, Route, TheIntegration, router_of,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// The AWS actions this function's calls need (profiles kept with PutItem; `dora.index.requested`
/// on the bus), by adapter: exactly what its policies in `template.yaml` must allow (see
/// [`sei_jira_aws::dynamo::READ_ACTIONS`]).
pub const AWS_ACTIONS: &[&[&str]] = &[dynamo::READ_ACTIONS, &["dynamodb:PutItem"], events::ACTIONS];

pub struct App {
    pub store: Box<dyn Store>,
    /// The bus: requests to classify the profiles again.
    pub events: Box<dyn EventPublisher>,
    /// Stored issues one request reads at most ([`http_api::ISSUES_PER_REQUEST`]): a report
    /// counted from more (its profile being classified) is answered 503.
    pub issues_per_request: usize,
}

/// The query parameters of `GET …/dora`.
const PARAMETERS: [&str; 5] = ["profile", "from", "to", "granularity", "aggregation"];

/// The route's own id (the integration's is [`TheIntegration`]'s).
#[derive(Deserialize)]
struct ProfilePath {
    #[serde(rename = "profileId")]
    profile: String,
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
        Route::new("GET /integrations/{integrationId}/dora", report),
        Route::new("GET /integrations/{integrationId}/dora/profiles", list),
        Route::new("POST /integrations/{integrationId}/dora/profiles", add),
        Route::new(
            "GET /integrations/{integrationId}/dora/profiles/{profileId}",
            read,
        ),
        Route::new(
            "PUT /integrations/{integrationId}/dora/profiles/{profileId}",
            replace,
        ),
        Route::new(
            "DELETE /integrations/{integrationId}/dora/profiles/{profileId}",
            remove,
        ),
    ]
}

/// [`routes`], for the caller a layer in front of it names.
pub fn router(app: Arc<App>) -> Router {
    router_of(routes(), app)
}

async fn list(State(app): Shared, TheIntegration(record): TheIntegration) -> Answer {
    let store = app.store.as_ref();
    let config = kept(store, &record).await?;
    Ok(json(
        200,
        &json!({"profiles": all_with_ids(&config.profiles)}),
    ))
}

async fn add(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    JsonBody(p): JsonBody<DoraProfile>,
) -> Answer {
    let store = app.store.as_ref();
    let (id, _) = change_profiles(store, &record, |c, catalog| c.add(p.clone(), catalog)).await?;
    request_classification(app.events.as_ref(), &record.account, &record.id).await;
    Ok(json(
        201,
        &warned(with_id(&id, &p), store, &record, &p).await?,
    ))
}

async fn read(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    Ids(path): Ids<ProfilePath>,
) -> Answer {
    let store = app.store.as_ref();
    match kept(store, &record).await?.get(&path.profile) {
        Some(p) => Ok(json(200, &with_id(&path.profile, p))),
        None => Err(DoraError::NoProfile(path.profile).into()),
    }
}

async fn replace(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    Ids(path): Ids<ProfilePath>,
    JsonBody(p): JsonBody<DoraProfile>,
) -> Answer {
    let store = app.store.as_ref();
    change_profiles(store, &record, |c, catalog| {
        c.replace(&path.profile, p.clone(), catalog)
    })
    .await?;
    request_classification(app.events.as_ref(), &record.account, &record.id).await;
    Ok(json(
        200,
        &warned(with_id(&path.profile, &p), store, &record, &p).await?,
    ))
}

async fn remove(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    Ids(path): Ids<ProfilePath>,
) -> Answer {
    let store = app.store.as_ref();
    change_profiles(store, &record, |c, _| c.remove(&path.profile)).await?;
    request_classification(app.events.as_ref(), &record.account, &record.id).await;
    Ok(http_api::empty(204))
}

async fn report(
    State(app): Shared,
    TheIntegration(record): TheIntegration,
    params: QueryPairs,
) -> Answer {
    let store = app.store.as_ref();
    // A misspelt parameter never falls back to a default silently.
    if let Some((unknown, _)) = params
        .0
        .iter()
        .find(|(k, _)| !PARAMETERS.contains(&k.as_str()))
    {
        return Err(Failure::BadRequest(format!(
            "{}: not a parameter of this route (one of {})",
            echoed(unknown),
            PARAMETERS.join(", ")
        )));
    }
    let Some(profile) = params.first("profile").filter(|p| !p.trim().is_empty()) else {
        return Err(Failure::BadRequest(
            "profile: required, the id of a kept profile (GET …/dora/profiles)".into(),
        ));
    };
    let asked = Asked {
        from: params.first("from"),
        to: params.first("to"),
        granularity: params.first("granularity"),
        aggregation: params.first("aggregation"),
    };
    let days = ReportDays::parse(&asked, Utc::now().date_naive())
        .map_err(|e| Failure::BadRequest(e.to_string()))?;
    let document = report_of_kept(
        store,
        &record,
        profile.trim(),
        &days,
        ReadLimit::AtMost(app.issues_per_request),
    )
    .await?;
    Ok(json(200, &document))
}

/// A kept profile's answer with `warnings`: the values it names that no stored ticket holds.
async fn warned(
    mut answer: Value,
    store: &dyn Store,
    record: &IntegrationRecord,
    profile: &DoraProfile,
) -> Result<Value, Failure> {
    answer["warnings"] = json!(unseen_values(store, &record.id, profile).await?);
    Ok(answer)
}

async fn kept(store: &dyn Store, record: &IntegrationRecord) -> Result<DoraConfig, Failure> {
    Ok(store.get_dora_config(&record.id).await?.unwrap_or_default())
}
