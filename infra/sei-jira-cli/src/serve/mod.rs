//! `sei-jira serve`: the product on one machine. The same routers the Lambda functions run are
//! mounted on a local listener over the embedded store; the events the bus carries and the
//! schedules run in-process ([`bus`]); tokens are kept in a file only the user reads
//! ([`secrets`]), never in the store. Requests carry the bearer token printed at start.

mod bus;
mod console;
mod demo;
mod secrets;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use sei_jira_core::integrations::ApiSettings;
use sei_jira_core::jira::{PrivateNetworks, RetryPolicy};
use sei_jira_core::ports::SyncScheduler;
use sei_jira_core::store::IntegrationStore;
use sei_jira_core::sync::stall::StallPolicy;
use sei_jira_core::validation::ValidationSettings;
use sei_jira_lambda::http_api::ISSUES_PER_REQUEST;
use sei_jira_lambda::metrics::Unrecorded;
use sei_jira_lambda::routes::behind_bearer;

use bus::{Bus, Consumers};
use console::Console;
use secrets::SecretsFile;
use sei_jira_core::sync::progress::Board;

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// The embedded store file; the tokens go beside it, in `<store>.secrets.json` (0600).
    #[arg(long, default_value = ".sei-jira/store.redb")]
    pub store: PathBuf,
    /// Where to listen: a loopback address (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The account (tenant) every request is made for.
    #[arg(long, default_value = "local")]
    pub account: String,
    /// Allow Jira sites on private and loopback addresses (a Data Center on this network, the
    /// simulator).
    #[arg(long)]
    pub allow_private_network: bool,
    /// Start the Jira simulator too, with an integration of it created and syncing: a product to
    /// click through at once. Uses a fresh temporary store instead of --store.
    #[arg(long)]
    pub demo: bool,
    /// With --demo: issues in the simulated site.
    #[arg(long, default_value_t = 5_000, requires = "demo")]
    pub demo_issues: usize,
}

/// Serves until stopped. The first line printed is JSON: the address and the bearer token.
pub async fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    if !args.addr.ip().is_loopback() {
        bail!(
            "--addr: {} is not a loopback address; the local server answers this machine only",
            args.addr
        );
    }
    let demo_store = args.demo.then(demo::store_dir).transpose()?;
    let store_path = match &demo_store {
        Some(dir) => dir.path().join("store.redb"),
        None => args.store.clone(),
    };
    let store = crate::store_file::open(&store_path, "--store")?;
    let (bus, received) = Bus::new();
    let mut validation = ValidationSettings::default();
    if args.allow_private_network || args.demo {
        validation.private_networks = PrivateNetworks::local();
    }
    let secrets = SecretsFile::new(secrets_path(&store_path));
    let board = Arc::new(Board::default());
    let api = Arc::new(validate_credentials::App {
        store: Box::new(store.clone()),
        secrets: Box::new(secrets.clone()),
        scheduler: Box::new(bus.clone()),
        events: Box::new(bus.clone()),
        settings: ApiSettings {
            secret_prefix: "sei-jira/".into(),
            default_schedule_rate: "rate(1 hour)".into(),
            min_schedule_minutes: 15,
            max_integrations: 100,
            validations_per_minute: 30,
            validation: validation.clone(),
        },
    });
    let sync = Arc::new(sync_project::App {
        store: Box::new(store.clone()),
        secrets: Box::new(secrets),
        events: Box::new(bus.clone()),
        retries: Box::new(bus.clone()),
        stall: StallPolicy::default(),
        validation,
        retry: RetryPolicy::default(),
        answer_budget: sei_jira_core::jira::DEFAULT_ANSWER_BUDGET,
        metrics: Box::new(Unrecorded),
        board: Some(board.clone()),
    });
    let hygiene = Arc::new(score_hygiene::App {
        store: Box::new(store.clone()),
        events: Box::new(bus.clone()),
        issues_per_request: ISSUES_PER_REQUEST,
        metrics: Box::new(Unrecorded),
        stale_after: score_hygiene::DEFAULT_STALE_AFTER,
    });
    let dora = Arc::new(dora_metrics::App {
        store: Box::new(store.clone()),
        events: Box::new(bus.clone()),
        issues_per_request: ISSUES_PER_REQUEST,
    });
    let monitoring = Arc::new(monitoring_query::App {
        store: Box::new(store.clone()),
        issues_per_request: ISSUES_PER_REQUEST,
    });
    for record in store.list_integrations(&args.account).await? {
        bus.upsert_schedule(&args.account, &record.id, &record.schedule_rate)
            .await?;
    }
    tokio::spawn(bus::deliver(
        received,
        Consumers {
            sync,
            hygiene: hygiene.clone(),
        },
    ));
    let routes = Router::new()
        .merge(validate_credentials::router(api))
        .merge(monitoring_query::router(monitoring))
        .merge(score_hygiene::router(hygiene))
        .merge(dora_metrics::router(dora));
    let token = new_token();
    let api = behind_bearer(routes, &token, &args.account);
    let (console, code) = Console::new(console::Api::new(api.clone(), &token), store, board);
    let _demo = match demo_store {
        Some(dir) => Some(
            demo::start(
                &console::Api::new(api.clone(), &token),
                args.demo_issues,
                dir,
            )
            .await?,
        ),
        None => None,
    };
    let app = console::router(Arc::new(console)).merge(api);
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("--addr {}", args.addr))?;
    let url = format!("http://{}", listener.local_addr()?);
    let console_link = format!("{url}{}", console::login_path(&code));
    println!(
        "{}",
        serde_json::json!({"url": url, "token": token, "account": args.account, "console": console_link})
    );
    eprintln!(
        "sei-jira serve: the API at {url} for account '{}' (send `Authorization: Bearer <token>`, \
         the token above); the console at {console_link} (the link works once). Ctrl-C stops it.",
        args.account
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    // Syncs in flight stop with the process; each resumes from its checkpoints at the next run.
    Ok(())
}

fn secrets_path(store: &std::path::Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".secrets.json");
    PathBuf::from(name)
}

/// 256 random bits, hex: the bearer token of this run.
pub(crate) fn new_token() -> String {
    rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
