//! `sei-jira`: the local CLI. Validates credentials, syncs Jira into the embedded store, exports
//! it as JSON Lines, hides or removes issues by hand, reports the tickets' hygiene and DORA
//! metrics, draws them as an HTML report, and runs a self-contained demo against the Jira simulator. `main` only parses and dispatches; the work lives in `sei-jira-core`.

mod alongside;
mod commands;
mod completions;
mod connection;
mod demo_site;
mod dora;
mod dora_profiles;
mod history;
mod hygiene;
mod interrupt;
mod progress;
mod report;
mod serve;
mod store_file;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sei_jira_core::integrations::HandFlag;

use connection::ConnectionArgs;

#[global_allocator]
static ALLOCATOR: sei_jira_lambda::process::SyncAllocator = sei_jira_lambda::process::SyncAllocator;

#[derive(Parser, Debug)]
#[command(
    name = "sei-jira",
    version,
    about = "Jira ingestion for software-engineering insights, run locally"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Debug, Clone)]
pub struct StoreArgs {
    /// The embedded store file.
    #[arg(long, default_value = ".sei-jira/store.redb")]
    pub store: PathBuf,
    /// Integration name: separates several Jira sites in one store.
    #[arg(long, default_value = hygiene::DEFAULT_INTEGRATION)]
    pub integration: String,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ScopeArgs {
    /// Sync these projects (comma-separated keys). Default: every project the user can browse.
    #[arg(long, value_delimiter = ',', conflicts_with = "jql")]
    pub projects: Vec<String>,
    /// Sync the issues this JQL filter selects.
    #[arg(long)]
    pub jql: Option<String>,
    /// Never fetch or store these text fields: any of summary,description,comments.
    #[arg(long)]
    pub exclude: Option<String>,
    /// Custom fields to ingest besides story points, sprint and epic (names or ids, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub custom_fields: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the HTTP API on this machine over the embedded store, with the schedules and the
    /// events run in-process: the product as deployed, without AWS.
    #[command(after_help = "Examples:\n  sei-jira serve\n  sei-jira serve --store team.redb")]
    Serve(serve::ServeArgs),
    /// Check the credentials: every check named, passed or failed.
    #[command(
        after_help = "Examples:\n  sei-jira validate --url https://acme.atlassian.net --email me@acme.com --token \"$JIRA_API_TOKEN\"\n  sei-jira validate --url https://jira.acme.com --pat --token \"$JIRA_PAT\" --jql 'project = ABC'"
    )]
    Validate {
        #[command(flatten)]
        connection: ConnectionArgs,
        /// Also validate this JQL filter.
        #[arg(long)]
        jql: Option<String>,
        /// Print the answer as JSON, for scripts, instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Sync into the store: a backfill the first time, incremental afterwards.
    #[command(
        after_help = "Examples:\n  sei-jira sync --url https://acme.atlassian.net --email me@acme.com --token \"$JIRA_API_TOKEN\"\n  sei-jira sync --url https://jira.acme.com --pat --token \"$JIRA_PAT\" --projects ABC,OPS --exclude description,comments\n  sei-jira sync … --jql 'project = ABC AND type = Bug' --store team.redb --integration abc-bugs"
    )]
    Sync {
        #[command(flatten)]
        connection: ConnectionArgs,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        store: StoreArgs,
        /// Check now what is otherwise checked once a day: every project's ids for deleted
        /// issues, and the sprints and users the stored issues refer to.
        #[arg(long)]
        recheck: bool,
        /// The most the run may spend waiting on Jira (its rate limits, retries), e.g. 90s,
        /// 10m, 1h; past it the run stops, exit code 75, and the next run resumes.
        #[arg(long, default_value = "10m", value_parser = parse_duration)]
        max_wait: std::time::Duration,
        /// Print the answer as JSON, for scripts, instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write the stored issues as JSON Lines (one issue per line).
    #[command(
        after_help = "Examples:\n  sei-jira export --out issues.jsonl\n  sei-jira export --store team.redb --integration abc-bugs | head -3"
    )]
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Hide an issue (kept, excluded from metrics).
    #[command(
        after_help = "Examples:\n  sei-jira hide ABC-123\n  sei-jira hide 10042 --store team.redb"
    )]
    Hide {
        /// Issue id or key.
        issue: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Count a hidden issue in the metrics again.
    #[command(after_help = "Examples:\n  sei-jira unhide ABC-123")]
    Unhide {
        /// Issue id or key.
        issue: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove an issue's data (a tombstone keeps syncs from bringing it back).
    #[command(after_help = "Examples:\n  sei-jira remove ABC-123")]
    Remove {
        /// Issue id or key.
        issue: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The hygiene report of the stored tickets: misses per category, step scores, weights;
    /// `hygiene trend` for the score over time, `hygiene snapshot` to take one now.
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Examples:\n  sei-jira hygiene\n  sei-jira hygiene --projects ABC --weights 'Idle=20,No Assignee=10' --json\n  sei-jira hygiene --at 2026-12-01T00:00:00Z --idle-days 14\n  sei-jira hygiene trend --interval month"
    )]
    Hygiene {
        #[command(subcommand)]
        action: Option<hygiene::HygieneAction>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        args: Box<hygiene::HygieneArgs>,
    },
    /// The DORA metrics of the stored issues under a profile: time to restore, change failure
    /// rate, deployment frequency and lead time, with sample sizes and bands.
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Examples:\n  sei-jira dora\n  sei-jira dora --profile profile.json\n  sei-jira dora --profile p1 --from 2026-09-01 --to 2026-11-30 --json\n  sei-jira dora profile add profile.json"
    )]
    Dora {
        #[command(subcommand)]
        action: Option<dora::DoraAction>,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        args: dora::DoraArgs,
    },
    /// The integration's monitoring, hygiene and DORA figures as one self-contained HTML page.
    #[command(
        after_help = "Examples:\n  sei-jira report --out report.html\n  sei-jira report --range 30d --store team.redb --out team.html"
    )]
    Report {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        args: report::ReportArgs,
    },
    /// Print the shell's completion script for sei-jira (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Examples:\n  sei-jira completions bash > ~/.local/share/bash-completion/completions/sei-jira\n  sei-jira completions zsh > \"${fpath[1]}/_sei-jira\"\n  sei-jira completions fish > ~/.config/fish/completions/sei-jira.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Start a Jira simulator in-process, validate, sync and print the summary.
    #[command(
        after_help = "Examples:\n  sei-jira demo\n  sei-jira demo --issues 20000 --out demo.html"
    )]
    Demo {
        /// Issues in the simulated site.
        #[arg(long, default_value_t = 5_000)]
        issues: usize,
        /// Store file (default: a fresh temporary one).
        #[arg(long)]
        store: Option<PathBuf>,
        /// Where to write the report page (`--report`, its former name, still works).
        #[arg(
            long = "out",
            alias = "report",
            default_value = "sei-jira-demo-report.html"
        )]
        report: PathBuf,
        /// Print the answer as JSON, for scripts, instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    sei_jira_lambda::process::tune_allocator();
    let runtime = sei_jira_lambda::process::runtime_for_sync().unwrap_or_else(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        std::process::exit(1)
    });
    runtime.block_on(async_main());
}

