//! **Deleted tickets**: the tickets Jira no longer shows, those hidden by hand, and any ticket
//! found by key or id, each with the API's hide, unhide and remove. The lists are read from the
//! store, one page of issues at a time (the API has no listing of them).

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use sei_jira_core::store::{IssueStore, StoredIssue};
use serde::Deserialize;
use serde_json::json;

use super::api::seg;
use super::form::Fields;
use super::page::{Heading, Input, Problem, Tab, failed, page, problem_box};
use super::{Console, Shared};

/// Issues read per store page while looking.
const PAGE: usize = 1_000;
/// Tickets listed per kind.
const LISTED: usize = 50;

#[derive(Deserialize, Default)]
pub struct Find {
    #[serde(default)]
    issue: String,
    done: Option<String>,
}

/// What one pass over the stored issues found.
#[derive(Default)]
struct Found {
    wanted: Option<StoredIssue>,
    deleted: Vec<StoredIssue>,
    hidden: Vec<StoredIssue>,
}

async fn look(console: &Console, id: &str, wanted: &str) -> Found {
    let mut found = Found::default();
    let mut after: Option<String> = None;
    loop {
        let issues = match console.store.list_issues(id, after.as_deref(), PAGE).await {
            Ok(issues) => issues,
            Err(_) => break,
        };
        let last = issues.len() < PAGE;
        after = issues.last().map(|i| i.id.clone());
        for issue in issues {
            if !wanted.is_empty() && (issue.id == wanted || issue.key.eq_ignore_ascii_case(wanted))
            {
                found.wanted = Some(issue.clone());
            }
            if issue.removed {
                continue;
            }
            if issue.deleted_at_ms.is_some() && found.deleted.len() < LISTED {
                found.deleted.push(issue);
            } else if issue.hidden && found.hidden.len() < LISTED {
                found.hidden.push(issue);
            }
        }
        if last {
            break;
        }
    }
    found
}

/// The page, with `problem` when an action was refused.
async fn page_of(console: &Console, id: &str, find: &Find, problem: Option<&Problem>) -> Response {
    let i = match console.integration(id).await {
        Ok(i) => i,
        Err(page) => return page,
    };
    let found = look(console, id, &find.issue).await;
    let report = console
        .api
        .get(&format!("/integrations/{}/hygiene", seg(id)))
        .await;
    let counted = report.body["total_tickets"].as_u64();
    let body = html! {
        @if let Some(done) = &find.done { p.ok role="status" { (done) } }
        dl.figures {
            div { dt { "Tickets counted" } dd data-figure="tickets-counted" { @match counted { Some(n) => { (n) }, None => { "–" } } } }
        }
        form.card method="get" action={"/console/i/" (id) "/tickets"} {
            (problem_box(problem))
            (Input::text("Find a ticket", "issue", &find.issue).hint("Its key (PLAT-12) or numeric id.").render(problem))
            button type="submit" { "Find" }
        }
        @if !find.issue.is_empty() {
            section.card #found {
                @match &found.wanted {
                    Some(issue) => { (tickets_table(id, std::slice::from_ref(issue), &find.issue)) }
                    None => { p.error role="alert" { "No stored ticket has the key or id " (find.issue) "." } }
                }
            }
        }
        section.card #deleted {
            h2 { "Deleted in Jira" }
            p.hint { "No longer returned by Jira: kept and left out of every metric. Remove drops what is stored of it." }
            @if found.deleted.is_empty() { p { "None." } } @else { (tickets_table(id, &found.deleted, &find.issue)) }
        }
        section.card #hidden {
            h2 { "Hidden" }
            @if found.hidden.is_empty() { p { "None." } } @else { (tickets_table(id, &found.hidden, &find.issue)) }
        }
    };
    page(
        "Deleted tickets",
        Some(Heading {
            id,
            name: i["name"].as_str().unwrap_or_default(),
            tab: Tab::Tickets,
        }),
        body,
    )
}

/// `GET /console/i/{id}/tickets?issue=KEY`.
pub async fn show(
    State(console): Shared,
    Path(id): Path<String>,
    Query(find): Query<Find>,
) -> Response {
    page_of(&console, &id, &find, None).await
}

fn state(issue: &StoredIssue) -> &'static str {
    match () {
        _ if issue.removed => "removed",
        _ if issue.deleted_at_ms.is_some() => "deleted in Jira",
        _ if issue.hidden => "hidden",
        _ if issue.out_of_scope => "out of scope",
        _ => "counted",
    }
}

fn tickets_table(id: &str, issues: &[StoredIssue], find: &str) -> Markup {
    html! {
        table {
            thead { tr { th { "Ticket" } th { "Id" } th { "Project" } th { "State" } th { "Act" } } }
            tbody {
                @for issue in issues {
                    tr data-ticket=(issue.key) data-state=(state(issue)) {
                        td { (issue.key) } td { (issue.id) } td { (issue.project_key) } td { (state(issue)) }
                        td {
                            @if !issue.removed {
                                form.inline-form method="post" action={"/console/i/" (id) "/tickets"} {
                                    input type="hidden" name="issue_id" value=(issue.id);
                                    input type="hidden" name="issue" value=(find);
                                    @if issue.hidden {
                                        button.secondary type="submit" name="action" value="unhide" aria-label={"Unhide " (issue.key)} { "Unhide" }
                                    } @else {
                                        button.secondary type="submit" name="action" value="hide" aria-label={"Hide " (issue.key)} { "Hide" }
                                    }
                                    button.danger type="submit" name="action" value="remove" aria-label={"Remove " (issue.key)} { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /console/i/{id}/tickets`: hide, unhide or remove one ticket through the API.
pub async fn act(State(console): Shared, Path(id): Path<String>, f: Fields) -> Response {
    let action = match f.get("action") {
        a @ ("hide" | "unhide" | "remove") => a,
        _ => {
            return failed(
                axum::http::StatusCode::BAD_REQUEST,
                "action: hide, unhide or remove",
            );
        }
    };
    let path = format!(
        "/integrations/{}/issues/{}/{action}",
        seg(&id),
        seg(f.get("issue_id"))
    );
    let answer = console.api.send(Method::POST, &path, &json!({})).await;
    let find = Find {
        issue: f.get("issue").to_string(),
        done: None,
    };
    if !answer.ok() {
        let problem = Problem::from_message(answer.message());
        return page_of(&console, &id, &find, Some(&problem)).await;
    }
    let done = match action {
        "hide" => "Hidden: kept and synced, left out of every metric.",
        "unhide" => "Counted again.",
        _ => "Removed: what was stored of it is gone, and syncs will not bring it back.",
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("issue", &find.issue)
        .append_pair("done", done);
    Redirect::to(&format!(
        "/console/i/{}/tickets?{}",
        seg(&id),
        query.finish()
    ))
    .into_response()
}
