//! The aggregate's answers against the definitions, written out here ticket by ticket (not by
//! calling the rules), over random tickets, thresholds, SLA rows and hours; and the rules' own
//! answer per ticket against the same definitions, so the two ways a report is counted (from the
//! kept aggregate, from the issues one by one) are held to one meaning.

use std::collections::HashMap;

use super::*;
use crate::hygiene::facts::Assignee;
use crate::hygiene::rules::{Sla, SlaKey, misses};

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len() as u64) as usize]
    }
    /// A time within 40 days after `base`, to the millisecond.
    fn time(&mut self, base: i64) -> i64 {
        base + self.below(40 * DAY_MS as u64) as i64
    }
}

const BASE: i64 = 1_790_000_000_000;

fn ticket(d: &mut Dice) -> IssueFacts {
    let created = d.time(BASE);
    let later = |d: &mut Dice| created + d.below(20 * DAY_MS as u64) as i64;
    // Sometimes exactly on an hour boundary, so the edges are exercised.
    let on_the_hour = |d: &mut Dice, t: i64| if d.chance(20) { hour_floor(t) } else { t };
    let first_status_change_ms = d.chance(60).then(|| later(d));
    let updated = later(d);
    IssueFacts {
        created_ms: d.chance(95).then_some(created),
        updated_ms: on_the_hour(d, updated),
        resolved_ms: d.chance(40).then(|| later(d)),
        has_due_date: d.chance(50),
        assignee: d.chance(70).then(|| Assignee {
            id: "a".into(),
            active: [Some(true), Some(false), None][d.below(3) as usize],
        }),
        components: d.below(3) as usize,
        description_chars: d.chance(80).then(|| d.below(1_500) as usize),
        first_comment_ms: d.chance(60).then(|| later(d)),
        first_status_change_ms,
        last_status_change_ms: first_status_change_ms.map(|f| f + d.below(DAY_MS as u64) as i64),
        in_active_sprint: d.chance(30),
        project: d.pick(&["OPS", "DEV"]).into(),
        issue_type: Some(d.pick(&["Bug", "Story"]).into()),
        priority: d.chance(90).then(|| d.pick(&["High", "Low"]).into()),
        status: Some(d.pick(&["To Do", "Done"]).into()),
        status_category: Some(d.pick(&["To Do", "Done"]).into()),
    }
}

/// The built-in misses of one ticket at `at`, from the definitions in docs/hygiene.md.
fn expected(t: &IssueFacts, s: &Settings, goals: &HashMap<SlaKey, Sla>, at: i64) -> [bool; 9] {
    let created = t.created_ms.unwrap_or(t.updated_ms);
    let key = SlaKey::new(
        &t.project,
        t.issue_type.as_deref().unwrap_or(""),
        t.priority.as_deref().unwrap_or(""),
    );
    let goal = goals.get(&key).copied().unwrap_or(Sla {
        response_ms: DAY_MS,
        resolution_ms: DAY_MS,
    });
    let comment = t.first_comment_ms;
    let change = t.first_status_change_ms;
    let response = match s.response {
        ResponseMeasure::FirstComment => comment,
        ResponseMeasure::FirstStatusChange => change,
        ResponseMeasure::Earliest => match (comment, change) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
    };
    [
        at - t.updated_ms > s.idle_days * DAY_MS,
        t.description_chars
            .is_none_or(|n| n < s.poor_description_chars),
        !t.has_due_date,
        t.assignee.is_none(),
        t.components == 0,
        response.unwrap_or(at) - created > goal.response_ms,
        t.resolved_ms.unwrap_or(at) - created > goal.resolution_ms,
        t.assignee.as_ref().is_some_and(|a| a.active == Some(false)),
        t.in_active_sprint
            && at - t.last_status_change_ms.unwrap_or(created) > s.stalled_days * DAY_MS,
    ]
}

fn random_settings(d: &mut Dice) -> Settings {
    let mut slas = HashMap::new();
    for project in ["OPS", "DEV"] {
        for issue_type in ["Bug", "Story"] {
            if d.chance(50) {
                let hours = |d: &mut Dice| (1 + d.below(72) as i64) * HOUR_MS;
                slas.insert(
                    SlaKey::new(project, issue_type, d.pick(&["High", "Low", ""])),
                    Sla {
                        response_ms: hours(d),
                        resolution_ms: hours(d),
                    },
                );
            }
        }
    }
    Settings {
        idle_days: d.below(15) as i64,
        poor_description_chars: d.below(1_001) as usize,
        stalled_days: d.below(6) as i64,
        response: ResponseMeasure::ALL[d.below(3) as usize],
        slas,
        ..Settings::default()
    }
}

fn misses_of(report: &Report) -> Vec<u64> {
    report
        .categories
        .iter()
        .map(|c| c.misses.unwrap_or(0))
        .collect()
}

