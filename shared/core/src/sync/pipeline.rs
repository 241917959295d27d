//! The fetch pipeline of a run: issues in bulk batches of 100, kept continuously in flight, with
//! what Jira truncated completed on the side. Every unit of the run shares it.
//!
//! Each batch fetches its issues (changelog embedded) and then any comment pages Jira truncated.
//! Issues whose embedded changelog is complete are ready at once; truncated ones, of any unit,
//! wait in one pool until their histories fill one bulk changelog page (10,000 histories), so
//! the extra requests stay at the lower bound while memory holds only that pool.
//!
//! Issues come out as soon as they are complete, not in id order. A unit's checkpoint is the
//! highest id up to which everything of that unit is stored: what has been queued, held back by
//! its earliest batch not yet consumed and by its smallest id still waiting for its changelog.
//! Upserts are idempotent, so work past the checkpoint redone after a restart loses and
//! duplicates nothing.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::fetch::{
    CHANGELOG_ISSUES, CHANGELOG_PAGE, all_comments, fetch_issues, finish, full_changelogs,
};
use super::plan::Excluded;
use crate::jira::models::{Comment, Issue};
use crate::jira::{JiraClient, JiraError};
use crate::store::StoredIssue;

/// Issues per bulk fetch (Jira's limit with the changelog embedded).
pub const DETAIL_BATCH: usize = 100;

/// A spawned task that is cancelled when dropped (a run stopping early leaves nothing behind).
pub struct Task<T>(tokio::task::JoinHandle<T>);

impl<T: Send + 'static> Task<T> {
    pub fn spawn(f: impl Future<Output = T> + Send + 'static) -> Self {
        Task(tokio::spawn(f))
    }
}

impl<T, E: From<JiraError>> Future for Task<Result<T, E>> {
    type Output = Result<T, E>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|joined| {
            joined.unwrap_or_else(|e| {
                Err(JiraError::Protocol(format!("fetch task failed: {e}")).into())
            })
        })
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A unit of the run, as the pipeline knows it: an index it gave out.
pub type Slot = usize;

/// A batch as fetched: complete issues, issues waiting for their changelog, and the last id the
/// batch covered (ids Jira no longer returns are covered too).
struct Batch {
    unit: Slot,
    ready: Vec<StoredIssue>,
    truncated: Vec<Waiting>,
    /// The ids after `after` up to `covers_to` are this batch's.
    after: u64,
    covers_to: u64,
}

/// An issue whose changelog Jira truncated, with its comments already complete.
struct Waiting {
    unit: Slot,
    id: u64,
    issue: Issue,
    comments: Vec<Comment>,
    histories: u64,
}

/// Issues whose changelogs a bulk request completed, each with its unit.
type Completed = Vec<(Slot, StoredIssue)>;

/// Issues of one unit to store, and how far its checkpoint may move after.
pub struct Output {
    pub unit: Slot,
    pub issues: Vec<StoredIssue>,
    pub checkpoint: u64,
}

pub struct Pipeline {
    client: JiraClient,
    fields: Arc<Vec<String>>,
    excluded: Excluded,
    /// Batches complete in any order and are consumed as they do: none waits behind a slow one.
    batches: FuturesUnordered<Task<Result<Batch, JiraError>>>,
    /// The ranges `(unit, after, covers_to)` of batches not consumed yet.
    open: BTreeSet<(Slot, u64, u64)>,
    changelogs: FuturesUnordered<Task<Result<Completed, JiraError>>>,
    pool: Vec<Waiting>,
    pool_histories: u64,
    /// `(unit, id)` of issues waiting for their changelog, in the pool or in a request.
    waiting: BTreeSet<(Slot, u64)>,
    /// Per unit: everything up to here has been queued.
    pushed_to: Vec<u64>,
    /// The pool was sent at the end of the input.
    ended: bool,
}

