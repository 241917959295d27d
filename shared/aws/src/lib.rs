//! sei-jira's AWS adapters: the DynamoDB store ([`dynamo`], every role of the store port), and
//! the ports' adapters — [`secrets`] (Secrets Manager), [`scheduler`] (EventBridge Scheduler),
//! [`events`] (EventBridge) — with the SDK configuration they are built from ([`sdk_config`]).
//!
//! Depends on the domain (`sei-jira-core`) for the ports it implements; only the Lambda glue,
//! the functions and the tests depend on it.

pub mod dynamo;
pub mod events;
pub mod scheduler;
mod sdk;
pub mod secrets;

pub use sdk::*;
