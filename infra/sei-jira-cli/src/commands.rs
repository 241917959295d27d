//! The subcommands: each a few lines over `sei-jira-core`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use sei_jira_core::dora::{Document, ReportDays, change_profiles, report_of_kept};
use sei_jira_core::hygiene::{self, Request, history_build};
use sei_jira_core::integrations::HandFlag;
use sei_jira_core::jira::{
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_REQUESTS_PER_SECOND, JiraClient, PrivateNetworks, SiteConfig,
};
use sei_jira_core::monitoring::Range;
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{
    IntegrationRecord, IntegrationStore, IssueStore, ProjectStore, ReadLimit, RunOutcome,
    RunRecord, ScopeConfig, SyncStore,
};
use sei_jira_core::sync::{Excluded, Scope, SyncOptions};
use sei_jira_core::validation::{
    CheckId, Outcome, Report, ValidationSettings, validate as run_checks,
};
use serde_json::json;

use crate::alongside::IndexAlongside;
use crate::connection::ConnectionArgs;
use crate::hygiene::LOCAL_ACCOUNT;
use crate::interrupt;
use crate::{ScopeArgs, StoreArgs};
use sei_jira_core::integrations::{ApiError, ScopeInput};
use sei_jira_lambda::process;

fn print_report(report: &Report, args: &ConnectionArgs) {
    for c in &report.checks {
        let mark = match c.outcome {
            Outcome::Passed => "ok  ",
            Outcome::Failed => "FAIL",
            Outcome::Skipped => "skip",
        };
        println!("  [{mark}] {}: {}", c.title, c.message);
        if c.outcome == Outcome::Failed {
            println!("         what to do: {}", c.id.remedy());
            if c.id == CheckId::Deployment {
                println!(
                    "         with this CLI: {}",
                    if args.pat {
                        "drop --pat and pass --email with a classic API token"
                    } else {
                        "pass --pat with a personal access token (and no --email)"
                    }
                );
            }
        }
    }
}

/// An error naming every failed check, if any failed.
fn require_passed(report: &Report, what: &str) -> anyhow::Result<()> {
    if report.passed() {
        return Ok(());
    }
    let failed: Vec<&str> = report.failed().iter().map(|c| c.title()).collect();
    bail!("{what}: {}", failed.join(", "))
}

fn settings(args: &ConnectionArgs) -> ValidationSettings {
    ValidationSettings {
        private_networks: args.private_networks(),
        ..ValidationSettings::default()
    }
}

pub async fn validate(
    args: &ConnectionArgs,
    jql: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    if jql.is_some() {
        checked_scope(ScopeInput {
            kind: "jql".into(),
            keys: None,
            jql: jql.clone(),
        })?;
    }
    let report = run_checks(&args.request(jql)?, &settings(args)).await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "Credential checks for {}:",
            args.url.as_deref().unwrap_or("")
        );
        print_report(&report, args);
    }
    require_passed(&report, "validation failed")
}

/// The scope the flags name.
fn scope(args: &ScopeArgs) -> anyhow::Result<ScopeConfig> {
    let (kind, keys) = match (&args.jql, args.projects.is_empty()) {
        (Some(_), _) => ("jql", None),
        (None, false) => (
            "projects",
            Some(
                args.projects
                    .iter()
                    .map(|p| p.trim().to_uppercase())
                    .collect(),
            ),
        ),
        (None, true) => ("all_accessible", None),
    };
    checked_scope(ScopeInput {
        kind: kind.into(),
        keys,
        jql: args.jql.clone(),
    })
}

/// A scope through the API's checks (an ORDER BY alone, a key that is no project key): a
/// refusal names the flag.
fn checked_scope(input: ScopeInput) -> anyhow::Result<ScopeConfig> {
    input.config().map_err(|e| match e {
        ApiError::BadRequest { field, message } => {
            let flag = if field == "scope.jql" {
                "--jql"
            } else {
                "--projects"
            };
            anyhow::anyhow!("{flag}: {message}")
        }
        other => other.into(),
    })
}

