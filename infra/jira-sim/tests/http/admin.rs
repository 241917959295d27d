//! The admin API changes the site mid-run; Jira's endpoints reflect each change.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;
use jira_sim::Mode;

const ALICE: &str = "alice@example.com";

#[tokio::test]
async fn create_edit_move_delete() {
    let sim = start(200, Mode::Cloud).await;
    let before = sim.truth(None).await.len();

    let (status, created) = sim.admin(Method::POST, "/issues", Some(json!({"project": "SRE", "issuetype": "Bug", "summary": "Pager storm", "assignee": "alice@example.com"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("SRE-"));

    let (status, _) = sim.admin(Method::POST, &format!("/issues/{key}/edit"), Some(json!({"status": "In Progress", "assignee": null, "summary": "Pager storm at night", "story_points": 5, "comment": "on it"}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, issue) = sim
        .get(ALICE, &format!("/rest/api/3/issue/{key}?expand=changelog"))
        .await;
    assert_eq!(issue["fields"]["status"]["name"], "In Progress");
    assert!(issue["fields"]["assignee"].is_null());
    assert_eq!(issue["fields"]["comment"]["total"], 1);
    let items: Vec<&str> = issue["changelog"]["histories"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        items,
        vec!["status", "assignee", "summary", "Story point estimate"]
    );

    let (status, moved) = sim
        .admin(
            Method::POST,
            &format!("/issues/{key}/move"),
            Some(json!({"project": "WEB"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let new_key = moved["key"].as_str().unwrap();
    assert!(new_key.starts_with("WEB-"));
    // The old key still resolves to the moved issue; its changelog records the move.
    let (status, issue) = sim
        .get(ALICE, &format!("/rest/api/3/issue/{key}?expand=changelog"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(issue["key"], new_key);
    assert_eq!(issue["id"], created["id"]);
    let items = issue["changelog"]["histories"][0]["items"]
        .as_array()
        .unwrap();
    assert!(items.iter().any(|i| i["field"] == "Key"
        && i["fromString"] == key.as_str()
        && i["toString"] == new_key));
    assert!(
        sim.search_ids(ALICE, "project = WEB")
            .await
            .contains(&created["id"].as_str().unwrap().to_string())
    );
    assert!(
        !sim.search_ids(ALICE, "project = SRE")
            .await
            .contains(&created["id"].as_str().unwrap().to_string())
    );

    let (status, _) = sim
        .admin(Method::DELETE, &format!("/issues/{new_key}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = sim
        .get(ALICE, &format!("/rest/api/3/issue/{new_key}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(sim.truth(None).await.len(), before);
    let (status, _) = sim
        .admin(Method::POST, "/issues", Some(json!({"project": "NOPE"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn same_seed_serves_the_same_site() {
    let a = start(300, Mode::Cloud).await;
    let b = start(300, Mode::Cloud).await;
    let strip = |v: Vec<serde_json::Value>| {
        v.into_iter()
            .map(|i| {
                (
                    i["key"].clone(),
                    i["fields"]["summary"].clone(),
                    i["fields"]["updated"].clone(),
                    i["changelog"].as_array().unwrap().len(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(a.truth(None).await), strip(b.truth(None).await));
    assert_eq!(a.info["users"], b.info["users"]);
}

#[tokio::test]
async fn boards_and_sprints() {
    let sim = start(100, Mode::Cloud).await;
    let (status, boards) = sim.get(ALICE, "/rest/agile/1.0/board").await;
    assert_eq!(status, StatusCode::OK);
    let values = boards["values"].as_array().unwrap();
    let scrum = values.iter().find(|b| b["type"] == "scrum").unwrap();
    let kanban = values.iter().find(|b| b["type"] == "kanban").unwrap();
    let (status, sprints) = sim
        .get(
            ALICE,
            &format!(
                "/rest/agile/1.0/board/{}/sprint?state=active,closed",
                scrum["id"]
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let states: Vec<&str> = sprints["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert!(states.contains(&"closed"));
    let (status, _) = sim
        .get(
            ALICE,
            &format!("/rest/agile/1.0/board/{}/sprint", kanban["id"]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
