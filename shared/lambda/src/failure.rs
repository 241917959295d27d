//! Why a request is not answered with success, and the HTTP answer each reason gets: one home
//! for the mapping of the domain's errors to statuses, so every function's routes decide it
//! alike.

use lambda_http::{Body, Response};
use sei_jira_core::dora::{self, ProfileChangeError};
use sei_jira_core::hygiene::params::Refused;
use sei_jira_core::hygiene::service::ChangeError as HygieneChangeError;
use sei_jira_core::hygiene::{ConfigError, HygieneError};
use sei_jira_core::integrations::ApiError;
use sei_jira_core::report::ReportError;
use sei_jira_core::store::StoreError;
use sei_jira_core::user_text::echoed;
use serde_json::json;

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
    /// The answer; an internal failure is logged and answered without its details.
    pub fn answer(self) -> Response<Body> {
        match self {
            Failure::Answered(response) => *response,
            Failure::BadRequest(m) => http_api::error(400, "invalid_request", m),
            Failure::NotFound(m) => http_api::error(404, "not_found", m),
            Failure::Conflict(m) => http_api::error(409, "conflict", m),
            Failure::RetryLater { message, after } => {
                http_api::retry_after(http_api::error(503, "retry_later", message), after)
            }
            Failure::Internal(m) => {
                tracing::error!(error = %m, "request failed");
                http_api::error(500, "internal", "internal error; see the function's logs")
            }
        }
    }

    pub fn no_route(route: &str) -> Failure {
        Failure::NotFound(format!("no route {}", echoed(route)))
    }
}

impl axum::response::IntoResponse for Failure {
    fn into_response(self) -> axum::response::Response {
        self.answer().into_response()
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::BadRequest { .. } => Failure::BadRequest(e.to_string()),
            ApiError::ValidationFailed(ref report) => Failure::Answered(Box::new(http_api::json(
                400,
                &json!({
                    "code": "validation_failed",
                    "message": e.to_string(),
                    "checks": report.checks,
                }),
            ))),
            ApiError::NotFound(_) => Failure::NotFound(e.to_string()),
            ApiError::Conflict(_) => Failure::Conflict(e.to_string()),
            ApiError::RetryLater { message, after } => Failure::RetryLater { message, after },
            ApiError::QuotaExceeded { message, after } => Failure::Answered(Box::new(
                http_api::retry_after(http_api::error(429, "quota_exceeded", message), after),
            )),
            ApiError::Internal(message) => Failure::Internal(message),
        }
    }
}

impl From<Refused> for Failure {
    fn from(e: Refused) -> Self {
        Failure::BadRequest(e.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_jira_asked_for_is_answered_503_with_retry_after() {
        let e = ApiError::RetryLater {
            message: "Jira asked for a wait".into(),
            after: std::time::Duration::from_secs(900),
        };
        let response = Failure::from(e).answer();
        assert_eq!(response.status().as_u16(), 503);
        assert_eq!(response.headers()["retry-after"], "900");
    }

    #[test]
    fn a_quota_used_up_is_answered_429_with_retry_after() {
        let e = ApiError::QuotaExceeded {
            message: "30 validations a minute".into(),
            after: std::time::Duration::from_secs(20),
        };
        let response = Failure::from(e).answer();
        assert_eq!(response.status().as_u16(), 429);
        assert_eq!(response.headers()["retry-after"], "20");
    }
}
