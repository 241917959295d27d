//! Keeps an integration's hygiene aggregate in the store, so that reports and snapshots read a
//! few cells instead of every issue: after a sync only the issues written since the last run
//! (their marks) are evaluated again; a new basis (custom criteria or the custom-field mapping
//! changed) builds the index again from every issue, resumably, while reports are answered by
//! reading the issues and say so.
//!
//! One indexer works on an integration at a time (a lease); each batch goes through the head's
//! journal ([`super::index`]), so a run stopped anywhere is finished by the next one without
//! counting anything twice. Under the same lease it keeps the DORA profiles' members
//! ([`crate::dora::upkeep`]): each issue it evaluates is classified under every profile too.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::Serialize;

use super::criteria::{self, Catalog, Criterion};
use super::index::{
    Build, Change, ChangeMark, Contribution, IndexHead, IndexedCell, Journal, aggregate_of,
    apply_journal,
};
use super::request::HygieneError;
use super::scope::IntegrationHygiene;
use super::{Aggregate, Cell, IssueFacts};
use crate::dora::upkeep::Upkeep;
use crate::store::{
    DeletionFence, DoraStore, HygieneIndexStore, HygieneStore, IntegrationRecord, IssueStore,
    RecordStore, StoreError, StoredIssue, SyncStateStore,
};

/// What a refresh reads and writes: the issues and their marks, the aggregate, the settings
/// and DORA profiles it evaluates against, its lease and the deletion fence.
pub trait IndexerStore:
    HygieneIndexStore
    + HygieneStore
    + DoraStore
    + DeletionFence
    + IssueStore
    + RecordStore
    + SyncStateStore
{
}

impl<T> IndexerStore for T where
    T: HygieneIndexStore
        + HygieneStore
        + DoraStore
        + DeletionFence
        + IssueStore
        + RecordStore
        + SyncStateStore
        + ?Sized
{
}

/// The lease unit; no project key or filter unit can take this name.
pub const LEASE_UNIT: &str = "#hygiene-index";
/// Renewed before every batch; a run stopped without releasing it holds the index this long.
const LEASE_TTL_MS: i64 = 2 * 60 * 1000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Issues per batch: the journal of one batch stays far below a DynamoDB item's 400 KB. (Larger
/// batches on the embedded store, 1,000 issues, took as long at 100,000 issues and 12 % longer
/// at 1,000,000: a batch writes every cell it touches, and a larger one touches more.)
pub const BATCH: usize = 100;
/// Marks read at a time.
const MARKS: usize = 1_000;

/// Marks in batches of at most [`BATCH`] issues, every mark of one issue in the same batch.
fn batches_of(mut marks: Vec<ChangeMark>) -> Vec<Vec<ChangeMark>> {
    marks.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out: Vec<Vec<ChangeMark>> = Vec::new();
    let mut issues = 0;
    for mark in marks {
        let same_issue = out
            .last()
            .and_then(|b| b.last())
            .is_some_and(|last| last.id == mark.id);
        if !same_issue {
            if issues % BATCH == 0 {
                out.push(Vec::new());
            }
            issues += 1;
        }
        if let Some(batch) = out.last_mut() {
            batch.push(mark);
        }
    }
    out
}

/// What the kept counts depend on: the version of what is kept of each issue
/// ([`KEPT_FACTS_VERSION`]), the criteria and the custom-field mapping they name. An index kept
/// on another basis is built again before it answers.
pub fn basis(criteria: &[Criterion], custom_fields: &[String]) -> String {
    serde_json::to_string(&(KEPT_FACTS_VERSION, criteria, custom_fields)).unwrap_or_default()
}

/// The version of the facts the index keeps of each issue: what [`IssueFacts::of`] reads from a
/// stored issue and how [`Aggregate::apply`] tallies it. Raise it with any change to either, so
/// that every kept index is built again from the issues on the first refresh after an upgrade,
/// rather than answering with counts of the old rules. (Version 1 was kept without a number.)
pub const KEPT_FACTS_VERSION: u32 = 2;

