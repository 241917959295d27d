//! EventBridge Scheduler's recurring schedule expressions, checked before anything is stored or
//! sent: the integration API refuses a bad one with a 400 naming the field, and the scheduler
//! adapter checks again, so no other expression can reach Scheduler.

use chrono::{DateTime, Utc};
use croner::parser::{CronParser, Seconds, Year};

/// Checks a recurring schedule expression before Scheduler sees it: `rate(N unit)` with a
/// positive whole N and unit `minute`, `hour` or `day` (singular for 1, plural otherwise, as
/// EventBridge requires), or `cron(...)` with six fields, one of day-of-month and day-of-week
/// being `?`.
pub fn validate_rate(expression: &str) -> Result<(), String> {
    if let Some(body) = inner(expression, "rate(") {
        validate_rate_body(body).map_err(|why| invalid_expression(expression, &why))
    } else if let Some(body) = inner(expression, "cron(") {
        validate_cron_body(body).map_err(|why| invalid_expression(expression, &why))
    } else {
        Err(invalid_expression(
            expression,
            "expected rate(N minutes|hours|days) or cron(minutes hours day-of-month month \
             day-of-week year)",
        ))
    }
}

/// The shortest time between two runs of a valid expression, in minutes: N of its unit for a
/// rate; for a cron, the smallest gap between the minutes its minute field names (60 when it
/// names one: at most one run an hour), so `cron(*/5 * * * ? *)` is 5 and `cron(0 9 * * ? *)` 60.
pub fn shortest_interval_minutes(expression: &str) -> Option<u32> {
    if expression.starts_with("rate(") {
        return rate_minutes(expression);
    }
    let minutes_field = inner(expression, "cron(")?.split_whitespace().next()?;
    let mut minutes = cron_minutes(minutes_field)?;
    minutes.sort_unstable();
    minutes.dedup();
    let gaps = minutes.windows(2).map(|w| w[1] - w[0]);
    let wrap = minutes.first()? + 60 - minutes.last()?;
    Some(gaps.chain([wrap]).min()?.min(60))
}

/// When a valid expression next fires after `after`: a rate, one period later; a cron, at its
/// next matching minute in UTC (the time zone of our schedules, which name none), read as
/// EventBridge reads it — six fields ending in the year, days of the week 1–7 from Sunday, `?`
/// for the day field left open, `L`, `W` and `#`. None when it never fires again (a past year).
pub fn next_run(expression: &str, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Some(minutes) = rate_minutes(expression) {
        return Some(after + chrono::Duration::minutes(i64::from(minutes)));
    }
    let cron = CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Required)
        .alternative_weekdays(true)
        .sloppy_ranges(true)
        .build()
        .parse(&format!("0 {}", inner(expression, "cron(")?))
        .ok()?;
    cron.find_next_occurrence(&after, false).ok()
}

/// The period of a `rate(...)` expression, in minutes; None for anything else (a cron's gaps
/// vary).
pub fn rate_minutes(expression: &str) -> Option<u32> {
    let (value, unit) = inner(expression, "rate(")?.split_once(' ')?;
    let value: u32 = value.parse().ok()?;
    let per = match unit.trim_end_matches('s') {
        "minute" => 1,
        "hour" => 60,
        "day" => 24 * 60,
        _ => return None,
    };
    value.checked_mul(per)
}

/// The minutes (0–59) a cron minute field names: `*`, `n`, `a-b`, each with an optional `/step`,
/// comma-separated.
fn cron_minutes(field: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" => (0, 59),
            _ => match range.split_once('-') {
                Some((a, b)) => (a.parse().ok()?, b.parse().ok()?),
                None => {
                    let n: u32 = range.parse().ok()?;
                    (n, if part.contains('/') { 59 } else { n })
                }
            },
        };
        if from > to || to > 59 {
            return None;
        }
        out.extend((from..=to).step_by(step as usize));
    }
    Some(out)
}

/// What lies between `{prefix}` and the closing parenthesis.
fn inner<'a>(expression: &'a str, prefix: &str) -> Option<&'a str> {
    expression.strip_prefix(prefix)?.strip_suffix(')')
}

fn invalid_expression(expression: &str, why: &str) -> String {
    format!("invalid schedule expression {expression:?}: {why}")
}

pub fn validate_rate_body(body: &str) -> Result<(), String> {
    let Some((value, unit)) = body.split_once(' ') else {
        return Err("a rate is `rate(N unit)`, e.g. rate(1 hour) or rate(15 minutes)".into());
    };
    let value = parse_positive(value)?;
    let singular = match unit {
        "minute" | "hour" | "day" => true,
        "minutes" | "hours" | "days" => false,
        _ => {
            return Err(format!(
                "unit {unit:?} is not one of minute(s), hour(s), day(s)"
            ));
        }
    };
    match (value == 1, singular) {
        (true, false) => Err(format!("a rate of 1 takes a singular unit, not {unit:?}")),
        (false, true) => Err(format!(
            "a rate of {value} takes a plural unit, not {unit:?}"
        )),
        _ => Ok(()),
    }
}

