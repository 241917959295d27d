//! For the sync's unit tests: a client of a scripted site (`jira_sim::scripted`) that answers
//! what a test makes it answer, with no retries.

use crate::jira::{Credentials, Deployment, JiraClient, Secret, SiteConfig};
use jira_sim::scripted;

pub(crate) async fn scripted_client(answer: scripted::Answer) -> JiraClient {
    let base = scripted::serve(answer).await;
    let mut config = SiteConfig::new(
        base,
        Deployment::Cloud,
        Credentials::ApiToken {
            email: "alice@example.com".into(),
            token: Secret::new("token"),
        },
    );
    config.private_networks = crate::jira::PrivateNetworks::local();
    config.retry.max_retries = 0;
    JiraClient::new(&config).unwrap()
}
