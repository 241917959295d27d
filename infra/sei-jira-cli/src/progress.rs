//! The sync's progress as people read it: on a terminal a bar of issues stored against the
//! issues Jira expects, projects done of all, the rate and the time left; elsewhere (CI, logs) the
//! same as a plain line every few seconds.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sei_jira_core::sync::{Event, Observer};

/// How often a plain line is printed where no bar can be drawn.
const LINE_EVERY: Duration = Duration::from_secs(5);

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
    fn rest(&self, elapsed: Duration) -> String {
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

/// Shows the run's progress until the returned guard is dropped; nothing when `quiet`.
pub fn show(quiet: bool) -> (Option<Observer>, Shown) {
    if quiet {
        return (None, Shown::Nothing);
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    if std::io::stderr().is_terminal() {
        // A spinner until every unit's count is in, then a bar.
        let bar = ProgressBar::new_spinner()
            .with_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
        bar.enable_steady_tick(Duration::from_millis(200));
        let (shown, t) = (bar.clone(), tally.clone());
        let observer: Observer = Arc::new(move |e: &Event| {
            let mut t = t.lock().expect("the tally is never poisoned");
            t.take(e);
            match t.total() {
                Some(total) => {
                    if shown.length().is_none() {
                        shown.set_style(
                            ProgressStyle::with_template("{bar:30} {pos}/{len} issues · {msg}")
                                .expect("a valid template"),
                        );
                    }
                    shown.set_length(total);
                    shown.set_position(t.stored);
                    shown.set_message(t.rest(started.elapsed()));
                }
                None => shown.set_message(t.line(started.elapsed())),
            }
        });
        (Some(observer), Shown::Bar(bar))
    } else {
        let t = tally.clone();
        let observer: Observer =
            Arc::new(move |e: &Event| t.lock().expect("the tally is never poisoned").take(e));
        let ticker = tokio::spawn(async move {
            let mut every =
                tokio::time::interval_at(tokio::time::Instant::now() + LINE_EVERY, LINE_EVERY);
            loop {
                every.tick().await;
                let line = tally
                    .lock()
                    .expect("the tally is never poisoned")
                    .line(started.elapsed());
                eprintln!("{line}");
            }
        });
        (Some(observer), Shown::Lines(ticker))
    }
}

/// The display under way; dropping it clears the bar or stops the lines.
pub enum Shown {
    Nothing,
    Bar(ProgressBar),
    Lines(tokio::task::JoinHandle<()>),
}

impl Drop for Shown {
    fn drop(&mut self) {
        match self {
            Shown::Nothing => {}
            Shown::Bar(bar) => bar.finish_and_clear(),
            Shown::Lines(ticker) => ticker.abort(),
        }
    }
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
}
