//! Wiring only: clients from the environment, built once, then the router per request.

use std::sync::Arc;

use lambda_http::{Error, Request, run, service_fn};
use sei_jira_lambda::lambda_env::Deployed;
use sei_jira_lambda::metrics::{LogLines, measured};
use sei_jira_lambda::routes::{answer, behind_authorizer};
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
    let router = &behind_authorizer(router(Arc::new(app)), &d.account_claim);
    run(service_fn(move |req: Request| async move {
        Ok::<_, Error>(measured(&LogLines, env!("CARGO_PKG_NAME"), answer(router, req)).await)
    }))
    .await
}
