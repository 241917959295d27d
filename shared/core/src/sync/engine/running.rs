//! Every unit of the scope under one in-flight budget, so the client's limit stays full from the
//! first bulk fetch to the last rather than draining at the end of each project.
//!
//! A unit starts (takes its lease, reads its cursor, asks for its first id page) as soon as the
//! work known to be coming — batches scanned but not sent, id pages asked for — no longer fills
//! the budget: the next unit's scan overlaps the last fetches of those before it, and many small
//! units scan side by side. Free slots go to the earliest running unit first. The units share one
//! pipeline, and so one pool of truncated changelogs requested in full pages across units, but
//! each keeps its own checkpoint: a run stopped at its deadline resumes every unit where it stood.

use std::collections::VecDeque;

use futures_util::future::select_all;

use super::census::Listed;
use super::unit::{scan_ids, store_batch};
use super::{Ctx, Event, Observer, SyncError, SyncOptions, notify, now_ms, scope};
use crate::jira::{JiraClient, JiraError};
use crate::store::records::{Cursor, ErrorCategory, Progress, RunError};
use crate::store::{StoreError, SyncStore};
use crate::sync::index::IssueIndex;
use crate::sync::pipeline::{DETAIL_BATCH, Output, Pipeline, Slot, Task};
use crate::sync::plan::Unit;

/// A page of `(id, updated)` from the id scan, and the id to scan after when Jira has more.
type IdPage = (Vec<(u64, Option<i64>)>, Option<u64>);

/// How the units of a run ended.
pub(super) struct UnitsEnded {
    /// Stopped at the deadline: every unit under way kept its checkpoint.
    pub partial: bool,
    /// Units skipped because another run holds their lease.
    pub held: usize,
}

/// One unit under way; it holds the unit's lease.
struct Running {
    unit: Unit,
    cursor: Cursor,
    progress: Progress,
    /// The run goes on from an earlier run's checkpoint.
    resumed: bool,
    /// The unit's place in the run's pipeline.
    slot: Slot,
    next_page: Option<Task<Result<IdPage, JiraError>>>,
    /// Scanned ids not yet handed to the pipeline: `(ids, covers_to)` batches.
    queued: VecDeque<(Vec<u64>, u64)>,
    wrote: bool,
    /// Ids Jira listed but did not answer when fetched: the unit is not complete this run.
    missing: Vec<u64>,
    /// Ids the unit's scan listed in this run.
    listed: u64,
}

/// What came back from Jira: an id page of the unit at that index of the running ones, or
/// issues to store.
enum Step {
    Page(usize, Result<IdPage, JiraError>),
    Fetched(Result<Option<Vec<Output>>, JiraError>),
}

impl Running {
    fn input_done(&self) -> bool {
        self.queued.is_empty() && self.next_page.is_none()
    }

    /// Asks for the id page after `after_id`. Incremental windows also read `updated`, so issues
    /// already held at that version (the overlap) are not fetched again; a backfill scans bare
    /// ids, in the largest pages.
    fn scan(&mut self, client: &JiraClient, after_id: u64) {
        let (client, unit) = (client.clone(), self.unit.clone());
        let window = self.progress.window_start_ms;
        self.next_page = Some(Task::spawn(async move {
            scan_ids(&client, &unit, window, after_id, window.is_some()).await
        }));
    }

    /// Queues the changed ids of a page in batches; an empty page ends the unit's input.
    fn accept(&mut self, client: &JiraClient, index: &IssueIndex, (page, next): IdPage) {
        let Some(&(last, _)) = page.last() else {
            return;
        };
        self.listed += page.len() as u64;
        if let Some(after) = next {
            self.scan(client, after);
        }
        let changed: Vec<u64> = page
            .into_iter()
            .filter(|(id, updated)| match (updated, index.get(*id)) {
                (Some(u), Some(known)) => !known.held_at(*u),
                _ => true,
            })
            .map(|(id, _)| id)
            .collect();
        let batches: Vec<&[u64]> = changed.chunks(DETAIL_BATCH).collect();
        let n = batches.len();
        for (i, ids) in batches.into_iter().enumerate() {
            // The page's last batch also covers the unchanged ids after it.
            let covers_to = if i + 1 == n {
                last
            } else {
                *ids.last().expect("non-empty")
            };
            self.queued.push_back((ids.to_vec(), covers_to));
        }
        if n == 0 {
            self.queued.push_back((Vec::new(), last));
        }
    }
}

