//! What a sync costs in DynamoDB, per issue: item bytes, write units and read units (DynamoDB's
//! billing rules applied to every request the store sends and every answer it reads,
//! `sei_jira_aws::dynamo::capacity`) — for a backfill followed, as in a deployment, by the
//! hygiene index's refresh and the day's snapshot (each phase with its CPU time and wall time),
//! a run that finds nothing new, and a run after 1 % of the issues changed — beside the embedded
//! store's bytes on disk for the same site. The cost model in docs/operations.md starts from these
//! figures; the scale benchmark (`infra/scripts/scale_bench.py`) prints them beside its sizes.
//!
//! `cargo bench -p e2e --bench dynamodb_capacity` (`DYNAMODB_BENCH_ISSUES`, default 500: moto's
//! transactions copy the whole table, so a larger site measures moto rather than the store). The
//! simulator runs in this process, so the sync's CPU time includes its answers; moto's is not.

use aws_sdk_dynamodb::config::Builder;
use sei_jira_aws::dynamo::DynamoStore;
use sei_jira_aws::dynamo::capacity::{CapacityMeter, Read, Written};
use sei_jira_core::jira::{
    Credentials, Deployment, JiraClient, PrivateNetworks, Secret, SiteConfig,
};
use std::time::Instant;

use sei_jira_core::hygiene::{indexer, service};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{IntegrationRecord, ScopeConfig, SyncStore};
use sei_jira_core::sync::{Scope, SyncOptions};
use sei_jira_lambda::process;

const INTEGRATION: &str = "bench";

async fn sync_into(store: &dyn SyncStore, client: &JiraClient) -> u64 {
    let record = sei_jira_core::sync::run(
        client,
        store,
        &SyncOptions::new(INTEGRATION, Scope::AllAccessible),
        None,
    )
    .await
    .unwrap();
    record.counts.issues_new + record.counts.issues_updated
}

/// The integration as the API keeps it: what the index refresh and the snapshot read.
fn integration() -> IntegrationRecord {
    IntegrationRecord {
        account: "bench".into(),
        id: INTEGRATION.into(),
        name: "bench".into(),
        description: String::new(),
        tags: Vec::new(),
        deployment: Deployment::Cloud,
        url: String::new(),
        email: None,
        secret_name: String::new(),
        scope: ScopeConfig::AllAccessible,
        excluded_fields: Vec::new(),
        custom_fields: Vec::new(),
        schedule_rate: "rate(1 hour)".into(),
        created_ms: 0,
        updated_ms: 0,
    }
}

/// The hygiene index brought up to date after a sync; the issues it evaluated.
async fn refresh_index(store: &DynamoStore) -> u64 {
    let refreshed = indexer::refresh(store, &integration(), "bench", None)
        .await
        .unwrap();
    refreshed.evaluated as u64
}

/// The day's snapshot, read from the index.
async fn snapshot(store: &DynamoStore) -> u64 {
    let now = chrono::Utc::now().timestamp_millis();
    service::take_snapshot(store, &integration(), now)
        .await
        .unwrap();
    1
}

/// Runs a phase against DynamoDB and prints what it cost, per issue of the site (`site`), with
/// the process's CPU time and the wall time it took.
async fn measured(what: &str, meter: &CapacityMeter, site: f64, phase: impl Future<Output = u64>) {
    let (written0, read0) = (meter.written(), meter.read());
    let (cpu0, wall0) = (process::cpu_time(), Instant::now());
    let done = phase.await;
    let (cpu, wall) = (process::cpu_time() - cpu0, wall0.elapsed());
    let (written, read) = (meter.written(), meter.read());
    let w = Written {
        items: written.items - written0.items,
        bytes: written.bytes - written0.bytes,
        units: written.units - written0.units,
    };
    let r = Read {
        items: read.items - read0.items,
        bytes: read.bytes - read0.bytes,
        units: read.units - read0.units,
    };
    println!(
        "DynamoDB, {what} ({done} done, {site} issues on the site; CPU {:.2} s, wall {:.1} s): \
         {} items written ({:.2} per site issue), {:.0} item bytes per site issue; {} write units \
         ({:.2} per site issue); {} items read, {:.1} read units ({:.3} per site issue)",
        cpu.as_secs_f64(),
        wall.as_secs_f64(),
        w.items,
        w.items as f64 / site,
        w.bytes as f64 / site,
        w.units,
        w.units as f64 / site,
        r.items,
        r.units,
        r.units / site,
    );
}