/// What an issue adds to the aggregate; None when it does not count.
pub fn contribution_of(
    issue: &StoredIssue,
    catalog: &Catalog,
    criteria: &[Criterion],
) -> Option<Contribution> {
    issue.counts().then(|| Contribution {
        facts: IssueFacts::of(issue, catalog.sprint_field()),
        custom: criteria
            .iter()
            .map(|c| criteria::matches(c, issue, catalog))
            .collect(),
    })
}

/// Where the index stands after a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexState {
    /// Every change marked before the run is counted, and every DORA profile classified.
    Current,
    /// A build (of the aggregate or of a DORA profile's members) or the marked changes go on in
    /// the next run (the deadline came first).
    Behind,
    /// Another run holds the index.
    Busy,
    /// The integration's deletion began during the run: the run stopped, and swept what it
    /// had written since.
    Gone,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Refreshed {
    pub state: IndexState,
    /// Issues evaluated (in a build, every issue read).
    pub evaluated: usize,
    /// Whether this run started a build from every issue.
    pub rebuilt: bool,
}

/// Brings the integration's index up to date: finishes a batch cut short, builds from every
/// issue when there is no index or its basis changed, then evaluates the marked issues — until
/// `deadline`, when the rest is left to the next run.
pub async fn refresh<S>(
    store: &S,
    record: &IntegrationRecord,
    owner: &str,
    deadline: Option<Instant>,
) -> Result<Refreshed, HygieneError>
where
    S: IndexerStore + ?Sized,
{
    let integration = record.id.as_str();
    if !store
        .acquire_lease(integration, LEASE_UNIT, owner, now_ms(), LEASE_TTL_MS)
        .await?
    {
        return Ok(Refreshed {
            state: IndexState::Busy,
            evaluated: 0,
            rebuilt: false,
        });
    }
    let outcome = Indexer::open(store, record, owner, deadline).await;
    let outcome = match outcome {
        Ok(mut indexer) => indexer.run().await,
        Err(e) => Err(e),
    };
    store.release_lease(integration, LEASE_UNIT, owner).await?;
    outcome
}

/// The aggregate the index holds, when it is current for `basis`; None otherwise (the caller
/// reads the issues instead).
pub async fn indexed_aggregate<S: HygieneIndexStore + ?Sized>(
    store: &S,
    integration: &str,
    basis: &str,
) -> Result<Option<Aggregate>, StoreError> {
    let Some(head) = store.get_index_head(integration).await? else {
        return Ok(None);
    };
    if !head.is_current(basis) {
        return Ok(None);
    }
    let cells = store.list_index_cells(integration).await?;
    Ok(Some(aggregate_of(&head, cells)))
}

struct Indexer<'a, S: ?Sized> {
    store: &'a S,
    integration: &'a str,
    /// The lease's owner.
    owner: &'a str,
    catalog: Catalog,
    criteria: Vec<Criterion>,
    basis: String,
    head: IndexHead,
    dora: Upkeep,
    deadline: Option<Instant>,
    evaluated: usize,
    /// Whether this run has written a step yet.
    stepped: bool,
}

