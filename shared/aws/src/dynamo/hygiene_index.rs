//! The hygiene index role of the DynamoDB store: the head beside the settings, one item per
//! cell, one contribution item per issue (sharded like the issues), and one item per change
//! mark (written by `put_issues` after the issue).

use std::collections::HashMap;

use async_trait::async_trait;

use super::codec::{
    Written, body_item, decode_body, from_body_item, key_item, put_body_or_parts, s, stale_parts,
    string,
};
use super::codec::{delete_request, put_request};
use super::failures::backend;
use super::{DynamoStore, ENCODING, Item, PART_READ_ATTEMPTS, PK, SK, SortRange, keys};
use sei_jira_core::hygiene::Cell;
use sei_jira_core::hygiene::index::{ChangeMark, Contribution, IndexHead, IndexedCell};
use sei_jira_core::store::{HygieneIndexStore, StoreError, StoreResult, last_per_key};

const ID: &str = "id";
const STAMP: &str = "stamp";

pub(super) fn change_mark_item(integration: &str, mark: &ChangeMark) -> Item {
    let mut item = key_item(
        keys::changed(integration),
        keys::change_sort(&mark.id, &mark.stamp),
    );
    item.insert(ID.into(), s(&mark.id));
    item.insert(STAMP.into(), s(&mark.stamp));
    item
}

/// A cell's sort key: a hash of its JSON (names longer than a sort key may be).
fn cell_sort(cell: &Cell) -> StoreResult<String> {
    let json = serde_json::to_string(cell).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(keys::cell_sort(&json))
}

fn contribution_key(integration: &str, id: &str) -> Item {
    key_item(
        keys::contributions(integration, keys::issue_shard(id)),
        keys::issue_sort(id),
    )
}

impl DynamoStore {
    /// A listed cell item, with its parts when split (read again if they were replaced while
    /// being read).
    async fn cell_from_item(&self, integration: &str, item: &Item) -> StoreResult<IndexedCell> {
        let parts_pk = keys::index_cell_parts(integration);
        let sk = string(item, SK)?.to_string();
        let mut item = item.clone();
        for _ in 0..PART_READ_ATTEMPTS {
            if let Some(body) = self.body_of(&parts_pk, &item).await? {
                return decode_body(&body, string(&item, ENCODING)?);
            }
            match self
                .get_item(keys::index_cells(integration), sk.clone())
                .await?
            {
                Some(again) => item = again,
                None => break,
            }
        }
        Err(StoreError::Corrupt(format!(
            "hygiene cell {sk}: its parts kept changing while being read"
        )))
    }
}

#[async_trait]
impl HygieneIndexStore for DynamoStore {
    async fn get_index_head(&self, integration: &str) -> StoreResult<Option<IndexHead>> {
        self.get_body(keys::hygiene(integration), keys::INDEX_HEAD.into())
            .await
    }

    async fn put_index_head(&self, integration: &str, head: &IndexHead) -> StoreResult<()> {
        self.put_body(keys::hygiene(integration), keys::INDEX_HEAD.into(), head)
            .await
    }

    async fn list_index_cells(&self, integration: &str) -> StoreResult<Vec<IndexedCell>> {
        let items = self
            .query_all(&keys::index_cells(integration), SortRange::All, true)
            .await?;
        let mut cells = Vec::with_capacity(items.len());
        for item in &items {
            cells.push(self.cell_from_item(integration, item).await?);
        }
        Ok(cells)
    }

    async fn get_index_cells(
        &self,
        integration: &str,
        cells: &[Cell],
    ) -> StoreResult<Vec<IndexedCell>> {
        let mut sorts = cells
            .iter()
            .map(cell_sort)
            .collect::<StoreResult<Vec<_>>>()?;
        sorts.sort();
        sorts.dedup();
        let keys = sorts
            .into_iter()
            .map(|sort| key_item(keys::index_cells(integration), sort))
            .collect();
        let mut out = Vec::new();
        for item in self.batch_get(keys).await? {
            out.push(self.cell_from_item(integration, &item).await?);
        }
        Ok(out)
    }

