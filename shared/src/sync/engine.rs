//! The sync engine: backfill, then incremental runs, per scope unit, checkpointed after every
//! stored batch so a run killed at any point resumes without losing or duplicating an issue.
//!
//! Per unit: (1) scan ids with `fields=id` in ascending id order, restarting the query after the
//! last id instead of following page tokens (edits between pages cannot shift what is left);
//! (2) fetch each batch of 100 in bulk with the changelog embedded, completing truncated
//! changelogs (bulk changelog fetch) and comments (paged) only where Jira truncated them;
//! (3) upsert by issue id and checkpoint; (4) a census of all ids flags deleted or no-longer-
//! visible issues. The next run's window starts at this run's start minus an overlap, written
//! as epoch milliseconds so the Jira user's time zone cannot shift it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use serde_json::Value;

use super::index::{IssueIndex, Known};
use super::pipeline::{
    DETAIL_BATCH, Pipeline, Task, all_comments, fetch_issues, finish, full_changelogs,
};
use super::plan::{Excluded, FieldMap, Scope, Unit, requested_fields, resolve_fields};
use crate::jira::models::{Comment, FieldDetails, Issue};
use crate::jira::{Deployment, JiraClient, JiraError};
use crate::store::*;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Jira(#[from] JiraError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Config(String),
}

#[derive(Clone, Debug)]
pub struct SyncOptions {
    pub integration: String,
    pub scope: Scope,
    pub excluded: Excluded,
    /// User-mapped custom fields, by name or id.
    pub custom_fields: Vec<String>,
    /// How far before the previous run's start the next window begins.
    pub overlap_ms: i64,
    /// Look for deleted issues after the incremental scans (see `census_pass`).
    pub census: bool,
    /// How often each unit's full id census runs regardless of counts, and how long the cached
    /// fields and statuses are trusted. 0: every run.
    pub census_every_ms: i64,
    /// Stop cleanly (checkpointed, outcome Partial) once this instant passes.
    pub deadline: Option<Instant>,
    pub lease_ttl_ms: i64,
    pub run_id: String,
    /// Batches fetched concurrently (each batch is a few requests).
    pub parallel_batches: usize,
}

impl SyncOptions {
    pub fn new(integration: &str, scope: Scope) -> Self {
        Self {
            integration: integration.to_string(),
            scope,
            excluded: Excluded::default(),
            custom_fields: Vec::new(),
            overlap_ms: 5 * 60_000,
            census: true,
            census_every_ms: 24 * 3_600_000,
            deadline: None,
            lease_ttl_ms: 15 * 60_000,
            run_id: format!("run-{}", chrono::Utc::now().timestamp_millis()),
            parallel_batches: 10,
        }
    }
}

/// Progress notifications (the CLI draws its progress bar from them).
#[derive(Clone, Debug)]
pub enum Event {
    UnitStarted { unit: String },
    Stored { unit: String, issues: u64 },
    UnitFinished { unit: String },
}

pub type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

const ID_PAGE: u32 = 5000;
/// Issues re-fetched together by the census.
const GROUP: usize = 500;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

struct Ctx<'a> {
    client: &'a JiraClient,
    store: &'a dyn Store,
    opts: &'a SyncOptions,
    fields: Vec<String>,
    map: FieldMap,
    index: IssueIndex,
    counts: Counts,
    errors: Vec<String>,
    seen_users: HashSet<String>,
    seen_projects: HashSet<String>,
    /// The projects in scope (None for a JQL filter): an issue moved elsewhere leaves the scope.
    scope_projects: Option<HashSet<String>>,
    observer: Option<Observer>,
}

