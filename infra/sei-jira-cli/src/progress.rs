//! The sync's progress as people read it: on a terminal a bar of issues stored against the
//! issues Jira expects, projects done of all, the rate and the time left; elsewhere (CI, logs) the
//! same as a plain line every few seconds. Either says when the run is waiting for Jira, until
//! when and why.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sei_jira_core::jira::JiraClient;
use sei_jira_core::sync::progress::Tally;
use sei_jira_core::sync::{Event, Observer};

/// How often a plain line is printed where no bar can be drawn.
const LINE_EVERY: Duration = Duration::from_secs(5);
/// How often the bar's words are drawn again (a wait shows without any event).
const BAR_EVERY: Duration = Duration::from_secs(1);

/// Shows the run's progress until the returned guard is dropped; nothing when `quiet`.
pub fn show(quiet: bool, client: &JiraClient) -> (Option<Observer>, Shown) {
    if quiet {
        return (None, Shown::Nothing);
    }
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let (client, t) = (client.clone(), tally.clone());
    let words = move || {
        let t = t.lock().expect("the tally is never poisoned");
        let base = match t.total() {
            Some(_) => t.rest(started.elapsed()),
            None => t.line(started.elapsed()),
        };
        match waiting(&client) {
            Some(wait) => format!("{base} · {wait}"),
            None => base,
        }
    };
    if std::io::stderr().is_terminal() {
        // A spinner until every unit's count is in, then a bar.
        let bar = ProgressBar::new_spinner()
            .with_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
        bar.enable_steady_tick(Duration::from_millis(200));
        let (shown, t) = (bar.clone(), tally.clone());
        let observer: Observer = Arc::new(move |e: &Event| {
            let mut t = t.lock().expect("the tally is never poisoned");
            t.take(e);
            if let Some(total) = t.total() {
                if shown.length().is_none() {
                    shown.set_style(
                        ProgressStyle::with_template("{bar:30} {pos}/{len} issues · {msg}")
                            .expect("a valid template"),
                    );
                }
                shown.set_length(total);
                shown.set_position(t.stored);
            }
        });
        let shown = bar.clone();
        let ticker = every(BAR_EVERY, Duration::ZERO, move || {
            shown.set_message(words())
        });
        (Some(observer), Shown::Bar(bar, ticker))
    } else {
        let t = tally.clone();
        let observer: Observer =
            Arc::new(move |e: &Event| t.lock().expect("the tally is never poisoned").take(e));
        let ticker = every(LINE_EVERY, LINE_EVERY, move || eprintln!("{}", words()));
        (Some(observer), Shown::Lines(ticker))
    }
}

/// Runs `draw` every `period`, the first time after `first`.
fn every(
    period: Duration,
    first: Duration,
    draw: impl Fn() + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + first, period);
        loop {
            ticks.tick().await;
            draw();
        }
    })
}

/// "waiting for Jira until 14:32:10 (it asked for 900 s)", while a request waits.
fn waiting(client: &JiraClient) -> Option<String> {
    let wait = client.stats().waiting()?;
    let until =
        chrono::DateTime::from_timestamp_millis(wait.until_ms)?.with_timezone(&chrono::Local);
    Some(format!(
        "waiting for Jira until {} (it asked for {} s)",
        until.format("%H:%M:%S"),
        wait.wait.as_secs()
    ))
}

/// The display under way; dropping it clears the bar or stops the lines.
pub enum Shown {
    Nothing,
    Bar(ProgressBar, tokio::task::JoinHandle<()>),
    Lines(tokio::task::JoinHandle<()>),
}

impl Drop for Shown {
    fn drop(&mut self) {
        match self {
            Shown::Nothing => {}
            Shown::Bar(bar, ticker) => {
                ticker.abort();
                bar.finish_and_clear();
            }
            Shown::Lines(ticker) => ticker.abort(),
        }
    }
}
