//! The fetch pipeline of a run: issues in bulk batches of 100, kept continuously in flight, with
//! what Jira truncated completed on the side. Every unit of the run shares it.
//!
//! Each batch fetches its issues (changelog embedded) and then any comment pages Jira truncated.
//! Issues whose embedded changelog is complete are ready once their comments are. Truncated ones,
//! of any unit, join one pool as soon as Jira answers their bulk fetch, not after their comment
//! pages; the pool is sent when their histories fill one bulk changelog page (10,000 histories),
//! so the extra requests stay at the lower bound while memory holds only the issues waiting for
//! that page. An issue is complete when both its full changelog and its comments are in,
//! whichever comes last.
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
use crate::jira::models::{Comment, History, Issue};
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

/// An issue of a unit: its unit and its id.
type Key = (Slot, u64);

/// The ids after `after` up to `covers_to` are a batch's (ids Jira no longer returns are covered
/// too).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct IdRange {
    unit: Slot,
    after: u64,
    covers_to: u64,
}

/// A batch as its task ends: complete issues, truncated ones waiting for their changelog, and
/// the ids Jira did not answer.
struct Batch {
    range: IdRange,
    ready: Vec<StoredIssue>,
    truncated: Vec<Waiting>,
    missing: Vec<u64>,
}

/// What a batch's task tells the pipeline as soon as Jira answers its bulk fetch, before it asks
/// for comments: the issues whose changelog Jira truncated, each with its histories.
struct Answered(Vec<Claim>);

/// An issue whose changelog Jira truncated, with its comments complete.
struct Waiting {
    id: u64,
    issue: Issue,
    comments: Vec<Comment>,
}

/// A truncated issue's place in the changelog pool: its weight is its histories.
struct Claim {
    key: Key,
    histories: u64,
}

/// Full changelogs a bulk request brought, by issue (None: Jira had nothing to add).
type Changelogs = Vec<(Key, Option<Vec<History>>)>;

/// Issues of one unit to store, how far its checkpoint may move after, and the ids of the unit
/// Jira listed but did not answer when asked for them (twice): the checkpoint stays before them
/// for the rest of the run.
pub struct Output {
    pub unit: Slot,
    pub issues: Vec<StoredIssue>,
    pub checkpoint: u64,
    pub missing: Vec<u64>,
}

pub struct Pipeline {
    client: JiraClient,
    fields: Arc<Vec<String>>,
    excluded: Excluded,
    /// Batches complete in any order and are consumed as they do: none waits behind a slow one.
    batches: FuturesUnordered<Task<Result<Batch, JiraError>>>,
    /// Batches whose answer (their truncated issues) the pipeline has not taken yet: until it
    /// has, the pool may still grow.
    unanswered: usize,
    answers: tokio::sync::mpsc::UnboundedSender<Answered>,
    answered: tokio::sync::mpsc::UnboundedReceiver<Answered>,
    /// The ranges of batches not consumed yet.
    open: BTreeSet<IdRange>,
    changelogs: FuturesUnordered<Task<Result<Changelogs, JiraError>>>,
    pool: Vec<Claim>,
    pool_histories: u64,
    /// Issues waiting for their changelog: in the pool, in a request, or parked.
    waiting: BTreeSet<Key>,
    /// Truncated issues whose comments are in and whose full changelog is not.
    parked: HashMap<Key, Waiting>,
    /// Full changelogs that came before their issue's comments.
    arrived: HashMap<Key, Option<Vec<History>>>,
    /// Per unit: everything up to here has been queued.
    pushed_to: Vec<u64>,
    /// Per unit: the smallest id Jira did not answer, which the checkpoint never passes.
    first_missing: Vec<Option<u64>>,
    /// The pool was sent at the end of the input.
    ended: bool,
}

impl Pipeline {
    pub fn new(client: &JiraClient, fields: Vec<String>, excluded: Excluded) -> Self {
        let (answers, answered) = tokio::sync::mpsc::unbounded_channel();
        Pipeline {
            answers,
            answered,
            client: client.clone(),
            fields: Arc::new(fields),
            excluded,
            batches: FuturesUnordered::new(),
            unanswered: 0,
            open: BTreeSet::new(),
            changelogs: FuturesUnordered::new(),
            pool: Vec::new(),
            pool_histories: 0,
            waiting: BTreeSet::new(),
            parked: HashMap::new(),
            arrived: HashMap::new(),
            pushed_to: Vec::new(),
            first_missing: Vec::new(),
            ended: false,
        }
    }

