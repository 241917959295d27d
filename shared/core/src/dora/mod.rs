//! DORA metrics from Jira: a team's [`profile`] says which issues are incidents and change
//! requests and which statuses mean restored and deployed; [`facts`] reads what the metrics need
//! of one issue under it; [`metrics`] computes time to restore, change failure rate, deployment
//! frequency and lead time over a range, each with its sample size and band. All pure.

pub mod facts;
pub mod metrics;
pub mod profile;

pub use facts::{DoraFacts, Statuses, done_statuses};
pub use metrics::{Aggregation, Band, DoraReport, Granularity, Query, Release, Rule, report};
pub use profile::{DoraProfile, IssueFilter, ProfileError};

#[cfg(test)]
mod tests;
