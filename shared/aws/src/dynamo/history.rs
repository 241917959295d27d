//! The history role of the DynamoDB store: one partition per integration holding the build's
//! item, a running build's sums (one item per instant) and the points kept (one per day).

use async_trait::async_trait;
use chrono::NaiveDate;

use super::codec::{body_item, delete_request, from_body_item, put_request, string};
use super::{DynamoStore, SK, SortRange, keys};
use sei_jira_core::hygiene::Snapshot;
use sei_jira_core::hygiene::history::{HistoryBuild, Sum};
use sei_jira_core::store::{HistoryStore, StoreError, StoreResult};

#[async_trait]
impl HistoryStore for DynamoStore {
    async fn get_history_build(&self, integration: &str) -> StoreResult<Option<HistoryBuild>> {
        self.get_body(keys::history(integration), keys::HISTORY_BUILD.into())
            .await
    }

    async fn put_history_build(&self, integration: &str, build: &HistoryBuild) -> StoreResult<()> {
        self.put_body(
            keys::history(integration),
            keys::HISTORY_BUILD.into(),
            build,
        )
        .await
    }

    async fn history_sums(&self, integration: &str) -> StoreResult<Vec<(usize, Sum)>> {
        let range = SortRange::BeginsWith(keys::HISTORY_SUM.into());
        self.query_all(&keys::history(integration), range, true)
            .await?
            .iter()
            .map(|item| {
                let sort = string(item, SK)?;
                let position = sort[keys::HISTORY_SUM.len()..]
                    .parse()
                    .map_err(|e| StoreError::Backend(format!("history sum {sort}: {e}")))?;
                Ok((position, from_body_item(item)?))
            })
            .collect()
    }

    async fn put_history_sums(&self, integration: &str, sums: &[(usize, Sum)]) -> StoreResult<()> {
        let puts = sums
            .iter()
            .map(|(n, sum)| {
                put_request(body_item(
                    keys::history(integration),
                    keys::history_sum(*n),
                    sum,
                )?)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        self.write_all(puts).await
    }

    async fn clear_history_sums(&self, integration: &str) -> StoreResult<()> {
        let range = SortRange::BeginsWith(keys::HISTORY_SUM.into());
        let deletes = self
            .query_keys(&keys::history(integration), range)
            .await?
            .into_iter()
            .map(delete_request)
            .collect::<StoreResult<Vec<_>>>()?;
        self.write_all(deletes).await
    }

    async fn put_history_points(&self, integration: &str, points: &[Snapshot]) -> StoreResult<()> {
        let puts = points
            .iter()
            .map(|p| {
                put_request(body_item(
                    keys::history(integration),
                    keys::history_point(p.day()),
                    p,
                )?)
            })
            .collect::<StoreResult<Vec<_>>>()?;
        self.write_all(puts).await
    }

    async fn list_history_points(
        &self,
        integration: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Snapshot>> {
        let range = SortRange::Between(keys::history_point(from), keys::history_point(to));
        self.query_all(&keys::history(integration), range, false)
            .await?
            .iter()
            .map(from_body_item)
            .collect()
    }
}
