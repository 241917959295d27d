//! The item codec: JSON bodies (gzipped when that saves write units), issues split over parts
//! when too large for one item, index entries, and typed reads of attributes.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::failures::backend;
use super::{
    BODY, CHUNK, COMPRESS_OVER, ENCODING, GENERATION, Item, MAX_INLINE_BODY, PARTS, PK, REV, SK,
    keys,
};
use sei_jira_core::store::records::{IssueIndexEntry, StoredIssue};
use sei_jira_core::store::{StoreError, StoreResult};

/// The items that store one issue: the issue item (body inline, or a pointer to its parts),
/// its parts, and its index entry.
pub(super) struct IssueItems {
    pub(super) sort: String,
    /// Which version of the issue, and of its parts, these items are.
    pub(super) written: Written,
    pub(super) issue: Item,
    pub(super) parts: Vec<Item>,
    pub(super) index: Item,
}

/// The items of `issue` as it is to be stored: `issue.rev` is the revision being written.
pub(super) fn issue_items(integration: &str, issue: &StoredIssue) -> StoreResult<IssueItems> {
    let shard = keys::issue_shard(&issue.id);
    let sort = keys::issue_sort(&issue.id);
    let mut item = key_item(keys::issues(integration, shard), sort.clone());
    let (generation, parts) =
        put_body_or_parts(&mut item, issue, &keys::parts(integration), Some(issue.rev))?;
    item.insert(REV.into(), number_value(issue.rev));
    Ok(IssueItems {
        index: index_item(integration, shard, &sort, &issue.index_entry()),
        sort,
        written: Written {
            generation,
            rev: Some(issue.rev),
        },
        issue: item,
        parts,
    })
}

/// The version of a split body's owner just written: its generation of parts (None when
/// inline) and, for owners with revisions (issues), the revision.
#[derive(Clone)]
pub(super) struct Written {
    pub(super) generation: Option<String>,
    pub(super) rev: Option<u64>,
}

impl Written {
    /// Whether a part of `generation` belongs to a version this one replaced. Another writer's
    /// parts of a later revision, written while this one landed, are not: they are its next
    /// version in the making.
    fn supersedes(&self, generation: &str) -> bool {
        if self.generation.as_deref() == Some(generation) {
            return false;
        }
        match (self.rev, generation_rev(generation)) {
            (Some(rev), Some(of_part)) => of_part <= rev,
            _ => true,
        }
    }
}

/// Puts `value`'s encoded body into `item`, inline when it fits, otherwise as parts in the
/// partition `parts_pk` (keyed `{item's sort key}#{generation}#{n}`, the generation named by
/// the content, and by `rev` where the owner has revisions), the item naming their count and
/// generation. Answers the generation (None when inline) and the parts to write before the item.
pub(super) fn put_body_or_parts<T: Serialize>(
    item: &mut Item,
    value: &T,
    parts_pk: &str,
    rev: Option<u64>,
) -> StoreResult<(Option<String>, Vec<Item>)> {
    let (body, encoding) = encode_body(value)?;
    item.insert(ENCODING.into(), s(encoding));
    if body.len() <= MAX_INLINE_BODY {
        item.insert(BODY.into(), AttributeValue::B(Blob::new(body)));
        return Ok((None, Vec::new()));
    }
    let sort = string(item, SK)?.to_string();
    let generation = match rev {
        Some(rev) => format!("{rev:016x}-{}", content_generation(&body)),
        None => content_generation(&body),
    };
    let parts: Vec<Item> = body
        .chunks(MAX_INLINE_BODY)
        .enumerate()
        .map(|(n, chunk)| {
            let mut part = key_item(parts_pk.to_string(), keys::part_sort(&sort, &generation, n));
            part.insert(CHUNK.into(), AttributeValue::B(Blob::new(chunk)));
            part
        })
        .collect();
    item.insert(PARTS.into(), number_value(parts.len()));
    item.insert(GENERATION.into(), s(generation.clone()));
    Ok((Some(generation), parts))
}

/// The revision a generation of parts was written for; None for owners without revisions
/// (and parts written before issues had them).
fn generation_rev(generation: &str) -> Option<u64> {
    let (rev, _) = generation.split_once('-')?;
    u64::from_str_radix(rev, 16).ok()
}

/// Of `parts` (keys only), those of versions their owner's version just written replaced, as
/// deletions; parts of owners not in `current` are left alone.
pub(super) fn stale_parts(
    parts: Vec<Item>,
    current: &HashMap<String, Written>,
) -> StoreResult<Vec<WriteRequest>> {
    parts
        .into_iter()
        .filter(|part| {
            let owner = string(part, SK).ok().and_then(keys::part_owner);
            matches!(owner, Some((owner, generation))
                if current.get(owner).is_some_and(|w| w.supersedes(generation)))
        })
        .map(delete_request)
        .collect()
}

pub(super) fn index_item(
    integration: &str,
    shard: u64,
    sort: &str,
    entry: &IssueIndexEntry,
) -> Item {
    let mut item = key_item(keys::index(integration, shard), sort.to_string());
    item.insert("id".into(), s(&entry.id));
    item.insert("project_key".into(), s(&entry.project_key));
    item.insert("updated_ms".into(), number_value(entry.updated_ms));
    item.insert("deleted".into(), AttributeValue::Bool(entry.deleted));
    item.insert("hidden".into(), AttributeValue::Bool(entry.hidden));
    item.insert("removed".into(), AttributeValue::Bool(entry.removed));
    // Only when set: entries written before the flag existed read as in scope.
    if entry.out_of_scope {
        item.insert(OUT_OF_SCOPE.into(), AttributeValue::Bool(true));
    }
    item.insert(REV.into(), number_value(entry.rev));
    item
}

