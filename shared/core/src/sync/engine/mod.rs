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
//!
//! Here: the run (its record, options and errors). `running`: every unit under one in-flight
//! budget, each with its own checkpoints. `unit`: the id scan, group fetches and storing a batch.
//! `census`: deletions. `reference`: fields, statuses, units and the records issues refer to.
//! `scope`: issues and projects the scope no longer takes in, or takes back.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::Value;

use super::plan::{Excluded, FieldMap, Scope, Unit, requested_fields, resolve_fields};
use crate::jira::{JiraClient, JiraError};
use crate::store::{
    Counts, Cursor, DailyCounts, ErrorCategory, RecordKind, RunError, RunOutcome, RunRecord,
    StoreError, SyncStore,
};

mod census;
mod exclusions;
mod reference;
mod running;
mod scope;
mod sources;
mod unit;

use census::{census_pass, check_backfills};
pub use exclusions::{ExclusionProgress, Scrubbing, exclusion_progress, exclusion_progress_in};
use exclusions::{apply_exclusions, refetch_done};
use reference::{reference_data_fields, refresh_reference_data, units};
use running::{UnitsEnded, sync_units};
pub use sources::SOURCES_UNIT;
use sources::{ask_versions, refresh_sources};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Jira(#[from] JiraError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Projects of the scope that Jira does not show the user.
    #[error("project(s) not found or not visible to this user: {}", .0.join(", "))]
    ProjectsNotVisible(Vec<String>),
    /// The integration's configuration cannot be used (a custom field the site lacks).
    #[error("{0}")]
    Config(String),
    /// Another run holds the unit's lease: the unit is skipped, the run goes on.
    #[error("{unit}: another sync holds this unit's lease; skipped")]
    LeaseHeld { unit: String },
    /// Units whose data this run could not complete (issues Jira listed but did not answer, a
    /// listing short of Jira's count): the run went on with the rest, and each such unit keeps
    /// its checkpoint for the next run. Each error names its unit.
    #[error("the sync is incomplete: {}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; "))]
    Incomplete(Vec<RunError>),
    /// The integration was deleted while the run went on: the run stopped and swept what it
    /// had written, and records nothing.
    #[error("the integration was deleted during the sync; what it wrote is removed")]
    IntegrationDeleted,
}

impl SyncError {
    pub fn category(&self) -> ErrorCategory {
        match self {
            SyncError::Jira(e) => jira_category(e),
            SyncError::Store(_) => ErrorCategory::StoreFault,
            SyncError::ProjectsNotVisible(_) => ErrorCategory::ProjectsNotVisible,
            SyncError::Config(_) => ErrorCategory::Configuration,
            SyncError::LeaseHeld { .. } => ErrorCategory::LeaseHeld,
            SyncError::Incomplete(errors) => {
                errors.first().map_or(ErrorCategory::Other, |e| e.category)
            }
            // Never recorded: the run's records go with the integration.
            SyncError::IntegrationDeleted => ErrorCategory::Configuration,
        }
    }

    /// The error as the run records it.
    pub fn run_error(&self) -> RunError {
        RunError::new(self.category(), self.to_string())
    }
}

