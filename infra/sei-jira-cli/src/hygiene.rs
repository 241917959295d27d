//! `sei-jira hygiene`: the hygiene report of what a store holds, as a table or as JSON; `hygiene
//! trend`, the score over time from the daily snapshots; `hygiene snapshot`, one taken now.

use std::path::Path;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use sei_jira_core::hygiene::IntegrationHygiene;
use sei_jira_core::hygiene::aggregate::DESCRIPTION_CAP;
use sei_jira_core::hygiene::service::take_snapshot;
use sei_jira_core::hygiene::trend::MAX_TREND_DAYS;
use sei_jira_core::hygiene::{
    self, Criterion, Filter, HygieneError, Interval, Report, Request, ResponseMeasure, Settings,
    Weights,
};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{
    HygieneIndexStore, HygieneStore, IntegrationRecord, IntegrationStore, IssueStore, RecordStore,
};
use sei_jira_core::sync::Excluded;

use crate::StoreArgs;

/// The account under which the CLI records its local integrations.
pub const LOCAL_ACCOUNT: &str = "local";

#[derive(clap::Args, Debug, Clone)]
pub struct HygieneArgs {
    /// Evaluate at this instant (RFC 3339), taken to the start of its hour (reports are evaluated
    /// on the hour), so a report can be reproduced. Default: now.
    #[arg(long)]
    pub at: Option<String>,
    /// Idle: no update for more than this many days.
    #[arg(long, default_value_t = 10)]
    pub idle_days: i64,
    /// Poor Description: fewer characters than this.
    #[arg(long, default_value_t = 30)]
    pub poor_description_chars: usize,
    /// What counts as the first response: first-comment, first-status-change or earliest.
    #[arg(long, default_value = "first-comment")]
    pub response: String,
    /// Category weights, e.g. 'Idle=20,No Assignee=10' (the rest keep their defaults; the sum
    /// must not exceed 100).
    #[arg(long, default_value = "")]
    pub weights: String,
    /// Custom hygiene misses: a JSON file with a list of at most 10
    /// `{"name": …, "conditions": [{"field": …, "operator": …, "values"|"value": …}]}`.
    #[arg(long)]
    pub criteria: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long)]
    pub json: bool,
}

impl HygieneArgs {
    fn settings(&self) -> anyhow::Result<Settings> {
        if self.idle_days < 0 {
            bail!("--idle-days must be 0 or more");
        }
        if self.poor_description_chars > DESCRIPTION_CAP {
            bail!("--poor-description-chars must be at most {DESCRIPTION_CAP}");
        }
        let response = match self.response.as_str() {
            "first-comment" => ResponseMeasure::FirstComment,
            "first-status-change" => ResponseMeasure::FirstStatusChange,
            "earliest" => ResponseMeasure::Earliest,
            other => bail!(
                "--response: '{other}' is not one of first-comment, first-status-change, earliest"
            ),
        };
        Ok(Settings {
            idle_days: self.idle_days,
            poor_description_chars: self.poor_description_chars,
            response,
            ..Settings::default()
        })
    }

    fn at_ms(&self) -> anyhow::Result<i64> {
        match &self.at {
            None => Ok(chrono::Utc::now().timestamp_millis()),
            Some(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|t| t.timestamp_millis())
                .map_err(|e| anyhow::anyhow!("--at '{text}': not an RFC 3339 time ({e})")),
        }
    }
}

/// Which tickets a report or trend covers.
#[derive(clap::Args, Debug, Clone)]
pub struct FilterArgs {
    /// Only these projects (comma-separated keys).
    #[arg(long, value_delimiter = ',')]
    pub projects: Vec<String>,
    /// Only these issue types (comma-separated names).
    #[arg(long, value_delimiter = ',')]
    pub issue_types: Vec<String>,
}

impl FilterArgs {
    fn filter(&self) -> Filter {
        Filter {
            projects: self.projects.clone(),
            issue_types: self.issue_types.clone(),
            ..Filter::default()
        }
    }
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum HygieneAction {
    /// The score per week or month from the daily snapshots (every sync takes one).
    Trend {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        args: TrendArgs,
    },
    /// Take the day's snapshot now (every sync takes one; a later one replaces the day's).
    Snapshot {
        #[command(flatten)]
        store: StoreArgs,
        /// Evaluate at this instant (RFC 3339). Default: now.
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args, Debug, Clone)]
pub struct TrendArgs {
    /// week or month.
    #[arg(long, default_value = "week")]
    pub interval: String,
    /// First day (YYYY-MM-DD). Default: 83 days before --to (twelve weeks).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD). Default: today (UTC).
    #[arg(long)]
    pub to: Option<String>,
    /// Category weights, as for the report.
    #[arg(long, default_value = "")]
    pub weights: String,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[arg(long)]
    pub json: bool,
}

pub async fn act(action: &HygieneAction) -> anyhow::Result<()> {
    match action {
        HygieneAction::Trend { store, args } => trend(store, args).await,
        HygieneAction::Snapshot { store, at, json } => snapshot(store, at.as_deref(), *json).await,
    }
}

pub(crate) fn open_existing(store_args: &StoreArgs) -> anyhow::Result<EmbeddedStore> {
    if !store_args.store.exists() {
        bail!(
            "--store {}: no such store (run `sei-jira sync` first)",
            store_args.store.display()
        );
    }
    EmbeddedStore::open(&store_args.store)
        .with_context(|| format!("--store {}", store_args.store.display()))
}

pub(crate) async fn local_record(
    store: &EmbeddedStore,
    store_args: &StoreArgs,
) -> anyhow::Result<IntegrationRecord> {
    store
        .get_integration(LOCAL_ACCOUNT, &store_args.integration)
        .await?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--integration {}: not in {} (run `sei-jira sync` first)",
                store_args.integration,
                store_args.store.display()
            )
        })
}

