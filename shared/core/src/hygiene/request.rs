//! What a hygiene report is asked of (besides the store), and why one is not answered.

use super::aggregate::Unanswerable;
use super::criteria::{CriteriaError, Criterion};
use super::filter::Filter;
use super::rules::Settings;
use super::score::Weights;
use crate::store::{OverReadLimit, ReadLimit, StoreError};
use crate::sync::Excluded;

/// What a report is asked of, besides the store.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    pub filter: Filter,
    pub settings: Settings,
    pub weights: Weights,
    /// What the integration's syncs leave out.
    pub excluded: Excluded,
    /// The integration's mapped custom fields (names or ids), which criteria may name.
    pub custom_fields: &'a [String],
    pub criteria: &'a [Criterion],
    pub at_ms: i64,
    /// Evaluate the tickets as they stood at `at_ms` ([`super::as_of`]), counted from the
    /// issues; otherwise as they are now.
    pub as_of: bool,
    /// How many issues the report may read when it is counted from them.
    pub read_limit: ReadLimit,
}

#[derive(Debug, thiserror::Error)]
pub enum HygieneError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Criteria(#[from] CriteriaError),
    /// Its tickets cannot be listed: the category is not judged.
    #[error("{category} is skipped: {reason}")]
    Skipped { category: String, reason: String },
    #[error("no custom hygiene miss is named '{0}'")]
    UnknownCustom(String),
    #[error(transparent)]
    Unanswerable(#[from] Unanswerable),
    /// The integration's deletion began while its snapshot was taken: the snapshot was swept
    /// with the rest of its data.
    #[error("the integration was deleted while its snapshot was taken")]
    IntegrationDeleted,
    /// The kept index cannot answer yet (it is being built, or a batch is being applied), and
    /// counting from the issues meanwhile would read more than the request's [`ReadLimit`]: try
    /// again once the index is built.
    #[error(
        "the hygiene index is being built, and this integration holds more than {0} tickets to count without it; try again shortly"
    )]
    IndexNotReady(usize),
    /// Time ranges are counted from the issues only, and they are more than the request's
    /// [`ReadLimit`].
    #[error(
        "created, updated and resolved ranges are counted from every stored ticket, and this integration holds more than {0}; leave the ranges out to be answered from the kept index"
    )]
    RangesTooBroad(usize),
}

impl HygieneError {
    /// Why a report that would read more issues than its limit is not answered.
    pub(super) fn over_read_limit(req: &Request<'_>, over: OverReadLimit) -> HygieneError {
        match req.filter.has_time_ranges() {
            true => HygieneError::RangesTooBroad(over.0),
            false => HygieneError::IndexNotReady(over.0),
        }
    }
}
