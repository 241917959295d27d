//! Operators' metrics in CloudWatch's embedded metric format (EMF): one JSON document per event,
//! written as a line of the function's log, which CloudWatch Logs turns into metric data — no API
//! call, nothing to batch, nothing lost when a function is stopped. One namespace
//! ([`NAMESPACE`]); every metric name ([`names`]) and dimension ([`dims`]) is written here once,
//! listed in docs/operations.md, and named by the alarms and the dashboard in `template.yaml`.
//!
//! Dimensions stay few-valued: the function, a run's outcome, an HTTP status class, an error
//! category. The integration id is a property of the document (searchable in Logs Insights),
//! never a dimension, so the number of metrics does not grow with the integrations.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use sei_jira_core::store::{ErrorCategory, RunOutcome, RunRecord};
use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "SeiJira";

/// Metric names.
pub mod names {
    /// Sync runs ended (one per run), by outcome.
    pub const SYNC_RUNS: &str = "SyncRuns";
    /// Issues a run wrote: new and updated.
    pub const ISSUES_WRITTEN: &str = "IssuesWritten";
    /// Requests a run made to Jira, retries included.
    pub const JIRA_REQUESTS: &str = "JiraRequests";
    /// Of those, requests made again after a 429, a 5xx or a dropped connection.
    pub const JIRA_RETRIES: &str = "JiraRetries";
    /// Answers 429 (Too Many Requests) a run received.
    pub const JIRA_THROTTLED: &str = "JiraThrottled";
    /// Seconds a run spent waiting on Jira (its `Retry-After`, or the backoff).
    pub const JIRA_WAIT_SECONDS: &str = "JiraWaitSeconds";
    /// A run's duration, seconds.
    pub const SYNC_DURATION: &str = "SyncDurationSeconds";
    /// How far behind Jira the store is when a run ends, seconds: its end − the oldest unit
    /// watermark ([`RunRecord::synced_through_ms`]). Not sent while every unit is still in its
    /// first backfill.
    pub const SYNC_LAG: &str = "SyncLagSeconds";
    /// Errors a run recorded, by category (`ErrorCategory` of the run record).
    pub const SYNC_ERRORS: &str = "SyncErrors";
    /// HTTP requests answered, by status class.
    pub const REQUESTS: &str = "Requests";
    /// The time to answer an HTTP request, milliseconds.
    pub const LATENCY: &str = "LatencyMs";
    /// Issues a hygiene/DORA index refresh evaluated.
    pub const ISSUES_EVALUATED: &str = "IssuesEvaluated";
    /// A hygiene/DORA index refresh's duration, seconds.
    pub const REFRESH_DURATION: &str = "RefreshDurationSeconds";
    /// 1 for an integration the daily snapshot found without a successful sync for the stale
    /// period (`StaleAfterHours`), 0 otherwise: its sum over a day counts the stale integrations.
    pub const INTEGRATIONS_STALE: &str = "IntegrationsStale";
}

