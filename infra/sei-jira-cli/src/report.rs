//! `sei-jira report`: the integration's monitoring, hygiene and DORA figures as one
//! self-contained HTML page.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sei_jira_core::monitoring::Range;
use sei_jira_core::report::{gather, html};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{IntegrationRecord, ReadLimit};

use crate::StoreArgs;
use crate::hygiene::local_record;
use crate::store_file::open_existing;

#[derive(clap::Args, Debug, Clone)]
pub struct ReportArgs {
    /// The monitoring window: 7d or 30d.
    #[arg(long, default_value = "7d")]
    pub range: String,
    /// The HTML file to write.
    #[arg(long, default_value = "report.html")]
    pub out: PathBuf,
}

pub async fn report(store_args: &StoreArgs, args: &ReportArgs) -> anyhow::Result<()> {
    let range = Range::parse(&args.range).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let store = open_existing(store_args)?;
    let record = local_record(&store, store_args).await?;
    write(&store, &record, range, &args.out).await?;
    println!(
        "Report of {} written to {}",
        record.name,
        args.out.display()
    );
    Ok(())
}

/// Gathers the page now and writes it to `out`.
pub async fn write(
    store: &EmbeddedStore,
    record: &IntegrationRecord,
    range: Range,
    out: &Path,
) -> anyhow::Result<()> {
    let page = gather(store, record, range, chrono::Utc::now(), ReadLimit::Every).await?;
    std::fs::write(out, html::render(&page)).with_context(|| format!("--out {}", out.display()))
}
