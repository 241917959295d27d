//! The kept aggregate's data, and how a batch of changed issues moves it on — pure; the
//! [`super::indexer`] reads and writes it through the store.
//!
//! A batch is first written into the head as a journal (each issue's contribution before and
//! after), then applied to the cells it touches, each cell recording the journal's sequence
//! number. A batch cut short is applied again from the journal: a cell already at that number
//! is left as it is, so nothing is counted twice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::aggregate::{Aggregate, Delta, Tallies};
use super::facts::IssueFacts;
use super::filter::Cell;

/// What one issue adds to the aggregate: its facts and which custom misses it matched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub facts: IssueFacts,
    pub custom: Vec<bool>,
}

impl Contribution {
    pub fn cell(&self) -> Cell {
        Cell::of(&self.facts)
    }
}

/// One cell's tallies, and the last batch applied to them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexedCell {
    pub cell: Cell,
    pub tallies: Tallies,
    pub seq: u64,
}

/// One issue re-evaluated: None where it did not count (not stored, hidden, removed, deleted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub id: String,
    pub old: Option<Contribution>,
    pub new: Option<Contribution>,
}

/// A write's mark on an issue: the issue id and a stamp unique to that write.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChangeMark {
    pub id: String,
    pub stamp: String,
}

impl ChangeMark {
    /// A mark for a write of `id` now: the time in nanoseconds and a process-wide counter, so
    /// two writes never share a stamp.
    pub fn new(id: &str) -> ChangeMark {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        ChangeMark {
            id: id.to_string(),
            stamp: format!("{nanos:032x}{n:016x}"),
        }
    }
}

/// A batch on its way into the cells.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub seq: u64,
    pub changes: Vec<Change>,
    /// The marks the batch answers, cleared once it is applied.
    pub marks: Vec<ChangeMark>,
    /// In a build: the issue id the build goes on after once the batch is applied.
    pub build_after: Option<String>,
}

impl Journal {
    /// The cells the batch takes issues out of or puts issues into.
    pub fn cells(&self) -> BTreeSet<Cell> {
        self.changes
            .iter()
            .flat_map(|c| [c.old.as_ref(), c.new.as_ref()])
            .flatten()
            .map(Contribution::cell)
            .collect()
    }
}

/// Where an integration's kept aggregate stands.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexHead {
    /// What the custom counts were evaluated against (the criteria and the custom-field
    /// mapping); another basis means the index must be built again.
    pub basis: String,
    /// The custom misses' names, in the order of every cell's custom counts.
    pub custom: Vec<String>,
    /// The last batch applied.
    pub seq: u64,
    /// Set while the index is built from every stored issue.
    pub build: Option<Build>,
    /// A batch written but perhaps not applied everywhere yet.
    pub journal: Option<Journal>,
}

/// A build in progress: it resumes after this issue id (from the start when None).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Build {
    pub after: Option<String>,
}

impl IndexHead {
    /// Whether reports can be answered from the cells: built, on `basis`, no batch half done.
    pub fn is_current(&self, basis: &str) -> bool {
        self.basis == basis && self.build.is_none() && self.journal.is_none()
    }
}

/// Applies `journal` to the cells it touches that are still before it (`cells` holds at least
/// those kept of [`Journal::cells`]), and answers the cells changed (to be written back).
pub fn apply_journal(cells: &mut BTreeMap<Cell, IndexedCell>, journal: &Journal) -> Vec<Cell> {
    let due: BTreeSet<Cell> = journal
        .cells()
        .into_iter()
        .filter(|cell| cells.get(cell).is_none_or(|c| c.seq < journal.seq))
        .collect();
    for change in &journal.changes {
        for (contribution, delta) in [(&change.old, Delta::Remove), (&change.new, Delta::Add)] {
            let Some(contribution) = contribution else {
                continue;
            };
            let cell = contribution.cell();
            if due.contains(&cell) {
                let entry = cells.entry(cell.clone()).or_insert_with(|| IndexedCell {
                    cell,
                    ..IndexedCell::default()
                });
                entry
                    .tallies
                    .apply(&contribution.facts, &contribution.custom, delta);
            }
        }
    }
    for cell in &due {
        if let Some(c) = cells.get_mut(cell) {
            c.seq = journal.seq;
        }
    }
    due.into_iter().collect()
}

