//! The integration's reports: **Monitoring** (the report page's section, 7 or 30 days, the runs
//! with their errors, **Sync now** with its live progress), **Hygiene** (the report with
//! weights and filters, custom hygiene misses, SLAs, the trend) and **DORA** (profiles and
//! their figures). Every figure is the API's answer; forms change things through the API.

use axum::Json;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{Markup, PreEscaped, html};
use sei_jira_core::monitoring::Monitoring;
use sei_jira_core::report::html::monitoring as monitoring_section;
use sei_jira_core::store::{RunLog, RunRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Answer, seg};
use super::form::{Fields, split_list};
use super::integrations::integration;
use super::page::{Heading, Input, Problem, Tab, button_form, failed, page, problem_box};
use super::{Console, Shared};

/// Runs listed on the monitoring page, newest first.
const RUNS_SHOWN: usize = 15;

#[derive(Deserialize, Default)]
pub struct MonitoringAsk {
    range: Option<String>,
    /// Set after Sync now: the page follows the first run numbered above it.
    after: Option<u64>,
    created: Option<String>,
}

fn heading<'a>(i: &'a Value, tab: Tab) -> Heading<'a> {
    Heading {
        id: i["id"].as_str().unwrap_or_default(),
        name: i["name"].as_str().unwrap_or_default(),
        tab,
    }
}

/// `GET /console/i/{id}?range=7d|30d`.
pub async fn monitoring(
    State(console): Shared,
    Path(id): Path<String>,
    Query(ask): Query<MonitoringAsk>,
) -> Response {
    let i = match integration(&console, &id).await {
        Ok(i) => i,
        Err(page) => return page,
    };
    let range = if ask.range.as_deref() == Some("30d") {
        "30d"
    } else {
        "7d"
    };
    let answer = console
        .api
        .get(&format!(
            "/integrations/{}/monitoring?range={range}",
            seg(&id)
        ))
        .await;
    let shown: Monitoring = match serde_json::from_value(answer.body.clone()) {
        Ok(m) if answer.ok() => m,
        _ => return failed(answer.status, &answer.message()),
    };
    let since = shown
        .from
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis());
    let mut runs = console
        .store
        .list_runs(&id, since.unwrap_or_default())
        .await
        .unwrap_or_default();
    runs.sort_by_key(|r| std::cmp::Reverse(r.started_ms));
    runs.truncate(RUNS_SHOWN);
    let live = console.board.get(&id);
    let follow = match (ask.after, &live) {
        (Some(after), _) => Some(after),
        // A run under way when the page is opened: follow it too.
        (None, Some(l)) if l.ended.is_none() => Some(l.number - 1),
        _ => None,
    };
    let body = html! {
        @if ask.created.is_some() {
            p.ok role="status" { "Created. The first sync starts now; this page shows it." }
        }
        form.row method="get" action={"/console/i/" (id)} {
            label.inline for="range" { "Show the last" }
            select id="range" name="range" {
                option value="7d" selected[range == "7d"] { "7 days" }
                option value="30d" selected[range == "30d"] { "30 days" }
            }
            button.secondary type="submit" { "Show" }
        }
        form.inline-form method="post" action={"/console/i/" (id) "/sync"} {
            button type="submit" { "Sync now" }
        }
        @if let Some(after) = follow {
            div #progress role="status" aria-live="polite" data-url={"/console/i/" (id) "/progress?after=" (after)} {
                progress max="1" value="0" {}
                " " span data-progress { "Sync asked for; starting…" }
            }
        }
        (PreEscaped(monitoring_section(&shown)))
        section #runs {
            h2 { "Runs" }
            @if runs.is_empty() { p { "No run in this range yet." } }
            @else { (runs_table(&runs)) }
        }
    };
    page("Monitoring", Some(heading(&i, Tab::Monitoring)), body)
}

