//! Data Center mode: /rest/api/2 only, Bearer personal access tokens, startAt/total search,
//! users with name/key, wiki markup instead of ADF.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;
use jira_sim::Mode;

const ALICE: &str = "alice@example.com";

#[tokio::test]
async fn data_center_speaks_v2_with_personal_access_tokens() {
    let sim = start(400, Mode::DataCenter).await;
    assert_eq!(sim.user(ALICE)["kind"], "pat");
    let (status, me) = sim.get(ALICE, "/rest/api/2/myself").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["name"], "alice");
    assert!(me["key"].as_str().unwrap().starts_with("JIRAUSER"));
    assert!(me.get("accountId").is_none());
    let (_, info) = sim.get(ALICE, "/rest/api/2/serverInfo").await;
    assert_ne!(info["deploymentType"], "Cloud");
    // No v3, no enhanced search, no tenant info.
    assert_eq!(
        sim.get(ALICE, "/rest/api/3/myself").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.post(
            ALICE,
            "/rest/api/2/search/jql",
            json!({"jql": "project = PLAT"})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.get(ALICE, "/_edge/tenant_info").await.0,
        StatusCode::NOT_FOUND
    );
    // A wrong PAT is refused.
    let r = sim
        .http
        .get(sim.url("/rest/api/2/myself"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn data_center_search_pages_with_start_at_and_total() {
    let sim = start(400, Mode::DataCenter).await;
    let truth = sim.truth(Some(ALICE)).await;
    let expected = truth.iter().filter(|i| i["project"] == "SRE").count();
    let mut seen = Vec::new();
    let mut start_at = 0;
    loop {
        let (status, page) = sim.post(ALICE, "/rest/api/2/search", json!({"jql": "project = SRE ORDER BY key ASC", "startAt": start_at, "maxResults": 25, "fields": ["summary", "description", "assignee"], "expand": ["changelog"]})).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total"], expected);
        let issues = page["issues"].as_array().unwrap();
        for i in issues {
            // Wiki markup, not ADF; user fields carry name/key.
            assert!(i["fields"]["description"].is_null() || i["fields"]["description"].is_string());
            if i["fields"]["assignee"].is_object() {
                assert!(i["fields"]["assignee"]["name"].is_string());
            }
            // The whole changelog is embedded on Data Center.
            assert_eq!(
                i["changelog"]["histories"].as_array().unwrap().len(),
                i["changelog"]["total"].as_u64().unwrap() as usize
            );
        }
        seen.extend(issues.iter().map(|i| i["id"].as_str().unwrap().to_string()));
        start_at += issues.len();
        if issues.is_empty() || start_at >= expected {
            break;
        }
    }
    assert_eq!(seen.len(), expected);
    // Changelog user values are user keys, not accountIds.
    let (_, page) = sim
        .get(
            ALICE,
            "/rest/api/2/search?jql=project%3DSRE&expand=changelog&maxResults=200",
        )
        .await;
    let assignee_item = page["issues"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["changelog"]["histories"].as_array().unwrap().iter())
        .flat_map(|h| h["items"].as_array().unwrap().iter())
        .find(|it| it["field"] == "assignee" && it["to"].is_string());
    assert!(
        assignee_item.unwrap()["to"]
            .as_str()
            .unwrap()
            .starts_with("JIRAUSER")
    );
    let (status, _) = sim.admin(Method::GET, "/info", None).await;
    assert_eq!(status, StatusCode::OK);
}
