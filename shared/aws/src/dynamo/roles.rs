//! Every role of the DynamoDB store but issues: reference records, projects, sync state (cursors
//! and leases), the run log and daily counters, and integrations. Hygiene: `hygiene`.

use async_trait::async_trait;
use chrono::NaiveDate;
use futures_util::{StreamExt, TryStreamExt, stream};

use super::codec::{
    body_item, counter, epoch_seconds_now, from_body_item, key_item, number, number_value, s,
    string,
};
use super::codec::{delete_request, put_request};
use super::failures::{backend, is_conditional_check_failure};
use super::{
    DynamoStore, Item, PK, RUN_RETENTION_SECS, SK, SortRange, TOMBSTONE_RETENTION_SECS,
    TTL_ATTRIBUTE, WRITE_CONCURRENCY, keys,
};
use sei_jira_core::store::records::{
    Cursor, DailyCounts, IntegrationRecord, ProjectRecord, Record, RecordKind, RunRecord,
};
use sei_jira_core::store::{
    CallCounter, DeletionFence, HygieneStore, IntegrationStore, ProjectStore, RecordStore, RunLog,
    StoreError, StoreResult, SyncStateStore, last_per_key,
};

impl DynamoStore {
    /// Deletes every item of every partition of the integration.
    pub(super) async fn delete_integration_partitions(&self, integration: &str) -> StoreResult<()> {
        stream::iter(keys::all_partitions(integration))
            .map(|pk| async move {
                let keys = self.query_keys(&pk, SortRange::All).await?;
                let deletes = keys
                    .into_iter()
                    .map(delete_request)
                    .collect::<StoreResult<Vec<_>>>()?;
                self.write_all(deletes).await
            })
            .buffer_unordered(WRITE_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        self.withdraw_snapshot_target(integration).await
    }
}

#[async_trait]
impl DeletionFence for DynamoStore {
    async fn integration_deleted(&self, integration: &str) -> StoreResult<bool> {
        Ok(self
            .get_item(keys::DELETED.into(), integration.into())
            .await?
            .is_some())
    }

    async fn sweep_deleted(&self, integration: &str) -> StoreResult<bool> {
        if !self.integration_deleted(integration).await? {
            return Ok(false);
        }
        self.delete_integration_partitions(integration).await?;
        Ok(true)
    }
}

#[async_trait]
impl RecordStore for DynamoStore {
    async fn put_records(
        &self,
        integration: &str,
        kind: RecordKind,
        records: &[Record],
    ) -> StoreResult<()> {
        let pk = keys::records(integration, kind);
        let puts = last_per_key(records, |r| &r.id)
            .into_iter()
            .map(|r| put_request(body_item(pk.clone(), r.id.clone(), r)?))
            .collect::<StoreResult<Vec<_>>>()?;
        self.write_all(puts).await
    }

    async fn list_records(&self, integration: &str, kind: RecordKind) -> StoreResult<Vec<Record>> {
        self.query_all(&keys::records(integration, kind), SortRange::All, true)
            .await?
            .iter()
            .map(from_body_item)
            .collect()
    }
}

#[async_trait]
impl ProjectStore for DynamoStore {
    /// One UpdateItem: `if_not_exists` keeps the first onboarding time without a read.
    async fn put_project(&self, integration: &str, project: &ProjectRecord) -> StoreResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::projects(integration)))
            .key(SK, s(&project.key))
            .update_expression(
                "SET #id = :id, #name = :name, \
                 #onboarded = if_not_exists(#onboarded, :onboarded)",
            )
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#onboarded", "onboarded_at_ms")
            .expression_attribute_values(":id", s(&project.id))
            .expression_attribute_values(":name", s(&project.name))
            .expression_attribute_values(":onboarded", number_value(project.onboarded_at_ms))
            .send()
            .await
            .map_err(backend("UpdateItem"))?;
        Ok(())
    }

    async fn remove_project(&self, integration: &str, key: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(keys::projects(integration)))
            .key(SK, s(key))
            .send()
            .await
            .map_err(backend("DeleteItem"))?;
        Ok(())
    }

    async fn list_projects(&self, integration: &str) -> StoreResult<Vec<ProjectRecord>> {
        self.query_all(&keys::projects(integration), SortRange::All, true)
            .await?
            .iter()
            .map(|item| {
                Ok(ProjectRecord {
                    key: string(item, SK)?.to_string(),
                    id: string(item, "id")?.to_string(),
                    name: string(item, "name")?.to_string(),
                    onboarded_at_ms: number(item, "onboarded_at_ms")?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl SyncStateStore for DynamoStore {
    async fn get_cursor(&self, integration: &str, unit: &str) -> StoreResult<Option<Cursor>> {
        self.get_body(keys::cursors(integration), unit.to_string())
            .await
    }

    async fn put_cursor(&self, integration: &str, unit: &str, cursor: &Cursor) -> StoreResult<()> {
        self.put_body(keys::cursors(integration), unit.to_string(), cursor)
            .await
    }

    /// A conditional put: it succeeds only while the lease is free, expired or already ours.
    async fn acquire_lease(
        &self,
        integration: &str,
        unit: &str,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        let mut item = key_item(keys::leases(integration), unit.to_string());
        item.insert("owner".into(), s(owner));
        item.insert("expires_ms".into(), number_value(now_ms + ttl_ms));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #expires <= :now OR #owner = :owner")
            .expression_attribute_names("#expires", "expires_ms")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":now", number_value(now_ms))
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failure(&e) => Ok(false),
            Err(e) => Err(backend("PutItem")(e)),
        }
    }

    /// A conditional delete: only the owner releases; anyone else's release changes nothing.
    async fn release_lease(&self, integration: &str, unit: &str, owner: &str) -> StoreResult<()> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(keys::leases(integration)))
            .key(SK, s(unit))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_check_failure(&e) => Ok(()),
            Err(e) => Err(backend("DeleteItem")(e)),
        }
    }
}

