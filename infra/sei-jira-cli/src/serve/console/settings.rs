//! **Edit configuration**: name, description, tags, scope, exclusions, custom fields from the
//! site's own list (as the last sync stored it), the schedule; a new token, checked before it
//! replaces the old one; deleting the integration. A refused submit shows the form as typed.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use sei_jira_core::store::{RecordKind, RecordStore};
use sei_jira_core::sync::Excluded;
use serde_json::{Value, json};

use super::api::{seg, strings};
use super::form::Fields;
use super::integrations::checks_list;
use super::page::{
    Heading, Input, Problem, Tab, button_form, checkbox, failed, page, problem_box, radio,
};
use super::{Console, Shared};

/// `GET /console/i/{id}/settings`.
pub async fn show(State(console): Shared, Path(id): Path<String>) -> Response {
    match console.integration(&id).await {
        Ok(i) => settings_page(&console, &i, &Fields::default(), Shown::Stored).await,
        Err(page) => page,
    }
}

/// `POST /console/i/{id}/settings`: one PATCH of what the form holds.
pub async fn save(State(console): Shared, Path(id): Path<String>, fields: Fields) -> Response {
    let i = match console.integration(&id).await {
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
    let i = match console.integration(&id).await {
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
                @for (v, label) in Excluded::CHOICES {
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
