//! The deployed product end to end, without AWS: the three functions' handlers called with real
//! API Gateway HTTP API (payload v2) event JSON and real EventBridge events, on DynamoDB, Secrets
//! Manager, EventBridge Scheduler, EventBridge and SQS served by moto on 127.0.0.1, against the
//! Jira simulator.
//!
//! GIVEN a site in the simulator, WHEN an account creates an integration, its schedule fires, the
//! sync stops early and continues, THEN monitoring shows the ingested issues, the onboarded
//! projects and a Healthy day; a sync against a failing site shows Unhealthy; an integration that
//! never ran shows No Data; another account sees none of it; no token appears anywhere.
//!
//! Every request the tests send and every answer they get is checked against its operation in
//! `docs/openapi.yaml` (`e2e::openapi`), and one test calls every route the handlers serve.

#[path = "deployed.rs"]
mod deployed;

use std::time::Instant;

use base64::Engine;
use deployed::*;
use e2e::sim_control;
use sei_jira_core::store::StoredIssue;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integration_from_creation_to_monitoring() {
    let logs = capture_logs();
    let (mut w, site) = stage(400, 3).await;
    let (info, base, token) = (site.info.clone(), site.base.clone(), site.token.clone());
    let connection = alice_connection(&base, &token);

    a_create_with_bad_input_is_a_400_naming_the_field(&mut w, &connection).await;
    let (id, scheduled) =
        creating_keeps_the_token_secret_and_schedules_the_sync(&mut w, &connection, &token).await;
    let own = another_account_finds_no_integration_to_touch(&mut w, &id).await;
    refused_changes_name_their_field_and_change_nothing(&mut w, &id, own).await;
    monitoring_says_pending_before_any_run_and_no_data_when_idle(&mut w, &id).await;
    a_run_whose_projects_are_held_elsewhere_is_skipped(&mut w, &id, scheduled.clone()).await;
    let (first, second) =
        a_sync_short_of_time_checkpoints_and_continues_itself(&mut w, &id, scheduled).await;
    let (truth, stored) =
        every_issue_in_scope_is_stored_exactly_once(&w, &id, &base, &first, &second).await;
    monitoring_shows_the_ingested_issues_and_a_healthy_day(&mut w, &id, truth).await;
    a_failing_site_makes_the_run_fail_and_monitoring_unhealthy(&mut w, &id, &base).await;
    another_account_cannot_touch_its_issues_token_or_syncs(&mut w, &id, &stored, &info, &token)
        .await;
    hiding_an_issue_answers_204_and_an_unknown_issue_404(&mut w, &id, &stored[0].id).await;
    no_token_appears_in_answers_events_items_or_logs(&w, &logs, &token, &id, &stored).await;
    deleting_removes_the_schedule_the_secret_and_the_data(&mut w, &id).await;
}

