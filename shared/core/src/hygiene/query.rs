//! Hygiene over what the store holds for one integration: the report of the tickets a filter
//! selects (hidden, removed and deleted issues left out), the snapshot a trend is drawn from, and
//! the tickets that miss one category, a page at a time.

use std::borrow::Cow;

use chrono::NaiveDate;
use serde::Serialize;

use super::aggregate::{Aggregate, Delta, hour_floor};
use super::as_of::{Past, facts_at};
use super::criteria::{self, Catalog};
use super::facts::IssueFacts;
use super::fields_at::fields_at;
use super::filter::Cell;
use super::indexer::{basis, indexed_aggregate};
use super::request::{HygieneError, Request};
use super::rules::{Category, misses};
use super::scope::site_fields;
use super::score::{Report, skips};
use super::seen::{Seen, Unseen};
use super::snapshot::{Snapshot, Taken};
use crate::store::records::StoredIssue;
use crate::store::{
    HistoryStore, HygieneIndexStore, HygieneStore, IssueStore, RecordKind, RecordStore, StoreError,
    each_counted_issue, each_counted_issue_within,
};

/// Issues read per store call.
const PAGE: usize = 500;

fn custom_names(req: &Request<'_>) -> Vec<String> {
    req.criteria
        .iter()
        .map(|c| c.name.trim().to_string())
        .collect()
}

/// The aggregate of every ticket the request selects, read once; refused when there are more
/// issues than `req.read_limit`.
pub async fn aggregate_from_store<S>(
    store: &S,
    integration: &str,
    req: &Request<'_>,
) -> Result<Aggregate, HygieneError>
where
    S: IssueStore + RecordStore + ?Sized,
{
    Ok(aggregate_and_seen(store, integration, req).await?.0)
}

/// [`aggregate_from_store`], with the values every ticket read holds (selected or not), kept
/// only when the filter names values it could be missing.
async fn aggregate_and_seen<S>(
    store: &S,
    integration: &str,
    req: &Request<'_>,
) -> Result<(Aggregate, Seen), HygieneError>
where
    S: IssueStore + RecordStore + ?Sized,
{
    let catalog = catalog(store, integration, req).await?;
    let mut aggregate = Aggregate {
        custom: custom_names(req),
        ..Aggregate::default()
    };
    let mut seen = Seen::default();
    let track = Seen::needed_for(&req.filter);
    let sprint = catalog.sprint_field();
    let past = past_of(store, integration, req).await?;
    each_counted_issue_within(store, integration, req.read_limit, PAGE, |issue| {
        let Some(facts) = facts_of(issue, sprint, past.as_ref(), req) else {
            return;
        };
        if track {
            seen.add(&Cell::of(&facts));
        }
        if req.filter.selects(&facts) {
            let matched = custom_matched(issue, past.as_ref(), req, &catalog);
            aggregate.apply(&facts, &matched, Delta::Add);
        }
    })
    .await?
    .map_err(|over| HygieneError::over_read_limit(req, over))?;
    Ok((aggregate, seen))
}

/// What the store keeps beside the changelog, for a request evaluated as of its instant.
async fn past_of<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
    req: &Request<'_>,
) -> Result<Option<Past>, StoreError> {
    if !req.as_of {
        return Ok(None);
    }
    let (statuses, sprints, users) = tokio::try_join!(
        store.list_records(integration, RecordKind::Status),
        store.list_records(integration, RecordKind::Sprint),
        store.list_records(integration, RecordKind::User),
    )?;
    Ok(Some(Past::new(&statuses, &sprints, &users)))
}

/// The facts of `issue` the request evaluates: as it stood at the request's hour when `past` is
/// given (None for a ticket created after it), else as it is now.
fn facts_of(
    issue: &StoredIssue,
    sprint: Option<&str>,
    past: Option<&Past>,
    req: &Request<'_>,
) -> Option<IssueFacts> {
    match past {
        Some(past) => facts_at(issue, sprint, past, hour_floor(req.at_ms)),
        None => Some(IssueFacts::of(issue, sprint)),
    }
}

/// Whether `issue` misses each of the request's custom criteria: as its fields stood at the
/// request's hour when `past` is given, else as they are.
fn custom_matched(
    issue: &StoredIssue,
    past: Option<&Past>,
    req: &Request<'_>,
    catalog: &Catalog,
) -> Vec<bool> {
    if req.criteria.is_empty() {
        return Vec::new();
    }
    let read = fields_of(issue, past, req);
    req.criteria
        .iter()
        .map(|c| criteria::matches(c, &read, catalog))
        .collect()
}

