//! `sei-jira dora` against the simulator's ground truth: the metrics of a synced store equal a
//! computation written from the definitions, over `/_sim/truth` (what the syncing user can
//! see), without calling the metrics code ([`e2e::dora_truth`]).

use e2e::hygiene_truth::truth;
use e2e::{cli_sync, dora_truth, ok_json, sei_jira, start_sim};
use serde_json::json;

#[tokio::test]
async fn the_metrics_equal_the_definitions_applied_to_the_ground_truth() {
    let sim = start_sim(&["--issues", "3000", "--projects", "3"]);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let email = "alice@example.com";
    let token = jira_sim::user_token(&sim.startup, email).expect("a user of the simulator");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.redb");
    let store = store.to_str().unwrap();
    cli_sync(store, &base, email, &token);
    let profile = dir.path().join("profile.json");
    std::fs::write(
        &profile,
        json!({"name": "Operations",
            "incidents": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Incident"]}]}]},
            "changes": {"sets": [{"conditions": [{"field": "issue type", "operator": "in", "values": ["Change", "Bug"]}]}]}})
        .to_string(),
    )
    .unwrap();
    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Days::new(730);
    let report = ok_json(sei_jira(&[
        "dora",
        "--store",
        store,
        "--profile",
        profile.to_str().unwrap(),
        "--from",
        &from.to_string(),
        "--to",
        &today.to_string(),
        "--aggregation",
        "mean",
        "--json",
    ]));
    let metrics = &report["metrics"];
    let midnight =
        |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis();
    let (from_ms, to_ms) = (midnight(from), midnight(today + chrono::Days::new(1)));

    let issues = truth(&base, email).await;
    let pairs = dora_truth::check(metrics, &issues, (from_ms, to_ms), &["Change", "Bug"], 24);
    assert!(
        pairs.by_link > 0 && pairs.by_window > 0,
        "both rules met: {pairs:?}"
    );
}