    /// A unit joins: everything of it up to `start` is already stored.
    pub fn add_unit(&mut self, start: u64) -> Slot {
        self.pushed_to.push(start);
        self.first_missing.push(None);
        self.pushed_to.len() - 1
    }

    /// Work queued and not yet consumed: batches and changelog requests. Callers keep this
    /// bounded; with the changelog pool (issues waiting for at most a page of histories beyond
    /// the requests in flight) it is what bounds memory.
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
        let first = IdRange {
            unit,
            after: 0,
            covers_to: 0,
        };
        self.open
            .range(first..)
            .next()
            .is_some_and(|r| r.unit == unit)
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
        let range = IdRange {
            unit,
            after: self.pushed_to[unit],
            covers_to,
        };
        self.pushed_to[unit] = covers_to;
        self.open.insert(range);
        self.unanswered += 1;
        let answers = self.answers.clone();
        self.batches.push(Task::spawn(async move {
            let (issues, missing) = if ids.is_empty() {
                (Vec::new(), Vec::new())
            } else {
                fetch_answered(&client, &ids, &fields).await?
            };
            let claims = issues
                .iter()
                .filter_map(|i| {
                    let histories = truncated_histories(i)?;
                    Some(Claim {
                        key: (unit, i.id.parse().unwrap_or(u64::MAX)),
                        histories,
                    })
                })
                .collect();
            // It fails only once the pipeline is gone, and then no one is left to tell.
            let _ = answers.send(Answered(claims));
            let (ready, truncated) = with_comments(&client, issues, &excluded).await?;
            Ok(Batch {
                range,
                ready,
                truncated,
                missing,
            })
        }));
    }

    /// The next issues to store, by unit (none, when a step only moved work along), or None
    /// when nothing is queued, in flight or waiting. With `no_more_input`, a partly filled
    /// changelog pool is requested rather than held. Cancel-safe: what a finished task brought
    /// is kept in the pipeline before anything is returned.
    pub async fn next(&mut self, no_more_input: bool) -> Result<Option<Vec<Output>>, JiraError> {
        self.send_pool_at_end(no_more_input);
        if self.batches.is_empty() && self.changelogs.is_empty() {
            return Ok(None);
        }
        let mut missing: Vec<u64> = Vec::new();
        let by_unit: HashMap<Slot, Vec<StoredIssue>> = tokio::select! {
            // A batch's answer is sent before its task ends: taken first, its truncated issues
            // hold the checkpoint back before the batch's range stops doing so.
            biased;
            Some(answer) = self.answered.recv() => {
                self.join_pool(answer);
                // The last batches' truncated issues go now, not after their comments.
                self.send_pool_at_end(no_more_input);
                HashMap::new()
            }
            Some(batch) = self.batches.next(), if !self.batches.is_empty() => {
                let Batch { range, ready, truncated, missing: gaps } = batch?;
                if let Some(&first) = gaps.iter().min() {
                    let held = &mut self.first_missing[range.unit];
                    *held = Some(held.map_or(first, |h| h.min(first)));
                }
                missing = gaps;
                while let Ok(answer) = self.answered.try_recv() {
                    self.join_pool(answer);
                }
                self.send_pool_at_end(no_more_input);
                self.open.remove(&range);
                let mut by_unit = HashMap::from([(range.unit, ready)]);
                for w in truncated {
                    let key = (range.unit, w.id);
                    match self.arrived.remove(&key) {
                        Some(full) => by_unit
                            .entry(range.unit)
                            .or_default()
                            .push(self.complete(key, w, full)),
                        None => {
                            self.parked.insert(key, w);
                        }
                    }
                }
                by_unit
            }
            Some(done) = self.changelogs.next(), if !self.changelogs.is_empty() => {
                let mut by_unit: HashMap<Slot, Vec<StoredIssue>> = HashMap::new();
                for (key, full) in done? {
                    match self.parked.remove(&key) {
                        Some(w) => by_unit.entry(key.0).or_default().push(self.complete(key, w, full)),
                        None => {
                            self.arrived.insert(key, full);
                        }
                    }
                }
                by_unit
            }
        };
        Ok(Some(
            by_unit
                .into_iter()
                .map(|(unit, issues)| Output {
                    unit,
                    issues,
                    checkpoint: self.checkpoint(unit),
                    missing: std::mem::take(&mut missing),
                })
                .collect(),
        ))
    }

    /// Jira answered a batch's bulk fetch: its truncated issues join the pool, and full pages of
    /// it are sent.
    fn join_pool(&mut self, Answered(claims): Answered) {
        self.unanswered -= 1;
        for claim in claims {
            self.waiting.insert(claim.key);
            self.pool_histories = self.pool_histories.saturating_add(claim.histories);
            self.pool.push(claim);
        }
        while self.pool_histories >= CHANGELOG_PAGE || self.pool.len() >= CHANGELOG_ISSUES {
            self.request_changelogs();
        }
    }

    /// A truncated issue with its full changelog (or, when Jira had nothing to add, the one it
    /// embedded).
    fn complete(&mut self, key: Key, mut w: Waiting, full: Option<Vec<History>>) -> StoredIssue {
        self.waiting.remove(&key);
        let embedded = w.issue.changelog.take().map(|c| c.histories);
        let changelog = full.or(embedded).unwrap_or_default();
        finish(w.issue, changelog, w.comments, &self.excluded)
    }

    /// Once no more input comes, the pool goes at once rather than after the last batches;
    /// what they add goes in one last request, when Jira has answered them all.
    fn send_pool_at_end(&mut self, no_more_input: bool) {
        if no_more_input && !self.pool.is_empty() && (!self.ended || self.unanswered == 0) {
            self.ended = true;
            self.request_changelogs();
        }
    }

    /// How far the unit's checkpoint may move: what it queued, held back by its earliest batch
    /// not consumed, its smallest id waiting for a changelog and its smallest id Jira did not
    /// answer.
    fn checkpoint(&self, unit: Slot) -> u64 {
        let first = IdRange {
            unit,
            after: 0,
            covers_to: 0,
        };
        let unconsumed = self
            .open
            .range(first..)
            .next()
            .filter(|r| r.unit == unit)
            .map(|r| r.after);
        let unfinished = self
            .waiting
            .range((unit, 0)..)
            .next()
            .filter(|(u, _)| *u == unit)
            .map(|&(_, first)| first.saturating_sub(1));
        let unanswered = self.first_missing[unit].map(|id| id.saturating_sub(1));
        [unconsumed, unfinished, unanswered]
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
        let keys: Vec<Key> = self.pool.drain(..take).map(|c| c.key).collect();
        self.pool_histories = self.pool_histories.saturating_sub(histories);
        let client = self.client.clone();
        self.changelogs.push(Task::spawn(async move {
            let ids: Vec<String> = keys.iter().map(|(_, id)| id.to_string()).collect();
            let mut full = full_changelogs(&client, &ids).await?;
            Ok(keys
                .into_iter()
                .zip(ids)
                .map(|(key, id)| (key, full.remove(&id)))
                .collect())
        }));
    }
}

