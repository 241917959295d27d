//! The four DORA metrics over a range, from the facts of the issues a profile classifies: time
//! to restore (incident created → restored), change failure rate (deployed changes that caused
//! an incident ÷ changes deployed; "caused" by a link of the causes family, or else by an
//! incident in the same project within the profile's window after the deployment), deployment
//! frequency (changes deployed, and versions released) and lead time (change created →
//! deployed). Every figure carries its sample size; an empty side is None ("no data"), never 0.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::facts::DoraFacts;

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: i64 = 86_400_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Week,
    Month,
    Quarter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    Mean,
    Median,
    P90,
    P95,
}

impl Granularity {
    /// `week`, `month` or `quarter`, any case.
    pub fn parse(text: &str) -> Option<Granularity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "week" => Some(Granularity::Week),
            "month" => Some(Granularity::Month),
            "quarter" => Some(Granularity::Quarter),
            _ => None,
        }
    }
}

impl Aggregation {
    /// `mean`, `median`, `p90` or `p95`, any case.
    pub fn parse(text: &str) -> Option<Aggregation> {
        match text.trim().to_ascii_lowercase().as_str() {
            "mean" => Some(Aggregation::Mean),
            "median" => Some(Aggregation::Median),
            "p90" => Some(Aggregation::P90),
            "p95" => Some(Aggregation::P95),
            _ => None,
        }
    }
}

/// What is asked: the range `[from_ms, to_ms)`, its periods, and how durations aggregate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Query {
    pub from_ms: i64,
    pub to_ms: i64,
    pub granularity: Granularity,
    pub aggregation: Aggregation,
    /// Hours after a deployment within which an incident of its project is taken as caused by it.
    pub failure_window_hours: u32,
}

/// A released Jira version, and when.
#[derive(Clone, Debug, PartialEq)]
pub struct Release {
    pub name: String,
    pub released_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Elite,
    High,
    Medium,
    Low,
}

/// Durations of one metric (hours), aggregated over the range and per period.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Durations {
    pub hours: Option<f64>,
    pub sample: usize,
    pub periods: Vec<PeriodDuration>,
    pub band: Option<Band>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeriodDuration {
    pub start: NaiveDate,
    pub hours: Option<f64>,
    pub sample: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeriodCount {
    pub start: NaiveDate,
    pub count: usize,
}

/// An incident of the range: restored by the range's end (when, and after how long), or open.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Incident {
    pub key: String,
    pub created_ms: i64,
    pub restored_ms: Option<i64>,
    pub hours: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// An issue link of the causes family joins the two.
    Link,
    /// No link; the incident was created in the change's project within the window after its
    /// deployment.
    Window,
}

