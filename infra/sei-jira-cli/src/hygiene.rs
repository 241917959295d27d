//! `sei-jira hygiene`: the hygiene report of what a store holds, as a table or as JSON; `hygiene
//! trend`, the score over time from the daily snapshots; `hygiene snapshot`, one taken now.

use std::path::Path;

use anyhow::Context;
use sei_jira_core::hygiene::IntegrationHygiene;
use sei_jira_core::hygiene::params::{self, Params, Refused, TrendQuery};
use sei_jira_core::hygiene::service::take_snapshot;
use sei_jira_core::hygiene::{
    self, Answered, Category, Criterion, HygieneError, Report, Request, Seen, Taken, Unseen, Which,
    misses_from_store,
};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{
    HygieneIndexStore, IntegrationRecord, IntegrationStore, IssueStore, RecordStore,
};
use sei_jira_core::sync::Excluded;

use crate::StoreArgs;

/// The account under which the CLI records its local integrations.
pub const LOCAL_ACCOUNT: &str = "local";
/// The integration the commands read and write unless `--integration` names another.
pub const DEFAULT_INTEGRATION: &str = "local";

/// The report's flags, named as the API's query parameters (`--idle-days` is `idle_days`) and
/// read by the same parser, with the same bounds and errors (`hygiene::params`).
#[derive(clap::Args, Debug, Clone)]
pub struct HygieneArgs {
    /// Score the tickets as they stood at this instant (RFC 3339, or a date: its first
    /// millisecond; taken to the start of its hour), rebuilt from their changelogs: tickets
    /// created later are left out. Default: now, as they are.
    #[arg(long)]
    pub at: Option<String>,
    /// Idle: no update for more than this many days (0 to 3650; default 10).
    #[arg(long, allow_hyphen_values = true)]
    pub idle_days: Option<String>,
    /// Poor Description: fewer characters than this (0 to 1000; default 30).
    #[arg(long, allow_hyphen_values = true)]
    pub poor_description_chars: Option<String>,
    /// Stalled in an active sprint: no status change for more than this many days (0 to 3650;
    /// default 3).
    #[arg(long, allow_hyphen_values = true)]
    pub stalled_days: Option<String>,
    /// What counts as the first response: first_comment (default), first_status_change or
    /// earliest.
    #[arg(long)]
    pub response: Option<String>,
    /// Category weights, e.g. 'Idle=20,No Assignee=10': those given are kept (at most 100 in
    /// all) and the other built-in categories share what they leave, in proportion to their
    /// defaults (here 70 for six: 11.67 each).
    #[arg(long)]
    pub weights: Option<String>,
    /// Custom hygiene misses: a JSON file with a list of at most 10
    /// `{"name": …, "conditions": [{"field": …, "operator": …, "values"|"value": …}]}`.
    #[arg(long)]
    pub criteria: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only tickets created, updated or resolved in these ranges (RFC 3339 times or dates, both
    /// ends included).
    #[command(flatten)]
    pub ranges: RangeArgs,
    /// Print the answer as JSON, for scripts, instead of text.
    #[arg(long)]
    pub json: bool,
}

impl HygieneArgs {
    fn params(&self) -> Params {
        Params::new(self.pairs())
    }

    fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = named([
            ("at", &self.at),
            ("idle_days", &self.idle_days),
            ("poor_description_chars", &self.poor_description_chars),
            ("stalled_days", &self.stalled_days),
            ("response", &self.response),
            ("weights", &self.weights),
        ]);
        pairs.extend(self.filter.pairs());
        pairs.extend(self.ranges.pairs());
        pairs
    }

    /// The custom misses of `--criteria`, none without it.
    fn criteria(&self) -> anyhow::Result<Vec<Criterion>> {
        let Some(path) = &self.criteria else {
            return Ok(Vec::new());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--criteria {}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("--criteria {}: {e}", path.display()))
    }
}

/// The flags that were given, under their parameters' names.
fn named<const N: usize>(flags: [(&str, &Option<String>); N]) -> Vec<(String, String)> {
    flags
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.clone()?)))
        .collect()
}

