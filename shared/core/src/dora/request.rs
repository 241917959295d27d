//! A DORA request as people write it (the API's query parameters, the CLI's flags) and the
//! document both answer with: one parser, one shape, so `sei-jira dora --json` prints what
//! `GET /integrations/{id}/dora` answers.

use chrono::{Days, NaiveDate};
use serde::Serialize;

use super::metrics::{
    Aggregation, DoraReport, FAILURE_RATE, FREQUENCY_PER_DAY, Granularity, LEAD_TIME_HOURS,
    MIN_SAMPLE_FOR_BAND, Query, TIME_TO_RESTORE_HOURS,
};

/// Without `from`: this many days before `to`.
pub const DEFAULT_DAYS: u64 = 90;
/// The longest range asked at once (about ten years).
pub const MAX_DAYS: i64 = 3_660;

/// The parameters as given, each absent or text.
#[derive(Clone, Copy, Debug, Default)]
pub struct Asked<'a> {
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub granularity: Option<&'a str>,
    pub aggregation: Option<&'a str>,
}

/// A refused parameter, by its name (`from`, `to`, `granularity`, `aggregation`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct Refused {
    pub name: &'static str,
    pub message: String,
}

/// Whole UTC days `from` to `to` (both included), their periods and the aggregation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ReportDays {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub granularity: Granularity,
    pub aggregation: Aggregation,
}

fn refuse<T>(name: &'static str, message: impl Into<String>) -> Result<T, Refused> {
    Err(Refused {
        name,
        message: message.into(),
    })
}

fn day(name: &'static str, text: Option<&str>) -> Result<Option<NaiveDate>, Refused> {
    match text.map(|t| NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")) {
        None => Ok(None),
        Some(Ok(d)) => Ok(Some(d)),
        Some(Err(_)) => refuse(name, "not a date (YYYY-MM-DD)"),
    }
}

impl ReportDays {
    /// The days a report covers when nothing is asked: the CLI's, the API's and the page's.
    pub fn defaults(today: NaiveDate) -> ReportDays {
        ReportDays::parse(&Asked::default(), today)
            .expect("the default request is valid on any day")
    }

    /// Defaults: to today, from [`DEFAULT_DAYS`] before `to`, by month, the median.
    pub fn parse(asked: &Asked<'_>, today: NaiveDate) -> Result<ReportDays, Refused> {
        let granularity = match asked.granularity {
            None => Granularity::Month,
            Some(t) => match Granularity::parse(t) {
                Some(g) => g,
                None => return refuse("granularity", "not one of week, month, quarter"),
            },
        };
        let aggregation = match asked.aggregation {
            None => Aggregation::Median,
            Some(t) => match Aggregation::parse(t) {
                Some(a) => a,
                None => return refuse("aggregation", "not one of mean, median, p90, p95"),
            },
        };
        let to = day("to", asked.to)?.unwrap_or(today);
        let from = match day("from", asked.from)? {
            Some(from) => from,
            None => to.checked_sub_days(Days::new(DEFAULT_DAYS)).unwrap_or(to),
        };
        if from > to {
            return refuse("from", format!("{from} is after to ({to})"));
        }
        if (to - from).num_days() >= MAX_DAYS {
            return refuse("from", format!("at most {MAX_DAYS} days from to"));
        }
        Ok(ReportDays {
            from,
            to,
            granularity,
            aggregation,
        })
    }

    /// The query of these days, with the profile's failure window.
    pub fn query(&self, failure_window_hours: u32) -> Query {
        let midnight = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp_millis())
        };
        Query {
            from_ms: midnight(self.from),
            to_ms: midnight(self.to + Days::new(1)),
            granularity: self.granularity,
            aggregation: self.aggregation,
            failure_window_hours,
        }
    }
}

/// The published thresholds the bands are drawn from: elite below (or, for frequency, at or
/// above) the first, high the second, medium the third, low beyond.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Thresholds {
    pub time_to_restore_hours: [f64; 3],
    pub lead_time_hours: [f64; 3],
    pub change_failure_rate: [f64; 3],
    pub deployments_per_day: [f64; 3],
    /// No band is drawn from fewer issues than this ([`MIN_SAMPLE_FOR_BAND`]).
    pub min_sample: usize,
}

pub const THRESHOLDS: Thresholds = Thresholds {
    time_to_restore_hours: TIME_TO_RESTORE_HOURS,
    lead_time_hours: LEAD_TIME_HOURS,
    change_failure_rate: FAILURE_RATE,
    deployments_per_day: FREQUENCY_PER_DAY,
    min_sample: MIN_SAMPLE_FOR_BAND,
};

/// The answer of the API and of `sei-jira dora --json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Document {
    /// The profile's name, and its id when it is kept.
    pub profile: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    #[serde(flatten)]
    pub request: ReportDays,
    /// Counted from every issue, because the profile's members are being classified again.
    pub recomputing: bool,
    pub metrics: DoraReport,
    pub thresholds: Thresholds,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
    }

    fn refused(asked: Asked<'_>) -> &'static str {
        ReportDays::parse(&asked, today()).unwrap_err().name
    }

    #[test]
    fn defaults_are_the_last_ninety_days_by_month_at_the_median() {
        let r = ReportDays::parse(&Asked::default(), today()).unwrap();
        assert_eq!((r.from, r.to), (today() - Days::new(90), today()));
        assert_eq!(
            (r.granularity, r.aggregation),
            (Granularity::Month, Aggregation::Median)
        );
        let q = r.query(24);
        assert_eq!(q.to_ms - q.from_ms, 91 * 86_400_000, "both days whole");
    }

    #[test]
    fn each_bad_parameter_is_refused_by_its_name() {
        let at = |from, to| Asked {
            from: Some(from),
            to: Some(to),
            ..Asked::default()
        };
        assert_eq!(refused(at("2026-13-01", "2026-12-01")), "from");
        assert_eq!(refused(at("2026-11-01", "yesterday")), "to");
        assert_eq!(refused(at("2026-12-02", "2026-12-01")), "from");
        assert_eq!(refused(at("1990-01-01", "2026-12-01")), "from");
        let by = |granularity, aggregation| Asked {
            granularity,
            aggregation,
            ..Asked::default()
        };
        assert_eq!(refused(by(Some("day"), None)), "granularity");
        assert_eq!(refused(by(None, Some("p99"))), "aggregation");
        assert!(ReportDays::parse(&by(Some("QUARTER"), Some("p95")), today()).is_ok());
    }
}
