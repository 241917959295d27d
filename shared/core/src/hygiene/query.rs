//! The hygiene report of what the store holds for one integration: the tickets the filter
//! selects (hidden, removed and deleted issues left out), evaluated at a given time.

use super::criteria::{self, Catalog, CriteriaError, Criterion};
use super::facts::IssueFacts;
use super::rules::Settings;
use super::score::{CustomTally, Report, Weights, report};
use crate::jira::models::FieldDetails;
use crate::store::{IssueStore, RecordKind, RecordStore, StoreError};
use crate::sync::Excluded;
use crate::sync::plan::{FieldMap, resolve_fields};

/// Which tickets a report covers; empty lists select everything. Names compare without case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub projects: Vec<String>,
    pub issue_types: Vec<String>,
}

impl Filter {
    fn selects(&self, facts: &IssueFacts) -> bool {
        let any = |wanted: &[String], value: Option<&str>| {
            wanted.is_empty()
                || value.is_some_and(|v| wanted.iter().any(|w| w.eq_ignore_ascii_case(v)))
        };
        any(&self.projects[..], Some(facts.project.as_str()))
            && any(&self.issue_types[..], facts.issue_type.as_deref())
    }
}

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
}

#[derive(Debug, thiserror::Error)]
pub enum HygieneError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Criteria(#[from] CriteriaError),
}

/// Issues read per store call.
const PAGE: usize = 500;

/// Reads every stored issue of the integration once and reports on those the filter selects.
pub async fn report_from_store<S>(
    store: &S,
    integration: &str,
    req: &Request<'_>,
) -> Result<Report, HygieneError>
where
    S: IssueStore + RecordStore + ?Sized,
{
    let (site_fields, map) = site_fields(store, integration, req.custom_fields).await?;
    let catalog = Catalog::new(&site_fields, &map);
    criteria::validate(req.criteria, &catalog)?;
    let mut tickets = Vec::new();
    let mut custom: Vec<CustomTally> = req
        .criteria
        .iter()
        .map(|c| CustomTally {
            name: c.name.trim().to_string(),
            misses: 0,
        })
        .collect();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_issues(integration, after.as_deref(), PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for issue in page.iter().filter(|i| i.counts()) {
            let facts = IssueFacts::of(issue, map.sprint.as_deref());
            if !req.filter.selects(&facts) {
                continue;
            }
            for (tally, criterion) in custom.iter_mut().zip(req.criteria) {
                if criteria::matches(criterion, issue, &catalog) {
                    tally.misses += 1;
                }
            }
            tickets.push(facts);
        }
    }
    Ok(report(
        &tickets,
        &custom,
        &req.settings,
        &req.weights,
        &req.excluded,
        req.at_ms,
    ))
}

/// The site's fields as the sync stored them, and what they resolve to: the sprint, story
/// points and epic link fields and the mapped custom fields (those the site no longer has are
/// left out).
async fn site_fields<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
    custom_fields: &[String],
) -> Result<(Vec<FieldDetails>, FieldMap), StoreError> {
    let fields: Vec<FieldDetails> = store
        .list_records(integration, RecordKind::Field)
        .await?
        .into_iter()
        .filter_map(|r| serde_json::from_value(r.data).ok())
        .collect();
    let map = resolve_fields(&fields, custom_fields)
        .or_else(|_| resolve_fields(&fields, &[]))
        .unwrap_or_default();
    Ok((fields, map))
}
