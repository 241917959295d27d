//! The page's charts as inline SVG, each in a `<figure>` with a text alternative and a table of
//! every number it draws. Every mark carries its number in `data-value`, so what the page shows
//! can be read back from its DOM.

use std::fmt::Write;

use crate::monitoring::HealthStatus;

/// Text for HTML element content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A number as the page prints it: whole numbers without decimals, others to one decimal, or
/// two below 1 (a rate of 0.03 deployments a day is not 0.0).
pub fn num(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else if value.abs() < 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.1}")
    }
}

const WIDTH: f64 = 720.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 22.0;

/// One mark of a chart: its label (a day, a category, a period) and value; `None` draws nothing
/// and reads "no data".
pub struct Mark<'a> {
    pub label: &'a str,
    pub value: Option<f64>,
    /// Drawn hollow (`data-hollow`): a value of the other kind a line's caption names.
    pub hollow: bool,
}

/// The figure around a chart: caption, the SVG with its title and description, and the table.
fn figure(
    id: &str,
    caption: &str,
    description: &str,
    svg_body: &str,
    height: f64,
    table: &str,
) -> String {
    format!(
        r#"<figure class="chart" data-chart="{id}">
<figcaption id="{id}-caption">{caption}</figcaption>
<svg role="img" aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMinYMin meet">
<title id="{id}-title">{caption}</title><desc id="{id}-desc">{description}</desc>
{svg_body}</svg>
<details><summary>Table of {caption_lc}</summary>{table}</details>
</figure>
"#,
        caption = esc(caption),
        caption_lc = esc(&caption.to_lowercase()),
        description = esc(description),
    )
}

fn table(headers: [&str; 2], rows: &[(String, String)]) -> String {
    let mut t = format!(
        "<table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        esc(headers[0]),
        esc(headers[1])
    );
    for (a, b) in rows {
        let _ = write!(
            t,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            esc(a),
            esc(b)
        );
    }
    t.push_str("</tbody></table>");
    t
}

/// The table of a chart whose marks are plain numbers ("no data" where a mark has none).
fn marks_table(headers: [&str; 2], marks: &[Mark]) -> String {
    let rows: Vec<(String, String)> = marks
        .iter()
        .map(|m| {
            let value = m.value.map_or_else(|| "no data".to_string(), num);
            (m.label.to_string(), value)
        })
        .collect();
    table(headers, &rows)
}

/// The base line of a plot `plot` high starting `top` from the top, with 0 and `max` written
/// beside it.
fn value_axis(top: f64, plot: f64, max: f64) -> String {
    format!(
        r##"<line x1="{LEFT}" y1="{y0}" x2="{WIDTH}" y2="{y0}" stroke="#555"/><text x="{lx}" y="{ty}" text-anchor="end" font-size="11">{max}</text><text x="{lx}" y="{y0}" text-anchor="end" font-size="11">0</text>
"##,
        y0 = top + plot,
        ty = top + 4.0,
        lx = LEFT - 4.0,
        max = num(max),
    )
}

/// Vertical bars, one per mark (days, periods), with the largest value on the axis.
pub fn columns(id: &str, caption: &str, unit: &str, marks: &[Mark]) -> String {
    let height = 160.0;
    let plot = height - BOTTOM - 8.0;
    let max = marks.iter().filter_map(|m| m.value).fold(0.0, f64::max);
    let step = (WIDTH - LEFT) / marks.len().max(1) as f64;
    let mut body = value_axis(8.0, plot, max);
    let every = (marks.len() / 8).max(1);
    for (i, m) in marks.iter().enumerate() {
        let x = LEFT + i as f64 * step;
        if let Some(v) = m.value {
            let h = if max > 0.0 { v / max * plot } else { 0.0 };
            let _ = writeln!(
                body,
                r##"<rect class="mark" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="#0072B2" data-label="{label}" data-value="{value}"><title>{label}: {value} {unit}</title></rect>"##,
                y = 8.0 + plot - h,
                w = (step * 0.8).max(1.0),
                label = esc(m.label),
                value = num(v),
                unit = esc(unit),
            );
        }
        if i % every == 0 {
            let _ = writeln!(
                body,
                r#"<text x="{x:.1}" y="{y}" font-size="10">{}</text>"#,
                esc(short_day(m.label)),
                y = height - 6.0,
            );
        }
    }
    let total: f64 = marks.iter().filter_map(|m| m.value).sum();
    let description = format!(
        "{} bars; {} {unit} in all, at most {} on one.",
        marks.len(),
        num(total),
        num(max)
    );
    figure(
        id,
        caption,
        &description,
        &body,
        height,
        &marks_table(["", unit], marks),
    )
}

/// `2026-12-05` → `12-05`; other labels as they are.
fn short_day(label: &str) -> &str {
    match label.len() == 10 && label.as_bytes()[4] == b'-' {
        true => &label[5..],
        false => label,
    }
}

