//! Sync benchmark (not a test): a backfill of a large simulated site at a given latency, against
//! the request lower bound and against a sequential page-by-page export (the way common Jira
//! clients page). Prints figures; asserts nothing.
//!
//! `cargo bench -p sei-jira-cli --bench sync_bench`
//! (env: SYNC_BENCH_ISSUES, default 100000; SYNC_BENCH_LATENCY_MS, default 100; SYNC_BENCH_BASELINE=0 skips the baseline)
//!
//! The simulator runs in a child process (this binary re-executed with `--serve-sim`, allocating
//! through mimalloc: see `ALLOCATOR`), so the peak memory printed is the sync's alone.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sei_jira_core::jira::{
    Credentials, Deployment, JiraClient, PrivateNetworks, Secret, SiteConfig,
};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{
    Cursor, DailyCounts, IssueFlag, IssueIndexEntry, ProjectRecord, Record, RecordKind, RunRecord,
    StoreResult, StoredIssue,
};
use sei_jira_core::sync::{Scope, SyncOptions};
use sei_jira_lambda::process::SyncAllocator;
use serde_json::{Value, json};

/// Both processes allocate as the CLI does ([`SyncAllocator`]); the simulator's (this binary
/// re-executed), which stands in for Jira's servers and builds its answers as JSON trees, always
/// through mimalloc, whichever allocator `SEI_JIRA_ALLOCATOR` picks for the sync.
#[global_allocator]
static ALLOCATOR: SyncAllocator = SyncAllocator;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mib() -> f64 {
    sei_jira_lambda::process::peak_rss_bytes() as f64 / (1024.0 * 1024.0)
}

/// CPU seconds (user + system) a process has used so far, from `/proc/{pid}/stat` (clock ticks
/// of 1/100 s, as Linux reports them there).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) end with `)`.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are the 14th and 15th fields: 12th and 13th after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Child: serve the site until stdin closes; the startup line carries the lower-bound inputs.
async fn serve_sim(issues: usize, projects: usize, latency: u64) {
    let config = jira_sim::SimConfig {
        dataset: jira_sim::DatasetConfig {
            issues,
            projects,
            ..jira_sim::DatasetConfig::default()
        },
        settings: jira_sim::Settings {
            latency_ms: latency,
            ..jira_sim::Settings::default()
        },
        ..jira_sim::SimConfig::default()
    };
    let sim = jira_sim::start(config).await.expect("simulator starts");
    let info = jira_sim::describe(&sim);
    println!("{info}");
    let mut line = String::new();
    let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
}

fn client(base: &str, token: &str, in_flight: usize) -> JiraClient {
    let mut config = SiteConfig::new(
        base,
        Deployment::Cloud,
        Credentials::ApiToken {
            email: "alice@example.com".into(),
            token: Secret::new(token),
        },
    );
    config.max_in_flight = in_flight;
    config.private_networks = PrivateNetworks::local();
    config.requests_per_second = env("SYNC_BENCH_RPS", 100) as u32; // Jira Cloud's steady GET/POST burst rate per tenant
    JiraClient::new(&config).unwrap()
}