async fn async_main() {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Export { .. } | Command::Hygiene { .. } | Command::Dora { .. }
    ) {
        end_quietly_on_a_closed_pipe();
    }
    let result = match cli.command {
        Command::Validate {
            connection,
            jql,
            json,
        } => commands::validate(&connection, jql, json).await,
        Command::Sync {
            connection,
            scope,
            store,
            recheck,
            max_wait,
            json,
        } => commands::sync(&connection, &scope, &store, recheck, max_wait, json).await,
        Command::Serve(args) => serve::serve(&args).await,
        Command::Export { store, out } => commands::export(&store, out.as_deref()).await,
        Command::Hide { issue, store } => commands::flag(&store, &issue, HandFlag::Hide).await,
        Command::Unhide { issue, store } => commands::flag(&store, &issue, HandFlag::Unhide).await,
        Command::Remove { issue, store } => commands::flag(&store, &issue, HandFlag::Remove).await,
        Command::Hygiene {
            action: None,
            store,
            args,
        } => hygiene::hygiene(&store, &args).await,
        Command::Hygiene {
            action: Some(action),
            ..
        } => hygiene::act(&action).await,
        Command::Dora {
            action: None,
            store,
            args,
        } => dora::dora(&store, &args).await,
        Command::Dora {
            action: Some(dora::DoraAction::Profile { action }),
            ..
        } => dora_profiles::act(&action).await,
        Command::Report { store, args } => report::report(&store, &args).await,
        Command::Completions { shell } => {
            completions::print(shell, &mut <Cli as clap::CommandFactory>::command())
        }
        Command::Demo {
            issues,
            store,
            report,
            json,
        } => commands::demo(issues, store, &report, json).await,
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        let code = e
            .downcast_ref::<commands::Stopped>()
            .map_or(1, commands::Stopped::exit_code);
        std::process::exit(code);
    }
}

/// A command whose reader stops early (`sei-jira export | head -1`) ends there, as `cat` does,
/// rather than panicking on the next write. Only for the commands that print what the store holds
/// and open no connection: a peer that closes a socket would end any other command the same way
/// (a TLS handshake answered in plain HTTP does).
fn end_quietly_on_a_closed_pipe() {
    // SAFETY: restores the default action of one signal before any output is written.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// A duration as people write it: a whole number and `s`, `m` or `h` (`90s`, `10m`, `1h`).
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration: write e.g. 90s, 10m or 1h"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        _ => {
            return Err(format!(
                "'{text}': the unit is s, m or h (e.g. 90s, 10m, 1h)"
            ));
        }
    };
    Ok(std::time::Duration::from_secs(
        number.saturating_mul(seconds),
    ))
}
