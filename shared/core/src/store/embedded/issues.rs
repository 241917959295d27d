//! The issue role of the embedded store: issues (kept with the store's dictionary, their
//! revision ahead of them), their index entries and change marks, written in one transaction.

use async_trait::async_trait;
use redb::ReadableTable;

use super::{CHANGED, EmbeddedStore, INDEX, ISSUES, backend, change_key, codec, issue_key};
use crate::hygiene::index::ChangeMark;
use crate::store::records::{IssueFlag, IssueIndexEntry, StoredIssue};
use crate::store::{IssueStore, StoreResult, Superseded, flag_stored_issue, last_per_key};

#[async_trait]
impl IssueStore for EmbeddedStore {
    async fn get_issue(&self, integration: &str, id: &str) -> StoreResult<Option<StoredIssue>> {
        self.get_with(ISSUES, &issue_key(integration, id), |v| {
            codec::decode_issue(v, self.dictionary.get())
        })
    }

    /// One transaction: each issue's revision is compared and its new version written under
    /// the same write lock, so no other writer can come between.
    async fn put_issues(
        &self,
        integration: &str,
        issues: &[StoredIssue],
    ) -> StoreResult<Superseded> {
        if issues.is_empty() {
            return Ok(Superseded::default());
        }
        let mut superseded = Vec::new();
        let mut made = None;
        let tx = self.db.begin_write().map_err(backend)?;
        {
            let mut index = tx.open_table(INDEX).map_err(backend)?;
            let (mut entries, mut jsons) = (Vec::new(), Vec::new());
            for i in last_per_key(issues, |i| &i.id) {
                let key = issue_key(integration, &i.id);
                let stored_rev = match index.get(key.as_str()).map_err(backend)? {
                    Some(v) => codec::decode_entry(v.value())?.rev,
                    None => 0,
                };
                if stored_rev != i.rev {
                    superseded.push(i.id.clone());
                    continue;
                }
                // The new revision goes beside the JSON, not into it: no copy of the issue.
                jsons.push((codec::to_json(i)?, i.rev + 1));
                let entry = IssueIndexEntry {
                    rev: i.rev + 1,
                    ..i.index_entry()
                };
                entries.push((key, entry));
            }
            if self.dictionary.get().is_none() {
                made = self.make_dictionary(&tx, jsons.iter().map(|(j, _)| j.as_slice()))?;
            }
            let dictionary = self.dictionary.get().or(made.as_ref());
            let mut items = tx.open_table(ISSUES).map_err(backend)?;
            let mut changed = tx.open_table(CHANGED).map_err(backend)?;
            for ((key, entry), (json, rev)) in entries.into_iter().zip(jsons) {
                items
                    .insert(
                        key.as_str(),
                        codec::pack_issue(json, rev, dictionary)?.as_slice(),
                    )
                    .map_err(backend)?;
                index
                    .insert(key.as_str(), codec::encode_entry(&entry)?.as_slice())
                    .map_err(backend)?;
                let mark = ChangeMark::new(&entry.id);
                changed
                    .insert(change_key(&key, &mark).as_str(), mark.id.as_bytes())
                    .map_err(backend)?;
            }
        }
        tx.commit().map_err(backend)?;
        // The store uses a dictionary once it is kept: a write that failed leaves none behind
        // that later issues would need. (Write transactions come one at a time.)
        if let Some(d) = made {
            let _ = self.dictionary.set(d);
        }
        Ok(Superseded(superseded))
    }

