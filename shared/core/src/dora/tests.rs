//! Hand-built incident and change histories with answers worked out by hand from the
//! definitions (the comments show the arithmetic), for each metric, aggregation and rule.

use serde_json::{Value, json};

use super::metrics::{Failure, MIN_SAMPLE_FOR_BAND, aggregate, periods};
use super::*;
use crate::hygiene::criteria::Catalog;
use crate::jira::models::{ChangeItem, History};
use crate::store::StoredIssue;
use crate::sync::plan::FieldMap;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// Monday 2026-01-05 00:00 UTC: the range's start.
const T0: i64 = 1_767_571_200_000;

fn jira_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

fn status(name: &str) -> Value {
    let key = match name {
        "Done" | "Resolved" => "done",
        "To Do" => "new",
        _ => "indeterminate",
    };
    json!({"name": name, "statusCategory": {"key": key}})
}

/// An issue of `kind` (Incident, Change, Story) created at `created`, moved through
/// `moves` (when, to which status), with `links` as Jira shows them.
fn issue(
    id: &str,
    kind: &str,
    project: &str,
    created: i64,
    moves: &[(i64, &str)],
    links: Value,
) -> StoredIssue {
    let now = moves.last().map_or("To Do", |(_, s)| s);
    let mut fields = serde_json::Map::new();
    fields.insert("created".into(), json!(jira_time(created)));
    fields.insert("issuetype".into(), json!({"name": kind}));
    fields.insert("project".into(), json!({"key": project, "name": project}));
    fields.insert("status".into(), status(now));
    fields.insert("issuelinks".into(), links);
    StoredIssue {
        id: id.into(),
        key: format!("{project}-{id}"),
        project_key: project.into(),
        fields,
        changelog: moves
            .iter()
            .map(|(at, to)| History {
                created: jira_time(*at),
                items: vec![ChangeItem {
                    field: "status".into(),
                    field_id: Some("status".into()),
                    to_string: Some(to.to_string()),
                    ..ChangeItem::default()
                }],
                ..History::default()
            })
            .collect(),
        ..StoredIssue::default()
    }
}

/// A link of the causes family as `issue` shows it: caused by `other`, or causing it.
fn caused_by(other: &str) -> Value {
    json!({"type": {"name": "Problem/Incident", "inward": "is caused by", "outward": "causes"},
        "inwardIssue": {"id": other, "key": format!("X-{other}")}})
}

fn causes(other: &str) -> Value {
    json!({"type": {"name": "Causes", "inward": "is caused by", "outward": "causes"},
        "outwardIssue": {"id": other, "key": format!("X-{other}")}})
}

fn profile() -> DoraProfile {
    serde_json::from_value(json!({
        "name": "Platform",
        "incidents": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Incident"]}]}]},
        "changes": {"sets": [{"conditions": [{"field": "issuetype", "operator": "in", "values": ["Change", "Release"]}]}]},
        "deployed_statuses": ["Deployed"]
    }))
    .unwrap()
}

fn catalog() -> Catalog {
    Catalog::new(&[], &FieldMap::default())
}