#[test]
fn every_answer_equals_the_definitions_at_any_hour_with_any_thresholds() {
    let mut d = Dice(0x9e37_79b9_7f4a_7c15);
    let tickets: Vec<IssueFacts> = (0..600).map(|_| ticket(&mut d)).collect();
    let matched: Vec<[bool; 1]> = tickets.iter().map(|_| [d.chance(30)]).collect();
    let mut aggregate = Aggregate {
        custom: vec!["Sloppy".into()],
        ..Aggregate::default()
    };
    for (t, m) in tickets.iter().zip(&matched) {
        aggregate.apply(t, m, Delta::Add);
    }
    for round in 0..200 {
        let settings = random_settings(&mut d);
        let at = hour_floor(d.time(BASE + 10 * DAY_MS)) + d.below(HOUR_MS as u64) as i64;
        let filter = if round % 2 == 0 {
            Filter::default()
        } else {
            Filter {
                projects: vec!["ops".into()],
                active_sprint_only: round % 3 == 0,
                ..Filter::default()
            }
        };
        let report = aggregate
            .report(&filter, &settings, &Weights::default(), &[], at)
            .unwrap();
        assert_eq!(
            report.evaluated_at.timestamp_millis(),
            hour_floor(at),
            "evaluated on the hour"
        );
        let mut want = vec![0u64; 10];
        let mut total = 0;
        for (t, m) in tickets.iter().zip(&matched) {
            if !filter.selects(t) {
                continue;
            }
            total += 1;
            let defined = expected(t, &settings, &settings.slas, hour_floor(at));
            for (category, missed) in Category::ALL.into_iter().zip(defined) {
                assert_eq!(
                    misses(category, t, &settings, hour_floor(at)),
                    missed,
                    "round {round}: the rule of {category:?} for {t:?}"
                );
            }
            for (n, missed) in want.iter_mut().zip(defined) {
                *n += u64::from(missed);
            }
            want[9] += u64::from(m[0]);
        }
        assert_eq!(report.total_tickets, total, "round {round}");
        assert_eq!(
            misses_of(&report),
            want,
            "round {round}: {settings:?} at {at}"
        );
    }
}

#[test]
fn taking_tickets_out_leaves_what_the_rest_would_give() {
    let mut d = Dice(42);
    let tickets: Vec<IssueFacts> = (0..300).map(|_| ticket(&mut d)).collect();
    let mut all = Aggregate::default();
    let mut kept = Aggregate::default();
    for (i, t) in tickets.iter().enumerate() {
        all.apply(t, &[i % 2 == 0], Delta::Add);
        if i % 3 != 0 {
            kept.apply(t, &[i % 2 == 0], Delta::Add);
        }
    }
    for (i, t) in tickets.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        all.apply(t, &[i % 2 == 0], Delta::Remove);
    }
    assert_eq!(
        all, kept,
        "removing is the exact inverse of adding; empty cells go"
    );
    let mut merged = Aggregate::default();
    for (cell, tallies) in &kept.cells {
        merged.cells.entry(cell.clone()).or_default().merge(tallies);
        merged
            .cells
            .entry(cell.clone())
            .or_default()
            .merge(&Tallies::default());
    }
    assert_eq!(merged, kept);
}

#[test]
fn questions_that_hour_buckets_cannot_answer_are_refused() {
    let mut aggregate = Aggregate::default();
    aggregate.apply(&ticket(&mut Dice(7)), &[], Delta::Add);
    let mut settings = Settings::default();
    settings.default_sla.response_ms = HOUR_MS + 1;
    let refused = aggregate.report(
        &Filter::default(),
        &settings,
        &Weights::default(),
        &[],
        BASE,
    );
    assert_eq!(refused, Err(Unanswerable::SlaNotWholeHours("response")));
    let settings = Settings {
        poor_description_chars: DESCRIPTION_CAP + 1,
        ..Settings::default()
    };
    let refused = aggregate.report(
        &Filter::default(),
        &settings,
        &Weights::default(),
        &[],
        BASE,
    );
    assert_eq!(refused, Err(Unanswerable::DescriptionChars));
}

#[test]
fn a_wait_exactly_at_its_goal_is_met_and_a_millisecond_more_missed() {
    let created = hour_floor(BASE);
    let facts = |resolved: Option<i64>| IssueFacts {
        created_ms: Some(created),
        updated_ms: created,
        resolved_ms: resolved,
        project: "P".into(),
        ..IssueFacts::default()
    };
    let resolution_misses = |t: IssueFacts, at: i64| {
        let mut a = Aggregate::default();
        a.apply(&t, &[], Delta::Add);
        let r = a
            .report(
                &Filter::default(),
                &Settings::default(),
                &Weights::default(),
                &[],
                at,
            )
            .unwrap();
        r.categories[6].misses.unwrap()
    };
    assert_eq!(resolution_misses(facts(Some(created + DAY_MS)), created), 0);
    assert_eq!(
        resolution_misses(facts(Some(created + DAY_MS + 1)), created),
        1
    );
    // Unresolved: exactly a day old at the evaluation hour is met; the next hour misses.
    assert_eq!(resolution_misses(facts(None), created + DAY_MS), 0);
    assert_eq!(
        resolution_misses(facts(None), created + DAY_MS + HOUR_MS),
        1
    );
}