/// Runs one sync of the integration's scope and records it.
pub async fn run(
    client: &JiraClient,
    store: &dyn Store,
    opts: &SyncOptions,
    observer: Option<Observer>,
) -> Result<RunRecord, SyncError> {
    let started = now_ms();
    let (requests0, retries0) = (client.stats().requests(), client.stats().retries());
    let mut record = RunRecord {
        run_id: opts.run_id.clone(),
        started_ms: started,
        ended_ms: None,
        outcome: RunOutcome::Running,
        projects: Vec::new(),
        counts: Counts::default(),
        errors: Vec::new(),
    };
    store.put_run(&opts.integration, &record).await?;
    let result = sync_all(client, store, opts, observer, &mut record).await;
    record.ended_ms = Some(now_ms());
    record.counts.requests = client.stats().requests() - requests0;
    record.counts.retries = client.stats().retries() - retries0;
    match &result {
        Ok(partial) => {
            record.outcome = if *partial {
                RunOutcome::Partial
            } else {
                RunOutcome::Succeeded
            }
        }
        Err(e) => {
            record.outcome = RunOutcome::Failed;
            record.errors.push(e.to_string());
        }
    }
    close_run(store, &opts.integration, &record).await?;
    result.map(|_| record)
}

/// Records a run that could not start — no token, a site URL now refused, a configuration the
/// sync cannot use — as failed, so that monitoring shows the failure like any other.
pub async fn record_unstarted_run(
    store: &dyn Store,
    integration: &str,
    run_id: &str,
    error: String,
) -> Result<RunRecord, StoreError> {
    let now = now_ms();
    let record = RunRecord {
        run_id: run_id.to_string(),
        started_ms: now,
        ended_ms: Some(now),
        outcome: RunOutcome::Failed,
        projects: Vec::new(),
        counts: Counts::default(),
        errors: vec![error],
    };
    close_run(store, integration, &record).await?;
    Ok(record)
}

/// A run's end: its counts go into the day's counters, then the run record is replaced.
async fn close_run(
    store: &dyn Store,
    integration: &str,
    record: &RunRecord,
) -> Result<(), StoreError> {
    let day = chrono::Utc::now().date_naive();
    let daily = DailyCounts {
        issues_new: record.counts.issues_new,
        issues_updated: record.counts.issues_updated,
        issues_deleted: record.counts.issues_deleted,
        runs: 1,
        failed_runs: u64::from(record.outcome == RunOutcome::Failed),
    };
    store.add_daily(integration, day, &daily).await?;
    store.put_run(integration, record).await
}

/// Returns whether the run stopped early at its deadline.
async fn sync_all(
    client: &JiraClient,
    store: &dyn Store,
    opts: &SyncOptions,
    observer: Option<Observer>,
    record: &mut RunRecord,
) -> Result<bool, SyncError> {
    let site_fields = reference_data_fields(client, store, opts).await?;
    let map = match resolve_fields(&site_fields, &opts.custom_fields) {
        Ok(map) => map,
        // A field mapped since the last refresh: the cached list cannot know it yet.
        Err(_) => resolve_fields(
            &refresh_reference_data(client, store, opts).await?,
            &opts.custom_fields,
        )
        .map_err(SyncError::Config)?,
    };
    let fields = requested_fields(&map, &opts.excluded);

    let units = units(client, store, opts).await?;
    record.projects = units.iter().filter_map(|u| u.project.clone()).collect();
    let index = IssueIndex::new(store.issue_index(&opts.integration).await?);
    let scope_projects = match opts.scope {
        Scope::Jql(_) => None,
        _ => Some(units.iter().filter_map(|u| u.project.clone()).collect()),
    };
    let mut ctx = Ctx {
        client,
        store,
        opts,
        fields,
        map,
        index,
        counts: Counts::default(),
        errors: Vec::new(),
        seen_users: HashSet::new(),
        seen_projects: HashSet::new(),
        scope_projects,
        observer,
    };
    let mut partial = false;
    for unit in &units {
        match sync_unit(&mut ctx, unit).await {
            Ok(true) => {
                partial = true;
                break;
            }
            Ok(false) => {}
            // A unit another run holds is skipped, not fatal: the holder is syncing it.
            Err(SyncError::Config(e)) => ctx.errors.push(e),
            Err(e) => {
                record.counts = ctx.counts;
                record.errors = ctx.errors;
                return Err(e);
            }
        }
    }
    if !partial && ctx.opts.census {
        census_pass(&mut ctx, &units).await?;
    }
    record.counts = ctx.counts;
    record.errors = ctx.errors;
    Ok(partial)
}