/// A refused parameter, as the flag of the same name.
fn flagged(refused: Refused) -> anyhow::Error {
    anyhow::anyhow!(
        "--{}: {}",
        refused.parameter.replace('_', "-"),
        refused.message
    )
}

/// Which tickets a report or trend covers (comma-separated names; any case for project keys).
#[derive(clap::Args, Debug, Clone)]
pub struct FilterArgs {
    /// Only these projects (keys).
    #[arg(long)]
    pub projects: Option<String>,
    /// Only these issue types.
    #[arg(long)]
    pub issue_types: Option<String>,
    /// Only these priorities.
    #[arg(long)]
    pub priorities: Option<String>,
    /// Only these statuses.
    #[arg(long)]
    pub statuses: Option<String>,
    /// Only these status categories (To Do, In Progress, Done).
    #[arg(long)]
    pub status_categories: Option<String>,
    /// Only tickets in an active sprint.
    #[arg(long)]
    pub active_sprint: bool,
}

impl FilterArgs {
    fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = named([
            ("projects", &self.projects),
            ("issue_types", &self.issue_types),
            ("priorities", &self.priorities),
            ("statuses", &self.statuses),
            ("status_categories", &self.status_categories),
        ]);
        if self.active_sprint {
            pairs.push(("active_sprint".into(), "true".into()));
        }
        pairs
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct RangeArgs {
    #[arg(long)]
    pub created_from: Option<String>,
    #[arg(long)]
    pub created_to: Option<String>,
    #[arg(long)]
    pub updated_from: Option<String>,
    #[arg(long)]
    pub updated_to: Option<String>,
    #[arg(long)]
    pub resolved_from: Option<String>,
    #[arg(long)]
    pub resolved_to: Option<String>,
}

impl RangeArgs {
    fn pairs(&self) -> Vec<(String, String)> {
        named([
            ("created_from", &self.created_from),
            ("created_to", &self.created_to),
            ("updated_from", &self.updated_from),
            ("updated_to", &self.updated_to),
            ("resolved_from", &self.resolved_from),
            ("resolved_to", &self.resolved_to),
        ])
    }
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum HygieneAction {
    /// The score per week or month from the daily snapshots (every sync takes one) and, before
    /// them, the weeks rebuilt from history.
    #[command(
        after_help = "Examples:\n  sei-jira hygiene trend\n  sei-jira hygiene trend --interval month --from 2026-01-01 --json"
    )]
    Trend {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        args: Box<TrendArgs>,
    },
    /// The tickets that miss one category, as the report counts them.
    #[command(
        after_help = "Examples:\n  sei-jira hygiene misses --category 'No Assignee'\n  sei-jira hygiene misses --category idle --idle-days 30 --projects ABC --limit 20\n  sei-jira hygiene misses --category 'Needs Owner' --criteria criteria.json --json"
    )]
    Misses {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        args: Box<MissesArgs>,
    },
    /// Take the day's snapshot now (every sync takes one; a later one replaces the day's).
    #[command(
        after_help = "Examples:\n  sei-jira hygiene snapshot\n  sei-jira hygiene snapshot --at 2026-11-02T12:00:00Z"
    )]
    Snapshot {
        #[command(flatten)]
        store: StoreArgs,
        /// Evaluate at this instant (RFC 3339, or a date: its first millisecond). Default: now.
        #[arg(long)]
        at: Option<String>,
        /// Print the answer as JSON, for scripts, instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the hygiene of past weeks from the changelogs, for the trend before the first
    /// snapshot (the first sync does it by itself; run it again after changing the weeks).
    #[command(
        after_help = "Examples:\n  sei-jira hygiene history\n  sei-jira hygiene history --weeks 104 --json"
    )]
    History {
        #[command(flatten)]
        store: StoreArgs,
        /// How many weeks back, 1 to 104.
        #[arg(long, default_value_t = sei_jira_core::hygiene::history::DEFAULT_WEEKS)]
        weeks: u32,
        /// Print the answer as JSON, for scripts, instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args, Debug, Clone)]
pub struct MissesArgs {
    /// The category: a built-in one, by its title or snake name ('No Assignee', no_assignee), or
    /// a custom miss of --criteria.
    #[arg(long)]
    pub category: String,
    /// List at most this many tickets. Default: every one.
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub report: HygieneArgs,
}

#[derive(clap::Args, Debug, Clone)]
pub struct TrendArgs {
    /// week (default) or month.
    #[arg(long)]
    pub interval: Option<String>,
    /// First day (YYYY-MM-DD). Default: 83 days before --to (twelve weeks).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD). Default: today (UTC).
    #[arg(long)]
    pub to: Option<String>,
    /// Category weights, as for the report.
    #[arg(long)]
    pub weights: Option<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Print the answer as JSON, for scripts, instead of text.
    #[arg(long)]
    pub json: bool,
}

impl TrendArgs {
    fn params(&self) -> Params {
        let mut pairs = named([
            ("interval", &self.interval),
            ("from", &self.from),
            ("to", &self.to),
            ("weights", &self.weights),
        ]);
        pairs.extend(self.filter.pairs());
        Params::new(pairs)
    }
}

pub async fn act(action: &HygieneAction) -> anyhow::Result<()> {
    match action {
        HygieneAction::Trend { store, args } => trend(store, args).await,
        HygieneAction::Misses { store, args } => misses(store, args).await,
        HygieneAction::Snapshot { store, at, json } => snapshot(store, at.as_deref(), *json).await,
        HygieneAction::History { store, weeks, json } => {
            crate::history::rebuild(store, *weeks, *json).await
        }
    }
}

pub(crate) async fn local_record(
    store: &EmbeddedStore,
    store_args: &StoreArgs,
) -> anyhow::Result<IntegrationRecord> {
    if let Some(record) = store
        .get_integration(LOCAL_ACCOUNT, &store_args.integration)
        .await?
    {
        return Ok(record);
    }
    let held: Vec<String> = store
        .list_integrations(LOCAL_ACCOUNT)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let (store_path, asked) = (store_args.store.display(), &store_args.integration);
    Err(match held.as_slice() {
        [] => anyhow::anyhow!(
            "--integration {asked}: {store_path} holds no integration yet (run `sei-jira sync` first)"
        ),
        _ => anyhow::anyhow!(
            "--integration {asked}: not in {store_path}, which holds {} (pass one of them with \
             --integration)",
            held.join(", ")
        ),
    })
}

async fn trend(store_args: &StoreArgs, args: &TrendArgs) -> anyhow::Result<()> {
    let store = crate::store_file::open_existing(store_args)?;
    let record = local_record(&store, store_args).await?;
    let scope = IntegrationHygiene::load(&store, &record).await?;
    let today = chrono::Utc::now().date_naive();
    let TrendQuery {
        filter,
        weights,
        interval,
        from,
        to,
    } = params::trend(&args.params(), &scope.custom_names(), today).map_err(flagged)?;
    let snapshots = hygiene::kept_snapshots(&store, &record.id, from, to).await?;
    let points = hygiene::trend(&snapshots, interval, from, to, &filter, &weights);
    let warnings = Seen::of_snapshots(&snapshots).unseen(&filter);
    warn(&warnings);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "interval": interval, "from": from, "to": to, "points": points, "warnings": warnings
            }))?
        );
        return Ok(());
    }
    let rebuilt = snapshots
        .iter()
        .filter(|s| s.source == Taken::History)
        .count();
    println!(
        "Hygiene score per {} from {from} to {to} ({} snapshots, {rebuilt} points rebuilt from \
         history, in {}):",
        serde_json::to_value(interval)?.as_str().unwrap_or_default(),
        snapshots.len() - rebuilt,
        store_args.store.display()
    );
    println!(
        "  {:<25} {:<20} {:>8} {:>6}",
        "period", "counted", "tickets", "score"
    );
    for p in &points {
        let period = format!("{} – {}", p.from, p.to);
        match (p.snapshot_day, p.source, p.total_tickets, p.score) {
            (Some(day), Some(source), Some(tickets), Some(score)) => {
                let counted = match source {
                    Taken::Snapshot => format!("{day}"),
                    Taken::History => format!("{day} (history)"),
                };
                println!("  {period:<25} {counted:<20} {tickets:>8} {score:>6.1}")
            }
            _ => println!("  {period:<25} nothing kept"),
        }
    }
    Ok(())
}

