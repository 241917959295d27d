//! Exclusions changed after a sync take effect on what DynamoDB holds (issue #24, item 9), through
//! the API's PATCH and the sync function as deployed, on moto against the simulator: every item
//! of the table, unpacked, holds none of the excluded text once the exclusions are added, and all
//! of it again once they are taken away.

#[path = "deployed.rs"]
mod deployed;

use deployed::*;
use e2e::hygiene_truth::truth;
use serde_json::json;

const ALICE: &str = "alice@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exclusion_added_then_removed_scrubs_then_restores_every_item() {
    let (mut w, site) = stage(120, 2).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    let id = w.create_alices("Acme Jira", &base, &token).await;
    let scheduled = scheduled(&id);
    let sync = async |w: &mut World, run: &str| {
        let out = w.sync(scheduled.clone(), None, run).await;
        assert_eq!(out["outcome"], "succeeded", "{out}");
    };
    sync(&mut w, "run-1").await;
    let secrets = jira_sim::excluded_texts(&truth(&base, ALICE).await);
    assert!(secrets.len() > 100, "{}", secrets.len());
    let present = |dump: &str| secrets.iter().filter(|s| dump.contains(s.as_str())).count();
    assert_eq!(
        present(&w.table_dump().await),
        secrets.len(),
        "all of it at first"
    );

    let patch = async |w: &mut World, fields: serde_json::Value| {
        let (status, body) = w
            .api(
                "acme",
                "PATCH /integrations/{integrationId}",
                &[&id],
                Some(json!({ "excluded_fields": fields })),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    };
    // WHEN summary, description and comments are excluded, THEN the next sync leaves none of
    // their text in any item
    patch(&mut w, json!(["summary", "description", "comments"])).await;
    sync(&mut w, "run-2").await;
    assert_eq!(
        present(&w.table_dump().await),
        0,
        "no excluded text is left"
    );
    let exclusions = async |w: &mut World| {
        let route = "GET /integrations/{integrationId}/monitoring";
        let (status, body) = w.api("acme", route, &[&id], None).await;
        assert_eq!(status, 200, "{body}");
        body["exclusions"].clone()
    };
    assert_eq!(
        exclusions(&mut w).await,
        json!({"applied": ["summary", "description", "comments"], "scrubbing": null,
            "refetching": false}),
        "monitoring shows the store in line with the exclusions"
    );

    // WHEN the exclusions are taken away, THEN the next sync brings all of it back
    patch(&mut w, json!([])).await;
    sync(&mut w, "run-3").await;
    assert_eq!(
        present(&w.table_dump().await),
        secrets.len(),
        "all of it is back"
    );
    assert_eq!(exclusions(&mut w).await["applied"], json!([]));
}
