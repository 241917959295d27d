//! The report page: an integration's monitoring, hygiene and DORA figures as one self-contained
//! HTML document people look at (`sei-jira report`, `GET /integrations/{id}/report`).
//!
//! [`gather`] reads what the page shows through the same operations the JSON routes answer
//! from; [`html::render`] draws it (inline SVG, no script, nothing fetched when viewed).

mod chart;
pub mod html;

use chrono::{DateTime, Days, Utc};

use crate::dora::{self, DoraError};
use crate::hygiene::scope::IntegrationHygiene;
use crate::hygiene::{self, Filter, HygieneError, Interval, Settings, Weights};
use crate::monitoring::{self, Monitoring, Range};
use crate::store::{IntegrationRecord, ReadLimit, Store, StoreError};

/// Weeks of hygiene trend the page shows.
pub const TREND_WEEKS: u64 = 12;

/// Everything the page shows, gathered at one moment.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub integration: String,
    pub generated_at: DateTime<Utc>,
    pub monitoring: Monitoring,
    pub hygiene: HygieneSection,
    /// One per kept DORA profile, in the order they were kept; empty when none is.
    pub dora: Vec<dora::Document>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HygieneSection {
    pub report: hygiene::Report,
    /// The score per week from the daily snapshots and the history points, oldest first.
    pub trend: Vec<hygiene::Point>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("integration '{0}' not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hygiene(#[from] HygieneError),
    #[error(transparent)]
    Dora(#[from] DoraError),
}

/// The page of `record` as of `now`: monitoring over `range`, hygiene now with its weekly
/// trend, and DORA under every kept profile over the API's default days. What is counted from
/// the issues (an index being built) reads at most `read_limit` of them.
pub async fn gather<S: Store + ?Sized>(
    store: &S,
    record: &IntegrationRecord,
    range: Range,
    now: DateTime<Utc>,
    read_limit: ReadLimit,
) -> Result<Page, ReportError> {
    let monitoring = monitoring::query(store, &record.account, &record.id, range, now)
        .await?
        .ok_or_else(|| ReportError::NotFound(record.id.clone()))?;
    let hygiene = hygiene_section(store, record, now, read_limit).await?;
    let days = dora::ReportDays::defaults(now.date_naive());
    let documents = dora::reports_of_kept(store, record, &days, read_limit).await?;
    Ok(Page {
        integration: record.name.clone(),
        generated_at: now,
        monitoring,
        hygiene,
        dora: documents,
    })
}

async fn hygiene_section<S: Store + ?Sized>(
    store: &S,
    record: &IntegrationRecord,
    now: DateTime<Utc>,
    read_limit: ReadLimit,
) -> Result<HygieneSection, ReportError> {
    let scope = IntegrationHygiene::load(store, record).await?;
    let request = hygiene::Request {
        read_limit,
        ..scope.request(Settings::default(), now.timestamp_millis())
    };
    let report = hygiene::report_answered(store, &record.id, &request)
        .await?
        .report;
    let to = now.date_naive();
    let from = to - Days::new(TREND_WEEKS * 7 - 1);
    let snapshots = hygiene::kept_snapshots(store, &record.id, from, to).await?;
    let trend = hygiene::trend(
        &snapshots,
        Interval::Week,
        from,
        to,
        &Filter::default(),
        &Weights::default(),
    );
    Ok(HygieneSection { report, trend })
}
