//! What a hygiene request asks, as named parameters — the API's query parameters, and the CLI's
//! flags under the same names — read into the domain's filter, thresholds and weights, once for
//! both: the same names, bounds and errors. Every refusal names the parameter; a parameter a
//! request does not know is refused too, so a misspelt filter never widens a report silently.

use std::collections::HashMap;

use super::aggregate::DESCRIPTION_CAP;
use super::filter::{Filter, TimeRange};
use super::rules::{ResponseMeasure, Settings};
use super::score::Weights;
use super::trend::{Interval, MAX_TREND_DAYS};
use crate::user_text::echoed;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// A refused parameter: its name and why.
#[derive(Debug, PartialEq)]
pub struct Refused {
    pub parameter: String,
    pub message: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.parameter, self.message)
    }
}

fn refuse(parameter: &str, message: impl Into<String>) -> Refused {
    Refused {
        parameter: parameter.to_string(),
        message: message.into(),
    }
}

const FILTERS: [&str; 6] = [
    "projects",
    "issue_types",
    "priorities",
    "statuses",
    "status_categories",
    "active_sprint",
];
const TIME_RANGES: [&str; 6] = [
    "created_from",
    "created_to",
    "updated_from",
    "updated_to",
    "resolved_from",
    "resolved_to",
];
const THRESHOLDS: [&str; 5] = [
    "at",
    "idle_days",
    "poor_description_chars",
    "stalled_days",
    "response",
];

/// The parameters of one request.
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Params {
        Params(pairs.into_iter().collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Refuses any parameter but the route's own.
    fn only(&self, known: &[&[&str]]) -> Result<(), Refused> {
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        match names
            .into_iter()
            .find(|n| !known.iter().any(|group| group.contains(&n.as_str())))
        {
            Some(unknown) => Err(refuse(&echoed(unknown), "not a parameter of this request")),
            None => Ok(()),
        }
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn number<T>(&self, name: &str, max: T) -> Result<Option<T>, Refused>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy + Default,
    {
        match self.get(name) {
            None => Ok(None),
            Some(text) => match text.trim().parse::<T>() {
                Ok(n) if n >= T::default() && n <= max => Ok(Some(n)),
                _ => Err(refuse(
                    name,
                    format!("must be a whole number from 0 to {max}"),
                )),
            },
        }
    }

    /// An instant: RFC 3339, or a date (its first millisecond, or its last for a range's end).
    fn instant(&self, name: &str, end_of_day: bool) -> Result<Option<i64>, Refused> {
        let Some(text) = self.get(name) else {
            return Ok(None);
        };
        if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
            return Ok(Some(t.timestamp_millis()));
        }
        let day = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| refuse(name, "must be an RFC 3339 time or a date (YYYY-MM-DD)"))?;
        let time = if end_of_day {
            NaiveTime::from_hms_milli_opt(23, 59, 59, 999)
        } else {
            NaiveTime::from_hms_opt(0, 0, 0)
        };
        Ok(time.map(|t| day.and_time(t).and_utc().timestamp_millis()))
    }

    fn date(&self, name: &str) -> Result<Option<NaiveDate>, Refused> {
        self.get(name)
            .map(|text| {
                NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                    .map_err(|_| refuse(name, "must be a date (YYYY-MM-DD)"))
            })
            .transpose()
    }

    fn range(&self, what: &str) -> Result<TimeRange, Refused> {
        let (from, to) = (format!("{what}_from"), format!("{what}_to"));
        let range = TimeRange {
            from_ms: self.instant(&from, false)?,
            to_ms: self.instant(&to, true)?,
        };
        if let (Some(f), Some(t)) = (range.from_ms, range.to_ms)
            && f > t
        {
            return Err(refuse(&to, format!("is before {from}")));
        }
        Ok(range)
    }

    fn filter(&self) -> Result<Filter, Refused> {
        let active_sprint_only = match self.get("active_sprint") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(refuse("active_sprint", "must be true or false")),
        };
        Ok(Filter {
            projects: self.list("projects"),
            issue_types: self.list("issue_types"),
            priorities: self.list("priorities"),
            statuses: self.list("statuses"),
            status_categories: self.list("status_categories"),
            active_sprint_only,
            created: self.range("created")?,
            updated: self.range("updated")?,
            resolved: self.range("resolved")?,
        })
    }

    fn weights(&self, custom_names: &[String]) -> Result<Weights, Refused> {
        Weights::parse(self.get("weights").unwrap_or_default(), custom_names)
            .map_err(|e| refuse("weights", e))
    }

    fn settings(&self) -> Result<Settings, Refused> {
        let defaults = Settings::default();
        let response = match self.get("response") {
            None => defaults.response,
            // `first-comment` too: the CLI's spelling of a value.
            Some(v) => serde_json::from_value::<ResponseMeasure>(serde_json::json!(
                v.trim().replace('-', "_")
            ))
            .map_err(|_| {
                refuse(
                    "response",
                    "must be first_comment, first_status_change or earliest",
                )
            })?,
        };
        Ok(Settings {
            idle_days: self
                .number("idle_days", 3_650)?
                .unwrap_or(defaults.idle_days),
            poor_description_chars: self
                .number("poor_description_chars", DESCRIPTION_CAP)?
                .unwrap_or(defaults.poor_description_chars),
            stalled_days: self
                .number("stalled_days", 3_650)?
                .unwrap_or(defaults.stalled_days),
            response,
            ..defaults
        })
    }
}

