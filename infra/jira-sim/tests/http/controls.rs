//! Latency, rate limiting, injected faults and eventual consistency.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;
use jira_sim::{Mode, Settings};

const ALICE: &str = "alice@example.com";

#[tokio::test]
async fn latency_delays_every_answer() {
    let sim = start_with(
        10,
        Mode::Cloud,
        Settings {
            latency_ms: 150,
            jitter_ms: 50,
            ..Settings::default()
        },
    )
    .await;
    let t = Instant::now();
    let (status, _) = sim.get(ALICE, "/rest/api/3/serverInfo").await;
    assert_eq!(status, StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn rate_limit_answers_429_with_jira_headers() {
    let sim = start_with(
        10,
        Mode::Cloud,
        Settings {
            rate_limit_rps: 5,
            ..Settings::default()
        },
    )
    .await;
    let mut limited = None;
    for _ in 0..20 {
        let r = sim
            .as_user(ALICE, Method::GET, "/rest/api/3/serverInfo")
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::OK {
            assert_eq!(r.headers()["x-ratelimit-limit"], "5");
            assert!(r.headers().contains_key("x-ratelimit-remaining"));
        } else {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("a 429 within 20 immediate requests at 5 rps");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let h = r.headers();
    assert!(h["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(h["x-ratelimit-remaining"], "0");
    assert!(
        sei_jira_client::time::parse(
            &h["x-ratelimit-reset"]
                .to_str()
                .unwrap()
                .replace('Z', "+00:00")
        )
        .is_some()
    );
    assert_eq!(h["ratelimit-reason"], "jira-burst-based");
    // The bucket refills: after the advised wait the request passes.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (status, _) = sim.get(ALICE, "/rest/api/3/serverInfo").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn forced_burst_of_429s() {
    let sim = start(10, Mode::Cloud).await;
    sim.admin(Method::PUT, "/control", Some(json!({"force_429": 3})))
        .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(sim.get(ALICE, "/rest/api/3/serverInfo").await.0);
    }
    assert_eq!(
        statuses,
        vec![
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::OK
        ]
    );
}

#[tokio::test]
async fn injected_5xx_and_dropped_connections() {
    let sim = start_with(
        10,
        Mode::Cloud,
        Settings {
            fault_rate: 1.0,
            drop_share: 0.0,
            ..Settings::default()
        },
    )
    .await;
    for _ in 0..5 {
        let (status, body) = sim.get(ALICE, "/rest/api/3/serverInfo").await;
        assert!(status.is_server_error(), "{status}");
        assert!(body["errorMessages"].is_array());
    }
    sim.admin(
        Method::PUT,
        "/control",
        Some(json!({"fault_rate": 1.0, "drop_share": 1.0})),
    )
    .await;
    let result = async {
        sim.as_user(ALICE, Method::GET, "/rest/api/3/serverInfo")
            .send()
            .await?
            .text()
            .await
    }
    .await;
    assert!(
        result.is_err(),
        "the connection drops mid-response: {result:?}"
    );
    // Mixed rate: roughly the configured share fails, the rest succeed.
    sim.admin(
        Method::PUT,
        "/control",
        Some(json!({"fault_rate": 0.3, "drop_share": 0.0})),
    )
    .await;
    let mut failed = 0;
    for _ in 0..200 {
        if sim.get(ALICE, "/rest/api/3/serverInfo").await.0 != StatusCode::OK {
            failed += 1;
        }
    }
    assert!((30..=90).contains(&failed), "{failed} of 200 failed at 30%");
}

#[tokio::test]
async fn eventual_consistency_hides_fresh_edits_unless_reconciled() {
    let sim = start_with(
        100,
        Mode::Cloud,
        Settings {
            consistency_lag_ms: 60_000,
            ..Settings::default()
        },
    )
    .await;
    let (status, created) = sim
        .admin(
            Method::POST,
            "/issues",
            Some(json!({"project": "SRE", "summary": "fresh"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap().to_string();
    let jql = "project = SRE AND updated >= -1h";
    assert!(!sim.search_ids(ALICE, jql).await.contains(&id));
    let (_, page) = sim
        .post(
            ALICE,
            "/rest/api/3/search/jql",
            json!({"jql": jql, "reconcileIssues": [id.parse::<i64>().unwrap()]}),
        )
        .await;
    let ids: Vec<&str> = page["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&id.as_str()));
    // Direct reads are consistent.
    let (status, _) = sim.get(ALICE, &format!("/rest/api/3/issue/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = sim
        .post(
            ALICE,
            "/rest/api/3/search/jql",
            json!({"jql": jql, "reconcileIssues": (0..51).collect::<Vec<i64>>()}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn request_counts_per_endpoint() {
    let sim = start(10, Mode::Cloud).await;
    for _ in 0..3 {
        sim.get(ALICE, "/rest/api/3/myself").await;
    }
    sim.post(
        ALICE,
        "/rest/api/3/search/jql",
        json!({"jql": "project = SRE", "fields": ["summary"]}),
    )
    .await;
    let (_, r) = sim.admin(Method::GET, "/requests", None).await;
    assert_eq!(r["counts"]["GET /rest/api/3/myself"], 3);
    assert_eq!(r["counts"]["POST /rest/api/3/search/jql"], 1);
    assert_eq!(r["total"], 4);
    let log = r["log"].as_array().unwrap();
    assert!(
        log.iter()
            .any(|e| e["body"].as_str().unwrap().contains("\"summary\""))
    );
    sim.admin(Method::DELETE, "/requests", None).await;
    let (_, r) = sim.admin(Method::GET, "/requests", None).await;
    assert_eq!(r["total"], 0);
}

#[tokio::test]
async fn partial_control_updates_keep_other_settings() {
    let sim = start(10, Mode::Cloud).await;
    sim.admin(
        Method::PUT,
        "/control",
        Some(json!({"latency_ms": 5, "rate_limit_rps": 50})),
    )
    .await;
    let (_, after) = sim
        .admin(Method::PUT, "/control", Some(json!({"force_429": 1})))
        .await;
    assert_eq!(after["latency_ms"], 5);
    assert_eq!(after["rate_limit_rps"], 50);
    assert_eq!(after["drop_share"], 0.25);
    let (status, _) = sim
        .admin(Method::PUT, "/control", Some(json!({"fault_rate": 3})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Jira may answer fewer issues a page than asked: with a cap, every page holds at most that
/// many, and the page tokens still lead through all of them.
#[tokio::test]
async fn a_search_page_cap_answers_smaller_pages_that_still_cover_everything() {
    let jql = "project = SRE ORDER BY id ASC";
    let uncapped = start_with(60, Mode::Cloud, Settings::default()).await;
    let all = uncapped.search_ids(ALICE, jql).await;
    let sim = start_with(
        60,
        Mode::Cloud,
        Settings {
            search_page_cap: 4,
            ..Settings::default()
        },
    )
    .await;
    let (status, page) = sim
        .post(
            ALICE,
            "/rest/api/3/search/jql",
            json!({"jql": jql, "maxResults": 5000}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["issues"].as_array().unwrap().len(), 4);
    assert!(all.len() > 4, "{}", all.len());
    assert_eq!(sim.search_ids(ALICE, jql).await, all);
}