/// What common clients do: one search page of 100 after another, every field, changelog embedded,
/// then the truncated changelogs and comments issue by issue.
async fn sequential_export(c: &JiraClient) -> (u64, Duration) {
    let started = Instant::now();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({"jql": "created >= -1000d ORDER BY key ASC", "fields": ["*navigable", "comment"], "expand": "changelog", "maxResults": 100});
        if let Some(t) = &token {
            body["nextPageToken"] = json!(t);
        }
        let page: Value = c.post("/rest/api/3/search/jql", &[], &body).await.unwrap();
        for issue in page["issues"].as_array().unwrap() {
            let id = issue["id"].as_str().unwrap();
            let total = issue["changelog"]["total"].as_u64().unwrap_or(0);
            if total
                > issue["changelog"]["histories"]
                    .as_array()
                    .map_or(0, |h| h.len() as u64)
            {
                let mut at = 0;
                while at < total {
                    let _: Value = c
                        .get(
                            &format!("/rest/api/3/issue/{id}/changelog"),
                            &[("startAt", at.to_string()), ("maxResults", "100".into())],
                        )
                        .await
                        .unwrap();
                    at += 100;
                }
            }
            let comments = issue["fields"]["comment"]["total"].as_u64().unwrap_or(0);
            if comments > 20 {
                let mut at = 0;
                while at < comments {
                    let _: Value = c
                        .get(
                            &format!("/rest/api/3/issue/{id}/comment"),
                            &[("startAt", at.to_string()), ("maxResults", "100".into())],
                        )
                        .await
                        .unwrap();
                    at += 100;
                }
            }
        }
        match page["nextPageToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    (c.stats().requests(), started.elapsed())
}

fn main() {
    // The sync's own allocator settings and runtime, as the CLI sets them; the simulator standing
    // in for Jira keeps tokio's defaults.
    let runtime = if std::env::args().any(|a| a == "--serve-sim") {
        tokio::runtime::Runtime::new()
    } else {
        sei_jira_lambda::process::tune_allocator();
        sei_jira_lambda::process::runtime_for_sync()
    };
    runtime.unwrap().block_on(async_main());
}

async fn async_main() {
    let issues = env("SYNC_BENCH_ISSUES", 100_000) as usize;
    let latency = env("SYNC_BENCH_LATENCY_MS", 100);
    let projects = env("SYNC_BENCH_PROJECTS", 10) as usize;
    let in_flight = env("SYNC_BENCH_IN_FLIGHT", 10) as usize;
    if std::env::args().any(|a| a == "--serve-sim") {
        serve_sim(issues, projects, latency).await;
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .arg("--serve-sim")
        .env_remove("SEI_JIRA_ALLOCATOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let base = info["base_url"].as_str().unwrap();
    let token = jira_sim::user_token(&info, "alice@example.com").expect("a user of the simulator");
    let b = &info["request_bound"];
    let n = b["issues"].as_u64().unwrap();
    let lower_bound = b["lower_bound"].as_u64().unwrap();
    println!(
        "site: {n} issues in {projects} projects, {latency} ms per request; request lower bound {lower_bound}; at most {in_flight} requests in flight"
    );

    let dir = tempfile::tempdir().unwrap();
    let boxed: Box<dyn sei_jira_core::store::SyncStore> = if env("SYNC_BENCH_DISCARD", 0) == 1 {
        Box::new(Discard)
    } else {
        Box::new(EmbeddedStore::open(&dir.path().join("bench.redb")).unwrap())
    };
    let store = boxed.as_ref();
    let c = client(base, &token, in_flight);
    let (sync_cpu0, sim_cpu0) = (cpu_seconds(std::process::id()), cpu_seconds(child.id()));
    let started = Instant::now();
    let mut opts = SyncOptions::new("bench", Scope::AllAccessible);
    opts.parallel_batches = env("SYNC_BENCH_BATCHES", opts.parallel_batches as u64) as usize;
    let record = sei_jira_core::sync::run(&c, store, &opts, None)
        .await
        .unwrap();
    let wall = started.elapsed();
    let (sync_cpu, sim_cpu) = (
        cpu_seconds(std::process::id()) - sync_cpu0,
        cpu_seconds(child.id()) - sim_cpu0,
    );
    // Reference data read at its source (versions, sprints, users) is not in the lower bound,
    // which counts what the issues cost: it is shown on a line of its own.
    let reference = record.counts.reference_requests;
    let requests = record.counts.requests - reference;
    println!(
        "sei-jira backfill: {} issues, {} changelog entries, {} comments in {:.1} s; {requests} requests = {:.1} per 1,000 issues ({:.3} x the lower bound of {:.1}); peak RSS {:.0} MiB; outcome {:?}",
        record.counts.issues_new,
        record.counts.changelog_entries,
        record.counts.comments,
        wall.as_secs_f64(),
        requests as f64 * 1000.0 / n as f64,
        requests as f64 / lower_bound as f64,
        lower_bound as f64 * 1000.0 / n as f64,
        peak_rss_mib(),
        record.outcome,
    );
    println!(
        "reference data refreshed at its source (versions, sprints, users): {reference} requests"
    );
    // What the wall time cannot beat: the requests made, `in_flight` at a time, each taking the
    // latency; and the CPU both processes need, on this machine's cores.
    let requests = record.counts.requests;
    let bound = requests as f64 * latency as f64 / 1000.0 / in_flight as f64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    println!(
        "wall time {:.2} s = {:.2} x the bound of {requests} requests x {latency} ms / {in_flight} in flight ({bound:.2} s); CPU: sync {sync_cpu:.1} s, simulator {sim_cpu:.1} s, together at least {:.2} s on {cores} cores",
        wall.as_secs_f64(),
        wall.as_secs_f64() / bound,
        (sync_cpu + sim_cpu) / cores,
    );
    let size = |what: &str| {
        if let Ok(file) = std::fs::metadata(dir.path().join("bench.redb")) {
            println!(
                "embedded store {what}: {:.0} MiB, {:.0} bytes per issue",
                file.len() as f64 / (1024.0 * 1024.0),
                file.len() as f64 / n as f64
            );
        }
    };
    size("after the backfill");
    let again = Instant::now();
    let repeat = sei_jira_core::sync::run(
        &c,
        store,
        &SyncOptions::new("bench", Scope::AllAccessible),
        None,
    )
    .await
    .unwrap();
    println!(
        "repeat incremental run, no changes: {} requests for {projects} projects ({} of them reference data), {} issues written, {:.1} s",
        repeat.counts.requests,
        repeat.counts.reference_requests,
        repeat.counts.issues_new + repeat.counts.issues_updated,
        again.elapsed().as_secs_f64()
    );
    drop(boxed);
    if env("SYNC_BENCH_DISCARD", 0) == 0 {
        // What a laptop keeps: the file once its free pages are given back.
        let mut compacted = EmbeddedStore::open(&dir.path().join("bench.redb")).unwrap();
        compacted.compact().unwrap();
        drop(compacted);
        size("compacted");
    }

    if env("SYNC_BENCH_BASELINE", 1) == 1 {
        let (base_requests, base_wall) = sequential_export(&client(base, &token, 1)).await;
        println!(
            "sequential page-by-page export: {base_requests} requests in {:.1} s; sei-jira took {:.3} of that time",
            base_wall.as_secs_f64(),
            wall.as_secs_f64() / base_wall.as_secs_f64()
        );
    }
    drop(child.stdin.take());
    let _ = child.wait();
}

/// A store that keeps nothing: `SYNC_BENCH_DISCARD=1` separates the sync's own memory from the
/// embedded database's. Every write is dropped and every read answers nothing; the run's lease
/// is always granted.
struct Discard;

/// Implements a role for [`Discard`]: each method answers the empty value of its type.
macro_rules! keep_nothing {
    ($role:ident { $(fn $name:ident($($ty:ty),*) -> $ret:ty;)* }) => {
        #[async_trait::async_trait]
        impl sei_jira_core::store::$role for Discard {
            $(async fn $name(&self, $(_: $ty),*) -> StoreResult<$ret> {
                Ok(Default::default())
            })*
        }
    };
}

keep_nothing!(IssueStore {
    fn get_issue(&str, &str) -> Option<StoredIssue>;
    fn put_issues(&str, &[StoredIssue]) -> sei_jira_core::store::Superseded;
    fn index_page(&str, Option<&str>, usize) -> Vec<IssueIndexEntry>;
    fn index_entries(&str, &[String]) -> Vec<IssueIndexEntry>;
    fn list_issues(&str, Option<&str>, usize) -> Vec<StoredIssue>;
    fn flag_issue(&str, &str, IssueFlag) -> bool;
});

keep_nothing!(RecordStore {
    fn put_records(&str, RecordKind, &[Record]) -> ();
    fn list_records(&str, RecordKind) -> Vec<Record>;
});

keep_nothing!(ProjectStore {
    fn put_project(&str, &ProjectRecord) -> ();
    fn list_projects(&str) -> Vec<ProjectRecord>;
    fn remove_project(&str, &str) -> ();
});

keep_nothing!(DeletionFence {
    fn integration_deleted(&str) -> bool;
    fn sweep_deleted(&str) -> bool;
});

keep_nothing!(RunLog {
    fn put_run(&str, &RunRecord) -> ();
    fn list_runs(&str, i64) -> Vec<RunRecord>;
    fn add_daily(&str, chrono::NaiveDate, &DailyCounts) -> ();
    fn list_daily(&str, chrono::NaiveDate, chrono::NaiveDate) -> Vec<(chrono::NaiveDate, DailyCounts)>;
});

#[async_trait::async_trait]
impl sei_jira_core::store::SyncStateStore for Discard {
    async fn get_cursor(&self, _: &str, _: &str) -> StoreResult<Option<Cursor>> {
        Ok(None)
    }

    async fn put_cursor(&self, _: &str, _: &str, _: &Cursor) -> StoreResult<()> {
        Ok(())
    }

    async fn acquire_lease(&self, _: &str, _: &str, _: &str, _: i64, _: i64) -> StoreResult<bool> {
        Ok(true)
    }

    async fn release_lease(&self, _: &str, _: &str, _: &str) -> StoreResult<()> {
        Ok(())
    }
}
