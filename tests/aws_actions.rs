//! Prints, as one JSON object, the AWS actions each function declares it needs (its
//! `AWS_ACTIONS`, by binary name) and those each adapter can need (`sei_jira_aws::*::ACTIONS`),
//! for the deployment rehearsal's permission check (`infra/rehearsal`).

use serde_json::json;

fn main() {
    let declared = json!({
        "functions": {
            "dora-metrics": dora_metrics::AWS_ACTIONS,
            "monitoring-query": monitoring_query::AWS_ACTIONS,
            "score-hygiene": score_hygiene::AWS_ACTIONS,
            "sync-project": sync_project::AWS_ACTIONS,
            "validate-credentials": validate_credentials::AWS_ACTIONS,
        },
        "adapters": {
            "dynamo": sei_jira_aws::dynamo::ACTIONS,
            "events": sei_jira_aws::events::ACTIONS,
            "scheduler": sei_jira_aws::scheduler::ACTIONS,
            "secrets": sei_jira_aws::secrets::ACTIONS,
        },
    });
    println!("{declared}");
}
