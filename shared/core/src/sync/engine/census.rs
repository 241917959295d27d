//! Deletions leave no trace in an incremental window, so they are found by a census of ids: per
//! unit on a schedule, or at once when one count for the whole scope differs from the store's.

use std::collections::HashSet;

use super::unit::{fetch_group, scan_ids, store_batch};
use super::{Ctx, GROUP, SyncError, due, now_ms, scope};
use crate::store::records::{Cursor, ErrorCategory, IssueFlag, RunError, StoredIssue};
use crate::store::{StoreError, each_index_entry};
use crate::sync::index::{IssueIndex, Known};
use crate::sync::plan::Unit;

/// A full census reads every id, so it runs per unit on a schedule (`census_every_ms`) — and at
/// once everywhere when one count request shows Jira holding a different number of issues for
/// the scope than we do (a deletion, a move out, or lost access since the last run). It reads
/// the ids a page at a time and keeps its place in the unit's cursor, so a run that reaches its
/// deadline stops (true) and the next run goes on from there.
pub(super) async fn census_pass(ctx: &mut Ctx<'_>, units: &[Unit]) -> Result<bool, SyncError> {
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
        .map(|(_, c)| c.census_after.is_some() || due(c.last_census_ms, ctx.opts.census_every_ms))
        .collect();
    let everything_due = scheduled.iter().all(|d| *d);
    // Units this run has read every id of need no count: when that is all of them, the count
    // (one more round trip after everything else) waits for the next run.
    let counted = synced
        .iter()
        .any(|(u, _)| !ctx.read_every_id.contains(&u.name));
    let mismatch = !everything_due && counted && scope_count_differs(ctx, &synced).await?;
    for ((unit, mut cursor), scheduled) in synced.into_iter().zip(scheduled) {
        // A count that still differs after this chain of runs censused the unit is not settled
        // by censusing it again: a chain of short runs would census its first units again and
        // again before it reached the last.
        let censused_in_chain = ctx
            .opts
            .current_since_ms
            .is_some_and(|since| cursor.last_census_ms.is_some_and(|t| t >= since));
        if !(scheduled || (mismatch && !censused_in_chain)) {
            continue;
        }
        if !ctx.take_lease(unit).await? {
            continue;
        }
        let short_before = ctx.incomplete.len();
        let result = census(ctx, unit, &mut cursor).await;
        // A census short of Jira's count is not a census: the unit is censused again.
        if matches!(result, Ok(true)) && ctx.incomplete.len() == short_before {
            cursor.last_census_ms = Some(now_ms());
            ctx.put_cursor(&unit.name, &cursor).await?;
        }
        ctx.release_lease(unit).await?;
        if !result? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One request: does Jira count as many issues in these units as we hold (deleted and out of
/// scope ones aside; removed ones are still in Jira)?
async fn scope_count_differs(ctx: &Ctx<'_>, synced: &[(&Unit, Cursor)]) -> Result<bool, SyncError> {
    let jql = synced
        .iter()
        .map(|(u, _)| format!("({})", u.jql))
        .collect::<Vec<_>>()
        .join(" OR ");
    let in_jira = ctx.client.count(&jql).await?;
    let projects: Option<HashSet<&str>> =
        synced.iter().map(|(u, _)| u.project.as_deref()).collect();
    let mut ours = 0u64;
    each_index_entry(ctx.store, &ctx.opts.integration, None, |e| {
        if Known::from(e).in_listing()
            && projects
                .as_ref()
                .is_none_or(|p| p.contains(e.project_key.as_str()))
        {
            ours += 1;
        }
        true
    })
    .await?;
    Ok(in_jira != ours)
}

/// Compares every id Jira has for the unit with what we store, a page of ids at a time from
/// where the cursor's census stands; each page's id range is settled before the next is read,
/// and the place kept. True when the census reached the last id; false when it stopped at the
/// deadline (after one page at least).
async fn census(ctx: &mut Ctx<'_>, unit: &Unit, cursor: &mut Cursor) -> Result<bool, SyncError> {
    let mut after = cursor.census_after.unwrap_or(0);
    // A census read whole in this run is checked against Jira's count when it ends.
    let (whole, started_ms, mut listed) = (after == 0, now_ms(), 0u64);
    // At least one page a run, so that runs short of time still get through a census in turn.
    let mut first = true;
    loop {
        if !first && ctx.out_of_time() {
            return Ok(false);
        }
        first = false;
        let (page, next) = scan_ids(ctx.client, unit, None, after, false).await?;
        listed += page.len() as u64;
        let in_jira: HashSet<u64> = page.into_iter().map(|(id, _)| id).collect();
        // The last page settles everything above it too: stored ids Jira no longer has.
        let upto = next.unwrap_or(u64::MAX);
        let stored = stored_between(ctx, unit, after, upto, &in_jira).await?;
        census_range(ctx, unit, &stored, &in_jira).await?;
        match next {
            Some(next) => {
                after = next;
                cursor.census_after = Some(after);
                ctx.put_cursor(&unit.name, cursor).await?;
            }
            None => {
                cursor.census_after = None;
                if whole && let Some(short) = shortfall(ctx, unit, listed, started_ms).await? {
                    ctx.incomplete.push(short);
                }
                return Ok(true);
            }
        }
    }
}

/// What the store holds of one range of ids, `after < id <= upto`, read in one pass.
struct Stored {
    /// The stored issues a listing of the unit should find (of its project, neither flagged
    /// deleted nor out of scope), ascending. Tombstones (issues removed by hand) too: the scope
    /// count counts them, so one that Jira no longer has must be flagged deleted here, or every
    /// later count would differ and every run read every id again.
    ours: Vec<u64>,
    /// Of the ids Jira listed in the range, those stored neither deleted nor out of scope (of
    /// any project).
    listed: HashSet<u64>,
}

/// Reads [`Stored`] for the range of a census page whose ids, all in the range, are `in_jira`.
async fn stored_between(
    ctx: &Ctx<'_>,
    unit: &Unit,
    after: u64,
    upto: u64,
    in_jira: &HashSet<u64>,
) -> Result<Stored, StoreError> {
    let project = unit.project.as_deref();
    let mut stored = Stored {
        ours: Vec::new(),
        listed: HashSet::new(),
    };
    let start = after.to_string();
    each_index_entry(ctx.store, &ctx.opts.integration, Some(&start), |e| {
        let Ok(id) = e.id.parse::<u64>() else {
            return true;
        };
        if id > upto {
            return false;
        }
        if Known::from(e).in_listing() {
            if project.is_none_or(|p| p == e.project_key) {
                stored.ours.push(id);
            }
            if in_jira.contains(&id) {
                stored.listed.insert(id);
            }
        }
        true
    })
    .await?;
    Ok(stored)
}

/// Settles one range of ids: what we store in it, against `in_jira`. Stored
/// issues the listing no longer finds are fetched by id: stored where they are now (moved within
/// the scope), flagged out of scope (moved to a project the scope does not take in, or no longer
/// found by the filter), and flagged deleted only when Jira answers nothing for them. Ids we lack,
/// or hold flagged, are fetched. Returns how many issues were flagged deleted.
async fn census_range(
    ctx: &mut Ctx<'_>,
    unit: &Unit,
    stored: &Stored,
    in_jira: &HashSet<u64>,
) -> Result<u64, SyncError> {
    let ours = &stored.ours;
    let mut gone: Vec<u64> = ours
        .iter()
        .copied()
        .filter(|id| !in_jira.contains(id))
        .collect();
    let mut unknown: Vec<u64> = in_jira.difference(&stored.listed).copied().collect();
    gone.sort_unstable();
    unknown.sort_unstable();
    let (fields, excluded, parallel) = (
        ctx.fields.clone(),
        ctx.opts.excluded,
        ctx.opts.parallel_batches.max(1),
    );
    let mut found_ids: HashSet<String> = HashSet::new();
    let batches = gone
        .chunks(GROUP)
        .map(|b| (b, false))
        .chain(unknown.chunks(GROUP).map(|b| (b, true)));
    for (batch, listed) in batches {
        let mut issues = fetch_group(ctx.client, batch, &fields, &excluded, parallel).await?;
        for issue in &mut issues {
            issue.out_of_scope = !(listed || scope::takes_in(ctx, issue));
        }
        found_ids.extend(issues.iter().map(|i| i.id.clone()));
        settle_tombstones(ctx, &issues).await?;
        store_batch(ctx, unit, issues).await?;
    }
    let vanished: Vec<String> = gone
        .iter()
        .map(u64::to_string)
        .filter(|id| !found_ids.contains(id))
        .collect();
    // A mass disappearance is lost access or a Jira incident, not deletion: leave it unflagged.
    if ours.len() >= 10 && vanished.len() * 2 >= ours.len() {
        ctx.errors.push(RunError::new(ErrorCategory::IssuesNotVisible, format!("{}: {} of {} issues are no longer visible; not flagged as deleted (check the user's permissions)", unit.name, vanished.len(), ours.len())));
        return Ok(0);
    }
    let now = now_ms();
    let mut flagged = 0;
    for id in vanished {
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
        }
    }
    ctx.counts.issues_deleted += flagged;
    Ok(flagged)
}

/// Tombstones (issues removed by hand) the census found: a sync never writes over one, so only
/// its flags follow Jira — not deleted, in or out of the scope as found. Without this a tombstone
/// that left the scope and came back would keep its flag, and the scope's count differ for ever.
async fn settle_tombstones(ctx: &mut Ctx<'_>, found: &[StoredIssue]) -> Result<(), SyncError> {
    let integration = ctx.opts.integration.clone();
    let stored = IssueIndex::read(
        ctx.store,
        &integration,
        found.iter().filter_map(|i| i.id.parse().ok()),
    )
    .await?;
    for issue in found {
        let Ok(id) = issue.id.parse::<u64>() else {
            continue;
        };
        let Some(before) = stored.get(id).copied().filter(|k| k.removed) else {
            continue;
        };
        let mut now = before;
        if before.deleted
            && ctx
                .store
                .flag_issue(&integration, &issue.id, IssueFlag::Restored)
                .await?
        {
            now.deleted = false;
        }
        let flag = match issue.out_of_scope {
            true => IssueFlag::OutOfScope,
            false => IssueFlag::InScope,
        };
        if before.out_of_scope != issue.out_of_scope
            && ctx.store.flag_issue(&integration, &issue.id, flag).await?
        {
            now.out_of_scope = issue.out_of_scope;
        }
        scope::count_change(&mut ctx.counts, before.in_listing(), now.in_listing());
    }
    Ok(())
}

/// A unit's listing read whole in one run: how many ids it found, and when it started.
pub(super) struct Listed {
    pub unit: Unit,
    pub ids: u64,
    pub started_ms: i64,
}

/// The backfills this run read whole, checked against Jira's count: one count for all of them
/// (their units are disjoint), and only when that falls short one per unit, to name which. A
/// unit short of its count starts its backfill over in the next run.
pub(super) async fn check_backfills(ctx: &mut Ctx<'_>) -> Result<(), SyncError> {
    let backfilled = std::mem::take(&mut ctx.backfilled);
    if backfilled.is_empty() {
        return Ok(());
    }
    // Read whole and empty: a JQL that matches nothing, a project without a visible issue.
    // Nothing is missing, but a person expects data and should hear why there is none.
    for l in backfilled.iter().filter(|l| l.ids == 0) {
        ctx.errors.push(RunError::new(
            ErrorCategory::ScopeEmpty,
            match &l.unit.project {
                Some(key) => format!("project {key} holds no issue this user can see"),
                None => "the JQL filter matches no issue this user can see; nothing is stored"
                    .to_string(),
            },
        ));
    }
    let jql = backfilled
        .iter()
        .map(|l| format!("({})", l.unit.created_before(l.started_ms)))
        .collect::<Vec<_>>()
        .join(" OR ");
    let listed: u64 = backfilled.iter().map(|l| l.ids).sum();
    if ctx.client.count(&jql).await? <= listed {
        return Ok(());
    }
    for l in &backfilled {
        if let Some(short) = shortfall(ctx, &l.unit, l.ids, l.started_ms).await? {
            ctx.incomplete.push(short);
            ctx.put_cursor(&l.unit.name, &Cursor::default()).await?;
        }
    }
    Ok(())
}

/// A listing of the whole unit that started at `started_ms` and found `listed` ids, checked
/// against Jira's count of the unit's issues created before it started (approximate-count on
/// Cloud, `total` on Data Center): the error when it found fewer. Issues created meanwhile are
/// not counted, and issues deleted meanwhile only make it find more.
pub(super) async fn shortfall(
    ctx: &Ctx<'_>,
    unit: &Unit,
    listed: u64,
    started_ms: i64,
) -> Result<Option<RunError>, SyncError> {
    let counted = ctx.client.count(&unit.created_before(started_ms)).await?;
    Ok((counted > listed).then(|| {
        RunError::new(
            ErrorCategory::CountShortfall,
            format!(
                "{}: the listing found {listed} issue(s), Jira counts {counted}; the unit is not \
                 complete, and the next run lists it again",
                unit.name
            ),
        )
    }))
}