/// The cursor name under which the last refresh of fields and statuses is kept.
const REFERENCE_UNIT: &str = "~reference";

fn due(last_ms: Option<i64>, every_ms: i64) -> bool {
    last_ms.is_none_or(|t| now_ms() - t >= every_ms)
}

/// The site's fields: the stored copy while it is fresh, otherwise fetched again together with
/// the statuses (both change rarely; a repeat run should cost Jira nothing for them).
async fn reference_data_fields(
    client: &JiraClient,
    store: &dyn Store,
    opts: &SyncOptions,
) -> Result<Vec<FieldDetails>, SyncError> {
    let refreshed = store
        .get_cursor(&opts.integration, REFERENCE_UNIT)
        .await?
        .and_then(|c| c.last_census_ms);
    if !due(refreshed, opts.census_every_ms) {
        let cached: Vec<FieldDetails> = store
            .list_records(&opts.integration, RecordKind::Field)
            .await?
            .into_iter()
            .filter_map(|r| serde_json::from_value(r.data).ok())
            .collect();
        if !cached.is_empty() {
            return Ok(cached);
        }
    }
    refresh_reference_data(client, store, opts).await
}

async fn refresh_reference_data(
    client: &JiraClient,
    store: &dyn Store,
    opts: &SyncOptions,
) -> Result<Vec<FieldDetails>, SyncError> {
    let site_fields = client.fields().await?;
    let field_records: Vec<Record> = site_fields
        .iter()
        .map(|f| Record {
            id: f.id.clone(),
            data: serde_json::to_value(f).unwrap_or(Value::Null),
        })
        .collect();
    store
        .put_records(&opts.integration, RecordKind::Field, &field_records)
        .await?;
    let statuses: Vec<Record> = client
        .statuses()
        .await?
        .into_iter()
        .map(|s| Record {
            id: s.id.clone(),
            data: serde_json::to_value(&s).unwrap_or(Value::Null),
        })
        .collect();
    store
        .put_records(&opts.integration, RecordKind::Status, &statuses)
        .await?;
    let cursor = Cursor {
        last_census_ms: Some(now_ms()),
        ..Cursor::default()
    };
    store
        .put_cursor(&opts.integration, REFERENCE_UNIT, &cursor)
        .await?;
    Ok(site_fields)
}

/// Deletions leave no trace in an incremental window, so they are found by a census of ids.
/// A full census reads every id, so it runs per unit on a schedule (`census_every_ms`) — and
/// at once everywhere when one count request shows Jira holding a different number of issues
/// for the scope than we do (a deletion, a move out, or lost access since the last run).
async fn census_pass(ctx: &mut Ctx<'_>, units: &[Unit]) -> Result<(), SyncError> {
    let integration = ctx.opts.integration.clone();
    let mut cursors = Vec::with_capacity(units.len());
    for unit in units {
        cursors.push(ctx.store.get_cursor(&integration, &unit.name).await?);
    }
    // Units never completed (no watermark) have nothing stored to miss yet.
    let synced: Vec<(&Unit, Cursor)> = units
        .iter()
        .zip(cursors)
        .filter_map(|(u, c)| c.filter(|c| c.watermark_ms.is_some()).map(|c| (u, c)))
        .collect();
    let scheduled: Vec<bool> = synced
        .iter()
        .map(|(_, c)| due(c.last_census_ms, ctx.opts.census_every_ms))
        .collect();
    let everything_due = scheduled.iter().all(|d| *d);
    let mismatch =
        !everything_due && !synced.is_empty() && scope_count_differs(ctx, &synced).await?;
    for ((unit, mut cursor), scheduled) in synced.into_iter().zip(scheduled) {
        if !(scheduled || mismatch) {
            continue;
        }
        let run_id = ctx.opts.run_id.clone();
        if !ctx
            .store
            .acquire_lease(
                &integration,
                &unit.name,
                &run_id,
                now_ms(),
                ctx.opts.lease_ttl_ms,
            )
            .await?
        {
            continue;
        }
        let result = census(ctx, unit).await;
        if result.is_ok() {
            cursor.last_census_ms = Some(now_ms());
            ctx.store
                .put_cursor(&integration, &unit.name, &cursor)
                .await?;
        }
        ctx.store
            .release_lease(&integration, &unit.name, &run_id)
            .await?;
        result?;
    }
    Ok(())
}

