//! What sei-jira's Lambda functions share: their wiring from the environment ([`lambda_env`]),
//! the HTTP API's glue — what every router shares ([`routes`]: the caller, the extractors), the
//! account from the authorizer, JSON answers and errors ([`http_api`]), the statuses the
//! domain's errors are answered with ([`failure`]) — their logging ([`logging`]), their
//! metrics ([`metrics`]) and the process tuning the sync's binaries share ([`process`]).
//!
//! Depends on the domain and the AWS adapters; the functions, the CLI (which serves their
//! routers) and their tests depend on it.

pub mod failure;
pub mod http_api;
pub mod lambda_env;
pub mod logging;
pub mod metrics;
pub mod process;
pub mod routes;
