//! The values the stored tickets hold in each filter dimension, and the values a filter names that
//! none holds: a typo ("Bugs") or a project never synced would otherwise answer with nothing and
//! say nothing.

use std::collections::BTreeMap;

use serde::Serialize;

use super::filter::{Cell, Filter};
use super::snapshot::Snapshot;

/// At most this many of the values the tickets do hold are named beside an unseen one.
const KNOWN_NAMED: usize = 12;

/// Per dimension, the values seen (lowercased → as first seen).
#[derive(Clone, Debug, Default)]
pub struct Seen {
    dimensions: [BTreeMap<String, String>; 5],
}

/// A value a filter names that no stored ticket holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unseen {
    /// Where the value was given: a parameter (the CLI's flag with `-` for `_`), or a place in a
    /// profile (`incidents.sets[0].conditions[1].values`).
    pub parameter: String,
    pub value: String,
    /// What people read: the value, and some of those the tickets hold.
    pub message: String,
}

/// What a ticket holds one value of, in the order [`Seen`] keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    Project,
    IssueType,
    Priority,
    Status,
    StatusCategory,
}

const DIMENSIONS: [Dimension; 5] = [
    Dimension::Project,
    Dimension::IssueType,
    Dimension::Priority,
    Dimension::Status,
    Dimension::StatusCategory,
];

/// The filter's parameter for each dimension, in the same order.
const PARAMETERS: [&str; 5] = [
    "projects",
    "issue_types",
    "priorities",
    "statuses",
    "status_categories",
];

fn values(cell: &Cell) -> [&str; 5] {
    [
        &cell.project,
        &cell.issue_type,
        &cell.priority,
        &cell.status,
        &cell.status_category,
    ]
}

fn wanted(filter: &Filter) -> [&[String]; 5] {
    [
        &filter.projects,
        &filter.issue_types,
        &filter.priorities,
        &filter.statuses,
        &filter.status_categories,
    ]
}

impl Seen {
    /// The values of every cell.
    pub fn of<'c>(cells: impl IntoIterator<Item = &'c Cell>) -> Seen {
        let mut seen = Seen::default();
        for cell in cells {
            seen.add(cell);
        }
        seen
    }

    /// The values of every cell of the snapshots (what a trend can filter on).
    pub fn of_snapshots(snapshots: &[Snapshot]) -> Seen {
        Seen::of(
            snapshots
                .iter()
                .flat_map(|s| s.cells.iter().map(|(cell, _)| cell)),
        )
    }

    pub fn add(&mut self, cell: &Cell) {
        for (known, value) in self.dimensions.iter_mut().zip(values(cell)) {
            if !value.is_empty() {
                known
                    .entry(value.to_lowercase())
                    .or_insert_with(|| value.to_string());
            }
        }
    }

    /// Whether `filter` names any value that could be one no ticket holds.
    pub fn needed_for(filter: &Filter) -> bool {
        wanted(filter).iter().any(|asked| !asked.is_empty())
    }

    /// The values `filter` names that no ticket holds (compared in any case, as the filter
    /// compares them); none when no ticket is stored at all (there is nothing to compare with).
    pub fn unseen(&self, filter: &Filter) -> Vec<Unseen> {
        let mut unseen = Vec::new();
        for ((dimension, asked), parameter) in
            DIMENSIONS.into_iter().zip(wanted(filter)).zip(PARAMETERS)
        {
            for value in asked {
                unseen.extend(self.check(dimension, value, parameter));
            }
        }
        unseen
    }

    /// `value` of `dimension`, given at `place`, when no ticket holds it; None when one does, or
    /// when no ticket is stored at all.
    pub fn check(&self, dimension: Dimension, value: &str, place: &str) -> Option<Unseen> {
        let known = &self.dimensions[dimension as usize];
        let value = value.trim();
        if self.dimensions.iter().all(BTreeMap::is_empty)
            || known.contains_key(&value.to_lowercase())
        {
            return None;
        }
        let mut named: Vec<&str> = known
            .values()
            .take(KNOWN_NAMED)
            .map(String::as_str)
            .collect();
        if known.len() > KNOWN_NAMED {
            named.push("…");
        }
        Some(Unseen {
            parameter: place.to_string(),
            value: value.to_string(),
            message: format!(
                "no stored ticket has '{value}' (they have: {})",
                named.join(", ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(project: &str, issue_type: &str) -> Cell {
        Cell {
            project: project.into(),
            issue_type: issue_type.into(),
            priority: "High".into(),
            status: "To Do".into(),
            status_category: "To Do".into(),
            active_sprint: false,
        }
    }

    #[test]
    fn values_no_ticket_holds_are_named_with_those_held() {
        let seen = Seen::of(&[cell("OPS", "Bug"), cell("WEB", "Story")]);
        let filter = Filter {
            projects: vec!["ops".into(), "NOPE".into()],
            issue_types: vec!["Bugs".into()],
            ..Filter::default()
        };
        let unseen = seen.unseen(&filter);
        assert_eq!(
            unseen
                .iter()
                .map(|u| (u.parameter.as_str(), u.value.as_str()))
                .collect::<Vec<_>>(),
            [("projects", "NOPE"), ("issue_types", "Bugs")]
        );
        assert_eq!(
            unseen[1].message,
            "no stored ticket has 'Bugs' (they have: Bug, Story)"
        );
    }

    #[test]
    fn nothing_is_unseen_without_tickets_or_without_a_filter() {
        let filter = Filter {
            projects: vec!["NOPE".into()],
            ..Filter::default()
        };
        assert!(Seen::default().unseen(&filter).is_empty());
        assert!(
            Seen::of(&[cell("OPS", "Bug")])
                .unseen(&Filter::default())
                .is_empty()
        );
    }
}