impl<'a, S> Indexer<'a, S>
where
    S: IndexerStore + ?Sized,
{
    async fn open(
        store: &'a S,
        record: &'a IntegrationRecord,
        owner: &'a str,
        deadline: Option<Instant>,
    ) -> Result<Self, HygieneError> {
        let integration = record.id.as_str();
        let scope = IntegrationHygiene::load(store, record).await?;
        let catalog = super::scope::catalog_of(store, integration, &scope.custom_fields).await?;
        let head = store.get_index_head(integration).await?.unwrap_or_default();
        let dora = Upkeep::open(store, integration, &scope.custom_fields).await?;
        Ok(Indexer {
            store,
            integration,
            owner,
            catalog,
            basis: basis(&scope.criteria, &scope.custom_fields),
            criteria: scope.criteria,
            head,
            dora,
            deadline,
            evaluated: 0,
            stepped: false,
        })
    }

    /// Past the deadline — but only once the run has moved the index on by a step (the start
    /// of a build, or a batch), so that runs short of time still get somewhere one after another.
    fn out_of_time(&self) -> bool {
        self.stepped && self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Why the run must stop before its next batch, if it must: the integration's deletion
    /// began, out of time, or the lease lost (renewed before every batch, so a long run keeps
    /// it and a run that lost it stops).
    async fn must_stop(&self) -> Result<Option<IndexState>, HygieneError> {
        if self.store.integration_deleted(self.integration).await? {
            return Ok(Some(IndexState::Gone));
        }
        if self.out_of_time() {
            return Ok(Some(IndexState::Behind));
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
        Ok((!renewed).then_some(IndexState::Busy))
    }

    /// The steps, then — whatever they answered — a last look at the deletion fence: a
    /// deletion that began during the last write swept before that write landed, so what the
    /// run wrote is swept again.
    async fn run(&mut self) -> Result<Refreshed, HygieneError> {
        let refreshed = self.steps().await?;
        if self.store.integration_deleted(self.integration).await? {
            self.store.sweep_deleted(self.integration).await?;
            return Ok(Refreshed {
                state: IndexState::Gone,
                ..refreshed
            });
        }
        Ok(refreshed)
    }

    async fn steps(&mut self) -> Result<Refreshed, HygieneError> {
        // The lease was just taken; only a deletion that began before it stops the run here.
        if self.store.integration_deleted(self.integration).await? {
            return Ok(self.refreshed(IndexState::Gone, false));
        }
        if let Some(journal) = self.head.journal.clone() {
            self.finish(journal).await?;
        }
        // No index yet has the empty basis, which no set of criteria has.
        let rebuilt = self.head.basis != self.basis;
        if rebuilt && !self.start_build().await? {
            return Ok(self.refreshed(IndexState::Behind, rebuilt));
        }
        while let Some(build) = self.head.build.clone() {
            if let Some(state) = self.must_stop().await? {
                return Ok(self.refreshed(state, rebuilt));
            }
            self.build_page(build.after).await?;
        }
        if self.dora.start_builds(self.store, self.integration).await? {
            self.stepped = true;
        }
        while self.dora.building() {
            if let Some(state) = self.must_stop().await? {
                return Ok(self.refreshed(state, rebuilt));
            }
            self.evaluated += self
                .dora
                .build_page(self.store, self.integration, &self.catalog)
                .await?;
            self.stepped = true;
        }
        loop {
            if let Some(state) = self.must_stop().await? {
                return Ok(self.refreshed(state, rebuilt));
            }
            let marks = self.store.changed_issues(self.integration, MARKS).await?;
            if marks.is_empty() {
                return Ok(self.refreshed(IndexState::Current, rebuilt));
            }
            for batch in batches_of(marks) {
                if let Some(state) = self.must_stop().await? {
                    return Ok(self.refreshed(state, rebuilt));
                }
                self.evaluate_marked(batch).await?;
            }
        }
    }

    fn refreshed(&self, state: IndexState, rebuilt: bool) -> Refreshed {
        Refreshed {
            state,
            evaluated: self.evaluated,
            rebuilt,
        }
    }

    /// Clears the marks there are (each stands for a write already made, which the build will
    /// read), removes every cell (at once, so the old counts can never mix with the new) and
    /// starts reading the issues from the first. False when the time ran out first.
    async fn start_build(&mut self) -> Result<bool, HygieneError> {
        loop {
            if self.out_of_time() {
                return Ok(false);
            }
            let marks = self.store.changed_issues(self.integration, MARKS).await?;
            if marks.is_empty() {
                break;
            }
            self.store.clear_changed(self.integration, &marks).await?;
        }
        let seq = self.head.seq + 1;
        self.store.clear_index_cells(self.integration).await?;
        self.head = IndexHead {
            basis: self.basis.clone(),
            custom: self
                .criteria
                .iter()
                .map(|c| c.name.trim().to_string())
                .collect(),
            seq,
            build: Some(Build::default()),
            journal: None,
        };
        self.store
            .put_index_head(self.integration, &self.head)
            .await?;
        self.stepped = true;
        Ok(true)
    }

    /// One page of the build: every issue after `after`, added as it is now.
    async fn build_page(&mut self, after: Option<String>) -> Result<(), HygieneError> {
        let page = self
            .store
            .list_issues(self.integration, after.as_deref(), BATCH)
            .await?;
        let Some(last) = page.last().map(|i| i.id.clone()) else {
            self.head.build = None;
            self.store
                .put_index_head(self.integration, &self.head)
                .await?;
            return Ok(());
        };
        self.evaluated += page.len();
        let issues: Vec<(&str, Option<&StoredIssue>)> =
            page.iter().map(|i| (i.id.as_str(), Some(i))).collect();
        self.dora
            .note(self.store, self.integration, &self.catalog, &issues)
            .await?;
        let changes = page
            .iter()
            .map(|issue| Change {
                id: issue.id.clone(),
                old: None,
                new: contribution_of(issue, &self.catalog, &self.criteria),
            })
            .collect();
        self.apply(changes, Vec::new(), Some(last)).await
    }

    /// The marked issues as they are now, against what they contributed before.
    async fn evaluate_marked(&mut self, marks: Vec<ChangeMark>) -> Result<(), HygieneError> {
        let mut ids: Vec<String> = marks.iter().map(|m| m.id.clone()).collect();
        ids.sort();
        ids.dedup();
        let mut old: HashMap<String, Contribution> = self
            .store
            .get_contributions(self.integration, &ids)
            .await?
            .into_iter()
            .collect();
        let mut issues = Vec::with_capacity(ids.len());
        for id in &ids {
            issues.push(self.store.get_issue(self.integration, id).await?);
        }
        let noted: Vec<(&str, Option<&StoredIssue>)> = ids
            .iter()
            .zip(&issues)
            .map(|(id, issue)| (id.as_str(), issue.as_ref()))
            .collect();
        self.dora
            .note(self.store, self.integration, &self.catalog, &noted)
            .await?;
        let mut changes = Vec::with_capacity(ids.len());
        for (id, issue) in ids.into_iter().zip(&issues) {
            let new = issue
                .as_ref()
                .and_then(|i| contribution_of(i, &self.catalog, &self.criteria));
            changes.push(Change {
                old: old.remove(&id),
                new,
                id,
            });
        }
        self.evaluated += changes.len();
        self.apply(changes, marks, None).await
    }

    /// Writes the batch into the head's journal, then applies it.
    async fn apply(
        &mut self,
        changes: Vec<Change>,
        marks: Vec<ChangeMark>,
        build_after: Option<String>,
    ) -> Result<(), HygieneError> {
        let journal = Journal {
            seq: self.head.seq + 1,
            changes,
            marks,
            build_after,
        };
        self.head.journal = Some(journal.clone());
        self.store
            .put_index_head(self.integration, &self.head)
            .await?;
        self.finish(journal).await
    }

    /// Applies a journaled batch: cells, contributions, marks, then the head without it. Every
    /// step can be repeated.
    async fn finish(&mut self, journal: Journal) -> Result<(), HygieneError> {
        let touched: Vec<Cell> = journal.cells().into_iter().collect();
        let mut cells: BTreeMap<Cell, IndexedCell> = self
            .store
            .get_index_cells(self.integration, &touched)
            .await?
            .into_iter()
            .map(|c| (c.cell.clone(), c))
            .collect();
        let due = apply_journal(&mut cells, &journal);
        let changed: Vec<IndexedCell> = due.iter().filter_map(|cell| cells.remove(cell)).collect();
        self.store
            .put_index_cells(self.integration, &changed)
            .await?;
        let contributions: Vec<(String, Option<Contribution>)> = journal
            .changes
            .iter()
            .map(|c| (c.id.clone(), c.new.clone()))
            .collect();
        self.store
            .put_contributions(self.integration, &contributions)
            .await?;
        self.store
            .clear_changed(self.integration, &journal.marks)
            .await?;
        self.head.seq = journal.seq;
        self.head.journal = None;
        if self.head.build.is_some() {
            self.head.build = Some(Build {
                after: journal.build_after,
            });
        }
        self.store
            .put_index_head(self.integration, &self.head)
            .await?;
        self.stepped = true;
        Ok(())
    }
}
