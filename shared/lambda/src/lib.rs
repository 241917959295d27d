//! What sei-jira's Lambda functions share: their wiring from the environment ([`lambda_env`]),
//! the HTTP API's glue — the account from the authorizer, JSON answers and errors ([`http_api`]),
//! the statuses the analytics routes answer the domain's errors with ([`failure`]) — their
//! logging ([`logging`]) and their metrics ([`metrics`]).
//!
//! Depends on the domain and the AWS adapters; only the functions (and their tests) depend on it.

pub mod failure;
pub mod http_api;
pub mod lambda_env;
pub mod logging;
pub mod metrics;