#[tokio::main]
async fn main() {
    let issues: usize = std::env::var("DYNAMODB_BENCH_ISSUES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let config = jira_sim::SimConfig {
        dataset: jira_sim::DatasetConfig {
            issues,
            projects: 5,
            ..jira_sim::DatasetConfig::default()
        },
        ..jira_sim::SimConfig::default()
    };
    let sim = jira_sim::start(config).await.expect("simulator starts");
    let info = jira_sim::describe(&sim);
    let base = info["base_url"].as_str().unwrap();
    let token = jira_sim::user_token(&info, "alice@example.com").unwrap();
    let mut site = SiteConfig::new(
        base,
        Deployment::Cloud,
        Credentials::ApiToken {
            email: "alice@example.com".into(),
            token: Secret::new(token),
        },
    );
    site.private_networks = PrivateNetworks::local();
    let client = JiraClient::new(&site).unwrap();

    let moto = e2e::start_moto();
    let sdk = sei_jira_aws::local_sdk_config(moto.endpoint(), "us-east-1")
        .await
        .unwrap();
    let meter = CapacityMeter::default();
    let dynamodb =
        aws_sdk_dynamodb::Client::from_conf(Builder::from(&sdk).interceptor(meter.clone()).build());
    DynamoStore::create_table(&dynamodb, "bench").await.unwrap();
    let store = DynamoStore::new(dynamodb, "bench");
    let site_issues = issues as f64;
    measured(
        "a backfill",
        &meter,
        site_issues,
        sync_into(&store, &client),
    )
    .await;
    measured(
        "the index refresh after it",
        &meter,
        site_issues,
        refresh_index(&store),
    )
    .await;
    measured("the day's snapshot", &meter, site_issues, snapshot(&store)).await;
    println!(
        "peak RSS of the process so far (the simulator in it): {:.0} MiB",
        process::peak_rss_bytes() as f64 / (1024.0 * 1024.0)
    );
    measured(
        "a run that finds nothing new",
        &meter,
        site_issues,
        sync_into(&store, &client),
    )
    .await;
    let changed = edit_some(base, issues / 100).await;
    let what = format!("a run after {changed} issues changed");
    measured(&what, &meter, site_issues, sync_into(&store, &client)).await;
    measured(
        "the index refresh after it",
        &meter,
        site_issues,
        refresh_index(&store),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.redb");
    // The site as the backfill found it and the runs since changed it: as many issues.
    sync_into(&EmbeddedStore::open(&path).unwrap(), &client).await;
    let synced = site_issues;
    let mut compacted = EmbeddedStore::open(&path).unwrap();
    compacted.compact().unwrap();
    drop(compacted);
    println!(
        "embedded store, the same backfill: {:.0} bytes per issue on disk (compacted)",
        std::fs::metadata(&path).unwrap().len() as f64 / synced
    );
}

/// Edits the first `n` issues of the site (a label each, one changelog entry); how many.
async fn edit_some(base: &str, n: usize) -> usize {
    let http = reqwest::Client::new();
    let truth: serde_json::Value = http
        .get(format!("{base}/_sim/truth"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Vec<String> = truth["issues"]
        .as_array()
        .unwrap()
        .iter()
        .take(n.max(1))
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect();
    for key in &keys {
        let answer = http
            .post(format!("{base}/_sim/issues/{key}/edit"))
            .json(&serde_json::json!({"labels": ["capacity-bench"]}))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{key}");
    }
    keys.len()
}
