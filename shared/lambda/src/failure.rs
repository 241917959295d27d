//! Why an analytics request (hygiene, DORA) is not answered with success, and the HTTP answer
//! each reason gets: one home for the mapping of the domain's errors to statuses, so the
//! functions that serve those routes decide it alike.

use lambda_http::{Body, Response};
use sei_jira_core::dora::{self, ProfileChangeError};
use sei_jira_core::hygiene::service::ChangeError as HygieneChangeError;
use sei_jira_core::hygiene::{ConfigError, HygieneError};
use sei_jira_core::integrations::echoed;
use sei_jira_core::store::StoreError;

use crate::http_api;

pub enum Failure {
    /// A body that does not parse: the shared parser has already shaped its 400.
    BadBody(Box<Response<Body>>),
    BadRequest(String),
    NotFound(String),
    Conflict(String),
    Internal(String),
}

impl Failure {
    /// The answer; an internal failure is logged with `what` and answered without its details.
    pub fn answer(self, what: &str) -> Response<Body> {
        match self {
            Failure::BadBody(response) => *response,
            Failure::BadRequest(m) => http_api::error(400, "invalid_request", m),
            Failure::NotFound(m) => http_api::error(404, "not_found", m),
            Failure::Conflict(m) => http_api::error(409, "conflict", m),
            Failure::Internal(m) => {
                tracing::error!(error = %m, "{what} failed");
                http_api::error(500, "internal", "internal error; see the function's logs")
            }
        }
    }

    /// The caller's integration is not there (or is another account's).
    pub fn no_integration(id: &str) -> Failure {
        Failure::NotFound(format!("integration {} not found", echoed(id)))
    }

    pub fn no_route(route: &str) -> Failure {
        Failure::NotFound(format!("no route {}", echoed(route)))
    }
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
