//! The history role of the embedded store: one table keyed under the integration's id (see
//! [`super::HISTORY`]); positions and days are written so that keys sort in their order.

use async_trait::async_trait;
use chrono::NaiveDate;

use super::{EmbeddedStore, HISTORY, backend, check_integration_id, remove_prefixed};
use crate::hygiene::Snapshot;
use crate::hygiene::history::{HistoryBuild, Sum};
use crate::store::{HistoryStore, StoreResult};

fn sum_key(integration: &str, position: usize) -> String {
    format!("{integration}/sum/{position:06}")
}

fn point_key(integration: &str, day: NaiveDate) -> String {
    format!("{integration}/point/{day}")
}

#[async_trait]
impl HistoryStore for EmbeddedStore {
    async fn get_history_build(&self, integration: &str) -> StoreResult<Option<HistoryBuild>> {
        self.get(HISTORY, &format!("{integration}/build"))
    }

    async fn put_history_build(&self, integration: &str, build: &HistoryBuild) -> StoreResult<()> {
        check_integration_id(integration)?;
        self.put_all(HISTORY, &[(format!("{integration}/build"), build)])
    }

    async fn history_sums(&self, integration: &str) -> StoreResult<Vec<(usize, Sum)>> {
        let prefix = format!("{integration}/sum/");
        self.scan(HISTORY, &prefix, None, usize::MAX)?
            .into_iter()
            .map(|(key, sum): (String, Sum)| {
                let position = key[prefix.len()..].parse().map_err(backend)?;
                Ok((position, sum))
            })
            .collect()
    }

    async fn put_history_sums(&self, integration: &str, sums: &[(usize, Sum)]) -> StoreResult<()> {
        check_integration_id(integration)?;
        let items: Vec<(String, &Sum)> = sums
            .iter()
            .map(|(n, sum)| (sum_key(integration, *n), sum))
            .collect();
        self.put_all(HISTORY, &items)
    }

    async fn clear_history_sums(&self, integration: &str) -> StoreResult<()> {
        check_integration_id(integration)?;
        let tx = self.db.begin_write().map_err(backend)?;
        remove_prefixed(&tx, HISTORY, &format!("{integration}/sum/"))?;
        tx.commit().map_err(backend)
    }

    async fn put_history_points(&self, integration: &str, points: &[Snapshot]) -> StoreResult<()> {
        check_integration_id(integration)?;
        let items: Vec<(String, &Snapshot)> = points
            .iter()
            .map(|p| (point_key(integration, p.day()), p))
            .collect();
        self.put_all(HISTORY, &items)
    }

    async fn list_history_points(
        &self,
        integration: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Snapshot>> {
        self.snapshots_between(HISTORY, &format!("{integration}/point/"), from, to)
    }
}
