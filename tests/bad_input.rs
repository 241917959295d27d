//! The bad-input catalogue (issue #11, item 15): what strangers send the integration API and
//! what a hostile or broken Jira answers, each named, each with the named refusal it gets, and
//! each checked to change nothing stored. One row per input; a test runs every row of its table
//! and reports every row that went otherwise, so one run shows the whole catalogue.
//!
//! On moto (127.0.0.1) and the Jira simulator, the functions wired as `template.yaml` wires them.

#[path = "deployed.rs"]
mod deployed;

use deployed::*;
use sei_jira_core::jira::PrivateNetworks;
use serde_json::{Value, json};

/// What a row must get back.
enum Refusal {
    /// 400 `invalid_request`, the message naming this field first.
    Field(&'static str),
    /// 400 `validation_failed`, with this named check failed.
    Check(&'static str),
    /// This status and error code (tenancy: another account's integration is not found).
    Status(u16, &'static str),
}

/// One bad request: its name, the route, the event (made from the route, then changed), and
/// what it must get.
struct Row {
    name: &'static str,
    request: &'static str,
    event: Value,
    refusal: Refusal,
    /// Text the answer must not hold (what was pasted where it does not belong).
    never_echoed: Option<String>,
    /// Served as deployed, with private networks refused (the simulator's loopback address
    /// among them); otherwise as locally, so the rest of a body reaches the simulator.
    deployed: bool,
}

/// Everything stored: the table's items, the secrets and the schedules, as text.
async fn everything_stored(w: &World) -> String {
    let secrets = aws_sdk_secretsmanager::Client::new(&w.config)
        .list_secrets()
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = secrets
        .secret_list()
        .iter()
        .filter_map(|s| s.name())
        .collect();
    names.sort();
    let schedules = aws_sdk_scheduler::Client::new(&w.config)
        .list_schedules()
        .group_name(GROUP)
        .send()
        .await
        .unwrap();
    let mut scheduled: Vec<String> = schedules
        .schedules()
        .iter()
        .map(|s| format!("{:?}", s.name()))
        .collect();
    scheduled.sort();
    format!(
        "{}\nsecrets: {names:?}\nschedules: {scheduled:?}",
        w.table_dump().await
    )
}

/// Checks one answer against the row's refusal; None when it is the one expected.
fn mismatch(row: &Row, status: u16, answer: &Value) -> Option<String> {
    let code = answer["code"].as_str().unwrap_or_default();
    let message = answer["message"].as_str().unwrap_or_default();
    let ok = match &row.refusal {
        Refusal::Field(field) => {
            status == 400 && code == "invalid_request" && message.starts_with(&format!("{field}:"))
        }
        Refusal::Check(check) => {
            status == 400
                && code == "validation_failed"
                && answer["checks"].as_array().is_some_and(|checks| {
                    checks
                        .iter()
                        .any(|c| c["id"] == *check && c["status"] == "failed")
                })
        }
        Refusal::Status(want, want_code) => status == *want && code == *want_code,
    };
    let echoed = row
        .never_echoed
        .as_deref()
        .is_some_and(|text| answer.to_string().contains(text));
    match (ok, echoed) {
        (true, false) => None,
        (_, true) => Some(format!("{}: the answer echoes the pasted text", row.name)),
        (false, _) => Some(format!("{}: got {status} {answer}", row.name)),
    }
}

/// The catalogue of requests, given an integration of account acme (`id`), the site's URL
/// and a good token.
fn api_rows(id: &str, base: &str, token: &str) -> Vec<Row> {
    let create = |name: &'static str, body: Value, refusal: Refusal| Row {
        name,
        request: "POST /integrations",
        event: event("acme", "POST /integrations", &[], Some(body)),
        refusal,
        never_echoed: None,
        deployed: false,
    };
    let good = || {
        json!({"name": "Jira", "scope": {"kind": "all_accessible"},
            "connection": {"deployment": "cloud", "url": base, "email": "alice@example.com", "token": token}})
    };
    let with = |pointer: &str, value: Value| {
        let mut body = good();
        *body
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = value;
        body
    };
    let without = |path: &[&str]| {
        let mut body = good();
        let (last, parents) = path.split_last().unwrap();
        let mut at = &mut body;
        for p in parents {
            at = &mut at[*p];
        }
        at.as_object_mut().unwrap().remove(*last);
        body
    };
    let adding = |key: &str, value: Value| {
        let mut body = good();
        body[key] = value;
        body
    };
    let url = |name: &'static str, url: &str, refusal: Refusal| Row {
        deployed: true,
        ..create(name, with("/connection/url", json!(url)), refusal)
    };
    // As Atlassian's API tokens look: a fixed prefix, the secret, a checksum after `=`.
    let pasted = format!("ATATT3xFfGF0{}=9B1D4C2A", "Zq7".repeat(60));
    // Any part of the pasted token's secret part.
    let secret_part = || Some("Zq7Zq7".to_string());
    let long = |n: usize| "x".repeat(n);
    let many = |n: usize, f: fn(usize) -> String| (0..n).map(f).collect::<Vec<_>>();

    let mut rows = vec![
        // The body itself.
        Row {
            event: raw_event("POST /integrations", "{\"name\": "),
            ..create("a body cut short", json!(null), Refusal::Field("name"))
        },
        create("a body that is a list", json!([]), Refusal::Field("body")),
        create(
            "a body that is text",
            json!("integration"),
            Refusal::Field("body"),
        ),
        create(
            "an unknown field",
            adding("admin", json!(true)),
            Refusal::Field("admin"),
        ),
        // Names, tags, descriptions.
        create("no name", without(&["name"]), Refusal::Field("body")),
        create(
            "a blank name",
            with("/name", json!("   ")),
            Refusal::Field("name"),
        ),
        create(
            "a name of 10,000 characters",
            with("/name", json!(long(10_000))),
            Refusal::Field("name"),
        ),
        create(
            "a name that is a number",
            with("/name", json!(5)),
            Refusal::Field("name"),
        ),
        create(
            "tags that are text",
            adding("tags", json!("x")),
            Refusal::Field("tags"),
        ),
        create(
            "a description of 100,000 characters",
            adding("description", json!(long(100_000))),
            Refusal::Field("description"),
        ),
        // The connection.
        create(
            "no connection",
            without(&["connection"]),
            Refusal::Field("body"),
        ),
        create(
            "an unknown deployment",
            with("/connection/deployment", json!("server")),
            Refusal::Field("connection.deployment"),
        ),
        create(
            "no URL",
            without(&["connection", "url"]),
            Refusal::Field("connection"),
        ),
        url(
            "a URL that is not one",
            "not a url",
            Refusal::Check("url_format"),
        ),
        url(
            "an ftp URL",
            "ftp://jira.example.com",
            Refusal::Check("url_format"),
        ),
        url(
            "a URL with a user and password",
            "https://u:p@jira.example.com",
            Refusal::Check("url_format"),
        ),
        url(
            "plain http for Cloud",
            "http://acme.atlassian.net",
            Refusal::Check("url_format"),
        ),
        url(
            "loopback",
            "https://127.0.0.1",
            Refusal::Check("url_allowed"),
        ),
        url(
            "a private network",
            "https://10.1.2.3",
            Refusal::Check("url_allowed"),
        ),
        url(
            "the metadata service",
            "https://169.254.169.254",
            Refusal::Check("url_allowed"),
        ),
        url(
            "IPv6 loopback",
            "https://[::1]",
            Refusal::Check("url_allowed"),
        ),
        url(
            "IPv4-mapped loopback",
            "https://[::ffff:127.0.0.1]",
            Refusal::Check("url_allowed"),
        ),
        url(
            "IPv4-compatible loopback",
            "https://[::127.0.0.1]",
            Refusal::Check("url_allowed"),
        ),
        url(
            "NAT64 of the metadata service",
            "https://[64:ff9b::a9fe:a9fe]",
            Refusal::Check("url_allowed"),
        ),
        url(
            "6to4 of the metadata service",
            "https://[2002:a9fe:a9fe::1]",
            Refusal::Check("url_allowed"),
        ),
        url(
            "an IPv6 unique-local address",
            "https://[fd00::1]",
            Refusal::Check("url_allowed"),
        ),
        url(
            "an IPv6 link-local address",
            "https://[fe80::1]",
            Refusal::Check("url_allowed"),
        ),
        url(
            "the benchmarking range",
            "https://198.18.0.1",
            Refusal::Check("url_allowed"),
        ),
        url(
            "the reserved range",
            "https://240.0.0.1",
            Refusal::Check("url_allowed"),
        ),
        url(
            "the IETF protocol range",
            "https://192.0.0.1",
            Refusal::Check("url_allowed"),
        ),
        url(
            "the unspecified address",
            "https://0.0.0.0",
            Refusal::Check("url_allowed"),
        ),
        url(
            "loopback written as one number",
            "https://2130706433",
            Refusal::Check("url_allowed"),
        ),
        url(
            "localhost",
            "https://localhost",
            Refusal::Check("url_allowed"),
        ),
        Row {
            never_echoed: secret_part(),
            ..url(
                "a token pasted into the URL field",
                &pasted,
                Refusal::Check("url_format"),
            )
        },
        create(
            "Cloud without an email",
            without(&["connection", "email"]),
            Refusal::Field("connection.email"),
        ),
        create(
            "an email that is not one",
            with("/connection/email", json!("alice")),
            Refusal::Field("connection.email"),
        ),
        create(
            "no token",
            without(&["connection", "token"]),
            Refusal::Field("connection.token"),
        ),
        create(
            "an empty token",
            with("/connection/token", json!("")),
            Refusal::Field("connection.token"),
        ),
        create(
            "a token of spaces",
            with("/connection/token", json!("   ")),
            Refusal::Field("connection.token"),
        ),
        create(
            "a token of 100,000 characters",
            with("/connection/token", json!(long(100_000))),
            Refusal::Field("connection.token"),
        ),
        create(
            "a token with a line break in it",
            with("/connection/token", json!(format!("{token}\r\nX-Admin: 1"))),
            Refusal::Field("connection.token"),
        ),
        Row {
            never_echoed: secret_part(),
            ..create(
                "a token pasted into the email field",
                with("/connection/email", json!(pasted)),
                Refusal::Field("connection.email"),
            )
        },
        // The scope.
        create("no scope", without(&["scope"]), Refusal::Field("body")),
        create(
            "an unknown scope kind",
            with("/scope", json!({"kind": "everything"})),
            Refusal::Field("scope.kind"),
        ),
        create(
            "no project keys",
            with("/scope", json!({"kind": "projects", "keys": []})),
            Refusal::Field("scope.keys"),
        ),
        create(
            "1,001 project keys",
            with(
                "/scope",
                json!({"kind": "projects", "keys": many(1_001, |n| format!("P{n}"))}),
            ),
            Refusal::Field("scope.keys"),
        ),
        create(
            "a project key with a space",
            with("/scope", json!({"kind": "projects", "keys": ["A B"]})),
            Refusal::Field("scope.keys"),
        ),
        Row {
            never_echoed: secret_part(),
            ..create(
                "a token pasted as a project key",
                with("/scope", json!({"kind": "projects", "keys": [pasted]})),
                Refusal::Field("scope.keys"),
            )
        },
        create(
            "a JQL filter of 10,001 characters",
            with(
                "/scope",
                json!({"kind": "jql", "jql": format!("project = A AND text ~ \"{}\"", long(10_000))}),
            ),
            Refusal::Field("scope.jql"),
        ),
        create(
            "a JQL filter that only sorts",
            with(
                "/scope",
                json!({"kind": "jql", "jql": "ORDER BY created DESC"}),
            ),
            Refusal::Field("scope.jql"),
        ),
        create(
            "a JQL scope without JQL",
            with("/scope", json!({"kind": "jql"})),
            Refusal::Field("scope.jql"),
        ),
        // Fields and schedule.
        create(
            "101 custom fields",
            adding(
                "custom_fields",
                json!(many(101, |n| format!("customfield_{}", 10_000 + n))),
            ),
            Refusal::Field("custom_fields"),
        ),
        create(
            "mapping an excluded field back in",
            {
                let mut body = adding("excluded_fields", json!(["summary"]));
                body["custom_fields"] = json!(["Summary"]);
                body
            },
            Refusal::Field("custom_fields"),
        ),
        create(
            "an exclusion that is not one",
            adding("excluded_fields", json!(["priority"])),
            Refusal::Field("excluded_fields"),
        ),
        create(
            "a rate of zero",
            adding("schedule_rate", json!("rate(0 minutes)")),
            Refusal::Field("schedule_rate"),
        ),
        create(
            "a rate under the floor",
            adding("schedule_rate", json!("rate(1 minute)")),
            Refusal::Field("schedule_rate"),
        ),
        create(
            "a cron every minute",
            adding("schedule_rate", json!("cron(* * * * ? *)")),
            Refusal::Field("schedule_rate"),
        ),
    ];

    // Who is asking: API Gateway hands claims on as text, a list as `[a b]`.
    let claim = |value: &str, request: &str, ids: &[&str], body: Option<Value>| {
        let mut e = event("acme", request, ids, body);
        e["requestContext"]["authorizer"]["jwt"]["claims"][CLAIM] = json!(value);
        e
    };
    rows.extend([
        Row {
            event: event("", "POST /integrations", &[], Some(good())),
            ..create(
                "no account claim",
                json!(null),
                Refusal::Status(401, "unauthorized"),
            )
        },
        Row {
            event: claim("[acme globex]", "POST /integrations", &[], Some(good())),
            ..create(
                "an account claim that is a list",
                json!(null),
                Refusal::Status(401, "unauthorized"),
            )
        },
        Row {
            event: claim("acme/../globex", "POST /integrations", &[], Some(good())),
            ..create(
                "an account claim with a path in it",
                json!(null),
                Refusal::Status(401, "unauthorized"),
            )
        },
        Row {
            request: "GET /integrations/{integrationId}",
            event: claim("42", "GET /integrations/{integrationId}", &[id], None),
            ..create(
                "an account claim that is a number, reading acme's integration",
                json!(null),
                Refusal::Status(404, "not_found"),
            )
        },
    ]);

    // Routes of an integration.
    let on = |name: &'static str,
              account: &str,
              request: &'static str,
              ids: Vec<String>,
              body: Option<Value>,
              refusal: Refusal| {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        Row {
            name,
            request,
            event: event(account, request, &refs, body),
            refusal,
            never_echoed: None,
            deployed: false,
        }
    };
    let id = id.to_string();
    let over = "a".repeat(129);
    rows.extend([
        on(
            "an integration id of 129 characters",
            "acme",
            "GET /integrations/{integrationId}",
            vec![over.clone()],
            None,
            Refusal::Field("integrationId"),
        ),
        on(
            "a change to an id of 129 characters",
            "acme",
            "PATCH /integrations/{integrationId}",
            vec![over.clone()],
            Some(json!({"name": "x"})),
            Refusal::Field("integrationId"),
        ),
        on(
            "an issue id of 129 characters",
            "acme",
            "POST /integrations/{integrationId}/issues/{issueId}/hide",
            vec![id.clone(), over.clone()],
            None,
            Refusal::Field("issueId"),
        ),
        on(
            "another account reading",
            "globex",
            "GET /integrations/{integrationId}",
            vec![id.clone()],
            None,
            Refusal::Status(404, "not_found"),
        ),
        on(
            "another account deleting",
            "globex",
            "DELETE /integrations/{integrationId}",
            vec![id.clone()],
            None,
            Refusal::Status(404, "not_found"),
        ),
        on(
            "another account hiding an issue",
            "globex",
            "POST /integrations/{integrationId}/issues/{issueId}/hide",
            vec![id.clone(), "10001".into()],
            None,
            Refusal::Status(404, "not_found"),
        ),
        on(
            "a change with an unknown field",
            "acme",
            "PATCH /integrations/{integrationId}",
            vec![id.clone()],
            Some(json!({"owner": "mallory"})),
            Refusal::Field("owner"),
        ),
        on(
            "a change to 1,001 project keys",
            "acme",
            "PATCH /integrations/{integrationId}",
            vec![id.clone()],
            Some(json!({"scope": {"kind": "projects", "keys": many(1_001, |n| format!("P{n}"))}})),
            Refusal::Field("scope.keys"),
        ),
        on(
            "a change to a blank name",
            "acme",
            "PATCH /integrations/{integrationId}",
            vec![id.clone()],
            Some(json!({"name": ""})),
            Refusal::Field("name"),
        ),
        on(
            "new credentials with an empty token",
            "acme",
            "PUT /integrations/{integrationId}/credentials",
            vec![id.clone()],
            Some(json!({"token": ""})),
            Refusal::Field("token"),
        ),
        on(
            "new credentials with a bad email",
            "acme",
            "PUT /integrations/{integrationId}/credentials",
            vec![id.clone()],
            Some(json!({"email": "alice", "token": "t"})),
            Refusal::Field("email"),
        ),
        on(
            "a monitoring range of 8 days",
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=8d",
            vec![id.clone()],
            None,
            Refusal::Field("range"),
        ),
        on(
            "a criterion with a negative weight",
            "acme",
            "PUT /integrations/{integrationId}/hygiene/criteria/{criterionId}",
            vec![id.clone(), "no_assignee".into()],
            Some(json!({"weight": -1})),
            Refusal::Field("weight"),
        ),
    ]);
    // DORA: profiles and the report.
    let profile = || {
        json!({"name": "Ops",
            "incidents": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Incident"]}]}]},
            "changes": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Change"]}]}]}})
    };
    let profile_with = |pointer: &str, value: Value| {
        let mut body = profile();
        match body.pointer_mut(pointer) {
            Some(at) => *at = value,
            None => body[pointer.trim_start_matches('/')] = value,
        }
        body
    };
    let profiles = "POST /integrations/{integrationId}/dora/profiles";
    let dora_row = |name: &'static str, body: Value, refusal: Refusal| {
        on(
            name,
            "acme",
            profiles,
            vec![id.clone()],
            Some(body),
            refusal,
        )
    };
    let condition = "/incidents/sets/0/conditions/0";
    rows.extend([
        dora_row(
            "a DORA profile with an unknown key",
            profile_with("/owner", json!("mallory")),
            Refusal::Field("owner"),
        ),
        dora_row(
            "a DORA condition on a field the site lacks",
            profile_with(&format!("{condition}/field"), json!("flavour")),
            Refusal::Field("incidents.sets[0].conditions[0].field"),
        ),
        dora_row(
            "a DORA condition with an unknown operator",
            profile_with(&format!("{condition}/operator"), json!("matches")),
            Refusal::Field("incidents.sets[0].conditions[0].operator"),
        ),
        dora_row(
            "four DORA filter sets",
            profile_with(
                "/changes/sets",
                json!(vec![profile()["changes"]["sets"][0].clone(); 4]),
            ),
            Refusal::Field("changes.sets"),
        ),
        dora_row(
            "a DORA value of 256 characters",
            profile_with(&format!("{condition}/values"), json!(["x".repeat(256)])),
            Refusal::Field("incidents.sets[0].conditions[0].values"),
        ),
        dora_row(
            "a DORA failure window of 0 hours",
            profile_with("/failure_window_hours", json!(0)),
            Refusal::Field("failure_window_hours"),
        ),
        Row {
            never_echoed: Some(pasted.clone()),
            ..dora_row(
                "a token pasted as a DORA profile's name",
                profile_with("/name", json!(pasted)),
                Refusal::Field("name"),
            )
        },
        Row {
            never_echoed: Some(pasted.clone()),
            ..on(
                "a token pasted as a DORA profile id",
                "acme",
                "PUT /integrations/{integrationId}/dora/profiles/{profileId}",
                vec![id.clone(), pasted[..100].to_string()],
                Some(profile()),
                Refusal::Status(404, "not_found"),
            )
        },
        on(
            "a DORA report without a profile",
            "acme",
            "GET /integrations/{integrationId}/dora?from=2026-01-01",
            vec![id.clone()],
            None,
            Refusal::Field("profile"),
        ),
        on(
            "a DORA report by the day",
            "acme",
            "GET /integrations/{integrationId}/dora?profile=p1&granularity=day",
            vec![id.clone()],
            None,
            Refusal::Field("granularity"),
        ),
        on(
            "a DORA report of another account's integration",
            "globex",
            "GET /integrations/{integrationId}/dora?profile=p1",
            vec![id.clone()],
            None,
            Refusal::Status(404, "not_found"),
        ),
    ]);
    rows
}

/// `http_event` as JSON, for a row to change.
fn event(account: &str, request: &str, ids: &[&str], body: Option<Value>) -> Value {
    serde_json::from_str(&http_event(account, request, ids, body)).unwrap()
}

/// An event whose body is `raw` as it is (not JSON, perhaps).
fn raw_event(request: &str, raw: &str) -> Value {
    let mut e = event("acme", request, &[], None);
    e["body"] = json!(raw);
    e
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_is_refused_by_name_and_changes_nothing_stored() {
    let (mut w, site) = stage(20, 1).await;
    let (base, token) = (&site.base, &site.token);
    let id = w.create_alices("Kept", base, token).await;
    let rows = api_rows(&id, base, token);
    assert!(rows.len() >= 60, "{} rows", rows.len());
    let mut wrong = Vec::new();
    for row in &rows {
        only(&mut w.api).settings.validation.private_networks = if row.deployed {
            PrivateNetworks::default()
        } else {
            PrivateNetworks::local()
        };
        let before = everything_stored(&w).await;
        let body = row.event["body"]
            .as_str()
            .and_then(|b| serde_json::from_str::<Value>(b).ok());
        let (status, answer) = w.api_event(row.request, &row.event, body.as_ref()).await;
        wrong.extend(mismatch(row, status, &answer));
        if everything_stored(&w).await != before {
            wrong.push(format!("{}: changed what is stored", row.name));
        }
    }
    e2e::assert_no_wrong_rows(&wrong, rows.len());
}