/// The kind of trouble a Jira error is, for the run's record.
fn jira_category(e: &JiraError) -> ErrorCategory {
    match e {
        JiraError::Unauthenticated { .. } => ErrorCategory::CredentialsRejected,
        JiraError::Forbidden { .. } => ErrorCategory::PermissionMissing,
        JiraError::NotFound { .. } => ErrorCategory::ProjectsNotVisible,
        JiraError::Rejected { .. } => ErrorCategory::RequestRejected,
        JiraError::Gone { .. } => ErrorCategory::ApiRemoved,
        JiraError::RateLimited { .. }
        | JiraError::PastDeadline { .. }
        | JiraError::WaitedTooLong { .. } => ErrorCategory::RateLimited,
        JiraError::Unavailable { .. } => ErrorCategory::JiraUnavailable,
        JiraError::Unreachable { .. }
        | JiraError::Redirected { .. }
        | JiraError::AddressRefused { .. } => ErrorCategory::SiteUnreachable,
        JiraError::Inconsistent(_) => ErrorCategory::ListingInconsistent,
        JiraError::Protocol(_) | JiraError::TooLarge { .. } | JiraError::PagingStalled { .. } => {
            ErrorCategory::UnexpectedResponse
        }
    }
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
    /// Set (the CLI sets it on Ctrl-C) to stop as at the deadline, from the moment it is set.
    pub stop: Option<Arc<AtomicBool>>,
    /// A unit whose last completed sync started at or after this time (and that has no run
    /// under way) is current: this run leaves it be. Set for the continuations of a chain.
    pub current_since_ms: Option<i64>,
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
            stop: None,
            current_since_ms: None,
            lease_ttl_ms: 15 * 60_000,
            run_id: format!("run-{}", chrono::Utc::now().timestamp_millis()),
            parallel_batches: 10,
        }
    }

    /// Whether the run must stop taking on work: its deadline passed, or it was asked to stop.
    pub fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
            || self
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// Progress notifications (the CLI draws its progress bar from them). A run with an observer
/// also asks Jira how many issues each unit expects (one count request per unit).
#[derive(Clone, Debug)]
pub enum Event {
    /// The run's units are known: this many.
    Planned {
        units: usize,
    },
    /// Jira's count of the issues the unit's scan will read (approximate on Cloud).
    Expected {
        unit: String,
        issues: u64,
    },
    UnitStarted {
        unit: String,
    },
    Stored {
        unit: String,
        issues: u64,
    },
    UnitFinished {
        unit: String,
    },
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
    store: &'a dyn SyncStore,
    opts: &'a SyncOptions,
    fields: Vec<String>,
    map: FieldMap,
    counts: Counts,
    errors: Vec<RunError>,
    /// Why units could not be completed this run (see [`SyncError::Incomplete`]).
    incomplete: Vec<RunError>,
    /// Units whose backfill this run read whole, for the check against Jira's count.
    backfilled: Vec<census::Listed>,
    /// Write every issue read, even where the store holds its version: a field no longer
    /// excluded is being fetched again.
    rewrite_all: bool,
    seen_users: HashSet<String>,
    /// Sprints and versions as this run last wrote them: each batch repeats most of them.
    written_records: HashMap<(RecordKind, String), Value>,
    seen_projects: HashSet<String>,
    /// The projects the store held issues of when a unit first asked ([`scope::listed_projects`]).
    listed_projects: Option<HashSet<String>>,
    /// The projects in scope (None for a JQL filter): an issue moved elsewhere leaves the scope.
    scope_projects: Option<HashSet<String>>,
    /// Units whose every id this run has read (a backfill that completed): their census.
    read_every_id: HashSet<String>,
    observer: Option<Observer>,
    /// The run's record as it stands, rewritten now and then while the run writes.
    live: LiveRecord,
}

/// The running run's record and when it was last written: monitoring adds the counts of a run
/// still under way to what the daily counters hold, so a long sync's tickets show as they land.
struct LiveRecord {
    record: RunRecord,
    written: Instant,
}

/// How often, at most, a run's record is written again with its counts so far.
const LIVE_RECORD_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

impl Ctx<'_> {
    /// Saves a unit's moved cursor, counted as the run's progress; what is stored up to it then
    /// shows in the run's record, at most every [`LIVE_RECORD_EVERY`].
    async fn put_cursor(&mut self, unit: &str, cursor: &Cursor) -> Result<(), StoreError> {
        self.store
            .put_cursor(&self.opts.integration, unit, cursor)
            .await?;
        self.counts.checkpoints += 1;
        if self.live.written.elapsed() >= LIVE_RECORD_EVERY {
            self.live.record.counts = self.counts;
            self.store
                .put_run(&self.opts.integration, &self.live.record)
                .await?;
            self.live.written = Instant::now();
        }
        Ok(())
    }

    /// Whether the run must stop taking on work ([`SyncOptions::out_of_time`]).
    fn out_of_time(&self) -> bool {
        self.opts.out_of_time()
    }

    /// Takes the unit's lease for this run; false while another run holds it.
    async fn take_lease(&self, unit: &Unit) -> Result<bool, StoreError> {
        let o = self.opts;
        self.store
            .acquire_lease(
                &o.integration,
                &unit.name,
                &o.run_id,
                now_ms(),
                o.lease_ttl_ms,
            )
            .await
    }

    async fn release_lease(&self, unit: &Unit) -> Result<(), StoreError> {
        let o = self.opts;
        self.store
            .release_lease(&o.integration, &unit.name, &o.run_id)
            .await
    }
}

/// The lease of a whole run (the store's lease of the unit `~run`), taken beside its units': a
/// run whose own lease ran out still holds the units it is writing.
const RUN_LEASE: &str = "~run";

