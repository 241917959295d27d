//! Every key the store writes. Integration-scoped partitions are `INT#{integration}#…`; the
//! integration records themselves live in their account's partition.

use super::ISSUE_SHARDS;
use sei_jira_core::store::RecordKind;

pub fn account(account: &str) -> String {
    format!("ACCOUNT#{account}")
}

pub const INTEGRATION_PREFIX: &str = "INTEGRATION#";

pub fn integration(id: &str) -> String {
    format!("{INTEGRATION_PREFIX}{id}")
}

fn scoped(integration: &str, partition: &str) -> String {
    format!("INT#{integration}#{partition}")
}

pub fn issues(integration: &str, shard: u64) -> String {
    scoped(integration, &format!("ISSUE#{shard}"))
}

pub fn index(integration: &str, shard: u64) -> String {
    scoped(integration, &format!("INDEX#{shard}"))
}

pub fn parts(integration: &str) -> String {
    scoped(integration, "PART")
}

pub fn records(integration: &str, kind: RecordKind) -> String {
    scoped(integration, &format!("REC#{}", kind.name()))
}

pub fn projects(integration: &str) -> String {
    scoped(integration, "PROJECT")
}

pub fn cursors(integration: &str) -> String {
    scoped(integration, "CURSOR")
}

pub fn leases(integration: &str) -> String {
    scoped(integration, "LEASE")
}

pub fn runs(integration: &str) -> String {
    scoped(integration, "RUN")
}

/// An account's counted calls (its quotas), one item per kind and window.
pub fn calls(account: &str) -> String {
    format!("CALLS#{account}")
}

pub fn daily(integration: &str) -> String {
    scoped(integration, "DAILY")
}

pub fn hygiene(integration: &str) -> String {
    scoped(integration, "HYGIENE")
}

pub const HYGIENE_CONFIG: &str = "CONFIG";

pub fn snapshots(integration: &str) -> String {
    scoped(integration, "SNAPSHOT")
}

/// An integration's hygiene history: its build ([`HISTORY_BUILD`]), a running build's sums
/// ([`history_sum`]) and the points kept ([`history_point`]).
pub fn history(integration: &str) -> String {
    scoped(integration, "HISTORY")
}

pub const HISTORY_BUILD: &str = "BUILD";
pub const HISTORY_SUM: &str = "SUM#";
pub const HISTORY_POINT: &str = "POINT#";

pub fn history_sum(position: usize) -> String {
    format!("{HISTORY_SUM}{position:06}")
}

pub fn history_point(day: chrono::NaiveDate) -> String {
    format!("{HISTORY_POINT}{day}")
}

pub const INDEX_HEAD: &str = "INDEX";

pub fn index_cells(integration: &str) -> String {
    scoped(integration, "HCELL")
}

/// A cell's sort key: a stable hash of its JSON (names can be longer than a sort key may be;
/// the body holds the cell itself).
pub fn cell_sort(cell_json: &str) -> String {
    format!("{:016x}", fnv1a(cell_json.as_bytes()))
}

/// The parts of cells too large for one item: `{cell sort}#{gen}#{n:04}`.
pub fn index_cell_parts(integration: &str) -> String {
    scoped(integration, "HCELLPART")
}

pub fn contributions(integration: &str, shard: u64) -> String {
    scoped(integration, &format!("HFACT#{shard}"))
}

pub fn changed(integration: &str) -> String {
    scoped(integration, "CHANGED")
}

/// A change mark: `{issue}#{stamp}`, one item per write.
pub fn change_sort(id: &str, stamp: &str) -> String {
    format!("{}#{stamp}", issue_sort(id))
}

/// The DORA profiles (sort key [`DORA_CONFIG`]) and where their classification stands
/// ([`DORA_HEADS`]).
pub fn dora(integration: &str) -> String {
    scoped(integration, "DORA")
}

pub const DORA_CONFIG: &str = "CONFIG";
pub const DORA_HEADS: &str = "HEADS";

/// Every profile's members, one item each: `{profile}#{issue sort}`.
pub fn dora_members(integration: &str) -> String {
    scoped(integration, "DMEMBER")
}

pub fn dora_member_prefix(profile: &str) -> String {
    format!("{profile}#")
}

/// One partition listing the integrations the daily hygiene snapshot visits (sort key: the
/// integration id; body: its account). Read once a day, written at most once per snapshot.
pub const SNAPSHOT_TARGETS: &str = "HYGIENE#TARGETS";

/// One partition of tombstones, one per integration whose deletion began (sort key: its id),
/// read by syncs after their writes ([`sei_jira_core::store::DeletionFence`]).
pub const DELETED: &str = "DELETED";

/// Every partition an integration's data can occupy: deleting it empties each one.
pub fn all_partitions(integration: &str) -> Vec<String> {
    let shards = (0..ISSUE_SHARDS).flat_map(|s| {
        [
            issues(integration, s),
            index(integration, s),
            contributions(integration, s),
        ]
    });
    let kinds = RecordKind::ALL.map(|k| records(integration, k));
    shards
        .chain(kinds)
        .chain([
            parts(integration),
            projects(integration),
            cursors(integration),
            leases(integration),
            runs(integration),
            daily(integration),
            hygiene(integration),
            snapshots(integration),
            history(integration),
            index_cells(integration),
            index_cell_parts(integration),
            changed(integration),
            dora(integration),
            dora_members(integration),
        ])
        .collect()
}

/// Numeric ids (all of Jira's) spread evenly by value; anything else by a stable hash (FNV-1a:
/// the shard is part of the stored key, so it must never change between releases).
pub fn issue_shard(id: &str) -> u64 {
    let spread = id.parse::<u64>().unwrap_or_else(|_| fnv1a(id.as_bytes()));
    spread % ISSUE_SHARDS
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Sort-key order is the store port's issue order (numeric ids by value).
pub fn issue_sort(id: &str) -> String {
    sei_jira_core::store::issue_order(id)
}

/// Parts of one stored version of a split body (an issue, a hygiene cell):
/// `{owner}#{generation}#{n}`, the owner being the issue's or the cell's sort key.
pub fn part_sort(owner_sort: &str, generation: &str, n: usize) -> String {
    format!("{}{n:04}", part_prefix(owner_sort, generation))
}

pub fn part_prefix(owner_sort: &str, generation: &str) -> String {
    format!("{owner_sort}#{generation}#")
}

/// The owner's sort key and the generation a part key belongs to.
pub fn part_owner(part_sort: &str) -> Option<(&str, &str)> {
    let mut fields = part_sort.rsplitn(3, '#');
    let _n = fields.next()?;
    let generation = fields.next()?;
    Some((fields.next()?, generation))
}
