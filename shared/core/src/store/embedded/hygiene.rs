//! The hygiene role of the embedded store: settings, daily snapshots and snapshot targets, each
//! table keyed under the integration's id so that deleting the integration clears them.

use async_trait::async_trait;
use chrono::NaiveDate;

use super::{EmbeddedStore, HYGIENE, SNAPSHOTS, TARGETS, Table, backend, check_integration_id};
use crate::hygiene::{HygieneConfig, Snapshot};
use crate::store::{HygieneStore, StoreResult};

#[async_trait]
impl HygieneStore for EmbeddedStore {
    async fn get_hygiene_config(&self, integration: &str) -> StoreResult<Option<HygieneConfig>> {
        self.get(HYGIENE, &format!("{integration}/config"))
    }

    async fn put_hygiene_config(
        &self,
        integration: &str,
        config: &HygieneConfig,
    ) -> StoreResult<bool> {
        let expected = config.version.checked_sub(1);
        self.update(
            HYGIENE,
            &format!("{integration}/config"),
            |current: Option<HygieneConfig>| {
                let stored = current.map_or(0, |c| c.version);
                (Some(stored) == expected).then(|| config.clone())
            },
        )
    }

    async fn put_snapshot(
        &self,
        account: &str,
        integration: &str,
        snapshot: &Snapshot,
    ) -> StoreResult<()> {
        check_integration_id(integration)?;
        self.put_all(
            SNAPSHOTS,
            &[(format!("{integration}/{}", snapshot.day()), snapshot)],
        )?;
        self.put_all(TARGETS, &[(format!("{integration}/"), account)])
    }

    async fn list_snapshots(
        &self,
        integration: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Snapshot>> {
        self.snapshots_between(SNAPSHOTS, &format!("{integration}/"), from, to)
    }

    async fn snapshot_targets(&self) -> StoreResult<Vec<(String, String)>> {
        Ok(self
            .scan(TARGETS, "", None, usize::MAX)?
            .into_iter()
            .map(|(key, account): (String, String)| {
                (account, key.trim_end_matches('/').to_string())
            })
            .collect())
    }

    async fn withdraw_snapshot_target(&self, integration: &str) -> StoreResult<()> {
        let tx = self.db.begin_write().map_err(backend)?;
        tx.open_table(TARGETS)
            .map_err(backend)?
            .remove(format!("{integration}/").as_str())
            .map_err(backend)?;
        tx.commit().map_err(backend)
    }
}

impl EmbeddedStore {
    /// The snapshots of `table` keyed `{prefix}{day}`, of the days from `from` to `to`, oldest
    /// first.
    pub(super) fn snapshots_between(
        &self,
        table: Table,
        prefix: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Snapshot>> {
        let after = from.pred_opt().map(|d| format!("{prefix}{d}"));
        Ok(self
            .scan(table, prefix, after.as_deref(), usize::MAX)?
            .into_iter()
            .map(|(_, s): (String, Snapshot)| s)
            .take_while(|s| s.day() <= to)
            .filter(|s| s.day() >= from)
            .collect())
    }
}