/// Dimension names.
pub mod dims {
    /// The function (its name in `template.yaml`'s `functions/` folder, e.g. `sync-project`).
    pub const FUNCTION: &str = "Function";
    /// A sync run's outcome: `succeeded`, `partial`, `failed`, `skipped`.
    pub const OUTCOME: &str = "Outcome";
    /// `2xx`, `4xx` or `5xx`.
    pub const STATUS_CLASS: &str = "StatusClass";
    /// A run error's category (`rate_limited`, `jira_unavailable`, …).
    pub const ERROR_CATEGORY: &str = "ErrorCategory";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Seconds,
    Milliseconds,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Seconds => "Seconds",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One EMF document: metrics, published under each of its dimension sets, with the dimensions'
/// values and other properties beside them.
#[derive(Clone, Debug, PartialEq)]
pub struct Emf {
    dimension_sets: Vec<Vec<&'static str>>,
    values: Vec<(&'static str, Value)>,
    metrics: Vec<(&'static str, Unit)>,
}

impl Emf {
    /// A document of `function`'s, its metrics published by function.
    pub fn of(function: &str) -> Emf {
        Emf {
            dimension_sets: vec![vec![dims::FUNCTION]],
            values: vec![(dims::FUNCTION, json!(function))],
            metrics: Vec::new(),
        }
    }

    /// Its metrics published by function and this dimension too.
    pub fn by(mut self, dimension: &'static str, value: &str) -> Emf {
        self.dimension_sets.push(vec![dims::FUNCTION, dimension]);
        self.values.push((dimension, json!(value)));
        self
    }

    pub fn metric(mut self, name: &'static str, unit: Unit, value: f64) -> Emf {
        self.metrics.push((name, unit));
        self.values.push((name, json!(value)));
        self
    }

    /// A value beside the metrics, in the log line only (not a dimension).
    pub fn property(mut self, name: &'static str, value: impl Into<Value>) -> Emf {
        self.values.push((name, value.into()));
        self
    }

    /// The document, stamped `timestamp_ms`.
    pub fn to_json(&self, timestamp_ms: i64) -> Value {
        let metrics: Vec<Value> = self
            .metrics
            .iter()
            .map(|(name, unit)| json!({"Name": name, "Unit": unit.name()}))
            .collect();
        let mut doc = Map::new();
        doc.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": self.dimension_sets,
                    "Metrics": metrics,
                }],
            }),
        );
        for (name, value) in &self.values {
            doc.insert((*name).into(), value.clone());
        }
        Value::Object(doc)
    }
}

/// Where a function's metrics go.
pub trait Metrics: Send + Sync {
    fn record(&self, emf: &Emf);
}

/// A deployed function's: each document a line on standard output, which Lambda sends to the
/// function's log group, where CloudWatch reads it.
pub struct LogLines;

impl Metrics for LogLines {
    fn record(&self, emf: &Emf) {
        println!("{}", emf.to_json(chrono_now_ms()));
    }
}

/// A local server's: no CloudWatch reads its logs, so its figures are not kept.
pub struct Unrecorded;

impl Metrics for Unrecorded {
    fn record(&self, _: &Emf) {}
}

impl<M: Metrics + ?Sized> Metrics for std::sync::Arc<M> {
    fn record(&self, emf: &Emf) {
        (**self).record(emf);
    }
}

/// Records each of `documents`.
pub fn record_all(metrics: &dyn Metrics, documents: &[Emf]) {
    for emf in documents {
        metrics.record(emf);
    }
}

/// Answers `answer`, recording its status class and how long it took.
pub async fn measured<B>(
    metrics: &dyn Metrics,
    function: &str,
    answer: impl std::future::Future<Output = lambda_http::Response<B>>,
) -> lambda_http::Response<B> {
    let started = std::time::Instant::now();
    let response = answer.await;
    metrics.record(&http_request(
        function,
        response.status().as_u16(),
        started.elapsed(),
    ));
    response
}

/// Kept in memory, for tests to read.
#[derive(Default)]
pub struct Kept(Mutex<Vec<Value>>);

