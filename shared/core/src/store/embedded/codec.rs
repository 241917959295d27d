//! How the embedded store keeps a value: its JSON, compressed with zstd once it is longer than a
//! few hundred bytes; issues with the store's own dictionary.
//!
//! One issue compresses poorly on its own: most of its bytes are field names, users and statuses
//! that every other issue of the site repeats, and a frame of one issue cannot refer to them. The
//! store keeps a dictionary of its site's issues (zstd's raw-content form: the JSON of the first
//! issues it was given, no training) and compresses every later issue against it — about 0.7 KB
//! an issue where it alone takes 1.7 KB (docs/benchmarks.md).

use std::cell::RefCell;
use std::io::Cursor;

use serde::Serialize;
use serde::de::DeserializeOwned;
use zstd::zstd_safe::{self, CCtx, CDict, DCtx, DDict};

use crate::hygiene::facts::{Assignee, IssueFacts};
use crate::hygiene::index::Contribution;
use crate::store::{IssueIndexEntry, StoreError, StoreResult, StoredIssue};

/// Values whose JSON is longer are kept compressed.
const COMPRESS_OVER: usize = 512;
/// The first byte of a value compressed on its own (a zstd frame follows). JSON never starts
/// with it, so values written before compression (plain JSON) still read.
pub(super) const COMPRESSED: u8 = 0x02;
/// The first byte of a value compressed with the store's issue dictionary.
const WITH_DICTIONARY: u8 = 0x03;
/// The first byte of an issue kept with its revision ahead of it (eight bytes, little-endian),
/// its stored form after them: a write moves an issue to its next revision without copying it
/// to change the number inside.
const WITH_REVISION: u8 = 0x04;
/// zstd's level for a value alone: its fastest compresses issue JSON as well as deflate's
/// default, at a fraction of the CPU time (the sync writes while it fetches).
const LEVEL: i32 = 1;
/// zstd's level with the dictionary: level 3 takes no more time than level 1 there (13 µs an
/// issue) and makes issues 13% smaller; level 5 takes twice the time for 8% more.
const DICTIONARY_LEVEL: i32 = 3;
/// The largest value a compressed frame may claim to hold; past it the value is corrupt.
const LARGEST_VALUE: u64 = 256 * 1024 * 1024;
/// How much issue JSON the dictionary holds: the size zstd trains dictionaries to by default; a
/// smaller one finds fewer of a site's users and statuses, a larger one gains little.
pub(super) const DICTIONARY_BYTES: usize = 110 * 1024;

thread_local! {
    // One context per thread, kept: zstd's contexts are hundreds of KiB, and one made for every
    // value costs more in page faults than the compression itself.
    static COMPRESSOR: RefCell<Option<CCtx<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// A store's issue dictionary, prepared once for compressing and for decompressing.
pub(super) struct Dictionary {
    compress: CDict<'static>,
    decompress: DDict<'static>,
}

impl Dictionary {
    pub(super) fn new(content: &[u8]) -> Self {
        Self {
            compress: zstd_safe::create_cdict(content, DICTIONARY_LEVEL),
            decompress: zstd_safe::create_ddict(content),
        }
    }

    /// The content of a dictionary made from these issues' JSON: whole issues, in the order
    /// given, up to [`DICTIONARY_BYTES`]; None while they are too few to fill it (an outsized
    /// issue is passed over: one issue makes a poor sample of a site).
    pub(super) fn content_from<'a>(jsons: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
        let mut content = Vec::with_capacity(DICTIONARY_BYTES);
        for json in jsons {
            if json.len() > DICTIONARY_BYTES / 4 {
                continue;
            }
            let room = DICTIONARY_BYTES - content.len();
            content.extend_from_slice(&json[..json.len().min(room)]);
            if content.len() == DICTIONARY_BYTES {
                return Some(content);
            }
        }
        None
    }
}

