//! A scrub of newly excluded text over more stored issues than one run gets through: each run
//! goes on where the last one stopped, and monitoring shows how far it has got.

use std::time::Instant;

use jira_sim::{Mode, Settings};
use sei_jira_core::sync::{Excluded, Scope, Scrubbing, exclusion_progress, run};

#[path = "support/site.rs"]
mod site;

use site::*;

/// GIVEN 1,300 stored issues with their comments, WHEN comments are excluded and every run has
/// no time left (a run then scrubs one page of 500 issues), THEN each run goes on from where the
/// last one stopped, the progress grows by a page a run, and the third run leaves no comment
/// stored. (A scrub stopped at its deadline used to start over in the next run, so a store
/// larger than one run's worth was never scrubbed past its first pages.)
#[tokio::test]
async fn a_scrub_stopped_at_its_deadline_goes_on_where_it_stopped() {
    let e = env(1_300, Mode::Cloud, Settings::default(), 34).await;
    let client = e.client(ALICE);
    let mut opts = options("acme", Scope::AllAccessible);
    run(&client, &e.store, &opts, None).await.unwrap();
    let with_comments = e
        .stored("acme")
        .await
        .iter()
        .filter(|i| !i.comments.is_empty())
        .count();
    assert!(with_comments > 600, "{with_comments}");

    opts.excluded = Excluded::parse("comments").unwrap();
    let mut checked = Vec::new();
    for n in 1..=3 {
        opts.deadline = Some(Instant::now());
        opts.run_id = format!("run-scrub-{n}");
        run(&client, &e.store, &opts, None).await.unwrap();
        let progress = exclusion_progress(&e.store, "acme").await.unwrap();
        checked.push(
            progress
                .scrubbing
                .map(|Scrubbing { issues_checked }| issues_checked),
        );
        if n == 3 {
            assert_eq!(progress.applied, ["comments"]);
        }
    }
    assert_eq!(checked, [Some(500), Some(1_000), None]);
    let left = e
        .stored("acme")
        .await
        .iter()
        .filter(|i| !i.comments.is_empty())
        .count();
    assert_eq!(left, 0, "comments left after the scrub");
}
