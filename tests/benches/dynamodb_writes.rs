//! What a sync writes to DynamoDB, per issue: item bytes and write units (DynamoDB's billing
//! rules applied to every write request the store sends, `sei_jira_aws::dynamo::capacity`),
//! beside the embedded store's bytes on disk for the same site.
//!
//! `cargo bench -p e2e --bench dynamodb_writes` (`DYNAMODB_BENCH_ISSUES`, default 2,000: moto's
//! transactions copy the whole table, so a larger site measures moto rather than the store).

use aws_sdk_dynamodb::config::Builder;
use sei_jira_aws::dynamo::DynamoStore;
use sei_jira_aws::dynamo::capacity::WriteMeter;
use sei_jira_core::jira::{
    Credentials, Deployment, JiraClient, PrivateNetworks, Secret, SiteConfig,
};
use sei_jira_core::store::SyncStore;
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::sync::{Scope, SyncOptions};

async fn sync_into(store: &dyn SyncStore, client: &JiraClient) -> u64 {
    let record = sei_jira_core::sync::run(
        client,
        store,
        &SyncOptions::new("bench", Scope::AllAccessible),
        None,
    )
    .await
    .unwrap();
    record.counts.issues_new
}

#[tokio::main]
async fn main() {
    let issues: usize = std::env::var("DYNAMODB_BENCH_ISSUES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
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
    let meter = WriteMeter::default();
    let dynamodb =
        aws_sdk_dynamodb::Client::from_conf(Builder::from(&sdk).interceptor(meter.clone()).build());
    DynamoStore::create_table(&dynamodb, "bench").await.unwrap();
    let before = meter.written();
    let synced = sync_into(&DynamoStore::new(dynamodb, "bench"), &client).await as f64;
    let written = meter.written();
    let (items, bytes, units) = (
        written.items - before.items,
        written.bytes - before.bytes,
        written.units - before.units,
    );
    println!(
        "DynamoDB, a backfill of {synced} issues: {items} items written ({:.1} per issue), {:.0} item bytes per issue, {:.2} write units per issue",
        items as f64 / synced,
        bytes as f64 / synced,
        units as f64 / synced,
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.redb");
    let synced = sync_into(&EmbeddedStore::open(&path).unwrap(), &client).await as f64;
    let mut compacted = EmbeddedStore::open(&path).unwrap();
    compacted.compact().unwrap();
    drop(compacted);
    println!(
        "embedded store, the same backfill: {:.0} bytes per issue on disk (compacted)",
        std::fs::metadata(&path).unwrap().len() as f64 / synced
    );
}
