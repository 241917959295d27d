//! A run's progress as its events tell it: issues stored against the issues Jira expects, units
//! done of all, the rate and the time left. The CLI draws it as a bar or prints it as lines;
//! a scheduled run logs it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{Event, Observer};

/// What the events of a run have told so far.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Tally {
    pub units: usize,
    pub finished: usize,
    /// Per unit, Jira's count of the issues its scan reads.
    pub expected: HashMap<String, u64>,
    pub stored: u64,
}

impl Tally {
    pub fn take(&mut self, event: &Event) {
        match event {
            Event::Planned { units } => self.units = *units,
            Event::Expected { unit, issues } => {
                self.expected.insert(unit.clone(), *issues);
            }
            Event::UnitStarted { .. } => {}
            Event::Stored { issues, .. } => self.stored += issues,
            Event::UnitFinished { .. } => self.finished += 1,
        }
    }

    /// The issues expected in all, once every unit's count is in, and never below those stored
    /// (Cloud's count is approximate).
    pub fn total(&self) -> Option<u64> {
        (self.units > 0 && self.expected.len() == self.units)
            .then(|| self.expected.values().sum::<u64>().max(self.stored))
    }

    /// The plain line: `sync: 3400 of 10000 issues, 2 of 5 projects, 850/s, about 8 s left`.
    pub fn line(&self, elapsed: Duration) -> String {
        match self.total() {
            Some(total) => format!(
                "sync: {} of {total} issues, {}",
                self.stored,
                self.rest(elapsed)
            ),
            None => format!("sync: {} issues, {}", self.stored, self.rest(elapsed)),
        }
    }

    /// Projects done of all, the rate, and the time left once the total is known.
    pub fn rest(&self, elapsed: Duration) -> String {
        let rate = self.stored as f64 / elapsed.as_secs_f64().max(0.001);
        let mut rest = format!("{} of {} projects, {rate:.0}/s", self.finished, self.units);
        if let Some(total) = self.total()
            && rate > 0.0
        {
            let left = (total - self.stored) as f64 / rate;
            rest.push_str(&format!(", about {left:.0} s left"));
        }
        rest
    }
}

/// An observer that logs the progress line at most once per `every` (a scheduled run's logs).
pub fn logged_every(every: Duration, integration: String) -> Observer {
    let started = Instant::now();
    let state = Mutex::new((Tally::default(), started));
    Arc::new(move |e: &Event| {
        let mut state = state.lock().expect("the tally is never poisoned");
        state.0.take(e);
        if state.1.elapsed() >= every {
            state.1 = Instant::now();
            tracing::info!(integration = %integration, progress = %state.0.line(started.elapsed()), "sync progress");
        }
    })
}

/// The runs of this process as they go, by integration: what a local console shows while a sync
/// it asked for runs in the same process. A deployment has no such reader and passes none.
#[derive(Debug, Default)]
pub struct Board {
    runs: Mutex<HashMap<String, Live>>,
    started: std::sync::atomic::AtomicU64,
}

/// One integration's latest run on the [`Board`].
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    /// Runs on the board are numbered from 1 as they start: a reader that saw run N waits for a
    /// number above it.
    pub number: u64,
    pub tally: Tally,
    pub started: Instant,
    /// When the run ended (done, stopped at its deadline or failed); None while it goes on.
    pub ended: Option<Instant>,
}

impl Board {
    /// An observer that keeps `integration`'s new run on the board, replacing its last one.
    pub fn observer(self: &Arc<Self>, integration: &str) -> Observer {
        let number = 1 + self
            .started
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let live = Live {
            number,
            tally: Tally::default(),
            started: Instant::now(),
            ended: None,
        };
        self.lock().insert(integration.to_string(), live);
        let (board, id) = (self.clone(), integration.to_string());
        Arc::new(move |e: &Event| {
            if let Some(live) = board.lock().get_mut(&id) {
                live.tally.take(e);
            }
        })
    }

    /// Marks `integration`'s run as ended, however it ended.
    pub fn ended(&self, integration: &str) {
        if let Some(live) = self.lock().get_mut(integration) {
            live.ended.get_or_insert_with(Instant::now);
        }
    }

    pub fn get(&self, integration: &str) -> Option<Live> {
        self.lock().get(integration).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Live>> {
        self.runs.lock().expect("the board is never poisoned")
    }
}

/// Both observers, in order.
pub fn both(first: Observer, second: Observer) -> Observer {
    Arc::new(move |e: &Event| {
        first(e);
        second(e);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[Event]) -> Tally {
        let mut t = Tally::default();
        for e in events {
            t.take(e);
        }
        t
    }

    #[test]
    fn the_total_is_known_once_every_unit_is_counted() {
        let counted = |unit: &str, issues| Event::Expected {
            unit: unit.into(),
            issues,
        };
        let mut t = run(&[Event::Planned { units: 2 }, counted("A", 600)]);
        assert_eq!(t.total(), None);
        assert_eq!(
            t.line(Duration::from_secs(1)),
            "sync: 0 issues, 0 of 2 projects, 0/s"
        );
        t.take(&counted("B", 400));
        t.take(&Event::Stored {
            unit: "A".into(),
            issues: 250,
        });
        t.take(&Event::UnitFinished { unit: "B".into() });
        assert_eq!(
            t.line(Duration::from_secs(2)),
            "sync: 250 of 1000 issues, 1 of 2 projects, 125/s, about 6 s left"
        );
    }

    #[test]
    fn an_approximate_count_below_what_is_stored_is_raised_to_it() {
        let t = run(&[
            Event::Planned { units: 1 },
            Event::Expected {
                unit: "A".into(),
                issues: 90,
            },
            Event::Stored {
                unit: "A".into(),
                issues: 100,
            },
        ]);
        assert_eq!(t.total(), Some(100));
        assert!(t.line(Duration::from_secs(1)).ends_with("about 0 s left"));
    }

    #[test]
    fn the_board_keeps_each_integrations_latest_run_until_it_ends() {
        let board = Arc::new(Board::default());
        assert_eq!(board.get("i1"), None);
        let first = board.observer("i1");
        first(&Event::Planned { units: 2 });
        first(&Event::Stored {
            unit: "A".into(),
            issues: 40,
        });
        let live = board.get("i1").unwrap();
        assert_eq!(
            (live.tally.units, live.tally.stored, live.ended),
            (2, 40, None)
        );
        board.ended("i1");
        assert!(board.get("i1").unwrap().ended.is_some());
        // A new run starts from nothing; another integration's is its own.
        let _second = board.observer("i1");
        board.observer("i2")(&Event::Planned { units: 5 });
        let live = board.get("i1").unwrap();
        assert_eq!((live.number, live.tally.stored, live.ended), (2, 0, None));
        assert_eq!(board.get("i2").unwrap().tally.units, 5);
    }
}