/// Syncs with a progress line on a terminal; returns the run record.
async fn sync_with_progress(
    client: &JiraClient,
    store: &dyn SyncStore,
    opts: &SyncOptions,
    quiet: bool,
) -> anyhow::Result<RunRecord> {
    let (observer, _shown) = crate::progress::show(quiet, client);
    Ok(sei_jira_core::sync::run(client, store, opts, observer).await?)
}

fn print_summary(record: &RunRecord, site: &SiteConfig, store: &Path, elapsed: f64) {
    let c = &record.counts;
    let outcome = match record.outcome {
        RunOutcome::Succeeded => "Sync complete",
        RunOutcome::Partial => "Sync stopped early (resumable)",
        RunOutcome::Failed => "Sync failed",
        RunOutcome::Running => "Sync running",
        RunOutcome::Skipped => "Sync skipped (another sync holds every project)",
    };
    println!("{outcome} in {elapsed:.1} s");
    match record.projects.len() {
        0 => println!("  projects:          none"),
        n => println!("  projects:          {n} ({})", record.projects.join(", ")),
    }
    println!(
        "  issues:            {} new, {} updated, {} deleted",
        c.issues_new, c.issues_updated, c.issues_deleted
    );
    if c.issues_left_scope + c.issues_returned > 0 {
        println!(
            "  scope:             {} left it (kept, not counted), {} back in it",
            c.issues_left_scope, c.issues_returned
        );
    }
    println!("  changelog entries: {}", c.changelog_entries);
    println!("  comments:          {}", c.comments);
    println!(
        "  requests:          {} ({} retried; at most {} in flight and {}/s)",
        c.requests, c.retries, site.max_in_flight, site.requests_per_second
    );
    println!("  store:             {}", store.display());
    for e in &record.errors {
        println!("  warning:           {e}");
    }
}

/// What to run after a sync, with the store (and integration) just synced.
fn print_next_steps(store_args: &StoreArgs) {
    let mut at = format!("--store {}", store_args.store.display());
    if store_args.integration != crate::hygiene::DEFAULT_INTEGRATION {
        at = format!("{at} --integration {}", store_args.integration);
    }
    println!(
        "Next: `sei-jira hygiene {at}` (hygiene), `sei-jira dora {at}` (DORA), \
         `sei-jira report {at} --out report.html` (the page)"
    );
}

/// Repacks the store file when a quarter of it or more holds no data (after a backfill, whose
/// interleaved writes leave free pages and half-filled leaves behind), so the user finds it at
/// its size; answers the file's bytes, the hygiene index's share, the slack left, and whether it
/// was repacked.
fn compact_if_it_pays(store: EmbeddedStore, path: &Path) -> anyhow::Result<serde_json::Value> {
    let file_bytes = || std::fs::metadata(path).map_or(0, |m| m.len());
    let mut space = store.space()?;
    let mut compacted = false;
    if space.fragmented * 4 >= file_bytes() {
        // The sync is done and stored: a repack that fails loses nothing, and says so.
        match store.repack(path).and_then(|store| store.space()) {
            Ok(after) => (space, compacted) = (after, true),
            Err(e) => eprintln!("warning: the store was not repacked: {e}"),
        }
    }
    Ok(json!({
        "bytes": file_bytes(),
        "hygiene_index_bytes": space.hygiene_index,
        "unused_bytes": space.fragmented,
        "compacted": compacted,
    }))
}

/// Wall time, CPU time and the peak RSS so far of each of a command's phases: what
/// `sync --json` reports beside the run (the scale benchmark reads it).
struct Phases {
    ended: serde_json::Map<String, serde_json::Value>,
    /// Where the current phase began.
    since: Instant,
    cpu_since: std::time::Duration,
}

impl Default for Phases {
    fn default() -> Self {
        Phases {
            ended: serde_json::Map::new(),
            since: Instant::now(),
            cpu_since: process::cpu_time(),
        }
    }
}

impl Phases {
    /// Ends the phase `name`, begun where the last one ended.
    fn ended(&mut self, name: &str) {
        let (now, cpu) = (Instant::now(), process::cpu_time());
        let phase = json!({
            "wall_s": (now - self.since).as_secs_f64(),
            "cpu_s": cpu.saturating_sub(self.cpu_since).as_secs_f64(),
            // The process's high-water mark so far: the phase that raised it is the one whose
            // figure is above the one before.
            "peak_rss_bytes": process::peak_rss_bytes(),
        });
        self.ended.insert(name.to_string(), phase);
        (self.since, self.cpu_since) = (now, cpu);
    }