/// The issue custom criteria read for the request: as its fields stood at the request's hour
/// when `past` is given, else as it is.
fn fields_of<'i>(
    issue: &'i StoredIssue,
    past: Option<&Past>,
    req: &Request<'_>,
) -> Cow<'i, StoredIssue> {
    match past {
        Some(past) => Cow::Owned(fields_at(issue, past, hour_floor(req.at_ms))),
        None => Cow::Borrowed(issue),
    }
}

/// Where a report's counts came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The kept aggregate ([`super::indexer`]): a few store reads, whatever the issue count.
    Index,
    /// The issues, read now: the filter has time ranges, or the index is not current (being
    /// built again after the criteria changed, or not built yet).
    Issues,
}

/// The kept aggregate, when it can answer this request: no time ranges, and built on the
/// request's criteria and custom-field mapping.
async fn indexed<S: HygieneIndexStore + ?Sized>(
    store: &S,
    integration: &str,
    req: &Request<'_>,
) -> Result<Option<Aggregate>, HygieneError> {
    // The index holds the tickets as they are now.
    if req.filter.has_time_ranges() || req.as_of {
        return Ok(None);
    }
    let basis = basis(req.criteria, req.custom_fields);
    Ok(indexed_aggregate(store, integration, &basis).await?)
}

/// The aggregate of the tickets the request selects, from the kept aggregate where it can
/// answer, else from the issues; with which, and the values the stored tickets hold (the kept
/// aggregate's cells are every ticket's; so are the issues read).
async fn aggregate_answered<S>(
    store: &S,
    integration: &str,
    req: &Request<'_>,
) -> Result<(Aggregate, Seen, Source), HygieneError>
where
    S: IssueStore + RecordStore + HygieneIndexStore + ?Sized,
{
    Ok(match indexed(store, integration, req).await? {
        Some(aggregate) => {
            let seen = Seen::of(aggregate.cells.keys());
            (aggregate, seen, Source::Index)
        }
        None => {
            let (aggregate, seen) = aggregate_and_seen(store, integration, req).await?;
            (aggregate, seen, Source::Issues)
        }
    })
}

/// The report `aggregate` gives for the request, evaluated at the start of the hour holding
/// `req.at_ms` (see `aggregate`).
fn report_over(aggregate: &Aggregate, req: &Request<'_>) -> Result<Report, HygieneError> {
    Ok(aggregate.report(
        &req.filter,
        &req.settings,
        &req.weights,
        &skips(&req.settings, &req.excluded),
        req.at_ms,
    )?)
}

/// A report, where its counts came from, and whether the index is being built again meanwhile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Answered {
    #[serde(flatten)]
    pub report: Report,
    pub counted_from: Source,
    /// Counted from the issues although the filter would let the index answer: the index is
    /// being built again (the criteria changed) or not built yet.
    pub recomputing: bool,
    /// The filter's values no stored ticket holds (a typo, a project never synced).
    pub warnings: Vec<Unseen>,
}

/// The report of the tickets the filter selects, from the kept aggregate where it can answer,
/// else from the issues; says which.
pub async fn report_answered<S>(
    store: &S,
    integration: &str,
    req: &Request<'_>,
) -> Result<Answered, HygieneError>
where
    S: IssueStore + RecordStore + HygieneIndexStore + ?Sized,
{
    let (aggregate, seen, source) = aggregate_answered(store, integration, req).await?;
    Ok(Answered {
        report: report_over(&aggregate, req)?,
        counted_from: source,
        recomputing: source == Source::Issues && !req.filter.has_time_ranges() && !req.as_of,
        warnings: seen.unseen(&req.filter),
    })
}

/// The report of the tickets the filter selects, from the issues themselves.
pub async fn report_from_store<S>(
    store: &S,
    integration: &str,
    req: &Request<'_>,
) -> Result<Report, HygieneError>
where
    S: IssueStore + RecordStore + ?Sized,
{
    report_over(&aggregate_from_store(store, integration, req).await?, req)
}

/// The counts of every ticket per cell at the start of the hour holding `req.at_ms` (the
/// request's filter should select everything: a trend filters later), from the kept aggregate
/// where it can answer.
pub async fn snapshot_from_store<S>(
    store: &S,
    integration: &str,
    req: &Request<'_>,
) -> Result<Snapshot, HygieneError>
where
    S: IssueStore + RecordStore + HygieneIndexStore + ?Sized,
{
    let (aggregate, _, _) = aggregate_answered(store, integration, req).await?;
    Ok(Snapshot {
        at_ms: hour_floor(req.at_ms),
        skipped: skips(&req.settings, &req.excluded),
        cells: aggregate.counts_per_cell(&req.settings, req.at_ms)?,
        custom: aggregate.custom,
        source: Taken::Snapshot,
    })
}

