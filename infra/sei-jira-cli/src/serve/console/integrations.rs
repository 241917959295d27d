//! The integrations list, **Add integration** (Validate Credentials, the project selector, a
//! JQL with Validate JQL, Create or Validate and Create) and **Edit configuration** (exclusions,
//! scope, custom fields from the site's own list, the schedule, a new token).
//!
//! A failed submit shows the form again with everything typed but the token. The add form keeps
//! a typed token on the server, in memory, under the form's draft id for as long as a person
//! fills the form in, so Validate JQL or the project search do not ask for it again; it is
//! never written into the page.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use sei_jira_core::store::{RecordKind, RecordStore};
use sei_jira_core::validation::CheckId;
use serde_json::{Value, json};

use super::api::{Answer, seg};
use super::form::{Fields, split_list};
use super::page::{
    Heading, Input, Problem, Tab, button_form, checkbox, failed, page, problem_box, radio,
};
use super::{Console, Shared};

/// How long a typed token is kept for a form being filled in.
const DRAFT_FOR: Duration = Duration::from_secs(30 * 60);

const EXCLUDABLE: [(&str, &str); 3] = [
    ("summary", "Summary"),
    ("description", "Description"),
    ("comments", "Comments"),
];

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

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
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
                @for (value, label) in EXCLUDABLE {
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

/// The integration as the API answers it, or the page saying why not.
pub async fn integration(console: &Console, id: &str) -> Result<Value, Response> {
    let answer = console.api.get(&format!("/integrations/{}", seg(id))).await;
    if answer.ok() {
        Ok(answer.body)
    } else {
        Err(failed(answer.status, &answer.message()))
    }
}

/// `GET /console/i/{id}/settings`.
pub async fn settings(State(console): Shared, Path(id): Path<String>) -> Response {
    match integration(&console, &id).await {
        Ok(i) => settings_page(&console, &i, &Fields::default(), Shown::Stored).await,
        Err(page) => page,
    }
}

/// `POST /console/i/{id}/settings`: one PATCH of what the form holds.
pub async fn save_settings(
    State(console): Shared,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    let i = match integration(&console, &id).await {
        Ok(i) => i,
        Err(page) => return page,
    };
    let scope = match fields.get("scope") {
        "jql" => json!({"kind": "jql", "jql": fields.get("jql")}),
        "all_accessible" => json!({"kind": "all_accessible"}),
        _ => json!({"kind": "projects", "keys": fields.list("keys")}),
    };
    let mut custom = fields.all("site_field");
    custom.extend(fields.list("custom_fields"));
    custom.dedup();
    let patch = json!({
        "name": fields.get("name"),
        "description": fields.get("description"),
        "tags": fields.list("tags"),
        "scope": scope,
        "excluded_fields": fields.all("excluded_fields"),
        "custom_fields": custom,
        "schedule_rate": fields.get("schedule_rate"),
    });
    let answer = console
        .api
        .send(
            Method::PATCH,
            &format!("/integrations/{}", seg(&id)),
            &patch,
        )
        .await;
    if answer.ok() {
        let saved = "Saved. The next sync follows the new configuration.";
        return settings_page(
            &console,
            &answer.body,
            &Fields::default(),
            Shown::Saved(saved),
        )
        .await;
    }
    let problem = Problem::from_message(answer.message());
    settings_page(&console, &i, &fields, Shown::Config(&problem)).await
}

/// `POST /console/i/{id}/credentials`: a new token (and email), checked before it is kept.
pub async fn rotate_token(
    State(console): Shared,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    let i = match integration(&console, &id).await {
        Ok(i) => i,
        Err(page) => return page,
    };
    let mut body = json!({"token": fields.get("token")});
    if !fields.get("email").is_empty() {
        body["email"] = json!(fields.get("email"));
    }
    let answer = console
        .api
        .send(
            Method::PUT,
            &format!("/integrations/{}/credentials", seg(&id)),
            &body,
        )
        .await;
    if answer.ok() {
        let saved = "The new token passed every check and replaced the old one.";
        return settings_page(&console, &i, &Fields::default(), Shown::Saved(saved)).await;
    }
    let mut problem = Problem::from_message(answer.message());
    if problem.field.is_empty() {
        problem.field = "token".into();
    }
    let shown = Shown::Token {
        problem: &problem,
        email: fields.get("email"),
        checks: answer.body.get("checks"),
    };
    settings_page(&console, &i, &Fields::default(), shown).await
}

/// `POST /console/i/{id}/delete`.
pub async fn delete(State(console): Shared, Path(id): Path<String>) -> Response {
    let answer = console
        .api
        .send(
            Method::DELETE,
            &format!("/integrations/{}", seg(&id)),
            &json!({}),
        )
        .await;
    if answer.ok() {
        Redirect::to("/console").into_response()
    } else {
        failed(answer.status, &answer.message())
    }
}

/// The site's custom fields as the last sync stored them: (id, name).
async fn site_custom_fields(console: &Console, id: &str) -> Vec<(String, String)> {
    let records = console
        .store
        .list_records(id, RecordKind::Field)
        .await
        .unwrap_or_default();
    let mut fields: Vec<(String, String)> = records
        .iter()
        .filter(|r| r.data["custom"] == true)
        .filter_map(|r| {
            Some((
                r.data["id"].as_str()?.into(),
                r.data["name"].as_str()?.into(),
            ))
        })
        .collect();
    fields.sort_by_key(|f| f.1.to_lowercase());
    fields
}

/// What the settings page shows beside the forms.
enum Shown<'a> {
    Stored,
    Saved(&'a str),
    /// The configuration form was refused: it shows what was typed.
    Config(&'a Problem),
    /// The new token was refused (with the checks that failed, when they ran).
    Token {
        problem: &'a Problem,
        email: &'a str,
        checks: Option<&'a Value>,
    },
}

/// The settings page: the configuration as typed when its submit failed (so nothing typed is
/// lost), else as stored.
async fn settings_page(console: &Console, i: &Value, typed: &Fields, shown: Shown<'_>) -> Response {
    let id = i["id"].as_str().unwrap_or_default();
    let (form_problem, token_problem, saved) = match &shown {
        Shown::Stored => (None, None, None),
        Shown::Saved(s) => (None, None, Some(*s)),
        Shown::Config(p) => (Some(*p), None, None),
        Shown::Token { problem, .. } => (None, Some(*problem), None),
    };
    let (typed_email, token_checks) = match &shown {
        Shown::Token { email, checks, .. } => (*email, *checks),
        _ => ("", None),
    };
    let from_typed = form_problem.is_some();
    let stored_scope = i["scope"]["kind"].as_str().unwrap_or("projects");
    let value = |name: &str, stored: String| -> String {
        if from_typed {
            typed.get(name).to_string()
        } else {
            stored
        }
    };
    let name = value("name", i["name"].as_str().unwrap_or_default().into());
    let description = value(
        "description",
        i["description"].as_str().unwrap_or_default().into(),
    );
    let tags = value("tags", strings(&i["tags"]).join(", "));
    let scope = value("scope", stored_scope.into());
    let keys = value("keys", strings(&i["scope"]["keys"]).join(", "));
    let jql = value("jql", i["scope"]["jql"].as_str().unwrap_or_default().into());
    let schedule = value(
        "schedule_rate",
        i["schedule_rate"].as_str().unwrap_or_default().into(),
    );
    let excluded = if from_typed {
        typed.all("excluded_fields")
    } else {
        strings(&i["excluded_fields"])
    };
    let site = site_custom_fields(console, id).await;
    let mapped = if from_typed {
        let mut m = typed.all("site_field");
        m.extend(typed.list("custom_fields"));
        m
    } else {
        strings(&i["custom_fields"])
    };
    let on_site = |f: &String| site.iter().any(|(sid, sname)| sid == f || sname == f);
    let other: Vec<&String> = mapped.iter().filter(|f| !on_site(f)).collect();
    let other = other
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let deployment = i["deployment"].as_str().unwrap_or("cloud");
    let body = html! {
        @if let Some(s) = saved { p.ok role="status" data-saved="true" { (s) } }
        form.card method="post" action={"/console/i/" (id) "/settings"} {
            (problem_box(form_problem))
            (Input::text("Name", "name", &name).render(form_problem))
            (Input::text("Description", "description", &description).kind("textarea").render(form_problem))
            (Input::text("Tags", "tags", &tags).hint("Comma-separated.").render(form_problem))
            fieldset {
                legend { "What to sync" }
                (radio("scope", "projects", "Projects", scope == "projects"))
                (radio("scope", "jql", "A JQL filter", scope == "jql"))
                (radio("scope", "all_accessible", "Every project the user can browse", scope == "all_accessible"))
                (Input::text("Project keys", "keys", &keys).api("scope.keys").hint("Comma-separated.").render(form_problem))
                (Input::text("JQL", "jql", &jql).kind("textarea").api("scope.jql").render(form_problem))
            }
            fieldset {
                legend { "Never fetch or store" }
                @for (v, label) in EXCLUDABLE {
                    (checkbox("excluded_fields", v, label, excluded.iter().any(|e| e == v)))
                }
                p.hint { "Text of a newly excluded field is removed from what is stored, changelog history included." }
            }
            fieldset {
                legend { "Custom fields" }
                @if site.is_empty() {
                    p.hint { "The site's fields are listed here after the first sync." }
                }
                @for (fid, fname) in &site {
                    (checkbox("site_field", fid, &format!("{fname} ({fid})"), mapped.iter().any(|m| m == fid || m == fname)))
                    br;
                }
                (Input::text("Other custom fields", "custom_fields", &other).api("custom_fields")
                    .hint("Comma-separated ids or names the site's list above does not show.").render(form_problem))
            }
            (Input::text("Schedule", "schedule_rate", &schedule)
                .hint("rate(1 hour), rate(30 minutes) or cron(0 6 * * ? *); at least 15 minutes apart.").render(form_problem))
            button type="submit" { "Save configuration" }
        }
        form.card method="post" action={"/console/i/" (id) "/credentials"} {
            h2 { "Rotate the token" }
            (problem_box(token_problem))
            @if deployment != "datacenter" {
                (Input::text("Email", "email", typed_email).kind("email").hint("Empty keeps the stored email.").render(token_problem))
            }
            (Input::text("New token", "token", "").kind("password").render(token_problem))
            @if let Some(checks) = token_checks { (checks_list(checks)) }
            button type="submit" { "Check and replace the token" }
        }
        section.card {
            h2 { "Remove the integration" }
            p { "Deletes the integration, its token and everything stored for it." }
            (button_form(&format!("/console/i/{id}/delete"), "Delete integration", "danger"))
        }
    };
    page(
        "Edit configuration",
        Some(Heading {
            id,
            name: i["name"].as_str().unwrap_or_default(),
            tab: Tab::Settings,
        }),
        body,
    )
}
