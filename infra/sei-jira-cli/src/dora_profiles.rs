//! `sei-jira dora profile add|list|remove`: the DORA profiles kept with an integration (as the
//! API keeps them), which the report page shows and `sei-jira dora --profile` reads by id or name.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sei_jira_core::dora::service::{ChangeError, change_profiles, unseen_values};
use sei_jira_core::dora::{DoraConfig, DoraProfile};
use sei_jira_core::store::DoraStore;
use sei_jira_core::store::embedded::EmbeddedStore;

use crate::StoreArgs;
use crate::commands::refresh_index;
use crate::hygiene::local_record;
use crate::store_file::open_existing;

#[derive(clap::Subcommand, Debug, Clone)]
pub enum ProfileAction {
    /// Keep a profile (a JSON file, as `dora --profile` reads), checked against the site's
    /// statuses, types and fields; the report page then shows it.
    #[command(after_help = "Examples:\n  sei-jira dora profile add incidents.json")]
    Add {
        /// The profile file.
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The kept profiles: id and name.
    #[command(
        after_help = "Examples:\n  sei-jira dora profile list\n  sei-jira dora profile list --json"
    )]
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Print the answer as JSON, for scripts, instead of text: the kept profiles whole.
        #[arg(long)]
        json: bool,
    },
    /// Stop keeping a profile.
    #[command(
        after_help = "Examples:\n  sei-jira dora profile remove p2\n  sei-jira dora profile remove 'Incidents and changes'"
    )]
    Remove {
        /// Its id or name.
        profile: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn act(action: &ProfileAction) -> anyhow::Result<()> {
    match action {
        ProfileAction::Add { file, store } => add(store, file).await,
        ProfileAction::List { store, json } => list(store, *json).await,
        ProfileAction::Remove { profile, store } => remove(store, profile).await,
    }
}

/// A profile file's content, named by `flag` in its errors.
pub fn read_file(path: &Path, flag: &str) -> anyhow::Result<DoraProfile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("{flag} {}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{flag} {}: {e}", path.display()))
}

/// The kept profiles as a person reads them in an error: `p1 'Name', p2 'Other'`.
pub fn kept_list(config: &DoraConfig) -> String {
    match config.profiles.as_slice() {
        [] => "none is kept (add one with `sei-jira dora profile add FILE`)".into(),
        kept => kept
            .iter()
            .map(|p| format!("{} '{}'", p.id, p.item.name.trim()))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// On stderr, the values `profile` (named `source`) names that no stored ticket holds.
pub async fn warn_unseen(
    store: &EmbeddedStore,
    integration: &str,
    profile: &DoraProfile,
    source: &str,
) -> anyhow::Result<()> {
    for u in unseen_values(store, integration, profile).await? {
        eprintln!("warning: {source}: {}: {}", u.parameter, u.message);
    }
    Ok(())
}

async fn add(store_args: &StoreArgs, file: &Path) -> anyhow::Result<()> {
    let profile = read_file(file, "profile file")?;
    let store = open_existing(store_args)?;
    let record = local_record(&store, store_args).await?;
    warn_unseen(&store, &record.id, &profile, &file.display().to_string()).await?;
    let (id, _) = change_profiles(&store, &record, |config, catalog| {
        config.add(profile.clone(), catalog)
    })
    .await
    .map_err(|e| refused(e, file))?;
    refresh_index(&store, &record).await?;
    println!(
        "Kept DORA profile '{}' as {id}: `sei-jira report` shows it, `sei-jira dora --profile {id}` reports it",
        profile.name.trim()
    );
    Ok(())
}

async fn list(store_args: &StoreArgs, json: bool) -> anyhow::Result<()> {
    let store = open_existing(store_args)?;
    let record = local_record(&store, store_args).await?;
    let config = store.get_dora_config(&record.id).await?.unwrap_or_default();
    if json {
        let profiles: Vec<serde_json::Value> = config
            .profiles
            .iter()
            .map(|p| serde_json::json!({"id": p.id, "profile": p.item}))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "profiles": profiles }))?
        );
        return Ok(());
    }
    if config.profiles.is_empty() {
        println!("No DORA profile is kept (add one with `sei-jira dora profile add FILE`).");
    }
    for p in &config.profiles {
        println!("  {:<4} {}", p.id, p.item.name.trim());
    }
    Ok(())
}

async fn remove(store_args: &StoreArgs, wanted: &str) -> anyhow::Result<()> {
    let store = open_existing(store_args)?;
    let record = local_record(&store, store_args).await?;
    let config = store.get_dora_config(&record.id).await?.unwrap_or_default();
    let Some(id) = config.id_of(wanted).map(str::to_string) else {
        bail!(
            "{wanted}: no kept DORA profile has this id or name; {}",
            kept_list(&config)
        );
    };
    change_profiles(&store, &record, |config, _| config.remove(&id))
        .await
        .context("the kept DORA profiles")?;
    refresh_index(&store, &record).await?;
    println!("Removed DORA profile {id}");
    Ok(())
}

/// A change the profiles refused, as a person reads it.
fn refused(e: ChangeError, file: &Path) -> anyhow::Error {
    match e {
        ChangeError::Profile(e) => anyhow::anyhow!("{}: {e}", file.display()),
        other => other.into(),
    }
}
