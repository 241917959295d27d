//! The integrations list with their health, and **Add integration**: Validate Credentials (each
//! check with what to do about a failure), the project selector, a JQL with Validate JQL, and
//! the create buttons (the selected projects, the JQL, or Validate and Create for every project).
//!
//! A failed submit shows the form again with everything typed but the token. The add form keeps
//! a typed token on the server, in memory, under the form's draft id for as long as a person
//! fills the form in, so Validate JQL or the project search do not ask for it again; it is
//! never written into the page.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use sei_jira_core::sync::Excluded;
use sei_jira_core::validation::CheckId;
use serde_json::{Value, json};

use super::Shared;
use super::api::{Answer, seg, strings};
use super::form::{Fields, split_list};
use super::page::{Input, Problem, checkbox, failed, page, problem_box, radio};

/// How long a typed token is kept for a form being filled in.
const DRAFT_FOR: Duration = Duration::from_secs(30 * 60);

/// Tokens typed into add forms, by draft id, until they expire.
#[derive(Default)]
pub struct Drafts(Mutex<HashMap<String, (String, Instant)>>);

impl Drafts {
    /// The token of `draft`: `typed` when a person typed one (kept for the next submit), else
    /// the one kept; empty when neither.
    fn token(&self, draft: &str, typed: &str) -> String {
        let mut kept = self.0.lock().expect("never poisoned");
        kept.retain(|_, (_, at)| at.elapsed() < DRAFT_FOR);
        if !typed.is_empty() {
            kept.insert(draft.to_string(), (typed.to_string(), Instant::now()));
            return typed.to_string();
        }
        kept.get(draft).map(|(t, _)| t.clone()).unwrap_or_default()
    }

    fn forget(&self, draft: &str) {
        self.0.lock().expect("never poisoned").remove(draft);
    }
}

/// `GET /console`: every integration with its health.
pub async fn list(State(console): Shared) -> Response {
    let answer = console.api.get("/integrations").await;
    if !answer.ok() {
        return failed(answer.status, &answer.message());
    }
    let empty = Vec::new();
    let integrations = answer.body["integrations"].as_array().unwrap_or(&empty);
    let mut rows = Vec::new();
    for i in integrations {
        let id = i["id"].as_str().unwrap_or_default();
        let health = console
            .api
            .get(&format!("/integrations/{}/monitoring?range=7d", seg(id)))
            .await;
        let status = health.body["health"]["status"]
            .as_str()
            .unwrap_or("No Data")
            .to_string();
        rows.push((i, status));
    }
    let body = html! {
        p { a href="/console/new" { "Add integration" } }
        @if rows.is_empty() {
            p { "No integration yet. Add one to connect a Jira site." }
        } @else {
            table {
                thead { tr { th { "Integration" } th { "Site" } th { "Health (7 days)" } th { "Tags" } } }
                tbody {
                    @for (i, status) in &rows {
                        tr data-integration=(i["id"].as_str().unwrap_or_default()) {
                            td { a href={"/console/i/" (i["id"].as_str().unwrap_or_default())} { (i["name"].as_str().unwrap_or_default()) } }
                            td { (i["url"].as_str().unwrap_or_default()) " (" (deployment_name(i["deployment"].as_str())) ")" }
                            td { span.badge data-health=(status) { (status) } }
                            td { (strings(&i["tags"]).join(", ")) }
                        }
                    }
                }
            }
        }
    };
    page("Jira integrations", None, body)
}

fn deployment_name(d: Option<&str>) -> &'static str {
    match d {
        Some("datacenter") => "Data Center",
        _ => "Cloud",
    }
}

/// What the add form holds (all but the token).
struct NewForm {
    draft: String,
    deployment: String,
    name: String,
    description: String,
    tags: String,
    url: String,
    email: String,
    keys: Vec<String>,
    project_search: String,
    jql: String,
    excluded: Vec<String>,
    custom_fields: String,
    schedule: String,
    /// Whether a token is kept for this draft.
    token_kept: bool,
}

impl NewForm {
    fn blank() -> Self {
        NewForm {
            draft: crate::serve::new_token(),
            deployment: "cloud".into(),
            name: String::new(),
            description: String::new(),
            tags: String::new(),
            url: String::new(),
            email: String::new(),
            keys: Vec::new(),
            project_search: String::new(),
            jql: String::new(),
            excluded: Vec::new(),
            custom_fields: String::new(),
            schedule: "rate(1 hour)".into(),
            token_kept: false,
        }
    }

