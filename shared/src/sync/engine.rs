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
use serde_json::{Value, json};

use super::normalize::stored_issue;
use super::plan::{Excluded, FieldMap, Scope, Unit, requested_fields, resolve_fields};
use crate::jira::models::{History, Issue};
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
    /// Run the deletion census after the incremental scan.
    pub census: bool,
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
/// Issues per bulk fetch (Jira's limit with the changelog embedded).
const DETAIL_BATCH: usize = 100;
/// Issues per checkpoint: truncated changelogs of a whole group share bulk changelog requests.
const GROUP: usize = 500;
const GROUPS_IN_FLIGHT: usize = 2;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

struct Ctx<'a> {
    client: &'a JiraClient,
    store: &'a dyn Store,
    opts: &'a SyncOptions,
    fields: Vec<String>,
    map: FieldMap,
    index: HashMap<String, IssueIndexEntry>,
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
    let day = chrono::Utc::now().date_naive();
    let daily = DailyCounts {
        issues_new: record.counts.issues_new,
        issues_updated: record.counts.issues_updated,
        issues_deleted: record.counts.issues_deleted,
        runs: 1,
        failed_runs: u64::from(record.outcome == RunOutcome::Failed),
    };
    store.add_daily(&opts.integration, day, &daily).await?;
    store.put_run(&opts.integration, &record).await?;
    result.map(|_| record)
}

