//! The scope's edge. Issues the integration's scope no longer takes in (their project left it, or
//! the filter no longer finds them) are flagged out of scope: kept, counted by no metric or
//! total, and counted again once the scope takes them back. Projects the scope no longer takes
//! in leave the onboarded list.
//!
//! A project scope decides by project, so it is settled from the index when a run starts. A
//! filter decides issue by issue: its census flags what it no longer finds (see `census`), and
//! its listings take issues back.

use std::collections::HashSet;

use futures_util::{StreamExt, TryStreamExt};

use super::{Ctx, SyncError};
use crate::store::records::{Counts, IssueFlag, StoredIssue};
use crate::store::{IndexPages, StoreError, each_index_entry};
use crate::sync::index::Known;

/// Flags written side by side when a project leaves or comes back (each is a read and a write).
const FLAGS_IN_FLIGHT: usize = 16;

/// Whether the scope takes in `issue`, found by id rather than by a listing of the scope: a
/// project scope takes in its projects' issues; a filter only what its listing finds.
pub(super) fn takes_in(ctx: &Ctx<'_>, issue: &StoredIssue) -> bool {
    ctx.scope_projects
        .as_ref()
        .is_some_and(|projects| projects.contains(&issue.project_key))
}

/// A project scope: every stored issue flagged out of scope exactly when its project is not in
/// the scope, and the onboarded list cut to the scope's projects. Issues flagged deleted keep
/// their flags (no metric counts them either way). False when the run's time ran out first; the
/// next run goes on (the flags are compared afresh).
pub(super) async fn settle_project_scope(ctx: &mut Ctx<'_>) -> Result<bool, SyncError> {
    let Some(scope) = ctx.scope_projects.clone() else {
        return Ok(true);
    };
    let integration = ctx.opts.integration.clone();
    for project in ctx.store.list_projects(&integration).await? {
        if !scope.contains(&project.key) {
            ctx.store.remove_project(&integration, &project.key).await?;
        }
    }
    // The index a page at a time; each page's flags are written before the next is read.
    let mut pages = IndexPages::new(ctx.store, &integration, None);
    let mut chunks = 0;
    while let Some(page) = pages.next().await? {
        let changes: Vec<(u64, Known, bool)> = page
            .iter()
            .filter(|e| !e.deleted)
            .filter_map(|e| {
                let out = !scope.contains(&e.project_key);
                let id = e.id.parse().ok()?;
                (out != e.out_of_scope).then_some((id, Known::from(e), out))
            })
            .collect();
        for chunk in changes.chunks(FLAGS_IN_FLIGHT * 8) {
            // At least one chunk a run, so that runs short of time still get through in turn.
            if chunks > 0 && ctx.out_of_time() {
                return Ok(false);
            }
            chunks += 1;
            flag_scope(ctx, chunk).await?;
        }
    }
    Ok(true)
}

/// Flags each issue of `chunk` in or out of the scope as it says, side by side, and counts
/// those that left or came back.
async fn flag_scope(ctx: &mut Ctx<'_>, chunk: &[(u64, Known, bool)]) -> Result<(), SyncError> {
    let (store, integration) = (ctx.store, ctx.opts.integration.as_str());
    let flagged: Vec<(Known, bool, bool)> = futures_util::stream::iter(chunk.iter().copied())
        .map(|(id, before, out)| async move {
            let flag = if out {
                IssueFlag::OutOfScope
            } else {
                IssueFlag::InScope
            };
            let done = store.flag_issue(integration, &id.to_string(), flag).await?;
            Ok::<_, StoreError>((before, out, done))
        })
        .buffer_unordered(FLAGS_IN_FLIGHT)
        .try_collect()
        .await?;
    for (before, out, done) in flagged {
        if done {
            let now = Known {
                out_of_scope: out,
                ..before
            };
            count_change(&mut ctx.counts, before.in_listing(), now.in_listing());
        }
    }
    Ok(())
}

/// Counts a stored issue that the totals counted before and no longer do (it left the scope),
/// or the other way round (back in the scope, or seen again after a deletion).
pub(super) fn count_change(counts: &mut Counts, counted_before: bool, counted_now: bool) {
    match (counted_before, counted_now) {
        (true, false) => counts.issues_left_scope += 1,
        (false, true) => counts.issues_returned += 1,
        _ => {}
    }
}

/// A filter's onboarded projects: those its issues in the scope are in. Called once a run has
/// read the whole scope (its census included), when the index knows where every issue stands.
pub(super) async fn settle_filter_projects(ctx: &Ctx<'_>) -> Result<(), SyncError> {
    if ctx.scope_projects.is_some() {
        return Ok(());
    }
    let kept = listed_projects(ctx).await?;
    let integration = &ctx.opts.integration;
    for project in ctx.store.list_projects(integration).await? {
        if !kept.contains(project.key.as_str()) {
            ctx.store.remove_project(integration, &project.key).await?;
        }
    }
    Ok(())
}

/// The projects of the stored issues a listing of the scope should find (neither flagged
/// deleted nor out of scope), read from the index a page at a time.
pub(super) async fn listed_projects(ctx: &Ctx<'_>) -> Result<HashSet<String>, StoreError> {
    let mut listed = HashSet::new();
    each_index_entry(ctx.store, &ctx.opts.integration, None, |e| {
        if Known::from(e).in_listing() && !listed.contains(&e.project_key) {
            listed.insert(e.project_key.clone());
        }
        true
    })
    .await?;
    Ok(listed)
}
