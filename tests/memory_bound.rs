//! A sync and its hygiene index refresh hold no structure the size of the integration: the CLI
//! runs under a fixed limit on its data segment (`RLIMIT_DATA`: the heap and every private
//! writable mapping) over a store that already holds many issues.

use std::os::unix::process::CommandExt;
use std::process::Command;

use e2e::{binary, ok_json, start_sim};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{IssueStore, StoredIssue};

/// Issues the store holds before the sync: enough that reading the whole issue index into
/// memory (as the sync once did, at every run) needs more than [`LIMIT_MIB`].
const HELD: u64 = 300_000;
/// The limit the run must finish within, whatever `HELD` is.
const LIMIT_MIB: u64 = 96;

/// An issue of a project the scope left: kept, flagged out of scope, counted by nothing.
fn held_issue(n: u64) -> StoredIssue {
    StoredIssue {
        id: (1_000_000 + n).to_string(),
        key: format!("GONE-{n}"),
        project_key: "GONE".into(),
        updated_ms: 1_700_000_000_000 + n as i64,
        out_of_scope: true,
        ..StoredIssue::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_and_its_index_refresh_over_a_large_store_stay_within_a_fixed_memory_limit() {
    // GIVEN a store holding many issues of a project the scope no longer takes in
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let store = EmbeddedStore::open(&path).unwrap();
        let ids: Vec<u64> = (1..=HELD).collect();
        for chunk in ids.chunks(10_000) {
            let issues: Vec<StoredIssue> = chunk.iter().copied().map(held_issue).collect();
            store
                .put_issues("local", &issues)
                .await
                .unwrap()
                .expect_none()
                .unwrap();
        }
    }
    // AND a small site to sync
    let sim = start_sim(&["--issues", "300", "--projects", "2"]);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let project = sim.startup["projects"][0].as_str().unwrap().to_string();
    let token = jira_sim::user_token(&sim.startup, "alice@example.com").unwrap();

    // WHEN `sei-jira sync` runs (the sync, the index refresh over every stored issue, the day's
    // snapshot) with its data segment limited
    let mut command = Command::new(binary("sei-jira"));
    command
        .args([
            "sync",
            "--projects",
            &project,
            "--json",
            "--allow-private-network",
        ])
        .args([
            "--url",
            &base,
            "--email",
            "alice@example.com",
            "--token",
            &token,
        ])
        .arg("--store")
        .arg(&path)
        // glibc's allocator grows its data segment as it is used; mimalloc (the default)
        // reserves address space ahead in large arenas, which the limit would count.
        .env("SEI_JIRA_ALLOCATOR", "glibc")
        .env_remove("JIRA_URL")
        .env_remove("JIRA_EMAIL")
        .env_remove("JIRA_API_TOKEN");
    let limit = LIMIT_MIB * 1024 * 1024;
    // SAFETY: between fork and exec the closure only calls setrlimit, which is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let bound = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            match libc::setrlimit(libc::RLIMIT_DATA, &bound) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        });
    }
    let out = command.output().expect("sei-jira runs");

    // THEN it completes within the limit, having synced the site's project
    let run = ok_json(out);
    assert_eq!(run["run"]["outcome"], "succeeded", "{run}");
    assert!(run["run"]["counts"]["issues_new"].as_u64().unwrap() > 0);
    // AND the refresh went over every stored issue: none is left marked as changed
    let store = EmbeddedStore::open(&path).unwrap();
    let marks = sei_jira_core::store::HygieneIndexStore::changed_issues(&store, "local", 10)
        .await
        .unwrap();
    assert!(marks.is_empty(), "marks left: {marks:?}");
}
