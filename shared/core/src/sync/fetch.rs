//! What the sync asks Jira for an issue's data: issues in bulk (changelog embedded), the full
//! changelogs Jira truncated, and every comment; and the stored form they make together.

use std::collections::HashMap;

use serde::Deserialize;

use super::normalize::stored_issue;
use super::plan::Excluded;
use crate::jira::models::{Comment, History, Issue};
use crate::jira::{Deployment, JiraClient, JiraError, paging};
use crate::store::StoredIssue;

/// Histories per bulk changelog page (Jira's maximum `maxResults`).
pub(super) const CHANGELOG_PAGE: u64 = 10_000;
/// Issues per bulk changelog request (Jira's limit).
pub(super) const CHANGELOG_ISSUES: usize = 1000;

/// Every history of the given issues through the bulk changelog endpoint, following its pages.
pub async fn full_changelogs(
    client: &JiraClient,
    ids: &[String],
) -> Result<HashMap<String, Vec<History>>, JiraError> {
    let mut full: HashMap<String, Vec<History>> = HashMap::new();
    for chunk in ids.chunks(CHANGELOG_ISSUES) {
        let logs = paging::all(None, |token: Option<String>| async move {
            let page = client
                .changelog_bulk(chunk, token.as_deref(), CHANGELOG_PAGE as u32)
                .await?;
            Ok((page.issue_change_logs, page.next_page_token.map(Some)))
        })
        .await?;
        for log in logs {
            full.entry(log.issue_id)
                .or_default()
                .extend(log.change_histories);
        }
    }
    Ok(full)
}

/// The stored form: the changelog oldest first without duplicates, exclusions applied.
pub fn finish(
    issue: Issue,
    mut changelog: Vec<History>,
    comments: Vec<Comment>,
    excluded: &Excluded,
) -> StoredIssue {
    changelog.sort_by_key(|h| {
        (
            crate::jira::time::parse(&h.created)
                .map(|t| t.timestamp_millis())
                .unwrap_or(0),
            h.id.parse::<u64>().unwrap_or(0),
        )
    });
    changelog.dedup_by(|a, b| a.id == b.id);
    stored_issue(issue, changelog, comments, excluded)
}

/// One bulk request's worth of issues, changelog embedded.
pub async fn fetch_issues(
    client: &JiraClient,
    batch: &[u64],
    fields: &[&str],
) -> Result<Vec<Issue>, JiraError> {
    match client.deployment() {
        Deployment::Cloud => Ok(client
            .bulk_fetch(
                &batch.iter().map(u64::to_string).collect::<Vec<_>>(),
                fields,
                true,
            )
            .await?
            .issues),
        Deployment::DataCenter => {
            let list = batch
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            Ok(client
                .legacy_search_page(
                    &format!("id in ({list}) ORDER BY id ASC"),
                    fields,
                    true,
                    0,
                    batch.len() as u32,
                )
                .await?
                .issues)
        }
    }
}

/// Comments asked for per page when Jira truncated an issue's list.
const COMMENT_PAGE: u64 = 100;
/// Pages of one issue's comments asked for side by side: the pages its total calls for, up to
/// this many (a total past it, true or not, is read on a page at a time).
const COMMENT_PAGES_AT_ONCE: u64 = 10;

/// The issue's comments: the embedded ones, or every page when Jira truncated them. The
/// embedded total says how many pages there are, so they are asked for side by side rather
/// than a round trip each; a list that grew meanwhile is read on from where they end.
pub async fn all_comments(client: &JiraClient, issue: &Issue) -> Result<Vec<Comment>, JiraError> {
    let field = issue.fields.get("comment");
    let embedded: Vec<Comment> = field
        .and_then(|c| Vec::<Comment>::deserialize(&c["comments"]).ok())
        .unwrap_or_default();
    let total = field
        .and_then(|c| c["total"].as_u64())
        .unwrap_or(embedded.len() as u64);
    if embedded.len() as u64 >= total {
        return Ok(embedded);
    }
    let page = |start: u64| async move {
        let page = client
            .comments_page(&issue.id, start, COMMENT_PAGE as u32)
            .await?;
        let n = page.comments.len();
        let last = start + n as u64 >= page.total;
        Ok::<_, JiraError>((page.comments, paging::next_offset(start, n, last)))
    };
    let pages = total.div_ceil(COMMENT_PAGE).min(COMMENT_PAGES_AT_ONCE);
    let side_by_side =
        futures_util::future::try_join_all((0..pages).map(|p| page(p * COMMENT_PAGE))).await?;
    // Each page counts only where the one before it ended: a server that pages smaller than
    // asked, or a last page sooner than the total said, is read on a page at a time from there.
    let mut comments = Vec::new();
    let mut next = Some(0);
    for (p, (items, after)) in (0..).zip(side_by_side) {
        if next != Some(p * COMMENT_PAGE) {
            break;
        }
        comments.extend(items);
        next = after;
    }
    if let Some(start) = next {
        comments.extend(paging::all(start, page).await?);
    }
    Ok(comments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_support::scripted_client;
    use jira_sim::scripted::{self, json_reply};

    /// A comment endpoint holding 250 comments that pages at most `cap` at a time.
    fn comments_answer(head: &str, cap: u64) -> String {
        let param = |name: &str| -> u64 {
            head.split(['?', '&', ' '])
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        let (start, max) = (param("startAt"), param("maxResults").min(cap));
        let comments: Vec<_> = (start..(start + max).min(250))
            .map(|n| serde_json::json!({"id": n.to_string(), "body": null, "created": "", "updated": ""}))
            .collect();
        json_reply(
            "200 OK",
            &serde_json::json!({"startAt": start, "maxResults": max, "total": 250, "comments": comments})
                .to_string(),
        )
    }

    #[tokio::test]
    async fn truncated_comments_are_read_whole_whatever_page_size_the_server_keeps_to() {
        fn pages_as_asked(head: &str, _: std::net::SocketAddr) -> String {
            comments_answer(head, 100)
        }
        fn pages_of_40(head: &str, _: std::net::SocketAddr) -> String {
            comments_answer(head, 40)
        }
        let issue: Issue = serde_json::from_value(serde_json::json!({
            "id": "7", "key": "P-7",
            "fields": {"comment": {"total": 250, "comments": [{"id": "0", "body": null, "created": "", "updated": ""}]}}
        }))
        .unwrap();
        for answer in [pages_as_asked as scripted::Answer, pages_of_40] {
            let client = scripted_client(answer).await;
            let ids: Vec<String> = all_comments(&client, &issue)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect();
            let expected: Vec<String> = (0..250).map(|n: u32| n.to_string()).collect();
            assert_eq!(ids, expected);
        }
    }
}