/// Returns whether the run stopped early at its deadline.
async fn sync_all(
    client: &JiraClient,
    store: &dyn Store,
    opts: &SyncOptions,
    observer: Option<Observer>,
    record: &mut RunRecord,
) -> Result<bool, SyncError> {
    let site_fields = client.fields().await?;
    let map = resolve_fields(&site_fields, &opts.custom_fields).map_err(SyncError::Config)?;
    let fields = requested_fields(&map, &opts.excluded);
    let field_records: Vec<Record> = site_fields.iter().filter(|f| f.custom).map(|f| Record { id: f.id.clone(), data: json!({"name": f.name, "type": f.schema.as_ref().map(|s| s.kind.clone()), "custom": f.schema.as_ref().and_then(|s| s.custom.clone())}) }).collect();
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

    let units = units(client, store, opts).await?;
    record.projects = units.iter().filter_map(|u| u.project.clone()).collect();
    let index = store
        .issue_index(&opts.integration)
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
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
    record.counts = ctx.counts;
    record.errors = ctx.errors;
    Ok(partial)
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
    let mut wrote = false;
    loop {
        // Incremental windows also read `updated`, so issues we already hold at that version
        // (the overlap) are not fetched again; a backfill scans bare ids, in the largest pages.
        let incremental = progress.window_start_ms.is_some();
        let (page, more) = scan_ids(
            ctx,
            unit,
            progress.window_start_ms,
            progress.last_id,
            incremental,
        )
        .await?;
        let scanned_to = page.last().map(|(id, _)| *id);
        let ids: Vec<u64> = page
            .into_iter()
            .filter(
                |(id, updated)| match (updated, ctx.index.get(&id.to_string())) {
                    (Some(u), Some(known)) => known.updated_ms != *u || known.deleted,
                    _ => true,
                },
            )
            .map(|(id, _)| id)
            .collect();
        // Groups of ids are fetched concurrently (the client bounds requests in flight) and
        // stored strictly in id order, each followed by a checkpoint.
        let groups: Vec<Vec<u64>> = ids.chunks(GROUP).map(<[u64]>::to_vec).collect();
        let client = ctx.client.clone();
        let (fields, excluded, parallel) = (
            ctx.fields.clone(),
            ctx.opts.excluded,
            ctx.opts.parallel_batches.max(1),
        );
        let mut fetched = futures_util::stream::iter(groups)
            .map(|group| {
                let (client, fields) = (client.clone(), fields.clone());
                // A task per group: parsing large responses runs on the runtime's workers.
                let task = tokio::spawn(async move {
                    fetch_group(&client, &group, &fields, &excluded, parallel)
                        .await
                        .map(|issues| (group, issues))
                });
                async move {
                    task.await.unwrap_or_else(|e| {
                        Err(JiraError::Protocol(format!("fetch task failed: {e}")))
                    })
                }
            })
            .buffered(GROUPS_IN_FLIGHT);
        while let Some(result) = fetched.next().await {
            let (group, issues) = result?;
            store_batch(ctx, unit, issues).await?;
            progress.last_id = *group.last().expect("groups are non-empty");
            cursor.in_progress = Some(progress.clone());
            ctx.store
                .put_cursor(&integration, &unit.name, &cursor)
                .await?;
            wrote = true;
            if ctx.opts.deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(true);
            }
        }
        if let Some(last) = scanned_to {
            progress.last_id = progress.last_id.max(last);
        }
        if !more {
            break;
        }
    }
    // A first backfill has nothing stored to miss; the census starts with the next run.
    let backfill = cursor.watermark_ms.is_none() && !resumed;
    let flagged = if ctx.opts.census && !backfill {
        census(ctx, unit).await?
    } else {
        0
    };
    if wrote || resumed || flagged > 0 || cursor.watermark_ms.is_none() {
        cursor = Cursor {
            watermark_ms: Some(progress.run_started_ms),
            in_progress: None,
            last_census_ms: Some(now_ms()),
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
    ctx: &Ctx<'_>,
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
    let (issues, more) = match ctx.client.deployment() {
        Deployment::Cloud => {
            let page = ctx
                .client
                .search_page(&jql, fields, false, ID_PAGE, None)
                .await?;
            let more = !page.is_last.unwrap_or(page.next_page_token.is_none());
            (page.issues, more)
        }
        Deployment::DataCenter => {
            let page = ctx
                .client
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
/// the changelog embedded, then only what Jira truncated — changelogs through the bulk changelog
/// endpoint for the whole group at once, comments page by page.
async fn fetch_group(
    client: &JiraClient,
    ids: &[u64],
    fields: &[String],
    excluded: &Excluded,
    parallel: usize,
) -> Result<Vec<StoredIssue>, JiraError> {
    let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
    // Futures built up front (no closure captured in the stream): the whole group can run in a
    // spawned task.
    let requests: Vec<_> = ids
        .chunks(DETAIL_BATCH)
        .map(|batch| fetch_issues(client, batch, &field_refs))
        .collect();
    let pages: Vec<Vec<Issue>> = futures_util::stream::iter(requests)
        .buffered(parallel)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let issues: Vec<Issue> = pages.into_iter().flatten().collect();

    // Complete the changelogs Jira truncated (Cloud embeds only the newest 40).
    let truncated: Vec<String> = issues
        .iter()
        .filter(|i| {
            i.changelog
                .as_ref()
                .is_some_and(|c| c.total as usize > c.histories.len())
        })
        .map(|i| i.id.clone())
        .collect();
    let mut full: HashMap<String, Vec<History>> = HashMap::new();
    for chunk in truncated.chunks(1000) {
        let mut token: Option<String> = None;
        loop {
            let page = client
                .changelog_bulk(chunk, token.as_deref(), 10_000)
                .await?;
            for log in page.issue_change_logs {
                full.entry(log.issue_id)
                    .or_default()
                    .extend(log.change_histories);
            }
            match page.next_page_token {
                Some(t) => token = Some(t),
                None => break,
            }
        }
    }
    // Comments, where more exist than were embedded.
    let comments: Vec<Vec<crate::jira::models::Comment>> = if excluded.comments {
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
    let mut stored = Vec::with_capacity(issues.len());
    for (mut issue, comments) in issues.into_iter().zip(comments) {
        let embedded = issue
            .changelog
            .take()
            .map(|c| c.histories)
            .unwrap_or_default();
        let mut changelog = full.remove(&issue.id).unwrap_or(embedded);
        changelog.sort_by_key(|h| {
            (
                crate::jira_time::parse(&h.created)
                    .map(|t| t.timestamp_millis())
                    .unwrap_or(0),
                h.id.parse::<u64>().unwrap_or(0),
            )
        });
        changelog.dedup_by(|a, b| a.id == b.id);
        stored.push(stored_issue(issue, changelog, comments, excluded));
    }
    Ok(stored)
}

/// One bulk request's worth of issues, changelog embedded.
async fn fetch_issues(
    client: &JiraClient,
    batch: &[u64],
    fields: &[&str],
) -> Result<Vec<Issue>, JiraError> {
    match client.deployment() {
        Deployment::Cloud => Ok(client
            .bulk_fetch(
                &batch.iter().map(u64::to_string).collect::<Vec<_>>(),
                fields,
                true,
            )
            .await?
            .issues),
        Deployment::DataCenter => {
            let list = batch
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            Ok(client
                .legacy_search_page(
                    &format!("id in ({list}) ORDER BY id ASC"),
                    fields,
                    true,
                    0,
                    batch.len() as u32,
                )
                .await?
                .issues)
        }
    }
}

/// The issue's comments: the embedded ones, or every page when Jira truncated them.
async fn all_comments(
    client: &JiraClient,
    issue: &Issue,
) -> Result<Vec<crate::jira::models::Comment>, JiraError> {
    let field = issue.fields.get("comment");
    let embedded: Vec<crate::jira::models::Comment> = field
        .and_then(|c| serde_json::from_value(c["comments"].clone()).ok())
        .unwrap_or_default();
    let total = field
        .and_then(|c| c["total"].as_u64())
        .unwrap_or(embedded.len() as u64);
    if embedded.len() as u64 >= total {
        return Ok(embedded);
    }
    let mut all = Vec::with_capacity(total as usize);
    loop {
        let page = client
            .comments_page(&issue.id, all.len() as u64, 100)
            .await?;
        let n = page.comments.len();
        all.extend(page.comments);
        if n == 0 || all.len() as u64 >= page.total {
            return Ok(all);
        }
    }
}

/// Upserts a batch; returns whether anything was written. Issues whose `updated` is what we
/// already hold are skipped (the overlap re-reads them); hand-made flags survive re-syncs.
async fn store_batch(
    ctx: &mut Ctx<'_>,
    unit: &Unit,
    issues: Vec<StoredIssue>,
) -> Result<bool, SyncError> {
    let mut changed = Vec::new();
    for mut issue in issues {
        let previous = ctx.index.get(&issue.id);
        match previous {
            Some(p) if p.removed => continue,
            Some(p) if p.updated_ms == issue.updated_ms && !p.deleted => continue,
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
        ctx.index.insert(
            i.id.clone(),
            IssueIndexEntry {
                id: i.id.clone(),
                project_key: i.project_key.clone(),
                updated_ms: i.updated_ms,
                deleted: false,
                hidden: i.hidden,
                removed: false,
            },
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
        let (ids, more) = scan_ids(ctx, unit, None, last, false).await?;
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
        .values()
        .filter(|e| !e.deleted && !e.removed)
        .filter(|e| unit.project.as_ref().is_none_or(|p| *p == e.project_key))
        .filter_map(|e| e.id.parse().ok())
        .collect();
    let mut gone: Vec<u64> = ours
        .iter()
        .copied()
        .filter(|id| !in_jira.contains(id))
        .collect();
    let mut unknown: Vec<u64> = in_jira
        .iter()
        .copied()
        .filter(|id| ctx.index.get(&id.to_string()).is_none_or(|e| e.deleted))
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
            if let Some(e) = ctx.index.get_mut(&id) {
                e.deleted = true;
            }
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