    /// Moves to `task` the CPU time it spent during `during` (the phase before it), where it
    /// ran beside that phase's own work: `spent` is what `task` took in all, and `task`'s phase
    /// held nothing else.
    fn spent_alongside(&mut self, during: &str, task: &str, spent: std::time::Duration) {
        let cpu_of = |ended: &serde_json::Map<String, serde_json::Value>, name: &str| {
            ended[name]["cpu_s"].as_f64().unwrap_or(0.0)
        };
        let before = spent.as_secs_f64() - cpu_of(&self.ended, task);
        let moved = before.clamp(0.0, cpu_of(&self.ended, during));
        self.ended[during]["cpu_s"] = json!(cpu_of(&self.ended, during) - moved);
        self.ended[task]["cpu_s"] = json!(cpu_of(&self.ended, task) + moved);
    }
}

/// A run that stopped before its end, and why; the next run resumes where it stopped.
#[derive(Debug)]
pub enum Stopped {
    /// For a reason that passes (Jira kept asking to wait, another sync held the work).
    Temporary(String),
    /// Asked to stop (Ctrl-C, SIGTERM).
    Interrupted(String),
}

impl Stopped {
    /// The process's exit code: 75 (`EX_TEMPFAIL`), or 130 as shells report an interrupt.
    pub fn exit_code(&self) -> i32 {
        match self {
            Stopped::Temporary(_) => 75,
            Stopped::Interrupted(_) => interrupt::EXIT_CODE,
        }
    }
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stopped::Temporary(why) | Stopped::Interrupted(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Stopped {}

pub async fn sync(
    args: &ConnectionArgs,
    scope_args: &ScopeArgs,
    store_args: &StoreArgs,
    recheck: bool,
    max_wait: std::time::Duration,
    json: bool,
) -> anyhow::Result<()> {
    let excluded = Excluded::parse(scope_args.exclude.as_deref().unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("--exclude: {e}"))?;
    let scope = scope(scope_args)?;
    let mut phases = Phases::default();
    // The same checks as `validate` run first: a bad URL or token fails before any sync work.
    let report = run_checks(&args.request(scope_args.jql.clone())?, &settings(args)).await;
    phases.ended("validation");
    if !report.passed() {
        print_report(&report, args);
    }
    require_passed(&report, "cannot sync")?;
    let site = SiteConfig {
        max_wait: Some(max_wait),
        ..args.site()?
    };
    let client = JiraClient::new(&site)?;
    let store = Arc::new(crate::store_file::open(&store_args.store, "--store")?);
    if store.release_abandoned_leases()? > 0 && !json {
        eprintln!(
            "An earlier sync of this store stopped before it finished; this one resumes where it \
             stopped."
        );
    }
    let mut opts = SyncOptions::new(&store_args.integration, Scope::from(&scope));
    let stop = interrupt::stop_flag()?;
    opts.stop = Some(stop.clone());
    opts.excluded = excluded;
    opts.custom_fields = scope_args.custom_fields.clone();
    if recheck {
        opts.census_every_ms = 0;
    }
    let integration =
        record_integration(&store, &store_args.integration, args, scope, &opts).await?;
    let started = Instant::now();
    phases.ended("setup");
    // As the deployed service does with the writes of every sync: the hygiene index brought up
    // to date (only the issues the sync wrote) — here while the sync runs — then the day's
    // snapshot from it.
    let owner = format!("sei-jira-cli-{}", std::process::id());
    let indexing = IndexAlongside::start(store.clone(), integration.clone(), owner);
    let synced = sync_with_progress(&client, &*store, &opts, json).await;
    phases.ended("sync");
    if !json {
        eprintln!("Bringing the hygiene index up to date and taking the day's snapshot…");
    }
    let indexed = indexing.finish().await?;
    let record = synced?;
    phases.ended("index_refresh");
    phases.spent_alongside("sync", "index_refresh", indexed.cpu);
    phases.ended["index_refresh"]["issues_after_sync"] = json!(indexed.after_sync);
    let now_ms = chrono::Utc::now().timestamp_millis();
    hygiene::service::take_snapshot(&*store, &integration, now_ms).await?;
    phases.ended("snapshot");
    // The weeks before the first snapshot, from the changelogs: once the integration's tickets
    // are all in (and again after its criteria changed).
    if record.outcome == RunOutcome::Succeeded
        && !stop.load(std::sync::atomic::Ordering::Relaxed)
        && history_build::due(&*store, &integration).await?
    {
        crate::history::build(&store, &integration, Some(stop.clone()), json).await?;
        phases.ended("history");
    }
    // A JQL scope has no project units: the summary names the projects it holds issues of.
    let mut shown = record.clone();
    if matches!(opts.scope, Scope::Jql(_)) {
        shown.projects = store
            .list_projects(&store_args.integration)
            .await?
            .into_iter()
            .map(|p| p.key)
            .collect();
    }
    let store = Arc::into_inner(store).context("the store is still in use after the sync")?;
    let disk = compact_if_it_pays(store, &store_args.store)?;
    phases.ended("compaction");
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"run": record, "store": store_args.store, "phases": phases.ended,
                        "disk": disk, "peak_rss_bytes": process::peak_rss_bytes()})
            )?
        );
    } else {
        print_summary(
            &shown,
            &site,
            &store_args.store,
            started.elapsed().as_secs_f64(),
        );
        print_next_steps(store_args);
    }
    if stop.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(Stopped::Interrupted(
            "interrupted: every issue stored so far is kept; the next run resumes where this one \
             stopped"
                .into(),
        )
        .into());
    }
    if record.outcome == RunOutcome::Skipped {
        return Err(Stopped::Temporary(
            "nothing synced: another sync of this integration holds every project; run again \
             once it has finished"
                .into(),
        )
        .into());
    }
    if client.stats().gave_up_waiting() {
        return Err(Stopped::Temporary(format!(
            "Jira kept asking to wait: this run stopped after {} s of waiting (--max-wait {} s); \
             the next run resumes where this one stopped",
            client.stats().waited().as_secs(),
            max_wait.as_secs()
        ))
        .into());
    }
    Ok(())
}