impl Pipeline {
    pub fn new(client: &JiraClient, fields: Vec<String>, excluded: Excluded) -> Self {
        Pipeline {
            client: client.clone(),
            fields: Arc::new(fields),
            excluded,
            batches: FuturesUnordered::new(),
            open: BTreeSet::new(),
            changelogs: FuturesUnordered::new(),
            pool: Vec::new(),
            pool_histories: 0,
            waiting: BTreeSet::new(),
            pushed_to: Vec::new(),
            ended: false,
        }
    }

    /// A unit joins: everything of it up to `start` is already stored.
    pub fn add_unit(&mut self, start: u64) -> Slot {
        self.pushed_to.push(start);
        self.pushed_to.len() - 1
    }

    /// Work queued and not yet consumed: batches and changelog requests. Callers keep this
    /// bounded; it is what bounds memory (a changelog request holds its issues until it ends).
    pub fn batches_ahead(&self) -> usize {
        self.batches.len() + self.changelogs.len()
    }

    /// Whether [`Pipeline::next`] has anything to wait for: work in flight, or (once no more
    /// input comes) issues pooled for their changelogs.
    pub fn has_work(&self, no_more_input: bool) -> bool {
        self.batches_ahead() > 0 || (no_more_input && !self.pool.is_empty())
    }

    /// Whether any issue of the unit is still on its way: in a batch, or waiting for its
    /// changelog.
    pub fn holds(&self, unit: Slot) -> bool {
        let of_unit = |(u, ..): &(Slot, u64, u64)| *u == unit;
        self.open.range((unit, 0, 0)..).next().is_some_and(of_unit)
            || self
                .waiting
                .range((unit, 0)..)
                .next()
                .is_some_and(|(u, _)| *u == unit)
    }

    /// Queues a batch of at most [`DETAIL_BATCH`] ids of the unit, ascending; `covers_to` (≥ the
    /// last id) lets a batch also cover ids that were skipped as unchanged.
    pub fn push(&mut self, unit: Slot, ids: Vec<u64>, covers_to: u64) {
        let (client, fields, excluded) = (self.client.clone(), self.fields.clone(), self.excluded);
        let after = self.pushed_to[unit];
        self.pushed_to[unit] = covers_to;
        self.open.insert((unit, after, covers_to));
        self.batches.push(Task::spawn(async move {
            let mut batch = if ids.is_empty() {
                Batch {
                    unit,
                    ready: Vec::new(),
                    truncated: Vec::new(),
                    after,
                    covers_to,
                }
            } else {
                fetch_batch(&client, unit, &ids, &fields, &excluded).await?
            };
            (batch.after, batch.covers_to) = (after, covers_to);
            Ok(batch)
        }));
    }

    /// The next issues to store, by unit, or None when nothing is queued, in flight or waiting.
    /// With `no_more_input`, a partly filled changelog pool is requested rather than held.
    /// Cancel-safe: nothing is taken until it is returned.
    pub async fn next(&mut self, no_more_input: bool) -> Result<Option<Vec<Output>>, JiraError> {
        self.send_pool_at_end(no_more_input);
        if self.batches.is_empty() && self.changelogs.is_empty() {
            return Ok(None);
        }
        let by_unit: Vec<(Slot, Vec<StoredIssue>)> = tokio::select! {
            Some(batch) = self.batches.next(), if !self.batches.is_empty() => {
                let batch = batch?;
                self.open.remove(&(batch.unit, batch.after, batch.covers_to));
                for w in batch.truncated {
                    self.waiting.insert((w.unit, w.id));
                    self.pool_histories = self.pool_histories.saturating_add(w.histories);
                    self.pool.push(w);
                }
                while self.pool_histories >= CHANGELOG_PAGE || self.pool.len() >= CHANGELOG_ISSUES {
                    self.request_changelogs();
                }
                // The last batch's truncated issues go now, not after its issues are written.
                self.send_pool_at_end(no_more_input);
                vec![(batch.unit, batch.ready)]
            }
            Some(done) = self.changelogs.next(), if !self.changelogs.is_empty() => {
                let mut by_unit: HashMap<Slot, Vec<StoredIssue>> = HashMap::new();
                for (unit, issue) in done? {
                    self.waiting.remove(&(unit, issue.id.parse().unwrap_or(u64::MAX)));
                    by_unit.entry(unit).or_default().push(issue);
                }
                by_unit.into_iter().collect()
            }
        };
        Ok(Some(
            by_unit
                .into_iter()
                .map(|(unit, issues)| Output {
                    unit,
                    issues,
                    checkpoint: self.checkpoint(unit),
                })
                .collect(),
        ))
    }

