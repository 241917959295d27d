//! `sei-jira dora`: the DORA metrics of what a store holds under a profile (a JSON file), as a
//! summary or, with `--json`, as a document.

use anyhow::bail;
use sei_jira_core::dora::profile::{
    Condition, DEFAULT_WINDOW_HOURS, FilterSet, IssueFilter, Join, Operator,
};
use sei_jira_core::dora::request::THRESHOLDS;
use sei_jira_core::dora::{
    Asked, Document, DoraProfile, ReportDays, report_from_store, reports_of_kept, words,
};

use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{DoraStore, IntegrationRecord, ReadLimit};

use crate::StoreArgs;
use crate::dora_profiles::{ProfileAction, kept_list, read_file, warn_unseen};
use crate::hygiene::local_record;
use crate::store_file::open_existing;

#[derive(clap::Args, Debug, Clone)]
pub struct DoraArgs {
    /// The profile: a kept profile's id or name (`sei-jira dora profile list`), or a JSON file
    /// `{"name", "incidents": {"sets": [...], "join"}, "changes": …, "restored_statuses",
    /// "deployed_statuses", "failure_window_hours"}`.
    /// Default: every kept profile.
    #[arg(long)]
    pub profile: Option<String>,
    /// First day (YYYY-MM-DD). Default: 90 days before --to.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day, included (YYYY-MM-DD). Default: today (UTC).
    #[arg(long)]
    pub to: Option<String>,
    /// week, month or quarter.
    #[arg(long, default_value = "month")]
    pub granularity: String,
    /// mean, median, p90 or p95.
    #[arg(long, default_value = "median")]
    pub aggregation: String,
    /// Print the answer as JSON, for scripts, instead of text.
    #[arg(long)]
    pub json: bool,
}

pub async fn dora(store_args: &StoreArgs, args: &DoraArgs) -> anyhow::Result<()> {
    let asked = Asked {
        from: args.from.as_deref(),
        to: args.to.as_deref(),
        granularity: Some(&args.granularity),
        aggregation: Some(&args.aggregation),
    };
    let request = ReportDays::parse(&asked, chrono::Utc::now().date_naive())
        .map_err(|e| anyhow::anyhow!("--{}: {}", e.name, e.message))?;
    let store = open_existing(store_args)?;
    let record = local_record(&store, store_args).await?;
    let Some(named) = args.profile.as_deref() else {
        return every_kept(&store, &record, &request, args.json).await;
    };
    let (profile, profile_id) = profile_of(&store, &record.id, named).await?;
    warn_unseen(&store, &record.id, &profile, &format!("--profile {named}")).await?;
    let query = request.query(profile.failure_window_hours);
    let report = report_from_store(&store, &record.id, &record.custom_fields, &profile, &query)
        .await
        .map_err(|e| anyhow::anyhow!("--profile {named}: {e}"))?;
    let document = Document {
        profile: profile.name.trim().to_string(),
        profile_id,
        request,
        recomputing: false,
        metrics: report,
        thresholds: THRESHOLDS,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&document)?);
    } else {
        print_summary(&document);
    }
    Ok(())
}

/// The report under each kept profile, as the report page shows them (JSON: a list).
async fn every_kept(
    store: &EmbeddedStore,
    record: &IntegrationRecord,
    request: &ReportDays,
    json: bool,
) -> anyhow::Result<()> {
    let documents = reports_of_kept(store, record, request, ReadLimit::Every).await?;
    if documents.is_empty() {
        bail!(
            "--profile: none given, and the store keeps none; pass --profile FILE, or keep one \
             with `sei-jira dora profile add FILE`"
        );
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&documents)?);
    }
    for (i, document) in documents.iter().enumerate().filter(|_| !json) {
        if i > 0 {
            println!();
        }
        print_summary(document);
    }
    Ok(())
}

/// The profile `--profile` names: a file, or else a kept profile (with its id).
async fn profile_of(
    store: &EmbeddedStore,
    integration: &str,
    named: &str,
) -> anyhow::Result<(DoraProfile, Option<String>)> {
    let path = std::path::Path::new(named);
    if path.is_file() {
        return Ok((read_file(path, "--profile")?, None));
    }
    let config = store
        .get_dora_config(integration)
        .await?
        .unwrap_or_default();
    match config
        .id_of(named)
        .and_then(|id| Some((config.get(id)?.clone(), id.to_string())))
    {
        Some((profile, id)) => Ok((profile, Some(id))),
        None => bail!(
            "--profile {named}: no such file, nor a kept profile's id or name; kept: {}",
            kept_list(&config)
        ),
    }
}

#[derive(clap::Subcommand, Debug, Clone)]
pub enum DoraAction {
    /// Keep, list and remove the integration's DORA profiles.
    Profile {
        #[command(subcommand)]
        action: ProfileAction,
    },
}

/// The demo's profile: issues of type Incident are incidents, of type Change change requests,
/// and the Done status category means restored and deployed (the defaults).
pub fn demo_profile() -> DoraProfile {
    let of_type = |kind: &str| IssueFilter {
        sets: vec![FilterSet {
            conditions: vec![Condition {
                field: "issue type".into(),
                operator: Operator::Equals,
                values: vec![kind.into()],
            }],
        }],
        join: Join::Or,
    };
    DoraProfile {
        name: "Incidents and changes by issue type".into(),
        incidents: of_type("Incident"),
        changes: of_type("Change"),
        restored_statuses: Vec::new(),
        deployed_statuses: Vec::new(),
        failure_window_hours: DEFAULT_WINDOW_HOURS,
    }
}

fn hours(h: Option<f64>) -> String {
    h.map_or("no data".into(), words::duration)
}

pub fn print_summary(d: &Document) {
    let r = &d.metrics;
    println!(
        "DORA, profile {}, {} to {} ({}):",
        d.profile,
        d.request.from,
        d.request.to,
        format!("{:?}", d.request.aggregation).to_lowercase()
    );
    let restore = &r.time_to_restore;
    println!(
        "  {:<22} {:>10}  {} restored, {} open  {}",
        "time to restore",
        hours(restore.hours),
        restore.sample,
        r.incidents.len() - restore.sample,
        words::band(restore.band, restore.sample)
    );
    println!(
        "  {:<22} {:>10}  {} changes  {}",
        "lead time",
        hours(r.lead_time.hours),
        r.lead_time.sample,
        words::band(r.lead_time.band, r.lead_time.sample)
    );
    let cfr = &r.change_failure_rate;
    let by_link = cfr
        .failures
        .iter()
        .filter(|f| f.rule == sei_jira_core::dora::Rule::Link)
        .count();
    println!(
        "  {:<22} {:>10}  {} of {} deployed changes ({} pairs by link, {} by window)  {}",
        "change failure rate",
        cfr.rate
            .map_or("no data".into(), |r| format!("{:.0} %", r * 100.0)),
        cfr.failed,
        cfr.deployed,
        by_link,
        cfr.failures.len() - by_link,
        words::band(cfr.band, cfr.deployed)
    );
    if let Some(ratio) = cfr.period_ratio {
        println!(
            "  {:<22} {:>10.2}  {} incidents / {} deployments (the period ratio)",
            "", ratio, cfr.incidents, cfr.deployed
        );
    }
    let df = &r.deployment_frequency;
    println!(
        "  {:<22} {:>10}  {} deployments, {} versions released  {}",
        "deployment frequency",
        df.per_day
            .map_or("no data".into(), |d| format!("{d:.2}/day")),
        df.deployments,
        df.releases,
        words::band(df.band, df.deployments)
    );
}