/// Bad input is a 400 naming the field, and stores nothing.
async fn a_create_with_bad_input_is_a_400_naming_the_field(w: &mut World, connection: &Value) {
    let (status, body) = w
        .api(
            "acme",
            "POST /integrations",
            &[],
            Some(json!({"name": "Jira", "connection": connection, "scope": {"kind": "projects"}})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().starts_with("scope.keys"),
        "{body}"
    );
}

/// Create: validated, the token in Secrets Manager (never in the answer), the hourly schedule
/// created. Returns the integration's id and the event its schedule sends.
async fn creating_keeps_the_token_secret_and_schedules_the_sync(
    w: &mut World,
    connection: &Value,
    token: &str,
) -> (String, Value) {
    let (status, created) = w
        .api("acme", "POST /integrations", &[], Some(json!({
            "name": "Acme Jira", "tags": ["team-a"], "connection": connection,
            "scope": {"kind": "projects", "keys": ["PLAT", "SRE"]}, "custom_fields": ["Severity"]
        })))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(created.get("token").is_none() && created.get("secret_name").is_none());
    assert_eq!(secret_of(&w.config, &id).await, token);
    let schedule = aws_sdk_scheduler::Client::new(&w.config)
        .get_schedule()
        .group_name(GROUP)
        .name(format!("sync-{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(schedule.schedule_expression(), Some("rate(1 hour)"));
    let target = schedule.target().unwrap();
    assert_eq!((target.arn(), target.role_arn()), (SYNC_ARN, ROLE_ARN));
    let scheduled: Value = serde_json::from_str(target.input().unwrap()).unwrap();
    (id, scheduled)
}

/// Another account: not found, whatever it tries; the integration survives. Returns the
/// integration as its own account reads it.
async fn another_account_finds_no_integration_to_touch(w: &mut World, id: &str) -> Value {
    let (status, _) = w
        .api("globex", "GET /integrations/{integrationId}", &[id], None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .api(
            "globex",
            "DELETE /integrations/{integrationId}",
            &[id],
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .api(
            "globex",
            "PATCH /integrations/{integrationId}",
            &[id],
            Some(json!({"name": "mine now"})),
        )
        .await;
    assert_eq!(status, 404);
    let (_, listed) = w.api("globex", "GET /integrations", &[], None).await;
    assert_eq!(listed["integrations"], json!([]));
    let (status, own) = w
        .api("acme", "GET /integrations/{integrationId}", &[id], None)
        .await;
    assert_eq!((status, own["name"].as_str()), (200, Some("Acme Jira")));
    own
}

/// A custom field the site does not have, or oversized tags, are refused naming the field;
/// nothing changes.
async fn refused_changes_name_their_field_and_change_nothing(w: &mut World, id: &str, own: Value) {
    for (patch, field) in [
        (
            json!({"custom_fields": ["Severity", "Severty"]}),
            "custom_fields",
        ),
        (json!({"tags": vec!["t"; 51]}), "tags"),
        // A mapping would bring an excluded field back.
        (
            json!({"excluded_fields": ["summary"], "custom_fields": ["Summary"]}),
            "custom_fields: 'Summary' is Jira's summary field, which this integration excludes",
        ),
        (json!({"description": "d".repeat(2_001)}), "description"),
    ] {
        let (status, body) = w
            .api(
                "acme",
                "PATCH /integrations/{integrationId}",
                &[id],
                Some(patch),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_request")),
            "{body}"
        );
        assert!(
            body["message"].as_str().unwrap().starts_with(field),
            "{body}"
        );
    }
    let (_, unchanged) = w
        .api("acme", "GET /integrations/{integrationId}", &[id], None)
        .await;
    assert_eq!(unchanged, own, "refused changes change nothing");
}

/// Just created, never run: Pending; ten days old with no run in the range: No Data
/// (docs/monitoring.md).
async fn monitoring_says_pending_before_any_run_and_no_data_when_idle(w: &mut World, id: &str) {
    let (status, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &[id],
            None,
        )
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["health"]["status"], "Pending", "{m}");
    // An integration ten days old with no run in the range: No Data.
    let mut idle = store(&w.config, &w.table)
        .get_integration("acme", id)
        .await
        .unwrap()
        .unwrap();
    idle.id = "idle-integration".into();
    idle.secret_name = "sei-jira/acme/idle-integration".into();
    idle.created_ms -= 10 * 86_400_000;
    store(&w.config, &w.table)
        .put_integration(&idle)
        .await
        .unwrap();
    let (status, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &["idle-integration"],
            None,
        )
        .await;
    assert_eq!(
        (status, m["health"]["status"].as_str()),
        (200, Some("No Data")),
        "{m}"
    );
}

/// Another run holds both projects: this one is skipped. It records no success and announces
/// nothing (the next event on the bus is the continuation, not a completion).
async fn a_run_whose_projects_are_held_elsewhere_is_skipped(
    w: &mut World,
    id: &str,
    scheduled: Value,
) {
    let held = store(&w.config, &w.table);
    let now = chrono::Utc::now().timestamp_millis();
    for unit in ["PLAT", "SRE"] {
        assert!(
            held.acquire_lease(id, unit, "run-elsewhere", now, 600_000)
                .await
                .unwrap()
        );
    }
    let skipped = w.sync(scheduled, None, "run-0").await;
    assert_eq!(skipped["outcome"], "skipped", "{skipped}");
    for unit in ["PLAT", "SRE"] {
        held.release_lease(id, unit, "run-elsewhere").await.unwrap();
    }
}

/// The schedule fires with too little time left: the sync checkpoints and continues itself, and
/// the continuation completes. Returns both runs' answers.
async fn a_sync_short_of_time_checkpoints_and_continues_itself(
    w: &mut World,
    id: &str,
    scheduled: Value,
) -> (Value, Value) {
    let first = w.sync(scheduled, Some(Instant::now()), "run-1").await;
    assert_eq!(first["outcome"], "partial", "{first}");
    let continuation = w.delivered(1).await.remove(0);
    assert_eq!(continuation["detail-type"], "jira.sync.continuation");
    let second = w.sync(continuation, None, "run-2").await;
    assert_eq!(second["outcome"], "succeeded", "{second}");
    let completed = w.delivered(1).await.remove(0);
    assert_eq!(completed["detail-type"], "jira.sync.completed");
    assert_eq!(completed["detail"]["integration_id"], id);
    (first, second)
}

/// Exactly the simulator's issues of the two projects are stored, once each, and each was new in
/// exactly one of the two runs. Returns how many there are, and the stored issues.
async fn every_issue_in_scope_is_stored_exactly_once(
    w: &World,
    id: &str,
    base: &str,
    first: &Value,
    second: &Value,
) -> (usize, Vec<StoredIssue>) {
    let truth: Vec<Value> = e2e::hygiene_truth::truth(base, "alice@example.com")
        .await
        .into_iter()
        .filter(|t| ["PLAT", "SRE"].contains(&t["project"].as_str().unwrap()))
        .collect();
    let stored = store(&w.config, &w.table)
        .list_issues(id, None, usize::MAX)
        .await
        .unwrap();
    assert_eq!(stored.len(), truth.len());
    // The early stop kept what it had fetched, and the continuation went on from there: every
    // issue was new exactly once across the two runs.
    let new_in = |run: &Value| run["counts"]["issues_new"].as_u64().unwrap();
    assert!(
        new_in(first) > 0,
        "the first run stored a batch before stopping: {first}"
    );
    assert!(new_in(first) < truth.len() as u64, "{first}");
    assert_eq!(
        new_in(first) + new_in(second),
        truth.len() as u64,
        "{first} {second}"
    );
    (truth.len(), stored)
}

/// After the sync, monitoring shows the ingested issues, both projects and a Healthy day, to the
/// integration's account only, and refuses a range it does not offer.
async fn monitoring_shows_the_ingested_issues_and_a_healthy_day(
    w: &mut World,
    id: &str,
    truth: usize,
) {
    let (status, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &[id],
            None,
        )
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["health"]["status"], "Healthy", "{m}");
    assert_eq!(m["tickets"]["ingested_in_range"], truth, "{m}");
    assert_eq!(m["tickets"]["total"], truth, "{m}");
    assert_eq!(m["projects"]["total"], 2, "{m}");
    let today = m["availability"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(today["status"], "Healthy", "{m}");
    let (status, other) = w
        .api(
            "globex",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &[id],
            None,
        )
        .await;
    assert_eq!(status, 404, "{other}");
    let (status, bad) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=90d",
            &[id],
            None,
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("range"), "{bad}");
}

/// The site fails every request: the run fails and monitoring says Unhealthy.
async fn a_failing_site_makes_the_run_fail_and_monitoring_unhealthy(
    w: &mut World,
    id: &str,
    base: &str,
) {
    sim_control(base, json!({"fault_rate": 1.0, "drop_share": 0.0})).await;
    let manual = json!({"source": "sei-jira", "detail-type": "jira.sync.continuation",
        "detail": {"account_id": "acme", "integration_id": id, "trigger": "manual"}});
    let failed = w.sync(manual, None, "run-3").await;
    assert!(failed.get("error").is_some(), "{failed}");
    let (_, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &[id],
            None,
        )
        .await;
    assert_eq!(m["health"]["status"], "Unhealthy", "{m}");
    assert_eq!(failed["outcome"], "failed", "{failed}");
}

/// Another account cannot touch this integration's issues, token or syncs either: each is a 404,
/// and the token and the issue stay as they were.
async fn another_account_cannot_touch_its_issues_token_or_syncs(
    w: &mut World,
    id: &str,
    stored: &[StoredIssue],
    info: &Value,
    token: &str,
) {
    let issue = stored[0].id.clone();
    for (request, ids, body) in [
        (
            "POST /integrations/{integrationId}/issues/{issueId}/remove",
            vec![id, issue.as_str()],
            None,
        ),
        (
            "POST /integrations/{integrationId}/issues/{issueId}/hide",
            vec![id, issue.as_str()],
            None,
        ),
        ("POST /integrations/{integrationId}/sync", vec![id], None),
        (
            "PUT /integrations/{integrationId}/credentials",
            vec![id],
            Some(json!({"email": "bob@example.com", "token": token_of(info, "bob@example.com")})),
        ),
    ] {
        let (status, body) = w.api("globex", request, &ids, body).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "{request}: {body}"
        );
    }
    assert_eq!(
        secret_of(&w.config, id).await,
        token,
        "the token is still acme's"
    );
    let untouched = store(&w.config, &w.table)
        .get_issue(id, &issue)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        untouched, stored[0],
        "the issue is neither hidden nor removed"
    );
}

/// Hand flags: hiding a stored issue is a 204, hiding one that is not stored a 404.
async fn hiding_an_issue_answers_204_and_an_unknown_issue_404(
    w: &mut World,
    id: &str,
    issue: &str,
) {
    let (status, _) = w
        .api(
            "acme",
            "POST /integrations/{integrationId}/issues/{issueId}/hide",
            &[id, issue],
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = w
        .api(
            "acme",
            "POST /integrations/{integrationId}/issues/{issueId}/hide",
            &[id, "999999999"],
            None,
        )
        .await;
    assert_eq!(status, 404);
}

/// No token anywhere, nor the Basic credentials made of it: responses, events, stored items
/// (their packed bodies unpacked), logs at trace.
async fn no_token_appears_in_answers_events_items_or_logs(
    w: &World,
    logs: &Logs,
    token: &str,
    id: &str,
    stored: &[StoredIssue],
) {
    let dump = w.table_dump().await;
    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("alice@example.com:{token}"));
    for (what, text) in [
        ("responses and events", w.seen.join("\n")),
        ("DynamoDB items", dump.clone()),
        ("logs", log_text.clone()),
    ] {
        assert!(!text.contains(token), "the token appears in {what}");
        assert!(
            !text.contains(&basic),
            "the Basic credentials appear in {what}"
        );
    }
    // The scan reads what it claims to: the issues' unpacked JSON, and trace-level logs.
    assert!(dump.contains(id), "the scan saw the integration's items");
    assert!(
        dump.contains(&format!("\"key\":\"{}\"", stored[0].key)),
        "the scan saw inside the issues' bodies"
    );
    assert!(
        log_text.contains("\"level\":\"TRACE\""),
        "the logs were captured at trace"
    );
}

/// Deletion: schedule, secret and data go, and the integration is not found any more.
async fn deleting_removes_the_schedule_the_secret_and_the_data(w: &mut World, id: &str) {
    let (status, _) = w
        .api("acme", "DELETE /integrations/{integrationId}", &[id], None)
        .await;
    assert_eq!(status, 204);
    assert!(
        aws_sdk_secretsmanager::Client::new(&w.config)
            .get_secret_value()
            .secret_id(format!("sei-jira/acme/{id}"))
            .send()
            .await
            .is_err()
    );
    assert!(
        aws_sdk_scheduler::Client::new(&w.config)
            .get_schedule()
            .group_name(GROUP)
            .name(format!("sync-{id}"))
            .send()
            .await
            .is_err()
    );
    let left = w.items_naming(id).await;
    assert!(
        left.is_empty(),
        "no item of the integration is left: {left:?}"
    );
    let (status, _) = w
        .api("acme", "GET /integrations/{integrationId}", &[id], None)
        .await;
    assert_eq!(status, 404);
}

/// GIVEN a site in the simulator, WHEN an account calls every route of the API (each answer
/// checked against docs/openapi.yaml as it comes), THEN each route has succeeded at least once,
/// and what the calls change is what the document promises.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_as_the_openapi_document_says() {
    let logs = capture_logs();
    let moto = e2e::start_moto();
    let (_sim, info) = site(60, 2).await;
    let base = info["base_url"].as_str().unwrap().to_string();
    let (alice, bob, carol) = (
        token_of(&info, "alice@example.com"),
        token_of(&info, "bob@example.com"),
        token_of(&info, "carol@example.com"),
    );
    let mut w = World::new(moto.endpoint(), &base).await;
    let connection = alice_connection(&base, &alice);

    a_call_without_an_account_claim_is_unauthorized(&mut w).await;
    credential_validation_names_the_failed_check_or_the_bad_field(
        &mut w,
        &connection,
        &base,
        &carol,
    )
    .await;
    let keys = jql_validation_and_the_project_picker_answer(&mut w, &connection).await;
    let created =
        creating_twice_with_one_idempotency_key_makes_one_integration(&mut w, &connection).await;
    let id = the_integration_is_listed_and_read_back(&mut w, &created).await;
    a_path_parameter_longer_than_any_id_is_a_400_naming_it(&mut w, &id).await;
    advanced_configuration_is_kept_and_a_refused_change_changes_nothing(&mut w, &id, &keys).await;
    new_credentials_replace_the_secret_only_when_accepted(&mut w, &id, [&alice, &bob, &carol])
        .await;
    let completed = sync_now_puts_a_continuation_the_sync_runs(&mut w, &id).await;
    every_hygiene_route_answers_and_criteria_changes_reindex(&mut w, &id, &keys, &completed).await;
    a_dora_profile_is_kept_read_replaced_reported_and_deleted(&mut w, &id).await;
    let issues = the_patched_configuration_is_what_ran(&w, &id, &keys).await;
    hand_flags_hide_show_and_remove_an_issue_from_the_report(&mut w, &id, &issues).await;
    monitoring_and_the_report_page_show_the_same_figures(&mut w, &id, &issues).await;

    let (status, _) = w
        .api("acme", "DELETE /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!(status, 204);

    every_documented_route_succeeded_and_no_token_was_seen(&w, &logs, [&alice, &bob, &carol]);
}

/// No account claim in the token: 401, whatever the route.
async fn a_call_without_an_account_claim_is_unauthorized(w: &mut World) {
    let (status, body) = w.api("", "GET /integrations", &[], None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
}

/// Credentials validation: good credentials pass, a token short of a permission fails that check
/// alone, and a body missing a field or with an unknown one is a 400 naming it.
async fn credential_validation_names_the_failed_check_or_the_bad_field(
    w: &mut World,
    connection: &Value,
    base: &str,
    carol: &str,
) {
    let (status, checks) = w
        .api(
            "acme",
            "POST /credentials/validate",
            &[],
            Some(json!({"connection": connection})),
        )
        .await;
    assert_eq!(
        (status, checks["ok"].as_bool()),
        (200, Some(true)),
        "{checks}"
    );
    let weak =
        json!({"deployment": "cloud", "url": base, "email": "carol@example.com", "token": carol});
    let (status, checks) = w
        .api(
            "acme",
            "POST /credentials/validate",
            &[],
            Some(json!({"connection": weak})),
        )
        .await;
    assert_eq!(
        (status, checks["ok"].as_bool()),
        (200, Some(false)),
        "{checks}"
    );
    let failed: Vec<&str> = checks["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["view_aggregated_data"], "{checks}");
    let (status, body) = w
        .api(
            "acme",
            "POST /credentials/validate",
            &[],
            Some(json!({"connection": {"deployment": "cloud", "url": base, "email": "a@b.c"}})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("connection.token"),
        "{body}"
    );
    let (status, body) = w
        .api("acme", "POST /credentials/validate", &[], Some(weak))
        .await;
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("deployment: unknown field `deployment`"),
        "{body}"
    );
}

/// JQL validation tells good JQL from bad, and the project picker finds the site's projects.
/// Returns their keys.
async fn jql_validation_and_the_project_picker_answer(
    w: &mut World,
    connection: &Value,
) -> Vec<String> {
    let (status, jql) = w
        .api(
            "acme",
            "POST /jql/validate",
            &[],
            Some(json!({"connection": connection, "jql": "project = PLAT ORDER BY key"})),
        )
        .await;
    assert_eq!((status, jql["ok"].as_bool()), (200, Some(true)), "{jql}");
    let (status, jql) = w
        .api(
            "acme",
            "POST /jql/validate",
            &[],
            Some(json!({"connection": connection, "jql": "project = = PLAT"})),
        )
        .await;
    assert_eq!((status, jql["ok"].as_bool()), (200, Some(false)), "{jql}");
    assert!(!jql["errors"].as_array().unwrap().is_empty(), "{jql}");

    let (status, found) = w
        .api(
            "acme",
            "POST /projects/search",
            &[],
            Some(json!({"connection": connection})),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let keys: Vec<String> = found["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 2, "{found}");
    keys
}

/// Create over all accessible projects, with an idempotency key: a retry answers the first
/// try's integration and makes nothing twice; another body or an overlong key is refused.
async fn creating_twice_with_one_idempotency_key_makes_one_integration(
    w: &mut World,
    connection: &Value,
) -> Value {
    let create = json!({
        "name": "Everything", "description": "all projects", "connection": connection,
        "scope": {"kind": "all_accessible"}, "excluded_fields": ["description"]
    });
    let key = [("Idempotency-Key", "everything-1")];
    let (status, created) = w
        .api_with(
            "acme",
            "POST /integrations",
            &[],
            Some(create.clone()),
            &key,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    // As if the first try had stopped before its schedule: the retry makes it.
    let scheduler = aws_sdk_scheduler::Client::new(&w.config);
    let schedule = format!("sync-{}", created["id"].as_str().unwrap());
    scheduler
        .delete_schedule()
        .group_name(GROUP)
        .name(&schedule)
        .send()
        .await
        .unwrap();
    let (status, again) = w
        .api_with(
            "acme",
            "POST /integrations",
            &[],
            Some(create.clone()),
            &key,
        )
        .await;
    scheduler
        .get_schedule()
        .group_name(GROUP)
        .name(&schedule)
        .send()
        .await
        .expect("the retry made the missing schedule");
    assert_eq!(
        (status, &again),
        (201, &created),
        "the retry finds the first try's"
    );
    let mut other = create.clone();
    other["name"] = json!("Something else");
    let (status, body) = w
        .api_with("acme", "POST /integrations", &[], Some(other), &key)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let long = "k".repeat(129);
    let (status, body) = w
        .api_with(
            "acme",
            "POST /integrations",
            &[],
            Some(create.clone()),
            &[("Idempotency-Key", long.as_str())],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Idempotency-Key:"),
        "{body}"
    );
    created
}

/// The account's list holds the one integration, and reading it answers what the create did.
/// Returns its id.
async fn the_integration_is_listed_and_read_back(w: &mut World, created: &Value) -> String {
    let id = created["id"].as_str().unwrap().to_string();
    let (status, list) = w.api("acme", "GET /integrations", &[], None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["integrations"].as_array().unwrap().len(), 1, "{list}");
    let (status, read) = w
        .api("acme", "GET /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!((status, &read), (200, created));
    id
}

/// A path parameter past any id's length is a 400 naming it, on every function, before the
/// store sees it (DynamoDB refuses keys over 1 KB).
async fn a_path_parameter_longer_than_any_id_is_a_400_naming_it(w: &mut World, id: &str) {
    let huge = "9".repeat(2_000);
    for (request, ids) in [
        ("GET /integrations/{integrationId}", vec![huge.as_str()]),
        (
            "GET /integrations/{integrationId}/monitoring",
            vec![huge.as_str()],
        ),
        (
            "GET /integrations/{integrationId}/hygiene",
            vec![huge.as_str()],
        ),
        (
            "POST /integrations/{integrationId}/issues/{issueId}/hide",
            vec![id, huge.as_str()],
        ),
    ] {
        let (status, body) = w.api("acme", request, &ids, None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_request")),
            "{request}: {body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .ends_with("must be at most 128 characters"),
            "{request}: {body}"
        );
    }
}

/// Advanced configuration: a JQL filter, excluded fields, custom fields, the schedule rate are
/// kept (the rate on the schedule); a change with bad JQL is refused and changes nothing.
async fn advanced_configuration_is_kept_and_a_refused_change_changes_nothing(
    w: &mut World,
    id: &str,
    keys: &[String],
) {
    let (status, patched) = w
        .api(
            "acme",
            "PATCH /integrations/{integrationId}",
            &[id],
            Some(json!({
                "scope": {"kind": "jql", "jql": format!("project = {}", keys[0])},
                "excluded_fields": ["summary", "comments"],
                "custom_fields": ["Severity"],
                "schedule_rate": "rate(2 hours)"
            })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["scope"]["kind"], "jql", "{patched}");
    assert_eq!(
        patched["excluded_fields"],
        json!(["comments", "summary"]),
        "{patched}"
    );
    let schedule = aws_sdk_scheduler::Client::new(&w.config)
        .get_schedule()
        .group_name(GROUP)
        .name(format!("sync-{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(schedule.schedule_expression(), Some("rate(2 hours)"));
    let (status, body) = w
        .api(
            "acme",
            "PATCH /integrations/{integrationId}",
            &[id],
            Some(json!({"scope": {"kind": "jql", "jql": "project = = X"}})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().starts_with("scope.jql: "),
        "{body}"
    );
    let (_, unchanged) = w
        .api("acme", "GET /integrations/{integrationId}", &[id], None)
        .await;
    assert_eq!(unchanged, patched, "a refused change changes nothing");
}

/// New credentials: refused ones keep the old secret; accepted ones replace it.
async fn new_credentials_replace_the_secret_only_when_accepted(
    w: &mut World,
    id: &str,
    [alice, bob, carol]: [&str; 3],
) {
    let route = "PUT /integrations/{integrationId}/credentials";
    let (status, body) = w
        .api(
            "acme",
            route,
            &[id],
            Some(json!({"email": "carol@example.com", "token": carol})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("validation_failed")),
        "{body}"
    );
    assert_eq!(secret_of(&w.config, id).await, alice);
    let (status, body) = w
        .api(
            "acme",
            route,
            &[id],
            Some(json!({"email": "bob@example.com", "token": bob})),
        )
        .await;
    assert_eq!((status, body["ok"].as_bool()), (200, Some(true)), "{body}");
    assert_eq!(secret_of(&w.config, id).await, bob);
}

/// Sync now: a continuation event on the bus, which the sync function runs to completion.
/// Returns the completion event.
async fn sync_now_puts_a_continuation_the_sync_runs(w: &mut World, id: &str) -> Value {
    let requested = w.sync_now("acme", id).await;
    let run = w.sync(requested, None, "run-now").await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    let completed = w.delivered(1).await.remove(0);
    assert_eq!(completed["detail-type"], "jira.sync.completed");
    completed
}

/// Hygiene: the completed sync's snapshot, then every hygiene route (their results are checked
/// against the definitions in tests/hygiene_api.rs); each kept criteria change reindexes.
async fn every_hygiene_route_answers_and_criteria_changes_reindex(
    w: &mut World,
    id: &str,
    keys: &[String],
    completed: &Value,
) {
    assert_eq!(
        w.hygiene_event(completed).await,
        json!({"snapshots": 1, "continued": 0})
    );
    let h = "/integrations/{integrationId}/hygiene";
    for tail in [
        "",
        "/trend",
        "/misses?category=no_assignee&limit=5",
        "/history",
    ] {
        let (status, body) = w.api("acme", &format!("GET {h}{tail}"), &[id], None).await;
        assert_eq!(status, 200, "{tail}: {body}");
    }
    // The history built again on demand, by the event the request sends.
    let (status, body) = w
        .api(
            "acme",
            &format!("POST {h}/history"),
            &[id],
            Some(json!({"weeks": 8})),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let requested = w.delivered(1).await.remove(0);
    assert_eq!(
        w.hygiene_event(&requested).await,
        json!({"snapshots": 1, "continued": 0})
    );
    let criterion =
        json!({"name": "Unlabelled", "conditions": [{"field": "labels", "operator": "missing"}]});
    let sla = json!({"project": keys[0], "issue_type": "Bug", "priority": "High",
        "response_hours": 4, "resolution_hours": 72});
    for (kind, param, body) in [
        ("criteria", "criterionId", criterion),
        ("slas", "slaId", sla),
    ] {
        let (status, saved) = w
            .api(
                "acme",
                &format!("POST {h}/{kind}"),
                &[id],
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 201, "{saved}");
        let item = saved["id"].as_str().unwrap().to_string();
        let one = format!("{h}/{kind}/{{{param}}}");
        let (status, _) = w
            .api("acme", &format!("PUT {one}"), &[id, &item], Some(body))
            .await;
        assert_eq!(status, 200);
        let (status, listed) = w.api("acme", &format!("GET {h}/{kind}"), &[id], None).await;
        assert_eq!(
            (status, listed[kind].as_array().map(Vec::len)),
            (200, Some(1))
        );
        let (status, _) = w
            .api("acme", &format!("DELETE {one}"), &[id, &item], None)
            .await;
        assert_eq!(status, 204);
        if kind == "criteria" {
            // Each kept change of the criteria asks for the hygiene index to be built again.
            for requested in w.delivered(3).await {
                assert_eq!(requested["detail-type"], "hygiene.index.requested");
                let done = w.hygiene_event(&requested).await;
                assert_eq!(done, json!({"snapshots": 1, "continued": 0}));
            }
        }
    }
}

/// A DORA profile: kept, read, replaced, reported on, deleted; each change asks for the
/// profiles to be classified again.
async fn a_dora_profile_is_kept_read_replaced_reported_and_deleted(w: &mut World, id: &str) {
    let profiles = "/integrations/{integrationId}/dora/profiles";
    let profile = json!({"name": "Ops",
        "incidents": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Bug"]}]}]},
        "changes": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Story"]}]}]}});
    let (status, saved) = w
        .api(
            "acme",
            &format!("POST {profiles}"),
            &[id],
            Some(profile.clone()),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    let p = saved["id"].as_str().unwrap().to_string();
    let one = format!("{profiles}/{{profileId}}");
    for (request, body) in [
        (format!("GET {profiles}"), None),
        (format!("GET {one}"), None),
        (format!("PUT {one}"), Some(profile)),
        (
            format!("GET /integrations/{{integrationId}}/dora?profile={p}&granularity=week"),
            None,
        ),
    ] {
        let ids = if request.contains("{profileId}") {
            vec![id, p.as_str()]
        } else {
            vec![id]
        };
        let (status, answer) = w.api("acme", &request, &ids, body).await;
        assert_eq!(status, 200, "{request}: {answer}");
    }
    let (status, _) = w
        .api("acme", &format!("DELETE {one}"), &[id, &p], None)
        .await;
    assert_eq!(status, 204);
    for requested in w.delivered(3).await {
        assert_eq!(requested["detail-type"], "dora.index.requested");
        w.hygiene_event(&requested).await;
    }
}

/// The patched configuration is what ran: the JQL's project only, without the excluded fields.
/// Returns the stored issues.
async fn the_patched_configuration_is_what_ran(
    w: &World,
    id: &str,
    keys: &[String],
) -> Vec<StoredIssue> {
    let issues = store(&w.config, &w.table)
        .list_issues(id, None, usize::MAX)
        .await
        .unwrap();
    assert!(!issues.is_empty());
    for stored in &issues {
        assert_eq!(stored.project_key, keys[0], "{}", stored.key);
        assert!(!stored.fields.contains_key("summary"), "{}", stored.key);
        assert!(stored.comments.is_empty(), "{}", stored.key);
    }
    issues
}

/// Hand flags on one issue: hidden, shown again, then removed (a tombstone without content);
/// once the hygiene index takes them, the report counts the removed issue no more.
async fn hand_flags_hide_show_and_remove_an_issue_from_the_report(
    w: &mut World,
    id: &str,
    issues: &[StoredIssue],
) {
    let h = "/integrations/{integrationId}/hygiene";
    let issue = issues[0].id.clone();
    let mut states = Vec::new();
    for action in ["hide", "unhide", "remove"] {
        let route = format!("POST /integrations/{{integrationId}}/issues/{{issueId}}/{action}");
        let (status, body) = w.api("acme", &route, &[id, &issue], None).await;
        assert_eq!(status, 204, "{action}: {body}");
        let stored = store(&w.config, &w.table)
            .list_issues(id, None, usize::MAX)
            .await
            .unwrap()
            .into_iter()
            .find(|i| i.id == issue)
            .expect("the issue stays stored");
        states.push((stored.hidden, stored.removed, stored.fields.is_empty()));
    }
    assert_eq!(
        states,
        [
            (true, false, false),
            (false, false, false),
            (false, true, true)
        ]
    );
    // Each flag asks for the hygiene index to take it; once it has, the report counts the
    // removed issue no more.
    let requests = w.delivered(3).await;
    assert!(
        requests
            .iter()
            .all(|r| r["detail-type"] == "hygiene.index.requested")
    );
    w.hygiene_event(&requests[0]).await;
    let (_, report) = w.api("acme", &format!("GET {h}"), &[id], None).await;
    assert_eq!(report["counted_from"], "index", "{report}");
    assert_eq!(report["total_tickets"], issues.len() as u64 - 1, "{report}");
}

/// Monitoring says Healthy, and the report page draws the same figures, for the integration's
/// account only, and refuses a range it does not offer.
async fn monitoring_and_the_report_page_show_the_same_figures(
    w: &mut World,
    id: &str,
    issues: &[StoredIssue],
) {
    let (status, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=30d",
            &[id],
            None,
        )
        .await;
    assert_eq!(
        (status, m["health"]["status"].as_str()),
        (200, Some("Healthy")),
        "{m}"
    );
    // The report page draws the same figures, for the integration's account only.
    let report = "GET /integrations/{integrationId}/report?range=30d";
    let (status, page) = w.page("acme", report, &[id]).await;
    assert_eq!(status, 200, "{page}");
    for shown in [
        r#"data-health="Healthy""#.to_string(),
        format!(r#"data-figure="tickets-total">{}<"#, m["tickets"]["total"]),
        format!(
            r#"data-figure="projects-total">{}<"#,
            m["projects"]["total"]
        ),
        format!(r#"data-figure="hygiene-tickets">{}<"#, issues.len() - 1),
    ] {
        assert!(page.contains(&shown), "{shown} not in {page}");
    }
    let (status, _) = w.page("globex", report, &[id]).await;
    assert_eq!(status, 404, "another account's integration is not found");
    let (status, _) = w
        .page(
            "acme",
            "GET /integrations/{integrationId}/report?range=90d",
            &[id],
        )
        .await;
    assert_eq!(status, 400);
}

/// Every documented route has answered with success at least once, and none of the tokens
/// appeared in an answer, an event or the logs.
fn every_documented_route_succeeded_and_no_token_was_seen(
    w: &World,
    logs: &Logs,
    tokens: [&str; 3],
) {
    let documented = w.contract.routes();
    assert_eq!(
        w.succeeded, documented,
        "every documented route answered with success"
    );
    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let seen = w.seen.join("\n");
    for token in tokens {
        assert!(!seen.contains(token) && !log_text.contains(token));
    }
}

/// GIVEN an integration whose token has gone from Secrets Manager, WHEN its schedule fires,
/// THEN the run is recorded as failed and monitoring says Unhealthy, naming the cause; the
/// function answers without an error, so Lambda does not retry the event and count it again.
/// GIVEN a schedule expression EventBridge Scheduler would refuse, THEN the create is a 400
/// naming `schedule_rate` and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_cannot_start_is_recorded_as_a_failed_run() {
    let (mut w, site) = stage(60, 1).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    let connection = alice_connection(&base, &token);

    let (status, body) = w
        .api(
            "acme",
            "POST /integrations",
            &[],
            Some(json!({"name": "Nightly", "connection": connection,
                "scope": {"kind": "all_accessible"}, "schedule_rate": "cron(0 8 * * *)"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("schedule_rate"),
        "{body}"
    );
    let (_, listed) = w.api("acme", "GET /integrations", &[], None).await;
    assert_eq!(
        listed["integrations"],
        json!([]),
        "a refused create stores nothing"
    );

    let (status, created) = w
        .api(
            "acme",
            "POST /integrations",
            &[],
            Some(json!({"name": "Jira", "connection": connection, "scope": {"kind": "all_accessible"}})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    aws_sdk_secretsmanager::Client::new(&w.config)
        .delete_secret()
        .secret_id(format!("sei-jira/acme/{id}"))
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();

    let scheduled: Value =
        serde_json::from_str(&sei_jira_core::ports::scheduled_input("acme", &id)).unwrap();
    let run = sync_project::handle(&w.sync, scheduled, None, "run-no-token").await;
    let run = run.expect("a recorded failure is not an error to retry");
    assert_eq!(run["outcome"], "failed", "{run}");
    assert!(
        run["error"].as_str().unwrap().contains("token is missing"),
        "{run}"
    );

    let (status, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &[&id],
            None,
        )
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["health"]["status"], "Unhealthy", "{m}");
    assert!(
        m["health"]["reason"]
            .as_str()
            .unwrap()
            .contains("token missing from the secret store"),
        "{m}"
    );
    let today = m["availability"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (today["runs"].as_u64(), today["failed_runs"].as_u64()),
        (Some(1), Some(1)),
        "{m}"
    );
}

/// GIVEN a scheduled run's progress observer, WHEN the run's events come, THEN its logs carry a
/// line of issues stored against those expected, projects done, rate and time left.
#[test]
fn a_scheduled_run_logs_its_progress() {
    use sei_jira_core::sync::Event;

    let logs = capture_logs();
    let observer = sei_jira_core::sync::progress::logged_every(
        std::time::Duration::ZERO,
        "integration-of-progress".into(),
    );
    for event in [
        Event::Planned { units: 2 },
        Event::Expected {
            unit: "A".into(),
            issues: 600,
        },
        Event::Expected {
            unit: "B".into(),
            issues: 400,
        },
        Event::Stored {
            unit: "A".into(),
            issues: 250,
        },
    ] {
        observer(&event);
    }
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = text
        .lines()
        .rfind(|l| l.contains("integration-of-progress"))
        .expect("a progress line");
    assert!(
        line.contains("sync progress")
            && line.contains("sync: 250 of 1000 issues, 0 of 2 projects"),
        "{line}"
    );
}

/// GIVEN a runtime that gives every run a deadline already past (cargo-lambda's emulator sends a
/// constant one in 1970; a function deployed with a timeout under the sync's safety margin is no
/// better off), WHEN the schedule fires and each continuation is run the same way, THEN every
/// run still moves the sync forward and it finishes: the bus never carries an endless chain of
/// runs that do nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_with_no_time_left_still_finish_the_sync() {
    let moto = e2e::start_moto();
    // Nothing changed in the last two days: the later incremental scans find nothing to write.
    let sim = jira_sim::start(jira_sim::SimConfig {
        dataset: jira_sim::DatasetConfig {
            issues: 240,
            projects: 3,
            anchor: chrono::Utc::now() - chrono::Duration::days(2),
            ..jira_sim::DatasetConfig::default()
        },
        ..jira_sim::SimConfig::default()
    })
    .await
    .unwrap();
    let info = jira_sim::describe(&sim);
    let base = info["base_url"].as_str().unwrap().to_string();
    let token = token_of(&info, "alice@example.com");
    let mut w = World::new(moto.endpoint(), &base).await;
    let id = w.create_alices("No time", &base, &token).await;

    // The first sync: a backfill of every project.
    let scheduled: Value =
        serde_json::from_str(&sei_jira_core::ports::scheduled_input("acme", &id)).unwrap();
    let runs = chain_without_time(&mut w, scheduled).await;
    let new: u64 = runs
        .iter()
        .map(|r| r["counts"]["issues_new"].as_u64().unwrap())
        .sum();
    assert_eq!(new, info["issues"].as_u64().unwrap(), "{runs:?}");

    // A sync asked for now: every project incremental, and a census of ids.
    let requested = w.sync_now("acme", &id).await;
    chain_without_time(&mut w, requested).await;
}

/// Runs `event`, and each continuation it leads to, with its deadline already past, until the
/// chain ends; every run's answer. Fails when it does not end within 40 runs or ends otherwise
/// than succeeded.
async fn chain_without_time(w: &mut World, mut event: Value) -> Vec<Value> {
    let mut runs = Vec::new();
    loop {
        let run = w
            .sync(event, Some(Instant::now()), &format!("run-{}", runs.len()))
            .await;
        runs.push(run.clone());
        if run["outcome"] != "partial" {
            break;
        }
        assert!(
            runs.len() < 40,
            "no end in sight after {} runs: {runs:?}",
            runs.len()
        );
        event = w.delivered(1).await.remove(0);
        assert_eq!(event["detail-type"], "jira.sync.continuation", "{event}");
    }
    assert_eq!(runs.last().unwrap()["outcome"], "succeeded", "{runs:?}");
    assert_eq!(
        w.delivered(1).await.remove(0)["detail-type"],
        "jira.sync.completed"
    );
    runs
}

/// GIVEN an integration synced whole, WHEN its site then answers every request 429 for longer
/// than a run may wait, THEN each run ends partial and its metrics say how far behind Jira the
/// store is: a lag that grows from run to run, as operators' dashboard shows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_stops_answering_shows_a_lag_that_grows() {
    let (mut w, site) = stage(30, 2).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    let id = w.create_alices("Goes quiet", &base, &token).await;
    let run = w.sync(scheduled(&id), None, "synced").await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    sim_control(
        &base,
        json!({"force_429": 1_000_000, "force_429_wait_secs": 3_600}),
    )
    .await;
    for n in 1..=2 {
        // Lags are measured in milliseconds: each run starts once the clock has passed the end
        // of the one before (a condition, not a guessed pause), so it ends strictly later.
        let before = chrono::Utc::now().timestamp_millis();
        while chrono::Utc::now().timestamp_millis() <= before {
            tokio::task::yield_now().await;
        }
        // A Lambda's 15 minutes less the sync's margin, as the function works out its stop.
        let stop = Instant::now() + std::time::Duration::from_secs(840);
        let run = w
            .sync(scheduled(&id), Some(stop), &format!("refused-{n}"))
            .await;
        assert_eq!(run["outcome"], "partial", "{run}");
    }
    let runs: Vec<(String, Option<f64>)> = w
        .metrics
        .documents()
        .iter()
        .filter(|d| d["SyncRuns"] == 1.0)
        .map(|d| (d["Outcome"].to_string(), d["SyncLagSeconds"].as_f64()))
        .collect();
    let lags: Vec<f64> = runs.iter().filter_map(|(_, lag)| *lag).collect();
    assert_eq!(lags.len(), 3, "every run sends its lag: {runs:?}");
    assert!(
        lags[0] < lags[1] && lags[1] < lags[2],
        "the lag grows while Jira refuses: {runs:?}"
    );
}

/// GIVEN a site that answers every request 429 with `Retry-After: 900` (longer than a run may
/// wait), WHEN a simulated day goes by — the integration's hourly schedule fires 24 times, and
/// every event the runs lead to (a continuation on the bus, a one-time retry in Scheduler) is
/// delivered when it is due — THEN sync-project is invoked the schedule's ticks plus the backoff
/// tries before the chain stops (`StalledRunsBeforeStop` − 1), never a chain of immediate
/// continuations; and monitoring says why, and what tries next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_refuses_everything_costs_a_bounded_number_of_runs_a_day() {
    const HOUR_MS: i64 = 3_600_000;
    let (mut w, site) = stage(40, 1).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    let id = w.create_alices("Refuses all", &base, &token).await;
    sim_control(
        &base,
        json!({"force_429": 1_000_000, "force_429_wait_secs": 900}),
    )
    .await;
    w.drain_events().await;

    let scheduled: Value =
        serde_json::from_str(&sei_jira_core::ports::scheduled_input("acme", &id)).unwrap();
    // (due, order of arrival, event): a time of the simulated day, in ms from its start.
    let mut due: std::collections::BTreeMap<(i64, usize), Value> = (0..24)
        .map(|h| ((h * HOUR_MS, h as usize), scheduled.clone()))
        .collect();
    let scheduler = aws_sdk_scheduler::Client::new(&w.config);
    let retry_name = format!("once-{id}");
    let mut invocations = 0usize;
    while let Some(((at, _), event)) = due.pop_first() {
        invocations += 1;
        assert!(
            invocations <= 200,
            "no end in sight: {invocations} runs by {at} ms"
        );
        let ran_at = chrono::Utc::now().timestamp_millis();
        // A Lambda's 15 minutes less the sync's margin, as the function works out its stop.
        let stop = Instant::now() + std::time::Duration::from_secs(840);
        let run = w
            .sync(event, Some(stop), &format!("run-{invocations}"))
            .await;
        assert_eq!(run["outcome"], "partial", "{run}");
        // Continuations go at once.
        for e in w.drain_events().await {
            assert_eq!(e["detail-type"], "jira.sync.continuation", "{e}");
            due.insert((at + 1_000, due.len() + 100), e);
        }
        // A retry goes when its schedule says, as Scheduler delivers it, and is gone after.
        let Ok(retry) = scheduler
            .get_schedule()
            .group_name(GROUP)
            .name(&retry_name)
            .send()
            .await
        else {
            continue;
        };
        let expression = retry.schedule_expression().unwrap();
        let when = chrono::NaiveDateTime::parse_from_str(expression, "at(%Y-%m-%dT%H:%M:%S)")
            .unwrap_or_else(|e| panic!("{expression}: {e}"))
            .and_utc()
            .timestamp_millis();
        let target = retry.target().unwrap();
        let parameters = target.event_bridge_parameters().unwrap();
        let event = json!({"source": parameters.source(), "detail-type": parameters.detail_type(),
            "detail": serde_json::from_str::<Value>(target.input().unwrap()).unwrap()});
        assert_eq!(event["detail"]["trigger"], "retry", "{event}");
        due.insert((at + (when - ran_at), due.len() + 100), event);
        scheduler
            .delete_schedule()
            .group_name(GROUP)
            .name(&retry_name)
            .send()
            .await
            .unwrap();
    }
    let stop_after = sei_jira_core::sync::stall::StallPolicy::default().stop_after as usize;
    println!(
        "a day of 429 + Retry-After: 900: sync-project invoked {invocations} times (24 schedule \
         ticks, {} backoff tries)",
        invocations - 24
    );
    assert_eq!(invocations, 24 + (stop_after - 1));
    // Operators see the same day in the metrics: every run partial, throttled, with nothing
    // written, and its error counted as rate_limited.
    let documents = w.metrics.documents();
    let runs: Vec<&Value> = documents.iter().filter(|d| d["SyncRuns"] == 1.0).collect();
    assert_eq!(runs.len(), invocations);
    for run in &runs {
        assert_eq!(
            (&run["Outcome"], &run["IssuesWritten"]),
            (&json!("partial"), &json!(0.0))
        );
        assert!(run["JiraThrottled"].as_f64() >= Some(1.0), "{run}");
    }
    let rate_limited: f64 = documents
        .iter()
        .filter(|d| d["ErrorCategory"] == "rate_limited")
        .filter_map(|d| d["SyncErrors"].as_f64())
        .sum();
    assert!(rate_limited >= invocations as f64, "{rate_limited}");

    let (status, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &[&id],
            None,
        )
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["health"]["status"], "Unhealthy", "{m}");
    let reason = m["health"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("made no progress")
            && reason.contains("rate limited by Jira")
            && reason.contains("no retry follows until the next scheduled sync (by "),
        "{reason}"
    );
}

/// GIVEN an account at its most integrations, WHEN it creates one more, THEN a 409 names the
/// limit and nothing is created; another account, and the same account once it deleted one,
/// create as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_has_at_most_its_integrations() {
    let (mut w, site) = stage(10, 1).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    only(&mut w.api).settings.max_integrations = 2;
    let first = w.create_alices("One", &base, &token).await;
    w.create_alices("Two", &base, &token).await;
    let body = json!({"name": "Three", "connection": alice_connection(&base, &token),
        "scope": {"kind": "all_accessible"}});
    let (status, refused) = w
        .api("acme", "POST /integrations", &[], Some(body.clone()))
        .await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("MaxIntegrationsPerAccount = 2"),
        "{refused}"
    );
    let (_, listed) = w.api("acme", "GET /integrations", &[], None).await;
    assert_eq!(
        listed["integrations"].as_array().unwrap().len(),
        2,
        "{listed}"
    );

    let (status, _) = w
        .api("globex", "POST /integrations", &[], Some(body.clone()))
        .await;
    assert_eq!(status, 201, "another account's integrations are its own");
    let (status, _) = w
        .api(
            "acme",
            "DELETE /integrations/{integrationId}",
            &[&first],
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, created) = w.api("acme", "POST /integrations", &[], Some(body)).await;
    assert_eq!(status, 201, "{created}");
}

/// GIVEN a site that asks for a 900 s wait before anything more, WHEN the platform searches its
/// projects or checks a JQL filter, THEN the answer comes within the request's deadline: a 503
/// `retry_later` saying how long Jira asked to wait, never a request held past API Gateway's
/// 30 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_asking_for_a_long_wait_is_answered_retry_later_within_the_deadline() {
    let (mut w, site) = stage(10, 1).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    sim_control(
        &base,
        json!({"force_429": 1_000, "force_429_wait_secs": 900}),
    )
    .await;
    let connection = alice_connection(&base, &token);
    for (route, body) in [
        ("POST /projects/search", json!({"connection": connection})),
        (
            "POST /jql/validate",
            json!({"connection": connection, "jql": "project = PLAT"}),
        ),
    ] {
        let started = Instant::now();
        let (status, refused) = w.api("acme", route, &[], Some(body)).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (503, Some("retry_later")),
            "{route}: {refused}"
        );
        assert!(
            refused["message"]
                .as_str()
                .unwrap()
                .contains("a wait of 900 s"),
            "{refused}"
        );
        assert!(started.elapsed().as_secs() < 29, "{route} waited");
    }
}

/// GIVEN an account allowed 2 checks a minute, WHEN it asks for a third credential check, JQL
/// check or project search within the minute, THEN a 429 `quota_exceeded` names the limit and
/// asks Jira nothing; another account's checks are its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_asks_its_site_at_most_its_quota_a_minute() {
    let (mut w, site) = stage(10, 1).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    only(&mut w.api).settings.validations_per_minute = 2;
    let connection = alice_connection(&base, &token);
    let calls = [
        (
            "POST /credentials/validate",
            json!({"connection": connection}),
        ),
        (
            "POST /jql/validate",
            json!({"connection": connection, "jql": "project = PLAT"}),
        ),
        ("POST /projects/search", json!({"connection": connection})),
    ];
    // Three calls within one minute (once more if the minute turned meanwhile).
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let minute = chrono::Utc::now().timestamp() / 60;
        statuses.clear();
        for (route, body) in &calls {
            let (status, answer) = w.api("acme", route, &[], Some(body.clone())).await;
            statuses.push((status, answer));
        }
        if chrono::Utc::now().timestamp() / 60 == minute {
            break;
        }
    }
    let codes: Vec<u16> = statuses.iter().map(|(s, _)| *s).collect();
    assert_eq!(codes[..2], [200, 200], "{statuses:?}");
    let (status, refused) = &statuses[2];
    assert_eq!(
        (*status, refused["code"].as_str()),
        (429, Some("quota_exceeded")),
        "{refused}"
    );
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("ValidationsPerMinute = 2"),
        "{refused}"
    );
    let (status, _) = w
        .api("globex", calls[0].0, &[], Some(calls[0].1.clone()))
        .await;
    assert_eq!(status, 200, "another account's quota is its own");
}

/// GIVEN a sync asked for now, WHEN it is asked for again before its chain ends, THEN the answer
/// is that sync (`already_under_way`, the first request's time) and nothing more goes on the
/// bus; once the chain has ended, asking again starts a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_while_one_is_under_way_joins_it() {
    let (mut w, site) = stage(60, 2).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    let id = w.create_alices("Now", &base, &token).await;
    w.drain_events().await;
    let route = "POST /integrations/{integrationId}/sync";

    let requested = w.sync_now("acme", &id).await;
    let (_, first) = w.api("acme", route, &[&id], None).await;
    assert_eq!(first["already_under_way"], true, "{first}");
    assert!(
        w.drain_events().await.is_empty(),
        "a second request put an event"
    );
    // The chain goes on: its first run stops early and hands over to a continuation.
    let run = w.sync(requested, Some(Instant::now()), "run-1").await;
    assert_eq!(run["outcome"], "partial", "{run}");
    let mut next = w.delivered(1).await.remove(0);
    let (status, joined) = w.api("acme", route, &[&id], None).await;
    assert_eq!(status, 202);
    assert_eq!(joined["already_under_way"], true, "{joined}");
    assert_eq!(joined["requested_at"], first["requested_at"], "{joined}");
    assert!(
        w.drain_events().await.is_empty(),
        "a request during the chain put an event"
    );

    // The chain ends; a request now starts another.
    loop {
        let run = w.sync(next, None, "run-2").await;
        let event = w.delivered(1).await.remove(0);
        if run["outcome"] != "partial" {
            assert_eq!(event["detail-type"], "jira.sync.completed");
            break;
        }
        next = event;
    }
    w.sync_now("acme", &id).await;
}
