//! The hygiene report of what the store holds for one integration: the tickets the filter
//! selects (hidden, removed and deleted issues left out), evaluated at a given time.

use std::collections::HashSet;

use super::facts::IssueFacts;
use super::rules::Settings;
use super::score::{Report, Weights, report};
use crate::jira::models::FieldDetails;
use crate::store::{IssueStore, RecordKind, RecordStore, StoreResult};
use crate::sync::Excluded;
use crate::sync::plan::resolve_fields;

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

/// Issues read per store call.
const PAGE: usize = 500;

/// Reads every stored issue of the integration once and reports on those the filter selects.
pub async fn report_from_store<S>(
    store: &S,
    integration: &str,
    filter: &Filter,
    settings: &Settings,
    weights: &Weights,
    excluded: &Excluded,
    at_ms: i64,
) -> StoreResult<Report>
where
    S: IssueStore + RecordStore + ?Sized,
{
    let sprint_field = sprint_field(store, integration).await?;
    let mut tickets = Vec::new();
    let mut seen = HashSet::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_issues(integration, after.as_deref(), PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for issue in page.iter().filter(|i| i.counts()) {
            let facts = IssueFacts::of(issue, sprint_field.as_deref());
            if filter.selects(&facts) && seen.insert(issue.id.clone()) {
                tickets.push(facts);
            }
        }
    }
    Ok(report(&tickets, settings, weights, excluded, at_ms))
}

/// The site's sprint field, from the fields the sync stored.
async fn sprint_field<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
) -> StoreResult<Option<String>> {
    let fields: Vec<FieldDetails> = store
        .list_records(integration, RecordKind::Field)
        .await?
        .into_iter()
        .filter_map(|r| serde_json::from_value(r.data).ok())
        .collect();
    Ok(resolve_fields(&fields, &[]).ok().and_then(|m| m.sprint))
}
