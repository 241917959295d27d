//! Wiring only: clients from the environment, built once, then the handler per event.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use sei_jira_lambda::lambda_env::Deployed;
use serde_json::Value;
use sync_project::{App, handle, stop_at};

#[global_allocator]
static ALLOCATOR: sei_jira_lambda::process::SyncAllocator = sei_jira_lambda::process::SyncAllocator;

fn main() -> Result<(), Error> {
    // Before the runtime's threads exist (see sei_jira_lambda::process).
    sei_jira_lambda::process::tune_allocator();
    async_main()
}

#[tokio::main]
async fn async_main() -> Result<(), Error> {
    sei_jira_lambda::logging::init();
    let d = Deployed::from_env().await?;
    let app = App {
        retries: Box::new(d.retries()?),
        stall: d.stall_policy()?,
        answer_budget: d.answer_budget()?,
        store: Box::new(d.store),
        secrets: Box::new(d.secrets),
        events: Box::new(d.events),
        validation: d.settings.validation,
        retry: Default::default(),
        metrics: Box::new(sei_jira_lambda::metrics::LogLines),
        board: None,
    };
    let app = &app;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let stop = stop_at(event.context.deadline, now);
        handle(app, event.payload, Some(stop), &event.context.request_id)
            .await
            .map_err(Error::from)
    }))
    .await
}