fn time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn runs_table(runs: &[RunRecord]) -> Markup {
    html! {
        table {
            thead { tr { th { "Started (UTC)" } th { "Outcome" } th { "New" } th { "Updated" } th { "Deleted" } th { "Requests" } th { "Errors and warnings" } } }
            tbody {
                @for r in runs {
                    @let outcome = serde_json::to_value(r.outcome).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
                    tr data-outcome=(outcome) {
                        td { (time(r.started_ms)) }
                        td { (outcome) }
                        td { (r.counts.issues_new) }
                        td { (r.counts.issues_updated) }
                        td { (r.counts.issues_deleted) }
                        td { (r.counts.requests) }
                        td { @for e in &r.errors { div { (e.message) } } }
                    }
                }
            }
        }
    }
}

/// `POST /console/i/{id}/sync`: asks the API for a sync, then follows it on the monitoring page.
pub async fn sync_now(State(console): Shared, Path(id): Path<String>) -> Response {
    let before = console.board.get(&id);
    let answer = console
        .api
        .send(
            Method::POST,
            &format!("/integrations/{}/sync", seg(&id)),
            &json!({}),
        )
        .await;
    if !answer.ok() {
        return failed(answer.status, &answer.message());
    }
    let after = match &before {
        // Joined a run of this process under way: follow that one.
        Some(live) if live.ended.is_none() => live.number - 1,
        Some(live) => live.number,
        None => 0,
    };
    Redirect::to(&format!("/console/i/{}?after={after}", seg(&id))).into_response()
}

#[derive(Deserialize)]
pub struct ProgressAsk {
    #[serde(default)]
    after: u64,
}

/// `GET /console/i/{id}/progress?after=N`: the first run numbered above N, as it goes.
pub async fn progress(
    State(console): Shared,
    Path(id): Path<String>,
    Query(ask): Query<ProgressAsk>,
) -> Json<Value> {
    let Some(live) = console.board.get(&id).filter(|l| l.number > ask.after) else {
        return Json(json!({"state": "waiting"}));
    };
    let t = &live.tally;
    Json(json!({
        "state": if live.ended.is_some() { "ended" } else { "running" },
        "stored": t.stored,
        "expected": t.total(),
        "units": t.units,
        "units_done": t.finished,
    }))
}

/// The API's hygiene parameters the page passes on as they are.
const HYGIENE_FILTERS: [(&str, &str, &str); 4] = [
    (
        "projects",
        "Projects",
        "Keys, comma-separated; all when empty.",
    ),
    ("issue_types", "Issue types", "Comma-separated."),
    ("priorities", "Priorities", "Comma-separated."),
    ("statuses", "Statuses", "Comma-separated."),
];

/// A weight's input on the hygiene page is named `w.` and the category's name.
const WEIGHT: &str = "w.";

/// `GET /console/i/{id}/hygiene`: filters and weights in the query, as the form sends them.
pub async fn hygiene(
    State(console): Shared,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let asked = Fields::parse(query.unwrap_or_default().as_bytes());
    hygiene_page(&console, &id, &asked, None).await
}

/// The API's query for what the page's form asked: the filters as they are, the weights as one
/// `weights` list.
fn hygiene_query(asked: &Fields) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, _, _) in HYGIENE_FILTERS {
        if !asked.get(name).is_empty() {
            query.append_pair(name, asked.get(name));
        }
    }
    let weights: Vec<String> = asked
        .pairs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.strip_prefix(WEIGHT)?, v.trim())))
        .collect();
    if !weights.is_empty() {
        query.append_pair("weights", &weights.join(","));
    }
    query.finish()
}