    /// Once no more input comes, the pool goes at once rather than after the last batches;
    /// what they add goes in one last request, when they are all in.
    fn send_pool_at_end(&mut self, no_more_input: bool) {
        if no_more_input && !self.pool.is_empty() && (!self.ended || self.batches.is_empty()) {
            self.ended = true;
            self.request_changelogs();
        }
    }

    /// How far the unit's checkpoint may move: what it queued, held back by its earliest batch
    /// not consumed and its smallest id waiting for a changelog.
    fn checkpoint(&self, unit: Slot) -> u64 {
        let unconsumed = self
            .open
            .range((unit, 0, 0)..)
            .next()
            .filter(|(u, ..)| *u == unit)
            .map(|&(_, after, _)| after);
        let unfinished = self
            .waiting
            .range((unit, 0)..)
            .next()
            .filter(|(u, _)| *u == unit)
            .map(|&(_, first)| first.saturating_sub(1));
        [unconsumed, unfinished]
            .into_iter()
            .flatten()
            .fold(self.pushed_to[unit], u64::min)
    }

    /// Sends the pool's oldest issues, up to one page of histories, as one bulk request.
    fn request_changelogs(&mut self) {
        let mut take = 0;
        let mut histories = 0;
        while take < self.pool.len() && take < CHANGELOG_ISSUES {
            let h = self.pool[take].histories;
            if take > 0 && histories + h > CHANGELOG_PAGE {
                break;
            }
            histories += h;
            take += 1;
        }
        let group: Vec<Waiting> = self.pool.drain(..take).collect();
        self.pool_histories = self.pool_histories.saturating_sub(histories);
        let (client, excluded) = (self.client.clone(), self.excluded);
        self.changelogs.push(Task::spawn(async move {
            complete_changelogs(&client, group, &excluded).await
        }));
    }
}

async fn fetch_batch(
    client: &JiraClient,
    unit: Slot,
    ids: &[u64],
    fields: &[String],
    excluded: &Excluded,
) -> Result<Batch, JiraError> {
    let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
    let issues = fetch_issues(client, ids, &field_refs).await?;
    // Only what was asked for: an issue under another id (`abc`, `0`, one never requested)
    // would be stored outside the range this batch covers and confuse the checkpoint.
    if let Some(stray) = issues
        .iter()
        .find(|i| !matches!(i.id.parse::<u64>(), Ok(id) if ids.contains(&id)))
    {
        return Err(JiraError::Protocol(format!(
            "Jira answered an issue that was not asked for (id {:?})",
            stray.id.chars().take(32).collect::<String>()
        )));
    }
    let comments: Vec<Vec<Comment>> = if excluded.comments {
        vec![Vec::new(); issues.len()]
    } else {
        futures_util::future::try_join_all(issues.iter().map(|i| all_comments(client, i))).await?
    };
    let mut batch = Batch {
        unit,
        ready: Vec::with_capacity(issues.len()),
        truncated: Vec::new(),
        after: 0,
        covers_to: 0,
    };
    for (mut issue, comments) in issues.into_iter().zip(comments) {
        let truncated = issue
            .changelog
            .as_ref()
            .filter(|c| c.total > c.histories.len() as u64)
            // Its weight in the pool: an issue past one page fills a request of its own, so a
            // huge `total` claims no more than that.
            .map(|c| c.total.min(CHANGELOG_PAGE));
        match truncated {
            Some(total) => batch.truncated.push(Waiting {
                unit,
                id: issue.id.parse().unwrap_or(u64::MAX),
                issue,
                comments,
                histories: total,
            }),
            None => {
                let changelog = issue
                    .changelog
                    .take()
                    .map(|c| c.histories)
                    .unwrap_or_default();
                batch
                    .ready
                    .push(finish(issue, changelog, comments, excluded));
            }
        }
    }
    Ok(batch)
}