#[async_trait]
impl RunLog for DynamoStore {
    async fn put_run(&self, integration: &str, run: &RunRecord) -> StoreResult<()> {
        let sk = format!("{:020}#{}", run.started_ms, run.run_id);
        let mut item = body_item(keys::runs(integration), sk, run)?;
        item.insert(
            TTL_ATTRIBUTE.into(),
            number_value(epoch_seconds_now() + RUN_RETENTION_SECS),
        );
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(backend("PutItem"))?;
        Ok(())
    }

    /// The whole partition (TTL keeps it to 90 days of runs), filtered: a run that started
    /// before `since_ms` still counts while it runs or if it ended after.
    async fn list_runs(&self, integration: &str, since_ms: i64) -> StoreResult<Vec<RunRecord>> {
        let mut runs = Vec::new();
        for item in self
            .query_all(&keys::runs(integration), SortRange::All, false)
            .await?
        {
            let run: RunRecord = from_body_item(&item)?;
            if run.active_since(since_ms) {
                runs.push(run);
            }
        }
        Ok(runs)
    }

    /// An atomic ADD of each counter: concurrent runs never lose each other's increments.
    async fn add_daily(
        &self,
        integration: &str,
        day: NaiveDate,
        delta: &DailyCounts,
    ) -> StoreResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::daily(integration)))
            .key(SK, s(day.to_string()))
            .update_expression(
                "ADD issues_new :new, issues_updated :updated, issues_deleted :deleted, \
                 issues_left_scope :left, issues_returned :returned, \
                 runs :runs, failed_runs :failed",
            )
            .expression_attribute_values(":new", number_value(delta.issues_new))
            .expression_attribute_values(":updated", number_value(delta.issues_updated))
            .expression_attribute_values(":deleted", number_value(delta.issues_deleted))
            .expression_attribute_values(":left", number_value(delta.issues_left_scope))
            .expression_attribute_values(":returned", number_value(delta.issues_returned))
            .expression_attribute_values(":runs", number_value(delta.runs))
            .expression_attribute_values(":failed", number_value(delta.failed_runs))
            .send()
            .await
            .map_err(backend("UpdateItem"))?;
        Ok(())
    }

    async fn list_daily(
        &self,
        integration: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<(NaiveDate, DailyCounts)>> {
        let range = SortRange::Between(from.to_string(), to.to_string());
        self.query_all(&keys::daily(integration), range, false)
            .await?
            .iter()
            .map(|item| {
                let day = NaiveDate::parse_from_str(string(item, SK)?, "%Y-%m-%d")
                    .map_err(|e| StoreError::Corrupt(format!("daily counter key: {e}")))?;
                let counts = DailyCounts {
                    issues_new: counter(item, "issues_new")?,
                    issues_updated: counter(item, "issues_updated")?,
                    issues_deleted: counter(item, "issues_deleted")?,
                    issues_left_scope: counter(item, "issues_left_scope")?,
                    issues_returned: counter(item, "issues_returned")?,
                    runs: counter(item, "runs")?,
                    failed_runs: counter(item, "failed_runs")?,
                };
                Ok((day, counts))
            })
            .collect()
    }
}