/// Keeps what the local integration syncs (its site, scope and exclusions) in the store, as the
/// deployed API does for its integrations: the hygiene report reads what was excluded.
async fn record_integration(
    store: &EmbeddedStore,
    integration: &str,
    args: &ConnectionArgs,
    scope: ScopeConfig,
    opts: &SyncOptions,
) -> anyhow::Result<IntegrationRecord> {
    let now = chrono::Utc::now().timestamp_millis();
    let previous = store.get_integration(LOCAL_ACCOUNT, integration).await?;
    let record = IntegrationRecord {
        account: LOCAL_ACCOUNT.into(),
        id: integration.into(),
        name: integration.into(),
        description: "synced by the local CLI".into(),
        tags: Vec::new(),
        deployment: args.deployment(),
        url: args.url.clone().unwrap_or_default(),
        email: args.email.clone(),
        // The CLI takes the token from its flags each time and keeps no secret.
        secret_name: String::new(),
        scope,
        excluded_fields: opts.excluded.names(),
        custom_fields: opts.custom_fields.clone(),
        schedule_rate: String::new(),
        created_ms: previous.map_or(now, |p| p.created_ms),
        updated_ms: now,
    };
    store.put_integration(&record).await?;
    Ok(record)
}

pub async fn export(store_args: &StoreArgs, out: Option<&Path>) -> anyhow::Result<()> {
    let store = crate::store_file::open_existing(store_args)?;
    let record = crate::hygiene::local_record(&store, store_args).await?;
    let mut writer: Box<dyn Write> = match out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("--out {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    // Each issue's story points: the first of the site's story points fields with a value.
    let catalog =
        hygiene::catalog_of(&store, &store_args.integration, &record.custom_fields).await?;
    let mut after: Option<String> = None;
    let mut count = 0;
    loop {
        let page = store
            .list_issues(&store_args.integration, after.as_deref(), 500)
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for i in &page {
            let line = json!({
                "id": i.id, "key": i.key, "project": i.project_key, "story_points": catalog.story_points(i),
                "fields": i.fields, "changelog": i.changelog,
                "comments": i.comments, "deleted_at_ms": i.deleted_at_ms, "hidden": i.hidden, "removed": i.removed,
            });
            writeln!(writer, "{line}")?;
            count += 1;
        }
    }
    writer.flush()?;
    if out.is_some() {
        eprintln!("exported {count} issues");
    }
    Ok(())
}

/// Brings the integration's hygiene and DORA index up to date now (what the deployed service
/// does on the event a change sends).
pub async fn refresh_index(
    store: &EmbeddedStore,
    record: &IntegrationRecord,
) -> anyhow::Result<()> {
    let owner = format!("sei-jira-cli-{}", std::process::id());
    hygiene::indexer::refresh(store, record, &owner, None).await?;
    Ok(())
}

pub async fn flag(store_args: &StoreArgs, issue: &str, flag: HandFlag) -> anyhow::Result<()> {
    let store = crate::store_file::open_existing(store_args)?;
    let id = if issue.chars().all(|c| c.is_ascii_digit()) {
        issue.to_string()
    } else {
        // Keys change when issues move; look the current key up.
        let mut after: Option<String> = None;
        loop {
            let page = store
                .list_issues(&store_args.integration, after.as_deref(), 1000)
                .await?;
            if let Some(found) = page.iter().find(|i| i.key.eq_ignore_ascii_case(issue)) {
                break found.id.clone();
            }
            match page.last() {
                Some(last) => after = Some(last.id.clone()),
                None => bail!("no stored issue with key {issue}"),
            }
        }
    };
    if !store
        .flag_issue(&store_args.integration, &id, flag.issue_flag())
        .await?
    {
        bail!("no stored issue with id {id}");
    }
    // The hygiene index takes the flag now, as the deployed service does on its event.
    if let Some(record) = store
        .get_integration(LOCAL_ACCOUNT, &store_args.integration)
        .await?
    {
        refresh_index(&store, &record).await?;
    }
    println!("{issue}: {}", flag.done());
    Ok(())
}

pub async fn demo(
    issues: usize,
    store_path: Option<PathBuf>,
    report_path: &Path,
    json: bool,
) -> anyhow::Result<()> {
    let crate::demo_site::DemoSite { sim, info, token } = crate::demo_site::start(issues).await?;
    let temp = tempfile::tempdir()?;
    let store_path = store_path.unwrap_or_else(|| temp.path().join("store.redb"));
    let connection = ConnectionArgs {
        url: Some(sim.base_url.clone()),
        email: Some(crate::demo_site::DEMO_EMAIL.into()),
        token: Some(token),
        pat: false,
        allow_private_network: true,
        max_in_flight: DEFAULT_MAX_IN_FLIGHT as u16,
        requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
    };
    if !json {
        println!(
            "Jira simulator at {} with {issues} issues in {}",
            sim.base_url, info["projects"]
        );
        println!(
            "\n1. Validate the credentials of alice@example.com (time zone Pacific/Honolulu):"
        );
    }
    let report = run_checks(
        &connection.request(None)?,
        &ValidationSettings {
            private_networks: PrivateNetworks::local(),
            gateway_url: sim.base_url.clone(),
            ..ValidationSettings::default()
        },
    )
    .await;
    if !json {
        print_report(&report, &connection);
        println!(
            "\n2. Sync every accessible project into {}:",
            store_path.display()
        );
    }
    if !report.passed() {
        bail!("the demo's own credentials failed validation");
    }
    let store = EmbeddedStore::open(&store_path)?;
    let site = connection.site()?;
    let client = JiraClient::new(&site)?;
    let scope = ScopeConfig::AllAccessible;
    let opts = SyncOptions::new("demo", Scope::from(&scope));
    let integration = record_integration(&store, "demo", &connection, scope, &opts).await?;
    let runs = demo_runs(&client, &store, &opts, json).await?;
    let found = demo_findings(&store, &integration, report_path).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "validation": report, "backfill": runs.backfill, "incremental": runs.repeat,
                "hygiene": found.hygiene, "dora": found.dora, "report": found.page,
            }))?
        );
    } else {
        print_demo(&runs, &found, &site, &store_path);
    }
    sim.stop().await;
    Ok(())
}

