//! `sei-jira serve --demo`: the simulator in-process, as `sei-jira demo` starts it, with an
//! integration created and its first sync asked for through the API, so the console opens on a
//! site to look at. The store is a fresh temporary one (the simulator's address changes with
//! each start), gone when the server stops.

use anyhow::{Context, bail};
use axum::http::Method;
use serde_json::json;

use super::console::Api;

/// What the demo keeps alive while the server runs.
pub struct Demo {
    _sim: jira_sim::SimHandle,
    _store: tempfile::TempDir,
}

/// A temporary directory for the demo's store.
pub fn store_dir() -> anyhow::Result<tempfile::TempDir> {
    tempfile::tempdir().context("a temporary directory for the demo's store")
}

/// Starts the simulator with `issues` issues, creates the demo integration through `api` and
/// asks for its first sync; the sync runs on the server's bus once it serves.
pub async fn start(api: &Api, issues: usize, store: tempfile::TempDir) -> anyhow::Result<Demo> {
    let crate::demo_site::DemoSite { sim, token, .. } = crate::demo_site::start(issues).await?;
    let email = crate::demo_site::DEMO_EMAIL;
    let created = api
        .send(
            Method::POST,
            "/integrations",
            &json!({
                "name": "Demo (simulated Jira)",
                "description": "The Jira simulator's site, synced by sei-jira serve --demo.",
                "tags": ["demo"],
                "connection": {"deployment": "cloud", "url": sim.base_url, "email": email, "token": token},
                "scope": {"kind": "all_accessible"},
            }),
        )
        .await;
    if !created.ok() {
        bail!("the demo integration was refused: {}", created.message());
    }
    let id = created.body["id"].as_str().unwrap_or_default();
    let asked = api
        .send(
            Method::POST,
            &format!("/integrations/{id}/sync"),
            &json!({}),
        )
        .await;
    if !asked.ok() {
        bail!("the demo's sync was refused: {}", asked.message());
    }
    eprintln!(
        "sei-jira serve --demo: the Jira simulator at {} with {issues} issues; its first sync \
         is under way (the console's Monitoring tab shows it).",
        sim.base_url
    );
    Ok(Demo {
        _sim: sim,
        _store: store,
    })
}
