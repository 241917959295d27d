//! Chains that get nowhere end. A run stopped early is normally followed at once by a
//! continuation; a run that stopped early *without progress* (no issue written, no checkpoint
//! moved: Jira asked for a wait past the run's time, say) is not. Its next try waits for when
//! Jira said, or a backoff that doubles from run to run, or the integration's own schedule if
//! that comes sooner; after [`StallPolicy::stop_after`] such runs in a row, only the schedule
//! tries again. A site that refuses everything then costs one invocation per schedule tick plus
//! a few backoff tries, never a chain of immediate re-invocations.
//!
//! Where the integration stands is kept in its sync state ([`STALL_RECORD`]): the sync service
//! settles it after each run, and monitoring shows it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::store::{ErrorCategory, Record, RecordKind, RecordStore, StoreError};

/// The sync-state record of a stall under way.
const STALL_RECORD: &str = "stall";

/// How stalled chains back off and stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StallPolicy {
    /// Runs in a row without progress after which only the schedule tries again (template:
    /// `StalledRunsBeforeStop`).
    pub stop_after: u32,
    /// The wait after the first run without progress when Jira said nothing longer; it doubles
    /// with each further run.
    pub first_backoff: Duration,
}

impl Default for StallPolicy {
    fn default() -> Self {
        StallPolicy {
            stop_after: 5,
            first_backoff: Duration::from_secs(60),
        }
    }
}

/// What tries next after a run without progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextTry {
    /// A one-time retry at `next_try_ms`.
    Retry,
    /// The integration's schedule, which comes before the wait is over.
    Schedule,
    /// The integration's schedule: the chain stopped after too many runs without progress.
    Stopped,
}

/// An integration whose latest runs stopped early without progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stall {
    /// Runs in a row, the latest included, that made no progress.
    pub in_a_row: u32,
    /// When the first of them ended (epoch ms).
    pub since_ms: i64,
    /// When the latest of them ended (epoch ms).
    pub latest_ms: i64,
    /// Why the latest stopped (rate limited, mostly), if it recorded why.
    pub category: Option<ErrorCategory>,
    pub next_try: NextTry,
    /// When the next try is due (epoch ms); for the schedule, the latest it can come (None for a
    /// cron schedule, whose next tick is not worked out here).
    pub next_try_ms: Option<i64>,
}

/// What the latest run without progress knew.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stalled {
    pub ended_ms: i64,
    pub category: Option<ErrorCategory>,
    /// The wait Jira asked for (or the client's backoff) that the run would not outlast.
    pub asked: Option<Duration>,
    /// The integration's schedule period, for a `rate(...)` schedule.
    pub schedule_every: Option<Duration>,
}

/// The stall after a run without progress, following `previous` (None when the run before made
/// progress).
pub fn settle(policy: &StallPolicy, previous: Option<&Stall>, run: Stalled) -> Stall {
    let in_a_row = previous.map_or(0, |p| p.in_a_row).saturating_add(1);
    let by_schedule = run
        .schedule_every
        .map(|every| run.ended_ms.saturating_add(millis(every)));
    let (next_try, next_try_ms) = if in_a_row >= policy.stop_after {
        (NextTry::Stopped, by_schedule)
    } else {
        let doublings = (in_a_row - 1).min(20);
        let backoff = policy.first_backoff.saturating_mul(1 << doublings);
        let wait = run.asked.map_or(backoff, |asked| asked.max(backoff));
        match run.schedule_every {
            Some(every) if every <= wait => (NextTry::Schedule, by_schedule),
            _ => (
                NextTry::Retry,
                Some(run.ended_ms.saturating_add(millis(wait))),
            ),
        }
    };
    Stall {
        in_a_row,
        since_ms: previous.map_or(run.ended_ms, |p| p.since_ms),
        latest_ms: run.ended_ms,
        category: run.category,
        next_try,
        next_try_ms,
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The stall under way in the integration's sync-state records, if any.
pub fn stall_in(records: &[Record]) -> Option<Stall> {
    records
        .iter()
        .find(|r| r.id == STALL_RECORD)
        .and_then(|r| serde_json::from_value(r.data.clone()).ok())
}

/// The integration's stall under way, if any (one read of its sync state).
pub async fn load_stall<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
) -> Result<Option<Stall>, StoreError> {
    Ok(stall_in(
        &store
            .list_records(integration, RecordKind::SyncState)
            .await?,
    ))
}

/// Keeps `stall` as the integration's, or clears it (None: the chain got somewhere).
pub async fn keep_stall<S: RecordStore + ?Sized>(
    store: &S,
    integration: &str,
    stall: Option<&Stall>,
) -> Result<(), StoreError> {
    let record = Record {
        id: STALL_RECORD.into(),
        data: serde_json::to_value(stall).unwrap_or(serde_json::Value::Null),
    };
    store
        .put_records(integration, RecordKind::SyncState, &[record])
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn stalled(ended_ms: i64, asked: Option<Duration>, every: Option<Duration>) -> Stalled {
        Stalled {
            ended_ms,
            category: Some(ErrorCategory::RateLimited),
            asked,
            schedule_every: every,
        }
    }

    /// Backoff doubles from a minute unless Jira asks for longer; the schedule takes over when it
    /// comes first; the fifth run in a row stops the chain.
    #[test]
    fn stalls_back_off_then_stop() {
        let policy = StallPolicy::default();
        let hourly = Some(60 * MIN);
        let mut stall: Option<Stall> = None;
        let mut seen = Vec::new();
        for (i, asked) in [None, None, Some(15 * MIN), None, None, None]
            .into_iter()
            .enumerate()
        {
            let t = i as i64 * 1_000_000;
            let next = settle(&policy, stall.as_ref(), stalled(t, asked, hourly));
            seen.push((
                next.in_a_row,
                next.next_try,
                next.next_try_ms.map(|n| n - t),
            ));
            assert_eq!(next.since_ms, 0);
            stall = Some(next);
        }
        let ms = |d: Duration| Some(d.as_millis() as i64);
        assert_eq!(
            seen,
            vec![
                (1, NextTry::Retry, ms(MIN)),
                (2, NextTry::Retry, ms(2 * MIN)),
                (3, NextTry::Retry, ms(15 * MIN)),
                (4, NextTry::Retry, ms(8 * MIN)),
                (5, NextTry::Stopped, ms(60 * MIN)),
                (6, NextTry::Stopped, ms(60 * MIN)),
            ]
        );
        // A wait as long as the schedule's period: the schedule tries next.
        let next = settle(&policy, None, stalled(0, Some(60 * MIN), hourly));
        assert_eq!(
            (next.next_try, next.next_try_ms),
            (NextTry::Schedule, ms(60 * MIN))
        );
        // A cron schedule's next tick is not known: the retry is scheduled.
        let next = settle(&policy, None, stalled(0, Some(600 * MIN), None));
        assert_eq!(
            (next.next_try, next.next_try_ms),
            (NextTry::Retry, ms(600 * MIN))
        );
    }
}