/// The demo's two runs: the backfill, then an incremental run right after it.
struct DemoRuns {
    backfill: RunRecord,
    backfill_s: f64,
    repeat: RunRecord,
    repeat_s: f64,
}

async fn demo_runs(
    client: &JiraClient,
    store: &EmbeddedStore,
    opts: &SyncOptions,
    json: bool,
) -> anyhow::Result<DemoRuns> {
    let started = Instant::now();
    let backfill = sync_with_progress(client, store, opts, json).await?;
    let backfill_s = started.elapsed().as_secs_f64();
    let again = Instant::now();
    let repeat = sync_with_progress(
        client,
        store,
        &SyncOptions {
            run_id: format!("{}-2", opts.run_id),
            ..opts.clone()
        },
        true,
    )
    .await?;
    Ok(DemoRuns {
        backfill,
        backfill_s,
        repeat,
        repeat_s: again.elapsed().as_secs_f64(),
    })
}

/// What the demo finds in the synced tickets: their hygiene, DORA over the last year, and the
/// report page drawing both with monitoring.
struct DemoFindings {
    hygiene: hygiene::Report,
    dora: Document,
    page: PathBuf,
}

async fn demo_findings(
    store: &EmbeddedStore,
    integration: &IntegrationRecord,
    report_path: &Path,
) -> anyhow::Result<DemoFindings> {
    let hygiene = crate::hygiene::report(
        store,
        "demo",
        Request {
            at_ms: chrono::Utc::now().timestamp_millis(),
            ..Request::default()
        },
    )
    .await?;
    // A DORA profile kept for the integration and classified in the background, as the API's
    // `POST …/dora/profiles` and the event it sends do; the report reads its members.
    let (profile_id, _) = change_profiles(store, integration, |config, catalog| {
        config.add(crate::dora::demo_profile(), catalog)
    })
    .await?;
    let owner = format!("sei-jira-demo-{}", std::process::id());
    hygiene::indexer::refresh(store, integration, &owner, None).await?;
    // The default days, as `sei-jira dora` and the report page use them.
    let days = ReportDays::defaults(chrono::Utc::now().date_naive());
    let dora = report_of_kept(store, integration, &profile_id, &days, ReadLimit::Every).await?;
    // The day's hygiene snapshot (a scheduled deployment takes one after every sync): the
    // report's trend starts from it.
    hygiene::service::take_snapshot(store, integration, chrono::Utc::now().timestamp_millis())
        .await?;
    // Its weeks before, rebuilt from the simulated history: the trend the page draws.
    crate::history::build(store, integration, None, false).await?;
    crate::report::write(store, integration, Range::Days30, report_path).await?;
    let page = std::path::absolute(report_path).unwrap_or(report_path.to_path_buf());
    Ok(DemoFindings {
        hygiene,
        dora,
        page,
    })
}

