//! The trend from before the first snapshot: the hygiene counts at the end of each past week and
//! month, rebuilt from every ticket's changelog ([`super::as_of`]) and kept as snapshots marked
//! [`Taken::History`]. A build counts the issues a chunk at a time; [`Sum`]s carry the counts so
//! far with the last chunk they hold, so that a chunk counted again after an interruption is
//! never added twice. All pure; [`super::history_build`] reads and writes the store.

use chrono::{DateTime, Datelike, Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::aggregate::{Aggregate, Delta, Unanswerable};
use super::as_of::{Past, Timeline};
use super::rules::{DAY_MS, Settings};
use super::score::Skip;
use super::snapshot::{Snapshot, Taken};
use crate::store::records::StoredIssue;

/// Weeks a build goes back unless asked otherwise.
pub const DEFAULT_WEEKS: u32 = 52;
/// The most weeks a build goes back: the longest trend ([`super::trend::MAX_TREND_DAYS`]).
pub const MAX_WEEKS: u32 = 104;

const HOUR_MS: i64 = 3_600_000;

/// The last hour of `day`, UTC (a ticket is evaluated at the start of an hour).
fn last_hour_of(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis())
        + DAY_MS
        - HOUR_MS
}

/// The instants a build evaluates, oldest first: the last hour of each of the `weeks` ISO weeks
/// before the week holding `now_ms`, and of each month that ended within them. A week trend
/// shows each week's end; a month trend, each month's.
pub fn instants(now_ms: i64, weeks: u32) -> Vec<i64> {
    let today = DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .date_naive();
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let first = monday - Days::new(7 * u64::from(weeks));
    let mut days: Vec<NaiveDate> = (1..=weeks)
        .map(|k| monday - Days::new(7 * u64::from(k - 1) + 1))
        .collect();
    let mut day = first;
    while day < monday {
        let next = day + Days::new(1);
        if next.day() == 1 {
            days.push(day);
        }
        day = next;
    }
    days.sort();
    days.dedup();
    days.into_iter().map(last_hour_of).collect()
}

/// The counts at every instant of the issues added so far.
pub struct Tally {
    instants: Vec<i64>,
    aggregates: Vec<Aggregate>,
}

impl Tally {
    /// `custom` names the custom misses, in the order of `add`'s `custom_matched`.
    pub fn new(instants: &[i64], custom: &[String]) -> Tally {
        let empty = Aggregate {
            custom: custom.to_vec(),
            ..Aggregate::default()
        };
        Tally {
            instants: instants.to_vec(),
            aggregates: vec![empty; instants.len()],
        }
    }

    /// Counts `issue` at every instant it existed by; `custom_matched` answers whether it
    /// missed each custom miss at an instant.
    pub fn add(
        &mut self,
        issue: &StoredIssue,
        sprint_field: Option<&str>,
        past: &Past,
        custom_matched: impl Fn(i64) -> Vec<bool>,
    ) {
        let timeline = Timeline::of(issue, sprint_field);
        for (at, aggregate) in self.instants.iter().zip(&mut self.aggregates) {
            if let Some(facts) = timeline.at(past, *at) {
                aggregate.apply(&facts, &custom_matched(*at), Delta::Add);
            }
        }
    }

    /// One snapshot per instant, of what was added.
    pub fn snapshots(
        &self,
        settings: &Settings,
        skipped: &[Skip],
    ) -> Result<Vec<Snapshot>, Unanswerable> {
        self.instants
            .iter()
            .zip(&self.aggregates)
            .map(|(at, aggregate)| {
                Ok(Snapshot {
                    at_ms: *at,
                    skipped: skipped.to_vec(),
                    custom: aggregate.custom.clone(),
                    cells: aggregate.counts_per_cell(settings, *at)?,
                    source: Taken::History,
                })
            })
            .collect()
    }
}

/// Where a history build stands; kept while it runs and after, as the record of the last build.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryBuild {
    /// The criteria and mapping counted against ([`super::indexer::basis`]); a build on another
    /// basis starts again.
    pub basis: String,
    pub weeks: u32,
    pub instants: Vec<i64>,
    /// Chunks of issues counted so far.
    pub chunks: u64,
    /// The last issue id counted.
    pub after: Option<String>,
    /// Issues read so far.
    pub issues: u64,
    pub started_ms: i64,
    /// When the points were kept; None while the build runs.
    pub finished_ms: Option<i64>,
}

