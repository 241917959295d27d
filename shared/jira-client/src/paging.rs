//! One paging mechanism for every listing Jira splits into pages: a stream of pages driven by a
//! cursor, whose style each endpoint plugs in — an offset (`startAt`, ending on `isLast` or
//! `total`), a `nextPageToken`, or an id scan restarted after the highest id seen. (The sync's
//! unit scan reads the id pages one ahead of its fetches: it starts each page itself, with the
//! cursor the previous page returned.)

use std::collections::HashSet;
use std::future::Future;
use std::hash::Hash;

use futures_util::{Stream, TryStreamExt, stream};

use super::error::JiraError;

/// The most pages one listing reads (a million issues are 10,000 pages of 100).
pub const MAX_PAGES: usize = 100_000;

/// The pages from `first` on. `fetch` answers one page and where the next one starts; None
/// ends the stream after that page. A cursor that comes back a second time (a broken or hostile
/// site would page forever) or a listing past [`MAX_PAGES`] ends the stream with
/// [`JiraError::PagingStalled`], never with a silent end.
pub fn pages<C, P, F, Fut>(first: C, fetch: F) -> impl Stream<Item = Result<P, JiraError>>
where
    C: Clone + Eq + Hash,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<(P, Option<C>), JiraError>>,
{
    let seen: HashSet<C> = HashSet::new();
    stream::try_unfold(
        (Some(first), fetch, seen),
        |(cursor, mut fetch, mut seen)| async move {
            let Some(cursor) = cursor else {
                return Ok(None);
            };
            if seen.len() >= MAX_PAGES || !seen.insert(cursor.clone()) {
                return Err(JiraError::PagingStalled { pages: seen.len() });
            }
            let (page, next) = fetch(cursor).await?;
            Ok(Some((page, (next, fetch, seen))))
        },
    )
}

/// Every item of every page, in order.
pub async fn all<C, T, F, Fut>(first: C, fetch: F) -> Result<Vec<T>, JiraError>
where
    C: Clone + Eq + Hash,
    F: FnMut(C) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<C>), JiraError>>,
{
    pages(first, fetch)
        .try_fold(Vec::new(), |mut all, page| async move {
            all.extend(page);
            Ok(all)
        })
        .await
}

/// The offset after a page of `n` items that started at `start`, unless it was the last: Jira
/// said so, or the page came back empty.
pub fn next_offset(start: u64, n: usize, last: bool) -> Option<u64> {
    (!last && n > 0).then_some(start + n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn offsets_follow_until_the_last_page() {
        let items: Vec<u64> = (0..250).collect();
        let got = all(0u64, |start| {
            let page: Vec<u64> = items
                .iter()
                .copied()
                .skip(start as usize)
                .take(100)
                .collect();
            let last = start as usize + page.len() >= items.len();
            let next = next_offset(start, page.len(), last);
            async move { Ok((page, next)) }
        })
        .await
        .unwrap();
        assert_eq!(got, items);
    }

    #[tokio::test]
    async fn a_cursor_that_comes_back_ends_the_listing_with_an_error() {
        // A token that cycles A, B, A, …: never a silent end.
        let got = all("A".to_string(), |token| async move {
            let next = if token == "A" { "B" } else { "A" };
            Ok((vec![token.clone()], Some(next.to_string())))
        })
        .await;
        assert!(
            matches!(got, Err(JiraError::PagingStalled { pages: 2 })),
            "{got:?}"
        );
        // An offset that does not advance (an empty page Jira calls not last).
        let got = all(
            0u64,
            |start| async move { Ok((Vec::<u64>::new(), Some(start))) },
        )
        .await;
        assert!(
            matches!(got, Err(JiraError::PagingStalled { pages: 1 })),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_with_it() {
        let got = all(0u64, |start| async move {
            if start == 0 {
                Ok((vec![1], Some(1)))
            } else {
                Err(JiraError::Protocol("broken page".into()))
            }
        })
        .await;
        assert!(matches!(got, Err(JiraError::Protocol(_))));
    }
}