fn parse_positive(value: &str) -> Result<u32, String> {
    let parsed = value
        .chars()
        .all(|c| c.is_ascii_digit())
        .then(|| value.parse::<u32>().ok())
        .flatten();
    match parsed {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!("{value:?} is not a positive whole number")),
    }
}

fn validate_cron_body(body: &str) -> Result<(), String> {
    let fields: Vec<&str> = body.split_whitespace().collect();
    let [_, _, day_of_month, _, day_of_week, _] = fields[..] else {
        return Err(format!(
            "a cron expression has 6 fields (minutes hours day-of-month month day-of-week \
             year), this one has {}",
            fields.len()
        ));
    };
    if day_of_month != "?" && day_of_week != "?" {
        return Err("one of day-of-month and day-of-week must be `?`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_crons_that_scheduler_accepts_pass() {
        for expression in [
            "rate(1 minute)",
            "rate(5 minutes)",
            "rate(1 hour)",
            "rate(12 hours)",
            "rate(1 day)",
            "rate(7 days)",
            "cron(0 8 * * ? *)",
            "cron(15 10 ? * MON-FRI *)",
            "cron(0/30 * ? * * 2030)",
        ] {
            assert_eq!(validate_rate(expression), Ok(()), "{expression}");
        }
    }

    #[test]
    fn malformed_expressions_are_refused_with_the_reason() {
        for (expression, reason) in [
            ("", "expected rate("),
            ("1 hour", "expected rate("),
            ("at(2030-01-01T00:00:00)", "expected rate("),
            ("rate(1 hour", "expected rate("),
            ("RATE(1 hour)", "expected rate("),
            ("rate(hour)", "`rate(N unit)`"),
            ("rate(0 minutes)", "not a positive whole number"),
            ("rate(-5 minutes)", "not a positive whole number"),
            ("rate(+5 minutes)", "not a positive whole number"),
            ("rate(1.5 hours)", "not a positive whole number"),
            ("rate(99999999999 days)", "not a positive whole number"),
            ("rate(5 weeks)", "not one of minute(s)"),
            ("rate(5  minutes)", "not one of minute(s)"),
            ("rate(1 hours)", "singular unit"),
            ("rate(5 hour)", "plural unit"),
            ("cron(0 8 * * *)", "has 6 fields"),
            ("cron(0 8 * * * * *)", "has 6 fields"),
            ("cron(0 8 * * MON *)", "must be `?`"),
        ] {
            let err = validate_rate(expression).unwrap_err();
            assert!(err.contains(reason), "{expression}: {err}");
            assert!(err.contains(&format!("{expression:?}")), "{err}");
        }
    }

    #[test]
    fn the_shortest_interval_is_read_from_rates_and_cron_minutes() {
        for (expression, minutes) in [
            ("rate(1 minute)", 1),
            ("rate(15 minutes)", 15),
            ("rate(2 hours)", 120),
            ("rate(1 day)", 1440),
            ("cron(0 * * * ? *)", 60),
            ("cron(0 9 * * ? *)", 60),
            ("cron(*/5 * * * ? *)", 5),
            ("cron(0,30 * * * ? *)", 30),
            ("cron(10,50 * * * ? *)", 20),
            ("cron(0-4 * * * ? *)", 1),
            ("cron(* * * * ? *)", 1),
            ("cron(5/20 * * * ? *)", 20),
        ] {
            assert_eq!(
                shortest_interval_minutes(expression),
                Some(minutes),
                "{expression}"
            );
        }
        assert_eq!(shortest_interval_minutes("cron(MON * * * ? *)"), None);
    }

    #[test]
    fn the_next_run_is_read_as_eventbridge_reads_the_expression() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // 2026-12-07 is a Monday.
        let after = at("2026-12-07T10:20:30Z");
        for (expression, next) in [
            ("rate(15 minutes)", "2026-12-07T10:35:30Z"),
            ("rate(1 day)", "2026-12-08T10:20:30Z"),
            ("cron(0 8 * * ? *)", "2026-12-08T08:00:00Z"),
            ("cron(*/5 * * * ? *)", "2026-12-07T10:25:00Z"),
            ("cron(0/30 * * * ? *)", "2026-12-07T10:30:00Z"),
            // Days of the week count from Sunday = 1: 2 is Monday, 6 Friday.
            ("cron(15 9 ? * 6 *)", "2026-12-11T09:15:00Z"),
            ("cron(15 9 ? * MON-FRI *)", "2026-12-08T09:15:00Z"),
            ("cron(0 12 L * ? *)", "2026-12-31T12:00:00Z"),
            ("cron(0 6 ? * 2#1 *)", "2027-01-04T06:00:00Z"),
            ("cron(0 0 1 1 ? 2028)", "2028-01-01T00:00:00Z"),
        ] {
            assert_eq!(next_run(expression, after), Some(at(next)), "{expression}");
        }
        assert_eq!(next_run("cron(0 0 1 1 ? 2020)", after), None);
    }
}
