//! The demo's Jira, for `sei-jira demo` and `sei-jira serve --demo`: the simulator in-process,
//! and the user the demo signs in as.

use anyhow::Context;

/// The user every demo signs in as.
pub const DEMO_EMAIL: &str = "alice@example.com";

pub struct DemoSite {
    pub sim: jira_sim::SimHandle,
    /// The simulator's description (its projects, users and their tokens).
    pub info: serde_json::Value,
    /// [`DEMO_EMAIL`]'s API token on it.
    pub token: String,
}

/// The simulator with `issues` issues, on a free loopback port.
pub async fn start(issues: usize) -> anyhow::Result<DemoSite> {
    let sim = jira_sim::start(jira_sim::SimConfig {
        dataset: jira_sim::DatasetConfig {
            issues,
            // Incidents and changes at a team's rates, so that the demo's DORA has samples.
            operations: true,
            ..jira_sim::DatasetConfig::default()
        },
        ..jira_sim::SimConfig::default()
    })
    .await?;
    let info = jira_sim::describe(&sim);
    let token = jira_sim::user_token(&info, DEMO_EMAIL).context("the simulator's demo user")?;
    Ok(DemoSite { sim, info, token })
}
