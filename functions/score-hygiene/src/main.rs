//! Wiring only: the store from the environment, built once; then each API Gateway HTTP API
//! request to the router. The function's event work runs as `hygiene-events`.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use score_hygiene::{App, router};
use sei_jira_lambda::http_api::{gateway_response, is_http_event};
use sei_jira_lambda::lambda_env::Deployed;
use sei_jira_lambda::metrics::{LogLines, measured};
use sei_jira_lambda::routes::{answer, behind_authorizer};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    sei_jira_lambda::logging::init();
    let d = Deployed::from_env().await?;
    let claim = d.account_claim.clone();
    let router = &behind_authorizer(router(Arc::new(App::deployed(d))), &claim);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        if !is_http_event(&event.payload) {
            return Err(Error::from(
                "not an HTTP API request: events are served by hygiene-events",
            ));
        }
        let req = lambda_http::request::from_str(&event.payload.to_string())?;
        let response = measured(&LogLines, env!("CARGO_PKG_NAME"), answer(router, req)).await;
        Ok::<Value, Error>(serde_json::to_value(gateway_response(response))?)
    }))
    .await
}
