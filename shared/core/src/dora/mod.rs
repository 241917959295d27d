//! DORA metrics from Jira: a team's [`profile`] says which issues are incidents and change
//! requests and which statuses mean restored and deployed; [`facts`] reads what the metrics need
//! of one issue under it; [`metrics`] computes time to restore, change failure rate, deployment
//! frequency and lead time over a range, each with its sample size and band — all pure;
//! [`request`] what people ask and the document answered, [`config`] an integration's kept
//! profiles, [`index`] the kept classification's data, [`words`] the figures as people read them;
//! [`upkeep`] keeps each profile's members (its incidents and change requests) in the store as
//! issues change, and [`service`] answers one integration's report and changes its profiles.

pub mod config;
pub mod facts;
pub mod index;
pub mod metrics;
pub mod profile;
pub mod request;
pub mod service;
pub mod upkeep;
pub mod words;

pub use config::{DoraConfig, ProfileChangeError};
pub use facts::{DoraFacts, Statuses, done_statuses};
pub use metrics::{Aggregation, Band, DoraReport, Granularity, Query, Release, Rule, report};
pub use profile::{DoraProfile, IssueFilter, ProfileError};
pub use request::{Asked, Document, Refused, ReportDays};
pub use service::{
    ChangeError, DoraError, change_profiles, report_from_store, report_of_kept, reports_of_kept,
    request_classification, unseen_values,
};

#[cfg(test)]
mod tests;
