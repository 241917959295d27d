//! A simulated Jira site and an embedded store for the sync's tests: the site's users' clients,
//! its admin controls and ground truth, and what the store holds.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use jira_sim::{DatasetConfig, Mode, Settings, SimConfig, SimHandle};
use sei_jira_core::jira::{
    Credentials, Deployment, JiraClient, PrivateNetworks, RetryPolicy, Secret, SiteConfig,
};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{IssueStore, StoredIssue};
use sei_jira_core::sync::{Scope, SyncOptions};
use serde_json::Value;

pub struct Env {
    pub sim: SimHandle,
    pub info: Value,
    pub http: reqwest::Client,
    pub _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub store: EmbeddedStore,
}

pub async fn env(issues: usize, mode: Mode, settings: Settings, seed: u64) -> Env {
    let dataset = DatasetConfig {
        issues,
        mode,
        seed,
        projects: 5,
        ..DatasetConfig::default()
    };
    env_of(dataset, settings).await
}

pub async fn env_of(dataset: DatasetConfig, settings: Settings) -> Env {
    let sim = jira_sim::start(SimConfig {
        dataset,
        settings,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let info = jira_sim::describe(&sim);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    let store = EmbeddedStore::open(&path).unwrap();
    Env {
        sim,
        info,
        http: reqwest::Client::new(),
        _dir: dir,
        path,
        store,
    }
}

impl Env {
    pub fn client(&self, email: &str) -> JiraClient {
        self.client_with(email, |_| {})
    }

    pub fn client_with(&self, email: &str, adjust: impl FnOnce(&mut SiteConfig)) -> JiraClient {
        let token = jira_sim::user_token(&self.info, email).expect("a user of the simulator");
        let (deployment, credentials) = match self.info["mode"].as_str() {
            Some("datacenter") => (
                Deployment::DataCenter,
                Credentials::PersonalAccessToken {
                    token: Secret::new(token),
                },
            ),
            _ => (
                Deployment::Cloud,
                Credentials::ApiToken {
                    email: email.into(),
                    token: Secret::new(token),
                },
            ),
        };
        let mut config = SiteConfig::new(&self.sim.base_url, deployment, credentials);
        config.private_networks = PrivateNetworks::local();
        config.retry = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
        };
        adjust(&mut config);
        JiraClient::new(&config).unwrap()
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut rb = self
            .http
            .request(method, format!("{}/_sim{path}", self.sim.base_url));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    pub async fn truth(&self, email: &str) -> Vec<Value> {
        self.admin(reqwest::Method::GET, &format!("/truth?as={email}"), None)
            .await["issues"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub async fn stored(&self, integration: &str) -> Vec<StoredIssue> {
        self.store
            .list_issues(integration, None, usize::MAX)
            .await
            .unwrap()
    }
}

pub const ALICE: &str = "alice@example.com";

/// Options as an integration would set them: the site's Severity field mapped.
pub fn options(integration: &str, scope: Scope) -> SyncOptions {
    let mut o = SyncOptions::new(integration, scope);
    o.custom_fields = vec!["Severity".into()];
    o
}