/// What `GET …/hygiene` asks.
pub struct ReportQuery {
    pub filter: Filter,
    pub settings: Settings,
    pub weights: Weights,
    pub at_ms: i64,
    /// `at` names a past instant: the tickets as they stood then, not as they are now.
    pub as_of: bool,
}

pub fn report(
    params: &Params,
    custom_names: &[String],
    now: DateTime<Utc>,
) -> Result<ReportQuery, Refused> {
    params.only(&[&FILTERS, &TIME_RANGES, &THRESHOLDS, &["weights"]])?;
    report_parts(params, custom_names, now)
}

fn report_parts(
    params: &Params,
    custom_names: &[String],
    now: DateTime<Utc>,
) -> Result<ReportQuery, Refused> {
    let at = params.instant("at", false)?;
    Ok(ReportQuery {
        filter: params.filter()?,
        settings: params.settings()?,
        weights: params.weights(custom_names)?,
        at_ms: at.unwrap_or(now.timestamp_millis()),
        // The tickets as they stood at an instant not yet past are the tickets as they are.
        as_of: at.is_some_and(|t| t < now.timestamp_millis()),
    })
}

/// What `GET …/hygiene/misses` asks: a report's selection, one category, a page.
pub struct MissesQuery {
    pub report: ReportQuery,
    pub category: String,
    pub after: Option<String>,
    pub limit: usize,
}

pub const MAX_PAGE: usize = 500;

/// The instant a snapshot taken by hand evaluates (`at`: RFC 3339 or a date, its first
/// millisecond); now without it.
pub fn snapshot_at(params: &Params, now: DateTime<Utc>) -> Result<i64, Refused> {
    params.only(&[&["at"]])?;
    Ok(params
        .instant("at", false)?
        .unwrap_or(now.timestamp_millis()))
}

pub fn misses(
    params: &Params,
    custom_names: &[String],
    now: DateTime<Utc>,
) -> Result<MissesQuery, Refused> {
    params.only(&[
        &FILTERS,
        &TIME_RANGES,
        &THRESHOLDS,
        &["category", "after", "limit"],
    ])?;
    let category = params
        .get("category")
        .ok_or_else(|| refuse("category", "is required"))?
        .trim()
        .to_string();
    let after = params.get("after").map(|a| a.trim().to_string());
    if after
        .as_deref()
        .is_some_and(|a| a.len() > 20 || !a.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(refuse(
            "after",
            "must be an issue id (digits), as `next` gave it",
        ));
    }
    let limit = match params.get("limit") {
        None => 100,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                refuse(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_PAGE}"),
                )
            })?,
    };
    Ok(MissesQuery {
        report: report_parts(params, custom_names, now)?,
        category,
        after,
        limit,
    })
}

