//! Prints, as one JSON object, the AWS actions each function declares it needs (its
//! `AWS_ACTIONS`, by binary name) and those each adapter can need (`sei_jira_aws::*::*ACTIONS`),
//! for the deployment rehearsal's permission check, and the kinds of event on the bus with
//! the function that consumes each (`sei_jira_core::ports::EVENT_CONSUMERS`), for its check of
//! the bus rules (`infra/rehearsal`).

use serde_json::json;

/// Groups of actions as one list.
fn flat(groups: &[&[&'static str]]) -> Vec<&'static str> {
    groups.iter().flat_map(|g| g.iter().copied()).collect()
}

fn main() {
    use sei_jira_aws::{dynamo, events, scheduler, secrets};
    let declared = json!({
        "functions": {
            "dora-metrics": flat(dora_metrics::AWS_ACTIONS),
            "monitoring-query": flat(monitoring_query::AWS_ACTIONS),
            "score-hygiene": flat(score_hygiene::AWS_ACTIONS),
            "hygiene-events": flat(score_hygiene::AWS_ACTIONS),
            "sync-project": flat(sync_project::AWS_ACTIONS),
            "validate-credentials": flat(validate_credentials::AWS_ACTIONS),
        },
        "adapters": {
            "dynamo": flat(&[dynamo::READ_ACTIONS, dynamo::WRITE_ACTIONS]),
            "events": events::ACTIONS,
            "scheduler": flat(&[scheduler::ACTIONS, scheduler::RETRY_ACTIONS]),
            "secrets": flat(&[secrets::READ_ACTIONS, secrets::WRITE_ACTIONS]),
        },
        "events": sei_jira_core::ports::EVENT_CONSUMERS,
    });
    println!("{declared}");
}
