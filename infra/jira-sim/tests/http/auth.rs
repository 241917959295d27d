//! Authentication and permission cases, each as Jira Cloud answers it.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::*;
use jira_sim::Mode;

const ALL: &str = "BROWSE_PROJECTS,VIEW_AGGREGATED_DATA,USER_PICKER";

async fn permissions(sim: &Sim, email: &str) -> Value {
    let (status, body) = sim
        .get(
            email,
            &format!("/rest/api/3/mypermissions?permissions={ALL}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["permissions"].clone()
}

#[tokio::test]
async fn classic_token_authenticates_as_a_real_user() {
    let sim = start(50, Mode::Cloud).await;
    let (status, me) = sim.get("alice@example.com", "/rest/api/3/myself").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["accountType"], "atlassian");
    assert_eq!(me["emailAddress"], "alice@example.com");
    assert_eq!(me["timeZone"], "Pacific/Honolulu");
    assert!(
        me.get("key").is_none() && me.get("name").is_none(),
        "Cloud has no key/name"
    );
    let p = permissions(&sim, "alice@example.com").await;
    for k in ["BROWSE_PROJECTS", "VIEW_AGGREGATED_DATA", "USER_PICKER"] {
        assert_eq!(p[k]["havePermission"], true, "{k}");
    }
}

#[tokio::test]
async fn wrong_token_is_401_with_the_seraph_header() {
    let sim = start(50, Mode::Cloud).await;
    let r = sim
        .http
        .get(sim.url("/rest/api/3/myself"))
        .basic_auth("alice@example.com", Some("not-the-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["x-seraph-loginreason"], "AUTHENTICATED_FAILED");
    let r = sim
        .http
        .get(sim.url("/rest/api/3/myself"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "no credentials at all"
    );
    assert!(r.headers().get("x-seraph-loginreason").is_none());
}

#[tokio::test]
async fn anonymous_capable_endpoints_answer_a_bad_token_with_empty_results() {
    let sim = start(200, Mode::Cloud).await;
    let bad = |path: &str| {
        sim.http
            .get(sim.url(path))
            .basic_auth("alice@example.com", Some("expired-token"))
    };
    let r = bad("/rest/api/3/search/jql?jql=project%20%3D%20PLAT")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-seraph-loginreason"], "AUTHENTICATED_FAILED");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["issues"].as_array().unwrap().len(), 0);
    let r = bad("/rest/api/3/project/search").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["total"], 0);
    let r = bad(&format!("/rest/api/3/mypermissions?permissions={ALL}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-seraph-loginreason"], "AUTHENTICATED_FAILED");
    assert_eq!(
        r.json::<Value>().await.unwrap()["permissions"]["BROWSE_PROJECTS"]["havePermission"],
        false
    );
}

#[tokio::test]
async fn scoped_token_is_refused_on_the_site_url() {
    let sim = start(50, Mode::Cloud).await;
    assert_eq!(sim.user("scoped@example.com")["kind"], "scoped_token");
    let (status, _) = sim.get("scoped@example.com", "/rest/api/3/myself").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn service_account_is_an_app_account_reachable_only_through_the_gateway() {
    let sim = start(50, Mode::Cloud).await;
    let email = "sync-bot@serviceaccount.atlassian.com";
    let (status, _) = sim.get(email, "/rest/api/3/myself").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "scoped service-account tokens fail on the site URL"
    );
    let (_, tenant) = sim.get(email, "/_edge/tenant_info").await;
    let gateway = format!(
        "/ex/jira/{}/rest/api/3/myself",
        tenant["cloudId"].as_str().unwrap()
    );
    let (status, me) = sim.get(email, &gateway).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["accountType"], "app");
    assert_eq!(me["appType"], "service");
    // A scoped user token works there too; a wrong token does not.
    assert_eq!(
        sim.get("scoped@example.com", &gateway).await.0,
        StatusCode::OK
    );
    let r = sim
        .http
        .get(sim.url(&gateway))
        .basic_auth("scoped@example.com", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn users_lacking_a_permission_see_it_missing() {
    let sim = start(300, Mode::Cloud).await;
    // Carol lacks View Aggregated Data.
    let p = permissions(&sim, "carol@example.com").await;
    assert_eq!(p["VIEW_AGGREGATED_DATA"]["havePermission"], false);
    assert_eq!(p["BROWSE_PROJECTS"]["havePermission"], true);
    // Dave lacks Browse users and groups: the permission says so and /users/search is 403.
    let p = permissions(&sim, "dave@example.com").await;
    assert_eq!(p["USER_PICKER"]["havePermission"], false);
    let (status, _) = sim
        .get("dave@example.com", "/rest/api/3/users/search")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, users) = sim
        .get(
            "alice@example.com",
            "/rest/api/3/users/search?maxResults=1000",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let users = users.as_array().unwrap();
    assert!(
        users.iter().any(|u| u["active"] == false),
        "inactive users are listed too"
    );
    // Nora lacks Browse Projects: nothing is visible.
    let p = permissions(&sim, "nora@example.com").await;
    assert_eq!(p["BROWSE_PROJECTS"]["havePermission"], false);
    let (_, projects) = sim
        .get("nora@example.com", "/rest/api/3/project/search")
        .await;
    assert_eq!(projects["total"], 0);
}

#[tokio::test]
async fn a_project_without_browse_rights_is_invisible() {
    let sim = start(300, Mode::Cloud).await;
    let erin = "erin@example.com";
    let (_, projects) = sim.get(erin, "/rest/api/3/project/search").await;
    let keys: Vec<&str> = projects["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert!(!keys.contains(&"PLAT") && keys.contains(&"SRE"));
    // Searching it names the value as unknown, as Jira does for invisible projects.
    let (status, body) = sim
        .post(
            erin,
            "/rest/api/3/search/jql",
            serde_json::json!({"jql": "project = PLAT"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessages"][0],
        "The value 'PLAT' does not exist for the field 'project'."
    );
    // Its issues are absent from broad searches and 404 when fetched.
    let visible = sim.search_ids(erin, "created >= -1000d").await;
    let truth = sim.truth(None).await;
    let plat: Vec<&Value> = truth.iter().filter(|i| i["project"] == "PLAT").collect();
    assert!(!plat.is_empty());
    assert!(
        plat.iter()
            .all(|i| !visible.contains(&i["id"].as_str().unwrap().to_string()))
    );
    assert_eq!(visible.len(), truth.len() - plat.len());
    let (status, _) = sim
        .get(
            erin,
            &format!("/rest/api/3/issue/{}", plat[0]["key"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = sim
        .get(
            erin,
            "/rest/api/3/mypermissions?permissions=BROWSE_PROJECTS&projectKey=PLAT",
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn permissions_change_mid_run() {
    let sim = start(100, Mode::Cloud).await;
    let (status, _) = sim
        .admin(
            Method::PUT,
            "/users/alice@example.com/permissions",
            Some(serde_json::json!({"denied": ["USER_PICKER"], "hidden_projects": ["SRE"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let p = permissions(&sim, "alice@example.com").await;
    assert_eq!(p["USER_PICKER"]["havePermission"], false);
    let (_, projects) = sim
        .get("alice@example.com", "/rest/api/3/project/search")
        .await;
    assert!(
        projects["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["key"] != "SRE")
    );
}