pub(super) fn to_json<T: Serialize>(v: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The stored form of a value.
pub(super) fn encode<T: Serialize>(v: &T) -> StoreResult<Vec<u8>> {
    pack(to_json(v)?, None)
}

/// The stored form of a value's JSON, compressed (with `dictionary` when given) if it is long.
pub(super) fn pack(json: Vec<u8>, dictionary: Option<&Dictionary>) -> StoreResult<Vec<u8>> {
    if json.len() <= COMPRESS_OVER {
        return Ok(json);
    }
    let tag = match dictionary {
        Some(_) => WITH_DICTIONARY,
        None => COMPRESSED,
    };
    let mut out = Cursor::new(Vec::with_capacity(
        1 + zstd_safe::compress_bound(json.len()),
    ));
    out.get_mut().push(tag);
    out.set_position(1);
    let written = COMPRESSOR.with_borrow_mut(|kept| {
        let context = kept.get_or_insert_with(CCtx::create);
        match dictionary {
            Some(d) => context.compress_using_cdict(&mut out, &json, &d.compress),
            None => context.compress(&mut out, &json, LEVEL),
        }
    });
    written.map_err(|code| backend_code("compressing a value", code))?;
    Ok(out.into_inner())
}

/// The stored form of an issue's JSON at revision `rev` (the revision in the JSON is not read).
pub(super) fn pack_issue(
    json: Vec<u8>,
    rev: u64,
    dictionary: Option<&Dictionary>,
) -> StoreResult<Vec<u8>> {
    let packed = pack(json, dictionary)?;
    let mut out = Vec::with_capacity(9 + packed.len());
    out.push(WITH_REVISION);
    out.extend_from_slice(&rev.to_le_bytes());
    out.extend_from_slice(&packed);
    Ok(out)
}

/// An issue read back, whichever form it was kept in.
pub(super) fn decode_issue(
    bytes: &[u8],
    dictionary: Option<&Dictionary>,
) -> StoreResult<StoredIssue> {
    let Some((&WITH_REVISION, rest)) = bytes.split_first() else {
        return decode(bytes, dictionary);
    };
    let Some((rev, packed)) = rest.split_first_chunk::<8>() else {
        return Err(StoreError::Corrupt(
            "an issue cut short in its revision".into(),
        ));
    };
    Ok(StoredIssue {
        rev: u64::from_le_bytes(*rev),
        ..decode(packed, dictionary)?
    })
}

/// A stored value read back; `dictionary` is the store's, needed by issues compressed with it.
pub(super) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    dictionary: Option<&Dictionary>,
) -> StoreResult<T> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let (with_dictionary, frame) = match bytes.split_first() {
        Some((&COMPRESSED, frame)) => (None, frame),
        Some((&WITH_DICTIONARY, frame)) => match dictionary {
            Some(d) => (Some(d), frame),
            None => {
                return Err(StoreError::Corrupt(
                    "a value compressed with the store's dictionary, and the store has none".into(),
                ));
            }
        },
        _ => return serde_json::from_slice(bytes).map_err(corrupt),
    };
    let bad = |why: String| StoreError::Corrupt(format!("a compressed value: {why}"));
    let size = match zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= LARGEST_VALUE => size as usize,
        other => return Err(bad(format!("content size {other:?}"))),
    };
    let mut json = Vec::with_capacity(size);
    let read = DECOMPRESSOR.with_borrow_mut(|kept| {
        let context = kept.get_or_insert_with(DCtx::create);
        match with_dictionary {
            Some(d) => context.decompress_using_ddict(&mut json, frame, &d.decompress),
            None => context.decompress(&mut json, frame),
        }
    });
    read.map_err(|code| bad(zstd_safe::get_error_name(code).to_string()))?;
    serde_json::from_slice(&json).map_err(corrupt)
}

/// An index entry as the store keeps it: positional, a fifth of its named JSON (every issue has
/// one, and the sync reads them all).
#[derive(serde::Serialize, serde::Deserialize)]
struct PackedEntry(String, String, i64, u8, u64);