/// The histories: seven incidents and six changes over the week from T0, in project P.
fn histories() -> Vec<StoredIssue> {
    let h = |n: i64| T0 + n * HOUR;
    vec![
        // I1: restored after 3 h; caused by C1 (its own link).
        issue(
            "1",
            "Incident",
            "P",
            h(0),
            &[(h(1), "In Progress"), (h(3), "Done")],
            json!([caused_by("11")]),
        ),
        // I2: restored after 2 h, reopened at 5 h, restored again at 10 h: 10 h.
        issue(
            "2",
            "Incident",
            "P",
            h(24),
            &[(h(26), "Done"), (h(29), "In Progress"), (h(34), "Resolved")],
            json!([]),
        ),
        // I3: never restored: open.
        issue(
            "3",
            "Incident",
            "P",
            h(30),
            &[(h(31), "In Progress")],
            json!([]),
        ),
        // I4, I5: caused by C3 (C3's links), created an hour after it was deployed; I4 restored
        // after 1 h, I5 open.
        issue("4", "Incident", "P", h(49), &[(h(50), "Done")], json!([])),
        issue("5", "Incident", "P", h(49), &[], json!([])),
        // I6: no link, 5 h after C4's deployment in the same project: the window rule; 30 min.
        issue(
            "6",
            "Incident",
            "P",
            h(77),
            &[(T0 + 77 * HOUR + HOUR / 2, "Done")],
            json!([]),
        ),
        // I7: caused by C5, deployed before the range; restored after 2 h.
        issue(
            "7",
            "Incident",
            "P",
            h(132),
            &[(h(134), "Done")],
            json!([caused_by("15")]),
        ),
        // C1: created 48 h before T0, deployed at T0: lead time 48 h.
        issue(
            "11",
            "Change",
            "P",
            h(-48),
            &[(h(-1), "In Review"), (h(0), "Deployed")],
            json!([]),
        ),
        // C2: never deployed.
        issue(
            "12",
            "Change",
            "P",
            h(10),
            &[(h(11), "In Review")],
            json!([]),
        ),
        // C3: created at 24 h, deployed at 48 h (24 h); caused I4 and I5.
        issue(
            "13",
            "Release",
            "P",
            h(24),
            &[(h(48), "Deployed")],
            json!([causes("4"), causes("5")]),
        ),
        // C4: deployed at 72 h, 2 h after it was created.
        issue(
            "14",
            "Change",
            "P",
            h(70),
            &[(h(72), "Deployed")],
            json!([]),
        ),
        // C5: deployed 10 days before the range.
        issue(
            "15",
            "Change",
            "P",
            h(-250),
            &[(h(-240), "Deployed")],
            json!([]),
        ),
        // C6: deployed at 96 h, an hour after it was created; deployed again later (first counts).
        issue(
            "16",
            "Change",
            "P",
            h(95),
            &[
                (h(96), "Deployed"),
                (h(97), "In Review"),
                (h(98), "Deployed"),
            ],
            json!([]),
        ),
        // A story: neither.
        issue("21", "Story", "P", h(1), &[(h(2), "Done")], json!([])),
    ]
}

fn facts() -> Vec<DoraFacts> {
    let profile = profile();
    let statuses = Statuses::new(&profile, &["Done".into(), "Resolved".into()]);
    histories()
        .iter()
        .map(|i| DoraFacts::of(i, &profile, &catalog(), &statuses))
        .collect()
}

fn week(aggregation: Aggregation) -> Query {
    Query {
        from_ms: T0,
        to_ms: T0 + 7 * DAY,
        granularity: Granularity::Week,
        aggregation,
        failure_window_hours: 24,
    }
}

#[test]
fn incidents_and_changes_are_classified_with_their_restore_and_deploy_times() {
    let facts = facts();
    let of = |id: &str| facts.iter().find(|f| f.id == id).unwrap();
    assert!(of("1").incident && !of("1").change);
    assert!(
        of("13").change && !of("13").incident,
        "the In condition takes Release"
    );
    assert!(!of("21").incident && !of("21").change);
    assert_eq!(of("1").restored_ms, Some(T0 + 3 * HOUR));
    assert_eq!(
        of("2").restored_ms,
        Some(T0 + 34 * HOUR),
        "after the reopening"
    );
    assert_eq!(of("3").restored_ms, None);
    assert_eq!(of("12").deployed_ms, None);
    assert_eq!(
        of("16").deployed_ms,
        Some(T0 + 96 * HOUR),
        "the first deployment"
    );
    assert_eq!(of("1").caused_by, ["11"]);
    assert_eq!(of("13").causes, ["4", "5"]);
}

