//! The score per week or month over a range, from the kept snapshots: each period shows the last
//! daily snapshot taken within it (and within the range), else the last point the history build
//! kept for it ([`super::history`]), so a trend never reads an issue.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Serialize;

use super::filter::Filter;
use super::score::Weights;
use super::snapshot::{Snapshot, Taken};

/// The longest range a trend covers.
pub const MAX_TREND_DAYS: i64 = 731;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    /// ISO weeks, Monday to Sunday.
    Week,
    /// Calendar months.
    Month,
}

impl Interval {
    pub fn parse(text: &str) -> Result<Interval, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "week" => Ok(Interval::Week),
            "month" => Ok(Interval::Month),
            other => Err(format!("'{other}' is neither week nor month")),
        }
    }

    /// The first day of the period holding `day`.
    fn start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Interval::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Interval::Month => day.with_day(1).unwrap_or(day),
        }
    }

    fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Interval::Week => start + Days::new(7),
            Interval::Month => start + Months::new(1),
        }
    }
}

/// One period of a trend; the score and ticket count are absent when nothing was kept for it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Point {
    /// The period's first and last day, clipped to the range.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The day of the snapshot shown.
    pub snapshot_day: Option<NaiveDate>,
    /// How the snapshot shown was made: taken that day, or rebuilt from history.
    pub source: Option<Taken>,
    pub total_tickets: Option<u64>,
    pub score: Option<f64>,
}

/// The periods from the one holding `from` to the one holding `to`. `snapshots` (daily ones and
/// history points together) may come in any order; those outside the range are ignored.
pub fn trend(
    snapshots: &[Snapshot],
    interval: Interval,
    from: NaiveDate,
    to: NaiveDate,
    filter: &Filter,
    weights: &Weights,
) -> Vec<Point> {
    let mut points = Vec::new();
    let mut start = interval.start(from);
    while start <= to {
        let end = interval.next(start).pred_opt().unwrap_or(start);
        let (lo, hi) = (start.max(from), end.min(to));
        // A daily snapshot saw the tickets then; a history point is rebuilt, and only shown
        // where no snapshot was taken.
        let last = snapshots
            .iter()
            .filter(|s| (lo..=hi).contains(&s.day()))
            .max_by_key(|s| (s.source == Taken::Snapshot, s.at_ms));
        let report = last.map(|s| s.report(filter, weights));
        points.push(Point {
            from: lo,
            to: hi,
            snapshot_day: last.map(Snapshot::day),
            source: last.map(|s| s.source),
            total_tickets: report.as_ref().map(|r| r.total_tickets),
            score: report.map(|r| r.score),
        });
        start = interval.next(start);
    }
    points
}

#[cfg(test)]
mod tests {
    use super::super::filter::Cell;
    use super::super::rules::DAY_MS;
    use super::super::score::Counts;
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// A snapshot on `d` where `missing` of 10 tickets have no assignee.
    fn snapshot(d: &str, hour: i64, missing: u64) -> Snapshot {
        let mut counts = Counts {
            tickets: 10,
            ..Counts::default()
        };
        counts.builtin[3] = missing;
        let midnight = day(d)
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        Snapshot {
            at_ms: midnight + hour * DAY_MS / 24,
            cells: vec![(Cell::default(), counts)],
            ..Snapshot::default()
        }
    }

    #[test]
    fn each_week_shows_its_last_snapshot_and_empty_weeks_show_none() {
        // 2026-11-30 is a Monday.
        let snapshots = [
            snapshot("2026-12-01", 1, 0),
            snapshot("2026-12-03", 23, 5),
            snapshot("2026-12-03", 2, 0),
            snapshot("2026-12-16", 0, 1),
            snapshot("2027-01-05", 0, 0),
        ];
        let points = trend(
            &snapshots,
            Interval::Week,
            day("2026-12-02"),
            day("2026-12-20"),
            &Filter::default(),
            &Weights::default(),
        );
        let shown: Vec<_> = points
            .iter()
            .map(|p| (p.from.to_string(), p.snapshot_day.map(|d| d.to_string())))
            .collect();
        assert_eq!(
            shown,
            [
                ("2026-12-02".to_string(), Some("2026-12-03".to_string())),
                ("2026-12-07".to_string(), None),
                ("2026-12-14".to_string(), Some("2026-12-16".to_string())),
            ]
        );
        // 5 of 10 unassigned: step 5 instead of 100, so 95 × 12.5 % below the full score.
        assert_eq!(points[0].score, Some(100.0 - 95.0 * 0.125));
        assert_eq!(points[2].score, Some(100.0 - 25.0 * 0.125));
        assert_eq!(points[2].to, day("2026-12-20"));
        assert_eq!((points[1].score, points[1].total_tickets), (None, None));
    }

    #[test]
    fn a_period_shows_its_daily_snapshot_before_any_later_history_point() {
        let rebuilt = |d: &str, missing: u64| Snapshot {
            source: Taken::History,
            ..snapshot(d, 23, missing)
        };
        // 2026-11-30 and 2026-12-07 are Mondays.
        let kept = [
            rebuilt("2026-11-29", 10),
            snapshot("2026-12-02", 1, 0),
            rebuilt("2026-12-06", 10),
        ];
        let points = trend(
            &kept,
            Interval::Week,
            day("2026-11-23"),
            day("2026-12-06"),
            &Filter::default(),
            &Weights::default(),
        );
        let shown: Vec<_> = points
            .iter()
            .map(|p| (p.snapshot_day.unwrap().to_string(), p.source.unwrap()))
            .collect();
        assert_eq!(
            shown,
            [
                ("2026-11-29".to_string(), Taken::History),
                ("2026-12-02".to_string(), Taken::Snapshot),
            ]
        );
        assert_eq!(points[1].score, Some(100.0));
    }

    #[test]
    fn months_run_from_the_first_to_the_last_day() {
        let snapshots = [snapshot("2026-02-28", 0, 0), snapshot("2026-03-01", 0, 10)];
        let points = trend(
            &snapshots,
            Interval::Month,
            day("2026-01-15"),
            day("2026-03-31"),
            &Filter::default(),
            &Weights::default(),
        );
        let periods: Vec<_> = points
            .iter()
            .map(|p| (p.from.to_string(), p.to.to_string()))
            .collect();
        assert_eq!(
            periods,
            [
                ("2026-01-15".into(), "2026-01-31".into()),
                ("2026-02-01".into(), "2026-02-28".into()),
                ("2026-03-01".into(), "2026-03-31".into()),
            ]
        );
        assert_eq!(points[1].score, Some(100.0));
        assert_eq!(points[2].score, Some(100.0 - 95.0 * 0.125));
        assert_eq!(Interval::parse(" Month"), Ok(Interval::Month));
        assert!(Interval::parse("day").is_err());
    }
}