async fn hygiene_page(
    console: &Console,
    id: &str,
    asked: &Fields,
    change: Option<(&Problem, &Fields)>,
) -> Response {
    let i = match integration(console, id).await {
        Ok(i) => i,
        Err(page) => return page,
    };
    let query = hygiene_query(asked);
    let base = format!("/integrations/{}/hygiene", seg(id));
    let paths = [
        format!("{base}?{query}"),
        format!("{base}/trend?interval=week"),
        format!("{base}/criteria"),
        format!("{base}/slas"),
    ];
    let (report, trend, criteria, slas) = tokio::join!(
        console.api.get(&paths[0]),
        console.api.get(&paths[1]),
        console.api.get(&paths[2]),
        console.api.get(&paths[3]),
    );
    let report_problem = (!report.ok()).then(|| Problem::from_message(report.message()));
    let empty = Fields::default();
    let (change_problem, typed) = match change {
        Some((p, typed)) => (Some(p), typed),
        None => (None, &empty),
    };
    let for_form = |form: &str| change_problem.filter(|_| typed.get("form") == form);
    let body = html! {
        form.card method="get" action={"/console/i/" (id) "/hygiene"} {
            h2 { "Hygiene report" }
            (problem_box(report_problem.as_ref()))
            @if report.ok() { (hygiene_report(&report.body, asked)) }
            fieldset {
                legend { "Filters" }
                @for (name, label, hint) in HYGIENE_FILTERS {
                    (Input::text(label, name, asked.get(name)).hint(hint).render(report_problem.as_ref()))
                }
            }
            button type="submit" { "Apply weights and filters" }
        }
        section.card #trend {
            h2 { "Trend (weekly)" }
            @if trend.ok() { (trend_table(&trend.body)) } @else { p.error { (trend.message()) } }
        }
        section.card #criteria {
            h2 { "Custom hygiene misses" }
            (criteria_list(id, &criteria))
            (criterion_form(id, for_form("criterion"), typed))
        }
        section.card #slas {
            h2 { "Response and resolution SLAs" }
            (sla_list(id, &slas))
            (sla_form(id, for_form("sla"), typed))
        }
    };
    page("Hygiene", Some(heading(&i, Tab::Hygiene)), body)
}

fn number(v: &Value) -> String {
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 => format!("{n:.0}"),
        Some(n) => format!("{n:.1}"),
        None => "–".into(),
    }
}

fn hygiene_report(r: &Value, asked: &Fields) -> Markup {
    let empty = Vec::new();
    let categories = r["categories"].as_array().unwrap_or(&empty);
    html! {
        dl.figures {
            div { dt { "Hygiene score" } dd data-figure="hygiene-score" { (number(&r["score"])) } }
            div { dt { "Tickets" } dd data-figure="hygiene-tickets" { (r["total_tickets"]) } }
        }
        table {
            thead { tr { th { "Category" } th { "Misses" } th { "Miss %" } th { "Step score" } th { "Weight" } th { "Weighted" } } }
            tbody {
                @for c in categories {
                    @let name = c["name"].as_str().unwrap_or_default();
                    @let input = format!("{WEIGHT}{name}");
                    @let typed = asked.get(&input);
                    tr data-category=(name) {
                        td { (name) @if c["skipped"] == true { p.hint { "Skipped: " (c["skipped_reason"].as_str().unwrap_or_default()) } } }
                        td data-misses { (number(&c["misses"])) }
                        td { (number(&c["miss_percent"])) }
                        td { (number(&c["step_score"])) }
                        td {
                            label.inline for=(format!("w-{name}")) { span hidden { "Weight of " (name) } }
                            input type="number" id=(format!("w-{name}")) name=(input) min="0" max="100" step="0.5"
                                aria-label={"Weight of " (name)}
                                value=(if typed.is_empty() { number(&c["weight"]) } else { typed.to_string() });
                        }
                        td { (number(&c["weighted_score"])) }
                    }
                }
            }
        }
        p.hint { "Weights may add up to at most 100; the score is the weighted step scores' sum." }
    }
}

fn trend_table(t: &Value) -> Markup {
    let empty = Vec::new();
    let points = t["points"].as_array().unwrap_or(&empty);
    html! {
        table {
            thead { tr { th { "Week" } th { "Score" } th { "Tickets" } } }
            tbody {
                @for p in points {
                    tr { td { (p["from"].as_str().unwrap_or_default()) " – " (p["to"].as_str().unwrap_or_default()) } td { (number(&p["score"])) } td { (number(&p["total_tickets"])) } }
                }
            }
        }
        p.hint { "From the daily snapshots taken after each completed sync; a week without one has no score." }
    }
}