#[test]
fn time_to_restore_aggregates_the_restored_and_lists_the_open() {
    // Restored in the range: I1 3 h, I2 10 h, I4 1 h, I6 0.5 h, I7 2 h → 0.5, 1, 2, 3, 10.
    let facts = facts();
    let r = report(&facts, &[], &week(Aggregation::Mean));
    assert_eq!(r.time_to_restore.sample, 5);
    assert_eq!(r.time_to_restore.hours, Some(16.5 / 5.0));
    assert_eq!(
        r.time_to_restore.band,
        Some(Band::High),
        "3.3 h: under a day"
    );
    let listed: Vec<(&str, Option<f64>)> = r
        .incidents
        .iter()
        .map(|i| (i.key.as_str(), i.hours))
        .collect();
    assert_eq!(
        listed,
        [
            ("P-1", Some(3.0)),
            ("P-2", Some(10.0)),
            ("P-3", None),
            ("P-4", Some(1.0)),
            ("P-5", None),
            ("P-6", Some(0.5)),
            ("P-7", Some(2.0)),
        ],
        "every incident of the range, in creation order, the open ones without a time"
    );
    let at = |a| report(&facts, &[], &week(a)).time_to_restore.hours;
    assert_eq!(at(Aggregation::Median), Some(2.0));
    // Nearest rank: ⌈0.9 × 5⌉ = 5th and ⌈0.95 × 5⌉ = 5th of five: 10 h.
    assert_eq!(at(Aggregation::P90), Some(10.0));
    assert_eq!(at(Aggregation::P95), Some(10.0));
}

#[test]
fn lead_time_runs_from_creation_to_the_first_deployment() {
    // Deployed in the range: C1 48 h, C3 24 h, C4 2 h, C6 1 h.
    let facts = facts();
    let at = |a| report(&facts, &[], &week(a)).lead_time;
    assert_eq!(at(Aggregation::Mean).hours, Some(75.0 / 4.0));
    assert_eq!(at(Aggregation::Mean).sample, 4);
    assert_eq!(at(Aggregation::Median).hours, Some(13.0), "(2 + 24) / 2");
    assert_eq!(
        at(Aggregation::P90).hours,
        Some(48.0),
        "⌈3.6⌉ = 4th of four"
    );
    assert_eq!(
        at(Aggregation::Mean).band,
        None,
        "four changes: too few to band"
    );
}

/// The histories with a fifth change deployed in the range (C7: created at 100 h, deployed 30 h
/// later), so that every metric but time to restore has the least sample a band needs.
fn with_a_fifth_change() -> Vec<DoraFacts> {
    let profile = profile();
    let statuses = Statuses::new(&profile, &["Done".into(), "Resolved".into()]);
    let c7 = issue(
        "17",
        "Change",
        "P",
        T0 + 100 * HOUR,
        &[(T0 + 130 * HOUR, "Deployed")],
        json!([]),
    );
    let mut facts = facts();
    facts.push(DoraFacts::of(&c7, &profile, &catalog(), &statuses));
    facts
}

#[test]
fn bands_are_drawn_from_five_issues_or_more() {
    assert_eq!(MIN_SAMPLE_FOR_BAND, 5);
    let five = with_a_fifth_change();
    let lead = report(&five, &[], &week(Aggregation::Mean)).lead_time;
    assert_eq!((lead.hours, lead.sample), (Some(105.0 / 5.0), 5));
    assert_eq!(lead.band, Some(Band::High), "21 h: under a week");
    let cfr = report(&five, &[], &week(Aggregation::Mean)).change_failure_rate;
    assert_eq!((cfr.deployed, cfr.failed), (5, 3));
    assert_eq!(cfr.band, Some(Band::Low), "60 %: above 45 %");
    let two_weeks = Query {
        to_ms: T0 + 14 * DAY,
        ..week(Aggregation::Mean)
    };
    let f = report(&five, &[], &two_weeks).deployment_frequency;
    assert_eq!(f.per_day, Some(5.0 / 14.0));
    assert_eq!(f.band, Some(Band::High), "between weekly and daily");
    // Time to restore: five incidents restored in the range (I1, I2, I4, I6, I7).
    let restore = report(&five, &[], &week(Aggregation::Median)).time_to_restore;
    assert_eq!(restore.sample, 5);
    assert_eq!(restore.band, Some(Band::High), "2 h: under a day");
}