/// The integration item's revision: its `updated_ms`, beside the body, for the write condition.
const REVISION: &str = "rev";

fn integration_item(record: &IntegrationRecord) -> StoreResult<Item> {
    let mut item = body_item(
        keys::account(&record.account),
        keys::integration(&record.id),
        record,
    )?;
    item.insert(REVISION.into(), number_value(record.updated_ms));
    Ok(item)
}

impl DynamoStore {
    /// An integration put again under a deleted id is no longer deleted.
    async fn lift_tombstone(&self, id: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(keys::DELETED))
            .key(SK, s(id))
            .send()
            .await
            .map_err(backend("DeleteItem"))?;
        Ok(())
    }
}

#[async_trait]
impl IntegrationStore for DynamoStore {
    async fn put_integration(&self, record: &IntegrationRecord) -> StoreResult<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(integration_item(record)?))
            .send()
            .await
            .map_err(backend("PutItem"))?;
        self.lift_tombstone(&record.id).await
    }

    async fn create_integration(&self, record: &IntegrationRecord) -> StoreResult<bool> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(integration_item(record)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) if is_conditional_check_failure(&e) => return Ok(false),
            Err(e) => return Err(backend("PutItem")(e)),
        }
        self.lift_tombstone(&record.id).await?;
        Ok(true)
    }

    async fn replace_integration(
        &self,
        record: &IntegrationRecord,
        expected_updated_ms: i64,
    ) -> StoreResult<bool> {
        // Items written before the revision attribute existed are replaced as they were.
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(integration_item(record)?))
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(#rev) OR #rev = :expected)",
            )
            .expression_attribute_names("#rev", REVISION)
            .expression_attribute_values(":expected", number_value(expected_updated_ms))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_check_failure(&e) => Ok(false),
            Err(e) => Err(backend("PutItem")(e)),
        }
    }

    async fn get_integration(
        &self,
        account: &str,
        id: &str,
    ) -> StoreResult<Option<IntegrationRecord>> {
        self.get_body(keys::account(account), keys::integration(id))
            .await
    }

    async fn list_integrations(&self, account: &str) -> StoreResult<Vec<IntegrationRecord>> {
        let range = SortRange::BeginsWith(keys::INTEGRATION_PREFIX.into());
        self.query_all(&keys::account(account), range, true)
            .await?
            .iter()
            .map(from_body_item)
            .collect()
    }

    /// The tombstone goes first, so that a sync writing meanwhile either has its writes taken
    /// by the removal or finds the tombstone after them. The record goes last: should the
    /// deletion fail midway, the integration is still listed and deleting it again finishes
    /// the job.
    async fn delete_integration(&self, account: &str, id: &str) -> StoreResult<bool> {
        if self.get_integration(account, id).await?.is_none() {
            return Ok(false);
        }
        let mut tombstone = key_item(keys::DELETED.into(), id.into());
        tombstone.insert(
            TTL_ATTRIBUTE.into(),
            number_value(chrono::Utc::now().timestamp() + TOMBSTONE_RETENTION_SECS),
        );
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(tombstone))
            .send()
            .await
            .map_err(backend("PutItem"))?;
        self.delete_integration_partitions(id).await?;
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(keys::account(account)))
            .key(SK, s(keys::integration(id)))
            .send()
            .await
            .map_err(backend("DeleteItem"))?;
        Ok(true)
    }
}

#[async_trait]
impl CallCounter for DynamoStore {
    /// One atomic ADD; the count expires with the item (TTL), a day after its window.
    async fn count_call(&self, account: &str, kind: &str, window_ms: i64) -> StoreResult<u64> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(keys::calls(account)))
            .key(SK, s(format!("{kind}#{window_ms:020}")))
            .update_expression("ADD calls :one SET #expires = :expires")
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(":one", number_value(1))
            .expression_attribute_values(":expires", number_value(epoch_seconds_now() + 86_400))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(backend("UpdateItem"))?;
        out.attributes()
            .and_then(|a| a.get("calls"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| StoreError::Corrupt("UpdateItem answered no count of calls".into()))
    }
}
