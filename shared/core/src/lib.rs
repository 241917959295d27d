//! sei-jira's domain: credential validation, the resumable sync, the store port (one trait per
//! role) with its embedded adapter, the integration API's operations, monitoring, ticket
//! hygiene, and the ports to the services around them (secrets, schedules, events).
//!
//! Depends on the Jira client (re-exported as [`jira`]) and on no AWS or Lambda crate: the AWS
//! adapters (`sei-jira-aws`) and the Lambda glue (`sei-jira-lambda`) depend on it, never the
//! other way round. Local tools build it without the AWS SDK.

pub use sei_jira_client as jira;

pub mod dora;
pub mod hygiene;
pub mod integrations;
pub mod monitoring;
pub mod ports;
pub mod report;
pub mod schedule_expression;
pub mod store;
pub mod sync;
pub mod user_text;
pub mod validation;
