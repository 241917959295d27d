//! The Jira client: Cloud (`/rest/api/3`, email + classic API token) and Data Center
//! (`/rest/api/2`, personal access token), with one rate limiter and one concurrency limit per
//! site, retries for throttling and transient failures, one paging mechanism and typed models;
//! and Jira's own formats: its timestamps ([`time`]) and rich text ([`adf`]).
//!
//! Depends on no other crate of the workspace; the domain (`sei-jira-core`) and the Jira
//! simulator depend on it.

pub mod address;
pub mod adf;
pub mod api;
mod budget;
pub mod config;
pub mod error;
pub mod http;
pub mod lean;
pub mod models;
pub mod paging;
pub mod time;

pub use address::PrivateNetworks;
pub use api::REQUIRED_PERMISSIONS;
pub use config::{
    Credentials, DEFAULT_ANSWER_BUDGET, DEFAULT_MAX_IN_FLIGHT, DEFAULT_REQUESTS_PER_SECOND,
    Deployment, RetryPolicy, Secret, SiteConfig,
};
pub use error::{Inconsistency, JiraError};
pub use http::{JiraClient, Waiting};