impl Kept {
    pub fn documents(&self) -> Vec<Value> {
        self.0.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

impl Metrics for Kept {
    fn record(&self, emf: &Emf) {
        if let Ok(mut documents) = self.0.lock() {
            documents.push(emf.to_json(chrono_now_ms()));
        }
    }
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The documents of a sync run that ended: its figures by function and outcome, and one count
/// per error category it recorded.
pub fn sync_run(function: &str, integration: &str, run: &RunRecord) -> Vec<Emf> {
    let c = &run.counts;
    let seconds = run
        .ended_ms
        .map_or(0.0, |end| (end - run.started_ms).max(0) as f64 / 1_000.0);
    let mut figures = Emf::of(function)
        .by(dims::OUTCOME, &snake_name(&run.outcome))
        .property("integration_id", integration)
        .metric(names::SYNC_RUNS, Unit::Count, 1.0)
        .metric(
            names::ISSUES_WRITTEN,
            Unit::Count,
            (c.issues_new + c.issues_updated) as f64,
        )
        .metric(names::JIRA_REQUESTS, Unit::Count, c.requests as f64)
        .metric(names::JIRA_RETRIES, Unit::Count, c.retries as f64)
        .metric(names::JIRA_THROTTLED, Unit::Count, c.throttled as f64)
        .metric(
            names::JIRA_WAIT_SECONDS,
            Unit::Seconds,
            c.waited_ms as f64 / 1_000.0,
        )
        .metric(names::SYNC_DURATION, Unit::Seconds, seconds);
    if let (Some(end), Some(through)) = (run.ended_ms, run.synced_through_ms) {
        let lag = (end - through).max(0) as f64 / 1_000.0;
        figures = figures.metric(names::SYNC_LAG, Unit::Seconds, lag);
    }
    let mut documents = vec![figures];
    let mut categories: BTreeMap<String, usize> = BTreeMap::new();
    for e in &run.errors {
        *categories.entry(snake_name(&e.category)).or_default() += 1;
    }
    for (category, n) in categories {
        documents.push(errors(function, integration, &category, n));
    }
    documents
}

/// The documents of a run that failed without an answer to read its figures from (it could not
/// start, or Jira failed it): counted as a failed run, with its error's category.
pub fn failed_run(function: &str, integration: &str, category: ErrorCategory) -> Vec<Emf> {
    vec![
        Emf::of(function)
            .by(dims::OUTCOME, &snake_name(&RunOutcome::Failed))
            .property("integration_id", integration)
            .metric(names::SYNC_RUNS, Unit::Count, 1.0),
        errors(function, integration, &snake_name(&category), 1),
    ]
}

fn errors(function: &str, integration: &str, category: &str, n: usize) -> Emf {
    Emf::of(function)
        .by(dims::ERROR_CATEGORY, category)
        .property("integration_id", integration)
        .metric(names::SYNC_ERRORS, Unit::Count, n as f64)
}

/// An HTTP request answered with `status` after `latency`.
pub fn http_request(function: &str, status: u16, latency: Duration) -> Emf {
    let class = format!("{}xx", status / 100);
    Emf::of(function)
        .by(dims::STATUS_CLASS, &class)
        .metric(names::REQUESTS, Unit::Count, 1.0)
        .metric(
            names::LATENCY,
            Unit::Milliseconds,
            latency.as_secs_f64() * 1_000.0,
        )
}

/// A hygiene/DORA index refresh that evaluated `evaluated` issues in `took`.
pub fn index_refresh(function: &str, integration: &str, evaluated: usize, took: Duration) -> Emf {
    Emf::of(function)
        .property("integration_id", integration)
        .metric(names::ISSUES_EVALUATED, Unit::Count, evaluated as f64)
        .metric(names::REFRESH_DURATION, Unit::Seconds, took.as_secs_f64())
}

/// An outcome or an error category as the run record stores it (`rate_limited`).
/// Whether the daily snapshot found an integration stale.
pub fn staleness(function: &str, integration: &str, stale: bool) -> Emf {
    Emf::of(function)
        .property("integration_id", integration)
        .metric(
            names::INTEGRATIONS_STALE,
            Unit::Count,
            f64::from(u8::from(stale)),
        )
}

fn snake_name<T: serde::Serialize>(category: &T) -> String {
    serde_json::to_value(category)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "other".into())
}

/// What makes `doc` not an EMF document CloudWatch would read (empty when it is one): the
/// `_aws` directive with a timestamp and this namespace, every dimension of every set given as a
/// string, every metric given as a number, at most 30 dimensions a set and 100 metrics.
pub fn emf_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if !doc["_aws"]["Timestamp"].is_i64() {
        problems.push("no _aws.Timestamp".to_string());
    }
    let Some(directives) = doc["_aws"]["CloudWatchMetrics"].as_array() else {
        return vec!["no _aws.CloudWatchMetrics".into()];
    };
    for directive in directives {
        if directive["Namespace"] != NAMESPACE {
            problems.push(format!("namespace {}", directive["Namespace"]));
        }
        for set in directive["Dimensions"].as_array().into_iter().flatten() {
            let set = set.as_array().cloned().unwrap_or_default();
            if set.is_empty() || set.len() > 30 {
                problems.push(format!("a dimension set of {}", set.len()));
            }
            for name in set {
                if !doc[name.as_str().unwrap_or_default()].is_string() {
                    problems.push(format!("dimension {name} has no string value"));
                }
            }
        }
        let metrics = directive["Metrics"].as_array().cloned().unwrap_or_default();
        if metrics.is_empty() || metrics.len() > 100 {
            problems.push(format!("{} metrics", metrics.len()));
        }
        for metric in metrics {
            if !doc[metric["Name"].as_str().unwrap_or_default()].is_number() {
                problems.push(format!("metric {} has no number", metric["Name"]));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use sei_jira_core::store::{Counts, ErrorCategory, RunError, RunOutcome};

    fn run() -> RunRecord {
        RunRecord {
            run_id: "r".into(),
            started_ms: 1_000,
            ended_ms: Some(61_500),
            outcome: RunOutcome::Partial,
            projects: vec![],
            counts: Counts {
                issues_new: 3,
                issues_updated: 4,
                requests: 20,
                retries: 5,
                throttled: 2,
                waited_ms: 90_000,
                ..Counts::default()
            },
            errors: vec![
                RunError::new(ErrorCategory::RateLimited, "a"),
                RunError::new(ErrorCategory::RateLimited, "b"),
                RunError::new(ErrorCategory::JiraUnavailable, "c"),
            ],
            synced_through_ms: None,
        }
    }

    #[test]
    fn a_sync_run_is_one_document_of_figures_and_one_per_error_category() {
        let docs: Vec<Value> = sync_run("sync-project", "i-1", &run())
            .iter()
            .map(|d| d.to_json(5))
            .collect();
        for doc in &docs {
            assert_eq!(emf_problems(doc), Vec::<String>::new(), "{doc}");
        }
        let figures = &docs[0];
        assert_eq!(
            figures["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function"], ["Function", "Outcome"]])
        );
        assert_eq!(
            (
                &figures["Function"],
                &figures["Outcome"],
                &figures["integration_id"]
            ),
            (&json!("sync-project"), &json!("partial"), &json!("i-1"))
        );
        assert_eq!(figures[names::ISSUES_WRITTEN], 7.0);
        assert_eq!(figures[names::JIRA_THROTTLED], 2.0);
        assert_eq!(figures[names::JIRA_WAIT_SECONDS], 90.0);
        assert_eq!(figures[names::SYNC_DURATION], 60.5);
        let errors: Vec<(&Value, &Value)> = docs[1..]
            .iter()
            .map(|d| (&d["ErrorCategory"], &d[names::SYNC_ERRORS]))
            .collect();
        assert_eq!(
            errors,
            vec![
                (&json!("jira_unavailable"), &json!(1.0)),
                (&json!("rate_limited"), &json!(2.0))
            ]
        );
        assert!(
            figures.get(names::SYNC_LAG).is_none(),
            "no unit has a watermark: {figures}"
        );
    }

    #[test]
    fn a_run_whose_units_have_watermarks_sends_the_lag_of_the_oldest() {
        let run = RunRecord {
            synced_through_ms: Some(1_500),
            ..run()
        };
        let figures = sync_run("sync-project", "i-1", &run)[0].to_json(5);
        assert_eq!(emf_problems(&figures), Vec::<String>::new(), "{figures}");
        assert_eq!(figures[names::SYNC_LAG], 60.0);
    }

    #[test]
    fn an_http_request_is_counted_by_status_class() {
        let doc = http_request("score-hygiene", 503, Duration::from_millis(1_250)).to_json(5);
        assert_eq!(emf_problems(&doc), Vec::<String>::new(), "{doc}");
        assert_eq!(
            (&doc["StatusClass"], &doc[names::LATENCY]),
            (&json!("5xx"), &json!(1_250.0))
        );
    }

    #[test]
    fn a_document_without_its_values_is_no_emf() {
        let mut doc = index_refresh("hygiene-events", "i-1", 10, Duration::from_secs(2)).to_json(5);
        assert_eq!(emf_problems(&doc), Vec::<String>::new(), "{doc}");
        doc.as_object_mut().unwrap().remove("Function");
        doc.as_object_mut().unwrap().remove(names::ISSUES_EVALUATED);
        assert_eq!(emf_problems(&doc).len(), 2, "{doc}");
    }
}
