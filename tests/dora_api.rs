//! The `dora-metrics` function end to end on moto, against the simulator's ground truth.
//!
//! GIVEN an integration synced from the simulator, WHEN a DORA profile is kept through the API,
//! THEN its report equals the definitions applied to the ground truth (`e2e::dora_truth`, not the
//! metrics code) — first counted from every issue while the profile is classified in the
//! background, then, once the `dora.index.requested` event reached the indexer, read from the
//! profile's members, to the same figures; a changed profile is classified again, a deleted one
//! leaves no member behind; bad input is a 400 naming the field or parameter and keeps nothing;
//! another account sees none of it.

#[path = "deployed.rs"]
mod deployed;

use chrono::NaiveDate;
use deployed::*;
use e2e::dora_truth;
use e2e::hygiene_truth::truth;
use serde_json::{Value, json};

const ALICE: &str = "alice@example.com";
const PROFILES: &str = "/integrations/{integrationId}/dora/profiles";
const PROFILE: &str = "/integrations/{integrationId}/dora/profiles/{profileId}";

fn profile(window_hours: u32) -> Value {
    json!({"name": "Operations",
        "incidents": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Incident"]}]}]},
        "changes": {"sets": [{"conditions": [{"field": "issue type", "operator": "in", "values": ["Change", "Bug"]}]}]},
        "failure_window_hours": window_hours})
}

fn midnight(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis()
}

/// The report's days: the two years up to today.
struct Window {
    from: NaiveDate,
    today: NaiveDate,
}

impl Window {
    fn to_today() -> Self {
        let today = chrono::Utc::now().date_naive();
        Window {
            from: today - chrono::Days::new(730),
            today,
        }
    }

    /// The window in milliseconds, its last day included.
    fn range(&self) -> (i64, i64) {
        (
            midnight(self.from),
            midnight(self.today + chrono::Days::new(1)),
        )
    }

