//! `sei-jira serve` as a person runs it: the binary on a loopback port over a fresh store,
//! against the Jira simulator, called over HTTP with the bearer token it printed. Every answer
//! is checked against docs/openapi.yaml, as the functions' are in `functions_e2e`.

use std::process::Command;
use std::time::{Duration, Instant};

use e2e::openapi::OpenApi;
use e2e::{Running, binary, start_printing_json, start_serve, start_sim};
use serde_json::{Value, json};

struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
    contract: OpenApi,
    /// The documented routes that have answered with success.
    succeeded: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Client {
    /// `route` (`METHOD /path/{param}`) with `ids` in its braces: the status and JSON answer,
    /// checked against the document.
    async fn call(&self, route: &str, ids: &[&str], body: Option<Value>) -> (u16, Value) {
        let (method, template) = route.split_once(' ').unwrap();
        let mut path = template.to_string();
        for id in ids {
            let start = path.find('{').unwrap();
            let end = path[start..].find('}').unwrap() + start;
            path.replace_range(start..=end, id);
        }
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = &body {
            request = request.json(b);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status().as_u16();
        let content_type = answer
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let text = answer.text().await.unwrap();
        let route_only = route.split('?').next().unwrap();
        if let Err(e) = self.contract.check_request(route_only, body.as_ref()) {
            panic!("docs/openapi.yaml disagrees with the request sent: {e}");
        }
        if (200..300).contains(&status) {
            self.succeeded
                .lock()
                .unwrap()
                .insert(route_only.to_string());
        }
        if let Err(e) =
            self.contract
                .check_response(route_only, status, content_type.as_deref(), &text)
        {
            panic!("docs/openapi.yaml disagrees with serve's answer: {e}");
        }
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// GIVEN `sei-jira serve` over an empty store and the simulator, WHEN a person adds an
/// integration with a wrong token, then the right one, and asks for a sync now, THEN the wrong
/// token is refused with its check named, the right one is kept in the 0600 file beside the
/// store and nowhere in it, the sync runs in-process and monitoring turns Healthy with the
/// site's counts, and hygiene answers from the index the sync's event had built.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_product_runs_on_one_machine() {
    let sim = start_sim(&["--issues", "60", "--projects", "2", "--seed", "27"]);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let token = jira_sim::user_token(&sim.startup, "alice@example.com").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.redb");
    let serve = start_serve(&store);
    let client = Client {
        http: reqwest::Client::new(),
        url: serve.startup["url"].as_str().unwrap().to_string(),
        token: serve.startup["token"].as_str().unwrap().to_string(),
        contract: OpenApi::load(),
        succeeded: Default::default(),
    };

    // Without the token, nothing answers.
    let anonymous = reqwest::get(format!("{}/integrations", client.url))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let create = |token: &str| {
        json!({"name": "Local", "connection": {"deployment": "cloud", "url": base,
            "email": "alice@example.com", "token": token}, "scope": {"kind": "all_accessible"}})
    };
    let (status, refused) = client
        .call("POST /integrations", &[], Some(create("not-the-token")))
        .await;
    assert_eq!(
        (status, &refused["code"]),
        (400, &json!("validation_failed")),
        "{refused}"
    );
    let failed: Vec<&Value> = refused["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .collect();
    assert!(!failed.is_empty(), "{refused}");

    let token = token.as_str();
    let (status, created) = client
        .call("POST /integrations", &[], Some(create(token)))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let secrets = std::path::PathBuf::from(format!("{}.secrets.json", store.display()));
    assert!(std::fs::read_to_string(&secrets).unwrap().contains(token));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secrets).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let (status, asked) = client
        .call("POST /integrations/{integrationId}/sync", &[&id], None)
        .await;
    assert_eq!(status, 202, "{asked}");
    let issues = sim.startup["issues"].as_u64().unwrap();
    let projects = sim.startup["projects"].as_array().unwrap().len();
    let started = Instant::now();
    let monitoring = loop {
        let (status, m) = client
            .call("GET /integrations/{integrationId}/monitoring", &[&id], None)
            .await;
        assert_eq!(status, 200, "{m}");
        if m["health"]["status"] == "Healthy" && m["tickets"]["total"] == issues {
            break m;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no healthy sync in 90 s: {m}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(monitoring["projects"]["total"], projects, "{monitoring}");
    let stored = std::fs::read(&store).unwrap();
    assert!(
        !stored.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is in the store"
    );

    // The completed sync's event reached the hygiene work in-process: its index answers.
    let started = Instant::now();
    loop {
        let (status, hygiene) = client
            .call("GET /integrations/{integrationId}/hygiene", &[&id], None)
            .await;
        if status == 200 && hygiene["counted_from"] == "index" {
            assert_eq!(hygiene["total_tickets"], issues, "{hygiene}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no hygiene index in 60 s: {status} {hygiene}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(serve);
}

/// GIVEN an address other machines can reach, WHEN `sei-jira serve` is asked to listen there,
/// THEN it refuses, naming the flag, and listens nowhere.
#[test]
fn the_local_server_listens_on_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.redb");
    let out = e2e::sei_jira(&[
        "serve",
        "--addr",
        "0.0.0.0:0",
        "--store",
        store.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("--addr: 0.0.0.0:0 is not a loopback address"),
        "{stderr}"
    );
}

/// GIVEN `sei-jira serve --demo`, WHEN it starts, THEN it holds one integration of the simulator
/// it started, which syncs by itself to Healthy with every simulated issue, and it prints the
/// console's one-time link, which works once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_server_opens_on_a_synced_integration() {
    let mut command = Command::new(binary("sei-jira"));
    command.args([
        "serve",
        "--demo",
        "--demo-issues",
        "150",
        "--addr",
        "127.0.0.1:0",
    ]);
    let serve = start_printing_json(command);
    let client = Client {
        http: reqwest::Client::new(),
        url: serve.startup["url"].as_str().unwrap().to_string(),
        token: serve.startup["token"].as_str().unwrap().to_string(),
        contract: OpenApi::load(),
        succeeded: Default::default(),
    };
    let (status, list) = client.call("GET /integrations", &[], None).await;
    assert_eq!(status, 200, "{list}");
    let integrations = list["integrations"].as_array().unwrap();
    assert_eq!(integrations.len(), 1, "{list}");
    let id = integrations[0]["id"].as_str().unwrap().to_string();
    let started = Instant::now();
    loop {
        let (_, m) = client
            .call("GET /integrations/{integrationId}/monitoring", &[&id], None)
            .await;
        if m["health"]["status"] == "Healthy" && m["tickets"]["total"] == 150 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "{m}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let link = serve.startup["console"].as_str().unwrap();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = no_redirects.get(link).send().await.unwrap();
    assert_eq!(first.status(), 303);
    assert!(
        first.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("HttpOnly")
    );
    let again = no_redirects.get(link).send().await.unwrap();
    assert_eq!(again.status(), 401, "the link works once");
}

/// The client of a started `sei-jira serve`, with the bearer token it printed.
fn client_of(serve: &Running) -> Client {
    Client {
        http: reqwest::Client::new(),
        url: serve.startup["url"].as_str().unwrap().to_string(),
        token: serve.startup["token"].as_str().unwrap().to_string(),
        contract: OpenApi::load(),
        succeeded: Default::default(),
    }
}

/// Calls `route` until `done` holds of its answer (work `serve` does in the background: a sync,
/// an index build), for at most 90 s.
async fn until(
    client: &Client,
    route: &str,
    ids: &[&str],
    done: impl Fn(u16, &Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = client.call(route, ids, None).await;
        if done(status, &body) {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{route}: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// GIVEN `sei-jira serve` and the simulator, WHEN every route of docs/openapi.yaml is called (each
/// request and answer checked against the document as it goes), THEN each has succeeded at
/// least once, and the changes are the ones asked for — the API contract the functions are held
/// to (`functions_e2e`), on the local server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_on_serve_as_the_openapi_document_says() {
    let sim = start_sim(&["--issues", "60", "--projects", "2", "--seed", "28"]);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let alice = jira_sim::user_token(&sim.startup, "alice@example.com").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let serve = start_serve(&dir.path().join("store.redb"));
    let client = client_of(&serve);
    let connection =
        json!({"deployment": "cloud", "url": base, "email": "alice@example.com", "token": alice});

    checks_before_creating_answer(&client, &connection).await;
    let id = an_integration_is_created_read_and_changed(&client, &connection, &alice).await;
    let stored = a_sync_asked_for_stores_the_jqls_issues(&client, &id).await;
    hygiene_routes_answer_and_keep_criteria_and_slas(&client, &id, stored).await;
    a_dora_profile_is_kept_and_reported(&client, &id).await;
    a_ticket_is_hidden_unhidden_and_removed(&client, &id).await;
    a_deleted_integration_is_gone(&client, &id).await;
    let succeeded = client.succeeded.lock().unwrap().clone();
    assert_eq!(
        succeeded,
        client.contract.routes(),
        "every documented route answered with success"
    );
}

/// The checks that come before an integration exists: credentials, a JQL, the project search.
async fn checks_before_creating_answer(client: &Client, connection: &Value) {
    let (status, checks) = client
        .call(
            "POST /credentials/validate",
            &[],
            Some(json!({"connection": connection})),
        )
        .await;
    assert_eq!((status, &checks["ok"]), (200, &json!(true)), "{checks}");
    let (status, jql) = client
        .call(
            "POST /jql/validate",
            &[],
            Some(json!({"connection": connection, "jql": "project = PLAT"})),
        )
        .await;
    assert_eq!((status, &jql["ok"]), (200, &json!(true)), "{jql}");
    let (status, found) = client
        .call(
            "POST /projects/search",
            &[],
            Some(json!({"connection": connection})),
        )
        .await;
    assert_eq!(
        (status, found["projects"].as_array().map(Vec::len)),
        (200, Some(2)),
        "{found}"
    );
}

/// An integration over one project's JQL is created, listed, read, patched and its token
/// rotated. Returns its id.
async fn an_integration_is_created_read_and_changed(
    client: &Client,
    connection: &Value,
    token: &str,
) -> String {
    let (status, created) = client
        .call(
            "POST /integrations",
            &[],
            Some(json!({"name": "PLAT only", "connection": connection,
                "scope": {"kind": "jql", "jql": "project = PLAT"}, "excluded_fields": ["comments"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (status, list) = client.call("GET /integrations", &[], None).await;
    assert_eq!(
        (status, list["integrations"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let (status, read) = client
        .call("GET /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!((status, &read), (200, &created));
    let (status, patched) = client
        .call(
            "PATCH /integrations/{integrationId}",
            &[&id],
            Some(json!({"description": "patched"})),
        )
        .await;
    assert_eq!(
        (status, &patched["description"]),
        (200, &json!("patched")),
        "{patched}"
    );
    let (status, body) = client
        .call(
            "PUT /integrations/{integrationId}/credentials",
            &[&id],
            Some(json!({"token": token})),
        )
        .await;
    assert!((200..300).contains(&status), "{body}");
    id
}

/// A sync asked for ends Healthy with the JQL's project's issues only; the report page answers.
/// Returns how many tickets were stored.
async fn a_sync_asked_for_stores_the_jqls_issues(client: &Client, id: &str) -> u64 {
    let (status, asked) = client
        .call("POST /integrations/{integrationId}/sync", &[id], None)
        .await;
    assert_eq!(status, 202, "{asked}");
    let monitoring = until(
        client,
        "GET /integrations/{integrationId}/monitoring?range=30d",
        &[id],
        |_, m| m["health"]["status"] == "Healthy",
    )
    .await;
    let stored = monitoring["tickets"]["total"].as_u64().unwrap();
    assert!(
        stored > 0 && stored < 60,
        "the JQL's project only: {monitoring}"
    );
    let (status, _) = client
        .call("GET /integrations/{integrationId}/report", &[id], None)
        .await;
    assert_eq!(status, 200);
    stored
}

/// Hygiene: the report counts what was stored, the trend and misses answer, and a custom miss
/// and an SLA are each created, replaced, listed and deleted.
async fn hygiene_routes_answer_and_keep_criteria_and_slas(client: &Client, id: &str, stored: u64) {
    let h = "/integrations/{integrationId}/hygiene";
    until(client, &format!("GET {h}"), &[id], |s, r| {
        s == 200 && r["total_tickets"] == stored
    })
    .await;
    for tail in ["/trend", "/misses?category=no_assignee&limit=5"] {
        let (status, body) = client.call(&format!("GET {h}{tail}"), &[id], None).await;
        assert_eq!(status, 200, "{tail}: {body}");
    }
    // The history the sync's turn built, and built again for fewer weeks in the background.
    until(client, &format!("GET {h}/history"), &[id], |s, r| {
        s == 200 && r["build"]["weeks"] == 52 && r["build"]["finished_ms"].is_i64()
    })
    .await;
    let (status, body) = client
        .call(
            &format!("POST {h}/history"),
            &[id],
            Some(json!({"weeks": 4})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    until(client, &format!("GET {h}/history"), &[id], |s, r| {
        s == 200 && r["build"]["weeks"] == 4 && r["build"]["finished_ms"].is_i64()
    })
    .await;
    // A filter naming a value no stored ticket holds says so, in the report and in the trend.
    for tail in ["?issue_types=Bugs", "/trend?issue_types=Bugs"] {
        let (status, body) = client.call(&format!("GET {h}{tail}"), &[id], None).await;
        assert_eq!(status, 200, "{tail}: {body}");
        assert_eq!(
            body["warnings"][0]["parameter"], "issue_types",
            "{tail}: {body}"
        );
        assert_eq!(body["warnings"][0]["value"], "Bugs", "{tail}: {body}");
    }
    let criterion =
        json!({"name": "Unlabelled", "conditions": [{"field": "labels", "operator": "missing"}]});
    let sla = json!({"project": "PLAT", "issue_type": "Bug", "priority": "High",
        "response_hours": 4, "resolution_hours": 72});
    for (kind, param, body) in [
        ("criteria", "criterionId", criterion),
        ("slas", "slaId", sla),
    ] {
        let (status, saved) = client
            .call(&format!("POST {h}/{kind}"), &[id], Some(body.clone()))
            .await;
        assert_eq!(status, 201, "{saved}");
        let item = saved["id"].as_str().unwrap().to_string();
        let one = format!("{h}/{kind}/{{{param}}}");
        let (status, _) = client
            .call(&format!("PUT {one}"), &[id, &item], Some(body))
            .await;
        assert_eq!(status, 200);
        let (status, listed) = client.call(&format!("GET {h}/{kind}"), &[id], None).await;
        assert_eq!(
            (status, listed[kind].as_array().map(Vec::len)),
            (200, Some(1))
        );
        let (status, _) = client
            .call(&format!("DELETE {one}"), &[id, &item], None)
            .await;
        assert_eq!(status, 204);
    }
}

/// DORA: a profile is created, listed, read, replaced, reported on and deleted.
async fn a_dora_profile_is_kept_and_reported(client: &Client, id: &str) {
    let profiles = "/integrations/{integrationId}/dora/profiles";
    let profile = json!({"name": "Ops",
        "incidents": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Incident"]}]}]},
        "changes": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Change"]}]}]}});
    let (status, saved) = client
        .call(&format!("POST {profiles}"), &[id], Some(profile.clone()))
        .await;
    assert_eq!(status, 201, "{saved}");
    let p = saved["id"].as_str().unwrap().to_string();
    let one = format!("{profiles}/{{profileId}}");
    for (route, body) in [
        (format!("GET {profiles}"), None),
        (format!("GET {one}"), None),
        (format!("PUT {one}"), Some(profile.clone())),
    ] {
        let ids = if route.contains("{profileId}") {
            vec![id, p.as_str()]
        } else {
            vec![id]
        };
        let (status, answer) = client.call(&route, &ids, body).await;
        assert_eq!(status, 200, "{route}: {answer}");
    }
    // A type no stored ticket has is kept, with a warning at its place in the profile (the
    // values held are read from the hygiene index: once the criteria changes above have been
    // counted again).
    until(
        client,
        "GET /integrations/{integrationId}/hygiene",
        &[id],
        |s, r| s == 200 && r["counted_from"] == "index",
    )
    .await;
    let mut typo = profile.clone();
    typo["incidents"]["sets"][0]["conditions"][0]["values"] = json!(["Incidnet"]);
    let (status, kept) = client
        .call(&format!("PUT {one}"), &[id, &p], Some(typo))
        .await;
    assert_eq!(status, 200, "{kept}");
    let warned: Vec<&Value> = kept["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["value"] == "Incidnet")
        .collect();
    assert_eq!(
        warned[0]["parameter"], "incidents.sets[0].conditions[0].values",
        "{kept}"
    );
    let (status, _) = client
        .call(&format!("PUT {one}"), &[id, &p], Some(profile))
        .await;
    assert_eq!(status, 200);
    until(
        client,
        &format!("GET /integrations/{{integrationId}}/dora?profile={p}"),
        &[id],
        |s, _| s == 200,
    )
    .await;
    let (status, _) = client.call(&format!("DELETE {one}"), &[id, &p], None).await;
    assert_eq!(status, 204);
}

/// A ticket is hidden, shown again and removed.
async fn a_ticket_is_hidden_unhidden_and_removed(client: &Client, id: &str) {
    let h = "/integrations/{integrationId}/hygiene";
    let misses = until(
        client,
        &format!("GET {h}/misses?category=idle&limit=1"),
        &[id],
        |s, _| s == 200,
    )
    .await;
    let issue = match misses["tickets"].as_array().and_then(|t| t.first()) {
        Some(t) => t["id"].as_str().unwrap().to_string(),
        None => panic!("no ticket to flag: {misses}"),
    };
    for action in ["hide", "unhide", "remove"] {
        let route = format!("POST /integrations/{{integrationId}}/issues/{{issueId}}/{action}");
        let (status, body) = client.call(&route, &[id, &issue], None).await;
        assert_eq!(status, 204, "{action}: {body}");
    }
}

/// A deleted integration is no longer found.
async fn a_deleted_integration_is_gone(client: &Client, id: &str) {
    let (status, _) = client
        .call("DELETE /integrations/{integrationId}", &[id], None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = client
        .call("GET /integrations/{integrationId}", &[id], None)
        .await;
    assert_eq!(status, 404);
}

/// GIVEN `sei-jira serve` and a slow site of 4,000 issues, WHEN a sync is asked for and
/// monitoring is read while it runs, THEN monitoring counts the tickets stored so far (more than
/// none, fewer than all) while the run is still in progress, and all of them once it completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_counts_the_tickets_a_running_sync_has_stored() {
    const ISSUES: u64 = 4000;
    let sim = start_sim(&[
        "--issues",
        &ISSUES.to_string(),
        "--projects",
        "2",
        "--seed",
        "29",
        "--latency-ms",
        "500",
    ]);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let alice = jira_sim::user_token(&sim.startup, "alice@example.com").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let serve = start_serve(&dir.path().join("store.redb"));
    let client = client_of(&serve);
    let create = json!({"name": "Slow", "connection": {"deployment": "cloud", "url": base,
        "email": "alice@example.com", "token": alice}, "scope": {"kind": "all_accessible"}});
    let (status, created) = client.call("POST /integrations", &[], Some(create)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (status, asked) = client
        .call("POST /integrations/{integrationId}/sync", &[&id], None)
        .await;
    assert_eq!(status, 202, "{asked}");

    let route = "GET /integrations/{integrationId}/monitoring";
    let seen_under_way = std::cell::RefCell::new(Vec::new());
    let done = until(&client, route, &[&id], |_, m| {
        let total = m["tickets"]["total"].as_u64().unwrap_or(0);
        if m["health"]["status"] == "Pending" && total > 0 {
            seen_under_way.borrow_mut().push(total);
        }
        m["health"]["status"] == "Healthy"
    })
    .await;
    assert_eq!(done["tickets"]["total"], ISSUES, "{done}");
    let seen_under_way = seen_under_way.into_inner();
    assert!(
        seen_under_way.iter().any(|&t| t < ISSUES),
        "monitoring never counted a part of the tickets while the sync ran: {seen_under_way:?}"
    );
}
