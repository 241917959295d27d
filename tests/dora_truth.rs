//! DORA metrics computed here from the definitions over the simulator's ground truth
//! (`/_sim/truth`), never by the code under test: [`check`] compares a report's `metrics` with
//! them. Incidents are issues of type Incident; changes those of the given types; the Done
//! status category means restored and deployed.

use std::collections::HashSet;

use serde_json::Value;

use crate::hygiene_truth::ms;

const HOUR: f64 = 3_600_000.0;

fn kind(i: &Value) -> &str {
    i["fields"]["issuetype"]["name"]
        .as_str()
        .unwrap_or_default()
}

fn created(i: &Value) -> i64 {
    ms(i["fields"]["created"].as_str().unwrap())
}

/// Every status change, oldest first: when, and to which status (lowercase).
fn moves(i: &Value) -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = i["changelog"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|h| {
            let at = ms(h["created"].as_str().unwrap());
            h["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|item| item["field"] == "status")
                .filter_map(move |item| Some((at, item["toString"].as_str()?.to_lowercase())))
        })
        .collect();
    out.sort_by_key(|(at, _)| *at);
    out
}

fn is_done(i: &Value) -> bool {
    i["fields"]["status"]["statusCategory"]["key"] == "done"
}

/// Restored (now in a Done status): the first move into one after the last move out of one;
/// without such a move, the resolution date, else creation.
fn restored(i: &Value, done: &HashSet<String>) -> Option<i64> {
    if !is_done(i) {
        return None;
    }
    let moves = moves(i);
    let last_out = moves.iter().rposition(|(_, to)| !done.contains(to));
    let after = last_out.map_or(0, |k| k + 1);
    let fallback = || {
        i["fields"]["resolutiondate"]
            .as_str()
            .map(ms)
            .unwrap_or(created(i))
    };
    Some(moves.get(after).map_or_else(fallback, |(at, _)| *at))
}

/// Deployed: the first move into a Done status; without one, if it is Done now, the resolution
/// date, else creation.
fn deployed(i: &Value, done: &HashSet<String>) -> Option<i64> {
    moves(i)
        .iter()
        .find(|(_, to)| done.contains(to))
        .map(|(at, _)| *at)
        .or_else(|| {
            is_done(i).then(|| {
                i["fields"]["resolutiondate"]
                    .as_str()
                    .map(ms)
                    .unwrap_or(created(i))
            })
        })
}

