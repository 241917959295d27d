//! The sync's progress as people read it: on a terminal a bar of issues stored against the
//! issues Jira expects, projects done of all, the rate and the time left; elsewhere (CI, logs) the
//! same as a plain line every few seconds.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sei_jira_core::sync::progress::Tally;
use sei_jira_core::sync::{Event, Observer};

/// How often a plain line is printed where no bar can be drawn.
const LINE_EVERY: Duration = Duration::from_secs(5);

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
