//! Exclusions that take effect on what is already stored. The exclusions a store was last
//! brought in line with are kept (a record of the sync's own state); when the integration's
//! exclusions differ at the start of a run:
//! - a field newly excluded is scrubbed from every stored issue (fields, linked issues' copies,
//!   changelog items, comments), a page of issues at a time, its place kept so a run stopped at
//!   its deadline goes on from there; each scrubbed issue is written again, which marks it for
//!   the hygiene and DORA indexers, so the facts derived from the text go too;
//! - a field no longer excluded is fetched again: every unit backfills anew, and issues are
//!   written even where the store holds their version (it holds them without the field), until
//!   every unit has been read whole.

use serde_json::Value;

use super::{SyncError, SyncOptions};
use crate::store::records::{Cursor, Record, RecordKind, StoredIssue};
use crate::store::{RecordStore, StoreError, SyncStore, rewrite_stored_issues};
use crate::sync::normalize::scrub;
use crate::sync::plan::{Excluded, Unit};

/// The id of the record that keeps the exclusions the store is in line with.
const EXCLUSIONS_RECORD: &str = "exclusions";
/// Stored issues read per store call while scrubbing.
const SCRUB_PAGE: usize = 500;

/// Where the store stands with the integration's exclusions.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct ExclusionState {
    /// The exclusions every stored issue is in line with (None: never recorded, as in a store
    /// written before this state was kept).
    pub applied: Option<Excluded>,
    /// A scrub under way (with the run's exclusions, whatever they are when it goes on): the last
    /// issue id it has done, empty before the first.
    pub scrub_after: Option<String>,
    /// Stored issues the scrub under way has gone through (monitoring shows it).
    #[serde(default)]
    pub scrub_checked: u64,
    /// The exclusions the scrub under way has applied to the issues behind its place.
    #[serde(default)]
    pub scrub_for: Option<Excluded>,
    /// Fields were re-included: units backfill again and write every issue they read, until
    /// every unit has been read whole in this state.
    pub refetch: bool,
}

async fn load<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
) -> Result<ExclusionState, StoreError> {
    Ok(state_in(
        &store
            .list_records(integration, RecordKind::SyncState)
            .await?,
    ))
}

fn state_in(records: &[Record]) -> ExclusionState {
    records
        .iter()
        .find(|r| r.id == EXCLUSIONS_RECORD)
        .and_then(|r| serde_json::from_value(r.data.clone()).ok())
        .unwrap_or_default()
}

/// Where an integration's store stands with its exclusions, as monitoring shows it.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ExclusionProgress {
    /// The fields the stored issues are free of (`summary`, `description`, `comments`).
    pub applied: Vec<String>,
    /// A scrub of newly excluded fields under way: how many stored issues it has gone through.
    /// It goes on at the start of the next runs until every stored issue is done.
    pub scrubbing: Option<Scrubbing>,
    /// Fields no longer excluded are being fetched again: the next runs read every unit whole.
    pub refetching: bool,
}

#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Scrubbing {
    pub issues_checked: u64,
}

/// The integration's [`ExclusionProgress`] (one read of its sync state).
pub async fn exclusion_progress<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
) -> Result<ExclusionProgress, StoreError> {
    Ok(exclusion_progress_in(
        &store
            .list_records(integration, RecordKind::SyncState)
            .await?,
    ))
}

/// The [`ExclusionProgress`] kept in the integration's sync-state records.
pub fn exclusion_progress_in(records: &[Record]) -> ExclusionProgress {
    let state = state_in(records);
    ExclusionProgress {
        applied: state.applied.unwrap_or_default().names(),
        scrubbing: state.scrub_after.map(|_| Scrubbing {
            issues_checked: state.scrub_checked,
        }),
        refetching: state.refetch,
    }
}

async fn keep(
    store: &dyn SyncStore,
    integration: &str,
    state: &ExclusionState,
) -> Result<(), SyncError> {
    let record = Record {
        id: EXCLUSIONS_RECORD.into(),
        data: serde_json::to_value(state).unwrap_or(Value::Null),
    };
    Ok(store
        .put_records(integration, RecordKind::SyncState, &[record])
        .await?)
}

