//! The Jira client: Cloud (`/rest/api/3`, email + classic API token) and Data Center
//! (`/rest/api/2`, personal access token), with one rate limiter and one concurrency limit per
//! site, retries for throttling and transient failures, and typed models.

pub mod api;
pub mod config;
pub mod error;
pub mod http;
pub mod lean;
pub mod models;

pub use api::REQUIRED_PERMISSIONS;
pub use config::{Credentials, Deployment, RetryPolicy, Secret, SiteConfig};
pub use error::JiraError;
pub use http::JiraClient;