impl HistoryBuild {
    /// A build from the first issue, at `now_ms`.
    pub fn start(basis: String, weeks: u32, now_ms: i64) -> HistoryBuild {
        HistoryBuild {
            basis,
            weeks,
            instants: instants(now_ms, weeks),
            started_ms: now_ms,
            ..HistoryBuild::default()
        }
    }

    pub fn running(&self) -> bool {
        self.finished_ms.is_none()
    }
}

/// The counts at one instant of the chunks counted so far: chunks 1 to `through`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sum {
    pub through: u64,
    pub snapshot: Snapshot,
}

/// Adds chunk `chunk`'s snapshots (one per instant, in the build's order) to `sums` (the same
/// order; missing ones start empty), skipping each sum that already holds it. Answers the
/// positions of the sums that changed.
pub fn add_chunk(sums: &mut Vec<Sum>, chunk: u64, counted: Vec<Snapshot>) -> Vec<usize> {
    if sums.len() < counted.len() {
        sums.resize(counted.len(), Sum::default());
    }
    let mut changed = Vec::new();
    for (n, (sum, part)) in sums.iter_mut().zip(counted).enumerate() {
        if sum.through >= chunk {
            continue;
        }
        if sum.through == 0 {
            sum.snapshot = Snapshot {
                cells: Vec::new(),
                ..part.clone()
            };
        }
        sum.snapshot.add(&part);
        sum.through = chunk;
        changed.push(n);
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::super::filter::Cell;
    use super::super::score::Counts;
    use super::*;

    fn day_of(ms: i64) -> String {
        DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339()
    }

    #[test]
    fn a_build_evaluates_the_end_of_each_week_and_of_each_month_before_this_week() {
        // Wednesday 2026-12-09, 10:30 UTC.
        let now = 1_796_812_200_000;
        assert_eq!(day_of(now), "2026-12-09T10:30:00+00:00");
        let shown: Vec<String> = instants(now, 6).into_iter().map(day_of).collect();
        assert_eq!(
            shown,
            [
                "2026-10-31T23:00:00+00:00", // October's end, within the first week
                "2026-11-01T23:00:00+00:00", // Sunday, the first week's end
                "2026-11-08T23:00:00+00:00",
                "2026-11-15T23:00:00+00:00",
                "2026-11-22T23:00:00+00:00",
                "2026-11-29T23:00:00+00:00",
                "2026-11-30T23:00:00+00:00", // November's end
                "2026-12-06T23:00:00+00:00", // last week's end
            ]
        );
        // A week more adds its end only.
        let seven: Vec<String> = instants(now, 7).into_iter().map(day_of).collect();
        assert_eq!(seven[0], "2026-10-25T23:00:00+00:00");
        assert_eq!(seven.len(), 9);
    }

    fn part(at_ms: i64, project: &str, tickets: u64) -> Snapshot {
        Snapshot {
            at_ms,
            cells: vec![(
                Cell {
                    project: project.into(),
                    ..Cell::default()
                },
                Counts {
                    tickets,
                    ..Counts::default()
                },
            )],
            source: Taken::History,
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_chunk_counted_again_after_an_interruption_is_added_once() {
        let mut sums = Vec::new();
        let changed = add_chunk(&mut sums, 1, vec![part(1, "A", 2), part(2, "A", 3)]);
        assert_eq!(changed.len(), 2);
        // Chunk 2 reached the first sum only, then the run stopped.
        add_chunk(&mut sums, 2, vec![part(1, "B", 5)]);
        // The next run counts chunk 2 again, for both instants.
        let changed = add_chunk(&mut sums, 2, vec![part(1, "B", 5), part(2, "B", 7)]);
        assert_eq!(changed, [1]);
        let stopped = sums;
        let tickets = |s: &Sum| s.snapshot.cells.iter().map(|(_, c)| c.tickets).sum::<u64>();
        assert_eq!((tickets(&stopped[0]), tickets(&stopped[1])), (7, 10));
        assert_eq!(stopped[1].snapshot.cells.len(), 2);
        assert_eq!(stopped[1].snapshot.at_ms, 2);
        assert!(stopped.iter().all(|s| s.through == 2));
    }
}
