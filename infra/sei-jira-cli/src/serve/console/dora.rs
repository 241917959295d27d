//! **DORA**: the profiles (filter sets for incidents and change requests) and the figures of
//! one, with their sample sizes and bands, as the API answers them.

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::seg;
use super::form::{Fields, split_list};
use super::page::{Heading, Input, Problem, Tab, button_form, failed, number, page, problem_box};
use super::{Console, Shared};

#[derive(Deserialize, Default)]
pub struct DoraAsk {
    profile: Option<String>,
}

/// `GET /console/i/{id}/dora?profile=…`: the profiles, the report of one, the form for another.
pub async fn show(
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
    let i = match console.integration(id).await {
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
    page("DORA", Some(Heading::of(&i, Tab::Dora)), body)
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
        "failure_window_hours": f.whole("failure_window_hours"),
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