/// The daily snapshots and the history points kept for the days from `from` to `to`: what a
/// trend is drawn from ([`super::trend`] prefers the snapshots).
pub async fn kept_snapshots<S: HygieneStore + HistoryStore + ?Sized>(
    store: &S,
    integration: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Snapshot>, StoreError> {
    let (mut snapshots, history) = tokio::try_join!(
        store.list_snapshots(integration, from, to),
        store.list_history_points(integration, from, to),
    )?;
    snapshots.extend(history);
    Ok(snapshots)
}

/// A category whose tickets are listed: a built-in one, or a custom miss by name.
#[derive(Clone, Debug, PartialEq)]
pub enum Which {
    Builtin(Category),
    Custom(String),
}

impl Which {
    /// The category `name` names: a built-in one by its title or snake name, else a custom miss.
    pub fn named(name: &str) -> Which {
        match Category::named(name) {
            Some(category) => Which::Builtin(category),
            None => Which::Custom(name.to_string()),
        }
    }
}

/// A ticket that misses the category.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Missed {
    pub id: String,
    pub key: String,
    pub project: String,
}

/// One page of the tickets that miss a category, in issue id order; `next` resumes after it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MissPage {
    pub tickets: Vec<Missed>,
    pub next: Option<String>,
}

/// Up to `limit` tickets after the issue id `after` that the filter selects and that miss `which`
/// at the start of the hour holding `req.at_ms`, as the report counts them. At most
/// `scan_budget` stored issues are read for one page (a request must answer in time): a page
/// may then hold fewer tickets, even none, with `next` to go on from.
pub async fn misses_from_store<S>(
    store: &S,
    integration: &str,
    req: &Request<'_>,
    which: &Which,
    after: Option<&str>,
    limit: usize,
    scan_budget: usize,
) -> Result<MissPage, HygieneError>
where
    S: IssueStore + RecordStore + ?Sized,
{
    let catalog = catalog(store, integration, req).await?;
    let custom = match which {
        Which::Builtin(category) => {
            if let Some(reason) = req.settings.skipped(*category, &req.excluded) {
                return Err(HygieneError::Skipped {
                    category: category.title().into(),
                    reason: reason.into(),
                });
            }
            None
        }
        Which::Custom(name) => Some(
            req.criteria
                .iter()
                .find(|c| c.name.trim().eq_ignore_ascii_case(name.trim()))
                .ok_or_else(|| HygieneError::UnknownCustom(name.clone()))?,
        ),
    };
    let mut tickets: Vec<Missed> = Vec::new();
    let (limit, scan_budget) = (limit.max(1), scan_budget.max(1));
    // The last issue read and settled, which the next page goes on after.
    let mut settled: Option<String> = None;
    let mut scanned = 0;
    let mut more = false;
    let sprint = catalog.sprint_field();
    let past = past_of(store, integration, req).await?;
    each_counted_issue(store, integration, after, PAGE, |issue| {
        if scanned == scan_budget {
            more = true;
            return false;
        }
        let facts = facts_of(issue, sprint, past.as_ref(), req);
        let missed = facts.as_ref().is_some_and(|f| req.filter.selects(f))
            && match (which, custom) {
                (_, Some(criterion)) => {
                    criteria::matches(criterion, &fields_of(issue, past.as_ref(), req), &catalog)
                }
                (Which::Builtin(category), None) => facts
                    .as_ref()
                    .is_some_and(|f| misses(*category, f, &req.settings, hour_floor(req.at_ms))),
                (Which::Custom(_), None) => false,
            };
        if missed && tickets.len() == limit {
            more = true;
            return false;
        }
        if missed {
            tickets.push(Missed {
                id: issue.id.clone(),
                key: issue.key.clone(),
                project: issue.project_key.clone(),
            });
        }
        scanned += 1;
        settled = Some(issue.id.clone());
        true
    })
    .await?;
    Ok(MissPage {
        tickets,
        next: settled.filter(|_| more),
    })
}

/// The fields the request's criteria may name, after checking the criteria against them.
async fn catalog<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
    req: &Request<'_>,
) -> Result<Catalog, HygieneError> {
    let (site_fields, map) = site_fields(store, integration, req.custom_fields).await?;
    let catalog = Catalog::new(&site_fields, &map);
    criteria::validate(req.criteria, &catalog)?;
    Ok(catalog)
}