/// The demo's steps 2 to 6 as a person reads them.
fn print_demo(runs: &DemoRuns, found: &DemoFindings, site: &SiteConfig, store_path: &Path) {
    print_summary(&runs.backfill, site, store_path, runs.backfill_s);
    println!(
        "\n3. An incremental run right after: {} new, {} updated, {} requests in {:.1} s",
        runs.repeat.counts.issues_new,
        runs.repeat.counts.issues_updated,
        runs.repeat.counts.requests,
        runs.repeat_s
    );
    println!("\n4. The hygiene of the synced tickets (default thresholds and weights):");
    crate::hygiene::print_report(&found.hygiene, store_path);
    println!(
        "\n5. DORA over the last {} days (incidents and change requests by issue type; the Done category means restored and deployed):",
        sei_jira_core::dora::request::DEFAULT_DAYS
    );
    crate::dora::print_summary(&found.dora);
    println!(
        "\n6. The report page (monitoring, hygiene and DORA drawn; open it in a browser): {}",
        found.page.display()
    );
    println!(
        "\nExport the store as JSON Lines with: sei-jira export --store <file> --integration demo (use --store to keep it);\nreport on it with: sei-jira hygiene --store <file> --integration demo;\nDORA with your own profile: sei-jira dora --store <file> --integration demo --profile <file.json>"
    );
}
