//! What a report needs of a set of tickets, kept as counts and distributions per [`Cell`], so a
//! report for any thresholds (N days, N characters, any SLA row, any response measure) is answered
//! without reading an issue again, and a changed issue is taken out and put back in without
//! touching the others.
//!
//! Reports are evaluated on the hour: with the evaluation time on an hour boundary and every SLA
//! a whole number of hours, each time-driven question is "how many times fall before this hour",
//! which hour buckets answer exactly — the same answer the rules give ticket by ticket at that
//! instant. Time distributions hold the hour (since the epoch) an event fell in, or the whole hours
//! a finished response or resolution took, rounded up; description lengths are kept up to
//! [`DESCRIPTION_CAP`] characters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::facts::IssueFacts;
use super::filter::{Cell, Filter};
use super::rules::{Category, DAY_MS, ResponseMeasure, Settings};
use super::score::{Counts, Report, Skip, Weights, report_of};

pub const HOUR_MS: i64 = 3_600_000;
/// Poor Description can be asked for any N up to this many characters.
pub const DESCRIPTION_CAP: usize = 1_000;

/// The start of the hour holding `ms`.
pub fn hour_floor(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// Counts by a whole number (an hour since the epoch, a number of hours, a length); empty
/// buckets are not kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Histogram(BTreeMap<i64, u64>);

impl Histogram {
    fn add(&mut self, key: i64, delta: Delta) {
        let n = self.0.entry(key).or_default();
        match delta {
            Delta::Add => *n += 1,
            Delta::Remove => *n = n.saturating_sub(1),
        }
        if *n == 0 {
            self.0.remove(&key);
        }
    }

    fn merge(&mut self, other: &Histogram) {
        for (k, n) in &other.0 {
            *self.0.entry(*k).or_default() += n;
        }
    }

    /// How many values are below `key`.
    fn below(&self, key: i64) -> u64 {
        self.0.range(..key).map(|(_, n)| n).sum()
    }

    /// How many values are above `key`.
    fn above(&self, key: i64) -> u64 {
        self.0.range(key.saturating_add(1)..).map(|(_, n)| n).sum()
    }

    pub fn buckets(&self) -> usize {
        self.0.len()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delta {
    Add,
    Remove,
}

/// How long tickets took to get something done (a response, a resolution), and since when the
/// others have been waiting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waits {
    /// Whole hours from creation to done, rounded up.
    pub done_hours: Histogram,
    /// The hour the still-waiting tickets were created.
    pub waiting_since_hour: Histogram,
}

impl Waits {
    fn add(&mut self, created: i64, done: Option<i64>, delta: Delta) {
        match done {
            Some(done) => {
                let took = done - created;
                self.done_hours.add(
                    took.div_euclid(HOUR_MS) + i64::from(took.rem_euclid(HOUR_MS) > 0),
                    delta,
                )
            }
            None => self
                .waiting_since_hour
                .add(created.div_euclid(HOUR_MS), delta),
        }
    }

    fn merge(&mut self, other: &Waits) {
        self.done_hours.merge(&other.done_hours);
        self.waiting_since_hour.merge(&other.waiting_since_hour);
    }

    /// Tickets whose wait exceeds `goal_hours` at `at_hour` (an hour since the epoch): done in
    /// more hours than that, or waiting since before `at_hour − goal_hours`.
    fn over(&self, goal_hours: i64, at_hour: i64) -> u64 {
        self.done_hours.above(goal_hours) + self.waiting_since_hour.below(at_hour - goal_hours)
    }
}

/// Everything a report needs of the tickets of one cell.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tallies {
    pub tickets: u64,
    pub no_due_date: u64,
    pub no_assignee: u64,
    pub no_components: u64,
    pub inactive_assignee: u64,
    pub no_description: u64,
    /// Trimmed description lengths, capped at [`DESCRIPTION_CAP`].
    pub description_chars: Histogram,
    /// The hour of each ticket's last update.
    pub updated_hour: Histogram,
    /// In the order of [`ResponseMeasure::ALL`].
    pub response: [Waits; 3],
    pub resolution: Waits,
    /// Tickets in an active sprint: the hour of their last status change (or creation).
    pub sprint_status_hour: Histogram,
    /// Tickets matching each custom miss, in the aggregate's order of names.
    pub custom: Vec<u64>,
}

fn count(n: &mut u64, yes: bool, delta: Delta) {
    if yes {
        match delta {
            Delta::Add => *n += 1,
            Delta::Remove => *n = n.saturating_sub(1),
        }
    }
}

impl Tallies {
    /// Adds one ticket, or takes it out again (given the same facts and matches it was added with).
    pub fn apply(&mut self, facts: &IssueFacts, custom_matched: &[bool], delta: Delta) {
        count(&mut self.tickets, true, delta);
        count(&mut self.no_due_date, !facts.has_due_date, delta);
        count(&mut self.no_assignee, facts.assignee.is_none(), delta);
        count(&mut self.no_components, facts.components == 0, delta);
        let inactive = facts
            .assignee
            .as_ref()
            .is_some_and(|a| a.active == Some(false));
        count(&mut self.inactive_assignee, inactive, delta);
        match facts.description_chars {
            None => count(&mut self.no_description, true, delta),
            Some(n) => self
                .description_chars
                .add(n.min(DESCRIPTION_CAP) as i64, delta),
        }
        self.updated_hour
            .add(facts.updated_ms.div_euclid(HOUR_MS), delta);
        let created = facts.created_ms.unwrap_or(facts.updated_ms);
        for (waits, measure) in self.response.iter_mut().zip(ResponseMeasure::ALL) {
            waits.add(created, measure.response_of(facts), delta);
        }
        self.resolution.add(created, facts.resolved_ms, delta);
        if facts.in_active_sprint {
            let since = facts.last_status_change_ms.unwrap_or(created);
            self.sprint_status_hour
                .add(since.div_euclid(HOUR_MS), delta);
        }
        if self.custom.len() < custom_matched.len() {
            self.custom.resize(custom_matched.len(), 0);
        }
        for (n, matched) in self.custom.iter_mut().zip(custom_matched) {
            count(n, *matched, delta);
        }
    }

    pub fn merge(&mut self, other: &Tallies) {
        self.tickets += other.tickets;
        self.no_due_date += other.no_due_date;
        self.no_assignee += other.no_assignee;
        self.no_components += other.no_components;
        self.inactive_assignee += other.inactive_assignee;
        self.no_description += other.no_description;
        self.description_chars.merge(&other.description_chars);
        self.updated_hour.merge(&other.updated_hour);
        for (mine, theirs) in self.response.iter_mut().zip(&other.response) {
            mine.merge(theirs);
        }
        self.resolution.merge(&other.resolution);
        self.sprint_status_hour.merge(&other.sprint_status_hour);
        if self.custom.len() < other.custom.len() {
            self.custom.resize(other.custom.len(), 0);
        }
        for (n, m) in self.custom.iter_mut().zip(&other.custom) {
            *n += m;
        }
    }

    /// The misses per category at the hour `at_hour` (since the epoch), for the cell `cell`.
    fn counts(
        &self,
        cell: &Cell,
        settings: &Settings,
        at_hour: i64,
    ) -> Result<Counts, Unanswerable> {
        let sla = settings.sla_of(&cell.project, &cell.issue_type, &cell.priority);
        let hours = |ms: i64, what: &'static str| {
            (ms % HOUR_MS == 0)
                .then_some(ms / HOUR_MS)
                .ok_or(Unanswerable::SlaNotWholeHours(what))
        };
        let (response_hours, resolution_hours) = (
            hours(sla.response_ms, "response")?,
            hours(sla.resolution_ms, "resolution")?,
        );
        if settings.poor_description_chars > DESCRIPTION_CAP {
            return Err(Unanswerable::DescriptionChars);
        }
        let days = |n: i64| n * (DAY_MS / HOUR_MS);
        let measure = ResponseMeasure::ALL
            .iter()
            .position(|m| *m == settings.response)
            .unwrap_or(0);
        let mut builtin = [0u64; Category::ALL.len()];
        for (n, category) in builtin.iter_mut().zip(Category::ALL) {
            *n = match category {
                Category::Idle => self.updated_hour.below(at_hour - days(settings.idle_days)),
                Category::PoorDescription => {
                    self.no_description
                        + self
                            .description_chars
                            .below(settings.poor_description_chars as i64)
                }
                Category::NoDueDate => self.no_due_date,
                Category::NoAssignee => self.no_assignee,
                Category::NoComponents => self.no_components,
                Category::MissedResponseTime => {
                    self.response[measure].over(response_hours, at_hour)
                }
                Category::MissedResolutionTime => self.resolution.over(resolution_hours, at_hour),
                Category::InactiveAssignee => self.inactive_assignee,
                Category::StalledInActiveSprint => self
                    .sprint_status_hour
                    .below(at_hour - days(settings.stalled_days)),
                Category::Custom => 0,
            };
        }
        Ok(Counts {
            tickets: self.tickets,
            builtin,
            custom: self.custom.clone(),
        })
    }
}

