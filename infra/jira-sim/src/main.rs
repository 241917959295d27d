//! `jira-sim`: serves a simulated Jira site until interrupted. Prints one JSON line on start:
//! `{"base_url": ..., "users": [{"email", "token", "kind", "time_zone", ...}], ...}`.

use std::net::SocketAddr;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Parser;
use jira_sim::{DatasetConfig, Mode, Settings, SimConfig};

#[derive(Parser, Debug)]
#[command(
    name = "jira-sim",
    version,
    about = "A Jira Cloud / Data Center REST API simulator"
)]
struct Args {
    /// Address to listen on (loopback only unless you mean otherwise).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Number of projects.
    #[arg(long, default_value_t = 5)]
    projects: usize,
    /// Total number of issues across all projects.
    #[arg(long, default_value_t = 2_000)]
    issues: usize,
    /// Seed of the generated dataset (same seed and anchor, same site).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// "Now" of the generated history, RFC 3339 (default: the current time).
    #[arg(long)]
    anchor: Option<DateTime<Utc>>,
    /// Story point values in the company-managed "Story Points" field instead of the
    /// team-managed "Story point estimate" (the site has both).
    #[arg(long)]
    classic_story_points: bool,
    /// Add an operations history: change requests deployed a few times a week over the last
    /// four months, incidents (some caused by them) restored within hours (the demo's site).
    #[arg(long)]
    operations: bool,
    /// The least time every request takes, in milliseconds (the time spent answering it included).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Extra random latency of up to this many milliseconds.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Requests per second before answering 429 (0 = unlimited).
    #[arg(long, default_value_t = 0)]
    rate_limit_rps: u32,
    /// Probability (0..1) of an injected fault per request: a 5xx or a dropped connection.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Share of injected faults that drop the connection rather than answer 5xx.
    #[arg(long, default_value_t = 0.25)]
    drop_share: f64,
    /// Simulated eventual consistency: issues edited within this many ms are missing from search.
    #[arg(long, default_value_t = 0)]
    consistency_lag_ms: u64,
    /// Which product to imitate.
    #[arg(long, value_enum, default_value = "cloud")]
    mode: Mode,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !(0.0..=1.0).contains(&args.fault_rate) {
        anyhow::bail!(
            "--fault-rate must be between 0 and 1, got {}",
            args.fault_rate
        );
    }
    if !(0.0..=1.0).contains(&args.drop_share) {
        anyhow::bail!(
            "--drop-share must be between 0 and 1, got {}",
            args.drop_share
        );
    }
    let config = SimConfig {
        dataset: DatasetConfig {
            projects: args.projects,
            issues: args.issues,
            seed: args.seed,
            mode: args.mode,
            anchor: args.anchor.unwrap_or_else(Utc::now),
            classic_story_points: args.classic_story_points,
            operations: args.operations,
        },
        settings: Settings {
            latency_ms: args.latency_ms,
            jitter_ms: args.jitter_ms,
            rate_limit_rps: args.rate_limit_rps,
            fault_rate: args.fault_rate,
            drop_share: args.drop_share,
            consistency_lag_ms: args.consistency_lag_ms,
            ..Settings::default()
        },
        addr: args.addr,
    };
    let sim = jira_sim::start(config)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    println!("{}", jira_sim::describe(&sim));
    tokio::signal::ctrl_c().await?;
    sim.stop().await;
    Ok(())
}
