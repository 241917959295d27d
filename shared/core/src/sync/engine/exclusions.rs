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

use super::*;
use crate::sync::normalize::scrub;

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
    /// A scrub under way: the exclusions it applies, and the last issue id it has done.
    pub scrubbing: Option<(Excluded, String)>,
    /// Fields were re-included: units backfill again and write every issue they read, until
    /// every unit has been read whole in this state.
    pub refetch: bool,
}

async fn load(store: &dyn SyncStore, integration: &str) -> Result<ExclusionState, SyncError> {
    Ok(store
        .list_records(integration, RecordKind::SyncState)
        .await?
        .into_iter()
        .find(|r| r.id == EXCLUSIONS_RECORD)
        .and_then(|r| serde_json::from_value(r.data).ok())
        .unwrap_or_default())
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
    let applied = state.applied.unwrap_or_default();
    let newly = Excluded {
        summary: wanted.summary && !applied.summary,
        description: wanted.description && !applied.description,
        comments: wanted.comments && !applied.comments,
    };
    let re_included = (applied.summary && !wanted.summary)
        || (applied.description && !wanted.description)
        || (applied.comments && !wanted.comments);
    // A store that never recorded its exclusions is scrubbed with the run's: what it holds may
    // predate them.
    let unknown = state.applied.is_none() && wanted != Excluded::default();
    if newly != Excluded::default() || unknown {
        state.scrubbing = Some((wanted, String::new()));
    }
    if let Some((scrubbing, after)) = state.scrubbing.clone() {
        // A scrub left under way goes on with what the run excludes now.
        let scrubbing = if scrubbing == wanted {
            scrubbing
        } else {
            wanted
        };
        if !scrub_store(store, opts, &mut state, scrubbing, after).await? {
            return Ok(None);
        }
    }
    if re_included {
        for unit in units {
            store
                .put_cursor(integration, &unit.name, &Cursor::default())
                .await?;
        }
        state.refetch = true;
    }
    if state.applied != Some(wanted) || re_included {
        state.applied = Some(wanted);
        keep(store, integration, &state).await?;
    }
    Ok(Some(state.refetch))
}

/// Scrubs every stored issue after `after` with `excluded`, keeping its place after each page;
/// false when the run's time ran out first.
async fn scrub_store(
    store: &dyn SyncStore,
    opts: &SyncOptions,
    state: &mut ExclusionState,
    excluded: Excluded,
    mut after: String,
) -> Result<bool, SyncError> {
    let integration = opts.integration.as_str();
    loop {
        if opts.deadline.is_some_and(|d| Instant::now() >= d) {
            state.scrubbing = Some((excluded, after));
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
            state.scrubbing = None;
            return Ok(true);
        };
        let mut pending: Vec<StoredIssue> = page
            .into_iter()
            .filter_map(|mut i| scrub(&mut i, &excluded).then_some(i))
            .collect();
        for _ in 0..ISSUE_WRITE_ATTEMPTS {
            if pending.is_empty() {
                break;
            }
            let superseded = store.put_issues(integration, &pending).await?.0;
            let mut again = Vec::new();
            for id in &superseded {
                if let Some(mut issue) = store.get_issue(integration, id).await?
                    && scrub(&mut issue, &excluded)
                {
                    again.push(issue);
                }
            }
            pending = again;
        }
        if let Some(issue) = pending.first() {
            return Err(StoreError::Superseded(issue.id.clone()).into());
        }
        after = last;
        state.scrubbing = Some((excluded, after.clone()));
        keep(store, integration, state).await?;
    }
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
