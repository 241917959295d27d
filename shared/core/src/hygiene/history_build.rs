//! Builds an integration's hygiene history ([`super::history`]) over the store: a chunk of
//! issues at a time, each chunk's counts added to the sums of every instant, then the build's
//! record moved past it — so that a run stopped anywhere (its deadline, a Lambda stopped) is
//! finished by the next without counting a chunk twice. One run builds an integration at a
//! time (a lease). A build starts by itself when the integration has none, or when the one
//! kept was counted on other criteria; [`request`] starts one on demand.

use std::time::Instant;

use serde::Serialize;

use super::criteria::{self, Catalog};
use super::fields_at::fields_at;
use super::history::{DEFAULT_WEEKS, HistoryBuild, MAX_WEEKS, Sum, Tally, add_chunk};
use super::indexer::basis;
use super::request::HygieneError;
use super::rules::Settings;
use super::scope::{IntegrationHygiene, catalog_of};
use super::score::skips;
use crate::hygiene::as_of::Past;
use crate::store::{
    DeletionFence, HistoryStore, HygieneStore, IntegrationRecord, IssueStore, RecordKind,
    RecordStore, SyncStateStore,
};

/// What a build reads and writes.
pub trait HistoryBuildStore:
    HistoryStore + HygieneStore + IssueStore + RecordStore + SyncStateStore + DeletionFence
{
}

impl<T> HistoryBuildStore for T where
    T: HistoryStore
        + HygieneStore
        + IssueStore
        + RecordStore
        + SyncStateStore
        + DeletionFence
        + ?Sized
{
}

/// The lease unit; no project key or filter unit can take this name.
pub const LEASE_UNIT: &str = "#hygiene-history";
/// Renewed before every chunk.
const LEASE_TTL_MS: i64 = 2 * 60 * 1000;
/// Issues counted per chunk: the unit a run stops after, and that the sums say they hold.
pub const CHUNK: usize = 2_000;
/// How often a run writes its sums (one per instant) and record back. Writing them after every
/// chunk cost more than counting the chunk (at 100,000 issues: 63 sums of every cell, written
/// 50 times); a run stopped without saving counts at most this much work again.
const SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(20);
/// Issues read per store call.
const PAGE: usize = 200;

