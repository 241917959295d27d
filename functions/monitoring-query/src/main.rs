//! Wiring only: the store from the environment, built once, then the router per request.

use std::sync::Arc;

use lambda_http::Error;
use monitoring_query::{App, router};
use sei_jira_lambda::lambda_env::Deployed;
use sei_jira_lambda::routes::serve_api;

#[tokio::main]
async fn main() -> Result<(), Error> {
    sei_jira_lambda::logging::init();
    let d = Deployed::from_env().await?;
    let app = App {
        store: Box::new(d.store),
        issues_per_request: sei_jira_lambda::http_api::ISSUES_PER_REQUEST,
    };
    let function = env!("CARGO_PKG_NAME");
    serve_api(router(Arc::new(app)), &d.account_claim, function).await
}
