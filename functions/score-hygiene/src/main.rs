//! Wiring only: the store from the environment, built once; then each invocation goes to the
//! HTTP handler (an API Gateway HTTP API event) or to the event handler (EventBridge).

use std::time::{Duration, Instant, SystemTime};

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use score_hygiene::{App, handle, handle_event};
use sei_jira_lambda::http_api::{gateway_response, is_http_event};
use sei_jira_lambda::lambda_env::Deployed;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    sei_jira_lambda::logging::init();
    let d = Deployed::from_env().await?;
    let app = App {
        store: Box::new(d.store),
        events: Box::new(d.events),
        account_claim: d.account_claim,
    };
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let now = chrono::Utc::now();
        if is_http_event(&event.payload) {
            let req = lambda_http::request::from_str(&event.payload.to_string())?;
            let response = handle(app, req, now).await;
            Ok::<Value, Error>(serde_json::to_value(gateway_response(response))?)
        } else {
            // Time for the last batch and the answer: the index is left where a batch ended.
            let deadline = event
                .context
                .deadline()
                .checked_sub(Duration::from_secs(30));
            let deadline = deadline.and_then(|d| {
                let left = d.duration_since(SystemTime::now()).unwrap_or_default();
                Instant::now().checked_add(left)
            });
            Ok(handle_event(app, &event.payload, now, deadline).await?)
        }
    }))
    .await
}