/// Where the history stands after a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryState {
    /// The points are kept (by this run or an earlier one) on the current criteria.
    Built,
    /// The build goes on in the next run (the deadline came first).
    Behind,
    /// Another run holds the build.
    Busy,
    /// The integration's deletion began: what the run wrote was swept.
    Gone,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryRun {
    pub state: HistoryState,
    /// Issues read by this run.
    pub read: u64,
    /// The build's record as the run left it.
    pub build: Option<HistoryBuild>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Why a number of weeks is refused.
pub fn check_weeks(weeks: u32) -> Result<u32, String> {
    if (1..=MAX_WEEKS).contains(&weeks) {
        Ok(weeks)
    } else {
        Err(format!(
            "weeks must be from 1 to {MAX_WEEKS} (two years), not {weeks}"
        ))
    }
}

/// Starts a build of the last `weeks` weeks now (a build stopped midway starts again from the
/// first issue); the points kept stay until it replaces them. None while a run holds the build.
pub async fn request<S: HistoryBuildStore + ?Sized>(
    store: &S,
    record: &IntegrationRecord,
    owner: &str,
    weeks: u32,
) -> Result<Option<HistoryBuild>, HygieneError> {
    let integration = record.id.as_str();
    if !store
        .acquire_lease(integration, LEASE_UNIT, owner, now_ms(), LEASE_TTL_MS)
        .await?
    {
        return Ok(None);
    }
    let started = async {
        let scope = IntegrationHygiene::load(store, record).await?;
        let basis = basis(&scope.criteria, &scope.custom_fields);
        let build = HistoryBuild::start(basis, weeks, now_ms());
        store.clear_history_sums(integration).await?;
        store.put_history_build(integration, &build).await?;
        Ok::<_, HygieneError>(build)
    }
    .await;
    store.release_lease(integration, LEASE_UNIT, owner).await?;
    started.map(Some)
}

/// Whether [`run`] has a build to make: none was made, one runs, or the kept one was counted
/// on other criteria.
pub async fn due<S: HistoryBuildStore + ?Sized>(
    store: &S,
    record: &IntegrationRecord,
) -> Result<bool, HygieneError> {
    let scope = IntegrationHygiene::load(store, record).await?;
    let basis = basis(&scope.criteria, &scope.custom_fields);
    Ok(match store.get_history_build(&record.id).await? {
        Some(build) => build.running() || build.basis != basis,
        None => true,
    })
}

/// Goes on with the integration's build until `deadline` (at least one chunk a run), starting
/// one when it has none or when the kept one was counted on other criteria. `progress` hears
/// the build's record after every chunk, and answers whether to go on (a person's Ctrl-C).
pub async fn run<S: HistoryBuildStore + ?Sized>(
    store: &S,
    record: &IntegrationRecord,
    owner: &str,
    deadline: Option<Instant>,
    progress: &mut (dyn FnMut(&HistoryBuild) -> bool + Send),
) -> Result<HistoryRun, HygieneError> {
    let integration = record.id.as_str();
    if !due(store, record).await? {
        return Ok(HistoryRun {
            state: HistoryState::Built,
            read: 0,
            build: store.get_history_build(integration).await?,
        });
    }
    if !store
        .acquire_lease(integration, LEASE_UNIT, owner, now_ms(), LEASE_TTL_MS)
        .await?
    {
        return Ok(HistoryRun {
            state: HistoryState::Busy,
            read: 0,
            build: None,
        });
    }
    let outcome = Builder::open(store, record, owner).await;
    let outcome = match outcome {
        Ok(mut builder) => builder.steps(deadline, progress).await,
        Err(e) => Err(e),
    };
    store.release_lease(integration, LEASE_UNIT, owner).await?;
    let mut outcome = outcome?;
    if store.integration_deleted(integration).await? {
        store.sweep_deleted(integration).await?;
        outcome.state = HistoryState::Gone;
    }
    Ok(outcome)
}

struct Builder<'a, S: ?Sized> {
    store: &'a S,
    integration: &'a str,
    owner: &'a str,
    scope: IntegrationHygiene,
    catalog: Catalog,
    past: Past,
    read: u64,
}

impl<'a, S: HistoryBuildStore + ?Sized> Builder<'a, S> {
    async fn open(
        store: &'a S,
        record: &'a IntegrationRecord,
        owner: &'a str,
    ) -> Result<Self, HygieneError> {
        let integration = record.id.as_str();
        let scope = IntegrationHygiene::load(store, record).await?;
        let catalog = catalog_of(store, integration, &scope.custom_fields).await?;
        let (statuses, sprints, users) = tokio::try_join!(
            store.list_records(integration, RecordKind::Status),
            store.list_records(integration, RecordKind::Sprint),
            store.list_records(integration, RecordKind::User),
        )?;
        Ok(Builder {
            store,
            integration,
            owner,
            scope,
            catalog,
            past: Past::new(&statuses, &sprints, &users),
            read: 0,
        })
    }

    fn outcome(&self, state: HistoryState, build: HistoryBuild) -> HistoryRun {
        HistoryRun {
            state,
            read: self.read,
            build: Some(build),
        }
    }

    async fn steps(
        &mut self,
        deadline: Option<Instant>,
        progress: &mut (dyn FnMut(&HistoryBuild) -> bool + Send),
    ) -> Result<HistoryRun, HygieneError> {
        let basis = basis(&self.scope.criteria, &self.scope.custom_fields);
        let mut build = match self.store.get_history_build(self.integration).await? {
            Some(build) if build.basis == basis => build,
            other => {
                let weeks = other.map_or(DEFAULT_WEEKS, |b| b.weeks);
                self.store.clear_history_sums(self.integration).await?;
                HistoryBuild::start(basis, weeks, now_ms())
            }
        };
        // The sums are read once a run and written back every SAVE_EVERY and when the run
        // stops: a run stopped between two saves counts its chunks since the last one again.
        let mut sums = placed(self.store.history_sums(self.integration).await?);
        let mut saved = Instant::now();
        let mut stepped = false;
        while build.running() {
            if stepped && deadline.is_some_and(|d| Instant::now() >= d) {
                self.save(&build, &sums).await?;
                return Ok(self.outcome(HistoryState::Behind, build));
            }
            if self.store.integration_deleted(self.integration).await? {
                return Ok(self.outcome(HistoryState::Gone, build));
            }
            let renewed = self
                .store
                .acquire_lease(
                    self.integration,
                    LEASE_UNIT,
                    self.owner,
                    now_ms(),
                    LEASE_TTL_MS,
                )
                .await?;
            if !renewed {
                return Ok(self.outcome(HistoryState::Busy, build));
            }
            let last = self.chunk(&mut build, &mut sums).await?;
            stepped = true;
            if last {
                self.finish(&mut build, sums).await?;
                progress(&build);
                break;
            }
            if saved.elapsed() >= SAVE_EVERY {
                self.save(&build, &sums).await?;
                saved = Instant::now();
            }
            if !progress(&build) {
                self.save(&build, &sums).await?;
                return Ok(self.outcome(HistoryState::Behind, build));
            }
        }
        Ok(self.outcome(HistoryState::Built, build))
    }