    /// The report route of profile `p` over the window.
    fn report(&self, p: &str) -> String {
        let (from, today) = (self.from, self.today);
        format!(
            "GET /integrations/{{integrationId}}/dora?profile={p}&from={from}&to={today}&aggregation=mean"
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dora_over_the_api_follows_the_definitions() {
    let _logs = capture_logs();
    let (mut w, site) = stage(500, 2).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    let id = w.create_alices("Acme Jira", &base, &token).await;
    let scheduled = scheduled(&id);
    let run = w.sync(scheduled, None, "run-1").await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    let completed = w.delivered(1).await.remove(0);
    w.hygiene_event(&completed).await;
    let issues = truth(&base, ALICE).await;

    let at = Window::to_today();

    a_refused_profile_names_the_field_and_keeps_nothing(&mut w, &id).await;
    let p = a_kept_profile_is_counted_from_the_issues_then_read_from_its_members(
        &mut w, &id, &issues, &at,
    )
    .await;
    a_changed_profile_is_classified_again(&mut w, &id, &p, &issues, &at).await;
    bad_parameters_are_refused_by_name_and_another_account_sees_nothing(&mut w, &id, &p, &at).await;
    a_deleted_profile_leaves_no_member(&mut w, &id, &p, &at).await;
}

/// A profile with an unknown field is a 400 naming it, and no profile is kept.
async fn a_refused_profile_names_the_field_and_keeps_nothing(w: &mut World, id: &str) {
    // A refused profile names the field and keeps nothing.
    let mut bad = profile(24);
    bad["incidents"]["sets"][0]["conditions"][0]["field"] = json!("flavour");
    let (status, refused) = w
        .api("acme", &format!("POST {PROFILES}"), &[id], Some(bad))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("incidents.sets[0].conditions[0].field:"),
        "{refused}"
    );
    let (_, listed) = w.api("acme", &format!("GET {PROFILES}"), &[id], None).await;
    assert_eq!(listed, json!({"profiles": []}));
}

/// A kept profile is reported from every issue until it is classified, then from its members —
/// the same figures, the definitions' — and its members are its incidents and changes only.
/// Returns the profile's id.
async fn a_kept_profile_is_counted_from_the_issues_then_read_from_its_members(
    w: &mut World,
    id: &str,
    issues: &[Value],
    at: &Window,
) -> String {
    // WHEN a profile is kept
    let (status, kept) = w
        .api(
            "acme",
            &format!("POST {PROFILES}"),
            &[id],
            Some(profile(24)),
        )
        .await;
    assert_eq!(status, 201, "{kept}");
    let p = kept["id"].as_str().unwrap().to_string();
    let requested = w.delivered(1).await.remove(0);
    assert_eq!(requested["detail-type"], "dora.index.requested");

    // THEN before the classification, the report is counted from the issues, and right
    let (status, counted) = w.api("acme", &at.report(&p), &[id], None).await;
    assert_eq!(status, 200, "{counted}");
    assert_eq!(counted["recomputing"], true);
    assert_eq!(
        (&counted["profile"], &counted["profile_id"]),
        (&json!("Operations"), &json!(p))
    );
    // (Both rules of the failure rate are met on a larger site: tests/dora_cli.rs.)
    dora_truth::check(
        &counted["metrics"],
        issues,
        at.range(),
        &["Change", "Bug"],
        24,
    );

    // WHEN the event reaches the indexer, THEN the report is read from the members, the same
    assert_eq!(
        w.hygiene_event(&requested).await,
        json!({"snapshots": 1, "continued": 0})
    );
    let (_, classified) = w.api("acme", &at.report(&p), &[id], None).await;
    assert_eq!(classified["recomputing"], false);
    assert_eq!(classified["metrics"], counted["metrics"]);
    let members = w.dora.store.list_dora_members(id, &p).await.unwrap();
    let expected = issues
        .iter()
        .filter(|i| {
            ["Incident", "Change", "Bug"].contains(
                &i["fields"]["issuetype"]["name"]
                    .as_str()
                    .unwrap_or_default(),
            )
        })
        .count();
    assert_eq!(
        members.len(),
        expected,
        "its members: its incidents and changes"
    );
    assert!(members.len() < issues.len() / 2, "and no other issue");
    p
}

/// A changed profile (a wider failure window) is counted again until it is classified again.
async fn a_changed_profile_is_classified_again(
    w: &mut World,
    id: &str,
    p: &str,
    issues: &[Value],
    at: &Window,
) {
    // WHEN the profile changes (a wider failure window), THEN it is classified again
    let (status, _) = w
        .api(
            "acme",
            &format!("PUT {PROFILE}"),
            &[id, p],
            Some(profile(72)),
        )
        .await;
    assert_eq!(status, 200);
    let requested = w.delivered(1).await.remove(0);
    let (_, stale) = w.api("acme", &at.report(p), &[id], None).await;
    assert_eq!(stale["recomputing"], true);
    dora_truth::check(
        &stale["metrics"],
        issues,
        at.range(),
        &["Change", "Bug"],
        72,
    );
    w.hygiene_event(&requested).await;
    let (_, again) = w.api("acme", &at.report(p), &[id], None).await;
    assert_eq!(again["recomputing"], false);
    assert_eq!(again["metrics"], stale["metrics"]);
}

/// Bad report parameters are refused by name; another account sees and deletes nothing.
async fn bad_parameters_are_refused_by_name_and_another_account_sees_nothing(
    w: &mut World,
    id: &str,
    p: &str,
    at: &Window,
) {
    // Bad parameters are refused by name; another account sees nothing.
    for (query, name) in [
        (format!("profile={p}&granularity=day"), "granularity"),
        (format!("profile={p}&aggregation=p99"), "aggregation"),
        (format!("profile={p}&from=2026-02-30"), "from"),
        (
            format!("profile={p}&from={}&to={}", at.today, at.from),
            "from",
        ),
        (format!("profile={p}&team=web"), "'team'"),
        ("from=2026-01-01".to_string(), "profile"),
    ] {
        let (status, refused) = w
            .api(
                "acme",
                &format!("GET /integrations/{{integrationId}}/dora?{query}"),
                &[id],
                None,
            )
            .await;
        assert_eq!(status, 400, "{query}: {refused}");
        assert!(
            refused["message"].as_str().unwrap().starts_with(name),
            "{refused}"
        );
    }
    let (status, _) = w.api("acme", &at.report("p99"), &[id], None).await;
    assert_eq!(status, 404);
    let (status, _) = w.api("globex", &at.report(p), &[id], None).await;
    assert_eq!(status, 404);
    let (status, _) = w
        .api("globex", &format!("GET {PROFILE}"), &[id, p], None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .api("globex", &format!("DELETE {PROFILE}"), &[id, p], None)
        .await;
    assert_eq!(status, 404);
    let (status, got) = w
        .api("acme", &format!("GET {PROFILE}"), &[id, p], None)
        .await;
    assert_eq!((status, &got["failure_window_hours"]), (200, &json!(72)));
}

/// A deleted profile's report is gone, and its members once the deletion is classified.
async fn a_deleted_profile_leaves_no_member(w: &mut World, id: &str, p: &str, at: &Window) {
    // WHEN the profile is deleted, THEN its report is gone, and its members once classified
    let (status, _) = w
        .api("acme", &format!("DELETE {PROFILE}"), &[id, p], None)
        .await;
    assert_eq!(status, 204);
    let requested = w.delivered(1).await.remove(0);
    let (status, _) = w.api("acme", &at.report(p), &[id], None).await;
    assert_eq!(status, 404);
    w.hygiene_event(&requested).await;
    assert!(
        w.dora
            .store
            .list_dora_members(id, p)
            .await
            .unwrap()
            .is_empty()
    );
}
