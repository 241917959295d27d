//! Dates in JQL as Jira reads them: absolute literals (`"yyyy/MM/dd HH:mm"`, `"yyyy-MM-dd"`,
//! …) have minute granularity and no zone, and are read in the *searching user's* time zone;
//! epoch milliseconds and relative periods (`-90d`, `-4h`, `"-4w 2d"`) are zone-free; and the
//! date functions (`startOfDay()`, …).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

use super::field::SearchContext;
use super::parse::Operand;

/// Reads one date operand as an instant (epoch ms).
pub fn date_value(o: &Operand, field: &str, ctx: SearchContext) -> Result<i64, String> {
    let invalid = |v: &str| {
        format!(
            "Date value '{v}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
        )
    };
    let text = match o {
        Operand::Value { text, .. } => text.trim().to_string(),
        Operand::Function { name, args } => {
            return date_function(name, args, ctx).ok_or_else(|| {
                format!("Unable to find JQL function '{name}({})'.", args.join(","))
            });
        }
        _ => return Err(invalid(&o.text())),
    };
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
        return text.parse::<i64>().map_err(|_| invalid(&text));
    }
    if let Some(offset) = period(&text) {
        return ctx.now_ms.checked_add(offset).ok_or_else(|| invalid(&text));
    }
    let local = ["%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok())
        .or_else(|| {
            ["%Y/%m/%d", "%Y-%m-%d"]
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(&text, f).ok())
                .map(|d| d.and_time(NaiveTime::MIN))
        })
        .ok_or_else(|| invalid(&text))?;
    ctx.zone
        .from_local_datetime(&local)
        .earliest()
        // A local time skipped by a DST jump: Jira moves it forward; an hour later exists.
        .or_else(|| {
            ctx.zone
                .from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| invalid(&text))
}

/// `-90d`, `4w 2d`, `"-4w -2d"`, `+1h`: units y, M, w, d, h, m. Returns milliseconds; `None`
/// if malformed or out of range. `default_unit` applies to a bare number (function arguments:
/// "the natural period of the function").
fn period_with(text: &str, default_unit: Option<char>) -> Option<i64> {
    let mut total = 0i64;
    let mut sign = 1i64;
    let mut any = false;
    for part in text.split_whitespace() {
        let (s, body) = match part.as_bytes().first()? {
            b'-' => (-1, &part[1..]),
            b'+' => (1, &part[1..]),
            _ => (sign, part),
        };
        sign = s;
        let last = body.chars().last()?;
        let (digits, unit) = if last.is_ascii_digit() {
            (body, default_unit?)
        } else {
            (&body[..body.len() - last.len_utf8()], last)
        };
        let n: i64 = digits.parse().ok()?;
        let ms: i64 = match unit {
            'y' => 365 * 86_400_000,
            'M' => 30 * 86_400_000,
            'w' => 7 * 86_400_000,
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' => 60_000,
            _ => return None,
        };
        total = total.checked_add(s.checked_mul(n)?.checked_mul(ms)?)?;
        any = true;
    }
    any.then_some(total)
}

fn period(text: &str) -> Option<i64> {
    period_with(text, None)
}

fn date_function(name: &str, args: &[String], ctx: SearchContext) -> Option<i64> {
    let offset = match args.first() {
        Some(a) => period_with(a, Some('d'))?,
        None => 0,
    };
    let now = ctx.zone.timestamp_millis_opt(ctx.now_ms).single()?;
    match name.to_ascii_lowercase().as_str() {
        "now" => Some(ctx.now_ms),
        "startofday" => {
            let start = now.date_naive().and_time(NaiveTime::MIN);
            Some(
                ctx.zone
                    .from_local_datetime(&start)
                    .earliest()?
                    .timestamp_millis()
                    .checked_add(offset)?,
            )
        }
        "endofday" => {
            let start = now.date_naive().and_time(NaiveTime::MIN) + chrono::Duration::days(1);
            Some(
                ctx.zone
                    .from_local_datetime(&start)
                    .earliest()?
                    .timestamp_millis()
                    .checked_add(offset - 1)?,
            )
        }
        _ => None,
    }
}
