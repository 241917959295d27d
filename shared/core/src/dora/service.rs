//! One integration's DORA operations over the store: a report of a kept profile (from its
//! members when their classification is current, otherwise by reading every issue, and saying
//! so), a report of a profile given by hand (the CLI's `--profile FILE`), and changes to the
//! kept profiles, each checked whole and kept only over the version it was made from.

use std::collections::HashSet;

use chrono::NaiveDate;

use super::config::{DoraConfig, ProfileChangeError};
use super::facts::{DoraFacts, done_statuses};
use super::index::Classifier;
use super::metrics::{DoraReport, Query, Release, report};
use super::profile::{DoraProfile, ProfileError};
use super::request::{Document, ReportDays, THRESHOLDS};
use crate::hygiene::catalog_of;
use crate::hygiene::criteria::Catalog;
use crate::hygiene::seen::{Seen, Unseen};
use crate::ports::{EventPublisher, IntegrationRef, SyncEvent};
use crate::store::{
    DoraStore, HygieneIndexStore, IntegrationRecord, IssueStore, OverReadLimit, ProjectStore,
    ReadLimit, Record, RecordKind, RecordStore, StoreError, each_counted_issue_within,
};

/// Issues read from the store at a time.
const PAGE: usize = 1_000;
/// How often a change is made again over a newer version before giving up.
const CHANGE_ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum DoraError {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error("no DORA profile with id '{0}'")]
    NoProfile(String),
    #[error("from: must be before to")]
    EmptyRange,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The profile's members are being classified again, and counting from the issues meanwhile
    /// would read more than the request's [`ReadLimit`]: try again once they are.
    #[error(
        "the profile is being classified, and this integration holds more than {0} tickets to count without it; try again shortly"
    )]
    Classifying(usize),
}

impl From<OverReadLimit> for DoraError {
    fn from(over: OverReadLimit) -> Self {
        DoraError::Classifying(over.0)
    }
}

/// The documents of every kept profile over the request's days, in the order they were kept.
pub async fn reports_of_kept<S: DoraStore + IssueStore + RecordStore + ProjectStore + ?Sized>(
    store: &S,
    record: &IntegrationRecord,
    request: &ReportDays,
    read_limit: ReadLimit,
) -> Result<Vec<Document>, DoraError> {
    let mut documents = Vec::new();
    for kept in store
        .get_dora_config(&record.id)
        .await?
        .unwrap_or_default()
        .profiles
    {
        documents.push(report_of_kept(store, record, &kept.id, request, read_limit).await?);
    }
    Ok(documents)
}

/// The document of the kept profile `profile_id` over the request's days: from the profile's
/// members when their classification is current, otherwise counted from every issue (and
/// marked `recomputing`) — refused when they are more than `read_limit`.
pub async fn report_of_kept<S: DoraStore + IssueStore + RecordStore + ProjectStore + ?Sized>(
    store: &S,
    record: &IntegrationRecord,
    profile_id: &str,
    request: &ReportDays,
    read_limit: ReadLimit,
) -> Result<Document, DoraError> {
    let config = store.get_dora_config(&record.id).await?.unwrap_or_default();
    let profile = config
        .get(profile_id)
        .ok_or_else(|| DoraError::NoProfile(profile_id.to_string()))?;
    let query = request.query(profile.failure_window_hours);
    check_range(&query)?;
    let (catalog, done) = site_of(store, &record.id, &record.custom_fields, profile).await?;
    let classifier = Classifier::new(profile_id, profile, &record.custom_fields, &done);
    let heads = store.get_dora_heads(&record.id).await?.unwrap_or_default();
    let current = heads
        .profiles
        .get(profile_id)
        .is_some_and(|h| h.is_current(&classifier.basis));
    let facts = match current {
        true => store.list_dora_members(&record.id, profile_id).await?,
        false => every_member(store, &record.id, &classifier, &catalog, read_limit).await??,
    };
    Ok(Document {
        profile: profile.name.trim().to_string(),
        profile_id: Some(profile_id.to_string()),
        request: *request,
        recomputing: !current,
        metrics: finish(store, &record.id, profile, &facts, &query).await?,
        thresholds: THRESHOLDS,
    })
}

/// The report of `profile` over `query`'s range, reading every issue.
pub async fn report_from_store<S: IssueStore + RecordStore + ProjectStore + ?Sized>(
    store: &S,
    integration: &str,
    custom_fields: &[String],
    profile: &DoraProfile,
    query: &Query,
) -> Result<DoraReport, DoraError> {
    check_range(query)?;
    let (catalog, done) = site_of(store, integration, custom_fields, profile).await?;
    let classifier = Classifier::new("", profile, custom_fields, &done);
    let facts = every_member(store, integration, &classifier, &catalog, ReadLimit::Every).await??;
    finish(store, integration, profile, &facts, query).await
}