fn condition_text(c: &Value) -> String {
    let values = match (&c["values"], &c["value"]) {
        (Value::Array(v), _) => v
            .iter()
            .filter_map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        (_, v) if !v.is_null() => v.to_string(),
        _ => String::new(),
    };
    format!(
        "{} {} {values}",
        c["field"].as_str().unwrap_or_default(),
        c["operator"].as_str().unwrap_or_default().replace('_', " ")
    )
}

fn criteria_list(id: &str, a: &Answer) -> Markup {
    let empty = Vec::new();
    let criteria = a.body["criteria"].as_array().unwrap_or(&empty);
    html! {
        @if !a.ok() { p.error { (a.message()) } }
        @else if criteria.is_empty() { p { "None yet (at most 10)." } }
        ul {
            @for c in criteria {
                li data-criterion=(c["name"].as_str().unwrap_or_default()) {
                    strong { (c["name"].as_str().unwrap_or_default()) } ": "
                    (c["conditions"].as_array().unwrap_or(&empty).iter().map(condition_text).collect::<Vec<_>>().join(" and "))
                    " " (button_form(&format!("/console/i/{id}/hygiene/criteria/{}/delete", c["id"].as_str().unwrap_or_default()), "Remove", "danger"))
                }
            }
        }
    }
}

const OPERATORS: [&str; 8] = [
    "missing",
    "present",
    "equals",
    "exclude",
    "length_greater_than",
    "length_less_than",
    "greater_than",
    "less_than",
];

fn criterion_form(id: &str, problem: Option<&Problem>, typed: &Fields) -> Markup {
    let operator = typed.get("operator");
    html! {
        form method="post" action={"/console/i/" (id) "/hygiene/criteria"} {
            h3 { "Add a hygiene miss" }
            input type="hidden" name="form" value="criterion";
            (problem_box(problem))
            (Input::text("Name", "name", typed.get("name")).render(problem))
            (Input::text("Field", "field", typed.get("field")).api("conditions[0].field")
                .hint("A standard field (labels, fix versions, story points, priority, …) or a mapped custom field.").render(problem))
            label for="f-operator" { "Operator" }
            select id="f-operator" name="operator" {
                @for op in OPERATORS { option value=(op) selected[op == operator] { (op.replace('_', " ")) } }
            }
            (Input::text("Values", "values", typed.get("values")).api("conditions[0].values")
                .hint("For equals and exclude: comma-separated.").render(problem))
            (Input::text("Number", "value", typed.get("value")).kind("number").api("conditions[0].value")
                .hint("For the length and greater/less operators.").render(problem))
            button type="submit" { "Add hygiene miss" }
            p.hint { "A new miss weighs 0 until you give it a weight in the report above." }
        }
    }
}

/// The condition as the API takes it: `values` or `value` as the operator wants.
fn condition(f: &Fields) -> Value {
    let mut c = json!({"field": f.get("field"), "operator": f.get("operator")});
    match f.get("operator") {
        "equals" | "exclude" => c["values"] = json!(f.list("values")),
        "missing" | "present" => {}
        _ => {
            c["value"] = match f.get("value").parse::<f64>() {
                Ok(n) => json!(n),
                Err(_) => json!(f.get("value")),
            }
        }
    }
    c
}

/// Back to the hygiene page when the API took the change, else the page with the form as typed.
async fn after_change(console: &Console, id: &str, answer: Answer, typed: &Fields) -> Response {
    if answer.ok() {
        return Redirect::to(&format!("/console/i/{}/hygiene", seg(id))).into_response();
    }
    let problem = Problem::from_message(answer.message());
    hygiene_page(console, id, &Fields::default(), Some((&problem, typed))).await
}

