//! **Monitoring**: the report page's section for 7 or 30 days, the runs with their errors, and
//! **Sync now** with its live progress (issues stored of expected, projects done) from the
//! progress board the in-process sync feeds.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{Markup, PreEscaped, html};
use sei_jira_core::monitoring::Monitoring;
use sei_jira_core::report::html::monitoring as monitoring_section;
use sei_jira_core::store::{RunLog, RunRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Shared;
use super::api::seg;
use super::page::{Heading, Tab, failed, page};

/// Runs listed on the monitoring page, newest first.
const RUNS_SHOWN: usize = 15;

#[derive(Deserialize, Default)]
pub struct MonitoringAsk {
    range: Option<String>,
    /// Set after Sync now: the page follows the first run numbered above it.
    after: Option<u64>,
    created: Option<String>,
}

/// `GET /console/i/{id}?range=7d|30d`.
pub async fn show(
    State(console): Shared,
    Path(id): Path<String>,
    Query(ask): Query<MonitoringAsk>,
) -> Response {
    let i = match console.integration(&id).await {
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
    page("Monitoring", Some(Heading::of(&i, Tab::Monitoring)), body)
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