    /// The sums, then the record that says which chunks they hold: a run stopped between the
    /// two finds sums ahead of the record, and [`add_chunk`] adds no chunk twice.
    async fn save(&self, build: &HistoryBuild, sums: &[Sum]) -> Result<(), HygieneError> {
        let held: Vec<(usize, Sum)> = sums
            .iter()
            .enumerate()
            .filter(|(_, s)| s.through > 0)
            .map(|(n, s)| (n, s.clone()))
            .collect();
        self.store.put_history_sums(self.integration, &held).await?;
        self.store
            .put_history_build(self.integration, build)
            .await?;
        Ok(())
    }

    /// Keeps the sums as the points, then the finished record.
    async fn finish(&self, build: &mut HistoryBuild, sums: Vec<Sum>) -> Result<(), HygieneError> {
        // Instants before the first ticket have nothing to show.
        let points: Vec<_> = sums
            .into_iter()
            .map(|s| s.snapshot)
            .filter(|p| !p.cells.is_empty())
            .collect();
        self.store
            .put_history_points(self.integration, &points)
            .await?;
        self.store.clear_history_sums(self.integration).await?;
        build.finished_ms = Some(now_ms());
        self.store
            .put_history_build(self.integration, build)
            .await?;
        Ok(())
    }

    /// Counts the next chunk into the sums; whether it was the last (a short chunk).
    async fn chunk(
        &mut self,
        build: &mut HistoryBuild,
        sums: &mut Vec<Sum>,
    ) -> Result<bool, HygieneError> {
        let settings = self.scope.config.settings(Settings::default());
        let mut tally = Tally::new(&build.instants, &self.scope.custom_names());
        let mut after = build.after.clone();
        let mut counted = 0;
        while counted < CHUNK {
            let page = self
                .store
                .list_issues(
                    self.integration,
                    after.as_deref(),
                    PAGE.min(CHUNK - counted),
                )
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            counted += page.len();
            let (kept, catalog, past) = (&self.scope.criteria, &self.catalog, &self.past);
            for issue in page.iter().filter(|i| i.counts()) {
                // Each custom miss on the fields as they stood at the instant.
                let matched = |at: i64| -> Vec<bool> {
                    if kept.is_empty() {
                        return Vec::new();
                    }
                    let then = fields_at(issue, past, at);
                    kept.iter()
                        .map(|c| criteria::matches(c, &then, catalog))
                        .collect()
                };
                tally.add(issue, catalog.sprint_field(), past, matched);
            }
            if page.len() < PAGE {
                break;
            }
        }
        self.read += counted as u64;
        if counted > 0 {
            let chunk = build.chunks + 1;
            let snapshots = tally.snapshots(&settings, &skips(&settings, &self.scope.excluded))?;
            add_chunk(sums, chunk, snapshots);
            build.chunks = chunk;
            build.after = after;
            build.issues += counted as u64;
        }
        Ok(counted < CHUNK)
    }
}

/// Sums in their positions, an empty one where none was kept.
fn placed(kept: Vec<(usize, Sum)>) -> Vec<Sum> {
    let mut sums = Vec::new();
    for (n, sum) in kept {
        if sums.len() <= n {
            sums.resize(n + 1, Sum::default());
        }
        sums[n] = sum;
    }
    sums
}