/// Horizontal bars of percentages, one per row, with the figure written beside each.
pub fn percent_bars(id: &str, caption: &str, marks: &[Mark]) -> String {
    let row = 22.0;
    let label_width = 190.0;
    let height = row * marks.len().max(1) as f64 + 8.0;
    let span = WIDTH - label_width - 60.0;
    let mut body = String::new();
    for (i, m) in marks.iter().enumerate() {
        let y = 4.0 + i as f64 * row;
        let _ = writeln!(
            body,
            r#"<text x="{tx}" y="{ty:.1}" text-anchor="end" font-size="12">{label}</text>"#,
            tx = label_width - 6.0,
            ty = y + 14.0,
            label = esc(m.label),
        );
        match m.value {
            Some(v) => {
                let _ = writeln!(
                    body,
                    r##"<rect class="mark" x="{label_width}" y="{y:.1}" width="{w:.1}" height="16" fill="#E69F00" data-label="{label}" data-value="{value}"><title>{label}: {value} %</title></rect><text x="{vx:.1}" y="{ty:.1}" font-size="12">{value} %</text>"##,
                    w = v.clamp(0.0, 100.0) / 100.0 * span,
                    vx = label_width + v.clamp(0.0, 100.0) / 100.0 * span + 4.0,
                    ty = y + 13.0,
                    label = esc(m.label),
                    value = num(v),
                );
            }
            None => {
                let _ = writeln!(
                    body,
                    r#"<text x="{label_width}" y="{ty:.1}" font-size="12" font-style="italic">skipped</text>"#,
                    ty = y + 13.0,
                );
            }
        }
    }
    let rows: Vec<(String, String)> = marks
        .iter()
        .map(|m| {
            let value = m
                .value
                .map_or("skipped".to_string(), |v| format!("{} %", num(v)));
            (m.label.to_string(), value)
        })
        .collect();
    let description = format!(
        "The share of tickets missing each of {} categories.",
        marks.len()
    );
    figure(
        id,
        caption,
        &description,
        &body,
        height,
        &table(["category", "misses"], &rows),
    )
}

/// A line over periods, a point per value; a period without a value breaks the line.
pub fn line(id: &str, caption: &str, max: f64, marks: &[Mark]) -> String {
    let height = 150.0;
    let plot = height - BOTTOM - 12.0;
    let step = (WIDTH - LEFT - 40.0) / (marks.len().max(2) - 1) as f64;
    let mut body = value_axis(12.0, plot, max);
    let point = |i: usize, v: f64| {
        (
            LEFT + 10.0 + i as f64 * step,
            12.0 + plot - v.clamp(0.0, max) / max.max(f64::EPSILON) * plot,
        )
    };
    let mut run: Vec<String> = Vec::new();
    let mut paths = String::new();
    for (i, m) in marks.iter().enumerate() {
        match m.value {
            Some(v) => {
                let (x, y) = point(i, v);
                run.push(format!("{x:.1},{y:.1}"));
            }
            None if !run.is_empty() => {
                let _ = writeln!(
                    paths,
                    r##"<polyline points="{}" fill="none" stroke="#0072B2" stroke-width="2"/>"##,
                    run.join(" ")
                );
                run.clear();
            }
            None => {}
        }
    }
    if !run.is_empty() {
        let _ = writeln!(
            paths,
            r##"<polyline points="{}" fill="none" stroke="#0072B2" stroke-width="2"/>"##,
            run.join(" ")
        );
    }
    body.push_str(&paths);
    let every = (marks.len() / 6).max(1);
    for (i, m) in marks.iter().enumerate() {
        let (x, _) = point(i, 0.0);
        if let Some(v) = m.value {
            let (_, y) = point(i, v);
            let _ = writeln!(
                body,
                r##"<circle class="mark" cx="{x:.1}" cy="{y:.1}" r="4" fill="{fill}" stroke="#0072B2" stroke-width="1.5" data-label="{label}" data-value="{value}"{hollow}><title>{label}: {value}</title></circle>"##,
                label = esc(m.label),
                value = num(v),
                fill = if m.hollow { "#FFFFFF" } else { "#0072B2" },
                hollow = if m.hollow {
                    r#" data-hollow="true""#
                } else {
                    ""
                },
            );
        }
        if i % every == 0 {
            let _ = writeln!(
                body,
                r#"<text x="{x:.1}" y="{y}" font-size="10" text-anchor="middle">{}</text>"#,
                esc(short_day(m.label)),
                y = height - 6.0,
            );
        }
    }
    let known = marks.iter().filter(|m| m.value.is_some()).count();
    let description = format!(
        "{} periods, {known} with a value, on a scale of 0 to {}.",
        marks.len(),
        num(max)
    );
    figure(
        id,
        caption,
        &description,
        &body,
        height,
        &marks_table(["period", "score"], marks),
    )
}