/// Fetches the full changelogs of `group` in bulk (one page when the pool was sized right).
async fn complete_changelogs(
    client: &JiraClient,
    group: Vec<Waiting>,
    excluded: &Excluded,
) -> Result<Completed, JiraError> {
    let ids: Vec<String> = group.iter().map(|w| w.issue.id.clone()).collect();
    let mut full = full_changelogs(client, &ids).await?;
    Ok(group
        .into_iter()
        .map(|mut w| {
            let embedded = w
                .issue
                .changelog
                .take()
                .map(|c| c.histories)
                .unwrap_or_default();
            let changelog = full.remove(&w.issue.id).unwrap_or(embedded);
            (w.unit, finish(w.issue, changelog, w.comments, excluded))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::scripted_client;
    use jira_sim::scripted::{self, json_reply};

    /// Every issue of a batch, or the error that ended it.
    async fn drain(answer: scripted::Answer, ids: Vec<u64>) -> Result<Vec<String>, JiraError> {
        let client = scripted_client(answer).await;
        let mut pipeline = Pipeline::new(&client, vec!["status".into()], Excluded::default());
        let unit = pipeline.add_unit(0);
        let last = *ids.last().unwrap();
        pipeline.push(unit, ids, last);
        let mut stored = Vec::new();
        while let Some(outputs) = pipeline.next(true).await? {
            for out in outputs {
                stored.extend(out.issues.into_iter().map(|i| i.id));
            }
        }
        Ok(stored)
    }

    #[tokio::test]
    async fn issues_jira_was_not_asked_for_end_the_batch_with_an_error() {
        fn stray(_: &str, _: std::net::SocketAddr) -> String {
            json_reply(
                "200 OK",
                r#"{"issues": [{"id": "5", "key": "P-5", "fields": {}}, {"id": "abc", "key": "P-6", "fields": {}}]}"#,
            )
        }
        fn unasked(_: &str, _: std::net::SocketAddr) -> String {
            json_reply(
                "200 OK",
                r#"{"issues": [{"id": "0", "key": "P-0", "fields": {}}]}"#,
            )
        }
        for answer in [stray as scripted::Answer, unasked] {
            let err = drain(answer, vec![5, 6]).await.unwrap_err();
            assert!(err.to_string().contains("not asked for"), "{err}");
        }
    }

    #[tokio::test]
    async fn a_changelog_total_of_any_size_neither_panics_nor_starves_the_pool() {
        // Two issues whose changelogs Jira says hold u64::MAX histories; the bulk changelog
        // endpoint then has none to add.
        fn answer(head: &str, _: std::net::SocketAddr) -> String {
            if head.contains("/changelog/bulkfetch") {
                return json_reply("200 OK", r#"{"issueChangeLogs": []}"#);
            }
            let huge = u64::MAX;
            json_reply(
                "200 OK",
                &format!(
                    r#"{{"issues": [
                        {{"id": "5", "key": "P-5", "fields": {{}}, "changelog": {{"startAt": 0, "maxResults": 0, "total": {huge}, "histories": []}}}},
                        {{"id": "6", "key": "P-6", "fields": {{}}, "changelog": {{"startAt": 0, "maxResults": 0, "total": {huge}, "histories": []}}}}
                    ]}}"#
                ),
            )
        }
        let mut stored = drain(answer, vec![5, 6]).await.unwrap();
        stored.sort();
        assert_eq!(stored, ["5", "6"]);
    }
}
