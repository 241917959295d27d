//! Ticket hygiene: whether an issue misses an important field, an SLA, an active assignee or a
//! status change during an active sprint, and how the misses of a set of tickets weigh into a
//! score. [`facts`] reads what the rules need from a stored issue, [`rules`] decides each built-in
//! category at a given time, [`score`] turns misses into the established product's step scores
//! and a weighted total, [`criteria`] holds the custom hygiene misses — all pure; [`query`]
//! reports on what the store holds.
//!
//! Depends on the store port and the sync's exclusions; only [`query`] reads the store.

pub mod criteria;
pub mod facts;
pub mod query;
pub mod rules;
pub mod score;

pub use criteria::{Condition, Criterion, Operator};
pub use facts::IssueFacts;
pub use query::{Filter, HygieneError, Request, report_from_store};
pub use rules::{Category, ResponseMeasure, Settings, Sla, SlaKey};
pub use score::{CustomTally, Report, Weights, report, step_score};
