//! The hygiene history built locally: after a sync when the integration has none yet (or its
//! criteria changed), and on `sei-jira hygiene history`, with its progress on stderr.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sei_jira_core::hygiene::history::HistoryBuild;
use sei_jira_core::hygiene::history_build::{self, HistoryRun, HistoryState};
use sei_jira_core::store::IntegrationRecord;
use sei_jira_core::store::embedded::EmbeddedStore;

use crate::StoreArgs;

/// How often a progress line is printed.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// Goes on with (or starts) the integration's history build until it is done or `stop` is set;
/// says what it does unless `quiet`.
pub async fn build(
    store: &EmbeddedStore,
    record: &IntegrationRecord,
    stop: Option<Arc<AtomicBool>>,
    quiet: bool,
) -> anyhow::Result<HistoryRun> {
    let owner = format!("sei-jira-cli-{}", std::process::id());
    let started = Instant::now();
    let mut shown = Instant::now();
    let mut progress = |build: &HistoryBuild| {
        if !quiet && shown.elapsed() >= LINE_EVERY {
            eprintln!(
                "  … {} issues counted at {} past instants ({:.0} s)",
                build.issues,
                build.instants.len(),
                started.elapsed().as_secs_f64()
            );
            shown = Instant::now();
        }
        !stop.as_ref().is_some_and(|s| s.load(Ordering::Relaxed))
    };
    if !quiet {
        eprintln!(
            "Rebuilding the hygiene of past weeks from the changelogs (the trend before the first \
             snapshot)…"
        );
    }
    let run = history_build::run(store, record, &owner, None, &mut progress).await?;
    if let (false, Some(build)) = (quiet, &run.build) {
        eprintln!(
            "  {} past instants counted from {} issues in {:.1} s",
            build.instants.len(),
            build.issues,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(run)
}

/// `sei-jira hygiene history`: a build of the last `weeks` weeks from the first issue.
pub async fn rebuild(store_args: &StoreArgs, weeks: u32, json: bool) -> anyhow::Result<()> {
    let weeks = history_build::check_weeks(weeks).map_err(|e| anyhow::anyhow!("--weeks: {e}"))?;
    let store = crate::store_file::open_existing(store_args)?;
    let record = crate::hygiene::local_record(&store, store_args).await?;
    let owner = format!("sei-jira-cli-{}", std::process::id());
    if history_build::request(&store, &record, &owner, weeks)
        .await?
        .is_none()
    {
        anyhow::bail!("another run is building this integration's history; try again shortly");
    }
    let stop = crate::interrupt::stop_flag()?;
    let run = build(&store, &record, Some(stop), json).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&run)?);
    } else if run.state == HistoryState::Built {
        println!(
            "Hygiene history of {} kept for the last {weeks} weeks; `sei-jira hygiene trend \
             --from {}` shows it.",
            store_args.integration,
            (chrono::Utc::now().date_naive() - chrono::Days::new(7 * u64::from(weeks)))
        );
    }
    match run.state {
        HistoryState::Built => Ok(()),
        HistoryState::Behind => Err(crate::commands::Stopped::Interrupted(
            "interrupted: the history build goes on from where it stopped at the next sync or \
             `sei-jira hygiene history`"
                .into(),
        )
        .into()),
        other => anyhow::bail!("the history was not built: {other:?}"),
    }
}