pub(super) fn index_entry(item: &Item) -> StoreResult<IssueIndexEntry> {
    Ok(IssueIndexEntry {
        id: string(item, "id")?.to_string(),
        project_key: string(item, "project_key")?.to_string(),
        updated_ms: number(item, "updated_ms")?,
        deleted: flag(item, "deleted")?,
        hidden: flag(item, "hidden")?,
        removed: flag(item, "removed")?,
        out_of_scope: item.contains_key(OUT_OF_SCOPE) && flag(item, OUT_OF_SCOPE)?,
        rev: revision(item)?,
    })
}

/// Names one version of a split body. Derived from the content, so rewriting an unchanged
/// issue rewrites the same parts instead of orphaning them.
pub(super) fn content_generation(body: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// JSON, gzipped when that saves write units; with the name of the encoding.
pub(super) fn encode_body<T: Serialize>(value: &T) -> StoreResult<(Vec<u8>, &'static str)> {
    let json = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if json.len() <= COMPRESS_OVER {
        return Ok((json, "json"));
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&json)
        .and_then(|()| encoder.finish())
        .map(|gz| (gz, "gzip"))
        .map_err(|e| StoreError::Backend(format!("gzip: {e}")))
}

pub(super) fn decode_body<T: DeserializeOwned>(body: &[u8], encoding: &str) -> StoreResult<T> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(e.to_string());
    match encoding {
        "json" => serde_json::from_slice(body).map_err(|e| corrupt(&e)),
        "gzip" => {
            let mut json = Vec::new();
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut json)
                .map_err(|e| corrupt(&e))?;
            serde_json::from_slice(&json).map_err(|e| corrupt(&e))
        }
        other => Err(StoreError::Corrupt(format!(
            "unknown body encoding {other:?}"
        ))),
    }
}

/// An item holding one JSON value (everything but issues, which may be split).
pub(super) fn body_item<T: Serialize>(pk: String, sk: String, value: &T) -> StoreResult<Item> {
    let (body, encoding) = encode_body(value)?;
    if body.len() > MAX_INLINE_BODY {
        return Err(StoreError::Backend(format!(
            "{pk}/{sk}: {} bytes encoded, over the {MAX_INLINE_BODY}-byte item budget",
            body.len()
        )));
    }
    let mut item = key_item(pk, sk);
    item.insert(ENCODING.into(), s(encoding));
    item.insert(BODY.into(), AttributeValue::B(Blob::new(body)));
    Ok(item)
}

pub(super) fn from_body_item<T: DeserializeOwned>(item: &Item) -> StoreResult<T> {
    decode_body(blob(item, BODY)?, string(item, ENCODING)?)
}

pub(super) fn key_item(pk: String, sk: String) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn number_value(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn attribute<'a>(item: &'a Item, name: &str) -> StoreResult<&'a AttributeValue> {
    item.get(name)
        .ok_or_else(|| StoreError::Corrupt(format!("item without attribute {name:?}")))
}

pub(super) fn wrong_type(name: &str) -> StoreError {
    StoreError::Corrupt(format!("attribute {name:?} has an unexpected type"))
}

pub(super) fn string<'a>(item: &'a Item, name: &str) -> StoreResult<&'a str> {
    attribute(item, name)?
        .as_s()
        .map(String::as_str)
        .map_err(|_| wrong_type(name))
}

pub(super) fn number<T: std::str::FromStr>(item: &Item, name: &str) -> StoreResult<T> {
    attribute(item, name)?
        .as_n()
        .ok()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| wrong_type(name))
}

/// A counter attribute; absent until first added to.
pub(super) fn counter(item: &Item, name: &str) -> StoreResult<u64> {
    if item.contains_key(name) {
        number(item, name)
    } else {
        Ok(0)
    }
}

/// An issue item's revision; items written before issues had revisions are at 0.
pub(super) fn revision(item: &Item) -> StoreResult<u64> {
    match item.contains_key(REV) {
        true => number(item, REV),
        false => Ok(0),
    }
}

/// The index entry's [`IssueIndexEntry::out_of_scope`], present only when set.
const OUT_OF_SCOPE: &str = "out_of_scope";

pub(super) fn flag(item: &Item, name: &str) -> StoreResult<bool> {
    attribute(item, name)?
        .as_bool()
        .copied()
        .map_err(|_| wrong_type(name))
}

pub(super) fn blob<'a>(item: &'a Item, name: &str) -> StoreResult<&'a [u8]> {
    attribute(item, name)?
        .as_b()
        .map(|b| -> &[u8] { b.as_ref() })
        .map_err(|_| wrong_type(name))
}

pub(super) fn epoch_seconds_now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(super) fn put_request(item: Item) -> StoreResult<WriteRequest> {
    let put = PutRequest::builder()
        .set_item(Some(item))
        .build()
        .map_err(backend("PutRequest"))?;
    Ok(WriteRequest::builder().put_request(put).build())
}

pub(super) fn delete_request(item: Item) -> StoreResult<WriteRequest> {
    let key: Item = item
        .into_iter()
        .filter(|(name, _)| name == PK || name == SK)
        .collect();
    let delete = DeleteRequest::builder()
        .set_key(Some(key))
        .build()
        .map_err(backend("DeleteRequest"))?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}
