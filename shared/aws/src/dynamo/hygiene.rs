//! The hygiene role of the DynamoDB store: one settings item per integration (kept with
//! `put_versioned`), one snapshot item per day, and the partition of
//! snapshot targets.

use async_trait::async_trait;
use chrono::NaiveDate;

use super::codec::{from_body_item, s, string};
use super::failures::backend;
use super::{DynamoStore, PK, SK, SortRange, keys};
use sei_jira_core::hygiene::{HygieneConfig, Snapshot};
use sei_jira_core::store::{HygieneStore, StoreResult};

#[async_trait]
impl HygieneStore for DynamoStore {
    async fn get_hygiene_config(&self, integration: &str) -> StoreResult<Option<HygieneConfig>> {
        self.get_body(keys::hygiene(integration), keys::HYGIENE_CONFIG.into())
            .await
    }

    async fn put_hygiene_config(
        &self,
        integration: &str,
        config: &HygieneConfig,
    ) -> StoreResult<bool> {
        self.put_versioned(
            keys::hygiene(integration),
            keys::HYGIENE_CONFIG.into(),
            config,
            config.version,
        )
        .await
    }

    async fn put_snapshot(
        &self,
        account: &str,
        integration: &str,
        snapshot: &Snapshot,
    ) -> StoreResult<()> {
        self.put_body(
            keys::snapshots(integration),
            snapshot.day().to_string(),
            snapshot,
        )
        .await?;
        self.put_body(
            keys::SNAPSHOT_TARGETS.into(),
            integration.to_string(),
            &account,
        )
        .await
    }

    async fn list_snapshots(
        &self,
        integration: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Snapshot>> {
        let range = SortRange::Between(from.to_string(), to.to_string());
        self.query_all(&keys::snapshots(integration), range, false)
            .await?
            .iter()
            .map(from_body_item)
            .collect()
    }

    async fn withdraw_snapshot_target(&self, integration: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(keys::SNAPSHOT_TARGETS))
            .key(SK, s(integration))
            .send()
            .await
            .map_err(backend("DeleteItem"))?;
        Ok(())
    }

    async fn snapshot_targets(&self) -> StoreResult<Vec<(String, String)>> {
        self.query_all(keys::SNAPSHOT_TARGETS, SortRange::All, false)
            .await?
            .iter()
            .map(|item| Ok((from_body_item(item)?, string(item, SK)?.to_string())))
            .collect()
    }
}
