//! What the sync knows of some stored issues while it works on them: per id, the `updated` the
//! store holds, the project, the flags and the revision. Read from the store for the ids at
//! hand (a page of ids, a batch about to be written) and dropped with them: a run never holds
//! the index of the whole integration, whose size has no bound.

use std::collections::HashMap;

use crate::store::{IssueIndexEntry, IssueStore, StoreError};

#[derive(Clone, Copy, Debug)]
pub struct Known {
    pub updated_ms: i64,
    pub deleted: bool,
    pub hidden: bool,
    pub removed: bool,
    pub out_of_scope: bool,
    /// The store's revision of the issue, which a write of it must name.
    pub rev: u64,
}

impl Known {
    /// Whether a listing of the scope should find it: neither flagged deleted nor out of scope.
    pub fn in_listing(&self) -> bool {
        !self.deleted && !self.out_of_scope
    }

    /// Whether the store holds the version of the issue `updated_ms` names, not deleted, in or
    /// out of the scope as `out_of_scope` says: then nothing needs writing.
    pub fn holds(&self, updated_ms: i64, out_of_scope: bool) -> bool {
        self.updated_ms == updated_ms && !self.deleted && self.out_of_scope == out_of_scope
    }

    /// [`Known::holds`] for an issue a listing of the scope found.
    pub fn held_at(&self, updated_ms: i64) -> bool {
        self.holds(updated_ms, false)
    }
}

impl From<&IssueIndexEntry> for Known {
    fn from(e: &IssueIndexEntry) -> Self {
        Known {
            updated_ms: e.updated_ms,
            deleted: e.deleted,
            hidden: e.hidden,
            removed: e.removed,
            out_of_scope: e.out_of_scope,
            rev: e.rev,
        }
    }
}

/// The stored state of a few issues, by numeric id.
#[derive(Default)]
pub struct IssueIndex {
    by_id: HashMap<u64, Known>,
}

impl IssueIndex {
    /// The index entries of `ids` as the store holds them now (ids it does not hold are absent).
    pub async fn read<S: IssueStore + ?Sized>(
        store: &S,
        integration: &str,
        ids: impl IntoIterator<Item = u64>,
    ) -> Result<Self, StoreError> {
        let ids: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
        if ids.is_empty() {
            return Ok(IssueIndex::default());
        }
        let mut index = IssueIndex::default();
        for e in store.index_entries(integration, &ids).await? {
            index.stored(&e);
        }
        Ok(index)
    }

    pub fn get(&self, id: u64) -> Option<&Known> {
        self.by_id.get(&id)
    }

    /// Records the version of an issue the store now holds (one this run wrote, or one read
    /// again after another writer moved it on).
    pub fn stored(&mut self, entry: &IssueIndexEntry) {
        if let Ok(id) = entry.id.parse() {
            self.by_id.insert(id, Known::from(entry));
        }
    }
}
