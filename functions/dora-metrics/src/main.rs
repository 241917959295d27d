//! Wiring only: the store and the bus from the environment, built once, then the router per
//! request.

use std::sync::Arc;

use dora_metrics::{App, router};
use lambda_http::{Error, Request, run, service_fn};
use sei_jira_lambda::lambda_env::Deployed;
use sei_jira_lambda::metrics::{LogLines, measured};
use sei_jira_lambda::routes::{answer, behind_authorizer};

#[tokio::main]
async fn main() -> Result<(), Error> {
    sei_jira_lambda::logging::init();
    let d = Deployed::from_env().await?;
    let app = App {
        store: Box::new(d.store),
        events: Box::new(d.events),
        issues_per_request: sei_jira_lambda::http_api::ISSUES_PER_REQUEST,
    };
    let router = &behind_authorizer(router(Arc::new(app)), &d.account_claim);
    run(service_fn(move |req: Request| async move {
        Ok::<_, Error>(measured(&LogLines, env!("CARGO_PKG_NAME"), answer(router, req)).await)
    }))
    .await
}
