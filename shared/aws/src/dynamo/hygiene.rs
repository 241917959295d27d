//! The hygiene role of the DynamoDB store: one settings item per integration (its `version`
//! attribute guards concurrent changes), one snapshot item per day, and the partition of
//! snapshot targets.

use super::*;

/// The settings item's version, beside its body, for the write condition.
const VERSION: &str = "version";

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
        let Some(expected) = config.version.checked_sub(1) else {
            return Ok(false);
        };
        let mut item = body_item(
            keys::hygiene(integration),
            keys::HYGIENE_CONFIG.into(),
            config,
        )?;
        item.insert(VERSION.into(), number_value(config.version));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .expression_attribute_values(":expected", number_value(expected));
        let put = if expected == 0 {
            put.condition_expression("attribute_not_exists(pk) OR version = :expected")
        } else {
            put.condition_expression("version = :expected")
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failure(&e) => Ok(false),
            Err(e) => Err(backend("PutItem")(e)),
        }
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

    async fn snapshot_targets(&self) -> StoreResult<Vec<(String, String)>> {
        self.query_all(keys::SNAPSHOT_TARGETS, SortRange::All, false)
            .await?
            .iter()
            .map(|item| Ok((from_body_item(item)?, string(item, SK)?.to_string())))
            .collect()
    }
}