/// Brings the store in line with the run's exclusions before the run syncs. Answers whether the
/// run is to write every issue it reads (a re-included field is being fetched again), or None
/// when the run ran out of time scrubbing (its place is kept).
pub(super) async fn apply_exclusions(
    store: &dyn SyncStore,
    opts: &SyncOptions,
    units: &[Unit],
) -> Result<Option<bool>, SyncError> {
    let integration = opts.integration.as_str();
    let wanted = opts.excluded;
    let mut state = load(store, integration).await?;
    let loaded = state.clone();
    let applied = state.applied.unwrap_or_default();
    let under_way = state
        .scrub_after
        .is_some()
        .then_some(state.scrub_for)
        .flatten();
    // What stored issues may lack: the exclusions they are all in line with, and those of a
    // scrub under way over some of them.
    let held_out = under_way.map_or(applied, |f| applied.or(&f));
    let re_included = held_out.beyond(&wanted);
    // A store that never recorded its exclusions counts as holding everything: what it holds
    // may predate them. A scrub under way goes on from its place unless it must now remove
    // more than it did on the issues behind it, and stops when nothing is left to remove.
    let goes_on = under_way.is_some_and(|f| !wanted.beyond(&f));
    if !wanted.beyond(&applied) {
        state.scrub_after = None;
    } else if !goes_on {
        state.scrub_after = Some(String::new());
        state.scrub_checked = 0;
    }
    state.scrub_for = state.scrub_after.is_some().then_some(wanted);
    if let Some(after) = state.scrub_after.clone()
        && !scrub_store(store, opts, &mut state, after).await?
    {
        return Ok(None);
    }
    if re_included {
        for unit in units {
            store
                .put_cursor(integration, &unit.name, &Cursor::default())
                .await?;
        }
        state.refetch = true;
    }
    state.applied = Some(wanted);
    if state != loaded {
        keep(store, integration, &state).await?;
    }
    Ok(Some(state.refetch))
}

/// Scrubs every stored issue after `after` with the run's exclusions, keeping its place after
/// each page; false when the run's time ran out first.
async fn scrub_store(
    store: &dyn SyncStore,
    opts: &SyncOptions,
    state: &mut ExclusionState,
    mut after: String,
) -> Result<bool, SyncError> {
    let (integration, excluded) = (opts.integration.as_str(), opts.excluded);
    // At least one page a run, so that runs short of time still get through in turn.
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) && opts.out_of_time() {
            state.scrub_after = Some(after);
            keep(store, integration, state).await?;
            return Ok(false);
        }
        let page = store
            .list_issues(
                integration,
                (!after.is_empty()).then_some(after.as_str()),
                SCRUB_PAGE,
            )
            .await?;
        let Some(last) = page.last().map(|i| i.id.clone()) else {
            break;
        };
        state.scrub_checked += page.len() as u64;
        let last_page = page.len() < SCRUB_PAGE;
        let scrubbed: Vec<StoredIssue> = page
            .into_iter()
            .filter_map(|mut i| scrub(&mut i, &excluded).then_some(i))
            .collect();
        rewrite_stored_issues(store, integration, scrubbed, |i| scrub(i, &excluded)).await?;
        if last_page {
            break;
        }
        after = last;
        state.scrub_after = Some(after.clone());
        keep(store, integration, state).await?;
    }
    state.scrub_after = None;
    state.scrub_for = None;
    Ok(true)
}

/// After a run that read every unit whole while re-included fields were being fetched again:
/// the store is in line, and runs write only what changed again.
pub(super) async fn refetch_done(
    store: &dyn SyncStore,
    integration: &str,
) -> Result<(), SyncError> {
    let mut state = load(store, integration).await?;
    if state.refetch {
        state.refetch = false;
        keep(store, integration, &state).await?;
    }
    Ok(())
}