/// Runs one sync of the integration's scope and records it.
pub async fn run(
    client: &JiraClient,
    store: &dyn SyncStore,
    opts: &SyncOptions,
    observer: Option<Observer>,
) -> Result<RunRecord, SyncError> {
    let started = now_ms();
    let stats = client.stats();
    let (requests0, retries0) = (stats.requests(), stats.retries());
    let (throttled0, waited0) = (stats.throttled(), stats.waited());
    let mut record = RunRecord {
        run_id: opts.run_id.clone(),
        started_ms: started,
        ended_ms: None,
        outcome: RunOutcome::Running,
        projects: Vec::new(),
        counts: Counts::default(),
        errors: Vec::new(),
        synced_through_ms: None,
    };
    store.put_run(&opts.integration, &record).await?;
    // Before any other work (the project listing, the issue index): a run that finds another
    // under way is skipped at once.
    let result = if !store
        .acquire_lease(
            &opts.integration,
            RUN_LEASE,
            &opts.run_id,
            started,
            opts.lease_ttl_ms,
        )
        .await?
    {
        Ok(Ended::Skipped)
    } else {
        let result = sync_all(client, store, opts, observer, &mut record).await;
        // However the run ended: a run Jira stopped is when the store falls behind.
        record.synced_through_ms = synced_through(store, opts).await?;
        store
            .release_lease(&opts.integration, RUN_LEASE, &opts.run_id)
            .await?;
        result
    };
    let result = match result {
        // Jira asked for a wait that would outlast the run, or the time it may spend waiting:
        // stop at the checkpoint (every unit keeps its cursor and gives back its lease) and let
        // a continuation (or the next run) resume.
        Err(
            e @ SyncError::Jira(JiraError::PastDeadline { .. } | JiraError::WaitedTooLong { .. }),
        ) => {
            record.errors.push(e.run_error());
            Ok(Ended::Partial)
        }
        other => other,
    };
    if !matches!(result, Err(SyncError::IntegrationDeleted)) {
        record.ended_ms = Some(now_ms());
        record.counts.requests = stats.requests() - requests0;
        record.counts.retries = stats.retries() - retries0;
        record.counts.throttled = stats.throttled() - throttled0;
        record.counts.waited_ms =
            u64::try_from(stats.waited().saturating_sub(waited0).as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(ended) => {
                record.outcome = match ended {
                    Ended::Partial => RunOutcome::Partial,
                    Ended::Complete => RunOutcome::Succeeded,
                    Ended::Skipped => RunOutcome::Skipped,
                }
            }
            Err(e) => {
                record.outcome = RunOutcome::Failed;
                record.errors.push(e.run_error());
            }
        }
        close_run(store, &opts.integration, &record).await?;
    }
    if swept_if_deleted(store, &opts.integration).await? {
        return Err(SyncError::IntegrationDeleted);
    }
    result.map(|_| record)
}

/// Called once every write of a run is behind it: a deletion of the integration that began
/// meanwhile has either removed those writes or left the tombstone found here, and then what
/// the run wrote is swept (see `DeletionFence`); whether it was.
async fn swept_if_deleted(store: &dyn SyncStore, integration: &str) -> Result<bool, StoreError> {
    if !store.integration_deleted(integration).await? {
        return Ok(false);
    }
    store.sweep_deleted(integration).await?;
    Ok(true)
}

/// Records a run that could not start — no token, a site URL now refused, a configuration the
/// sync cannot use — as failed, so that monitoring shows the failure like any other.
pub async fn record_unstarted_run(
    store: &dyn SyncStore,
    integration: &str,
    run_id: &str,
    error: RunError,
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
        synced_through_ms: None,
    };
    close_run(store, integration, &record).await?;
    swept_if_deleted(store, integration).await?;
    Ok(record)
}

/// A run's end: its counts go into the day's counters, then the run record is replaced.
async fn close_run(
    store: &dyn SyncStore,
    integration: &str,
    record: &RunRecord,
) -> Result<(), StoreError> {
    let day = chrono::Utc::now().date_naive();
    let daily = DailyCounts {
        runs: u64::from(record.outcome != RunOutcome::Skipped),
        failed_runs: u64::from(record.outcome == RunOutcome::Failed),
        ..DailyCounts::written(&record.counts)
    };
    store.add_daily(integration, day, &daily).await?;
    store.put_run(integration, record).await
}

/// How a run that did not fail ended.
enum Ended {
    Complete,
    /// Stopped at its deadline with a checkpoint.
    Partial,
    /// Every unit was held by another run: nothing done.
    Skipped,
}

