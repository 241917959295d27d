//! The hygiene index role of the embedded store: the head, the cells and the contributions in
//! tables of their own; the change marks are written by `put_issues` in the issues' transaction.

use std::collections::BTreeSet;

use async_trait::async_trait;

use super::codec;
use super::{
    CHANGED, CONTRIBUTIONS, EmbeddedStore, INDEX_CELLS, INDEX_HEADS, backend, change_key,
    change_mark, check_integration_id, issue_key, remove_under,
};
use crate::hygiene::Cell;
use crate::hygiene::index::{ChangeMark, Contribution, IndexHead, IndexedCell};
use crate::store::{HygieneIndexStore, StoreError, StoreResult};

fn head_key(integration: &str) -> String {
    format!("{integration}/")
}

fn cell_key(integration: &str, cell: &Cell) -> StoreResult<String> {
    let cell = serde_json::to_string(cell).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(format!("{integration}/{cell}"))
}

#[async_trait]
impl HygieneIndexStore for EmbeddedStore {
    async fn get_index_head(&self, integration: &str) -> StoreResult<Option<IndexHead>> {
        self.get(INDEX_HEADS, &head_key(integration))
    }

    async fn put_index_head(&self, integration: &str, head: &IndexHead) -> StoreResult<()> {
        check_integration_id(integration)?;
        self.put_all(INDEX_HEADS, &[(head_key(integration), head)])
    }

    async fn list_index_cells(&self, integration: &str) -> StoreResult<Vec<IndexedCell>> {
        Ok(self
            .scan(INDEX_CELLS, &format!("{integration}/"), None, usize::MAX)?
            .into_iter()
            .map(|(_, c)| c)
            .collect())
    }

    async fn get_index_cells(
        &self,
        integration: &str,
        cells: &[Cell],
    ) -> StoreResult<Vec<IndexedCell>> {
        let keys = cells
            .iter()
            .map(|cell| cell_key(integration, cell))
            .collect::<StoreResult<BTreeSet<_>>>()?;
        let keys = keys.into_iter().map(|key| ((), key));
        Ok(self
            .get_each(INDEX_CELLS, keys, |v| codec::decode(v, None))?
            .into_iter()
            .map(|((), cell)| cell)
            .collect())
    }

    async fn put_index_cells(&self, integration: &str, cells: &[IndexedCell]) -> StoreResult<()> {
        check_integration_id(integration)?;
        let items = cells
            .iter()
            .map(|c| Ok((cell_key(integration, &c.cell)?, c)))
            .collect::<StoreResult<Vec<_>>>()?;
        self.put_all(INDEX_CELLS, &items)
    }

    async fn clear_index_cells(&self, integration: &str) -> StoreResult<()> {
        check_integration_id(integration)?;
        let tx = self.db.begin_write().map_err(backend)?;
        remove_under(&tx, INDEX_CELLS, integration)?;
        tx.commit().map_err(backend)
    }

    async fn get_contributions(
        &self,
        integration: &str,
        ids: &[String],
    ) -> StoreResult<Vec<(String, Contribution)>> {
        let keys = ids
            .iter()
            .map(|id| (id.clone(), issue_key(integration, id)));
        self.get_each(CONTRIBUTIONS, keys, codec::decode_contribution)
    }

    async fn put_contributions(
        &self,
        integration: &str,
        contributions: &[(String, Option<Contribution>)],
    ) -> StoreResult<()> {
        check_integration_id(integration)?;
        let tx = self.db.begin_write().map_err(backend)?;
        {
            let mut t = tx.open_table(CONTRIBUTIONS).map_err(backend)?;
            for (id, contribution) in contributions {
                let key = issue_key(integration, id);
                match contribution {
                    Some(c) => {
                        t.insert(key.as_str(), codec::encode_contribution(c)?.as_slice())
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

    async fn changed_issues(
        &self,
        integration: &str,
        limit: usize,
    ) -> StoreResult<Vec<ChangeMark>> {
        self.scan_with(CHANGED, &format!("{integration}/"), None, limit, |v| {
            Ok(v.to_vec())
        })?
        .into_iter()
        .map(|(key, value)| change_mark(&key, &value))
        .collect()
    }

    async fn clear_changed(&self, integration: &str, marks: &[ChangeMark]) -> StoreResult<()> {
        if marks.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write().map_err(backend)?;
        {
            let mut t = tx.open_table(CHANGED).map_err(backend)?;
            for mark in marks {
                let key = change_key(&issue_key(integration, &mark.id), mark);
                t.remove(key.as_str()).map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)
    }
}