async fn snapshot(store_args: &StoreArgs, at: Option<&str>, json: bool) -> anyhow::Result<()> {
    let asked = named([("at", &at.map(str::to_string))]);
    let at_ms = params::snapshot_at(&Params::new(asked), chrono::Utc::now()).map_err(flagged)?;
    let store = crate::store_file::open_existing(store_args)?;
    let record = local_record(&store, store_args).await?;
    let snapshot = take_snapshot(&store, &record, at_ms).await?;
    let tickets: u64 = snapshot.cells.iter().map(|(_, c)| c.tickets).sum();
    if json {
        println!(
            "{}",
            serde_json::json!({"day": snapshot.day(), "tickets": tickets, "cells": snapshot.cells.len()})
        );
    } else {
        println!(
            "Hygiene snapshot of {} for {}: {tickets} tickets in {} cells",
            store_args.integration,
            snapshot.day(),
            snapshot.cells.len()
        );
    }
    Ok(())
}

pub async fn hygiene(store_args: &StoreArgs, args: &HygieneArgs) -> anyhow::Result<()> {
    let criteria = args.criteria()?;
    let names: Vec<String> = criteria.iter().map(|c| c.name.clone()).collect();
    let asked = params::report(&args.params(), &names, chrono::Utc::now()).map_err(flagged)?;
    let store = crate::store_file::open_existing(store_args)?;
    local_record(&store, store_args).await?;
    let request = Request {
        filter: asked.filter,
        settings: asked.settings,
        weights: asked.weights,
        criteria: &criteria,
        at_ms: asked.at_ms,
        as_of: asked.as_of,
        ..Request::default()
    };
    let answered = answered(&store, &store_args.integration, request)
        .await
        .map_err(|e| match e {
            HygieneError::Criteria(e) => anyhow::anyhow!("--criteria: {e}"),
            other => other.into(),
        })?;
    warn(&answered.warnings);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answered)?);
    } else {
        print_report(&answered.report, &store_args.store);
    }
    Ok(())
}