#[test]
fn failures_come_from_links_first_and_the_window_otherwise() {
    let r = report(&facts(), &[], &week(Aggregation::Mean)).change_failure_rate;
    let pair = |change: &str, incident: &str, rule| Failure {
        change: change.into(),
        incident: incident.into(),
        rule,
    };
    let mut failures = r.failures.clone();
    failures.sort_by(|a, b| (&a.change, &a.incident).cmp(&(&b.change, &b.incident)));
    assert_eq!(
        failures,
        [
            pair("P-11", "P-1", Rule::Link),
            pair("P-13", "P-4", Rule::Link),
            pair("P-13", "P-5", Rule::Link),
            pair("P-14", "P-6", Rule::Window),
        ]
    );
    // Four changes deployed (C1, C3, C4, C6), three of them failed; C5's incident (I7) counts
    // among the range's incidents but C5 itself was deployed before the range.
    assert_eq!((r.deployed, r.failed), (4, 3));
    assert_eq!(r.rate, Some(0.75));
    assert_eq!(r.band, None, "four deployed changes: too few to band");
    assert_eq!(r.incidents, 7);
    assert_eq!(r.period_ratio, Some(7.0 / 4.0));
}

#[test]
fn a_narrower_window_finds_no_unlinked_failure() {
    // I6 came 5 h after C4's deployment: outside a 4-hour window.
    let query = Query {
        failure_window_hours: 4,
        ..week(Aggregation::Mean)
    };
    let r = report(&facts(), &[], &query).change_failure_rate;
    assert!(r.failures.iter().all(|f| f.rule == Rule::Link));
    assert_eq!(r.failed, 2);
}

#[test]
fn deployment_frequency_counts_deployments_and_releases_per_period() {
    let releases = [
        Release {
            name: "1.0".into(),
            released_ms: T0 + DAY,
        },
        Release {
            name: "0.9".into(),
            released_ms: T0 - DAY,
        },
    ];
    let query = Query {
        to_ms: T0 + 14 * DAY,
        ..week(Aggregation::Mean)
    };
    let f = report(&facts(), &releases, &query).deployment_frequency;
    assert_eq!(f.deployments, 4);
    assert_eq!(f.per_day, Some(4.0 / 14.0));
    assert_eq!(f.band, None, "four deployments: too few to band");
    let counts: Vec<usize> = f.periods.iter().map(|p| p.count).collect();
    assert_eq!(counts, [4, 0], "two weeks, every deployment in the first");
    assert_eq!(f.releases, 1, "the release before the range is not counted");
}

#[test]
fn an_empty_side_is_no_data_never_zero() {
    let query = Query {
        from_ms: T0 + 365 * DAY,
        to_ms: T0 + 372 * DAY,
        ..week(Aggregation::Median)
    };
    let r = report(&facts(), &[], &query);
    assert_eq!(
        (r.time_to_restore.hours, r.time_to_restore.sample),
        (None, 0)
    );
    assert_eq!((r.lead_time.hours, r.lead_time.band), (None, None));
    assert_eq!(r.change_failure_rate.rate, None);
    assert_eq!(r.change_failure_rate.period_ratio, None);
    assert_eq!(r.deployment_frequency.per_day, None);
}

