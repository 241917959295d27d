//! Simulator benchmark (not a test): how long generating a large site takes, and how fast a
//! 100-issue page with changelog is served from it. Prints figures; asserts nothing.
//!
//! `cargo bench -p jira-sim --bench sim_bench` (set SIM_BENCH_ISSUES to change the size).

use std::time::Instant;

use jira_sim::{DatasetConfig, Mode, Settings, dataset, server};
use serde_json::{Value, json};

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let issues: usize = std::env::var("SIM_BENCH_ISSUES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let config = DatasetConfig {
        projects: 10,
        issues,
        seed: 42,
        mode: Mode::Cloud,
        anchor: chrono::Utc::now(),
        classic_story_points: false,
        operations: false,
    };

    let t = Instant::now();
    let site = dataset::generate(&config);
    let generation = t.elapsed();
    let histories: usize = site.issues.values().map(|i| i.histories.len()).sum();
    let comments: usize = site.issues.values().map(|i| i.comments.len()).sum();
    println!(
        "generate: {issues} issues, {histories} changelog histories, {comments} comments in {:.2} s (RSS {:.0} MiB)",
        generation.as_secs_f64(),
        rss_mib()
    );

    let sim = server::serve(
        site,
        Settings::default(),
        42,
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let info = jira_sim::describe(&sim);
    let alice = jira_sim::user_token(&info, "alice@example.com").expect("a user of the simulator");
    let http = reqwest::Client::new();
    let url = format!("{}/rest/api/3/search/jql", sim.base_url);

    for (label, body) in [
        (
            "100 issues, *navigable + changelog",
            json!({"jql": "project = PLAT ORDER BY key ASC", "fields": ["*navigable"], "expand": "changelog", "maxResults": 100}),
        ),
        (
            "5000 ids (census page)",
            json!({"jql": "project = PLAT ORDER BY key ASC", "fields": ["id"], "maxResults": 5000}),
        ),
    ] {
        let mut token: Option<String> = None;
        let mut times = Vec::new();
        let mut bytes = 0usize;
        for _ in 0..30 {
            let mut b = body.clone();
            if let Some(t) = &token {
                b["nextPageToken"] = json!(t);
            }
            let t = Instant::now();
            let text = http
                .post(&url)
                .basic_auth("alice@example.com", Some(&alice))
                .json(&b)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            bytes += text.len();
            let page: Value = serde_json::from_str(&text).unwrap();
            token = page["nextPageToken"].as_str().map(String::from);
            if token.is_none() {
                break;
            }
        }
        let n = times.len();
        times.sort_by(f64::total_cmp);
        println!(
            "serve {label}: {n} pages, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms, {:.0} KiB/page",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times[n - 1],
            bytes as f64 / n as f64 / 1024.0
        );
    }
    sim.stop().await;
}
