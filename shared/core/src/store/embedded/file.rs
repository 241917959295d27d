//! The store file's upkeep: how its bytes are spent, and giving back what holds no data
//! (compaction, which frees pages, and a repack, which also fills them).

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata};

use super::{
    CHANGED, CODEC, CONTRIBUTIONS, DELETED, EmbeddedStore, INDEX_CELLS, INDEX_HEADS,
    INTEGRATION_SCOPED, INTEGRATIONS, Table, backend,
};
use crate::store::{StoreError, StoreResult};

/// What a repack writes before it commits: a write transaction holds its pages in memory.
const REPACK_COMMIT_BYTES: usize = 8 * 1024 * 1024;

/// Copies `table` from `read` into `new`, in key order, committing every
/// [`REPACK_COMMIT_BYTES`]; only the last commit waits for the disk.
fn copy_table(read: &redb::ReadTransaction, new: &Database, table: Table) -> StoreResult<()> {
    let source = read.open_table(table).map_err(backend)?;
    let mut entries = source.iter().map_err(backend)?.peekable();
    loop {
        let mut tx = new.begin_write().map_err(backend)?;
        let last = {
            let mut target = tx.open_table(table).map_err(backend)?;
            let mut bytes = 0;
            while bytes < REPACK_COMMIT_BYTES {
                let Some(entry) = entries.next() else { break };
                let (k, v) = entry.map_err(backend)?;
                bytes += k.value().len() + v.value().len();
                target.insert(k.value(), v.value()).map_err(backend)?;
            }
            entries.peek().is_none()
        };
        if !last {
            tx.set_durability(redb::Durability::None).map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        if last {
            return Ok(());
        }
    }
}

/// What [`EmbeddedStore::space`] finds, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    /// Space not holding data: free pages and the unused part of allocated ones.
    pub fragmented: u64,
    /// What the kept hygiene index takes (heads, cells, contributions, change marks).
    pub hygiene_index: u64,
}

impl EmbeddedStore {
    /// Gives the file's free pages back (a sync rewrites pages as it goes, and redb keeps the
    /// space of old versions for reuse); answers whether anything was reclaimed.
    pub fn compact(&mut self) -> StoreResult<bool> {
        let Some(db) = Arc::get_mut(&mut self.db) else {
            return Err(StoreError::Backend(
                "the store is in use by another clone: compact it alone".into(),
            ));
        };
        db.compact().map_err(backend)
    }

    /// Writes the store again into a new file that then takes this one's place: each table in
    /// key order, an ascending load that redb packs leaf by leaf, so neither the free pages nor
    /// the half-filled leaves a sync's interleaved writes leave behind remain. Commits every
    /// [`REPACK_COMMIT_BYTES`], so its memory does not grow with the store. Needs the store
    /// alone (no clone); `path` is the file it was opened from.
    pub fn repack(self, path: &Path) -> StoreResult<EmbeddedStore> {
        let db = Arc::try_unwrap(self.db).map_err(|_| {
            StoreError::Backend("the store is in use by another clone: repack it alone".into())
        })?;
        let mut name = path.as_os_str().to_owned();
        name.push(".repack");
        let new_path = std::path::PathBuf::from(name);
        let _ = std::fs::remove_file(&new_path);
        {
            // The new file is only written, a commit at a time: a small cache is enough.
            let new = redb::Builder::new()
                .set_cache_size(REPACK_COMMIT_BYTES)
                .create(&new_path)
                .map_err(backend)?;
            let read = db.begin_read().map_err(backend)?;
            for table in INTEGRATION_SCOPED
                .into_iter()
                .chain([INTEGRATIONS, DELETED, CODEC])
            {
                copy_table(&read, &new, table)?;
            }
        }
        drop(db);
        std::fs::rename(&new_path, path)
            .map_err(|e| StoreError::Backend(format!("cannot replace {}: {e}", path.display())))?;
        EmbeddedStore::open(path)
    }

    /// How the file's bytes are spent: on the hygiene index, and on space holding no data (free
    /// pages, the unused part of partly filled ones) that a repack gives back.
    pub fn space(&self) -> StoreResult<Space> {
        let tx = self.db.begin_write().map_err(backend)?;
        let whole = tx.stats().map_err(backend)?;
        let mut hygiene_index = 0;
        for table in [INDEX_HEADS, INDEX_CELLS, CONTRIBUTIONS, CHANGED] {
            let stats = tx
                .open_table(table)
                .map_err(backend)?
                .stats()
                .map_err(backend)?;
            hygiene_index +=
                stats.stored_bytes() + stats.metadata_bytes() + stats.fragmented_bytes();
        }
        tx.abort().map_err(backend)?;
        Ok(Space {
            fragmented: whole.fragmented_bytes(),
            hygiene_index,
        })
    }
}