/// A deployed change and an incident it is taken to have caused, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failure {
    pub change: String,
    pub incident: String,
    pub rule: Rule,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailureRate {
    /// Changes deployed in the range, and those of them that caused an incident.
    pub deployed: usize,
    pub failed: usize,
    pub rate: Option<f64>,
    pub failures: Vec<Failure>,
    /// The established product's period ratio: incidents created ÷ changes deployed.
    pub period_ratio: Option<f64>,
    pub incidents: usize,
    pub band: Option<Band>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Frequency {
    pub deployments: usize,
    pub per_day: Option<f64>,
    pub periods: Vec<PeriodCount>,
    pub releases: usize,
    pub release_periods: Vec<PeriodCount>,
    pub band: Option<Band>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DoraReport {
    pub time_to_restore: Durations,
    /// Every incident created in the range, restored or open, in creation order.
    pub incidents: Vec<Incident>,
    pub change_failure_rate: FailureRate,
    pub deployment_frequency: Frequency,
    pub lead_time: Durations,
}

/// The report for `query` from the facts of every incident and change of the integration.
pub fn report(facts: &[DoraFacts], releases: &[Release], query: &Query) -> DoraReport {
    let in_range = |at: Option<i64>| at.is_some_and(|t| (query.from_ms..query.to_ms).contains(&t));
    let incidents: Vec<&DoraFacts> = facts
        .iter()
        .filter(|f| f.incident && in_range(f.created_ms))
        .collect();
    let deployed: Vec<&DoraFacts> = facts
        .iter()
        .filter(|f| f.change && in_range(f.deployed_ms))
        .collect();

    // Restored by the range's end: created → restored; the others are open.
    let mut listed: Vec<Incident> = incidents
        .iter()
        .filter_map(|f| {
            let created = f.created_ms?;
            let restored_ms = f.restored_ms.filter(|r| *r < query.to_ms);
            Some(Incident {
                key: f.key.clone(),
                created_ms: created,
                restored_ms,
                hours: restored_ms.map(|r| (r - created) as f64 / HOUR_MS),
            })
        })
        .collect();
    listed.sort_by(|a, b| (a.created_ms, &a.key).cmp(&(b.created_ms, &b.key)));
    let restore_times: Vec<(i64, f64)> = listed
        .iter()
        .filter_map(|i| Some((i.created_ms, i.hours?)))
        .collect();
    let lead_times: Vec<(i64, f64)> = deployed
        .iter()
        .filter_map(|f| {
            let (created, at) = (f.created_ms?, f.deployed_ms?);
            Some((at, (at - created).max(0) as f64 / HOUR_MS))
        })
        .collect();

    let time_to_restore = durations(&restore_times, query, mttr_band);
    let lead_time = durations(&lead_times, query, lead_time_band);
    DoraReport {
        time_to_restore,
        incidents: listed,
        change_failure_rate: failure_rate(facts, &deployed, incidents.len(), query),
        deployment_frequency: frequency(&deployed, releases, query),
        lead_time,
    }
}

fn durations(samples: &[(i64, f64)], query: &Query, band: fn(f64) -> Band) -> Durations {
    let all: Vec<f64> = samples.iter().map(|(_, h)| *h).collect();
    let hours = aggregate(&all, query.aggregation);
    Durations {
        hours,
        sample: all.len(),
        periods: periods(query)
            .into_iter()
            .map(|(start, from, to)| {
                let of: Vec<f64> = samples
                    .iter()
                    .filter(|(at, _)| (from..to).contains(at))
                    .map(|(_, h)| *h)
                    .collect();
                PeriodDuration {
                    start,
                    hours: aggregate(&of, query.aggregation),
                    sample: of.len(),
                }
            })
            .collect(),
        band: banded(hours, all.len(), band),
    }
}

fn failure_rate(
    facts: &[DoraFacts],
    deployed: &[&DoraFacts],
    incidents_in_range: usize,
    query: &Query,
) -> FailureRate {
    let window_ms = i64::from(query.failure_window_hours) * 3_600_000;
    let incidents: Vec<&DoraFacts> = facts.iter().filter(|f| f.incident).collect();
    // Every (change, incident) pair a link of the causes family joins, read from either side,
    // once: the pairs, not the issues, are what each deployed change is looked up in.
    let changes: HashSet<&str> = facts
        .iter()
        .filter(|f| f.change)
        .map(|f| f.id.as_str())
        .collect();
    let incident_ids: HashSet<&str> = incidents.iter().map(|f| f.id.as_str()).collect();
    let mut links: HashSet<(&str, &str)> = HashSet::new();
    for f in facts {
        if f.incident {
            links.extend(
                f.caused_by
                    .iter()
                    .filter(|c| changes.contains(c.as_str()))
                    .map(|c| (c.as_str(), f.id.as_str())),
            );
        }
        if f.change {
            links.extend(
                f.causes
                    .iter()
                    .filter(|i| incident_ids.contains(i.as_str()))
                    .map(|i| (f.id.as_str(), i.as_str())),
            );
        }
    }
    // An incident whose links name its cause is never also put down to a nearby deployment.
    let with_cause: HashSet<&str> = links.iter().map(|(_, i)| *i).collect();
    let mut failures = Vec::new();
    for change in deployed {
        let linked: Vec<&&DoraFacts> = incidents
            .iter()
            .filter(|i| links.contains(&(change.id.as_str(), i.id.as_str())))
            .collect();
        if !linked.is_empty() {
            failures.extend(linked.iter().map(|i| Failure {
                change: change.key.clone(),
                incident: i.key.clone(),
                rule: Rule::Link,
            }));
            continue;
        }
        let deployed_at = change.deployed_ms.unwrap_or_default();
        failures.extend(
            incidents
                .iter()
                .filter(|i| {
                    i.project == change.project
                        && !with_cause.contains(i.id.as_str())
                        && i.created_ms.is_some_and(|c| {
                            c >= deployed_at && c < deployed_at.saturating_add(window_ms)
                        })
                })
                .map(|i| Failure {
                    change: change.key.clone(),
                    incident: i.key.clone(),
                    rule: Rule::Window,
                }),
        );
    }
    let mut failed: Vec<&str> = failures.iter().map(|f| f.change.as_str()).collect();
    failed.dedup();
    let ratio = |n: usize| (!deployed.is_empty()).then(|| n as f64 / deployed.len() as f64);
    let rate = ratio(failed.len());
    FailureRate {
        deployed: deployed.len(),
        failed: failed.len(),
        rate,
        failures,
        period_ratio: ratio(incidents_in_range),
        incidents: incidents_in_range,
        band: banded(rate, deployed.len(), failure_rate_band),
    }
}

fn frequency(deployed: &[&DoraFacts], releases: &[Release], query: &Query) -> Frequency {
    let days = ((query.to_ms - query.from_ms) as f64 / DAY_MS as f64).max(0.0);
    let per_day = (days > 0.0 && !deployed.is_empty()).then(|| deployed.len() as f64 / days);
    let released: Vec<i64> = releases
        .iter()
        .map(|r| r.released_ms)
        .filter(|t| (query.from_ms..query.to_ms).contains(t))
        .collect();
    let deploys: Vec<i64> = deployed.iter().filter_map(|f| f.deployed_ms).collect();
    let count = |times: &[i64]| {
        periods(query)
            .into_iter()
            .map(|(start, from, to)| PeriodCount {
                start,
                count: times.iter().filter(|t| (from..to).contains(*t)).count(),
            })
            .collect()
    };
    Frequency {
        deployments: deploys.len(),
        per_day,
        periods: count(&deploys),
        releases: released.len(),
        release_periods: count(&released),
        band: banded(per_day, deploys.len(), frequency_band),
    }
}

/// The value of `samples` under `aggregation`: None when there are none. Percentiles by the
/// nearest rank.
pub fn aggregate(samples: &[f64], aggregation: Aggregation) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank =
        |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    Some(match aggregation {
        Aggregation::Mean => sorted.iter().sum::<f64>() / sorted.len() as f64,
        Aggregation::Median => {
            let n = sorted.len();
            match n % 2 {
                1 => sorted[n / 2],
                _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
            }
        }
        Aggregation::P90 => rank(0.90),
        Aggregation::P95 => rank(0.95),
    })
}

/// The periods the range covers (UTC): each one's first day, and its span clipped to the
/// range. Weeks start on Monday.
pub fn periods(query: &Query) -> Vec<(NaiveDate, i64, i64)> {
    let Some(first) = DateTime::<Utc>::from_timestamp_millis(query.from_ms) else {
        return Vec::new();
    };
    let day = first.date_naive();
    let mut start = match query.granularity {
        Granularity::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        Granularity::Month => day.with_day(1).unwrap_or(day),
        Granularity::Quarter => {
            NaiveDate::from_ymd_opt(day.year(), (day.month0() / 3) * 3 + 1, 1).unwrap_or(day)
        }
    };
    let mut out = Vec::new();
    loop {
        let next = match query.granularity {
            Granularity::Week => start + Duration::days(7),
            Granularity::Month => start + chrono::Months::new(1),
            Granularity::Quarter => start + chrono::Months::new(3),
        };
        let ms = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp_millis())
        };
        let (from, to) = (ms(start).max(query.from_ms), ms(next).min(query.to_ms));
        if from >= query.to_ms {
            break;
        }
        out.push((start, from, to));
        start = next;
    }
    out
}