#[test]
fn periods_start_on_mondays_first_days_of_months_and_quarters() {
    // From Wednesday 2026-01-07 to 2026-05-01.
    let query = |granularity| Query {
        from_ms: T0 + 2 * DAY,
        to_ms: 1_777_593_600_000,
        granularity,
        aggregation: Aggregation::Mean,
        failure_window_hours: 24,
    };
    let starts = |g| -> Vec<String> {
        periods(&query(g))
            .iter()
            .map(|(d, _, _)| d.to_string())
            .collect()
    };
    assert_eq!(starts(Granularity::Week)[..2], ["2026-01-05", "2026-01-12"]);
    assert_eq!(
        starts(Granularity::Month),
        ["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]
    );
    assert_eq!(starts(Granularity::Quarter), ["2026-01-01", "2026-04-01"]);
    let (_, from, _) = periods(&query(Granularity::Week))[0];
    assert_eq!(
        from,
        T0 + 2 * DAY,
        "the first period is clipped to the range"
    );
}

#[test]
fn aggregations_of_nothing_are_none() {
    for a in [
        Aggregation::Mean,
        Aggregation::Median,
        Aggregation::P90,
        Aggregation::P95,
    ] {
        assert_eq!(aggregate(&[], a), None);
        assert_eq!(aggregate(&[7.0], a), Some(7.0));
    }
}

#[test]
fn filter_sets_join_by_and_or_or() {
    let story = issue("31", "Story", "P", T0, &[], json!([]));
    let mut with_label = story.clone();
    with_label
        .fields
        .insert("labels".into(), json!(["prod-incident"]));
    let filter = |join: &str| -> IssueFilter {
        serde_json::from_value(json!({"join": join, "sets": [
            {"conditions": [{"field": "labels", "operator": "starts_with", "values": ["prod"]}]},
            {"conditions": [{"field": "project", "operator": "equals", "values": ["p"]}]}
        ]}))
        .unwrap()
    };
    let catalog = catalog();
    assert!(
        filter("or").matches(&story, &catalog),
        "project P, any case"
    );
    assert!(!filter("and").matches(&story, &catalog));
    assert!(filter("and").matches(&with_label, &catalog));
    let not: IssueFilter = serde_json::from_value(json!({"sets": [{"conditions": [
        {"field": "issue type", "operator": "not_equals", "values": ["story"]}]}]}))
    .unwrap();
    assert!(!not.matches(&story, &catalog));
}

#[test]
fn invalid_profiles_are_refused_naming_the_field() {
    let refused = |change: &dyn Fn(&mut Value)| {
        let mut p = serde_json::to_value(profile()).unwrap();
        change(&mut p);
        let p: DoraProfile = serde_json::from_value(p).unwrap();
        p.validate(&catalog()).unwrap_err().field
    };
    assert!(profile().validate(&catalog()).is_ok());
    assert_eq!(refused(&|p| p["name"] = json!(" ")), "name");
    assert_eq!(
        refused(&|p| p["incidents"]["sets"] = json!([])),
        "incidents.sets"
    );
    let set =
        json!({"conditions": [{"field": "status", "operator": "equals", "values": ["Open"]}]});
    assert_eq!(
        refused(&|p| p["changes"]["sets"] = json!([set, set, set, set])),
        "changes.sets"
    );
    assert_eq!(
        refused(&|p| p["incidents"]["sets"][0]["conditions"][0]["field"] = json!("severity")),
        "incidents.sets[0].conditions[0].field"
    );
    assert_eq!(
        refused(&|p| p["incidents"]["sets"][0]["conditions"][0]["values"] = json!(["a", "b"])),
        "incidents.sets[0].conditions[0].values"
    );
    assert_eq!(
        refused(&|p| p["changes"]["sets"][0]["conditions"][0]["values"] = json!([])),
        "changes.sets[0].conditions[0].values"
    );
    assert_eq!(
        refused(&|p| p["failure_window_hours"] = json!(0)),
        "failure_window_hours"
    );
    assert_eq!(
        refused(&|p| p["deployed_statuses"] = json!([""])),
        "deployed_statuses"
    );
}