pub async fn add_criterion(State(console): Shared, Path(id): Path<String>, f: Fields) -> Response {
    let body = json!({"name": f.get("name"), "conditions": [condition(&f)]});
    let path = format!("/integrations/{}/hygiene/criteria", seg(&id));
    let answer = console.api.send(Method::POST, &path, &body).await;
    after_change(&console, &id, answer, &f).await
}

pub async fn remove_criterion(
    State(console): Shared,
    Path((id, criterion)): Path<(String, String)>,
) -> Response {
    let path = format!(
        "/integrations/{}/hygiene/criteria/{}",
        seg(&id),
        seg(&criterion)
    );
    let answer = console.api.send(Method::DELETE, &path, &json!({})).await;
    after_change(&console, &id, answer, &Fields::default()).await
}

fn sla_list(id: &str, a: &Answer) -> Markup {
    let empty = Vec::new();
    let slas = a.body["slas"].as_array().unwrap_or(&empty);
    html! {
        @if !a.ok() { p.error { (a.message()) } }
        @else if slas.is_empty() { p { "None: the defaults of docs/hygiene.md apply." } }
        @else {
            table {
                thead { tr { th { "Project" } th { "Issue type" } th { "Priority" } th { "Response (h)" } th { "Resolution (h)" } th {} } }
                tbody {
                    @for s in slas {
                        tr {
                            td { (s["project"].as_str().unwrap_or_default()) }
                            td { (s["issue_type"].as_str().unwrap_or_default()) }
                            td { (s["priority"].as_str().unwrap_or_default()) }
                            td { (s["response_hours"]) }
                            td { (s["resolution_hours"]) }
                            td { (button_form(&format!("/console/i/{id}/hygiene/slas/{}/delete", s["id"].as_str().unwrap_or_default()), "Remove", "danger")) }
                        }
                    }
                }
            }
        }
    }
}

fn sla_form(id: &str, problem: Option<&Problem>, typed: &Fields) -> Markup {
    html! {
        form method="post" action={"/console/i/" (id) "/hygiene/slas"} {
            h3 { "Add an SLA" }
            input type="hidden" name="form" value="sla";
            (problem_box(problem))
            (Input::text("Project", "project", typed.get("project")).render(problem))
            (Input::text("Issue type", "issue_type", typed.get("issue_type")).render(problem))
            (Input::text("Priority", "priority", typed.get("priority")).render(problem))
            (Input::text("Response within (hours)", "response_hours", typed.get("response_hours")).kind("number").render(problem))
            (Input::text("Resolution within (hours)", "resolution_hours", typed.get("resolution_hours")).kind("number").render(problem))
            button type="submit" { "Add SLA" }
        }
    }
}

/// A whole number when the field holds one, else the text (the API names what is wrong).
fn whole(f: &Fields, name: &str) -> Value {
    match f.get(name).parse::<u64>() {
        Ok(n) => json!(n),
        Err(_) => json!(f.get(name)),
    }
}

pub async fn add_sla(State(console): Shared, Path(id): Path<String>, f: Fields) -> Response {
    let body = json!({
        "project": f.get("project"),
        "issue_type": f.get("issue_type"),
        "priority": f.get("priority"),
        "response_hours": whole(&f, "response_hours"),
        "resolution_hours": whole(&f, "resolution_hours"),
    });
    let path = format!("/integrations/{}/hygiene/slas", seg(&id));
    let answer = console.api.send(Method::POST, &path, &body).await;
    after_change(&console, &id, answer, &f).await
}

pub async fn remove_sla(
    State(console): Shared,
    Path((id, sla)): Path<(String, String)>,
) -> Response {
    let path = format!("/integrations/{}/hygiene/slas/{}", seg(&id), seg(&sla));
    let answer = console.api.send(Method::DELETE, &path, &json!({})).await;
    after_change(&console, &id, answer, &Fields::default()).await
}

#[derive(Deserialize, Default)]
pub struct DoraAsk {
    profile: Option<String>,
}

/// `GET /console/i/{id}/dora?profile=…`: the profiles, the report of one, the form for another.
pub async fn dora(
    State(console): Shared,
    Path(id): Path<String>,
    Query(ask): Query<DoraAsk>,
) -> Response {
    dora_page(&console, &id, ask.profile.as_deref(), None).await
}