    /// Cells too large for one item are split into parts named by their content, like issues:
    /// parts first, then the cell items that name them, then the parts no cell names any more.
    async fn put_index_cells(&self, integration: &str, cells: &[IndexedCell]) -> StoreResult<()> {
        let parts_pk = keys::index_cell_parts(integration);
        let mut items = Vec::with_capacity(cells.len());
        let mut parts = Vec::new();
        let mut current: HashMap<String, Written> = HashMap::new();
        for c in cells {
            let sort = cell_sort(&c.cell)?;
            let mut item = key_item(keys::index_cells(integration), sort.clone());
            let (generation, cell_parts) = put_body_or_parts(&mut item, c, &parts_pk, None)?;
            for part in cell_parts {
                parts.push(put_request(part)?);
            }
            current.insert(
                sort,
                Written {
                    generation,
                    rev: None,
                },
            );
            items.push(put_request(item)?);
        }
        self.write_all(parts).await?;
        self.write_all(items).await?;
        // One keys-only query: the partition is empty unless some cell is that large.
        let written = self.query_keys(&parts_pk, SortRange::All).await?;
        self.write_all(stale_parts(written, &current)?).await
    }

    async fn clear_index_cells(&self, integration: &str) -> StoreResult<()> {
        let mut deletes = Vec::new();
        for pk in [
            keys::index_cells(integration),
            keys::index_cell_parts(integration),
        ] {
            for item in self.query_keys(&pk, SortRange::All).await? {
                deletes.push(delete_request(item)?);
            }
        }
        self.write_all(deletes).await
    }

    async fn get_contributions(
        &self,
        integration: &str,
        ids: &[String],
    ) -> StoreResult<Vec<(String, Contribution)>> {
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let by_sort: HashMap<String, &String> = unique
            .iter()
            .map(|id| (keys::issue_sort(id), *id))
            .collect();
        let keys = unique
            .iter()
            .map(|id| contribution_key(integration, id))
            .collect();
        let mut out = Vec::with_capacity(unique.len());
        for item in self.batch_get(keys).await? {
            let Some(id) = by_sort.get(string(&item, SK)?) else {
                continue;
            };
            out.push(((*id).clone(), from_body_item(&item)?));
        }
        Ok(out)
    }

    async fn put_contributions(
        &self,
        integration: &str,
        contributions: &[(String, Option<Contribution>)],
    ) -> StoreResult<()> {
        let requests = last_per_key(contributions, |c| c.0.as_str())
            .into_iter()
            .map(|(id, contribution)| {
                let key = contribution_key(integration, id);
                match contribution {
                    Some(c) => {
                        let pk = string(&key, PK)?.to_string();
                        let sk = string(&key, SK)?.to_string();
                        put_request(body_item(pk, sk, c)?)
                    }
                    None => delete_request(key),
                }
            })
            .collect::<StoreResult<Vec<_>>>()?;
        self.write_all(requests).await
    }

    async fn changed_issues(
        &self,
        integration: &str,
        limit: usize,
    ) -> StoreResult<Vec<ChangeMark>> {
        let limit = i32::try_from(limit.clamp(1, 1000)).unwrap_or(1000);
        let out = self
            .query(&keys::changed(integration), &SortRange::All, true)
            .limit(limit)
            .send()
            .await
            .map_err(backend("Query"))?;
        out.items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                Ok(ChangeMark {
                    id: string(item, ID)?.to_string(),
                    stamp: string(item, STAMP)?.to_string(),
                })
            })
            .collect()
    }

    async fn clear_changed(&self, integration: &str, marks: &[ChangeMark]) -> StoreResult<()> {
        let deletes = last_per_key(marks, |m| m.stamp.as_str())
            .into_iter()
            .map(|m| {
                delete_request(key_item(
                    keys::changed(integration),
                    keys::change_sort(&m.id, &m.stamp),
                ))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        self.write_all(deletes).await
    }
}
