//! A simulator of the Jira Cloud REST API (v3, and v2 as Data Center) for tests, benchmarks and
//! local runs. It serves a generated, deterministic site: projects, users with per-user time
//! zones and permissions, issues with changelogs and comments, sprints and links, through the same
//! paths, parameters, pagination, JSON shapes, error bodies and rate-limit headers as Jira.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let sim = jira_sim::start(jira_sim::SimConfig::default()).await?;
//! println!("Jira at {}", sim.base_url);
//! # Ok(()) }
//! ```

pub mod admin;
pub mod api;
mod changelog;
pub mod control;
pub mod dataset;
pub mod edits;
pub mod expand;
pub mod fields;
pub mod http;
pub mod jql;
pub mod model;
pub mod reference;
pub mod render;
pub mod scripted;
pub mod server;
pub mod truth_text;

use std::net::SocketAddr;

pub use control::Settings;
pub use dataset::DatasetConfig;
pub use model::Mode;
pub use server::SimHandle;
pub use truth_text::excluded_texts;

/// Everything needed to start a simulator.
#[derive(Clone, Debug)]
pub struct SimConfig {
    pub dataset: DatasetConfig,
    pub settings: Settings,
    pub addr: SocketAddr,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            dataset: DatasetConfig::default(),
            settings: Settings::default(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// Generates the dataset and serves it; binds 127.0.0.1:0 by default. Drop the handle to stop.
pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
    let site = dataset::generate(&config.dataset);
    server::serve(site, config.settings, config.dataset.seed, config.addr).await
}

/// The startup description (`base_url`, `users` with their tokens, …) as the binary prints it.
pub fn describe(handle: &SimHandle) -> serde_json::Value {
    admin::describe(&handle.state)
}

/// The API token (or, on Data Center, the personal access token) of the user with `email`, from
/// a startup description ([`describe`], or the binary's first line).
pub fn user_token(description: &serde_json::Value, email: &str) -> Option<String> {
    description["users"]
        .as_array()?
        .iter()
        .find(|u| u["email"] == email)?["token"]
        .as_str()
        .map(str::to_string)
}