/// What `GET …/hygiene/trend` asks.
pub struct TrendQuery {
    pub filter: Filter,
    pub weights: Weights,
    pub interval: Interval,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A trend covers 12 weeks up to today unless told otherwise.
const DEFAULT_TREND_DAYS: u64 = 83;

pub fn trend(
    params: &Params,
    custom_names: &[String],
    today: NaiveDate,
) -> Result<TrendQuery, Refused> {
    params.only(&[&FILTERS, &["weights", "interval", "from", "to"]])?;
    let interval = params
        .get("interval")
        .map(Interval::parse)
        .transpose()
        .map_err(|e| refuse("interval", e))?
        .unwrap_or(Interval::Week);
    let to = params.date("to")?.unwrap_or(today);
    let from = params
        .date("from")?
        .unwrap_or(to - chrono::Days::new(DEFAULT_TREND_DAYS));
    if from > to {
        return Err(refuse("to", "is before from"));
    }
    let max = MAX_TREND_DAYS;
    if (to - from).num_days() >= max {
        return Err(refuse("from", format!("a trend covers at most {max} days")));
    }
    Ok(TrendQuery {
        filter: params.filter()?,
        weights: params.weights(custom_names)?,
        interval,
        from,
        to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    fn now() -> DateTime<Utc> {
        "2026-12-03T10:00:00Z".parse().unwrap()
    }

    fn refused_report(pairs: &[(&str, &str)]) -> String {
        match report(&params(pairs), &[], now()) {
            Err(e) => e.parameter,
            Ok(_) => panic!("{pairs:?} accepted"),
        }
    }

    #[test]
    fn a_report_reads_every_filter_and_threshold() {
        let q = report(
            &params(&[
                ("projects", "OPS, DEV"),
                ("active_sprint", "TRUE"),
                ("created_from", "2026-11-01"),
                ("created_to", "2026-11-30"),
                ("idle_days", "5"),
                ("response", "earliest"),
                ("at", "2026-12-01T00:00:00Z"),
                ("weights", "Idle=20,No Assignee=5"),
            ]),
            &[],
            now(),
        )
        .unwrap();
        assert_eq!(q.filter.projects, ["OPS", "DEV"]);
        assert!(q.filter.active_sprint_only);
        assert_eq!(q.filter.created.from_ms, Some(1_793_491_200_000));
        assert_eq!(q.filter.created.to_ms, Some(1_796_083_199_999));
        assert_eq!(q.settings.idle_days, 5);
        assert_eq!(q.settings.response, ResponseMeasure::Earliest);
        assert_eq!(q.at_ms, 1_796_083_200_000);
        let defaults = report(&params(&[]), &[], now()).unwrap();
        assert_eq!(defaults.at_ms, now().timestamp_millis());
        assert_eq!(defaults.settings, Settings::default());
    }

    #[test]
    fn each_bad_parameter_is_named() {
        assert_eq!(refused_report(&[("idle_days", "-1")]), "idle_days");
        assert_eq!(refused_report(&[("idle_days", "ten")]), "idle_days");
        assert_eq!(refused_report(&[("stalled_days", "99999")]), "stalled_days");
        assert_eq!(refused_report(&[("at", "yesterday")]), "at");
        assert_eq!(refused_report(&[("response", "first_reply")]), "response");
        assert_eq!(refused_report(&[("weights", "Idle=101")]), "weights");
        assert_eq!(refused_report(&[("active_sprint", "yes")]), "active_sprint");
        assert_eq!(
            refused_report(&[("updated_from", "2026-12-02"), ("updated_to", "2026-12-01")]),
            "updated_to"
        );
        // Unknown names are the user's text, echoed as every error echoes it.
        assert_eq!(refused_report(&[("project", "OPS")]), "'project'");
        assert_eq!(refused_report(&[("category", "idle")]), "'category'");
        let long = "p".repeat(30);
        assert_eq!(refused_report(&[(&long, "OPS")]), "a text of 30 characters");
    }

    #[test]
    fn misses_need_a_category_and_page_within_bounds() {
        let refused = |pairs: &[(&str, &str)]| {
            misses(&params(pairs), &[], now())
                .err()
                .map(|e| e.parameter)
        };
        assert_eq!(refused(&[]), Some("category".into()));
        assert_eq!(
            refused(&[("category", "idle"), ("limit", "0")]),
            Some("limit".into())
        );
        assert_eq!(
            refused(&[("category", "idle"), ("limit", "501")]),
            Some("limit".into())
        );
        assert_eq!(
            refused(&[("category", "idle"), ("after", "P-1")]),
            Some("after".into())
        );
        let q = misses(
            &params(&[("category", " idle "), ("after", "10042")]),
            &[],
            now(),
        )
        .unwrap();
        assert_eq!(
            (q.category.as_str(), q.after.as_deref(), q.limit),
            ("idle", Some("10042"), 100)
        );
    }

    #[test]
    fn a_trend_defaults_to_twelve_weeks_and_refuses_time_ranges() {
        let today: NaiveDate = "2026-12-03".parse().unwrap();
        let q = trend(&params(&[]), &[], today).unwrap();
        assert_eq!((q.interval, q.to), (Interval::Week, today));
        assert_eq!(q.from.to_string(), "2026-09-11");
        let refused =
            |pairs: &[(&str, &str)]| trend(&params(pairs), &[], today).err().map(|e| e.parameter);
        assert_eq!(
            refused(&[("created_from", "2026-01-01")]),
            Some("'created_from'".into())
        );
        assert_eq!(refused(&[("interval", "day")]), Some("interval".into()));
        assert_eq!(refused(&[("from", "2026-12-04")]), Some("to".into()));
        assert_eq!(refused(&[("from", "2024-01-01")]), Some("from".into()));
        assert_eq!(refused(&[("to", "12/03/2026")]), Some("to".into()));
    }
}
