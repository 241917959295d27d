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
use crate::store::StoreError;
use crate::store::records::{Counts, IssueFlag, StoredIssue};

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
    let mut changes: Vec<(u64, bool)> = ctx
        .index
        .iter()
        .filter(|(_, k)| !k.deleted)
        .filter_map(|(id, k)| {
            let out = !scope.contains(ctx.index.project_of(k));
            (out != k.out_of_scope).then_some((id, out))
        })
        .collect();
    changes.sort_unstable();
    for (n, chunk) in changes.chunks(FLAGS_IN_FLIGHT * 8).enumerate() {
        // At least one chunk a run, so that runs short of time still get through in turn.
        if n > 0 && ctx.out_of_time() {
            return Ok(false);
        }
        let store = ctx.store;
        let flagged: Vec<(u64, bool, bool)> = futures_util::stream::iter(chunk.iter().copied())
            .map(|(id, out)| {
                let integration = &integration;
                async move {
                    let flag = if out {
                        IssueFlag::OutOfScope
                    } else {
                        IssueFlag::InScope
                    };
                    let done = store.flag_issue(integration, &id.to_string(), flag).await?;
                    Ok::<_, StoreError>((id, out, done))
                }
            })
            .buffer_unordered(FLAGS_IN_FLIGHT)
            .try_collect()
            .await?;
        for (id, out, done) in flagged {
            if done {
                scope_flagged(ctx, id, out);
            }
        }
    }
    Ok(true)
}

/// Records in the run's knowledge and counts that the issue `id` was flagged in or out of scope.
pub(super) fn scope_flagged(ctx: &mut Ctx<'_>, id: u64, out: bool) {
    let counted_before = counted(ctx, id);
    ctx.index.set_out_of_scope(id, out);
    let counted_now = counted(ctx, id);
    count_change(&mut ctx.counts, counted_before, counted_now);
}

/// Whether the stored issue `id` counts in the totals (a listing of the scope would find it).
pub(super) fn counted(ctx: &Ctx<'_>, id: u64) -> bool {
    ctx.index.get(id).is_some_and(|k| k.in_listing())
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
    let kept: HashSet<&str> = ctx
        .index
        .iter()
        .filter(|(_, k)| k.in_listing())
        .map(|(_, k)| ctx.index.project_of(k))
        .collect();
    let integration = &ctx.opts.integration;
    for project in ctx.store.list_projects(integration).await? {
        if !kept.contains(project.key.as_str()) {
            ctx.store.remove_project(integration, &project.key).await?;
        }
    }
    Ok(())
}
