//! The page as one HTML document: styles inline, charts as inline SVG, no script, and a content
//! security policy that forbids fetching anything, so the file shows the same offline, attached
//! to a ticket or served by the API.

use std::fmt::Write;

use super::chart::{self, Mark, Segment, esc, num};
use super::{HygieneSection, Page};
use crate::dora::{Band, Document, words};
use crate::hygiene::Taken;
use crate::monitoring::{DailyCount, Monitoring};

/// The page's styles: its palette, which other pages of ours (the local console) share.
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:780px;padding:16px;color:#1b1b1b;background:#fff}
h1{font-size:1.5em}h2{border-bottom:2px solid #0072B2;padding-bottom:4px;margin-top:2em}
.figures{display:flex;flex-wrap:wrap;gap:12px;margin:0;padding:0}
.figures div{border:1px solid #ccc;border-radius:6px;padding:8px 12px;min-width:140px}
.figures dt{font-size:.85em;color:#444}.figures dd{margin:0;font-size:1.5em;font-weight:600}
.figures dd small{font-size:.55em;font-weight:400;color:#444}
.badge{display:inline-block;padding:4px 10px;border-radius:12px;font-weight:600;border:2px solid #000}
figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}svg{width:100%;height:auto}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}
td{font-variant-numeric:tabular-nums}.note{color:#444;font-size:.9em}";

/// What the page may load: nothing but its own inline styles. The page carries it, and the API
/// sends it as a header too.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// The whole document.
pub fn render(page: &Page) -> String {
    let title = format!("sei-jira report: {}", page.integration);
    let mut html = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{STYLE}</style></head>
<body><header><h1>{title}</h1><p class="note">Generated {at} (UTC) over the last {days} days, {from} to {to}.</p></header>
"#,
        title = esc(&title),
        at = page.generated_at.format("%Y-%m-%d %H:%M"),
        days = page.monitoring.range.days(),
        from = page.monitoring.from,
        to = page.monitoring.to,
    );
    html.push_str(&monitoring(&page.monitoring));
    html.push_str(&hygiene(&page.hygiene));
    html.push_str(&dora(&page.dora));
    html.push_str("</body></html>\n");
    html
}

fn figure(key: &str, name: &str, value: &str, unit: &str) -> String {
    format!(
        r#"<div><dt>{name}</dt><dd data-figure="{key}">{value}{unit}</dd></div>"#,
        name = esc(name),
        value = esc(value),
        unit = if unit.is_empty() {
            String::new()
        } else {
            format!(" <small>{}</small>", esc(unit))
        }
    )
}

fn daily_marks(daily: &[DailyCount]) -> Vec<(String, f64)> {
    daily
        .iter()
        .map(|d| (d.date.to_string(), d.count as f64))
        .collect()
}

fn marks(values: &[(String, f64)]) -> Vec<Mark<'_>> {
    values
        .iter()
        .map(|(label, v)| Mark {
            label,
            value: Some(*v),
            hollow: false,
        })
        .collect()
}

/// The monitoring section: health badge, figures and the availability timeline.
pub fn monitoring(m: &Monitoring) -> String {
    let status = m.health.status.name();
    let (fill, symbol) = chart::state_style(m.health.status);
    let mut s = format!(
        r#"<section id="monitoring"><h2>Monitoring</h2>
<p><span class="badge" style="background:{fill}" data-health="{status}">{symbol} {status}</span> {reason}</p>
<dl class="figures">{a}{b}{c}{d}</dl>
"#,
        reason = esc(&m.health.reason),
        a = figure(
            "tickets-total",
            "Tickets stored",
            &m.tickets.total.to_string(),
            ""
        ),
        b = figure(
            "tickets-ingested",
            "Tickets ingested",
            &m.tickets.ingested_in_range.to_string(),
            "in range"
        ),
        c = figure(
            "projects-total",
            "Projects onboarded",
            &m.projects.total.to_string(),
            ""
        ),
        d = figure(
            "projects-onboarded",
            "Projects newly onboarded",
            &m.projects.onboarded_in_range.to_string(),
            "in range"
        ),
    );
    let days: Vec<String> = m.availability.iter().map(|d| d.date.to_string()).collect();
    let segments: Vec<Segment> = m
        .availability
        .iter()
        .zip(&days)
        .map(|(d, day)| Segment {
            label: day,
            state: d.status,
            detail: format!("{} runs, {} failed", d.runs, d.failed_runs),
        })
        .collect();
    s.push_str(&chart::timeline(
        "availability",
        "Data availability per day",
        &segments,
    ));
    let tickets = daily_marks(&m.tickets.daily);
    s.push_str(&chart::columns(
        "tickets-daily",
        "Tickets ingested per day",
        "tickets",
        &marks(&tickets),
    ));
    let projects = daily_marks(&m.projects.daily);
    s.push_str(&chart::columns(
        "projects-daily",
        "Projects onboarded per day",
        "projects",
        &marks(&projects),
    ));
    s.push_str("</section>\n");
    s
}

fn hygiene(h: &HygieneSection) -> String {
    let r = &h.report;
    let mut s = format!(
        r#"<section id="hygiene" data-evaluated-at="{rfc3339}"><h2>Hygiene</h2>
<dl class="figures">{a}{b}</dl>
<p class="note">Evaluated {at} (UTC). Each category's share of misses maps to a step score; the score is the sum of the steps weighted by the categories' weights.</p>
"#,
        // With no ticket there is nothing to score: 0 would read as the worst hygiene.
        a = match r.total_tickets {
            0 => figure("hygiene-score", "Hygiene score", "no data", ""),
            _ => figure("hygiene-score", "Hygiene score", &num(r.score), "of 100"),
        },
        b = figure(
            "hygiene-tickets",
            "Tickets scored",
            &r.total_tickets.to_string(),
            ""
        ),
        at = r.evaluated_at.format("%Y-%m-%d %H:%M"),
        rfc3339 = r
            .evaluated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    let bars: Vec<Mark> = r
        .categories
        .iter()
        .map(|c| Mark {
            label: &c.name,
            value: if c.skipped { None } else { c.miss_percent },
            hollow: false,
        })
        .collect();
    s.push_str(&chart::percent_bars(
        "hygiene-categories",
        "Tickets missing each category",
        &bars,
    ));
    s.push_str(
        "<table data-table=\"hygiene\"><thead><tr><th scope=\"col\">category</th><th scope=\"col\">misses</th><th scope=\"col\">of</th><th scope=\"col\">step score</th><th scope=\"col\">weight</th><th scope=\"col\">weighted</th></tr></thead><tbody>",
    );
    for c in &r.categories {
        match (c.misses, c.step_score, &c.skipped_reason) {
            (Some(misses), Some(step), None) => {
                let _ = write!(
                    s,
                    r#"<tr data-category="{name}"><th scope="row">{name}</th><td data-misses="{misses}">{misses}</td><td>{total}</td><td>{step}</td><td>{weight}</td><td>{weighted}</td></tr>"#,
                    name = esc(&c.name),
                    total = c.total,
                    weight = num(c.weight),
                    weighted = num(c.weighted_score),
                );
            }
            (_, _, reason) => {
                let _ = write!(
                    s,
                    r#"<tr data-category="{name}"><th scope="row">{name}</th><td colspan="5">skipped{why}</td></tr>"#,
                    name = esc(&c.name),
                    why = reason
                        .as_deref()
                        .map(|r| format!(": {}", esc(r)))
                        .unwrap_or_default(),
                );
            }
        }
    }
    s.push_str("</tbody></table>\n");
    let labels: Vec<String> = h.trend.iter().map(|p| p.from.to_string()).collect();
    let points: Vec<Mark> = h
        .trend
        .iter()
        .zip(&labels)
        .map(|(p, label)| Mark {
            label,
            value: p.score,
            hollow: p.source == Some(Taken::History),
        })
        .collect();
    let caption = match points.iter().any(|m| m.hollow) {
        true => {
            "Hygiene score per week (hollow: rebuilt from the changelogs; filled: the day's snapshot)"
        }
        false => "Hygiene score per week",
    };
    s.push_str(&chart::line("hygiene-trend", caption, 100.0, &points));
    s.push_str("</section>\n");
    s
}

/// One DORA figure: value (`data-value`, in its unit), as read (`shown`), sample size (`size`,
/// and in words) and band, or why it has none.
fn metric(
    key: &str,
    name: &str,
    value: Option<f64>,
    shown: String,
    (size, sample): (usize, String),
    band: Option<Band>,
) -> String {
    format!(
        r#"<div data-metric="{key}" data-value="{value}" data-sample="{size}" data-band="{band_key}"><dt>{name}</dt><dd>{shown}</dd><dd><small>{sample} · band: <strong>{band}</strong></small></dd></div>"#,
        value = value.map_or(String::new(), num),
        band_key = band.map_or(String::new(), |b| format!("{b:?}").to_lowercase()),
        band = esc(&words::band(band, size)),
        name = esc(name),
        shown = esc(&shown),
        sample = esc(&sample),
    )
}

/// A figure as read, or "no data".
fn shown(value: Option<f64>, read: impl Fn(f64) -> String) -> String {
    value.map_or("no data".to_string(), read)
}

fn dora(documents: &[Document]) -> String {
    let mut s = String::from("<section id=\"dora\"><h2>DORA</h2>\n");
    if documents.is_empty() {
        s.push_str("<p class=\"note\">No DORA profile is kept for this integration: keep one (POST /integrations/{id}/dora/profiles) to see time to restore, change failure rate, deployment frequency and lead time here.</p>\n");
    }
    for d in documents {
        let m = &d.metrics;
        let cfr = &m.change_failure_rate;
        let _ = write!(
            s,
            r#"<h3>Profile “{name}”</h3><p class="note">{from} to {to}, by {granularity:?}, {aggregation:?}{recomputing}.</p>
<dl class="figures">{a}{b}{c}{d}</dl>
"#,
            name = esc(&d.profile),
            from = d.request.from,
            to = d.request.to,
            granularity = d.request.granularity,
            aggregation = d.request.aggregation,
            recomputing = if d.recomputing {
                "; counted from every issue while the profile is classified again"
            } else {
                ""
            },
            a = metric(
                "time_to_restore",
                "Time to restore",
                m.time_to_restore.hours,
                shown(m.time_to_restore.hours, words::duration),
                (
                    m.time_to_restore.sample,
                    format!(
                        "incidents restored: {}, open: {}",
                        m.time_to_restore.sample,
                        m.incidents.len() - m.time_to_restore.sample
                    ),
                ),
                m.time_to_restore.band,
            ),
            b = metric(
                "change_failure_rate",
                "Change failure rate",
                cfr.rate.map(|r| r * 100.0),
                shown(cfr.rate, |r| format!("{} %", num(r * 100.0))),
                (
                    cfr.deployed,
                    format!("changes failed: {} of {}", cfr.failed, cfr.deployed),
                ),
                cfr.band,
            ),
            c = metric(
                "deployment_frequency",
                "Deployment frequency",
                m.deployment_frequency.per_day,
                shown(m.deployment_frequency.per_day, |d| {
                    format!("{} per day", num(d))
                }),
                (
                    m.deployment_frequency.deployments,
                    format!("deployments: {}", m.deployment_frequency.deployments),
                ),
                m.deployment_frequency.band,
            ),
            d = metric(
                "lead_time",
                "Lead time for changes",
                m.lead_time.hours,
                shown(m.lead_time.hours, words::duration),
                (
                    m.lead_time.sample,
                    format!("changes: {}", m.lead_time.sample)
                ),
                m.lead_time.band,
            ),
        );
        let periods: Vec<(String, f64)> = m
            .deployment_frequency
            .periods
            .iter()
            .map(|p| (p.start.to_string(), p.count as f64))
            .collect();
        let id = format!(
            "deployments-{}",
            d.profile_id.as_deref().unwrap_or("profile")
        );
        s.push_str(&chart::columns(
            &id,
            "Deployments per period",
            "deployments",
            &marks(&periods),
        ));
    }
    s.push_str("</section>\n");
    s
}