async fn sync_all(
    client: &JiraClient,
    store: &dyn SyncStore,
    opts: &SyncOptions,
    observer: Option<Observer>,
    record: &mut RunRecord,
) -> Result<Ended, SyncError> {
    // The site's fields (with its statuses) and the scope's projects, asked for side by side.
    let (site_fields, units) = tokio::try_join!(
        reference_data_fields(client, store, opts),
        units(client, store, opts)
    )?;
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

    record.projects = units.iter().filter_map(|u| u.project.clone()).collect();
    // Versions depend on no issue: asked for beside the sync (a JQL scope's projects are known
    // only from its issues).
    let versions = (!opts.scope_is_jql()).then(|| ask_versions(client, record.projects.clone()));
    // Before the index is read: the scrub writes issues again.
    let Some(rewrite_all) = apply_exclusions(store, opts, &units).await? else {
        // The scrub went at least a page on before the time ran out.
        record.counts.checkpoints += 1;
        return Ok(Ended::Partial);
    };
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
        counts: Counts::default(),
        errors: Vec::new(),
        incomplete: Vec::new(),
        backfilled: Vec::new(),
        rewrite_all,
        seen_users: HashSet::new(),
        written_records: HashMap::new(),
        seen_projects: HashSet::new(),
        listed_projects: None,
        scope_projects,
        read_every_id: HashSet::new(),
        observer,
        live: LiveRecord {
            record: record.clone(),
            written: Instant::now(),
        },
    };
    // Before the units: what they list is then compared with the scope as it is now.
    if !scope::settle_project_scope(&mut ctx).await? {
        record.counts = ctx.counts;
        return Ok(Ended::Partial);
    }
    let UnitsEnded { partial, held } = match sync_units(&mut ctx, &units).await {
        Ok(ended) => ended,
        Err(e) => {
            record.counts = ctx.counts;
            record.errors = ctx.errors;
            return Err(e);
        }
    };
    check_backfills(&mut ctx).await?;
    let mut ended = if partial {
        Ended::Partial
    } else if held > 0 && held == units.len() {
        Ended::Skipped
    } else {
        Ended::Complete
    };
    // A census stopped at the deadline keeps its place; a continuation goes on with it.
    if matches!(ended, Ended::Complete) && ctx.opts.census && census_pass(&mut ctx, &units).await? {
        ended = Ended::Partial;
    }
    if matches!(ended, Ended::Complete) {
        scope::settle_filter_projects(&ctx).await?;
        let before = client.stats().requests();
        match refresh_sources(&mut ctx, &units, versions).await {
            // The issues are in: reference data Jira would not give this time is a warning, and
            // the next run refreshes it.
            Err(SyncError::Jira(e)) => ctx.errors.push(RunError::new(
                jira_category(&e),
                format!("reference data not refreshed: {e}"),
            )),
            other => other?,
        }
        ctx.counts.reference_requests += client.stats().requests() - before;
    }
    if ctx.rewrite_all && matches!(ended, Ended::Complete) && held == 0 && ctx.incomplete.is_empty()
    {
        // Every unit was read whole with the fields back in.
        refetch_done(store, &opts.integration).await?;
    }
    record.counts = ctx.counts;
    record.errors = ctx.errors;
    if !ctx.incomplete.is_empty() {
        return Err(SyncError::Incomplete(ctx.incomplete));
    }
    Ok(ended)
}

/// The oldest watermark of the scope's units that have one ([`RunRecord::synced_through_ms`]).
/// The units are those the store knows (the projects it recorded, or the filter's), not Jira's
/// list: a run Jira refused before it listed the projects still says how far behind the store is.
async fn synced_through(
    store: &dyn SyncStore,
    opts: &SyncOptions,
) -> Result<Option<i64>, StoreError> {
    let units = match &opts.scope {
        Scope::Jql(jql) => vec![Unit::filter(jql)],
        Scope::Projects(_) | Scope::AllAccessible => store
            .list_projects(&opts.integration)
            .await?
            .iter()
            .map(|p| Unit::project(&p.key))
            .collect(),
    };
    let mut oldest: Option<i64> = None;
    for unit in &units {
        let watermark = store
            .get_cursor(&opts.integration, &unit.name)
            .await?
            .and_then(|c| c.watermark_ms);
        oldest = match (oldest, watermark) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(oldest)
}

fn due(last_ms: Option<i64>, every_ms: i64) -> bool {
    last_ms.is_none_or(|t| now_ms() - t >= every_ms)
}

impl SyncOptions {
    fn scope_is_jql(&self) -> bool {
        matches!(self.scope, Scope::Jql(_))
    }
}

fn notify(ctx: &Ctx<'_>, event: Event) {
    if let Some(o) = &ctx.observer {
        o(&event);
    }
}
