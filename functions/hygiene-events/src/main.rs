//! Wiring only: the hygiene function's event work (`score_hygiene::handle_event`: index
//! refreshes after syncs and criteria changes, each integration's daily snapshot, the daily
//! fan-out) as a function of its own, so that it may run for minutes while the HTTP function
//! answers within API Gateway's 30 s, and its bursts never take the HTTP function's concurrency.

use std::time::{Duration, Instant, SystemTime};

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use score_hygiene::{App, handle_event};
use sei_jira_lambda::lambda_env::Deployed;
use serde_json::Value;

/// Left for the last batch and the answer: the index is left where a batch ended.
const STOP_BEFORE_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<(), Error> {
    sei_jira_lambda::logging::init();
    let d = Deployed::from_env().await?;
    let stale_after = d.stale_after()?;
    let app = &App {
        stale_after,
        ..App::deployed(d)
    };
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = event
            .context
            .deadline()
            .checked_sub(STOP_BEFORE_TIMEOUT)
            .and_then(|d| {
                let left = d.duration_since(SystemTime::now()).unwrap_or_default();
                Instant::now().checked_add(left)
            });
        Ok::<Value, Error>(handle_event(app, &event.payload, chrono::Utc::now(), deadline).await?)
    }))
    .await
}
