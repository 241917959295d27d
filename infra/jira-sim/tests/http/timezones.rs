//! JQL date literals are read in the searching user's time zone, at minute granularity.

use chrono::{Duration, DurationRound};

use crate::common::*;
use jira_sim::Mode;

#[tokio::test]
async fn one_absolute_date_two_time_zones_two_correct_answers() {
    let sim = start(2_000, Mode::Cloud).await;
    let (alice, bob) = ("alice@example.com", "bob@example.com");
    assert_eq!(sim.user(alice)["time_zone"], "Pacific/Honolulu"); // UTC−10
    assert_eq!(sim.user(bob)["time_zone"], "Pacific/Tongatapu"); // UTC+13
    let truth = sim.truth(None).await;

    // Pick an issue and a wall-clock literal just after its update (read as UTC). Alice reads the
    // literal 10 h later than UTC, Bob 13 h earlier: the issue is before Alice's instant and after Bob's.
    let probe = &truth[truth.len() / 2];
    let updated =
        sei_jira_client::time::parse(probe["fields"]["updated"].as_str().unwrap()).unwrap();
    let literal =
        (updated.duration_trunc(Duration::minutes(1)).unwrap() + Duration::minutes(1)).naive_utc();
    let text = literal.format("%Y/%m/%d %H:%M").to_string();
    let jql = format!("updated >= \"{text}\"");

    let instant = |offset_hours: i64| {
        (literal - Duration::hours(offset_hours))
            .and_utc()
            .timestamp_millis()
    };
    let expected = |at: i64| {
        sorted(
            truth
                .iter()
                .filter(|i| millis(i["fields"]["updated"].as_str().unwrap()) >= at)
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect(),
        )
    };
    let alice_expected = expected(instant(-10));
    let bob_expected = expected(instant(13));

    let alice_got = sorted(sim.search_ids(alice, &jql).await);
    let bob_got = sorted(sim.search_ids(bob, &jql).await);
    assert_eq!(alice_got, alice_expected);
    assert_eq!(bob_got, bob_expected);
    assert_ne!(alice_got, bob_got);
    let probe_id = probe["id"].as_str().unwrap().to_string();
    assert!(bob_got.contains(&probe_id) && !alice_got.contains(&probe_id));

    // Dash form and date-only literals follow the same rule.
    let dashed = format!("updated >= \"{}\"", literal.format("%Y-%m-%d %H:%M"));
    assert_eq!(sorted(sim.search_ids(alice, &dashed).await), alice_expected);
    let day = literal.date();
    let date_only = format!("created < \"{}\"", day.format("%Y-%m-%d"));
    let midnight = |offset_hours: i64| {
        (day.and_hms_opt(0, 0, 0).unwrap() - Duration::hours(offset_hours))
            .and_utc()
            .timestamp_millis()
    };
    let created_before = |at: i64| {
        sorted(
            truth
                .iter()
                .filter(|i| millis(i["fields"]["created"].as_str().unwrap()) < at)
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect(),
        )
    };
    assert_eq!(
        sorted(sim.search_ids(bob, &date_only).await),
        created_before(midnight(13))
    );

    // Epoch milliseconds are zone-free: both users get the same answer.
    let epoch = format!("updated >= {}", updated.timestamp_millis());
    assert_eq!(
        sim.search_ids(alice, &epoch).await.len(),
        sim.search_ids(bob, &epoch).await.len()
    );
    assert_eq!(
        sorted(sim.search_ids(alice, &epoch).await),
        expected(updated.timestamp_millis())
    );
}

#[tokio::test]
async fn timestamps_are_rendered_in_the_viewers_zone() {
    let sim = start(20, Mode::Cloud).await;
    let (_, a) = sim
        .post(
            "alice@example.com",
            "/rest/api/3/search/jql",
            serde_json::json!({"jql": "project = PLAT", "fields": ["created"], "maxResults": 1}),
        )
        .await;
    let (_, b) = sim
        .post(
            "bob@example.com",
            "/rest/api/3/search/jql",
            serde_json::json!({"jql": "project = PLAT", "fields": ["created"], "maxResults": 1}),
        )
        .await;
    let (ca, cb) = (
        a["issues"][0]["fields"]["created"].as_str().unwrap(),
        b["issues"][0]["fields"]["created"].as_str().unwrap(),
    );
    assert!(ca.ends_with("-1000"), "{ca}");
    assert!(cb.ends_with("+1300"), "{cb}");
    assert_eq!(millis(ca), millis(cb));
}
