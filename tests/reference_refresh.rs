//! Reference data that changes in Jira without touching any issue (issue #24, item 4), end to end
//! through `sei-jira` against the simulator: a version released, a sprint completed and a user
//! deactivated through the simulator's controls, no issue edited. The next sync's hygiene report
//! and DORA releases change accordingly, each checked against a computation written here from
//! the definitions over the site's own answers (`/_sim/truth`, its version lists), never by
//! calling the scorer or the metrics.

use chrono::{DateTime, Utc};
use e2e::hygiene_truth::{expected_misses, truth};
use e2e::{cli_sync, ok_json, sei_jira, start_sim};
use serde_json::{Value, json};

const EMAIL: &str = "alice@example.com";

/// Misses per built-in category, from the definitions over the truth at `at`.
fn expected(issues: &[Value], sprint_field: &str, at: i64, category: &str) -> u64 {
    issues
        .iter()
        .filter(|i| expected_misses(i, sprint_field, at).contains(&category))
        .count() as u64
}

/// The hygiene report's Inactive Assignee and Stalled in Active Sprint are what the definitions
/// say of the site after the change, and not what they said before it.
fn follows_the_change(
    report: &Value,
    (before, after): (&[Value], &[Value]),
    sprint_field: &str,
    at: i64,
) {
    for category in ["inactive_assignee", "stalled_in_active_sprint"] {
        let now = expected(after, sprint_field, at, category);
        assert_eq!(misses(report, category), now, "{category}");
        assert_ne!(
            expected(before, sprint_field, at, category),
            now,
            "{category}: the change made a difference"
        );
    }
}

/// A DORA profile: incidents by type, changes and bugs as change requests.
fn operations() -> Value {
    json!({"name": "Operations",
        "incidents": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Incident"]}]}]},
        "changes": {"sets": [{"conditions": [{"field": "issue type", "operator": "in", "values": ["Change", "Bug"]}]}]}})
}

fn misses(report: &Value, category: &str) -> u64 {
    report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == category)
        .unwrap_or_else(|| panic!("{category} in {report}"))["misses"]
        .as_u64()
        .unwrap()
}

/// The released versions of every project with a release date in `[from, to]`, as the site lists
/// them.
async fn released_between(
    base: &str,
    token: &str,
    projects: &Value,
    (from, to): (&str, &str),
) -> usize {
    let http = reqwest::Client::new();
    let mut released = 0;
    for key in projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
    {
        let versions: Vec<Value> = http
            .get(format!("{base}/rest/api/3/project/{key}/versions"))
            .basic_auth(EMAIL, Some(token))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        released += versions
            .iter()
            .filter(|v| v["released"] == true)
            .filter(|v| {
                v["releaseDate"]
                    .as_str()
                    .is_some_and(|d| (from..=to).contains(&d))
            })
            .count();
    }
    released
}

/// Through the simulator's controls, with no issue edited: releases a version some issue fixes,
/// completes an active sprint holding an issue stalled at `at` (so the category changes), and
/// deactivates an assignee other than the syncing user.
async fn change_at_the_source(
    base: &str,
    truth: &[Value],
    sprint_field: &str,
    syncing_user: &Value,
    at: i64,
) {
    let listed =
        |t: &Value, field: &str| t["fields"][field].as_array().cloned().unwrap_or_default();
    let version = truth
        .iter()
        .flat_map(|t| listed(t, "fixVersions"))
        .find(|v| v["released"] == false)
        .expect("an unreleased version in use");
    let sprint = truth
        .iter()
        .filter(|t| expected_misses(t, sprint_field, at).contains(&"stalled_in_active_sprint"))
        .flat_map(|t| listed(t, sprint_field))
        .find(|s| s["state"] == "active")
        .expect("an active sprint holding a stalled issue");
    let user = truth
        .iter()
        .map(|t| &t["fields"]["assignee"])
        .find(|a| a["active"] == true && a["accountId"] != *syncing_user)
        .expect("an active assignee");
    let admin = reqwest::Client::new();
    for control in [
        format!("versions/{}/release", version["id"].as_str().unwrap()),
        format!("sprints/{}/close", sprint["id"]),
        format!("users/{}/deactivate", user["accountId"].as_str().unwrap()),
    ] {
        let done = admin
            .post(format!("{base}/_sim/{control}"))
            .send()
            .await
            .unwrap();
        assert!(done.status().is_success(), "{control}");
    }
}