/// How many histories the issue's changelog holds, when Jira truncated it. Its weight in the
/// pool: an issue past one page fills a request of its own, so a huge `total` claims no more
/// than that.
fn truncated_histories(issue: &Issue) -> Option<u64> {
    issue
        .changelog
        .as_ref()
        .filter(|c| c.total > c.histories.len() as u64)
        .map(|c| c.total.min(CHANGELOG_PAGE))
}

/// The batch's issues as Jira answered the bulk fetch, none it was not asked for, and the ids
/// it did not answer. An id left out of the answer, or answered in `issueErrors`, is asked for
/// again on its own (a bulk answer may drop what a single one gives); what is still missing
/// then is returned as such, never passed over.
async fn fetch_answered(
    client: &JiraClient,
    ids: &[u64],
    fields: &[String],
) -> Result<(Vec<Issue>, Vec<u64>), JiraError> {
    let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
    let mut issues = asked_only(ids, fetch_issues(client, ids, &field_refs).await?)?;
    let unanswered = |issues: &[Issue]| -> Vec<u64> {
        let answered: std::collections::HashSet<u64> =
            issues.iter().filter_map(|i| i.id.parse().ok()).collect();
        ids.iter()
            .copied()
            .filter(|id| !answered.contains(id))
            .collect()
    };
    let again = unanswered(&issues);
    if again.is_empty() {
        return Ok((issues, Vec::new()));
    }
    let singles = futures_util::future::try_join_all(
        again
            .iter()
            .map(|id| fetch_issues(client, std::slice::from_ref(id), &field_refs)),
    )
    .await?;
    for (id, answer) in again.iter().zip(singles) {
        issues.extend(asked_only(std::slice::from_ref(id), answer)?);
    }
    let missing = unanswered(&issues);
    Ok((issues, missing))
}

