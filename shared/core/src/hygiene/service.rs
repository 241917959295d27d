//! The hygiene operations of one integration, as the `score-hygiene` function and the CLI run
//! them: the request its stored settings imply, changes to those settings (checked whole, kept
//! only over the version they were made from), and the daily snapshot.

use super::config::{ConfigError, HygieneConfig};
use super::criteria::Catalog;
use super::query::snapshot_from_store;
use super::request::HygieneError;
use super::rules::Settings;
use super::scope::{IntegrationHygiene, catalog_of};
use super::snapshot::Snapshot;
use crate::ports::{EventPublisher, IntegrationRef, SyncEvent};
use crate::store::{
    DeletionFence, HygieneIndexStore, HygieneStore, IntegrationRecord, IssueStore, RecordStore,
    StoreError,
};

/// How often a change is made again over a newer version before giving up.
const CHANGE_ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the hygiene settings kept changing under this change; try again")]
    Contended,
}

/// Applies `change` to the integration's settings and keeps the result, unless another change
/// was kept in between: then it is made again over that one. A refused change keeps nothing.
pub async fn change_config<S, T>(
    store: &S,
    record: &IntegrationRecord,
    mut change: impl FnMut(&mut HygieneConfig, &Catalog) -> Result<T, ConfigError>,
) -> Result<(T, HygieneConfig), ChangeError>
where
    S: HygieneStore + RecordStore + ?Sized,
{
    let catalog = catalog_of(store, &record.id, &record.custom_fields).await?;
    for _ in 0..CHANGE_ATTEMPTS {
        let mut config = store
            .get_hygiene_config(&record.id)
            .await?
            .unwrap_or_default();
        let out = change(&mut config, &catalog)?;
        if store.put_hygiene_config(&record.id, &config).await? {
            return Ok((out, config));
        }
    }
    Err(ChangeError::Contended)
}

/// Counts every ticket of the integration at `at_ms` with the default thresholds and its kept
/// settings, and keeps the counts as that day's snapshot. A deletion of the integration that
/// began meanwhile either removed the snapshot or left its tombstone, found here after the put:
/// then the snapshot (and its place on the daily list) is swept with the rest.
pub async fn take_snapshot<S>(
    store: &S,
    record: &IntegrationRecord,
    at_ms: i64,
) -> Result<Snapshot, HygieneError>
where
    S: IssueStore + RecordStore + HygieneStore + HygieneIndexStore + DeletionFence + ?Sized,
{
    let scope = IntegrationHygiene::load(store, record).await?;
    let request = scope.request(Settings::default(), at_ms);
    let snapshot = snapshot_from_store(store, &record.id, &request).await?;
    store
        .put_snapshot(&record.account, &record.id, &snapshot)
        .await?;
    if store.integration_deleted(&record.id).await? {
        store.sweep_deleted(&record.id).await?;
        return Err(HygieneError::IntegrationDeleted);
    }
    Ok(snapshot)
}

/// Asks (on the bus) for the integration's hygiene index to be brought up to date: after its
/// criteria changed, or an issue was flagged by hand. Should the bus refuse, the next completed
/// sync does it; reports are right meanwhile, only slower.
pub async fn request_index(events: &dyn EventPublisher, account: &str, integration: &str) {
    let event = SyncEvent::HygieneIndex(IntegrationRef {
        account_id: account.to_string(),
        integration_id: integration.to_string(),
    });
    if let Err(e) = events.publish(&event).await {
        tracing::warn!(integration, error = %e, "could not ask for the hygiene index to be brought up to date");
    }
}
