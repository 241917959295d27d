//! Wiring only: clients from the environment, built once, then the handler per request.

use lambda_http::{Error, Request, run, service_fn};
use sei_jira_lambda::lambda_env::Deployed;
use sei_jira_lambda::metrics::{LogLines, measured};
use validate_credentials::{App, handle};

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
        account_claim: d.account_claim,
    };
    let app = &app;
    run(service_fn(move |req: Request| async move {
        Ok::<_, Error>(measured(&LogLines, env!("CARGO_PKG_NAME"), handle(app, req)).await)
    }))
    .await
}
