//! What the sync knows of stored issues while it runs: per id, the `updated` it holds, the
//! project, and the flags. Compact on purpose — a fixed-size entry per issue with no heap
//! allocation of its own — because it lives for the whole run and holds every issue of the
//! integration: a million issues take about 50 MB, and no small allocations fragment the heap
//! between the large short-lived ones the fetches make.

use std::collections::HashMap;

use crate::store::IssueIndexEntry;

#[derive(Clone, Copy, Debug)]
pub struct Known {
    pub updated_ms: i64,
    project: u32,
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

#[derive(Default)]
pub struct IssueIndex {
    by_id: HashMap<u64, Known>,
    projects: Vec<String>,
}

impl IssueIndex {
    pub fn new(entries: Vec<IssueIndexEntry>) -> Self {
        let mut index = IssueIndex::default();
        index.by_id.reserve(entries.len());
        for e in &entries {
            index.stored(e);
        }
        index
    }

    fn project_number(&mut self, key: &str) -> u32 {
        match self.projects.iter().position(|p| p == key) {
            Some(n) => n as u32,
            None => {
                self.projects.push(key.to_string());
                (self.projects.len() - 1) as u32
            }
        }
    }

    pub fn get(&self, id: u64) -> Option<&Known> {
        self.by_id.get(&id)
    }

    pub fn project_of(&self, known: &Known) -> &str {
        &self.projects[known.project as usize]
    }

    /// Records the version of an issue the store now holds (one this run wrote, or one read
    /// again after another writer moved it on).
    pub fn stored(&mut self, entry: &IssueIndexEntry) {
        let Ok(id) = entry.id.parse() else { return };
        let project = self.project_number(&entry.project_key);
        self.by_id.insert(
            id,
            Known {
                updated_ms: entry.updated_ms,
                project,
                deleted: entry.deleted,
                hidden: entry.hidden,
                removed: entry.removed,
                out_of_scope: entry.out_of_scope,
                rev: entry.rev,
            },
        );
    }

    pub fn set_deleted(&mut self, id: u64, deleted: bool) {
        if let Some(k) = self.by_id.get_mut(&id) {
            k.deleted = deleted;
        }
    }

    pub fn set_out_of_scope(&mut self, id: u64, out: bool) {
        if let Some(k) = self.by_id.get_mut(&id) {
            k.out_of_scope = out;
        }
    }

    /// The ids a listing of a unit should find: of `project` (every project for a filter), not
    /// flagged deleted or out of scope.
    pub fn expected_in<'a>(&'a self, project: Option<&'a str>) -> impl Iterator<Item = u64> + 'a {
        self.iter()
            .filter(|(_, k)| k.in_listing())
            .filter(move |(_, k)| project.is_none_or(|p| p == self.project_of(k)))
            .map(|(id, _)| id)
    }

    /// Ids with their entries, for the census and the scope count.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &Known)> {
        self.by_id.iter().map(|(id, k)| (*id, k))
    }
}