/// Index entries as the store has kept them: packed, or named as before.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum KeptEntry {
    Packed(PackedEntry),
    Named(IssueIndexEntry),
}

const DELETED: u8 = 1;
const HIDDEN: u8 = 2;
const REMOVED: u8 = 4;
const OUT_OF_SCOPE: u8 = 8;

pub(super) fn encode_entry(e: &IssueIndexEntry) -> StoreResult<Vec<u8>> {
    let flag = |set: bool, bit: u8| if set { bit } else { 0 };
    let flags = flag(e.deleted, DELETED)
        | flag(e.hidden, HIDDEN)
        | flag(e.removed, REMOVED)
        | flag(e.out_of_scope, OUT_OF_SCOPE);
    let packed = PackedEntry(
        e.id.clone(),
        e.project_key.clone(),
        e.updated_ms,
        flags,
        e.rev,
    );
    to_json(&packed)
}

pub(super) fn decode_entry(bytes: &[u8]) -> StoreResult<IssueIndexEntry> {
    Ok(match decode(bytes, None)? {
        KeptEntry::Named(entry) => entry,
        KeptEntry::Packed(PackedEntry(id, project_key, updated_ms, flags, rev)) => {
            IssueIndexEntry {
                id,
                project_key,
                updated_ms,
                deleted: flags & DELETED != 0,
                hidden: flags & HIDDEN != 0,
                removed: flags & REMOVED != 0,
                out_of_scope: flags & OUT_OF_SCOPE != 0,
                rev,
            }
        }
    })
}

/// A hygiene contribution as the store keeps it: positional, under half its named JSON (every
/// counted issue has one). In order: created, updated, resolved, flags (due date, active
/// sprint), the assignee (id, active), components, description characters, first comment, first
/// and last status change, project, issue type, priority, status, status category, the custom
/// misses.
#[derive(serde::Serialize, serde::Deserialize)]
struct PackedContribution(
    Option<i64>,
    i64,
    Option<i64>,
    u8,
    Option<(String, Option<bool>)>,
    usize,
    Option<usize>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<bool>,
);

/// Contributions as the store has kept them: packed, or named as before.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum KeptContribution {
    Packed(Box<PackedContribution>),
    Named(Box<Contribution>),
}

const DUE_DATE: u8 = 1;
const ACTIVE_SPRINT: u8 = 2;

pub(super) fn encode_contribution(c: &Contribution) -> StoreResult<Vec<u8>> {
    let f = &c.facts;
    let flags =
        (u8::from(f.has_due_date) * DUE_DATE) | (u8::from(f.in_active_sprint) * ACTIVE_SPRINT);
    let packed = PackedContribution(
        f.created_ms,
        f.updated_ms,
        f.resolved_ms,
        flags,
        f.assignee.as_ref().map(|a| (a.id.clone(), a.active)),
        f.components,
        f.description_chars,
        f.first_comment_ms,
        f.first_status_change_ms,
        f.last_status_change_ms,
        f.project.clone(),
        f.issue_type.clone(),
        f.priority.clone(),
        f.status.clone(),
        f.status_category.clone(),
        c.custom.clone(),
    );
    to_json(&packed)
}

pub(super) fn decode_contribution(bytes: &[u8]) -> StoreResult<Contribution> {
    let packed = match decode(bytes, None)? {
        KeptContribution::Named(c) => return Ok(*c),
        KeptContribution::Packed(p) => *p,
    };
    let PackedContribution(
        created_ms,
        updated_ms,
        resolved_ms,
        flags,
        assignee,
        components,
        description_chars,
        first_comment_ms,
        first_status_change_ms,
        last_status_change_ms,
        project,
        issue_type,
        priority,
        status,
        status_category,
        custom,
    ) = packed;
    Ok(Contribution {
        facts: IssueFacts {
            created_ms,
            updated_ms,
            resolved_ms,
            has_due_date: flags & DUE_DATE != 0,
            assignee: assignee.map(|(id, active)| Assignee { id, active }),
            components,
            description_chars,
            first_comment_ms,
            first_status_change_ms,
            last_status_change_ms,
            in_active_sprint: flags & ACTIVE_SPRINT != 0,
            project,
            issue_type,
            priority,
            status,
            status_category,
        },
        custom,
    })
}

