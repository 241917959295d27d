//! A unit's parts of the sync: the id scan in ascending order (restarted after the last id), the
//! census's group fetches, and each fetched batch stored.

use futures_util::StreamExt;

use super::reference::reference_data;
use super::{Ctx, Event, ID_PAGE, SyncError, notify, scope};
use crate::jira::models::{Comment, Issue};
use crate::jira::{Deployment, Inconsistency, JiraClient, JiraError};
use crate::store::records::StoredIssue;
use crate::store::{ISSUE_WRITE_ATTEMPTS, StoreError};
use crate::sync::fetch::{all_comments, fetch_issues, finish, full_changelogs};
use crate::sync::index::{IssueIndex, Known};
use crate::sync::pipeline::DETAIL_BATCH;
use crate::sync::plan::{Excluded, Unit};

/// One page of ids after `after_id`, ascending, with `updated` when `with_updated`, and whether
/// Jira has more. The end is what Jira says (`isLast`, or the total), never inferred from the page
/// size: Jira may return fewer issues than asked for.
pub(super) async fn scan_ids(
    client: &JiraClient,
    unit: &Unit,
    since_ms: Option<i64>,
    after_id: u64,
    with_updated: bool,
) -> Result<(Vec<(u64, Option<i64>)>, Option<u64>), JiraError> {
    let jql = unit.scan_jql(since_ms, after_id);
    let fields: &[&str] = if with_updated {
        &["id", "updated"]
    } else {
        &["id"]
    };
    let (issues, more) = match client.deployment() {
        Deployment::Cloud => {
            let page = client
                .search_page(&jql, fields, false, ID_PAGE, None)
                .await?;
            let more = !page.is_last.unwrap_or(page.next_page_token.is_none());
            (page.issues, more)
        }
        Deployment::DataCenter => {
            let page = client
                .legacy_search_page(&jql, fields, false, 0, 1000)
                .await?;
            let more = page.total as usize > page.issues.len();
            (page.issues, more)
        }
    };
    // Jira's issue ids are positive integers; one that is not would be skipped, and the run
    // end "complete" without that issue.
    let mut ids = Vec::with_capacity(issues.len());
    for i in &issues {
        let Some(id) = i.id.parse::<u64>().ok().filter(|id| *id > 0) else {
            return Err(JiraError::Protocol(format!(
                "Jira answered an issue id that is not a positive integer: {:?}",
                i.id.chars().take(32).collect::<String>()
            )));
        };
        let updated = i
            .fields
            .get("updated")
            .and_then(|u| u.as_str())
            .and_then(crate::jira::time::parse)
            .map(|t| t.timestamp_millis());
        check_project(unit, i)?;
        ids.push((id, updated));
    }
    ids.sort_unstable();
    // The id-restart cursor: the next page is the query again, after the highest id seen. A
    // page that cannot move it (none returned while Jira says more follow, or ids at or below
    // the restart id: the page repeated, or the restart ignored) would end the scan early, with
    // issues missing, or never end it.
    if let Some(&(id, _)) = ids.first().filter(|&&(id, _)| id <= after_id) {
        return Err(JiraError::Inconsistent(Inconsistency::NotAfterRestart {
            after: after_id,
            id,
        }));
    }
    if more && ids.is_empty() {
        return Err(JiraError::Inconsistent(Inconsistency::Stalled {
            after: after_id,
        }));
    }
    let next = ids.last().map(|&(id, _)| id).filter(|_| more);
    Ok((ids, next))
}

/// An issue a project's scan answered must be of that project, where its fields say which (the
/// scan asks for none, but a site may send them).
fn check_project(unit: &Unit, issue: &Issue) -> Result<(), JiraError> {
    let (Some(asked), Some(project)) = (
        unit.project.as_deref(),
        issue.fields.get("project").and_then(|p| p["key"].as_str()),
    ) else {
        return Ok(());
    };
    if project.eq_ignore_ascii_case(asked) {
        return Ok(());
    }
    let cut = |s: &str| s.chars().take(64).collect::<String>();
    Err(JiraError::Inconsistent(Inconsistency::OtherProject {
        asked: asked.to_string(),
        key: cut(&issue.key),
        project: cut(project),
    }))
}

