//! **Hygiene**: the report with its weights and filters, custom hygiene misses with their
//! operators, SLAs, and the weekly trend. Every figure is the API's answer; the forms change
//! things through the API.

use axum::extract::{Path, RawQuery, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::api::{Answer, seg};
use super::form::Fields;
use super::page::{Heading, Input, Problem, Tab, button_form, number, page, problem_box};
use super::{Console, Shared};

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
pub async fn show(
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
    let i = match console.integration(id).await {
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
    page("Hygiene", Some(Heading::of(&i, Tab::Hygiene)), body)
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

pub async fn add_sla(State(console): Shared, Path(id): Path<String>, f: Fields) -> Response {
    let body = json!({
        "project": f.get("project"),
        "issue_type": f.get("issue_type"),
        "priority": f.get("priority"),
        "response_hours": f.whole("response_hours"),
        "resolution_hours": f.whole("resolution_hours"),
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
