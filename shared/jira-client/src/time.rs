//! Jira's timestamp format.
//!
//! Jira writes instants as `2021-01-25T11:09:27.985+0800`: milliseconds and an offset *without*
//! a colon, which strict RFC 3339 parsers reject. Both the simulator and the client use these
//! two functions so that the format is defined in exactly one place.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f%z";

/// Formats an instant the way Jira does, in the given zone (Jira renders in the viewer's zone).
pub fn format<Tz: TimeZone>(instant: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    instant.format(FORMAT).to_string()
}

/// Parses a Jira timestamp; also accepts RFC 3339 (`+08:00`, `Z`) for robustness.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::<FixedOffset>::parse_from_str(text, FORMAT)
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_jira_offsets_without_colon() {
        let t = parse("2021-01-25T11:09:27.985+0800").unwrap();
        assert_eq!(t.timestamp_millis(), 1_611_544_167_985);
    }

    #[test]
    fn round_trips_through_a_far_zone() {
        let zone = FixedOffset::west_opt(10 * 3600).unwrap();
        let t = Utc.timestamp_millis_opt(1_700_000_000_123).unwrap();
        let text = format(&t.with_timezone(&zone));
        assert_eq!(text, "2023-11-14T12:13:20.123-1000");
        assert_eq!(parse(&text), Some(t));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse("yesterday"), None);
    }
}