fn check_range(query: &Query) -> Result<(), DoraError> {
    match query.from_ms < query.to_ms {
        true => Ok(()),
        false => Err(DoraError::EmptyRange),
    }
}

/// The site's fields (the profile checked against them) and its Done statuses.
async fn site_of<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
    custom_fields: &[String],
    profile: &DoraProfile,
) -> Result<(Catalog, Vec<String>), DoraError> {
    let catalog = catalog_of(store, integration, custom_fields).await?;
    profile.validate(&catalog)?;
    let done = done_statuses(&store.list_records(integration, RecordKind::Status).await?);
    Ok((catalog, done))
}

async fn every_member<S: IssueStore + ?Sized>(
    store: &S,
    integration: &str,
    classifier: &Classifier,
    catalog: &Catalog,
    limit: ReadLimit,
) -> Result<Result<Vec<DoraFacts>, OverReadLimit>, StoreError> {
    let mut facts = Vec::new();
    let read = each_counted_issue_within(store, integration, limit, PAGE, |issue| {
        facts.extend(classifier.member(issue, catalog));
    })
    .await?;
    Ok(read.map(|()| facts))
}

async fn finish<S: RecordStore + ProjectStore + ?Sized>(
    store: &S,
    integration: &str,
    profile: &DoraProfile,
    facts: &[DoraFacts],
    query: &Query,
) -> Result<DoraReport, DoraError> {
    let (versions, projects) = tokio::try_join!(
        store.list_records(integration, RecordKind::Version),
        store.list_projects(integration),
    )?;
    let in_scope: HashSet<String> = projects.into_iter().map(|p| p.id).collect();
    let releases = releases(&versions, &in_scope);
    let query = Query {
        failure_window_hours: profile.failure_window_hours,
        ..*query
    };
    Ok(report(facts, &releases, &query))
}

/// The released versions among the stored version records, at the start of their release day;
/// not those of a project the scope no longer takes in (`in_scope`: the onboarded projects'
/// ids). A version copied from an issue does not name its project, and counts.
fn releases(records: &[Record], in_scope: &HashSet<String>) -> Vec<Release> {
    let project_of = |r: &Record| match &r.data["projectId"] {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s.clone()),
        _ => None,
    };
    records
        .iter()
        .filter(|r| project_of(r).is_none_or(|p| in_scope.contains(&p)))
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

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    Profile(#[from] ProfileChangeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the DORA profiles kept changing under this change; try again")]
    Contended,
}

/// Applies `change` to the integration's profiles and keeps the result, unless another change
/// was kept in between: then it is made again over that one. A refused change keeps nothing.
pub async fn change_profiles<S, T>(
    store: &S,
    record: &IntegrationRecord,
    mut change: impl FnMut(&mut DoraConfig, &Catalog) -> Result<T, ProfileChangeError>,
) -> Result<(T, DoraConfig), ChangeError>
where
    S: DoraStore + RecordStore + ?Sized,
{
    let catalog = catalog_of(store, &record.id, &record.custom_fields).await?;
    for _ in 0..CHANGE_ATTEMPTS {
        let mut config = store.get_dora_config(&record.id).await?.unwrap_or_default();
        let base = config.version;
        let out = change(&mut config, &catalog)?;
        // One kept change, however many steps it took.
        config.version = base + 1;
        if store.put_dora_config(&record.id, &config).await? {
            return Ok((out, config));
        }
    }
    Err(ChangeError::Contended)
}

/// The values `profile` names that no stored ticket of the integration holds
/// ([`DoraProfile::unseen`]), from the hygiene index's cells (every ticket's project, type,
/// priority and status): one read of them, whatever the issue count.
pub async fn unseen_values<S: HygieneIndexStore + ?Sized>(
    store: &S,
    integration: &str,
    profile: &DoraProfile,
) -> Result<Vec<Unseen>, StoreError> {
    let cells = store.list_index_cells(integration).await?;
    Ok(profile.unseen(&Seen::of(cells.iter().map(|c| &c.cell))))
}

/// Asks (on the bus) for the integration's profiles to be classified again in the background.
/// Should the bus refuse, the next completed sync does it; reports are right meanwhile, only
/// slower (counted from every issue).
pub async fn request_classification(events: &dyn EventPublisher, account: &str, integration: &str) {
    let event = SyncEvent::DoraIndex(IntegrationRef {
        account_id: account.to_string(),
        integration_id: integration.to_string(),
    });
    if let Err(e) = events.publish(&event).await {
        tracing::warn!(integration, error = %e, "could not ask for the DORA profiles to be classified again");
    }
}
