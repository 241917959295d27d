//! DORA metrics of one integration over the HTTP API, under profiles kept per integration.
//!
//! Routes ([`ROUTES`]): `GET /integrations/{integrationId}/dora?profile=…&from=…&to=…&granularity=…&aggregation=…`;
//! `GET|POST …/dora/profiles`, `GET|PUT|DELETE …/dora/profiles/{profileId}`. A kept change of
//! the profiles asks (on the bus, `dora.index.requested`) for them to be classified again in
//! the background; until then a report is counted from every issue and says so
//! (`recomputing`).

use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, RequestExt, Response};
use sei_jira_aws::{dynamo, events};
use sei_jira_core::dora::{
    Asked, DoraConfig, DoraError, DoraProfile, Request as Days, change_profiles, report_of_kept,
    request_classification,
};
use sei_jira_core::integrations::echoed;
use sei_jira_core::ports::EventPublisher;
use sei_jira_core::store::{IntegrationRecord, ReadLimit, Store};
use sei_jira_lambda::failure::{Failure, parsed, requested_integration};
use sei_jira_lambda::http_api::{self, all_with_ids, json, path_param, with_id};
use serde_json::json;

/// The AWS actions this function's calls need (profiles kept with PutItem; `dora.index.requested`
/// on the bus), by adapter: exactly what its policies in `template.yaml` must allow (see
/// [`sei_jira_aws::dynamo::READ_ACTIONS`]).
pub const AWS_ACTIONS: &[&[&str]] = &[dynamo::READ_ACTIONS, &["dynamodb:PutItem"], events::ACTIONS];

pub struct App {
    pub store: Box<dyn Store>,
    /// The bus: requests to classify the profiles again.
    pub events: Box<dyn EventPublisher>,
    pub account_claim: String,
    /// Stored issues one request reads at most ([`http_api::ISSUES_PER_REQUEST`]): a report
    /// counted from more (its profile being classified) is answered 503.
    pub issues_per_request: usize,
}

/// Every route this function serves, as `template.yaml` and `docs/openapi.yaml` name them.
pub const ROUTES: &[&str] = &[
    "GET /integrations/{integrationId}/dora",
    "GET /integrations/{integrationId}/dora/profiles",
    "POST /integrations/{integrationId}/dora/profiles",
    "GET /integrations/{integrationId}/dora/profiles/{profileId}",
    "PUT /integrations/{integrationId}/dora/profiles/{profileId}",
    "DELETE /integrations/{integrationId}/dora/profiles/{profileId}",
];

/// The query parameters of `GET …/dora`.
const PARAMETERS: [&str; 5] = ["profile", "from", "to", "granularity", "aggregation"];

pub async fn handle(app: &App, req: Request, now: DateTime<Utc>) -> Response<Body> {
    let store = app.store.as_ref();
    let served = match requested_integration(&req, &app.account_claim, store).await {
        Ok(record) => serve(app, &req, &record, now).await,
        Err(refused) => Err(refused),
    };
    served.unwrap_or_else(|failure| failure.answer("DORA request"))
}

async fn serve(
    app: &App,
    req: &Request,
    record: &IntegrationRecord,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Failure> {
    let store = app.store.as_ref();
    let profile = path_param(req, "profileId").unwrap_or_default();
    let route = http_api::route(req);
    match route.replace("/integrations/{integrationId}", "").as_str() {
        "GET /dora" => report(app, record, req, now).await,
        "GET /dora/profiles" => {
            let config = kept(store, record).await?;
            Ok(json(
                200,
                &json!({"profiles": all_with_ids(&config.profiles)}),
            ))
        }
        "POST /dora/profiles" => {
            let p: DoraProfile = parsed(req)?;
            let (id, _) =
                change_profiles(store, record, |c, catalog| c.add(p.clone(), catalog)).await?;
            request_classification(app.events.as_ref(), &record.account, &record.id).await;
            Ok(json(201, &with_id(&id, &p)))
        }
        "GET /dora/profiles/{profileId}" => match kept(store, record).await?.get(&profile) {
            Some(p) => Ok(json(200, &with_id(&profile, p))),
            None => Err(DoraError::NoProfile(profile).into()),
        },
        "PUT /dora/profiles/{profileId}" => {
            let p: DoraProfile = parsed(req)?;
            change_profiles(store, record, |c, catalog| {
                c.replace(&profile, p.clone(), catalog)
            })
            .await?;
            request_classification(app.events.as_ref(), &record.account, &record.id).await;
            Ok(json(200, &with_id(&profile, &p)))
        }
        "DELETE /dora/profiles/{profileId}" => {
            change_profiles(store, record, |c, _| c.remove(&profile)).await?;
            request_classification(app.events.as_ref(), &record.account, &record.id).await;
            Ok(http_api::empty(204))
        }
        _ => Err(Failure::no_route(&route)),
    }
}

async fn report(
    app: &App,
    record: &IntegrationRecord,
    req: &Request,
    now: DateTime<Utc>,
) -> Result<Response<Body>, Failure> {
    let params = req.query_string_parameters();
    // A misspelt parameter never falls back to a default silently.
    if let Some(unknown) = params
        .iter()
        .map(|(k, _)| k)
        .find(|k| !PARAMETERS.contains(k))
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
    let days =
        Days::parse(&asked, now.date_naive()).map_err(|e| Failure::BadRequest(e.to_string()))?;
    let document = report_of_kept(
        app.store.as_ref(),
        record,
        profile.trim(),
        &days,
        ReadLimit::AtMost(app.issues_per_request),
    )
    .await?;
    Ok(json(200, &document))
}

async fn kept(store: &dyn Store, record: &IntegrationRecord) -> Result<DoraConfig, Failure> {
    Ok(store.get_dora_config(&record.id).await?.unwrap_or_default())
}