    fn read(f: &Fields) -> Self {
        let draft = match f.get("draft") {
            d if d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()) => d.to_string(),
            _ => crate::serve::new_token(),
        };
        NewForm {
            draft,
            deployment: f.get("deployment").to_string(),
            name: f.get("name").to_string(),
            description: f.get("description").to_string(),
            tags: f.get("tags").to_string(),
            url: f.get("url").to_string(),
            email: f.get("email").to_string(),
            keys: f.all("keys"),
            project_search: f.get("project_search").to_string(),
            jql: f.get("jql").to_string(),
            excluded: f.all("excluded_fields"),
            custom_fields: f.get("custom_fields").to_string(),
            schedule: f.get("schedule_rate").to_string(),
            token_kept: false,
        }
    }

    fn connection(&self, token: &str) -> Value {
        let mut c = json!({"deployment": self.deployment, "url": self.url, "token": token});
        if self.deployment != "datacenter" {
            c["email"] = json!(self.email);
        }
        c
    }

    /// The scope the create button pressed stands for.
    fn scope(&self, action: &str) -> Value {
        match action {
            "create_jql" => json!({"kind": "jql", "jql": self.jql}),
            "create_projects" => json!({"kind": "projects", "keys": self.keys}),
            _ => json!({"kind": "all_accessible"}),
        }
    }

    fn create_body(&self, token: &str, action: &str) -> Value {
        let mut body = json!({
            "name": self.name,
            "connection": self.connection(token),
            "scope": self.scope(action),
            "excluded_fields": self.excluded,
            "custom_fields": split_list(&self.custom_fields),
            "tags": split_list(&self.tags),
        });
        if !self.description.is_empty() {
            body["description"] = json!(self.description);
        }
        if !self.schedule.is_empty() {
            body["schedule_rate"] = json!(self.schedule);
        }
        body
    }
}

/// What the last submit found, shown above the buttons.
#[derive(Default)]
struct Found {
    problem: Option<Problem>,
    checks: Option<Value>,
    jql: Option<Value>,
    projects: Option<Vec<Value>>,
}

impl Found {
    fn problem(answer: &Answer) -> Self {
        Found {
            problem: Some(Problem::from_message(answer.message())),
            checks: answer.body.get("checks").cloned(),
            ..Found::default()
        }
    }
}

/// `GET /console/new`.
pub async fn new_form() -> Response {
    new_page(&NewForm::blank(), &Found::default())
}

/// `POST /console/new`: the button pressed is `action`.
pub async fn new_submit(State(console): Shared, fields: Fields) -> Response {
    let mut form = NewForm::read(&fields);
    let token = console.drafts.token(&form.draft, fields.get("token"));
    form.token_kept = !token.is_empty();
    let connection = json!({"connection": form.connection(&token)});
    let found = match fields.get("action") {
        "projects" => {
            let a = console
                .api
                .send(Method::POST, "/projects/search", &connection)
                .await;
            if a.ok() {
                let wanted = form.project_search.to_lowercase();
                let projects = a.body["projects"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| {
                        wanted.is_empty()
                            || [&p["key"], &p["name"]].iter().any(|v| {
                                v.as_str()
                                    .is_some_and(|s| s.to_lowercase().contains(&wanted))
                            })
                    })
                    .collect();
                Found {
                    projects: Some(projects),
                    ..Found::default()
                }
            } else {
                Found::problem(&a)
            }
        }
        "jql" => {
            let mut body = connection.clone();
            body["jql"] = json!(form.jql);
            let a = console.api.send(Method::POST, "/jql/validate", &body).await;
            if a.ok() {
                Found {
                    jql: Some(a.body),
                    ..Found::default()
                }
            } else {
                Found::problem(&a)
            }
        }
        action @ ("create_projects" | "create_jql" | "create_all") => {
            let body = form.create_body(&token, action);
            let a = console.api.send(Method::POST, "/integrations", &body).await;
            if a.ok() {
                console.drafts.forget(&form.draft);
                let id = a.body["id"].as_str().unwrap_or_default();
                return Redirect::to(&format!("/console/i/{}?created=1", seg(id))).into_response();
            }
            Found::problem(&a)
        }
        _ => {
            let a = console
                .api
                .send(Method::POST, "/credentials/validate", &connection)
                .await;
            if a.ok() {
                Found {
                    checks: Some(a.body["checks"].clone()),
                    ..Found::default()
                }
            } else {
                Found::problem(&a)
            }
        }
    };
    new_page(&form, &found)
}