/// Syncs the units, stopping cleanly at the deadline. Whatever ends the run, the units under way
/// give back their leases (each keeps its checkpoint).
pub(super) async fn sync_units(ctx: &mut Ctx<'_>, units: &[Unit]) -> Result<UnitsEnded, SyncError> {
    let mut running = Vec::new();
    notify(ctx, Event::Planned { units: units.len() });
    // Someone shows progress: the units' expected issues are asked beside the first id pages,
    // and the asking stops with the run (it never holds the run up).
    let announce = {
        let (client, store, opts, observer) =
            (ctx.client, ctx.store, ctx.opts, ctx.observer.clone());
        async move {
            if let Some(observer) = observer {
                announce_expected(client, store, opts, units, &observer).await;
            }
            std::future::pending::<()>().await
        }
    };
    let ended = tokio::select! {
        ended = drive(ctx, units, &mut running) => ended,
        () = announce => unreachable!("announcing never ends by itself"),
    };
    for r in running {
        let released = ctx.release_lease(&r.unit).await;
        notify(ctx, Event::UnitFinished { unit: r.unit.name });
        if ended.is_ok() {
            released?;
        }
    }
    ended
}

/// The expected issues of each unit that backfills or goes on from a checkpoint, as Jira counts
/// those its scan will read: one count request per such unit, side by side. An incremental
/// window is read in a page or two, and a count would double what it asks of Jira, so it gets
/// none. A count that fails is not announced.
async fn announce_expected(
    client: &JiraClient,
    store: &dyn SyncStore,
    opts: &SyncOptions,
    units: &[Unit],
    observer: &Observer,
) {
    let counts = units.iter().map(|unit| async move {
        let cursor = store.get_cursor(&opts.integration, &unit.name).await;
        let (window_start, after) = match cursor {
            Ok(Some(Cursor {
                in_progress: Some(p),
                ..
            })) => (p.window_start_ms, p.last_id),
            Ok(Some(Cursor {
                watermark_ms: Some(_),
                ..
            }))
            | Err(_) => return,
            Ok(_) => (None, 0),
        };
        if let Ok(issues) = client.count(&unit.restriction(window_start, after)).await {
            observer(&Event::Expected {
                unit: unit.name.clone(),
                issues,
            });
        }
    });
    futures_util::future::join_all(counts).await;
}

async fn drive(
    ctx: &mut Ctx<'_>,
    units: &[Unit],
    running: &mut Vec<Running>,
) -> Result<UnitsEnded, SyncError> {
    let mut waiting = units.iter();
    let mut held = 0;
    let limit = ctx.opts.parallel_batches.max(1);
    // Whether this run has moved a checkpoint or finished a unit yet.
    let mut moved = false;
    let mut pipeline = Pipeline::new(ctx.client, ctx.fields.clone(), ctx.opts.excluded);
    loop {
        // Past the deadline the run drains what is in flight, the changelog pool included, and
        // takes on nothing new (no unit, id page or batch): every unit's checkpoint then reaches
        // all it handed to the pipeline. A run that has moved nothing yet first takes one batch,
        // so each run moves the sync forward, however short its time. (Stopping at the first
        // stored batch instead could leave every checkpoint held back by an issue still waiting
        // for its changelog, and each continuation redo the same work for ever.)
        let past = ctx.out_of_time();
        let draining = past && (moved || pipeline.has_work(false));
        let limit = if past { 1 } else { limit };
        while !draining && upcoming(running) < limit {
            let Some(unit) = waiting.next() else { break };
            match start(ctx, unit, &mut pipeline).await {
                Ok(Some(r)) => running.push(r),
                Ok(None) => {}
                // Another run is syncing it: skipped, not fatal.
                Err(e @ SyncError::LeaseHeld { .. }) => {
                    held += 1;
                    ctx.errors.push(e.run_error());
                }
                Err(e) => return Err(e),
            }
        }
        if !draining {
            fill(running, &mut pipeline, limit);
        }
        let mut i = 0;
        while i < running.len() {
            if running[i].input_done() && !pipeline.holds(running[i].slot) {
                finish(ctx, running.remove(i)).await?;
                moved = true;
            } else {
                i += 1;
            }
        }
        if running.is_empty() && waiting.len() == 0 {
            return Ok(UnitsEnded {
                partial: false,
                held,
            });
        }
        if draining && !pipeline.has_work(true) {
            return Ok(UnitsEnded {
                partial: true,
                held,
            });
        }
        // A partly filled changelog pool waits for more truncated issues while any may come.
        let no_more_input =
            draining || (waiting.len() == 0 && running.iter().all(Running::input_done));
        let step = next_step(running, &mut pipeline, no_more_input, !draining).await?;
        // The slot this step freed is taken again before its issues are written: writing takes
        // CPU time, and Jira's answers keep coming meanwhile.
        if !draining {
            fill(running, &mut pipeline, limit);
        }
        match step {
            Step::Page(index, page) => {
                let page = page?;
                // What the store holds of the ids a window listed with their `updated`.
                let known = IssueIndex::read(
                    ctx.store,
                    &ctx.opts.integration,
                    page.0
                        .iter()
                        .filter(|(_, updated)| updated.is_some())
                        .map(|(id, _)| *id),
                )
                .await?;
                let r = &mut running[index];
                r.next_page = None;
                r.accept(ctx.client, &known, page);
            }
            Step::Fetched(outputs) => {
                for out in outputs?.into_iter().flatten() {
                    let r = running
                        .iter_mut()
                        .find(|r| r.slot == out.unit)
                        .expect("a unit with issues on their way is running");
                    moved |= stored(ctx, r, out).await?;
                }
            }
        }
    }
}

