//! What DORA needs of one stored issue under a profile: whether it is an incident or a change
//! request, when it was created, when an incident was restored (for good) and when a change
//! was first deployed, and which issues its links of the "causes" family name. Plain data, so
//! the metrics never touch Jira's JSON.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::profile::DoraProfile;
use crate::hygiene::criteria::Catalog;
use crate::jira::time;
use crate::store::records::{Record, StoredIssue};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DoraFacts {
    pub id: String,
    pub key: String,
    pub project: String,
    pub created_ms: Option<i64>,
    pub incident: bool,
    pub change: bool,
    /// An incident in a restored status now: when it last entered one (after its last reopening).
    pub restored_ms: Option<i64>,
    /// A change request: the first time it reached a deployed status.
    pub deployed_ms: Option<i64>,
    /// Issue ids this issue's links say caused it, and that it caused.
    pub caused_by: Vec<String>,
    pub causes: Vec<String>,
}

/// The status names (any case) that mean restored and deployed under a profile.
#[derive(Clone, Debug, Default)]
pub struct Statuses {
    restored: HashSet<String>,
    deployed: HashSet<String>,
    /// Whether each list is the default (the Done category), so that an issue's own current
    /// status category also counts.
    restored_by_category: bool,
    deployed_by_category: bool,
}

impl Statuses {
    /// `done`: the site's statuses of the Done category (see [`done_statuses`]), for the sides
    /// the profile leaves empty.
    pub fn new(profile: &DoraProfile, done: &[String]) -> Statuses {
        let set = |names: &[String]| -> HashSet<String> {
            let names = if names.is_empty() { done } else { names };
            names.iter().map(|n| n.trim().to_lowercase()).collect()
        };
        Statuses {
            restored: set(&profile.restored_statuses),
            deployed: set(&profile.deployed_statuses),
            restored_by_category: profile.restored_statuses.is_empty(),
            deployed_by_category: profile.deployed_statuses.is_empty(),
        }
    }
}

/// The names of the site's statuses in the Done category, from the stored status records.
pub fn done_statuses(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r.data["statusCategory"]["key"] == "done")
        .filter_map(|r| r.data["name"].as_str().map(str::to_string))
        .collect()
}

impl DoraFacts {
    pub fn of(
        issue: &StoredIssue,
        profile: &DoraProfile,
        catalog: &Catalog,
        statuses: &Statuses,
    ) -> DoraFacts {
        let f = &issue.fields;
        let incident = profile.incidents.matches(issue, catalog);
        let change = profile.changes.matches(issue, catalog);
        let created_ms = instant(f.get("created"));
        let resolved_ms = instant(f.get("resolutiondate"));
        let (caused_by, causes) = cause_links(f.get("issuelinks"));
        let transitions = status_transitions(issue);
        let status = f.get("status");
        let now_in = |set: &HashSet<String>, by_category: bool| {
            let name = status
                .and_then(|s| s["name"].as_str())
                .map(str::to_lowercase);
            name.is_some_and(|n| set.contains(&n))
                || (by_category && status.is_some_and(|s| s["statusCategory"]["key"] == "done"))
        };
        let restored_ms = (incident && now_in(&statuses.restored, statuses.restored_by_category))
            .then(|| {
                // The first entry into a restored status after the last time it left one.
                let mut since = None;
                for (at, to) in &transitions {
                    match statuses.restored.contains(to) {
                        true => since = since.or(Some(*at)),
                        false => since = None,
                    }
                }
                since.or(resolved_ms).or(created_ms)
            })
            .flatten();
        let deployed_ms = change
            .then(|| {
                transitions
                    .iter()
                    .find(|(_, to)| statuses.deployed.contains(to))
                    .map(|(at, _)| *at)
                    .or_else(|| {
                        now_in(&statuses.deployed, statuses.deployed_by_category)
                            .then_some(resolved_ms.or(created_ms))
                            .flatten()
                    })
            })
            .flatten();
        DoraFacts {
            id: issue.id.clone(),
            key: issue.key.clone(),
            project: issue.project_key.clone(),
            created_ms,
            incident,
            change,
            restored_ms,
            deployed_ms,
            caused_by,
            causes,
        }
    }
}

fn instant(value: Option<&Value>) -> Option<i64> {
    value
        .and_then(Value::as_str)
        .and_then(time::parse)
        .map(|t| t.timestamp_millis())
}

/// Every change of status, oldest first: when, and to which status (lowercase).
fn status_transitions(issue: &StoredIssue) -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = issue
        .changelog
        .iter()
        .filter_map(|h| {
            let at = time::parse(&h.created)?.timestamp_millis();
            let to = h
                .items
                .iter()
                .find(|i| i.field_id.as_deref() == Some("status") || i.field == "status")?
                .to_string
                .as_deref()?
                .to_lowercase();
            Some((at, to))
        })
        .collect();
    out.sort_by_key(|(at, _)| *at);
    out
}

/// The ids of the issues this one's links of the "causes" family name: those that caused it
/// (`X is caused by Y`: Y is the link's inward issue) and those it caused.
fn cause_links(links: Option<&Value>) -> (Vec<String>, Vec<String>) {
    let (mut caused_by, mut causes) = (Vec::new(), Vec::new());
    for link in links.and_then(Value::as_array).into_iter().flatten() {
        let kind = &link["type"];
        let of_family = ["name", "inward", "outward"].iter().any(|k| {
            kind[*k]
                .as_str()
                .is_some_and(|t| t.to_lowercase().contains("cause"))
        });
        if !of_family {
            continue;
        }
        if let Some(id) = link["inwardIssue"]["id"].as_str() {
            caused_by.push(id.to_string());
        }
        if let Some(id) = link["outwardIssue"]["id"].as_str() {
            causes.push(id.to_string());
        }
    }
    (caused_by, causes)
}