/// A state per day as a coloured segment with its own symbol, so no state is told by colour
/// alone; the legend names them.
pub struct Segment<'a> {
    pub label: &'a str,
    pub state: HealthStatus,
    pub detail: String,
}

/// Fill and symbol per state: the Okabe–Ito palette (distinct under the common colour-vision
/// deficiencies), each with a symbol of its own.
pub fn state_style(state: HealthStatus) -> (&'static str, &'static str) {
    match state {
        HealthStatus::Healthy => ("#009E73", "✓"),
        HealthStatus::Unhealthy => ("#D55E00", "✗"),
        HealthStatus::Pending => ("#F0E442", "…"),
        HealthStatus::NoData => ("#BBBBBB", "–"),
    }
}

/// Every status, in the legend's order.
const STATES: [HealthStatus; 4] = [
    HealthStatus::Healthy,
    HealthStatus::Unhealthy,
    HealthStatus::Pending,
    HealthStatus::NoData,
];

pub fn timeline(id: &str, caption: &str, segments: &[Segment]) -> String {
    let height = 76.0;
    let step = (WIDTH - 8.0) / segments.len().max(1) as f64;
    let mut body = String::new();
    let every = (segments.len() / 8).max(1);
    for (i, s) in segments.iter().enumerate() {
        let (fill, symbol) = state_style(s.state);
        let x = 4.0 + i as f64 * step;
        let _ = writeln!(
            body,
            r##"<g class="mark" data-label="{label}" data-value="{state}"><rect x="{x:.1}" y="6" width="{w:.1}" height="34" fill="{fill}" stroke="#fff"/><text x="{cx:.1}" y="29" text-anchor="middle" font-size="16" fill="#000">{symbol}</text><title>{label}: {state} ({detail})</title></g>"##,
            w = (step - 1.0).max(1.0),
            cx = x + step / 2.0,
            label = esc(s.label),
            state = s.state.name(),
            detail = esc(&s.detail),
        );
        if i % every == 0 {
            let _ = writeln!(
                body,
                r#"<text x="{x:.1}" y="56" font-size="10">{}</text>"#,
                esc(short_day(s.label))
            );
        }
    }
    let mut legend_x = 4.0;
    for state in STATES {
        let (fill, symbol) = state_style(state);
        let state = state.name();
        let _ = writeln!(
            body,
            r##"<rect x="{legend_x}" y="62" width="12" height="12" fill="{fill}"/><text x="{tx}" y="72" font-size="11">{symbol} {state}</text>"##,
            tx = legend_x + 16.0,
        );
        legend_x += 110.0;
    }
    let rows: Vec<(String, String)> = segments
        .iter()
        .map(|s| {
            let shown = format!("{} ({})", s.state.name(), s.detail);
            (s.label.to_string(), shown)
        })
        .collect();
    let count = |state| segments.iter().filter(|s| s.state == state).count();
    let description = format!(
        "{} days: {} healthy, {} unhealthy, {} pending, {} without data.",
        segments.len(),
        count(HealthStatus::Healthy),
        count(HealthStatus::Unhealthy),
        count(HealthStatus::Pending),
        count(HealthStatus::NoData),
    );
    figure(
        id,
        caption,
        &description,
        &body,
        height + 4.0,
        &table(["day", "availability"], &rows),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_in_content_and_attributes() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let page = columns(
            "c",
            "<script>",
            "tickets",
            &[Mark {
                label: "\"><script>",
                value: Some(1.0),
                hollow: false,
            }],
        );
        assert!(!page.contains("<script>"), "{page}");
    }

    #[test]
    fn every_mark_carries_its_number_and_the_table_lists_every_one() {
        let marks = [
            Mark {
                label: "2026-12-01",
                value: Some(3.0),
                hollow: false,
            },
            Mark {
                label: "2026-12-02",
                value: None,
                hollow: false,
            },
            Mark {
                label: "2026-12-03",
                value: Some(12.5),
                hollow: false,
            },
        ];
        let svg = columns("t", "Tickets", "tickets", &marks);
        assert_eq!(svg.matches("class=\"mark\"").count(), 2);
        assert!(svg.contains(r#"data-label="2026-12-01" data-value="3""#));
        assert!(svg.contains(r#"data-label="2026-12-03" data-value="12.5""#));
        assert!(svg.contains("<tr><th scope=\"row\">2026-12-02</th><td>no data</td></tr>"));
        let line = line("l", "Score", 100.0, &marks);
        assert_eq!(
            line.matches("<polyline").count(),
            2,
            "a gap breaks the line"
        );
    }

    #[test]
    fn every_state_has_its_own_symbol_and_colour() {
        let styles: Vec<_> = STATES.into_iter().map(state_style).collect();
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert!(a.0 != b.0 && a.1 != b.1);
            }
        }
    }
}