/// Waits for the next id page of any unit (unless `scan` is false: the run is draining) or the
/// next issues out of the pipeline.
async fn next_step(
    running: &mut [Running],
    pipeline: &mut Pipeline,
    no_more_input: bool,
    scan: bool,
) -> Result<Step, SyncError> {
    let pages: Vec<_> = running
        .iter_mut()
        .enumerate()
        .filter(|_| scan)
        .filter_map(|(i, r)| {
            r.next_page
                .as_mut()
                .map(|page| Box::pin(async move { (i, page.await) }))
        })
        .collect();
    let scanning = !pages.is_empty();
    let fetching = pipeline.has_work(no_more_input);
    if !scanning && !fetching {
        // Every unfinished unit has queued ids or waits on Jira, and `fill` gave the queued
        // ones slots while any were free: this cannot be reached.
        return Err(JiraError::Protocol("the sync pipeline stalled".into()).into());
    }
    Ok(tokio::select! {
        ((i, page), _, _) = async { select_all(pages).await }, if scanning => Step::Page(i, page),
        out = pipeline.next(no_more_input), if fetching => Step::Fetched(out),
    })
}

/// Writes a unit's fetched issues, then moves its checkpoint; whether it moved.
async fn stored(ctx: &mut Ctx<'_>, r: &mut Running, out: Output) -> Result<bool, SyncError> {
    r.missing.extend(&out.missing);
    if !out.issues.is_empty() {
        store_batch(ctx, &r.unit, out.issues).await?;
        r.wrote = true;
    }
    if out.checkpoint > r.progress.last_id {
        r.progress.last_id = out.checkpoint;
        r.cursor.in_progress = Some(r.progress.clone());
        ctx.put_cursor(&r.unit.name, &r.cursor).await?;
        r.wrote = true;
        return Ok(true);
    }
    Ok(false)
}

/// The work known to be coming, in requests: batches scanned but not yet sent, and id pages
/// asked for. Below the budget, the slots would soon run dry: another unit starts.
fn upcoming(running: &[Running]) -> usize {
    running
        .iter()
        .map(|r| r.queued.len() + usize::from(r.next_page.is_some()))
        .sum()
}

/// Hands queued batches to the pipeline while the budget has room, earliest unit first.
fn fill(running: &mut [Running], pipeline: &mut Pipeline, limit: usize) {
    for r in running.iter_mut() {
        while pipeline.batches_ahead() < limit {
            let Some((ids, covers_to)) = r.queued.pop_front() else {
                break;
            };
            pipeline.push(r.slot, ids, covers_to);
        }
    }
}

/// Takes the unit's lease, reads its cursor and asks for its first id page; None (the lease
/// given back) when the unit is current within the run's chain.
async fn start(
    ctx: &mut Ctx<'_>,
    unit: &Unit,
    pipeline: &mut Pipeline,
) -> Result<Option<Running>, SyncError> {
    if !ctx.take_lease(unit).await? {
        return Err(SyncError::LeaseHeld {
            unit: unit.name.clone(),
        });
    }
    let cursor = match ctx
        .store
        .get_cursor(&ctx.opts.integration, &unit.name)
        .await
    {
        Ok(cursor) => cursor.unwrap_or_default(),
        Err(e) => {
            ctx.release_lease(unit).await?;
            return Err(e.into());
        }
    };
    notify(
        ctx,
        Event::UnitStarted {
            unit: unit.name.clone(),
        },
    );
    let current = ctx.opts.current_since_ms.is_some_and(|since| {
        cursor.in_progress.is_none() && cursor.watermark_ms.is_some_and(|w| w >= since)
    });
    if current {
        ctx.release_lease(unit).await?;
        notify(
            ctx,
            Event::UnitFinished {
                unit: unit.name.clone(),
            },
        );
        return Ok(None);
    }
    let progress = cursor.in_progress.clone().unwrap_or(Progress {
        window_start_ms: cursor.watermark_ms.map(|w| w - ctx.opts.overlap_ms),
        run_started_ms: now_ms(),
        last_id: 0,
    });
    let mut cursor = cursor;
    let backfill = cursor.watermark_ms.is_none() && cursor.in_progress.is_none();
    let over_stored = match backfill {
        true => holds_any(ctx, unit.project.as_deref()).await,
        false => Ok(false),
    };
    let over_stored = match over_stored {
        Ok(over) => over,
        Err(e) => {
            ctx.release_lease(unit).await?;
            return Err(e.into());
        }
    };
    if over_stored {
        // A backfill over issues already stored (a changed filter, a cursor started over) does
        // not see those it no longer lists: it owes a census, which the checkpoints keep.
        cursor.census_after = Some(0);
    }
    let mut r = Running {
        unit: unit.clone(),
        resumed: cursor.in_progress.is_some(),
        slot: pipeline.add_unit(progress.last_id),
        cursor,
        next_page: None,
        queued: VecDeque::new(),
        wrote: false,
        missing: Vec::new(),
        listed: 0,
        progress,
    };
    r.scan(ctx.client, r.progress.last_id);
    Ok(Some(r))
}

