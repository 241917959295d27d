//! Search, issue, changelog and comment endpoints: paging, limits, embeds and JQL semantics.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::*;
use jira_sim::Mode;

const ALICE: &str = "alice@example.com";

fn ids_where(truth: &[Value], f: impl Fn(&Value) -> bool) -> Vec<String> {
    sorted(
        truth
            .iter()
            .filter(|i| f(i))
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect(),
    )
}

#[tokio::test]
async fn paging_with_next_page_token_returns_every_issue_once() {
    let sim = start(1_200, Mode::Cloud).await;
    let truth = sim.truth(Some(ALICE)).await;
    // Small pages with fields force many tokens.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/rest/api/3/search/jql?jql=project%20in%20(PLAT%2C%20SRE)&fields=summary&maxResults=100".to_string();
        if let Some(t) = &token {
            path.push_str(&format!("&nextPageToken={t}"));
        }
        let (status, page) = sim.get(ALICE, &path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.get("total").is_none(), "enhanced search has no total");
        pages += 1;
        seen.extend(issue_ids(&page));
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let expected = ids_where(&truth, |i| i["project"] == "PLAT" || i["project"] == "SRE");
    assert_eq!(seen.len(), expected.len(), "no duplicates");
    assert_eq!(sorted(seen), expected);
    assert!(pages > 3);
}