async fn dora_page(
    console: &Console,
    id: &str,
    chosen: Option<&str>,
    change: Option<(&Problem, &Fields)>,
) -> Response {
    let i = match integration(console, id).await {
        Ok(i) => i,
        Err(page) => return page,
    };
    let base = format!("/integrations/{}/dora", seg(id));
    let profiles = console.api.get(&format!("{base}/profiles")).await;
    let empty = Vec::new();
    let list = profiles.body["profiles"].as_array().unwrap_or(&empty);
    let chosen = chosen.map(String::from).or_else(|| {
        list.first()
            .and_then(|p| p["id"].as_str().map(String::from))
    });
    let report = match &chosen {
        Some(p) => Some(console.api.get(&format!("{base}?profile={}", seg(p))).await),
        None => None,
    };
    let none = Fields::default();
    let problem = change.map(|(p, _)| p);
    let typed = change.map_or(&none, |(_, t)| t);
    let body = html! {
        section.card #profiles {
            h2 { "Profiles" }
            @if !profiles.ok() { p.error { (profiles.message()) } }
            @else if list.is_empty() { p { "No profile yet: add one below to say which tickets are incidents and which are change requests." } }
            ul {
                @for p in list {
                    @let pid = p["id"].as_str().unwrap_or_default();
                    li {
                        a href={"/console/i/" (id) "/dora?profile=" (pid)} aria-current=[(chosen.as_deref() == Some(pid)).then_some("true")] { (p["name"].as_str().unwrap_or_default()) }
                        " " (button_form(&format!("/console/i/{id}/dora/profiles/{pid}/delete"), "Remove", "danger"))
                    }
                }
            }
        }
        @if let Some(r) = &report {
            section.card #dora-report {
                @if r.ok() { (dora_report(&r.body)) } @else { p.error role="alert" { (r.message()) } }
            }
        }
        (profile_form(id, problem, typed))
    };
    page("DORA", Some(heading(&i, Tab::Dora)), body)
}

/// Hours as people read them: days and hours past a day.
fn duration(hours: &Value) -> String {
    match hours.as_f64() {
        None => "no data".into(),
        Some(h) if h >= 48.0 => format!("{:.1} days", h / 24.0),
        Some(h) => format!("{h:.1} hours"),
    }
}

fn band(v: &Value) -> String {
    v.as_str().unwrap_or("not banded").to_string()
}

fn dora_report(d: &Value) -> Markup {
    let m = &d["metrics"];
    let open = m["incidents"]
        .as_array()
        .map(|a| a.iter().filter(|i| i["restored_ms"].is_null()).count())
        .unwrap_or(0);
    let cfr = &m["change_failure_rate"];
    let df = &m["deployment_frequency"];
    html! {
        h2 { (d["profile"].as_str().unwrap_or_default()) ": " (d["from"].as_str().unwrap_or_default()) " to " (d["to"].as_str().unwrap_or_default()) }
        dl.figures {
            div { dt { "Time to restore" } dd data-figure="time-to-restore" { (duration(&m["time_to_restore"]["hours"])) " " small { "from " (m["time_to_restore"]["sample"]) " incidents, " (band(&m["time_to_restore"]["band"])) } } }
            div { dt { "Open incidents" } dd data-figure="open-incidents" { (open) } }
            div { dt { "Change failure rate" } dd data-figure="change-failure-rate" {
                @match cfr["rate"].as_f64() { Some(r) => { (format!("{:.1} %", r * 100.0)) }, None => { "no data" } }
                " " small { (cfr["failed"]) " of " (cfr["deployed"]) " changes, " (band(&cfr["band"])) } } }
            div { dt { "Deployments" } dd data-figure="deployments" { (df["deployments"]) " " small { (number(&df["per_day"])) " a day, " (band(&df["band"])) } } }
            div { dt { "Lead time" } dd data-figure="lead-time" { (duration(&m["lead_time"]["hours"])) " " small { "from " (m["lead_time"]["sample"]) " changes, " (band(&m["lead_time"]["band"])) } } }
        }
        @if d["recomputing"] == true { p.hint { "The profile's tickets are being classified again; these figures were counted from every issue meanwhile." } }
    }
}

