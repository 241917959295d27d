//! The hygiene counts of one integration at one moment, kept per [`Cell`] so that a trend can
//! filter and weigh them later without reading a single issue. One is taken a day (the last of a
//! day replaces the earlier ones); the history build ([`super::history`]) keeps more for the
//! weeks before, counted from the changelog.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate};
use serde::{Deserialize, Serialize};

use super::filter::{Cell, Filter};
use super::score::{Counts, Report, Skip, Weights, report_of};

/// How a snapshot's counts were made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Taken {
    /// From the tickets as they were when it was taken.
    #[default]
    Snapshot,
    /// Later, from the tickets' changelogs ([`super::as_of`]).
    History,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When the counts were evaluated, epoch milliseconds.
    pub at_ms: i64,
    /// The built-in categories that could not be judged then.
    pub skipped: Vec<Skip>,
    /// The custom misses' names, in the order of every cell's `custom` counts.
    pub custom: Vec<String>,
    pub cells: Vec<(Cell, Counts)>,
    /// Snapshots kept before there was a history build have none: they were taken then.
    #[serde(default)]
    pub source: Taken,
}

impl Snapshot {
    /// The UTC day it stands for.
    pub fn day(&self) -> NaiveDate {
        DateTime::from_timestamp_millis(self.at_ms)
            .unwrap_or_default()
            .date_naive()
    }

    /// Adds `other`'s counts, cell by cell (the same instant, criteria and skips).
    pub fn add(&mut self, other: &Snapshot) {
        let mut cells: BTreeMap<Cell, Counts> =
            std::mem::take(&mut self.cells).into_iter().collect();
        for (cell, counts) in &other.cells {
            cells.entry(cell.clone()).or_default().add(counts);
        }
        self.cells = cells.into_iter().collect();
    }

    /// The report of the cells `filter` selects (its time ranges cannot apply here; callers
    /// refuse them), weighed by `weights`.
    pub fn report(&self, filter: &Filter, weights: &Weights) -> Report {
        let mut sum = Counts::default();
        for (cell, counts) in &self.cells {
            if filter.selects_cell(cell) {
                sum.add(counts);
            }
        }
        report_of(&sum, &self.custom, &self.skipped, weights, self.at_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::super::rules::Category;
    use super::*;

    fn cell(project: &str) -> Cell {
        Cell {
            project: project.into(),
            ..Cell::default()
        }
    }

    #[test]
    fn a_snapshot_reports_the_cells_a_filter_selects() {
        let mut ops = Counts {
            tickets: 10,
            custom: vec![4],
            ..Counts::default()
        };
        ops.builtin[3] = 5; // No Assignee
        let mut dev = Counts {
            tickets: 30,
            custom: vec![0],
            ..Counts::default()
        };
        dev.builtin[3] = 1;
        let snapshot = Snapshot {
            at_ms: 1_767_225_600_000,
            skipped: vec![],
            custom: vec!["Large".into()],
            cells: vec![(cell("OPS"), ops), (cell("DEV"), dev)],
            source: Taken::Snapshot,
        };
        assert_eq!(snapshot.day().to_string(), "2026-01-01");
        let all = snapshot.report(&Filter::default(), &Weights::default());
        assert_eq!(all.total_tickets, 40);
        let no_assignee = |r: &Report| {
            r.categories
                .iter()
                .find(|c| c.category == Category::NoAssignee)
                .unwrap()
                .misses
        };
        assert_eq!(no_assignee(&all), Some(6));
        let only_ops = Filter {
            projects: vec!["ops".into()],
            ..Filter::default()
        };
        let r = snapshot.report(&only_ops, &Weights::default());
        assert_eq!((r.total_tickets, no_assignee(&r)), (10, Some(5)));
        assert_eq!(r.categories.last().unwrap().misses, Some(4));
    }
}