/// Only what was asked for, each once: an issue under another id (`abc`, `0`, one never
/// requested) would be stored outside the range its batch covers and confuse the checkpoint;
/// an issue answered twice (`5`, `05`) is one issue (Jira's own bulk fetch answers each once).
fn asked_only(ids: &[u64], mut issues: Vec<Issue>) -> Result<Vec<Issue>, JiraError> {
    if let Some(stray) = issues
        .iter()
        .find(|i| !matches!(i.id.parse::<u64>(), Ok(id) if ids.contains(&id)))
    {
        return Err(JiraError::Protocol(format!(
            "Jira answered an issue that was not asked for (id {:?})",
            stray.id.chars().take(32).collect::<String>()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    issues.retain(|i| seen.insert(i.id.parse::<u64>().unwrap_or(u64::MAX)));
    Ok(issues)
}

/// The batch's issues with their comments: complete ones in their stored form, truncated ones
/// waiting for their changelog.
async fn with_comments(
    client: &JiraClient,
    issues: Vec<Issue>,
    excluded: &Excluded,
) -> Result<(Vec<StoredIssue>, Vec<Waiting>), JiraError> {
    let comments: Vec<Vec<Comment>> = if excluded.comments {
        vec![Vec::new(); issues.len()]
    } else {
        futures_util::future::try_join_all(issues.iter().map(|i| all_comments(client, i))).await?
    };
    let mut ready = Vec::with_capacity(issues.len());
    let mut truncated = Vec::new();
    for (mut issue, comments) in issues.into_iter().zip(comments) {
        if truncated_histories(&issue).is_some() {
            truncated.push(Waiting {
                id: issue.id.parse().unwrap_or(u64::MAX),
                issue,
                comments,
            });
        } else {
            let changelog = issue
                .changelog
                .take()
                .map(|c| c.histories)
                .unwrap_or_default();
            ready.push(finish(issue, changelog, comments, excluded));
        }
    }
    Ok((ready, truncated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::scripted_client;
    use jira_sim::scripted::{self, json_reply};

    /// Every issue of a batch, or the error that ended it.
    async fn drain(answer: scripted::Answer, ids: Vec<u64>) -> Result<Vec<String>, JiraError> {
        drain_all(answer, ids).await.map(|d| d.stored)
    }

    /// What a batch brought out of the pipeline.
    struct Drained {
        stored: Vec<String>,
        missing: Vec<u64>,
        checkpoint: u64,
    }

    async fn drain_all(answer: scripted::Answer, ids: Vec<u64>) -> Result<Drained, JiraError> {
        let client = scripted_client(answer).await;
        let mut pipeline = Pipeline::new(&client, vec!["status".into()], Excluded::default());
        let unit = pipeline.add_unit(0);
        let last = *ids.last().unwrap();
        pipeline.push(unit, ids, last);
        let mut drained = Drained {
            stored: Vec::new(),
            missing: Vec::new(),
            checkpoint: 0,
        };
        while let Some(outputs) = pipeline.next(true).await? {
            for out in outputs {
                drained.stored.extend(out.issues.into_iter().map(|i| i.id));
                drained.missing.extend(out.missing);
                drained.checkpoint = drained.checkpoint.max(out.checkpoint);
            }
        }
        drained.stored.sort();
        Ok(drained)
    }

    /// GIVEN a bulk fetch of 5, 6 and 7 that answers 6 in `issueErrors`, WHEN 6 is asked for
    /// again on its own, THEN what that answer brings is stored; and what it does not is missing,
    /// with the checkpoint held before it.
    #[tokio::test]
    async fn ids_a_bulk_fetch_leaves_out_are_asked_again_and_never_passed_over() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        const BULK: &str = r#"{"issues": [{"id": "5", "key": "P-5", "fields": {}}, {"id": "7", "key": "P-7", "fields": {}}],
            "issueErrors": [{"issueIdsOrKeys": ["6"], "errorMessages": ["Issue does not exist or you do not have permission to see it."]}]}"#;
        static GIVEN_LATER: AtomicUsize = AtomicUsize::new(0);
        fn given_later(_: &str, _: std::net::SocketAddr) -> String {
            match GIVEN_LATER.fetch_add(1, Ordering::SeqCst) {
                0 => json_reply("200 OK", BULK),
                _ => json_reply(
                    "200 OK",
                    r#"{"issues": [{"id": "6", "key": "P-6", "fields": {}}]}"#,
                ),
            }
        }
        static NEVER_GIVEN: AtomicUsize = AtomicUsize::new(0);
        fn never_given(_: &str, _: std::net::SocketAddr) -> String {
            match NEVER_GIVEN.fetch_add(1, Ordering::SeqCst) {
                0 => json_reply("200 OK", BULK),
                _ => json_reply("200 OK", r#"{"issues": [], "issueErrors": []}"#),
            }
        }
        let got = drain_all(given_later, vec![5, 6, 7]).await.unwrap();
        assert_eq!(got.stored, ["5", "6", "7"]);
        assert_eq!((got.missing.len(), got.checkpoint), (0, 7));
        assert_eq!(GIVEN_LATER.load(Ordering::SeqCst), 2, "6 asked again once");

        let got = drain_all(never_given, vec![5, 6, 7]).await.unwrap();
        assert_eq!(got.stored, ["5", "7"]);
        assert_eq!(got.missing, [6]);
        assert_eq!(
            got.checkpoint, 5,
            "the checkpoint stays before the missing id"
        );
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

    /// GIVEN a batch whose issue Jira truncated both ways (changelog and comments) and no more
    /// input, WHEN Jira answers the bulk fetch, THEN the issue's changelog is asked for beside its
    /// comment pages, not one round trip after them (which made every sync end with one more).
    #[tokio::test(flavor = "multi_thread", worker_threads = 3)]
    async fn a_truncated_changelog_is_asked_for_beside_the_comment_pages() {
        use std::sync::atomic::{AtomicBool, Ordering};
        static CHANGELOG_ASKED: AtomicBool = AtomicBool::new(false);
        static COMMENTS_SAW_IT: AtomicBool = AtomicBool::new(false);
        fn answer(head: &str, _: std::net::SocketAddr) -> String {
            if head.contains("/changelog/bulkfetch") {
                CHANGELOG_ASKED.store(true, Ordering::SeqCst);
                return json_reply("200 OK", r#"{"issueChangeLogs": []}"#);
            }
            if head.contains("/comment") {
                // Answers once the changelog is asked for, or after 3 s without it.
                let waited_from = std::time::Instant::now();
                while !CHANGELOG_ASKED.load(Ordering::SeqCst)
                    && waited_from.elapsed() < std::time::Duration::from_secs(3)
                {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                COMMENTS_SAW_IT.store(CHANGELOG_ASKED.load(Ordering::SeqCst), Ordering::SeqCst);
                let comments: Vec<_> = (0..30)
                    .map(|n| serde_json::json!({"id": n.to_string(), "body": null, "created": "", "updated": ""}))
                    .collect();
                return json_reply(
                    "200 OK",
                    &serde_json::json!({"startAt": 0, "maxResults": 100, "total": 30, "comments": comments}).to_string(),
                );
            }
            json_reply(
                "200 OK",
                r#"{"issues": [{"id": "5", "key": "P-5",
                    "fields": {"comment": {"total": 30, "comments": []}},
                    "changelog": {"startAt": 0, "maxResults": 0, "total": 50, "histories": []}}]}"#,
            )
        }
        assert_eq!(drain(answer, vec![5]).await.unwrap(), ["5"]);
        assert!(
            COMMENTS_SAW_IT.load(Ordering::SeqCst),
            "the changelog was asked for only after the comment pages came back"
        );
    }

    /// GIVEN a bulk answer that repeats an issue under another spelling of its id (`5`, `05`),
    /// its changelog truncated, WHEN the batch is drained, THEN one issue is stored, once.
    #[tokio::test]
    async fn an_issue_answered_twice_is_stored_once() {
        fn answer(head: &str, _: std::net::SocketAddr) -> String {
            if head.contains("/changelog/bulkfetch") {
                return json_reply(
                    "200 OK",
                    r#"{"issueChangeLogs": [{"issueId": "5", "changeHistories": []}]}"#,
                );
            }
            let truncated =
                r#""changelog": {"startAt": 0, "maxResults": 0, "total": 3, "histories": []}"#;
            json_reply(
                "200 OK",
                &format!(
                    r#"{{"issues": [{{"id": "5", "key": "P-5", "fields": {{}}, {truncated}}},
                                   {{"id": "05", "key": "P-5", "fields": {{}}, {truncated}}}]}}"#
                ),
            )
        }
        assert_eq!(drain(answer, vec![5]).await.unwrap(), ["5"]);
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
