//! The DynamoDB store when DynamoDB pushes back, as a hot partition makes it: throttled batch
//! calls (`ProvisionedThroughputExceededException`) and batches only partly processed
//! (`UnprocessedItems`, `UnprocessedKeys`), and transactions cancelled because they collided
//! with others on the same items. moto never does any of these, so a loopback proxy in front of
//! it does: it throttles the first few BatchWriteItem calls outright, cancels the first few
//! TransactWriteItems calls as conflicting, and of every other batch it forwards only the first
//! half to moto, answering the rest as unprocessed.
//!
//! GIVEN that proxy, WHEN the store writes and reads issues through it, THEN every item lands
//! once and every key is read, with the retries counted by the proxy.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sei_jira_aws::dynamo::DynamoStore;
use sei_jira_core::store::{HygieneIndexStore, IssueStore, StoredIssue, whole_issue_index};
use serde_json::{Value, json};

fn moto() -> &'static e2e::Moto {
    static MOTO: OnceLock<e2e::Moto> = OnceLock::new();
    MOTO.get_or_init(e2e::start_moto)
}

/// What the proxy did, for the test to check that the store met each kind of push-back.
#[derive(Default)]
struct Pushback {
    /// BatchWriteItem calls still to throttle.
    throttles_left: AtomicUsize,
    throttled: AtomicUsize,
    /// TransactWriteItems calls still to cancel as conflicting.
    conflicts_left: AtomicUsize,
    collided: AtomicUsize,
    /// Write requests and keys handed back as unprocessed.
    deferred_writes: AtomicUsize,
    deferred_keys: AtomicUsize,
    /// Refuse every BatchWriteItem outright, as a write that never happens: a Lambda stopped, or
    /// a fault the store gives up on.
    refuse_batch_writes: std::sync::atomic::AtomicBool,
    refused: AtomicUsize,
}

struct Proxy {
    upstream: String,
    http: reqwest::Client,
    pushback: Arc<Pushback>,
}

const COLLIDED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]","CancellationReasons":[{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"},{"Code":"None"}]}"#;
const REFUSED: &str = r#"{"__type":"com.amazon.coral.validation#ValidationException","message":"refused by the test's proxy"}"#;
const THROTTLED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#;

/// Starts the proxy on a free loopback port in front of `upstream`, throttling the first
/// `throttles` BatchWriteItem calls and cancelling as many TransactWriteItems calls; returns its
/// endpoint and its counters.
async fn start_proxy(upstream: &str, throttles: usize) -> (String, Arc<Pushback>) {
    let pushback = Arc::new(Pushback::default());
    pushback.throttles_left.store(throttles, Ordering::SeqCst);
    pushback.conflicts_left.store(throttles, Ordering::SeqCst);
    let proxy = Arc::new(Proxy {
        upstream: upstream.to_string(),
        http: reqwest::Client::new(),
        pushback: pushback.clone(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(relay).with_state(proxy);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (endpoint, pushback)
}

/// Splits a batch's list in two: the first half goes to moto, the rest comes back unprocessed.
/// A list of one goes whole, so every round makes progress.
fn hold_back_half(list: &mut Vec<Value>) -> Vec<Value> {
    if list.len() < 2 {
        return Vec::new();
    }
    list.split_off(list.len() / 2)
}

async fn relay(State(proxy): State<Arc<Proxy>>, headers: HeaderMap, body: Bytes) -> Response {
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or_default()
        .to_string();
    let pushback = &proxy.pushback;
    if operation == "BatchWriteItem" && pushback.refuse_batch_writes.load(Ordering::SeqCst) {
        pushback.refused.fetch_add(1, Ordering::SeqCst);
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/x-amz-json-1.0")],
            REFUSED,
        )
            .into_response();
    }
    if operation == "BatchWriteItem"
        && pushback
            .throttles_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        pushback.throttled.fetch_add(1, Ordering::SeqCst);
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/x-amz-json-1.0")],
            THROTTLED,
        )
            .into_response();
    }

    if operation == "TransactWriteItems"
        && pushback
            .conflicts_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        pushback.collided.fetch_add(1, Ordering::SeqCst);
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/x-amz-json-1.0")],
            COLLIDED,
        )
            .into_response();
    }

    let mut request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    // (table, what goes back unprocessed) for the two batch operations.
    let mut held = Vec::new();
    if let Some(tables) = request["RequestItems"].as_object_mut() {
        for (table, items) in tables.iter_mut() {
            let rest = match operation.as_str() {
                "BatchWriteItem" => items.as_array_mut().map(hold_back_half),
                "BatchGetItem" => items["Keys"].as_array_mut().map(hold_back_half),
                _ => None,
            };
            if let Some(rest) = rest.filter(|r| !r.is_empty()) {
                let mut unprocessed = items.clone();
                match operation.as_str() {
                    "BatchWriteItem" => {
                        pushback
                            .deferred_writes
                            .fetch_add(rest.len(), Ordering::SeqCst);
                        unprocessed = Value::Array(rest);
                    }
                    _ => {
                        pushback
                            .deferred_keys
                            .fetch_add(rest.len(), Ordering::SeqCst);
                        unprocessed["Keys"] = Value::Array(rest);
                    }
                }
                held.push((table.clone(), unprocessed));
            }
        }
    }

    let mut forward = proxy.http.post(&proxy.upstream);
    for name in [
        "content-type",
        "x-amz-target",
        "x-amz-date",
        "authorization",
    ] {
        if let Some(value) = headers.get(name) {
            forward = forward.header(name, value.as_bytes());
        }
    }
    let sent = if request.is_null() {
        forward.body(body.to_vec())
    } else {
        forward.body(serde_json::to_vec(&request).unwrap())
    };
    let answer = sent.send().await.expect("moto answers");
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let content_type = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-amz-json-1.0")
        .to_string();
    let mut text = answer.bytes().await.unwrap().to_vec();
    if status.is_success() && !held.is_empty() {
        let mut out: Value = serde_json::from_slice(&text).unwrap();
        let field = if operation == "BatchWriteItem" {
            "UnprocessedItems"
        } else {
            "UnprocessedKeys"
        };
        if !out[field].is_object() {
            out[field] = json!({});
        }
        for (table, unprocessed) in held {
            out[field][table] = unprocessed;
        }
        text = serde_json::to_vec(&out).unwrap();
    }
    (status, [("content-type", content_type)], text).into_response()
}

