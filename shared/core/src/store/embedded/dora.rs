//! The DORA role of the embedded store: the profiles and the heads in one table, the members in
//! another, every key under the integration's id so that deleting the integration clears them.

use async_trait::async_trait;

use super::codec::encode;
use super::{DORA, DORA_MEMBERS, EmbeddedStore, backend, check_integration_id};
use crate::dora::config::DoraConfig;
use crate::dora::facts::DoraFacts;
use crate::dora::index::DoraHeads;
use crate::store::records::issue_order;
use crate::store::{DoraStore, StoreError, StoreResult};

/// `{integration}/{profile}/`: a profile id holding the separator could reach another
/// profile's members.
fn members_prefix(integration: &str, profile: &str) -> StoreResult<String> {
    if profile.is_empty() || profile.contains('/') {
        return Err(StoreError::Backend(format!(
            "profile id {profile:?} must be non-empty and contain no '/'"
        )));
    }
    Ok(format!("{integration}/{profile}/"))
}

#[async_trait]
impl DoraStore for EmbeddedStore {
    async fn get_dora_config(&self, integration: &str) -> StoreResult<Option<DoraConfig>> {
        self.get(DORA, &format!("{integration}/config"))
    }

    async fn put_dora_config(&self, integration: &str, config: &DoraConfig) -> StoreResult<bool> {
        check_integration_id(integration)?;
        let expected = config.version.checked_sub(1);
        self.update(
            DORA,
            &format!("{integration}/config"),
            |current: Option<DoraConfig>| {
                let stored = current.map_or(0, |c| c.version);
                (Some(stored) == expected).then(|| config.clone())
            },
        )
    }

    async fn get_dora_heads(&self, integration: &str) -> StoreResult<Option<DoraHeads>> {
        self.get(DORA, &format!("{integration}/heads"))
    }

    async fn put_dora_heads(&self, integration: &str, heads: &DoraHeads) -> StoreResult<()> {
        check_integration_id(integration)?;
        self.put_all(DORA, &[(format!("{integration}/heads"), heads)])
    }

    async fn list_dora_members(
        &self,
        integration: &str,
        profile: &str,
    ) -> StoreResult<Vec<DoraFacts>> {
        let prefix = members_prefix(integration, profile)?;
        Ok(self
            .scan(DORA_MEMBERS, &prefix, None, usize::MAX)?
            .into_iter()
            .map(|(_, f)| f)
            .collect())
    }

    async fn dora_members_among(
        &self,
        integration: &str,
        profile: &str,
        ids: &[&str],
    ) -> StoreResult<Vec<String>> {
        let prefix = members_prefix(integration, profile)?;
        let keys = ids
            .iter()
            .map(|id| ((*id).to_string(), format!("{prefix}{}", issue_order(id))));
        Ok(self
            .get_each(DORA_MEMBERS, keys, |_| Ok(()))?
            .into_iter()
            .map(|(id, ())| id)
            .collect())
    }

    async fn put_dora_members(
        &self,
        integration: &str,
        profile: &str,
        members: &[(String, Option<DoraFacts>)],
    ) -> StoreResult<()> {
        check_integration_id(integration)?;
        let prefix = members_prefix(integration, profile)?;
        if members.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write().map_err(backend)?;
        {
            let mut t = tx.open_table(DORA_MEMBERS).map_err(backend)?;
            for (id, facts) in members {
                let key = format!("{prefix}{}", issue_order(id));
                match facts {
                    Some(f) => {
                        t.insert(key.as_str(), encode(f)?.as_slice())
                            .map_err(backend)?;
                    }
                    None => {
                        t.remove(key.as_str()).map_err(backend)?;
                    }
                }
            }
        }
        tx.commit().map_err(backend)
    }
}