fn new_page(form: &NewForm, found: &Found) -> Response {
    let p = found.problem.as_ref();
    let token_label = if form.deployment == "datacenter" {
        "Personal access token"
    } else {
        "API token"
    };
    let token_hint = if form.token_kept {
        "Kept from your last submit; type a new one to replace it."
    } else {
        "Cloud: a classic API token from your Atlassian account. Data Center: a personal access token."
    };
    let body = html! {
        form.card method="post" action="/console/new" {
            input type="hidden" name="draft" value=(form.draft);
            (problem_box(p))
            fieldset {
                legend { "Deployment" }
                (radio("deployment", "cloud", "Jira Cloud (API token)", form.deployment != "datacenter"))
                (radio("deployment", "datacenter", "Jira Data Center (personal access token)", form.deployment == "datacenter"))
            }
            (Input::text("Name", "name", &form.name).render(p))
            (Input::text("Description", "description", &form.description).kind("textarea").render(p))
            (Input::text("Tags", "tags", &form.tags).hint("Comma-separated.").render(p))
            (Input::text("Jira URL", "url", &form.url).kind("url").api("connection.url")
                .hint("The site's base address, such as https://your-site.atlassian.net.").render(p))
            (Input::text("Email", "email", &form.email).kind("email").api("connection.email")
                .hint("Jira Cloud only: the Atlassian account's email.").render(p))
            (Input::text(token_label, "token", "").kind("password").api("connection.token").hint(token_hint).render(p))
            button type="submit" name="action" value="validate" { "Validate Credentials" }
            @if let Some(checks) = &found.checks { (checks_list(checks)) }
            fieldset {
                legend { "Never fetch or store" }
                @for (value, label) in Excluded::CHOICES {
                    (checkbox("excluded_fields", value, label, form.excluded.iter().any(|e| e == value)))
                }
            }
            (Input::text("Custom fields", "custom_fields", &form.custom_fields)
                .hint("Comma-separated ids (customfield_10050) or names (Severity); after the first sync, Edit configuration lists the site's own.").render(p))
            (Input::text("Schedule", "schedule_rate", &form.schedule)
                .hint("rate(1 hour), rate(30 minutes) or cron(0 6 * * ? *); at least 15 minutes apart.").render(p))
            fieldset {
                legend { "What to sync: projects" }
                (Input::text("Find projects", "project_search", &form.project_search).api("scope.keys")
                    .hint("Part of a key or name; empty lists every project.").render(p))
                button.secondary type="submit" name="action" value="projects" { "Search projects" }
                (project_choices(&form.keys, found.projects.as_deref()))
                button type="submit" name="action" value="create_projects" { "Create with the selected projects" }
            }
            fieldset {
                legend { "Or a JQL filter" }
                (Input::text("JQL", "jql", &form.jql).kind("textarea").api("scope.jql").render(p))
                button.secondary type="submit" name="action" value="jql" { "Validate JQL" }
                @if let Some(j) = &found.jql { (jql_outcome(j)) }
                button type="submit" name="action" value="create_jql" { "Create with this JQL" }
            }
            button.secondary type="submit" name="action" value="create_all" { "Validate and Create" }
            p.hint { "Validate and Create takes every project the user can browse. Every create runs the credential checks first." }
        }
    };
    page("Add integration", None, body)
}

fn project_choices(kept: &[String], found: Option<&[Value]>) -> Markup {
    let found = found.unwrap_or_default();
    let listed: Vec<&str> = found.iter().filter_map(|p| p["key"].as_str()).collect();
    html! {
        fieldset {
            legend { "Projects to sync" }
            @for key in kept.iter().filter(|k| !listed.contains(&k.as_str())) {
                (checkbox("keys", key, key, true))
            }
            @for p in found {
                @let key = p["key"].as_str().unwrap_or_default();
                (checkbox("keys", key, &format!("{key}: {}", p["name"].as_str().unwrap_or_default()), kept.iter().any(|k| k == key)))
            }
            @if kept.is_empty() && found.is_empty() { p.hint { "Search to list the projects the credentials can browse." } }
        }
    }
}

fn jql_outcome(j: &Value) -> Markup {
    html! {
        @if j["ok"] == true {
            p.ok role="status" data-jql="valid" { "✓ The JQL is valid." }
        } @else {
            div.error role="alert" data-jql="invalid" {
                p { "✗ Jira does not accept the JQL:" }
                ul { @for e in strings(&j["errors"]) { li { (e) } } }
            }
        }
    }
}

/// Every named check with ✓/✗, and what to do about a failure.
pub fn checks_list(checks: &Value) -> Markup {
    let empty = Vec::new();
    let checks = checks.as_array().unwrap_or(&empty);
    let ok = checks.iter().all(|c| c["status"] == "passed");
    html! {
        div role="status" {
            @if ok { p.ok data-credentials="valid" { "✓ Every check passed." } }
            ul.checks {
                @for c in checks {
                    @let status = c["status"].as_str().unwrap_or_default();
                    @let mark = match status { "passed" => "✓", "failed" => "✗", _ => "–" };
                    li class=(status) data-check=(c["id"].as_str().unwrap_or_default()) data-status=(status) {
                        (mark) " " strong { (c["title"].as_str().unwrap_or_default()) } ": " (c["message"].as_str().unwrap_or_default())
                        @if status == "failed" {
                            @if let Ok(id) = serde_json::from_value::<CheckId>(c["id"].clone()) {
                                p.hint { "What to do: " (id.remedy()) }
                            }
                        }
                    }
                }
            }
        }
    }
}