/// The aggregate the cells hold (cells left empty by removals are not reported).
pub fn aggregate_of(head: &IndexHead, cells: impl IntoIterator<Item = IndexedCell>) -> Aggregate {
    Aggregate {
        custom: head.custom.clone(),
        cells: cells
            .into_iter()
            .filter(|c| c.tallies.tickets > 0)
            .map(|c| (c.cell, c.tallies))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(project: &str, updated_ms: i64) -> IssueFacts {
        IssueFacts {
            project: project.into(),
            updated_ms,
            created_ms: Some(0),
            ..IssueFacts::default()
        }
    }

    fn contribution(project: &str, updated_ms: i64) -> Option<Contribution> {
        Some(Contribution {
            facts: facts(project, updated_ms),
            custom: vec![],
        })
    }

    fn journal(seq: u64, changes: Vec<Change>) -> Journal {
        Journal {
            seq,
            changes,
            marks: vec![],
            build_after: None,
        }
    }

    fn change(id: &str, old: Option<Contribution>, new: Option<Contribution>) -> Change {
        Change {
            id: id.into(),
            old,
            new,
        }
    }

    /// The aggregate built by adding every final contribution from nothing.
    fn from_scratch(all: &[Option<Contribution>]) -> Aggregate {
        let mut a = Aggregate::default();
        for c in all.iter().flatten() {
            a.apply(&c.facts, &c.custom, Delta::Add);
        }
        a
    }

    #[test]
    fn given_batches_when_applied_then_cells_equal_a_build_from_scratch() {
        // GIVEN two issues added, then one moved to another project and one removed
        let mut cells = BTreeMap::new();
        apply_journal(
            &mut cells,
            &journal(
                1,
                vec![
                    change("1", None, contribution("A", 10)),
                    change("2", None, contribution("A", 20)),
                ],
            ),
        );
        // WHEN
        let changed = apply_journal(
            &mut cells,
            &journal(
                2,
                vec![
                    change("1", contribution("A", 10), contribution("B", 30)),
                    change("2", contribution("A", 20), None),
                ],
            ),
        );
        // THEN
        assert_eq!(changed.len(), 2);
        let head = IndexHead::default();
        assert_eq!(
            aggregate_of(&head, cells.into_values()),
            from_scratch(&[contribution("B", 30)])
        );
    }

    #[test]
    fn given_a_batch_applied_when_applied_again_then_nothing_counts_twice() {
        // GIVEN a batch applied to its cells (a run stopped before clearing the journal)
        let mut cells = BTreeMap::new();
        let batch = journal(1, vec![change("1", None, contribution("A", 10))]);
        apply_journal(&mut cells, &batch);
        // WHEN the next run applies the journal again
        let changed = apply_journal(&mut cells, &batch);
        // THEN no cell is due, and the ticket is counted once
        assert!(changed.is_empty());
        assert_eq!(cells.values().map(|c| c.tallies.tickets).sum::<u64>(), 1);
    }

    #[test]
    fn given_a_batch_half_applied_when_applied_again_then_only_the_rest_changes() {
        // GIVEN a move from A to B where only A's cell was written before the run stopped
        let mut cells = BTreeMap::new();
        apply_journal(
            &mut cells,
            &journal(1, vec![change("1", None, contribution("A", 10))]),
        );
        let batch = journal(
            2,
            vec![change("1", contribution("A", 10), contribution("B", 10))],
        );
        let mut written = cells.clone();
        apply_journal(&mut written, &batch);
        let a = Cell::of(&facts("A", 0));
        cells.insert(a.clone(), written[&a].clone());
        // WHEN
        let changed = apply_journal(&mut cells, &batch);
        // THEN only B's cell was due, and the result is the whole move
        assert_eq!(changed, vec![Cell::of(&facts("B", 0))]);
        assert_eq!(
            aggregate_of(&IndexHead::default(), cells.into_values()),
            from_scratch(&[contribution("B", 10)])
        );
    }

    #[test]
    fn marks_are_unique_per_write() {
        let marks: BTreeSet<String> = (0..1000).map(|_| ChangeMark::new("1").stamp).collect();
        assert_eq!(marks.len(), 1000);
    }
}