/// Why counts cannot answer a question exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unanswerable {
    #[error("the {0} SLA must be a whole number of hours")]
    SlaNotWholeHours(&'static str),
    #[error("Poor Description can be judged up to {DESCRIPTION_CAP} characters")]
    DescriptionChars,
}

/// The tallies of every cell of an integration, and the custom misses they count.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    /// The custom misses' names, in the order of every cell's `custom` counts.
    pub custom: Vec<String>,
    pub cells: BTreeMap<Cell, Tallies>,
}

impl Aggregate {
    pub fn apply(&mut self, facts: &IssueFacts, custom_matched: &[bool], delta: Delta) {
        let cell = Cell::of(facts);
        let tallies = self.cells.entry(cell.clone()).or_default();
        tallies.apply(facts, custom_matched, delta);
        if tallies.tickets == 0 {
            self.cells.remove(&cell);
        }
    }

    /// The misses of each cell at the start of the hour holding `at_ms`.
    pub fn counts_per_cell(
        &self,
        settings: &Settings,
        at_ms: i64,
    ) -> Result<Vec<(Cell, Counts)>, Unanswerable> {
        let at_hour = hour_floor(at_ms) / HOUR_MS;
        self.cells
            .iter()
            .map(|(cell, t)| Ok((cell.clone(), t.counts(cell, settings, at_hour)?)))
            .collect()
    }

    /// The report of the cells `filter` selects (its time ranges need issue times and must be
    /// open), evaluated at the start of the hour holding `at_ms`.
    pub fn report(
        &self,
        filter: &Filter,
        settings: &Settings,
        weights: &Weights,
        skipped: &[Skip],
        at_ms: i64,
    ) -> Result<Report, Unanswerable> {
        let at = hour_floor(at_ms);
        let mut sum = Counts::default();
        for (cell, tallies) in &self.cells {
            if filter.selects_cell(cell) {
                sum.add(&tallies.counts(cell, settings, at / HOUR_MS)?);
            }
        }
        Ok(report_of(&sum, &self.custom, skipped, weights, at))
    }
}

#[cfg(test)]
mod tests;