fn profile_form(id: &str, problem: Option<&Problem>, typed: &Fields) -> Markup {
    let filter = |which: &str, title: &str| {
        let (f, o, v) = (
            format!("{which}_field"),
            format!("{which}_operator"),
            format!("{which}_values"),
        );
        let operator = typed.get(&o).to_string();
        let api = format!("{which}.sets[0].conditions[0]");
        html! {
            fieldset {
                legend { (title) }
                (Input::text("Field", &f, typed.get(&f)).api(&format!("{api}.field")).hint("issue type, labels, priority, project, status, components, resolution or a mapped custom field.").render(problem))
                label for={"f-" (o)} { "Operator" }
                select id={"f-" (o)} name=(o) {
                    @for op in ["equals", "not_equals", "contains", "starts_with", "in"] { option value=(op) selected[op == operator] { (op.replace('_', " ")) } }
                }
                (Input::text("Values", &v, typed.get(&v)).api(&format!("{api}.values")).hint("Comma-separated.").render(problem))
            }
        }
    };
    html! {
        form.card method="post" action={"/console/i/" (id) "/dora/profiles"} {
            h2 { "Add a profile" }
            (problem_box(problem))
            (Input::text("Name", "name", typed.get("name")).render(problem))
            (filter("incidents", "Incidents are tickets whose"))
            (filter("changes", "Change requests are tickets whose"))
            (Input::text("Restored statuses", "restored_statuses", typed.get("restored_statuses")).hint("Comma-separated; empty: the Done category.").render(problem))
            (Input::text("Deployed statuses", "deployed_statuses", typed.get("deployed_statuses")).hint("Comma-separated; empty: the Done category.").render(problem))
            (Input::text("Failure window (hours)", "failure_window_hours", if typed.get("failure_window_hours").is_empty() { "24" } else { typed.get("failure_window_hours") }).kind("number").render(problem))
            button type="submit" { "Add profile" }
        }
    }
}

fn filter_of(f: &Fields, which: &str) -> Value {
    json!({"sets": [{"conditions": [{
        "field": f.get(&format!("{which}_field")),
        "operator": f.get(&format!("{which}_operator")),
        "values": f.list(&format!("{which}_values")),
    }]}]})
}

pub async fn add_profile(State(console): Shared, Path(id): Path<String>, f: Fields) -> Response {
    let body = json!({
        "name": f.get("name"),
        "incidents": filter_of(&f, "incidents"),
        "changes": filter_of(&f, "changes"),
        "restored_statuses": split_list(f.get("restored_statuses")),
        "deployed_statuses": split_list(f.get("deployed_statuses")),
        "failure_window_hours": whole(&f, "failure_window_hours"),
    });
    let path = format!("/integrations/{}/dora/profiles", seg(&id));
    let answer = console.api.send(Method::POST, &path, &body).await;
    if answer.ok() {
        let profile = answer.body["id"].as_str().unwrap_or_default();
        return Redirect::to(&format!(
            "/console/i/{}/dora?profile={}",
            seg(&id),
            seg(profile)
        ))
        .into_response();
    }
    let problem = Problem::from_message(answer.message());
    dora_page(&console, &id, None, Some((&problem, &f))).await
}

pub async fn remove_profile(
    State(console): Shared,
    Path((id, profile)): Path<(String, String)>,
) -> Response {
    let path = format!("/integrations/{}/dora/profiles/{}", seg(&id), seg(&profile));
    let answer = console.api.send(Method::DELETE, &path, &json!({})).await;
    if !answer.ok() {
        return failed(answer.status, &answer.message());
    }
    Redirect::to(&format!("/console/i/{}/dora", seg(&id))).into_response()
}