#[tokio::test]
async fn page_size_caps_and_default_fields() {
    let sim = start(6_000, Mode::Cloud).await;
    // Default fields: id only; id-only pages go up to 5000.
    let (_, page) = sim
        .post(
            ALICE,
            "/rest/api/3/search/jql",
            json!({"jql": "created >= -1000d", "maxResults": 9000}),
        )
        .await;
    let issues = page["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 5000);
    assert_eq!(
        issues[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["id"]
    );
    // With real fields, at most 100.
    let (_, page) = sim.post(ALICE, "/rest/api/3/search/jql", json!({"jql": "created >= -1000d", "maxResults": 1000, "fields": ["summary", "status"]})).await;
    assert_eq!(page["issues"].as_array().unwrap().len(), 100);
    // Default page size is 50.
    let (_, page) = sim
        .post(
            ALICE,
            "/rest/api/3/search/jql",
            json!({"jql": "created >= -1000d"}),
        )
        .await;
    assert_eq!(page["issues"].as_array().unwrap().len(), 50);
}

#[tokio::test]
async fn embedded_changelog_and_comments_are_truncated_with_true_totals() {
    let sim = start(800, Mode::Cloud).await;
    let truth = sim.truth(None).await;
    let big = truth
        .iter()
        .find(|i| i["changelog"].as_array().unwrap().len() > 100)
        .expect("an issue with >100 histories");
    let chatty = truth
        .iter()
        .find(|i| i["comments"].as_array().unwrap().len() > 100)
        .expect("an issue with >100 comments");
    for issue in [big, chatty] {
        let key = issue["key"].as_str().unwrap();
        let (_, page) = sim.post(ALICE, "/rest/api/3/search/jql", json!({"jql": format!("key = {key}"), "fields": ["comment"], "expand": "changelog"})).await;
        let got = &page["issues"][0];
        let histories = issue["changelog"].as_array().unwrap();
        let embedded = got["changelog"]["histories"].as_array().unwrap();
        assert_eq!(got["changelog"]["total"], histories.len());
        assert_eq!(embedded.len(), histories.len().min(40));
        // Newest first.
        assert_eq!(embedded[0]["id"], histories.last().unwrap()["id"]);
        let comments = issue["comments"].as_array().unwrap();
        assert_eq!(got["fields"]["comment"]["total"], comments.len());
        assert_eq!(
            got["fields"]["comment"]["comments"]
                .as_array()
                .unwrap()
                .len(),
            comments.len().min(20)
        );
    }

    // The full changelog, paged oldest first, equals the truth.
    let key = big["key"].as_str().unwrap();
    let mut all = Vec::new();
    let mut start_at = 0;
    loop {
        let (status, page) = sim
            .get(
                ALICE,
                &format!("/rest/api/3/issue/{key}/changelog?startAt={start_at}&maxResults=100"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let values = page["values"].as_array().unwrap();
        all.extend(values.iter().cloned());
        start_at += values.len();
        if page["isLast"] == true {
            break;
        }
    }
    assert_eq!(instants(&Value::Array(all)), instants(&big["changelog"]));

    // Bulk changelog fetch: same histories, oldest first, across several issues and pages.
    let keys: Vec<&str> = [big, chatty]
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    let mut bulk: Vec<(String, String)> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"issueIdsOrKeys": keys, "maxResults": 50});
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let (status, page) = sim
            .post(ALICE, "/rest/api/3/changelog/bulkfetch", body)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for log in page["issueChangeLogs"].as_array().unwrap() {
            for h in log["changeHistories"].as_array().unwrap() {
                bulk.push((
                    log["issueId"].as_str().unwrap().to_string(),
                    h["id"].as_str().unwrap().to_string(),
                ));
            }
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let expected: usize = [big, chatty]
        .iter()
        .map(|i| i["changelog"].as_array().unwrap().len())
        .sum();
    assert_eq!(bulk.len(), expected);

    // Comments page through completely.
    let key = chatty["key"].as_str().unwrap();
    let (_, first) = sim
        .get(
            ALICE,
            &format!("/rest/api/3/issue/{key}/comment?maxResults=100"),
        )
        .await;
    let (_, second) = sim
        .get(
            ALICE,
            &format!("/rest/api/3/issue/{key}/comment?startAt=100&maxResults=100"),
        )
        .await;
    let mut got: Vec<Value> = first["comments"].as_array().unwrap().clone();
    got.extend(second["comments"].as_array().unwrap().iter().cloned());
    assert_eq!(instants(&Value::Array(got)), instants(&chatty["comments"]));
    let (status, _) = sim
        .get(
            ALICE,
            &format!("/rest/api/3/issue/{key}/comment?orderBy=updated"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bulk_fetch_returns_ascending_ids_and_skips_missing() {
    let sim = start(300, Mode::Cloud).await;
    let truth = sim.truth(None).await;
    let keys = json!([truth[5]["key"], truth[1]["id"], "NOPE-1", truth[3]["key"]]);
    let (status, body) = sim
        .post(
            ALICE,
            "/rest/api/3/issue/bulkfetch",
            json!({"issueIdsOrKeys": keys, "fields": ["summary"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = body["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            truth[1]["id"].as_str().unwrap(),
            truth[3]["id"].as_str().unwrap(),
            truth[5]["id"].as_str().unwrap()
        ]
    );
    let too_many: Vec<String> = (0..101).map(|n| n.to_string()).collect();
    let (status, _) = sim
        .post(
            ALICE,
            "/rest/api/3/issue/bulkfetch",
            json!({"issueIdsOrKeys": too_many, "expand": ["changelog"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn removed_search_unbounded_and_invalid_jql() {
    let sim = start(50, Mode::Cloud).await;
    let (status, body) = sim
        .get(ALICE, "/rest/api/3/search?jql=project%3DPLAT")
        .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("/rest/api/3/search/jql")
    );
    // A refused query is a 400 that says why, as Jira words it.
    for (jql, message) in [
        ("order by key desc", "Unbounded JQL"),
        (
            "invalid query",
            "Error in the JQL Query: Expecting operator but got 'query'",
        ),
    ] {
        let (status, body) = sim
            .post(ALICE, "/rest/api/3/search/jql", json!({"jql": jql}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{jql}");
        let said = body["errorMessages"][0].as_str().unwrap();
        assert!(said.starts_with(message), "{jql}: {said}");
    }
    let (status, body) = sim
        .post(
            ALICE,
            "/rest/api/3/search/jql",
            json!({"jql": "universe = 42"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessages"][0],
        "Field 'universe' does not exist or you do not have permission to view it."
    );
    let (status, _) = sim
        .post(
            ALICE,
            "/rest/api/3/search/jql",
            json!({"jql": "project = PLAT", "nextPageToken": "forged"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn jql_parse_strict_and_warn() {
    let sim = start(50, Mode::Cloud).await;
    let body = json!({"queries": ["project = PLAT AND status = Done ORDER BY updated DESC", "invalid query", "project = INVALID"]});
    let (status, strict) = sim
        .post(
            ALICE,
            "/rest/api/3/jql/parse?validation=strict",
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let q = strict["queries"].as_array().unwrap();
    assert_eq!(q[0]["structure"]["where"]["operator"], "and");
    assert_eq!(
        q[0]["structure"]["orderBy"]["fields"][0]["direction"],
        "desc"
    );
    assert!(
        q[1]["errors"][0]
            .as_str()
            .unwrap()
            .contains("(line 1, character 9)")
    );
    assert!(q[2].get("structure").is_none());
    assert_eq!(
        q[2]["errors"][0],
        "The value 'INVALID' does not exist for the field 'project'."
    );
    let (_, warn) = sim
        .post(ALICE, "/rest/api/3/jql/parse?validation=warn", body)
        .await;
    let q = warn["queries"].as_array().unwrap();
    assert!(q[2]["structure"].is_object());
    assert_eq!(
        q[2]["warnings"][0],
        "The value 'INVALID' does not exist for the field 'project'."
    );
    let (status, _) = sim
        .post(ALICE, "/rest/api/3/jql/parse", json!({"queries": []}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn jql_semantics_match_the_ground_truth() {
    let sim = start(1_500, Mode::Cloud).await;
    let truth = sim.truth(Some(ALICE)).await;
    let f = |i: &Value, path: &str| i["fields"].pointer(path).cloned().unwrap_or(Value::Null);
    type Expect<'a> = Box<dyn Fn(&Value) -> bool + 'a>;
    let cases: Vec<(&str, Expect)> = vec![
        (
            "project = SRE AND issuetype = Bug",
            Box::new(|i| i["project"] == "SRE" && f(i, "/issuetype/name") == "Bug"),
        ),
        (
            "project != PLAT AND statusCategory = Done",
            Box::new(|i| i["project"] != "PLAT" && f(i, "/status/statusCategory/key") == "done"),
        ),
        (
            "project in (PLAT, DON) AND assignee is EMPTY",
            Box::new(|i| {
                (i["project"] == "PLAT" || i["project"] == "DON") && f(i, "/assignee").is_null()
            }),
        ),
        (
            "project = WEB AND labels in (security, perf)",
            Box::new(|i| {
                i["project"] == "WEB"
                    && f(i, "/labels")
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|l| l == "security" || l == "perf")
            }),
        ),
        (
            "project = WEB AND labels != security",
            Box::new(|i| {
                let l = f(i, "/labels");
                let l = l.as_array().unwrap();
                i["project"] == "WEB" && !l.is_empty() && !l.iter().any(|x| x == "security")
            }),
        ),
        (
            "status = \"En cours\" OR (project = MOB AND NOT priority in (High, Highest))",
            Box::new(|i| {
                f(i, "/status/name") == "En cours"
                    || (i["project"] == "MOB"
                        && !(f(i, "/priority/name") == "High"
                            || f(i, "/priority/name") == "Highest"))
            }),
        ),
        (
            "project = SRE AND resolved is not EMPTY AND issuetype not in (Epic, Sub-task)",
            Box::new(|i| {
                i["project"] == "SRE"
                    && !f(i, "/resolutiondate").is_null()
                    && f(i, "/issuetype/name") != "Epic"
                    && f(i, "/issuetype/name") != "Sub-task"
            }),
        ),
        (
            "issuetype = \"Tâche\"",
            Box::new(|i| f(i, "/issuetype/name") == "Tâche"),
        ),
        (
            "project = PLAT AND key <= PLAT-20",
            Box::new(|i| {
                i["project"] == "PLAT"
                    && i["key"].as_str().unwrap()[5..].parse::<u32>().unwrap() <= 20
            }),
        ),
    ];
    for (jql, want) in cases {
        let expected = ids_where(&truth, want);
        assert!(!expected.is_empty(), "{jql} should match something");
        assert_eq!(sorted(sim.search_ids(ALICE, jql).await), expected, "{jql}");
    }
}

#[tokio::test]
async fn order_by_and_approximate_count() {
    let sim = start(400, Mode::Cloud).await;
    let (_, page) = sim.post(ALICE, "/rest/api/3/search/jql", json!({"jql": "project = SRE ORDER BY updated ASC", "fields": ["updated"], "maxResults": 100})).await;
    let times: Vec<i64> = page["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| millis(i["fields"]["updated"].as_str().unwrap()))
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let (status, count) = sim
        .post(
            ALICE,
            "/rest/api/3/search/approximate-count",
            json!({"jql": "project = SRE"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        count["count"].as_u64().unwrap() as usize,
        sim.search_ids(ALICE, "project = SRE").await.len()
    );
}

#[tokio::test]
async fn jira_specific_semantics() {
    let sim = start(1_500, Mode::Cloud).await;
    let ids = |jql: &'static str| sim.search_ids(ALICE, jql);
    // NOT is pushed down with flipped operators: empty fields stay excluded, as with `!=`.
    assert_eq!(
        sorted(ids("project = WEB AND NOT labels = security").await),
        sorted(ids("project = WEB AND labels != security").await)
    );
    let not_in =
        sorted(ids("project = WEB AND NOT (labels = security OR assignee is EMPTY)").await);
    assert_eq!(
        not_in,
        sorted(ids("project = WEB AND labels != security AND assignee is not EMPTY").await)
    );
    // `= EMPTY` is `IS EMPTY`; `Unresolved` is the empty resolution.
    assert_eq!(
        sorted(ids("project = SRE AND resolved = EMPTY").await),
        sorted(ids("project = SRE AND resolved is EMPTY").await)
    );
    assert_eq!(
        sorted(ids("project = SRE AND resolution = Unresolved").await),
        sorted(ids("project = SRE AND resolution is EMPTY").await)
    );
    assert!(
        !ids("project = SRE AND resolution = Unresolved")
            .await
            .is_empty()
    );
    // Function offsets without a unit count in the function's own period (days).
    let today = ids("project = SRE AND updated >= startOfDay()").await.len();
    let since_yesterday = ids("project = SRE AND updated >= startOfDay(-1)")
        .await
        .len();
    let week = ids("project = SRE AND updated >= startOfDay(-7)")
        .await
        .len();
    assert!(today <= since_yesterday && since_yesterday <= week);
    // Equality on a key no issue has is an error; on a real key it finds it.
    let (status, body) = sim
        .post(
            ALICE,
            "/rest/api/3/search/jql",
            json!({"jql": "key = PLAT-99999"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessages"][0],
        "An issue with key 'PLAT-99999' does not exist for field 'key'."
    );
    assert_eq!(ids("key = PLAT-3").await.len(), 1);
    // Out-of-range numbers are invalid dates, not crashes.
    let (status, _) = sim
        .post(
            ALICE,
            "/rest/api/3/search/jql",
            json!({"jql": "updated >= -99999999999999999d"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A function that yields nothing matches nothing rather than failing.
    let (status, _) = sim
        .post(
            ALICE,
            "/rest/api/3/search/jql",
            json!({"jql": "project = MOB AND sprint in openSprints()"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // ORDER BY priority DESC puts Highest first.
    let (_, page) = sim.post(ALICE, "/rest/api/3/search/jql", json!({"jql": "project = SRE ORDER BY priority DESC", "fields": ["priority"], "maxResults": 1})).await;
    assert_eq!(page["issues"][0]["fields"]["priority"]["name"], "Highest");
}

#[tokio::test]
async fn exclusion_only_field_lists_start_from_the_default_set() {
    let sim = start(50, Mode::Cloud).await;
    let (_, page) = sim
        .get(
            ALICE,
            "/rest/api/3/search/jql?jql=project%3DSRE&fields=-description&maxResults=1",
        )
        .await;
    let fields = page["issues"][0]["fields"].as_object().unwrap();
    assert!(fields.contains_key("summary") && fields.contains_key("status"));
    assert!(!fields.contains_key("description"));
    let key = page["issues"][0]["id"].as_str().unwrap();
    let (_, issue) = sim
        .get(ALICE, &format!("/rest/api/3/issue/{key}?fields=-comment"))
        .await;
    assert!(
        issue["fields"].get("comment").is_none() && issue["fields"].get("description").is_some()
    );
}
