//! One integration's DORA report from what the store holds: the profile's facts of every issue
//! that counts (not hidden, removed or deleted), the site's Done statuses and its released
//! versions.

use chrono::NaiveDate;

use super::facts::{DoraFacts, Statuses, done_statuses};
use super::metrics::{DoraReport, Query, Release, report};
use super::profile::{DoraProfile, ProfileError};
use crate::hygiene::catalog_of;
use crate::store::{IssueStore, Record, RecordKind, RecordStore, StoreError, each_counted_issue};

/// Issues read from the store at a time.
const PAGE: usize = 1_000;

#[derive(Debug, thiserror::Error)]
pub enum DoraError {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error("from: must be before to")]
    EmptyRange,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The report of `profile` over `query`'s range (whose failure window the profile sets).
pub async fn report_from_store<S: IssueStore + RecordStore + ?Sized>(
    store: &S,
    integration: &str,
    custom_fields: &[String],
    profile: &DoraProfile,
    query: &Query,
) -> Result<DoraReport, DoraError> {
    if query.from_ms >= query.to_ms {
        return Err(DoraError::EmptyRange);
    }
    let catalog = catalog_of(store, integration, custom_fields).await?;
    profile.validate(&catalog)?;
    let statuses = Statuses::new(
        profile,
        &done_statuses(&store.list_records(integration, RecordKind::Status).await?),
    );
    let mut facts = Vec::new();
    each_counted_issue(store, integration, None, PAGE, |issue| {
        let f = DoraFacts::of(issue, profile, &catalog, &statuses);
        if f.incident || f.change {
            facts.push(f);
        }
        true
    })
    .await?;
    let releases = releases(&store.list_records(integration, RecordKind::Version).await?);
    let query = Query {
        failure_window_hours: profile.failure_window_hours,
        ..*query
    };
    Ok(report(&facts, &releases, &query))
}

/// The released versions among the stored version records, at the start of their release day.
fn releases(records: &[Record]) -> Vec<Release> {
    records
        .iter()
        .filter(|r| r.data["released"] == true)
        .filter_map(|r| {
            let day =
                NaiveDate::parse_from_str(r.data["releaseDate"].as_str()?, "%Y-%m-%d").ok()?;
            Some(Release {
                name: r.data["name"].as_str().unwrap_or_default().to_string(),
                released_ms: day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(),
            })
        })
        .collect()
}
