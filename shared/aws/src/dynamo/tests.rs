use super::batch::into_batches;
use super::codec::{Written, decode_body, encode_body, key_item, put_request, stale_parts};
use super::*;
use sei_jira_core::store::{Record, RecordKind, last_per_key};

#[test]
fn numeric_ids_shard_by_value_and_sort_numerically() {
    assert_eq!(keys::issue_shard("10017"), 10017 % ISSUE_SHARDS);
    assert!(keys::issue_sort("9") < keys::issue_sort("10002"));
    assert_eq!(keys::issue_sort("42"), "00000000000000000042");
    assert!(keys::issue_shard("not-a-number") < ISSUE_SHARDS);
    assert_eq!(
        keys::issue_shard("not-a-number"),
        keys::issue_shard("not-a-number")
    );
}

#[test]
fn part_keys_sort_inside_their_issue_and_name_it() {
    let sort = keys::issue_sort("9");
    let part = keys::part_sort(&sort, "00ab", 3);
    assert_eq!(keys::part_owner(&part), Some((sort.as_str(), "00ab")));
    assert!(part > format!("{sort}#") && part < format!("{sort}#~"));
    assert!(part < keys::issue_sort("10"));
}

#[test]
fn a_written_version_replaces_only_older_parts() {
    let part =
        |generation: &str| key_item("INT#a#PART".into(), keys::part_sort("0009", generation, 0));
    let issue_at_2 = Written {
        generation: Some(format!("{:016x}-aa", 2)),
        rev: Some(2),
    };
    let cell = Written {
        generation: Some("cc".into()),
        rev: None,
    };
    let stale = |written: Written, generation: &str| {
        let current = HashMap::from([("0009".to_string(), written)]);
        stale_parts(vec![part(generation)], &current).unwrap().len() == 1
    };
    let at = |rev: u64, hash: &str| format!("{rev:016x}-{hash}");
    assert!(
        stale(issue_at_2.clone(), &at(1, "bb")),
        "an older revision's parts go"
    );
    assert!(
        stale(issue_at_2.clone(), &at(2, "bb")),
        "a refused writer's parts go"
    );
    assert!(!stale(issue_at_2.clone(), &at(2, "aa")), "its own stay");
    assert!(
        !stale(issue_at_2.clone(), &at(3, "bb")),
        "the next version's, being written, stay"
    );
    assert!(
        stale(issue_at_2, "0123456789abcdef"),
        "parts from before revisions go"
    );
    assert!(stale(cell.clone(), "dd") && !stale(cell, "cc"));
}

#[test]
fn partitions_cover_every_shard_and_record_kind() {
    let all = keys::all_partitions("i");
    assert_eq!(
        all.len(),
        3 * ISSUE_SHARDS as usize + RecordKind::ALL.len() + 14
    );
    assert!(all.contains(&keys::history("i")));
    assert!(all.contains(&keys::dora("i")) && all.contains(&keys::dora_members("i")));
    assert!(all.contains(&keys::parts("i")) && all.contains(&keys::index("i", 15)));
    assert!(all.contains(&keys::hygiene("i")) && all.contains(&keys::snapshots("i")));
    assert!(all.contains(&keys::contributions("i", 15)) && all.contains(&keys::changed("i")));
    assert!(all.contains(&keys::index_cells("i")) && all.contains(&keys::index_cell_parts("i")));
}

#[test]
fn bodies_round_trip_compressed_or_not() {
    let small = Record {
        id: "1".into(),
        data: serde_json::json!({"name": "x"}),
    };
    let (body, encoding) = encode_body(&small).unwrap();
    assert_eq!(encoding, "json");
    assert_eq!(decode_body::<Record>(&body, encoding).unwrap(), small);
    let large = Record {
        id: "2".into(),
        data: serde_json::json!({"text": "word ".repeat(10_000)}),
    };
    let (body, encoding) = encode_body(&large).unwrap();
    assert_eq!(encoding, "gzip");
    assert!(body.len() < 5_000);
    assert_eq!(decode_body::<Record>(&body, encoding).unwrap(), large);
}

#[test]
fn later_writes_of_one_key_win_within_a_call() {
    let values = [("a", 1), ("b", 2), ("a", 3)];
    let kept: Vec<_> = last_per_key(&values, |v| v.0)
        .into_iter()
        .copied()
        .collect();
    assert_eq!(kept, vec![("b", 2), ("a", 3)]);
}

#[test]
fn batches_hold_at_most_the_batch_limit() {
    let requests = (0..60)
        .map(|n| put_request(key_item("p".into(), n.to_string())).unwrap())
        .collect();
    let sizes: Vec<usize> = into_batches(requests).iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![25, 25, 10]);
}
