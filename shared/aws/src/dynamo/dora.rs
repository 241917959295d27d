//! The DORA role of the DynamoDB store: the profiles (kept with `put_versioned`) and the heads in one partition, every profile's members in another, one
//! item per member.

use std::collections::HashMap;

use async_trait::async_trait;

use super::codec::{body_item, from_body_item, key_item, string};
use super::codec::{delete_request, put_request};
use super::{DynamoStore, SK, SortRange, keys};
use sei_jira_core::dora::index::DoraHeads;
use sei_jira_core::dora::{DoraConfig, DoraFacts};
use sei_jira_core::store::{DoraStore, StoreError, StoreResult, last_per_key};

/// A profile id holding the separator could reach another profile's members.
fn member_prefix(profile: &str) -> StoreResult<String> {
    if profile.is_empty() || profile.contains('#') {
        return Err(StoreError::Backend(format!(
            "profile id {profile:?} must be non-empty and contain no '#'"
        )));
    }
    Ok(keys::dora_member_prefix(profile))
}

#[async_trait]
impl DoraStore for DynamoStore {
    async fn get_dora_config(&self, integration: &str) -> StoreResult<Option<DoraConfig>> {
        self.get_body(keys::dora(integration), keys::DORA_CONFIG.into())
            .await
    }

    async fn put_dora_config(&self, integration: &str, config: &DoraConfig) -> StoreResult<bool> {
        self.put_versioned(
            keys::dora(integration),
            keys::DORA_CONFIG.into(),
            config,
            config.version,
        )
        .await
    }

    async fn get_dora_heads(&self, integration: &str) -> StoreResult<Option<DoraHeads>> {
        self.get_body(keys::dora(integration), keys::DORA_HEADS.into())
            .await
    }

    async fn put_dora_heads(&self, integration: &str, heads: &DoraHeads) -> StoreResult<()> {
        self.put_body(keys::dora(integration), keys::DORA_HEADS.into(), heads)
            .await
    }

    async fn list_dora_members(
        &self,
        integration: &str,
        profile: &str,
    ) -> StoreResult<Vec<DoraFacts>> {
        let range = SortRange::BeginsWith(member_prefix(profile)?);
        self.query_all(&keys::dora_members(integration), range, true)
            .await?
            .iter()
            .map(from_body_item)
            .collect()
    }

    async fn dora_members_among(
        &self,
        integration: &str,
        profile: &str,
        ids: &[&str],
    ) -> StoreResult<Vec<String>> {
        let prefix = member_prefix(profile)?;
        let mut by_sort: HashMap<String, &str> = ids
            .iter()
            .map(|id| (format!("{prefix}{}", keys::issue_sort(id)), *id))
            .collect();
        let keys = by_sort
            .keys()
            .map(|sort| key_item(keys::dora_members(integration), sort.clone()))
            .collect();
        let mut out = Vec::new();
        for item in self.batch_get(keys).await? {
            if let Some(id) = by_sort.remove(string(&item, SK)?) {
                out.push(id.to_string());
            }
        }
        Ok(out)
    }

    async fn put_dora_members(
        &self,
        integration: &str,
        profile: &str,
        members: &[(String, Option<DoraFacts>)],
    ) -> StoreResult<()> {
        let prefix = member_prefix(profile)?;
        let requests = last_per_key(members, |m| m.0.as_str())
            .into_iter()
            .map(|(id, facts)| {
                let pk = keys::dora_members(integration);
                let sk = format!("{prefix}{}", keys::issue_sort(id));
                match facts {
                    Some(f) => put_request(body_item(pk, sk, f)?),
                    None => delete_request(key_item(pk, sk)),
                }
            })
            .collect::<StoreResult<Vec<_>>>()?;
        self.write_all(requests).await
    }
}