/// The filter's values no stored ticket holds, on stderr under their flags.
fn warn(unseen: &[Unseen]) {
    for u in unseen {
        eprintln!(
            "warning: --{}: {}",
            u.parameter.replace('_', "-"),
            u.message
        );
    }
}

/// The report of the integration's stored issues: what its syncs excluded is skipped, and
/// criteria may name the custom fields it maps.
pub async fn report<S>(
    store: &S,
    integration: &str,
    request: Request<'_>,
) -> Result<Report, HygieneError>
where
    S: IssueStore + RecordStore + IntegrationStore + HygieneIndexStore,
{
    Ok(answered(store, integration, request).await?.report)
}

/// [`report`], with where it was counted from and the filter's warnings.
async fn answered<S>(
    store: &S,
    integration: &str,
    request: Request<'_>,
) -> Result<Answered, HygieneError>
where
    S: IssueStore + RecordStore + IntegrationStore + HygieneIndexStore,
{
    let record = store.get_integration(LOCAL_ACCOUNT, integration).await?;
    let excluded = record.as_ref().map(excluded_of).unwrap_or_default();
    let custom_fields = record.map(|r| r.custom_fields).unwrap_or_default();
    let request = Request {
        excluded,
        custom_fields: &custom_fields,
        ..request
    };
    hygiene::report_answered(store, integration, &request).await
}

