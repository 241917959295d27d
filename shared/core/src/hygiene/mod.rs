//! Ticket hygiene: whether an issue misses an important field, an SLA, an active assignee or a
//! status change during an active sprint, and how the misses of a set of tickets weigh into a
//! score. [`facts`] reads what the rules need from a stored issue, [`rules`] decides each built-in
//! category at a given time, [`score`] turns misses into the established product's step scores
//! and a weighted total, [`criteria`] holds the custom hygiene misses, [`config`] an
//! integration's kept criteria and SLA rows, [`filter`] which tickets count, [`seen`] the values
//! they hold (a filter naming none of them is warned about), [`aggregate`] the
//! counts and distributions a report is answered from, [`snapshot`] the
//! daily counts and [`trend`] the score over time, [`index`] the kept aggregate's data,
//! [`as_of`] a ticket's facts as they stood at an earlier instant, from its changelog, and
//! [`history`] the counts of past weeks rebuilt from it — all pure; [`query`] reads the store,
//! [`indexer`] keeps the aggregate up to date in it, [`history_build`] the history, and
//! [`service`] runs one integration's operations over it.
//!
//! Depends on the store port and the sync's exclusions; only [`query`] and [`service`] touch the
//! store.

pub mod aggregate;
pub mod as_of;
pub mod config;
pub mod criteria;
pub mod facts;
pub mod fields_at;
pub mod filter;
pub mod history;
pub mod history_build;
pub mod index;
pub mod indexer;
pub mod params;
pub mod query;
pub mod request;
pub mod rules;
pub mod scope;
pub mod score;
pub mod seen;
pub mod service;
pub mod snapshot;
pub mod trend;

pub use aggregate::{Aggregate, Delta, Unanswerable};
pub use config::{ConfigError, HygieneConfig, SlaInput};
pub use criteria::{Condition, Criterion, Operator};
pub use facts::IssueFacts;
pub use filter::{Cell, Filter, TimeRange};
pub use query::{
    Answered, MissPage, Source, Which, aggregate_from_store, kept_snapshots, misses_from_store,
    report_answered, report_from_store, snapshot_from_store,
};
pub use request::{HygieneError, Request};
pub use rules::{Category, ResponseMeasure, Settings, Sla, SlaKey};
pub use scope::{IntegrationHygiene, catalog_of};
pub use score::{Counts, Report, Weights, report_of, step_score};
pub use seen::{Seen, Unseen};
pub use snapshot::{Snapshot, Taken};
pub use trend::{Interval, Point, trend};