    async fn index_page(
        &self,
        integration: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<IssueIndexEntry>> {
        let after = after.map(|a| issue_key(integration, a));
        Ok(self
            .scan_with(
                INDEX,
                &format!("{integration}/"),
                after.as_deref(),
                limit,
                codec::decode_entry,
            )?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    async fn index_entries(
        &self,
        integration: &str,
        ids: &[String],
    ) -> StoreResult<Vec<IssueIndexEntry>> {
        let mut unique: Vec<&String> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let keys = unique
            .into_iter()
            .map(|id| ((), issue_key(integration, id)));
        Ok(self
            .get_each(INDEX, keys, codec::decode_entry)?
            .into_iter()
            .map(|((), entry)| entry)
            .collect())
    }

    async fn list_issues(
        &self,
        integration: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<StoredIssue>> {
        let after = after.map(|a| issue_key(integration, a));
        Ok(self
            .scan_with(
                ISSUES,
                &format!("{integration}/"),
                after.as_deref(),
                limit,
                |v| codec::decode_issue(v, self.dictionary.get()),
            )?
            .into_iter()
            .map(|(_, i)| i)
            .collect())
    }

    async fn flag_issue(&self, integration: &str, id: &str, flag: IssueFlag) -> StoreResult<bool> {
        flag_stored_issue(self, integration, id, flag).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::embedded::change_mark;

    fn issue(n: u64) -> StoredIssue {
        let history = serde_json::json!({"author": {"displayName": format!("Person {}", n % 7)},
            "items": [{"field": "status", "fromString": "To Do", "toString": "In Progress"}]});
        StoredIssue {
            id: n.to_string(),
            key: format!("P-{n}"),
            project_key: "P".into(),
            fields:
                serde_json::json!({"labels": [format!("l{}", n % 5)], "history": vec![history; 8]})
                    .as_object()
                    .unwrap()
                    .clone(),
            ..StoredIssue::default()
        }
    }

    #[tokio::test]
    async fn issues_kept_with_the_store_dictionary_read_back_after_reopening() {
        // GIVEN a store given enough issues at once to make its dictionary
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let first: Vec<StoredIssue> = (1..=200).map(issue).collect();
        {
            let store = EmbeddedStore::open(&path).unwrap();
            assert!(store.put_issues("i", &first).await.unwrap().0.is_empty());
            assert!(store.dictionary.get().is_some());
        }
        // WHEN it is opened again and given more
        let store = EmbeddedStore::open(&path).unwrap();
        let later: Vec<StoredIssue> = (201..=220).map(issue).collect();
        assert!(store.put_issues("i", &later).await.unwrap().0.is_empty());
        // THEN every issue reads back as written (one revision on)
        let read = store.list_issues("i", None, usize::MAX).await.unwrap();
        let expected: Vec<StoredIssue> = first
            .into_iter()
            .chain(later)
            .map(|i| StoredIssue { rev: 1, ..i })
            .collect();
        assert_eq!(read, expected);
        let entries = crate::store::whole_issue_index(&store, "i").await.unwrap();
        assert_eq!(entries.len(), 220);
        assert!(entries.iter().all(|e| e.rev == 1 && e.project_key == "P"));
    }

    #[tokio::test]
    async fn a_repacked_store_holds_the_same_data_in_a_smaller_file() {
        // GIVEN a store written as a sync writes it: several projects' issues interleaved, in
        // many small batches, then written again
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let store = EmbeddedStore::open(&path).unwrap();
        for round in 0..2u64 {
            for batch in 0..60u64 {
                let issues: Vec<StoredIssue> = (0..25u64)
                    .map(|n| StoredIssue {
                        rev: round,
                        ..issue(1 + (n * 60 + batch) * 7 % 1_500)
                    })
                    .collect();
                store
                    .put_issues("i", &issues)
                    .await
                    .unwrap()
                    .expect_none()
                    .unwrap();
            }
        }
        let before = store.list_issues("i", None, usize::MAX).await.unwrap();
        let index_before = crate::store::whole_issue_index(&store, "i").await.unwrap();
        let size_before = std::fs::metadata(&path).unwrap().len();
        // WHEN it is repacked
        let store = store.repack(&path).unwrap();
        // THEN it reads back the same, keeps taking writes, and the file shrank
        assert_eq!(
            store.list_issues("i", None, usize::MAX).await.unwrap(),
            before
        );
        assert_eq!(
            crate::store::whole_issue_index(&store, "i").await.unwrap(),
            index_before
        );
        let next = StoredIssue { rev: 2, ..issue(1) };
        store
            .put_issues("i", &[next])
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        let size_after = std::fs::metadata(&path).unwrap().len();
        assert!(
            size_after * 10 < size_before * 8,
            "{size_after} of {size_before}"
        );
        assert!(!dir.path().join("s.redb.repack").exists());
    }

    #[test]
    fn change_marks_are_kept_as_their_id_and_those_kept_as_json_before_still_read() {
        let mark = ChangeMark::new("10042");
        let key = change_key(&issue_key("i", "10042"), &mark);
        assert_eq!(change_mark(&key, b"10042").unwrap(), mark);
        let json = serde_json::to_vec(&mark).unwrap();
        assert_eq!(change_mark(&key, &json).unwrap(), mark);
    }
}