/// The least sample a band is drawn from (restored incidents, changes with a lead time, deployed
/// changes, deployments): below it the figure is shown without a band, which a handful of
/// issues would only pretend to.
pub const MIN_SAMPLE_FOR_BAND: usize = 5;

/// The band of `value` drawn from `sample` issues: none below [`MIN_SAMPLE_FOR_BAND`].
fn banded(value: Option<f64>, sample: usize, band: fn(f64) -> Band) -> Option<Band> {
    value.filter(|_| sample >= MIN_SAMPLE_FOR_BAND).map(band)
}

/// Bands as the DORA research publishes them (State of DevOps 2021; the established product
/// shows the same for frequency, failure rate and restore time). The upper bounds, in order.
pub const TIME_TO_RESTORE_HOURS: [f64; 3] = [1.0, 24.0, 24.0 * 7.0];
pub const LEAD_TIME_HOURS: [f64; 3] = [1.0, 24.0 * 7.0, 24.0 * 182.0];
pub const FAILURE_RATE: [f64; 3] = [0.15, 0.30, 0.45];
/// Deployments per day at or above which a band starts: more than daily, weekly, monthly.
pub const FREQUENCY_PER_DAY: [f64; 3] = [1.0, 1.0 / 7.0, 1.0 / 30.0];

fn below(value: f64, bounds: [f64; 3]) -> Band {
    match bounds.iter().position(|b| value < *b) {
        Some(0) => Band::Elite,
        Some(1) => Band::High,
        Some(2) => Band::Medium,
        _ => Band::Low,
    }
}

fn mttr_band(hours: f64) -> Band {
    below(hours, TIME_TO_RESTORE_HOURS)
}

fn lead_time_band(hours: f64) -> Band {
    below(hours, LEAD_TIME_HOURS)
}

fn failure_rate_band(rate: f64) -> Band {
    match FAILURE_RATE.iter().position(|b| rate <= *b) {
        Some(0) => Band::Elite,
        Some(1) => Band::High,
        Some(2) => Band::Medium,
        _ => Band::Low,
    }
}

fn frequency_band(per_day: f64) -> Band {
    match per_day {
        d if d > FREQUENCY_PER_DAY[0] => Band::Elite,
        d if d >= FREQUENCY_PER_DAY[1] => Band::High,
        d if d >= FREQUENCY_PER_DAY[2] => Band::Medium,
        _ => Band::Low,
    }
}