/// The fields the integration's syncs leave out: the categories that read them are skipped.
fn excluded_of(record: &IntegrationRecord) -> Excluded {
    Excluded::parse(&record.excluded_fields.join(",")).unwrap_or_default()
}

async fn misses(store_args: &StoreArgs, args: &MissesArgs) -> anyhow::Result<()> {
    if args.report.weights.is_some() {
        anyhow::bail!(
            "--weights: not taken by `hygiene misses` (weights change the score, not which tickets miss a category)"
        );
    }
    let criteria = args.report.criteria()?;
    let names: Vec<String> = criteria.iter().map(|c| c.name.clone()).collect();
    let mut pairs = args.report.pairs();
    pairs.push(("category".into(), args.category.clone()));
    pairs.push(("limit".into(), params::MAX_PAGE.to_string()));
    let asked = params::misses(&Params::new(pairs), &names, chrono::Utc::now()).map_err(flagged)?;
    let store = crate::store_file::open_existing(store_args)?;
    let record = local_record(&store, store_args).await?;
    let which = Which::named(&asked.category);
    let request = Request {
        filter: asked.report.filter,
        settings: asked.report.settings,
        criteria: &criteria,
        at_ms: asked.report.at_ms,
        as_of: asked.report.as_of,
        excluded: excluded_of(&record),
        custom_fields: &record.custom_fields,
        ..Request::default()
    };
    let wanted = args.limit.unwrap_or(usize::MAX);
    let mut tickets = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = misses_from_store(
            &store,
            &record.id,
            &request,
            &which,
            after.as_deref(),
            params::MAX_PAGE,
            usize::MAX,
        )
        .await
        .map_err(|e| match e {
            HygieneError::UnknownCustom(name) => anyhow::anyhow!(
                "--category {name}: neither a built-in category ({}) nor a custom miss of \
                 --criteria",
                Category::ALL.map(Category::title).join(", ")
            ),
            HygieneError::Skipped { .. } => anyhow::anyhow!("--category: {e}"),
            HygieneError::Criteria(e) => anyhow::anyhow!("--criteria: {e}"),
            other => other.into(),
        })?;
        tickets.extend(page.tickets);
        match page.next {
            Some(next) if tickets.len() <= wanted => after = Some(next),
            _ => break,
        }
    }
    let more = tickets.len() > wanted;
    tickets.truncate(wanted);
    let title = match &which {
        Which::Builtin(category) => category.title(),
        Which::Custom(name) => name.as_str(),
    };
    if args.report.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"category": title, "tickets": tickets, "more": more})
            )?
        );
        return Ok(());
    }
    if more {
        println!("The first {wanted} tickets that miss {title} (more with a larger --limit):");
    } else {
        println!("{} tickets miss {title}:", tickets.len());
    }
    for t in &tickets {
        println!("  {:<14} {:<10} id {}", t.key, t.project, t.id);
    }
    Ok(())
}

pub fn print_report(report: &Report, store: &Path) {
    let at = report
        .evaluated_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if report.total_tickets == 0 {
        // A score of 0 would read as the worst hygiene; there is nothing to score.
        println!(
            "Hygiene in {} at {at}: no data (no stored ticket is selected)",
            store.display()
        );
        return;
    }
    println!(
        "Hygiene of {} tickets in {} at {at}: score {:.1} of 100",
        report.total_tickets,
        store.display(),
        report.score
    );
    println!(
        "  {:<26} {:>7} {:>8} {:>5} {:>7} {:>9}",
        "category", "misses", "share", "step", "weight", "weighted"
    );
    for c in &report.categories {
        match (&c.skipped_reason, c.misses, c.step_score) {
            (Some(reason), _, _) => println!("  {:<26} skipped: {reason}", c.name),
            (None, Some(misses), Some(step)) => println!(
                "  {:<26} {:>7} {:>6.1} % {:>5} {:>7.1} {:>9.2}",
                c.name,
                misses,
                c.miss_percent.unwrap_or(0.0),
                step,
                c.weight,
                c.weighted_score
            ),
            _ => println!("  {:<26} no data", c.name),
        }
    }
}