pub(crate) fn date_flag(flag: &str, text: Option<&str>) -> anyhow::Result<Option<NaiveDate>> {
    text.map(|t| {
        NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
            .map_err(|_| anyhow::anyhow!("{flag} '{t}': not a date (YYYY-MM-DD)"))
    })
    .transpose()
}

async fn trend(store_args: &StoreArgs, args: &TrendArgs) -> anyhow::Result<()> {
    let interval =
        Interval::parse(&args.interval).map_err(|e| anyhow::anyhow!("--interval: {e}"))?;
    let to = date_flag("--to", args.to.as_deref())?.unwrap_or(chrono::Utc::now().date_naive());
    let from = date_flag("--from", args.from.as_deref())?.unwrap_or(to - chrono::Days::new(83));
    if from > to {
        bail!("--from {from} is after --to {to}");
    }
    if (to - from).num_days() >= MAX_TREND_DAYS {
        bail!("--from: a trend covers at most {MAX_TREND_DAYS} days");
    }
    let store = open_existing(store_args)?;
    let record = local_record(&store, store_args).await?;
    let scope = IntegrationHygiene::load(&store, &record).await?;
    let weights = Weights::parse(&args.weights, &scope.custom_names())
        .map_err(|e| anyhow::anyhow!("--weights: {e}"))?;
    let filter = args.filter.filter();
    let snapshots = store.list_snapshots(&record.id, from, to).await?;
    let points = hygiene::trend(&snapshots, interval, from, to, &filter, &weights);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"interval": interval, "from": from, "to": to, "points": points})
            )?
        );
        return Ok(());
    }
    println!(
        "Hygiene score per {} from {from} to {to} ({} snapshots in {}):",
        args.interval.trim().to_lowercase(),
        snapshots.len(),
        store_args.store.display()
    );
    println!(
        "  {:<25} {:<12} {:>8} {:>6}",
        "period", "snapshot", "tickets", "score"
    );
    for p in &points {
        let period = format!("{} – {}", p.from, p.to);
        match (p.snapshot_day, p.total_tickets, p.score) {
            (Some(day), Some(tickets), Some(score)) => println!(
                "  {period:<25} {:<12} {tickets:>8} {score:>6.1}",
                day.to_string()
            ),
            _ => println!("  {period:<25} no snapshot"),
        }
    }
    Ok(())
}

async fn snapshot(store_args: &StoreArgs, at: Option<&str>, json: bool) -> anyhow::Result<()> {
    let at_ms = match at {
        None => chrono::Utc::now().timestamp_millis(),
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.timestamp_millis())
            .map_err(|e| anyhow::anyhow!("--at '{text}': not an RFC 3339 time ({e})"))?,
    };
    let store = open_existing(store_args)?;
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
    let settings = args.settings()?;
    let criteria = match &args.criteria {
        None => Vec::new(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--criteria {}", path.display()))?;
            serde_json::from_str::<Vec<Criterion>>(&text)
                .map_err(|e| anyhow::anyhow!("--criteria {}: {e}", path.display()))?
        }
    };
    let names: Vec<String> = criteria.iter().map(|c| c.name.clone()).collect();
    let weights =
        Weights::parse(&args.weights, &names).map_err(|e| anyhow::anyhow!("--weights: {e}"))?;
    let at_ms = args.at_ms()?;
    if !store_args.store.exists() {
        bail!(
            "--store {}: no such store (run `sei-jira sync` first)",
            store_args.store.display()
        );
    }
    let store = EmbeddedStore::open(&store_args.store)
        .with_context(|| format!("--store {}", store_args.store.display()))?;
    let request = Request {
        filter: args.filter.filter(),
        settings,
        weights,
        criteria: &criteria,
        at_ms,
        ..Request::default()
    };
    let report = report(&store, &store_args.integration, request)
        .await
        .map_err(|e| match e {
            HygieneError::Criteria(e) => anyhow::anyhow!("--criteria: {e}"),
            other => other.into(),
        })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report, &store_args.store);
    }
    Ok(())
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
    let record = store.get_integration(LOCAL_ACCOUNT, integration).await?;
    let excluded = record
        .as_ref()
        .map(|r| Excluded::parse(&r.excluded_fields.join(",")).unwrap_or_default())
        .unwrap_or_default();
    let custom_fields = record.map(|r| r.custom_fields).unwrap_or_default();
    let request = Request {
        excluded,
        custom_fields: &custom_fields,
        ..request
    };
    Ok(hygiene::report_answered(store, integration, &request)
        .await?
        .report)
}

pub fn print_report(report: &Report, store: &Path) {
    println!(
        "Hygiene of {} tickets in {} at {}: score {:.1} of 100",
        report.total_tickets,
        store.display(),
        report
            .evaluated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
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
