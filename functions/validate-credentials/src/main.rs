//! Wiring only: clients from the environment, built once, then the router per request.

use std::sync::Arc;

use lambda_http::Error;
use sei_jira_lambda::lambda_env::Deployed;
use sei_jira_lambda::routes::serve_api;
use validate_credentials::{App, router};

#[tokio::main]
async fn main() -> Result<(), Error> {
    sei_jira_lambda::logging::init();
    let d = Deployed::from_env().await?;
    let app = App {
        scheduler: Box::new(d.scheduler()?),
        store: Box::new(d.store),
        secrets: Box::new(d.secrets),
        events: Box::new(d.events),
        settings: d.settings,
    };
    let function = env!("CARGO_PKG_NAME");
    serve_api(router(Arc::new(app)), &d.account_claim, function).await
}