#[tokio::test]
async fn a_release_a_completed_sprint_and_a_deactivated_user_reach_hygiene_and_dora() {
    let sim = start_sim(&["--issues", "1200", "--projects", "5"]);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let token = jira_sim::user_token(&sim.startup, EMAIL).expect("a user of the simulator");
    let sprint_field = sim.startup["custom_fields"]["sprint"]
        .as_str()
        .unwrap()
        .to_string();
    let alice = sim.startup["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == EMAIL)
        .unwrap()["account_id"]
        .clone();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.redb");
    let store = store.to_str().unwrap();
    cli_sync(store, &base, EMAIL, &token);

    let before = truth(&base, EMAIL).await;
    // The next hour: after the changes at the source (a past `at` would score the tickets as
    // they stood then).
    let at = (Utc::now().timestamp_millis() / 3_600_000 + 1) * 3_600_000;
    change_at_the_source(&base, &before, &sprint_field, &alice, at).await;

    // The next sync, asked to check now what it otherwise checks once a day.
    let out = ok_json(sei_jira(&[
        "sync",
        "--store",
        store,
        "--json",
        "--url",
        &base,
        "--email",
        EMAIL,
        "--token",
        &token,
        "--allow-private-network",
        "--recheck",
    ]));
    let counts = &out["run"]["counts"];
    assert_eq!(
        (&counts["issues_new"], &counts["issues_updated"]),
        (&json!(0), &json!(0)),
        "no issue was edited: {out}"
    );

    // Hygiene: Inactive Assignee and Stalled in Active Sprint as the definitions say of the site
    // now, and not as they said before.
    let at_text = DateTime::from_timestamp_millis(at)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let report = ok_json(sei_jira(&[
        "hygiene", "--store", store, "--at", &at_text, "--json",
    ]));
    let after = truth(&base, EMAIL).await;
    follows_the_change(&report, (&before, &after), &sprint_field, at);

    // DORA: the release counts among the releases in range.
    let today = Utc::now().date_naive();
    let from = (today - chrono::Days::new(730)).to_string();
    let profile = dir.path().join("profile.json");
    std::fs::write(&profile, operations().to_string()).unwrap();
    let dora = ok_json(sei_jira(&[
        "dora",
        "--store",
        store,
        "--profile",
        profile.to_str().unwrap(),
        "--from",
        &from,
        "--to",
        &today.to_string(),
        "--json",
    ]));
    let releases = &dora["metrics"]["deployment_frequency"]["releases"];
    let range = (from.as_str(), &*today.to_string());
    let expected_releases = released_between(&base, &token, &sim.startup["projects"], range).await;
    assert_eq!(releases, &json!(expected_releases), "{dora}");
    assert!(expected_releases > 0);
}

#[path = "deployed.rs"]
mod deployed;

/// The same on moto, through the functions as deployed: the scheduled sync (a day after the last
/// refresh of sprints and users), the hygiene index the completed sync's event brings up to date,
/// and the hygiene and DORA routes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_moto_the_next_scheduled_sync_brings_them_to_hygiene_and_dora() {
    use deployed::*;
    use sei_jira_core::store::Cursor;
    use sei_jira_core::sync::engine::SOURCES_UNIT;

    let moto = e2e::start_moto();
    let (_sim, info) = site(600, 5).await;
    let base = info["base_url"].as_str().unwrap().to_string();
    let sprint_field = info["custom_fields"]["sprint"]
        .as_str()
        .unwrap()
        .to_string();
    let token = token_of(&info, EMAIL);
    let mut w = World::new(moto.endpoint(), &base).await;
    let id = w.create_alices("Acme Jira", &base, &token).await;
    let scheduled = scheduled(&id);
    let first = w.sync(scheduled.clone(), None, "run-1").await;
    assert_eq!(first["outcome"], "succeeded", "{first}");
    let completed = w.delivered(1).await.remove(0);
    w.hygiene_event(&completed).await;

    // The next hour: after the changes at the source (a past `at` would score the tickets as
    // they stood then).
    let at = (Utc::now().timestamp_millis() / 3_600_000 + 1) * 3_600_000;
    let before = truth(&base, EMAIL).await;
    let alice = info["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == EMAIL)
        .unwrap()["account_id"]
        .clone();
    change_at_the_source(&base, &before, &sprint_field, &alice, at).await;
    // A day passes: the sprints and users are due for their daily refresh.
    let yesterday = Cursor {
        last_census_ms: Some(Utc::now().timestamp_millis() - 25 * 3_600_000),
        ..Cursor::default()
    };
    store(&w.config, &w.table)
        .put_cursor(&id, SOURCES_UNIT, &yesterday)
        .await
        .unwrap();

    let next = w.sync(scheduled, None, "run-2").await;
    assert_eq!(next["outcome"], "succeeded", "{next}");
    let completed = w.delivered(1).await.remove(0);
    w.hygiene_event(&completed).await;

    let at_text = DateTime::from_timestamp_millis(at)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, report) = w
        .api(
            "acme",
            &format!("GET /integrations/{{integrationId}}/hygiene?at={at_text}"),
            &[&id],
            None,
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let after = truth(&base, EMAIL).await;
    follows_the_change(&report, (&before, &after), &sprint_field, at);

    let (status, kept) = w
        .api(
            "acme",
            "POST /integrations/{integrationId}/dora/profiles",
            &[&id],
            Some(operations()),
        )
        .await;
    assert_eq!(status, 201, "{kept}");
    let today = Utc::now().date_naive();
    let from = (today - chrono::Days::new(730)).to_string();
    let (status, dora) = w
        .api(
            "acme",
            &format!(
                "GET /integrations/{{integrationId}}/dora?profile={}&from={from}&to={today}",
                kept["id"].as_str().unwrap()
            ),
            &[&id],
            None,
        )
        .await;
    assert_eq!(status, 200, "{dora}");
    let expected_releases = released_between(
        &base,
        &token,
        &info["projects"],
        (&from, &today.to_string()),
    )
    .await;
    assert_eq!(
        dora["metrics"]["deployment_frequency"]["releases"],
        json!(expected_releases),
        "{dora}"
    );
}
