//! Why an analytics request (hygiene, DORA) is not answered with success, and the HTTP answer
//! each reason gets: one home for the mapping of the domain's errors to statuses, so the
//! functions that serve those routes decide it alike.

use lambda_http::{Body, Request, Response};
use sei_jira_core::dora::{self, ProfileChangeError};
use sei_jira_core::hygiene::service::ChangeError as HygieneChangeError;
use sei_jira_core::hygiene::{ConfigError, HygieneError};
use sei_jira_core::integrations::echoed;
use sei_jira_core::report::ReportError;
use sei_jira_core::store::{IntegrationRecord, IntegrationStore, StoreError};

use crate::http_api;

pub enum Failure {
    /// An answer already shaped (a body that does not parse, a request without an account).
    Answered(Box<Response<Body>>),
    BadRequest(String),
    NotFound(String),
    Conflict(String),
    /// Not answerable yet (an index being built): the caller tries again after `after`.
    RetryLater {
        message: String,
        after: std::time::Duration,
    },
    Internal(String),
}

/// When a caller refused while an index is built tries again: a build runs in batches of a few
/// seconds each, and a refused request costs a bounded read.
pub const INDEX_BUILD_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

impl Failure {
    /// The answer; an internal failure is logged with `what` and answered without its details.
    pub fn answer(self, what: &str) -> Response<Body> {
        match self {
            Failure::Answered(response) => *response,
            Failure::BadRequest(m) => http_api::error(400, "invalid_request", m),
            Failure::NotFound(m) => http_api::error(404, "not_found", m),
            Failure::Conflict(m) => http_api::error(409, "conflict", m),
            Failure::RetryLater { message, after } => {
                http_api::retry_after(http_api::error(503, "retry_later", message), after)
            }
            Failure::Internal(m) => {
                tracing::error!(error = %m, "{what} failed");
                http_api::error(500, "internal", "internal error; see the function's logs")
            }
        }
    }

    pub fn no_route(route: &str) -> Failure {
        Failure::NotFound(format!("no route {}", echoed(route)))
    }
}

/// The integration the request's path names, of the account the authorizer names: refused
/// without an account (401), with an oversized path parameter (400), and not found when it is
/// not there or is another account's (404).
pub async fn requested_integration(
    req: &Request,
    account_claim: &str,
    store: &dyn IntegrationStore,
) -> Result<IntegrationRecord, Failure> {
    let Some(account) = http_api::account(req, account_claim) else {
        return Err(Failure::Answered(Box::new(http_api::unauthorized())));
    };
    if let Some(refused) = http_api::oversized_path_param(req) {
        return Err(Failure::Answered(Box::new(refused)));
    }
    let id = http_api::path_param(req, "integrationId").unwrap_or_default();
    match store.get_integration(&account, &id).await? {
        Some(record) => Ok(record),
        None => Err(Failure::NotFound(format!(
            "integration {} not found",
            echoed(&id)
        ))),
    }
}

/// A JSON body; one that does not parse is answered as the shared parser shapes it.
pub fn parsed<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, Failure> {
    http_api::body(req).map_err(Failure::Answered)
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Internal(e.to_string())
    }
}

impl From<HygieneError> for Failure {
    fn from(e: HygieneError) -> Self {
        match e {
            HygieneError::Store(e) => e.into(),
            // Criteria kept before the site lost a field they name.
            HygieneError::Criteria(e) => Failure::Conflict(format!(
                "a kept custom hygiene miss no longer fits the site's fields ({e}); change or delete it"
            )),
            HygieneError::Skipped { .. } => Failure::BadRequest(format!("category: {e}")),
            HygieneError::UnknownCustom(_) => Failure::BadRequest(format!("category: {e}")),
            // The parameters are bounded so that this cannot happen; should a kept setting
            // allow it, the caller learns which.
            HygieneError::Unanswerable(_) => Failure::BadRequest(e.to_string()),
            HygieneError::IntegrationDeleted => Failure::NotFound(e.to_string()),
            HygieneError::IndexNotReady(_) => Failure::RetryLater {
                message: e.to_string(),
                after: INDEX_BUILD_RETRY_AFTER,
            },
            HygieneError::RangesTooBroad(_) => Failure::BadRequest(e.to_string()),
        }
    }
}

impl From<HygieneChangeError> for Failure {
    fn from(e: HygieneChangeError) -> Self {
        match e {
            HygieneChangeError::Config(ConfigError::Invalid(e)) => {
                Failure::BadRequest(e.to_string())
            }
            HygieneChangeError::Config(e @ ConfigError::NotFound { .. }) => {
                Failure::NotFound(e.to_string())
            }
            HygieneChangeError::Store(e) => e.into(),
            e @ HygieneChangeError::Contended => Failure::Conflict(e.to_string()),
        }
    }
}

fn no_profile(id: &str) -> Failure {
    Failure::NotFound(format!("no DORA profile {}", echoed(id)))
}

impl From<dora::DoraError> for Failure {
    fn from(e: dora::DoraError) -> Self {
        match e {
            dora::DoraError::Store(e) => e.into(),
            dora::DoraError::NoProfile(id) => no_profile(&id),
            e @ dora::DoraError::EmptyRange => Failure::BadRequest(e.to_string()),
            // A profile kept before the site lost a field it names.
            dora::DoraError::Profile(e) => Failure::Conflict(format!(
                "the kept profile no longer fits the site's fields ({e}); change it"
            )),
            e @ dora::DoraError::Classifying(_) => Failure::RetryLater {
                message: e.to_string(),
                after: INDEX_BUILD_RETRY_AFTER,
            },
        }
    }
}

impl From<dora::ChangeError> for Failure {
    fn from(e: dora::ChangeError) -> Self {
        match e {
            dora::ChangeError::Profile(ProfileChangeError::Invalid(e)) => {
                Failure::BadRequest(e.to_string())
            }
            dora::ChangeError::Profile(ProfileChangeError::NotFound(id)) => no_profile(&id),
            dora::ChangeError::Store(e) => e.into(),
            e @ dora::ChangeError::Contended => Failure::Conflict(e.to_string()),
        }
    }
}

impl From<ReportError> for Failure {
    fn from(e: ReportError) -> Self {
        match e {
            e @ ReportError::NotFound(_) => Failure::NotFound(e.to_string()),
            ReportError::Store(e) => e.into(),
            ReportError::Hygiene(e) => e.into(),
            ReportError::Dora(e) => e.into(),
        }
    }
}