/// Whether a link of the causes family says `change` caused `incident`.
fn linked(incident: &Value, change: &Value) -> bool {
    let causes = |l: &Value| {
        ["name", "inward", "outward"].iter().any(|k| {
            l["type"][*k]
                .as_str()
                .is_some_and(|t| t.to_lowercase().contains("cause"))
        })
    };
    let links = |i: &Value| {
        i["fields"]["issuelinks"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    links(incident)
        .iter()
        .any(|l| causes(l) && l["inwardIssue"]["id"] == change["id"])
        || links(change)
            .iter()
            .any(|l| causes(l) && l["outwardIssue"]["id"] == incident["id"])
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

pub fn close(got: &Value, want: Option<f64>, what: &str) {
    match want {
        None => assert!(got.is_null(), "{what}: {got} for no data"),
        Some(w) => assert!(
            (got.as_f64().unwrap() - w).abs() < 1e-6,
            "{what}: {got}, expected {w}"
        ),
    }
}

/// How many (change, incident) pairs each rule matched.
#[derive(Debug, PartialEq, Eq)]
pub struct Pairs {
    pub by_link: usize,
    pub by_window: usize,
}

/// Asserts that `metrics` (a report over `[from_ms, to_ms)`) are those of `issues`.
/// Incidents caused, when no link says so, are those created within `window_hours` after a
/// deployment in its project.
pub fn check(
    metrics: &Value,
    issues: &[Value],
    (from_ms, to_ms): (i64, i64),
    change_kinds: &[&str],
    window_hours: i64,
) -> Pairs {
    let in_range = |t: i64| (from_ms..to_ms).contains(&t);
    let done: HashSet<String> = issues
        .iter()
        .filter(|i| is_done(i))
        .filter_map(|i| i["fields"]["status"]["name"].as_str())
        .map(str::to_lowercase)
        .collect();
    let incidents: Vec<&Value> = issues
        .iter()
        .filter(|i| kind(i) == "Incident" && in_range(created(i)))
        .collect();
    let all_incidents: Vec<&Value> = issues.iter().filter(|i| kind(i) == "Incident").collect();
    let changes: Vec<&Value> = issues
        .iter()
        .filter(|i| change_kinds.contains(&kind(i)))
        .collect();
    let shipped: Vec<(&Value, i64)> = changes
        .iter()
        .filter_map(|c| Some((*c, deployed(c, &done)?)))
        .filter(|(_, at)| in_range(*at))
        .collect();
    assert!(
        incidents.len() > 10 && shipped.len() > 5,
        "a dataset with both"
    );

    // Time to restore: incidents of the range restored by its end; the others are open.
    let restore: Vec<f64> = incidents
        .iter()
        .filter_map(|i| {
            let r = restored(i, &done).filter(|r| *r < to_ms)?;
            Some((r - created(i)) as f64 / HOUR)
        })
        .collect();
    let ttr = &metrics["time_to_restore"];
    assert_eq!(ttr["sample"], restore.len());
    close(&ttr["hours"], mean(&restore), "time to restore");
    let listed = metrics["incidents"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        incidents.len(),
        "every incident, restored or open"
    );
    assert_eq!(
        listed.iter().filter(|i| i["restored_ms"].is_null()).count(),
        incidents.len() - restore.len(),
        "the open ones"
    );

    // Lead time: changes deployed in the range, created → first deployed.
    let lead: Vec<f64> = shipped
        .iter()
        .map(|(c, at)| (at - created(c)).max(0) as f64 / HOUR)
        .collect();
    assert_eq!(metrics["lead_time"]["sample"], lead.len());
    close(&metrics["lead_time"]["hours"], mean(&lead), "lead time");

    // Change failure rate: a deployed change failed when a causes link joins it to an incident,
    // or, for an incident with no such link to any change, when it was created in the change's
    // project within the window after the deployment.
    let has_cause = |i: &Value| changes.iter().any(|c| linked(i, c));
    let mut by_link = 0;
    let mut by_window = 0;
    let mut failed = 0;
    for (c, at) in &shipped {
        let links = all_incidents.iter().filter(|i| linked(i, c)).count();
        let window = if links > 0 {
            0
        } else {
            all_incidents
                .iter()
                .filter(|i| {
                    i["project"] == c["project"]
                        && !has_cause(i)
                        && (*at..*at + window_hours * 3_600_000).contains(&created(i))
                })
                .count()
        };
        by_link += links;
        by_window += window;
        failed += usize::from(links + window > 0);
    }
    let cfr = &metrics["change_failure_rate"];
    assert_eq!(cfr["deployed"], shipped.len());
    assert_eq!(cfr["failed"], failed);
    let rules: Vec<&str> = cfr["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules.iter().filter(|r| **r == "link").count(), by_link);
    assert_eq!(rules.iter().filter(|r| **r == "window").count(), by_window);
    close(
        &cfr["rate"],
        Some(failed as f64 / shipped.len() as f64),
        "change failure rate",
    );
    close(
        &cfr["period_ratio"],
        Some(incidents.len() as f64 / shipped.len() as f64),
        "period ratio",
    );

    // Deployment frequency: deployments per day of the range.
    let days = (to_ms - from_ms) as f64 / (24.0 * HOUR);
    let df = &metrics["deployment_frequency"];
    assert_eq!(df["deployments"], shipped.len());
    close(
        &df["per_day"],
        Some(shipped.len() as f64 / days),
        "deployments per day",
    );
    let per_period: u64 = df["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        per_period as usize,
        shipped.len(),
        "every deployment in one period"
    );
    Pairs { by_link, by_window }
}
