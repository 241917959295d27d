//! The tickets that miss a category, a page at a time, each page reading a bounded number of
//! stored issues: a category few tickets miss is answered in short pages, never by reading every
//! issue in one request.

#[path = "support/sample_issues.rs"]
#[allow(dead_code)]
mod sample_issues;

use sample_issues::sample_site;
use sei_jira_core::hygiene::{Category, Filter, MissPage, Request, Which, misses_from_store};

const ID: &str = "a0000000-0000-4000-8000-000000000002";

/// Every page from the first, with `limit` and `budget`: the pages and their tickets' ids.
async fn pages(
    site: &sample_issues::SampleSite,
    request: &Request<'_>,
    which: &Which,
    limit: usize,
    budget: usize,
) -> (usize, Vec<String>) {
    let (mut after, mut count, mut ids) = (None::<String>, 0, Vec::new());
    loop {
        let MissPage { tickets, next } = misses_from_store(
            &site.store,
            ID,
            request,
            which,
            after.as_deref(),
            limit,
            budget,
        )
        .await
        .unwrap();
        count += 1;
        assert!(tickets.len() <= limit);
        ids.extend(tickets.into_iter().map(|t| t.id));
        match next {
            Some(next) => after = Some(next),
            None => return (count, ids),
        }
        assert!(count <= 1_000, "no end in sight");
    }
}

/// GIVEN 300 stored issues, WHEN the tickets missing each category are paged with a budget of 40
/// issues a page, THEN the pages hold exactly the tickets one unbounded page holds, in order;
/// and for a filter that selects no ticket, the answer comes in pages of at most 40 issues read,
/// each with nothing in it, where one request used to read all 300.
#[tokio::test]
async fn pages_read_a_bounded_number_of_issues_and_lose_no_ticket() {
    let site = sample_site(ID, 300, 11).await;
    let everything = Request::default();
    let mut found = 0;
    for category in [Category::NoAssignee, Category::NoDueDate, Category::Idle] {
        let which = Which::Builtin(category);
        let (_, all) = pages(&site, &everything, &which, 10_000, 10_000).await;
        let (_, paged) = pages(&site, &everything, &which, 7, 40).await;
        assert_eq!(paged, all, "{category:?}");
        found += all.len();
    }
    assert!(found > 0, "the sample misses nothing");

    let nothing = Request {
        filter: Filter {
            projects: vec!["NO-SUCH-PROJECT".into()],
            ..Filter::default()
        },
        ..Request::default()
    };
    let which = Which::Builtin(Category::NoAssignee);
    let (count, paged) = pages(&site, &nothing, &which, 7, 40).await;
    assert!(paged.is_empty());
    assert_eq!(
        count,
        300_usize.div_ceil(40),
        "pages of at most 40 issues read"
    );
}
