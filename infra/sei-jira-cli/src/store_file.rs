//! Opening the embedded store file, with what a person needs to hear when it cannot be opened.

use std::path::Path;

use anyhow::bail;
use sei_jira_core::store::StoreError;
use sei_jira_core::store::embedded::EmbeddedStore;

use crate::StoreArgs;

/// Opens (or creates) the store at `path`, named by the flag `flag` in any error.
pub(crate) fn open(path: &Path, flag: &str) -> anyhow::Result<EmbeddedStore> {
    match EmbeddedStore::open(path) {
        Ok(store) => Ok(store),
        // One process at a time holds the file: the other is most likely a sync writing it.
        Err(StoreError::InUse(_)) => bail!(
            "{flag} {}: another sei-jira process has this store open (a sync writing it?); try \
             again when it ends, or run `sei-jira serve`, whose API and report answer while its \
             syncs run",
            path.display()
        ),
        Err(e) => Err(anyhow::Error::new(e).context(format!("{flag} {}", path.display()))),
    }
}

/// Opens the store a command reads, which a sync must have created.
pub(crate) fn open_existing(store_args: &StoreArgs) -> anyhow::Result<EmbeddedStore> {
    if !store_args.store.exists() {
        bail!(
            "--store {}: no such store (run `sei-jira sync` first)",
            store_args.store.display()
        );
    }
    open(&store_args.store, "--store")
}
