//! DORA metrics from Jira: a team's [`profile`] says which issues are incidents and change
//! requests and which statuses mean restored and deployed; [`facts`] reads what the metrics need
//! of one issue under it; [`metrics`] computes time to restore, change failure rate, deployment
//! frequency and lead time over a range, each with its sample size and band — all pure;
//! [`service`] answers one integration's report from the store.

pub mod facts;
pub mod metrics;
pub mod profile;
pub mod service;

pub use facts::{DoraFacts, Statuses, done_statuses};
pub use metrics::{Aggregation, Band, DoraReport, Granularity, Query, Release, Rule, report};
pub use profile::{DoraProfile, IssueFilter, ProfileError};
pub use service::{DoraError, report_from_store};

#[cfg(test)]
mod tests;