/// Full details of a group of issues (missing ones are simply absent): bulk fetches of 100 with
/// the changelog embedded, then only what Jira truncated (the census's occasional re-fetches).
pub(super) async fn fetch_group(
    client: &JiraClient,
    ids: &[u64],
    fields: &[String],
    excluded: &Excluded,
    parallel: usize,
) -> Result<Vec<StoredIssue>, JiraError> {
    let field_refs: Vec<&str> = fields.iter().map(String::as_str).collect();
    let requests: Vec<_> = ids
        .chunks(DETAIL_BATCH)
        .map(|batch| fetch_issues(client, batch, &field_refs))
        .collect();
    let issues: Vec<Issue> = futures_util::stream::iter(requests)
        .buffered(parallel)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let truncated: Vec<String> = issues
        .iter()
        .filter(|i| {
            i.changelog
                .as_ref()
                .is_some_and(|c| c.total as usize > c.histories.len())
        })
        .map(|i| i.id.clone())
        .collect();
    let mut full = full_changelogs(client, &truncated).await?;
    let comments: Vec<Vec<Comment>> = if excluded.comments {
        vec![Vec::new(); issues.len()]
    } else {
        let requests: Vec<_> = issues.iter().map(|i| all_comments(client, i)).collect();
        futures_util::stream::iter(requests)
            .buffered(parallel)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?
    };
    Ok(issues
        .into_iter()
        .zip(comments)
        .map(|(mut issue, comments)| {
            let embedded = issue
                .changelog
                .take()
                .map(|c| c.histories)
                .unwrap_or_default();
            let changelog = full.remove(&issue.id).unwrap_or(embedded);
            finish(issue, changelog, comments, excluded)
        })
        .collect())
}

/// Upserts a batch; returns whether anything was written. Issues whose `updated` is what we
/// already hold are skipped (the overlap re-reads them); hand-made flags survive re-syncs.
///
/// Each write names the revision the run knows of its issue. A hide, removal or other write
/// that landed since (at any moment of a long run, up to the write itself) makes the store
/// refuse it; those issues are read again and decided anew, so the flags set meanwhile stand.
pub(super) async fn store_batch(
    ctx: &mut Ctx<'_>,
    unit: &Unit,
    issues: Vec<StoredIssue>,
) -> Result<bool, SyncError> {
    let mut known = IssueIndex::read(
        ctx.store,
        &ctx.opts.integration,
        issues.iter().filter_map(|i| i.id.parse().ok()),
    )
    .await?;
    let mut pending = issues;
    let mut written = 0;
    for _ in 0..ISSUE_WRITE_ATTEMPTS {
        let changed = to_write(ctx, &known, std::mem::take(&mut pending));
        if changed.is_empty() {
            break;
        }
        let superseded = ctx
            .store
            .put_issues(&ctx.opts.integration, &changed)
            .await?;
        let (landed, again): (Vec<_>, Vec<_>) = changed
            .into_iter()
            .partition(|i| !superseded.0.contains(&i.id));
        count_written(ctx, &mut known, &landed);
        reference_data(ctx, &landed).await?;
        written += landed.len();
        pending = again;
        if pending.is_empty() {
            break;
        }
        for entry in ctx
            .store
            .index_entries(&ctx.opts.integration, &superseded.0)
            .await?
        {
            known.stored(&entry);
        }
    }
    if let Some(issue) = pending.first() {
        return Err(StoreError::Superseded(issue.id.clone()).into());
    }
    if written == 0 {
        return Ok(false);
    }
    notify(
        ctx,
        Event::Stored {
            unit: unit.name.clone(),
            issues: written as u64,
        },
    );
    // A run whose integration is being deleted stops at its next batch rather than write on
    // for the rest of its time; `run` sweeps what it wrote.
    if ctx.store.integration_deleted(&ctx.opts.integration).await? {
        return Err(SyncError::IntegrationDeleted);
    }
    Ok(true)
}

/// Of the fetched issues, those to write over what is `known` to be stored, each carrying the
/// stored flags and revision.
fn to_write(ctx: &Ctx<'_>, known: &IssueIndex, fetched: Vec<StoredIssue>) -> Vec<StoredIssue> {
    let mut changed = Vec::new();
    for mut issue in fetched {
        match known.get(issue.id.parse().unwrap_or(0)) {
            // A tombstone stays; so does a version the store holds, unless every issue read is
            // to be written again (a field no longer excluded is being fetched again).
            Some(p) if p.removed || (!replaces(p, &issue) && !ctx.rewrite_all) => continue,
            Some(p) => {
                issue.hidden = p.hidden;
                issue.rev = p.rev;
            }
            None => issue.rev = 0,
        }
        changed.push(issue);
    }
    changed
}