/// One request: does Jira count as many issues in these units as we hold (deleted ones aside;
/// removed ones are still in Jira)?
async fn scope_count_differs(ctx: &Ctx<'_>, synced: &[(&Unit, Cursor)]) -> Result<bool, SyncError> {
    let jql = synced
        .iter()
        .map(|(u, _)| format!("({})", u.jql))
        .collect::<Vec<_>>()
        .join(" OR ");
    let in_jira = ctx.client.count(&jql).await?;
    let projects: Option<HashSet<&str>> =
        synced.iter().map(|(u, _)| u.project.as_deref()).collect();
    let ours = ctx
        .index
        .iter()
        .filter(|(_, e)| !e.deleted)
        .filter(|(_, e)| {
            projects
                .as_ref()
                .is_none_or(|p| p.contains(ctx.index.project_of(e)))
        })
        .count() as u64;
    Ok(in_jira != ours)
}

/// The scope's units; projects are recorded (with their first onboarding time).
async fn units(
    client: &JiraClient,
    store: &dyn Store,
    opts: &SyncOptions,
) -> Result<Vec<Unit>, SyncError> {
    let accessible = match &opts.scope {
        Scope::Jql(_) => Vec::new(),
        _ => client.projects().await?,
    };
    let chosen = match &opts.scope {
        Scope::Jql(jql) => return Ok(vec![Unit::filter(jql)]),
        Scope::AllAccessible => accessible.clone(),
        Scope::Projects(keys) => {
            let missing: Vec<&String> = keys
                .iter()
                .filter(|k| !accessible.iter().any(|p| p.key.eq_ignore_ascii_case(k)))
                .collect();
            if !missing.is_empty() {
                return Err(SyncError::Config(format!(
                    "project(s) not found or not visible to this user: {}",
                    missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            accessible
                .into_iter()
                .filter(|p| keys.iter().any(|k| p.key.eq_ignore_ascii_case(k)))
                .collect()
        }
    };
    let now = now_ms();
    for p in &chosen {
        store
            .put_project(
                &opts.integration,
                &ProjectRecord {
                    key: p.key.clone(),
                    id: p.id.clone(),
                    name: p.name.clone(),
                    onboarded_at_ms: now,
                },
            )
            .await?;
    }
    Ok(chosen.iter().map(|p| Unit::project(&p.key)).collect())
}

/// Syncs one unit; returns true when it stopped at the deadline (checkpoint saved).
async fn sync_unit(ctx: &mut Ctx<'_>, unit: &Unit) -> Result<bool, SyncError> {
    let (integration, run_id) = (ctx.opts.integration.clone(), ctx.opts.run_id.clone());
    if !ctx
        .store
        .acquire_lease(
            &integration,
            &unit.name,
            &run_id,
            now_ms(),
            ctx.opts.lease_ttl_ms,
        )
        .await?
    {
        return Err(SyncError::Config(format!(
            "{}: another sync holds this unit's lease; skipped",
            unit.name
        )));
    }
    notify(
        ctx,
        Event::UnitStarted {
            unit: unit.name.clone(),
        },
    );
    let outcome = scan_unit(ctx, unit).await;
    ctx.store
        .release_lease(&integration, &unit.name, &run_id)
        .await?;
    notify(
        ctx,
        Event::UnitFinished {
            unit: unit.name.clone(),
        },
    );
    outcome
}

async fn scan_unit(ctx: &mut Ctx<'_>, unit: &Unit) -> Result<bool, SyncError> {
    let integration = ctx.opts.integration.clone();
    let mut cursor = ctx
        .store
        .get_cursor(&integration, &unit.name)
        .await?
        .unwrap_or_default();
    let resumed = cursor.in_progress.is_some();
    let mut progress = cursor.in_progress.clone().unwrap_or(Progress {
        window_start_ms: cursor.watermark_ms.map(|w| w - ctx.opts.overlap_ms),
        run_started_ms: now_ms(),
        last_id: 0,
    });
    // Incremental windows also read `updated`, so issues we already hold at that version
    // (the overlap) are not fetched again; a backfill scans bare ids, in the largest pages.
    let window = progress.window_start_ms;
    let scan = |after: u64| {
        let (client, unit) = (ctx.client.clone(), unit.clone());
        Task::spawn(async move { scan_ids(&client, &unit, window, after, window.is_some()).await })
    };
    let mut pipeline = Pipeline::new(
        ctx.client,
        ctx.fields.clone(),
        ctx.opts.excluded,
        progress.last_id,
    );
    // The next id page is read while the current one is fetched, so the scan never stalls it.
    let mut next_page = Some(scan(progress.last_id));
    let mut queued: std::collections::VecDeque<(Vec<u64>, u64)> = Default::default();
    let ahead = ctx.opts.parallel_batches.max(1);
    let mut wrote = false;
    loop {
        while pipeline.batches_ahead() < ahead {
            if let Some((ids, covers_to)) = queued.pop_front() {
                pipeline.push(ids, covers_to);
                continue;
            }
            let Some(page) = next_page.take() else { break };
            let (page, more) = page.await?;
            let Some(&(last, _)) = page.last() else { break };
            if more {
                next_page = Some(scan(last));
            }
            let changed: Vec<u64> = page
                .into_iter()
                .filter(|(id, updated)| match (updated, ctx.index.get(*id)) {
                    (Some(u), Some(known)) => known.updated_ms != *u || known.deleted,
                    _ => true,
                })
                .map(|(id, _)| id)
                .collect();
            let chunks: Vec<Vec<u64>> = changed.chunks(DETAIL_BATCH).map(<[u64]>::to_vec).collect();
            let n = chunks.len();
            for (i, ids) in chunks.into_iter().enumerate() {
                // The page's last batch also covers the unchanged ids after it.
                let covers_to = if i + 1 == n {
                    last
                } else {
                    *ids.last().expect("non-empty")
                };
                queued.push_back((ids, covers_to));
            }
            if n == 0 {
                queued.push_back((Vec::new(), last));
            }
        }
        let no_more_input = queued.is_empty() && next_page.is_none();
        let Some(out) = pipeline.next(no_more_input).await? else {
            break;
        };
        if !out.issues.is_empty() {
            store_batch(ctx, unit, out.issues).await?;
            wrote = true;
        }
        if out.checkpoint > progress.last_id {
            progress.last_id = out.checkpoint;
            cursor.in_progress = Some(progress.clone());
            ctx.store
                .put_cursor(&integration, &unit.name, &cursor)
                .await?;
            wrote = true;
        }
        if ctx.opts.deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(true);
        }
    }
    if wrote || resumed || cursor.watermark_ms.is_none() {
        // A completed backfill has seen every id: it counts as a census.
        let backfill = cursor.watermark_ms.is_none();
        cursor = Cursor {
            watermark_ms: Some(progress.run_started_ms),
            in_progress: None,
            last_census_ms: if backfill {
                Some(progress.run_started_ms)
            } else {
                cursor.last_census_ms
            },
        };
        ctx.store
            .put_cursor(&integration, &unit.name, &cursor)
            .await?;
    }
    Ok(false)
}

/// One page of ids after `after_id`, ascending, with `updated` when `with_updated`, and whether
/// Jira has more. The end is what Jira says (`isLast`, or the total), never inferred from the page
/// size: Jira may return fewer issues than asked for.
async fn scan_ids(
    client: &JiraClient,
    unit: &Unit,
    since_ms: Option<i64>,
    after_id: u64,
    with_updated: bool,
) -> Result<(Vec<(u64, Option<i64>)>, bool), SyncError> {
    let jql = unit.scan_jql(since_ms, after_id);
    let fields: &[&str] = if with_updated {
        &["id", "updated"]
    } else {
        &["id"]
    };
    let (issues, more) = match client.deployment() {
        Deployment::Cloud => {
            let page = client
                .search_page(&jql, fields, false, ID_PAGE, None)
                .await?;
            let more = !page.is_last.unwrap_or(page.next_page_token.is_none());
            (page.issues, more)
        }
        Deployment::DataCenter => {
            let page = client
                .legacy_search_page(&jql, fields, false, 0, 1000)
                .await?;
            let more = page.total as usize > page.issues.len();
            (page.issues, more)
        }
    };
    let mut ids: Vec<(u64, Option<i64>)> = issues
        .iter()
        .filter_map(|i| {
            let updated = i
                .fields
                .get("updated")
                .and_then(|u| u.as_str())
                .and_then(crate::jira_time::parse)
                .map(|t| t.timestamp_millis());
            i.id.parse().ok().map(|id| (id, updated))
        })
        .collect();
    ids.sort_unstable();
    let more = more && !ids.is_empty();
    Ok((ids, more))
}

/// Full details of a group of issues (missing ones are simply absent): bulk fetches of 100 with
/// the changelog embedded, then only what Jira truncated (the census's occasional re-fetches).
async fn fetch_group(
    client: &JiraClient,
    ids: &[u64],
    fields: &[String],
    excluded: &Excluded,
    parallel: usize,
) -> Result<Vec<StoredIssue>, JiraError> {
    let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
    let requests: Vec<_> = ids
        .chunks(DETAIL_BATCH)
        .map(|batch| fetch_issues(client, batch, &field_refs))
        .collect();
    let issues: Vec<Issue> = futures_util::stream::iter(requests)
        .buffered(parallel)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let truncated: Vec<String> = issues
        .iter()
        .filter(|i| {
            i.changelog
                .as_ref()
                .is_some_and(|c| c.total as usize > c.histories.len())
        })
        .map(|i| i.id.clone())
        .collect();
    let mut full = full_changelogs(client, &truncated).await?;
    let comments: Vec<Vec<Comment>> = if excluded.comments {
        vec![Vec::new(); issues.len()]
    } else {
        let requests: Vec<_> = issues.iter().map(|i| all_comments(client, i)).collect();
        futures_util::stream::iter(requests)
            .buffered(parallel)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?
    };
    Ok(issues
        .into_iter()
        .zip(comments)
        .map(|(mut issue, comments)| {
            let embedded = issue
                .changelog
                .take()
                .map(|c| c.histories)
                .unwrap_or_default();
            let changelog = full.remove(&issue.id).unwrap_or(embedded);
            finish(issue, changelog, comments, excluded)
        })
        .collect())
}

/// Upserts a batch; returns whether anything was written. Issues whose `updated` is what we
/// already hold are skipped (the overlap re-reads them); hand-made flags survive re-syncs.
async fn store_batch(
    ctx: &mut Ctx<'_>,
    unit: &Unit,
    issues: Vec<StoredIssue>,
) -> Result<bool, SyncError> {
    // A hide or remove by hand during this run (a long backfill, or across continuations)
    // must not be overwritten from the index read at its start: the current entries of the
    // issues about to be replaced are read again first. New issues cannot carry hand flags.
    let known: Vec<String> = issues
        .iter()
        .filter(|i| {
            ctx.index
                .get(i.id.parse().unwrap_or(0))
                .is_some_and(|p| replaces(p, i))
        })
        .map(|i| i.id.clone())
        .collect();
    if !known.is_empty() {
        for entry in ctx
            .store
            .index_entries(&ctx.opts.integration, &known)
            .await?
        {
            if let Ok(id) = entry.id.parse() {
                ctx.index.refresh_flags(id, entry.hidden, entry.removed);
            }
        }
    }
    let mut changed = Vec::new();
    for mut issue in issues {
        let previous = ctx.index.get(issue.id.parse().unwrap_or(0));
        match previous {
            Some(p) if !replaces(p, &issue) => continue,
            Some(p) => {
                issue.hidden = p.hidden;
                ctx.counts.issues_updated += 1;
            }
            None => ctx.counts.issues_new += 1,
        }
        ctx.counts.changelog_entries += issue.changelog.len() as u64;
        ctx.counts.comments += issue.comments.len() as u64;
        changed.push(issue);
    }
    if changed.is_empty() {
        return Ok(false);
    }
    ctx.store
        .put_issues(&ctx.opts.integration, &changed)
        .await?;
    reference_data(ctx, &changed).await?;
    for i in &changed {
        ctx.index.stored(
            i.id.parse().unwrap_or(0),
            &i.project_key,
            i.updated_ms,
            i.hidden,
        );
    }
    notify(
        ctx,
        Event::Stored {
            unit: unit.name.clone(),
            issues: changed.len() as u64,
        },
    );
    Ok(true)
}

/// Whether `fetched` is written over the stored issue `previous`: not when it was removed by
/// hand (a tombstone stays), nor when the store already holds this version of a live issue.
fn replaces(previous: &Known, fetched: &StoredIssue) -> bool {
    !previous.removed && (previous.updated_ms != fetched.updated_ms || previous.deleted)
}

/// Users, sprints, versions and (for JQL scopes) projects referenced by stored issues.
async fn reference_data(ctx: &mut Ctx<'_>, issues: &[StoredIssue]) -> Result<(), SyncError> {
    let mut users: HashMap<String, Value> = HashMap::new();
    let mut sprints: HashMap<String, Value> = HashMap::new();
    let mut versions: HashMap<String, Value> = HashMap::new();
    let user_id = |u: &Value| {
        u["accountId"]
            .as_str()
            .or(u["key"].as_str())
            .map(String::from)
    };
    for i in issues {
        for u in ["assignee", "reporter", "creator"]
            .iter()
            .filter_map(|f| i.fields.get(*f))
        {
            if let Some(id) = user_id(u) {
                users.insert(id, u.clone());
            }
        }
        // History and comment authors: people who act on issues without owning any.
        let authors = i
            .changelog
            .iter()
            .filter_map(|h| h.author.as_ref())
            .chain(i.comments.iter().filter_map(|c| c.author.as_ref()));
        for a in authors {
            if let Some(id) = a.account_id.clone().or(a.key.clone()) {
                users
                    .entry(id)
                    .or_insert_with(|| serde_json::to_value(a).unwrap_or(Value::Null));
            }
        }
        if let Some(Value::Array(list)) = ctx.map.sprint.as_ref().and_then(|f| i.fields.get(f)) {
            for s in list {
                if let Some(id) = s["id"].as_u64() {
                    sprints.insert(id.to_string(), s.clone());
                }
            }
        }
        if let Some(Value::Array(list)) = i.fields.get("fixVersions") {
            for v in list {
                if let Some(id) = v["id"].as_str() {
                    versions.insert(id.to_string(), v.clone());
                }
            }
        }
        if let Some(p) = i
            .fields
            .get("project")
            .filter(|_| !ctx.seen_projects.contains(&i.project_key))
        {
            ctx.seen_projects.insert(i.project_key.clone());
            if ctx.opts.scope_is_jql() {
                let record = ProjectRecord {
                    key: i.project_key.clone(),
                    id: p["id"].as_str().unwrap_or_default().to_string(),
                    name: p["name"].as_str().unwrap_or_default().to_string(),
                    onboarded_at_ms: now_ms(),
                };
                ctx.store
                    .put_project(&ctx.opts.integration, &record)
                    .await?;
            }
        }
    }
    let new_users: Vec<Record> = users
        .into_iter()
        .filter(|(id, _)| ctx.seen_users.insert(id.clone()))
        .map(|(id, data)| Record { id, data })
        .collect();
    ctx.store
        .put_records(&ctx.opts.integration, RecordKind::User, &new_users)
        .await?;
    let sprints: Vec<Record> = sprints
        .into_iter()
        .map(|(id, data)| Record { id, data })
        .collect();
    ctx.store
        .put_records(&ctx.opts.integration, RecordKind::Sprint, &sprints)
        .await?;
    let versions: Vec<Record> = versions
        .into_iter()
        .map(|(id, data)| Record { id, data })
        .collect();
    ctx.store
        .put_records(&ctx.opts.integration, RecordKind::Version, &versions)
        .await?;
    Ok(())
}

impl SyncOptions {
    fn scope_is_jql(&self) -> bool {
        matches!(self.scope, Scope::Jql(_))
    }
}

/// Compares every id Jira has for the unit with what we store: stored issues Jira no longer
/// returns are re-fetched by id (a move) or flagged deleted; ids we lack are fetched.
/// Returns how many issues were flagged.
async fn census(ctx: &mut Ctx<'_>, unit: &Unit) -> Result<u64, SyncError> {
    let mut in_jira: HashSet<u64> = HashSet::new();
    let mut last = 0;
    loop {
        let (ids, more) = scan_ids(ctx.client, unit, None, last, false).await?;
        if let Some(&(max, _)) = ids.last() {
            last = max;
        }
        in_jira.extend(ids.into_iter().map(|(id, _)| id));
        if !more {
            break;
        }
    }
    let ours: Vec<u64> = ctx
        .index
        .iter()
        .filter(|(_, e)| !e.deleted && !e.removed)
        .filter(|(_, e)| {
            unit.project
                .as_ref()
                .is_none_or(|p| p == ctx.index.project_of(e))
        })
        .map(|(id, _)| id)
        .collect();
    let mut gone: Vec<u64> = ours
        .iter()
        .copied()
        .filter(|id| !in_jira.contains(id))
        .collect();
    let mut unknown: Vec<u64> = in_jira
        .iter()
        .copied()
        .filter(|id| ctx.index.get(*id).is_none_or(|e| e.deleted))
        .collect();
    // A mass disappearance is lost access or a Jira incident, not deletion: leave it unflagged.
    if ours.len() >= 10 && gone.len() * 2 >= ours.len() {
        ctx.errors.push(format!("{}: {} of {} issues are no longer visible; not flagged as deleted (check the user's permissions)", unit.name, gone.len(), ours.len()));
        gone.clear();
    }
    gone.sort_unstable();
    unknown.sort_unstable();
    // Issues that left a project unit may have moved to another project in scope: fetch them by
    // id before calling them deleted. Leaving a JQL filter, or the scope, counts as gone.
    let (fields, excluded, parallel) = (
        ctx.fields.clone(),
        ctx.opts.excluded,
        ctx.opts.parallel_batches.max(1),
    );
    let mut found_ids: HashSet<String> = HashSet::new();
    let recheck: &[u64] = if ctx.scope_projects.is_some() {
        &gone
    } else {
        &[]
    };
    for batch in recheck.chunks(GROUP).chain(unknown.chunks(GROUP)) {
        let issues: Vec<StoredIssue> = fetch_group(ctx.client, batch, &fields, &excluded, parallel)
            .await?
            .into_iter()
            .filter(|i| {
                ctx.scope_projects
                    .as_ref()
                    .is_none_or(|p| p.contains(&i.project_key))
            })
            .collect();
        found_ids.extend(issues.iter().map(|i| i.id.clone()));
        store_batch(ctx, unit, issues).await?;
    }
    let now = now_ms();
    let mut flagged = 0;
    for id in gone
        .iter()
        .map(u64::to_string)
        .filter(|id| !found_ids.contains(id))
    {
        if ctx
            .store
            .flag_issue(
                &ctx.opts.integration,
                &id,
                IssueFlag::Deleted { at_ms: now },
            )
            .await?
        {
            flagged += 1;
            ctx.index.mark_deleted(id.parse().unwrap_or(0));
        }
    }
    ctx.counts.issues_deleted += flagged;
    Ok(flagged)
}

fn notify(ctx: &Ctx<'_>, event: Event) {
    if let Some(o) = &ctx.observer {
        o(&event);
    }
}
