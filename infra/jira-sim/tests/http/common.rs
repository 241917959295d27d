//! Test helpers: an in-process simulator and a small client for its users.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use jira_sim::{DatasetConfig, Mode, Settings, SimConfig, SimHandle};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};

pub const ANCHOR: &str = "2026-06-01T00:00:00Z";

pub struct Sim {
    pub handle: SimHandle,
    pub info: Value,
    pub http: reqwest::Client,
}

pub fn anchor() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(ANCHOR).unwrap().to_utc()
}

pub async fn start(issues: usize, mode: Mode) -> Sim {
    start_with(issues, mode, Settings::default()).await
}

pub async fn start_with(issues: usize, mode: Mode, settings: Settings) -> Sim {
    let handle = jira_sim::start(SimConfig {
        dataset: DatasetConfig {
            projects: 5,
            issues,
            seed: 42,
            mode,
            anchor: anchor(),
            ..DatasetConfig::default()
        },
        settings,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let info = jira_sim::describe(&handle);
    Sim {
        handle,
        info,
        http: reqwest::Client::new(),
    }
}

impl Sim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.handle.base_url, path)
    }

    pub fn user(&self, email: &str) -> Value {
        self.info["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == email)
            .cloned()
            .unwrap_or_else(|| panic!("no user {email}"))
    }

    pub fn token(&self, email: &str) -> String {
        self.user(email)["token"].as_str().unwrap().to_string()
    }

    /// A request authenticated as `email` (Basic on Cloud, Bearer PAT on Data Center).
    pub fn as_user(&self, email: &str, method: reqwest::Method, path: &str) -> RequestBuilder {
        let rb = self.http.request(method, self.url(path));
        if self.info["mode"] == "datacenter" {
            rb.bearer_auth(self.token(email))
        } else {
            rb.basic_auth(email, Some(self.token(email)))
        }
    }

    pub async fn get(&self, email: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .as_user(email, reqwest::Method::GET, path)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, email: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .as_user(email, reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self.http.request(method, self.url(&format!("/_sim{path}")));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Ground truth, optionally as visible to one user.
    pub async fn truth(&self, as_user: Option<&str>) -> Vec<Value> {
        let path = match as_user {
            Some(u) => format!("/truth?as={u}"),
            None => "/truth".to_string(),
        };
        let (_, v) = self.admin(reqwest::Method::GET, &path, None).await;
        v["issues"].as_array().unwrap().clone()
    }

    /// All ids a `/search/jql` returns, following nextPageToken.
    pub async fn search_ids(&self, email: &str, jql: &str) -> Vec<String> {
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({"jql": jql, "maxResults": 5000});
            if let Some(t) = &token {
                body["nextPageToken"] = json!(t);
            }
            let (status, page) = self.post(email, "/rest/api/3/search/jql", body).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            ids.extend(issue_ids(&page));
            match page["nextPageToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => {
                    assert_eq!(page["isLast"], true);
                    break ids;
                }
            }
        }
    }
}

pub fn millis(text: &str) -> i64 {
    sei_jira_client::time::parse(text)
        .unwrap_or_else(|| panic!("bad timestamp {text}"))
        .timestamp_millis()
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Replaces every Jira timestamp in `v` with its epoch milliseconds, so that documents rendered
/// for viewers in different time zones can be compared.
pub fn instants(v: &Value) -> Value {
    match v {
        Value::String(s) if s.len() == 28 && s.as_bytes()[10] == b'T' => {
            sei_jira_client::time::parse(s)
                .map(|t| json!(t.timestamp_millis()))
                .unwrap_or_else(|| v.clone())
        }
        Value::Array(items) => Value::Array(items.iter().map(instants).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, x)| (k.clone(), instants(x))).collect())
        }
        other => other.clone(),
    }
}

/// The ids of a search page's issues, in page order.
pub fn issue_ids(page: &Value) -> Vec<String> {
    page["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}