/// Counts what landed and records it in what is `known` of the store.
fn count_written(ctx: &mut Ctx<'_>, known: &mut IssueIndex, landed: &[StoredIssue]) {
    for i in landed {
        let counted_before = known.get(i.id.parse().unwrap_or(0)).map(Known::in_listing);
        let counted_now = !i.out_of_scope;
        match counted_before {
            None if counted_now => ctx.counts.issues_new += 1,
            // Never stored, and not in the scope (not a case the census makes): not counted.
            None => {}
            Some(before) if before == counted_now => ctx.counts.issues_updated += 1,
            Some(before) => scope::count_change(&mut ctx.counts, before, counted_now),
        }
        ctx.counts.changelog_entries += i.changelog.len() as u64;
        ctx.counts.comments += i.comments.len() as u64;
        let mut now_stored = i.index_entry();
        now_stored.rev = i.rev + 1;
        known.stored(&now_stored);
    }
}

/// Whether `fetched` is written over the stored issue `previous`: not when it was removed by
/// hand (a tombstone stays), nor when the store already holds this version of it in the scope.
fn replaces(previous: &Known, fetched: &StoredIssue) -> bool {
    !previous.removed && !previous.holds(fetched.updated_ms, fetched.out_of_scope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::scripted_client;
    use jira_sim::scripted::{self, json_reply};

    async fn scan(answer: scripted::Answer, after_id: u64) -> Result<Option<u64>, JiraError> {
        let client = scripted_client(answer).await;
        scan_ids(&client, &Unit::project("P"), None, after_id, false)
            .await
            .map(|(_, next)| next)
    }

    #[tokio::test]
    async fn a_page_that_cannot_move_the_restart_id_is_an_error_never_an_end() {
        fn empty_but_more(_: &str, _: std::net::SocketAddr) -> String {
            json_reply("200 OK", r#"{"issues": [], "isLast": false}"#)
        }
        fn behind(_: &str, _: std::net::SocketAddr) -> String {
            json_reply(
                "200 OK",
                r#"{"issues": [{"id": "7", "key": "P-7", "fields": {}}], "isLast": false}"#,
            )
        }
        fn ahead(_: &str, _: std::net::SocketAddr) -> String {
            json_reply(
                "200 OK",
                r#"{"issues": [{"id": "12", "key": "P-12", "fields": {}}, {"id": "11", "key": "P-11", "fields": {}}], "isLast": false}"#,
            )
        }
        let inconsistency = |answer| async move {
            match scan(answer, 10).await {
                Err(JiraError::Inconsistent(i)) => i,
                other => panic!("not a named inconsistency: {other:?}"),
            }
        };
        assert_eq!(
            inconsistency(empty_but_more).await,
            Inconsistency::Stalled { after: 10 }
        );
        assert_eq!(
            inconsistency(behind).await,
            Inconsistency::NotAfterRestart { after: 10, id: 7 }
        );
        assert_eq!(scan(ahead, 10).await.unwrap(), Some(12));
    }

    #[tokio::test]
    async fn an_issue_of_another_project_in_a_project_scan_is_an_error() {
        fn other(_: &str, _: std::net::SocketAddr) -> String {
            json_reply(
                "200 OK",
                r#"{"issues": [{"id": "12", "key": "Q-12", "fields": {"project": {"key": "Q"}}}], "isLast": true}"#,
            )
        }
        fn own(_: &str, _: std::net::SocketAddr) -> String {
            json_reply(
                "200 OK",
                r#"{"issues": [{"id": "12", "key": "P-12", "fields": {"project": {"key": "P"}}}], "isLast": true}"#,
            )
        }
        match scan(other, 10).await {
            Err(JiraError::Inconsistent(Inconsistency::OtherProject {
                asked, project, ..
            })) => {
                assert_eq!((asked.as_str(), project.as_str()), ("P", "Q"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(scan(own, 10).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_id_that_is_not_a_positive_integer_is_an_error_never_skipped() {
        fn word(_: &str, _: std::net::SocketAddr) -> String {
            json_reply(
                "200 OK",
                r#"{"issues": [{"id": "12", "key": "P-12", "fields": {}}, {"id": "abc", "key": "P-13", "fields": {}}], "isLast": true}"#,
            )
        }
        fn negative(_: &str, _: std::net::SocketAddr) -> String {
            json_reply(
                "200 OK",
                r#"{"issues": [{"id": "-1", "key": "P-1", "fields": {}}], "isLast": true}"#,
            )
        }
        fn too_large(_: &str, _: std::net::SocketAddr) -> String {
            json_reply(
                "200 OK",
                r#"{"issues": [{"id": "18446744073709551616", "key": "P-1", "fields": {}}], "isLast": true}"#,
            )
        }
        for answer in [word as scripted::Answer, negative, too_large] {
            let err = scan(answer, 10).await.unwrap_err();
            assert!(err.to_string().contains("not a positive integer"), "{err}");
        }
    }
}