/// A new table on moto named after `purpose`, and a store reaching it directly.
async fn new_table(purpose: &str) -> (String, DynamoStore) {
    let table = format!("sei-jira-{purpose}-{}", std::process::id());
    let config = sei_jira_aws::local_sdk_config(moto().endpoint(), "us-east-1")
        .await
        .unwrap();
    DynamoStore::create_table(&aws_sdk_dynamodb::Client::new(&config), &table)
        .await
        .unwrap();
    let direct = store_at(moto().endpoint(), &table).await;
    (table, direct)
}

/// A store whose client reaches DynamoDB only through `endpoint` (the proxy, or moto itself).
async fn store_at(endpoint: &str, table: &str) -> DynamoStore {
    let config = sei_jira_aws::local_sdk_config(endpoint, "us-east-1")
        .await
        .unwrap();
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table.to_string())
}

fn issue(id: u32) -> StoredIssue {
    StoredIssue {
        id: id.to_string(),
        key: format!("HOT-{id}"),
        project_key: "HOT".into(),
        updated_ms: 1_700_000_000_000 + i64::from(id),
        ..StoredIssue::default()
    }
}

/// An issue too large for one item even compressed (text that does not compress), so it is
/// written in parts, by BatchWriteItem, before its transaction.
fn split_issue(id: u32) -> StoredIssue {
    let mut state = u64::from(id) | 1;
    let noise: String = (0..900_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'!' + (state % 90) as u8)
        })
        .collect();
    let mut issue = issue(id);
    issue
        .fields
        .insert("customfield_noise".into(), Value::String(noise));
    issue
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_and_partly_processed_batches_are_retried_until_everything_is_stored() {
    let (table, direct) = new_table("load").await;
    // More throttles in a row than the SDK's own three attempts: the store's retry must
    // take over from the SDK's.
    let (endpoint, pushback) = start_proxy(moto().endpoint(), 4).await;
    let loaded = store_at(&endpoint, &table).await;

    // Every tenth issue is split into parts: the parts are the batch writes.
    let issues: Vec<StoredIssue> = (1..=60)
        .map(|id| {
            if id % 10 == 0 {
                split_issue(id)
            } else {
                issue(id)
            }
        })
        .collect();
    loaded
        .put_issues("a", &issues)
        .await
        .unwrap()
        .expect_none()
        .unwrap();
    assert_eq!(pushback.throttled.load(Ordering::SeqCst), 4);
    assert_eq!(pushback.collided.load(Ordering::SeqCst), 4);
    assert!(
        pushback.deferred_writes.load(Ordering::SeqCst) > 0,
        "the proxy handed writes back unprocessed"
    );

    // Read straight from moto: every issue and index entry, once.
    let stored = direct.list_issues("a", None, usize::MAX).await.unwrap();
    let ids_of = |issues: &[StoredIssue]| issues.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids_of(&stored), ids_of(&issues), "every issue, once");
    let as_stored: Vec<StoredIssue> = issues
        .iter()
        .map(|i| StoredIssue {
            rev: 1,
            ..i.clone()
        })
        .collect();
    assert_eq!(stored, as_stored, "each at its first revision");
    let index = whole_issue_index(&direct, "a").await.unwrap();
    assert_eq!(index.len(), 60);

    // Reads whose keys come back unprocessed are asked again until all are answered.
    let ids: Vec<String> = (1..=60).map(|n: u32| n.to_string()).collect();
    let mut entries = loaded.index_entries("a", &ids).await.unwrap();
    entries.sort_by_key(|e| e.id.parse::<u32>().unwrap());
    assert_eq!(entries, index);
    assert!(
        pushback.deferred_keys.load(Ordering::SeqCst) > 0,
        "the proxy handed keys back unprocessed"
    );
}

/// GIVEN a store whose every BatchWriteItem fails (the write that would come after the issues'
/// transactions), WHEN it writes issues, THEN each issue that landed has its change mark: the
/// indexers can never miss an issue the sync holds at its current version (the next run would not
/// write it again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_issue_lands_without_its_change_mark() {
    let (table, direct) = new_table("marks").await;
    let (endpoint, pushback) = start_proxy(moto().endpoint(), 0).await;
    pushback.refuse_batch_writes.store(true, Ordering::SeqCst);
    let broken = store_at(&endpoint, &table).await;

    let issues: Vec<StoredIssue> = (1..=20).map(issue).collect();
    // Whether the call reports the fault or not, what it stored must hold together.
    let _ = broken.put_issues("a", &issues).await;
    let landed: Vec<String> = whole_issue_index(&direct, "a")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert!(!landed.is_empty(), "the issues' transactions went through");
    let mut marked: Vec<String> = direct
        .changed_issues("a", usize::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    marked.sort_by_key(|id| id.parse::<u32>().unwrap());
    marked.dedup();
    let mut landed_sorted = landed.clone();
    landed_sorted.sort_by_key(|id| id.parse::<u32>().unwrap());
    assert_eq!(
        marked, landed_sorted,
        "a change mark for every issue stored"
    );
}