fn backend_code(what: &str, code: zstd_safe::ErrorCode) -> StoreError {
    StoreError::Backend(format!("{what}: {}", zstd_safe::get_error_name(code)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoredIssue;

    /// An issue shaped like a synced one: people, statuses and changes that other issues repeat.
    fn issue(n: u32, description: &str) -> StoredIssue {
        let people = ["Léa Martin", "Emma Dubois", "Ivan Petrov", "Ravi Kumar"];
        let statuses = ["To Do", "In Progress", "In Review", "Done"];
        let changes: Vec<_> = (0..6u32)
            .map(|c| {
                let who = people[((n + c) % 4) as usize];
                serde_json::json!({
                    "author": {"accountId": format!("5b4efce5{:016x}", (n + c) % 4), "displayName": who,
                               "emailAddress": format!("{}@example.com", who.to_lowercase().replace(' ', ".")),
                               "timeZone": "Asia/Tokyo", "active": true},
                    "created": format!("2024-12-{:02}T04:29:37.{:03}-1000", 1 + (n + c) % 28, n % 1000),
                    "items": [{"field": "status", "fieldtype": "jira",
                               "fromString": statuses[(c % 4) as usize], "toString": statuses[((c + 1) % 4) as usize]}],
                })
            })
            .collect();
        StoredIssue {
            id: n.to_string(),
            key: format!("P-{n}"),
            fields: serde_json::json!({
                "description": description,
                "assignee": {"accountId": "5b4efce566a7e81949820cfd", "displayName": people[(n % 4) as usize]},
                "status": {"id": "10001", "name": statuses[(n % 4) as usize], "statusCategory": {"key": "indeterminate"}},
                "history": changes,
            })
            .as_object()
            .unwrap()
            .clone(),
            ..StoredIssue::default()
        }
    }

    #[test]
    fn contributions_are_kept_packed_and_those_kept_named_before_still_read() {
        let full = Contribution {
            facts: IssueFacts {
                created_ms: Some(1),
                updated_ms: 2,
                resolved_ms: Some(3),
                has_due_date: true,
                assignee: Some(Assignee {
                    id: "5b4efce566a7e81949820cfd".into(),
                    active: Some(false),
                }),
                components: 2,
                description_chars: Some(140),
                first_comment_ms: Some(4),
                first_status_change_ms: Some(5),
                last_status_change_ms: Some(6),
                in_active_sprint: true,
                project: "PLAT".into(),
                issue_type: Some("Bug".into()),
                priority: Some("High".into()),
                status: Some("In Review".into()),
                status_category: Some("In Progress".into()),
            },
            custom: vec![true, false],
        };
        let bare = Contribution {
            facts: IssueFacts {
                project: "P".into(),
                ..IssueFacts::default()
            },
            custom: Vec::new(),
        };
        for c in [full, bare] {
            let named = serde_json::to_vec(&c).unwrap();
            let packed = encode_contribution(&c).unwrap();
            assert!(
                packed.len() * 2 < named.len(),
                "{} of {}",
                packed.len(),
                named.len()
            );
            assert_eq!(decode_contribution(&packed).unwrap(), c);
            assert_eq!(decode_contribution(&named).unwrap(), c);
        }
    }

    #[test]
    fn large_values_are_kept_compressed_and_plain_json_written_before_still_reads() {
        let issue = issue(10001, &"word ".repeat(2_000));
        let plain = serde_json::to_vec(&issue).unwrap();
        let kept = encode(&issue).unwrap();
        assert_eq!(kept[0], COMPRESSED);
        assert!(
            kept.len() * 10 < plain.len(),
            "{} of {}",
            kept.len(),
            plain.len()
        );
        assert_eq!(decode::<StoredIssue>(&kept, None).unwrap(), issue);
        assert_eq!(decode::<StoredIssue>(&plain, None).unwrap(), issue);
        let small = encode(&"short").unwrap();
        assert_eq!(small, b"\"short\"");
        assert!(matches!(
            decode::<StoredIssue>(&[COMPRESSED, 0xff, 0x00], None),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn issues_compressed_with_the_dictionary_are_smaller_and_read_back_only_with_it() {
        // GIVEN a dictionary made from issues like the ones to come
        let text = |n: u32| format!("{n} steps to reproduce the crash on {}", n * 7919);
        let samples: Vec<Vec<u8>> = (0..2_000)
            .map(|n| to_json(&issue(n, &text(n))).unwrap())
            .collect();
        let content = Dictionary::content_from(samples.iter().map(Vec::as_slice)).unwrap();
        assert_eq!(content.len(), DICTIONARY_BYTES);
        let dictionary = Dictionary::new(&content);
        // WHEN a later issue is kept with it and without it
        let later = issue(5_000, &text(5_000));
        let alone = pack(to_json(&later).unwrap(), None).unwrap();
        let with = pack(to_json(&later).unwrap(), Some(&dictionary)).unwrap();
        // THEN it is smaller with it, reads back with it, and is refused as corrupt without it
        assert!(
            with.len() * 2 < alone.len(),
            "{} vs {}",
            with.len(),
            alone.len()
        );
        assert_eq!(
            decode::<StoredIssue>(&with, Some(&dictionary)).unwrap(),
            later
        );
        assert_eq!(
            decode::<StoredIssue>(&alone, Some(&dictionary)).unwrap(),
            later
        );
        assert!(matches!(
            decode::<StoredIssue>(&with, None),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn an_issue_reads_back_at_the_revision_kept_ahead_of_it_and_earlier_forms_still_read() {
        let at_3 = StoredIssue {
            rev: 3,
            ..issue(7, "short")
        };
        let kept = pack_issue(to_json(&at_3).unwrap(), 4, None).unwrap();
        assert_eq!(
            decode_issue(&kept, None).unwrap(),
            StoredIssue {
                rev: 4,
                ..at_3.clone()
            }
        );
        assert_eq!(decode_issue(&encode(&at_3).unwrap(), None).unwrap(), at_3);
        assert!(matches!(
            decode_issue(&kept[..5], None),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn index_entries_are_kept_packed_and_named_ones_written_before_still_read() {
        let entry = IssueIndexEntry {
            id: "10042".into(),
            project_key: "PLAT".into(),
            updated_ms: 1_733_236_177_590,
            deleted: true,
            hidden: false,
            removed: true,
            out_of_scope: true,
            rev: 7,
        };
        let packed = encode_entry(&entry).unwrap();
        assert_eq!(packed, br#"["10042","PLAT",1733236177590,13,7]"#);
        assert_eq!(decode_entry(&packed).unwrap(), entry);
        let named = serde_json::to_vec(&entry).unwrap();
        assert_eq!(decode_entry(&named).unwrap(), entry);
    }

    #[test]
    fn too_few_issues_make_no_dictionary_and_an_outsized_one_is_passed_over() {
        let small = vec![b'x'; DICTIONARY_BYTES / 8];
        let outsized = vec![b'y'; DICTIONARY_BYTES / 2];
        assert_eq!(Dictionary::content_from([small.as_slice(); 7]), None);
        let content =
            Dictionary::content_from([small.as_slice(), outsized.as_slice()].repeat(8)).unwrap();
        assert!(content.iter().all(|&b| b == b'x'));
    }
}