/// A unit whose ids were all fetched and stored: its new watermark, and its lease given back
/// whether or not the watermark could be written.
async fn finish(ctx: &mut Ctx<'_>, r: Running) -> Result<(), SyncError> {
    let Running {
        unit,
        cursor,
        progress,
        resumed,
        wrote,
        missing,
        listed,
        ..
    } = r;
    let backfill = cursor.watermark_ms.is_none();
    if !missing.is_empty() {
        // Not complete: the cursor stays at the checkpoint before the first missing id, so the
        // next run lists the unit from there and asks for them again.
        ctx.incomplete.push(issues_missing(&unit, &missing));
        let released = ctx.release_lease(&unit).await;
        notify(ctx, Event::UnitFinished { unit: unit.name });
        return Ok(released?);
    }
    if backfill && !resumed {
        // Read whole in this run: checked against Jira's count once every unit is done.
        ctx.backfilled.push(Listed {
            unit: unit.clone(),
            ids: listed,
            started_ms: progress.run_started_ms,
        });
    }
    // A unit that found nothing new keeps its cursor unwritten (no write per idle unit per run),
    // unless a continuation may follow (the run is past its deadline, or continues a chain): its
    // new watermark is what tells the chain's next run that the unit is current.
    let continued = ctx.opts.current_since_ms.is_some() || ctx.out_of_time();
    // A completed backfill has seen every id: it counts as a census, unless it owes one (see
    // `start`), which then runs from the first id.
    let censused = backfill && cursor.census_after.is_none();
    let written = if wrote || resumed || continued || cursor.watermark_ms.is_none() {
        let done = Cursor {
            watermark_ms: Some(progress.run_started_ms),
            in_progress: None,
            last_census_ms: if censused {
                Some(progress.run_started_ms)
            } else {
                cursor.last_census_ms
            },
            // A census under way keeps its place (a backfill has just seen every id).
            census_after: if censused { None } else { cursor.census_after },
        };
        let put = ctx.put_cursor(&unit.name, &done).await;
        if censused && put.is_ok() {
            ctx.read_every_id.insert(unit.name.clone());
        }
        put
    } else {
        Ok(())
    };
    let released = ctx.release_lease(&unit).await;
    notify(ctx, Event::UnitFinished { unit: unit.name });
    written?;
    Ok(released?)
}

/// Ids named in an error at most: the count says how many there were.
const MISSING_IDS_SHOWN: usize = 10;

/// The error of a unit whose listed issues Jira did not answer.
fn issues_missing(unit: &Unit, missing: &[u64]) -> RunError {
    let mut ids: Vec<u64> = missing.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let shown: Vec<String> = ids
        .iter()
        .take(MISSING_IDS_SHOWN)
        .map(u64::to_string)
        .collect();
    let more = if ids.len() > MISSING_IDS_SHOWN {
        format!(" and {} more", ids.len() - MISSING_IDS_SHOWN)
    } else {
        String::new()
    };
    RunError::new(
        ErrorCategory::IssuesMissing,
        format!(
            "{}: {} issue(s) Jira listed were not answered when fetched, in bulk or one by one \
             (ids {}{more}); the unit is not complete, and the next run asks for them again",
            unit.name,
            ids.len(),
            shown.join(", ")
        ),
    )
}

/// Whether the store holds an issue a listing of the unit should find (of `project`, or of any
/// project for a filter). Read once a run, when a unit first asks: a unit writes only its own
/// project's issues, so what the others wrote since does not change the answer.
async fn holds_any(ctx: &mut Ctx<'_>, project: Option<&str>) -> Result<bool, StoreError> {
    let held = match &ctx.listed_projects {
        Some(held) => held,
        None => ctx
            .listed_projects
            .insert(scope::listed_projects(ctx).await?),
    };
    Ok(project.map_or(!held.is_empty(), |p| held.contains(p)))
}
