//! sei-jira's library crate: the Jira client, credential validation and, as the product grows,
//! all domain logic (sync, hygiene, monitoring, DORA). Lambda binaries and local tools stay thin
//! wrappers around what lives here.

pub mod adf;
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "lambda")]
pub mod http_api;
pub mod integrations;
pub mod jira;
pub mod jira_time;
#[cfg(feature = "lambda")]
pub mod lambda_env;
#[cfg(feature = "lambda")]
pub mod logging;
pub mod memory;
pub mod monitoring;
pub mod ports;
pub mod schedule_expression;
pub mod store;
pub mod sync;
pub mod validation;
