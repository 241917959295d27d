//! Wiring only: the store and the bus from the environment, built once, then the handler per
//! request.

use dora_metrics::{App, handle};
use lambda_http::{Error, Request, run, service_fn};
use sei_jira_lambda::lambda_env::Deployed;
use sei_jira_lambda::metrics::{LogLines, measured};

#[tokio::main]
async fn main() -> Result<(), Error> {
    sei_jira_lambda::logging::init();
    let d = Deployed::from_env().await?;
    let app = App {
        store: Box::new(d.store),
        events: Box::new(d.events),
        account_claim: d.account_claim,
        issues_per_request: sei_jira_lambda::http_api::ISSUES_PER_REQUEST,
    };
    let app = &app;
    run(service_fn(move |req: Request| async move {
        let answer = handle(app, req, chrono::Utc::now());
        Ok::<_, Error>(measured(&LogLines, env!("CARGO_PKG_NAME"), answer).await)
    }))
    .await
}
