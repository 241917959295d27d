//! One behaviour suite for every `Store` adapter: each behaviour below runs against the embedded
//! (redb) store and against the DynamoDB store, the latter on moto (the AWS emulator) on
//! 127.0.0.1, so both adapters are held to the same contract.
//!
//! All DynamoDB tests share one moto server, each with a table of its own.

use sei_jira_core::dora::DoraConfig;
use sei_jira_core::dora::DoraFacts;
use sei_jira_core::dora::index::DoraHeads;
use sei_jira_core::hygiene::HygieneConfig;
use sei_jira_core::hygiene::Snapshot;
use sei_jira_core::hygiene::history::{HistoryBuild, Sum};
use sei_jira_core::hygiene::index::Contribution;
use sei_jira_core::hygiene::index::IndexHead;
use sei_jira_core::hygiene::index::IndexedCell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use e2e::Moto;
use sei_jira_aws::dynamo::DynamoStore;
use sei_jira_core::hygiene;
use sei_jira_core::jira::models::{Comment, History};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::*;
use serde_json::json;

/// A store under test, with whatever must outlive it.
struct Subject {
    store: Box<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

fn embedded() -> Subject {
    let dir = tempfile::tempdir().unwrap();
    Subject {
        store: Box::new(EmbeddedStore::open(&dir.path().join("store.redb")).unwrap()),
        _dir: Some(dir),
    }
}

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(e2e::start_moto)
}

/// A fresh table on the shared moto, through a client that can only reach moto: an explicit
/// loopback endpoint, a region and dummy static credentials.
async fn dynamodb_table() -> (aws_sdk_dynamodb::Client, String) {
    static TABLES: AtomicUsize = AtomicUsize::new(0);
    let endpoint = moto().endpoint();
    let config = sei_jira_aws::local_sdk_config(endpoint, "us-east-1")
        .await
        .unwrap();
    let client_config = aws_sdk_dynamodb::config::Builder::from(&config)
        .endpoint_url(endpoint)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(client_config);
    let table = format!(
        "sei-jira-{}-{}",
        std::process::id(),
        TABLES.fetch_add(1, Ordering::Relaxed)
    );
    DynamoStore::create_table(&client, &table).await.unwrap();
    (client, table)
}

async fn dynamodb() -> Subject {
    let (client, table) = dynamodb_table().await;
    Subject {
        store: Box::new(DynamoStore::new(client, table)),
        _dir: None,
    }
}

/// Runs each named behaviour against both stores, as `embedded::NAME` and `dynamodb::NAME`.
macro_rules! conformance {
    ($($behaviour:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    let subject = super::embedded();
                    super::behaviours::$behaviour(&*subject.store).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    let subject = super::dynamodb().await;
                    super::behaviours::$behaviour(&*subject.store).await;
                }
            )*
        }
    };
}

conformance!(
    upserts_by_id_and_lists_in_id_order_across_shards,
    index_projects_every_issue_with_its_flags,
    index_entries_are_read_for_the_ids_asked,
    flags_set_and_clear_and_report_missing_issues,
    writes_from_a_superseded_revision_are_refused_and_change_nothing,
    removal_keeps_a_tombstone_without_content,
    issues_over_the_item_size_limit_round_trip,
    records_are_upserted_and_listed_per_kind,
    projects_keep_their_first_onboarding_time,
    cursors_are_kept_per_unit,
    leases_are_exclusive_until_expiry_or_release,
    runs_are_listed_since_a_time,
    daily_counters_add_up_even_when_concurrent,
    calls_are_counted_per_account_kind_and_window_even_when_concurrent,
    integrations_are_visible_only_to_their_account,
    replacing_an_integration_never_brings_a_deleted_one_back,
    of_concurrent_creates_with_one_id_exactly_one_lands,
    deleting_an_integration_removes_all_its_data_and_nothing_else,
    a_snapshot_taken_across_a_deletion_is_swept_and_its_target_withdrawn,
    a_deletion_fences_writers_that_outlive_it,
    hygiene_settings_keep_only_a_change_made_over_the_stored_version,
    snapshots_are_kept_one_a_day_and_listed_by_range,
    the_history_build_its_sums_and_points_round_trip,
    every_issue_write_leaves_a_mark_and_clearing_takes_exactly_those,
    the_hygiene_index_head_cells_and_contributions_round_trip,
    hygiene_cells_over_the_item_size_limit_round_trip,
    dora_profiles_keep_only_a_change_made_over_the_stored_version,
    dora_members_are_kept_per_profile_in_issue_order,
);

mod behaviours {
    use super::*;

    pub fn issue(id: &str, project: &str) -> StoredIssue {
        StoredIssue {
            id: id.into(),
            key: format!("{project}-{id}"),
            project_key: project.into(),
            updated_ms: 1,
            ..StoredIssue::default()
        }
    }

    fn ids(issues: &[StoredIssue]) -> Vec<String> {
        issues.iter().map(|i| i.id.clone()).collect()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    /// Text that gzip cannot shrink much (a xorshift stream over 64 symbols).
    pub fn incompressible_text(len: usize, seed: u64) -> String {
        const SYMBOLS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                SYMBOLS[(state % 64) as usize] as char
            })
            .collect()
    }

    pub fn integration(account: &str, id: &str) -> IntegrationRecord {
        IntegrationRecord {
            account: account.into(),
            id: id.into(),
            name: format!("Jira of {account}"),
            description: "the main site".into(),
            tags: vec!["prod".into()],
            deployment: sei_jira_core::jira::Deployment::Cloud,
            url: "https://example.atlassian.net".into(),
            email: Some("alice@example.com".into()),
            secret_name: format!("sei-jira/{id}"),
            scope: ScopeConfig::Projects {
                keys: vec!["PLAT".into(), "WEB".into()],
            },
            excluded_fields: vec!["description".into()],
            custom_fields: vec!["Severity".into(), "customfield_10050".into()],
            schedule_rate: "rate(1 hour)".into(),
            created_ms: 1_000,
            updated_ms: 1_000,
        }
    }

    pub async fn upserts_by_id_and_lists_in_id_order_across_shards(s: &dyn Store) {
        // Ids that land in many shards, stored out of order and over two calls.
        let mut expected: Vec<u64> = (0..40).map(|n| 10_000 + n * 7 + n % 3).collect();
        expected.extend([9, 1_000_000_123]);
        let (first, second): (Vec<u64>, Vec<u64>) =
            expected.iter().rev().partition(|n| *n % 2 == 0);
        for half in [first, second] {
            let issues: Vec<StoredIssue> =
                half.iter().map(|n| issue(&n.to_string(), "P")).collect();
            s.put_issues("a", &issues)
                .await
                .unwrap()
                .expect_none()
                .unwrap();
        }
        expected.sort();
        let expected: Vec<String> = expected.iter().map(u64::to_string).collect();

        let moved = StoredIssue {
            key: "R-1".into(),
            project_key: "R".into(),
            rev: 1,
            ..issue("10008", "P")
        };
        s.put_issues("a", &[moved])
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        s.put_issues("b", &[issue("1", "X")])
            .await
            .unwrap()
            .expect_none()
            .unwrap();

        let all = s.list_issues("a", None, 1_000).await.unwrap();
        assert_eq!(
            ids(&all),
            expected,
            "one list holds every issue once, in id order"
        );
        assert_eq!(s.get_issue("a", "10008").await.unwrap().unwrap().key, "R-1");
        assert_eq!(
            s.get_issue("a", "1").await.unwrap(),
            None,
            "integrations never mix"
        );

        let mut paged = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = s.list_issues("a", after.as_deref(), 7).await.unwrap();
            assert!(page.len() <= 7);
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            paged.extend(ids(&page));
        }
        assert_eq!(paged, expected, "paging visits every issue once, in order");
        assert_eq!(
            ids(&s.list_issues("a", Some("10009"), 2).await.unwrap()),
            expected[3..5],
            "`after` need not be a stored id"
        );
        assert!(s.list_issues("a", None, 0).await.unwrap().is_empty());
        assert_eq!(whole_issue_index(s, "b").await.unwrap().len(), 1);

        // The index pages the same way, each entry with its issue's project as last written.
        let mut index_paged = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = s.index_page("a", after.as_deref(), 7).await.unwrap();
            assert!(page.len() <= 7);
            let Some(last) = page.last() else { break };
            after = Some(last.id.clone());
            index_paged.extend(page);
        }
        let index_ids: Vec<String> = index_paged.iter().map(|e| e.id.clone()).collect();
        assert_eq!(
            index_ids, expected,
            "the index pages in id order, each id once"
        );
        let moved = index_paged.iter().find(|e| e.id == "10008").unwrap();
        assert_eq!((moved.project_key.as_str(), moved.rev), ("R", 2));
        let after_unstored: Vec<String> = s
            .index_page("a", Some("10009"), 2)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(
            after_unstored,
            expected[3..5],
            "`after` need not be a stored id"
        );
    }

    pub async fn index_projects_every_issue_with_its_flags(s: &dyn Store) {
        let issues: Vec<StoredIssue> = (1..=20)
            .map(|n| StoredIssue {
                updated_ms: 100 + n,
                ..issue(&n.to_string(), if n % 2 == 0 { "EVEN" } else { "ODD" })
            })
            .collect();
        s.put_issues("a", &issues)
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        s.flag_issue("a", "3", IssueFlag::Hidden).await.unwrap();
        s.flag_issue("a", "4", IssueFlag::Deleted { at_ms: 9 })
            .await
            .unwrap();
        s.flag_issue("a", "5", IssueFlag::Removed).await.unwrap();
        s.flag_issue("a", "6", IssueFlag::OutOfScope).await.unwrap();

        let mut index = whole_issue_index(s, "a").await.unwrap();
        index.sort_by_key(|e| e.id.parse::<u64>().unwrap());
        assert_eq!(index.len(), 20);
        assert_eq!(
            index[3],
            IssueIndexEntry {
                id: "4".into(),
                project_key: "EVEN".into(),
                updated_ms: 104,
                deleted: true,
                hidden: false,
                removed: false,
                out_of_scope: false,
                rev: 2,
            }
        );
        assert!(index[2].hidden && !index[2].deleted);
        assert!(index[5].out_of_scope && !index[5].deleted && !index[4].out_of_scope);
        assert!(index[4].removed);
        assert!(index[0].project_key == "ODD" && !index[0].hidden && index[0].updated_ms == 101);
        assert!(whole_issue_index(s, "other").await.unwrap().is_empty());
    }

    pub async fn index_entries_are_read_for_the_ids_asked(s: &dyn Store) {
        // 150 ids: more than one BatchGetItem's worth of keys.
        let issues: Vec<StoredIssue> = (1..=150).map(|n| issue(&n.to_string(), "P")).collect();
        s.put_issues("a", &issues)
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        s.put_issues("b", &[issue("7", "Q")])
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        assert!(s.flag_issue("a", "7", IssueFlag::Hidden).await.unwrap());
        assert!(s.flag_issue("a", "140", IssueFlag::Removed).await.unwrap());

        let asked: Vec<String> = (1..=150)
            .step_by(3)
            .chain([140, 9_999])
            .map(|n: u32| n.to_string())
            .collect();
        let mut got = s.index_entries("a", &asked).await.unwrap();
        got.sort_by_key(|e| e.id.parse::<u64>().unwrap());
        let mut want: Vec<u64> = (1..=150).step_by(3).chain([140]).collect();
        want.sort();
        want.dedup();
        assert_eq!(
            got.iter()
                .map(|e| e.id.parse::<u64>().unwrap())
                .collect::<Vec<_>>(),
            want,
            "each stored id asked for, once; unknown ids are left out"
        );
        let flags = |id: &str| {
            let e = got.iter().find(|e| e.id == id).unwrap();
            (e.project_key.as_str(), e.hidden, e.removed)
        };
        assert_eq!(
            flags("7"),
            ("P", true, false),
            "integration a's issue 7, not b's"
        );
        assert_eq!(flags("140"), ("P", false, true));
        assert_eq!(flags("4"), ("P", false, false));
        assert!(s.index_entries("a", &[]).await.unwrap().is_empty());
    }

    pub async fn writes_from_a_superseded_revision_are_refused_and_change_nothing(s: &dyn Store) {
        // GIVEN a stored issue, and a writer that read it
        s.put_issues("a", &[issue("7", "P")])
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        let read = s.get_issue("a", "7").await.unwrap().unwrap();
        assert_eq!(read.rev, 1);

        // WHEN it is hidden by hand, and then the writer writes its copy beside a new issue
        assert!(s.flag_issue("a", "7", IssueFlag::Hidden).await.unwrap());
        let stale = StoredIssue {
            key: "P-70".into(),
            updated_ms: read.updated_ms + 1,
            ..read.clone()
        };
        let refused = s.put_issues("a", &[stale, issue("8", "P")]).await.unwrap();

        // THEN only the stale copy is refused, and the hide stands
        assert_eq!(refused, Superseded(vec!["7".into()]));
        let now = s.get_issue("a", "7").await.unwrap().unwrap();
        assert!(now.hidden && now.key == read.key && now.rev == 2, "{now:?}");
        assert_eq!(s.index_entries("a", &["7".into()]).await.unwrap()[0].rev, 2);
        assert_eq!(s.get_issue("a", "8").await.unwrap().unwrap().rev, 1);

        // AND a write from the revision now stored lands; a second "new" issue 8 does not
        let fresh = StoredIssue {
            updated_ms: now.updated_ms + 5,
            ..now.clone()
        };
        s.put_issues("a", &[fresh])
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        let now = s.get_issue("a", "7").await.unwrap().unwrap();
        assert_eq!(
            (now.rev, now.hidden, now.updated_ms),
            (3, true, read.updated_ms + 5)
        );
        assert_eq!(
            s.put_issues("a", &[issue("8", "Q")]).await.unwrap(),
            Superseded(vec!["8".into()])
        );
        assert_eq!(
            s.get_issue("a", "8").await.unwrap().unwrap().project_key,
            "P"
        );
    }

    pub async fn flags_set_and_clear_and_report_missing_issues(s: &dyn Store) {
        s.put_issues("a", &[issue("7", "P")])
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        let get = || async { s.get_issue("a", "7").await.unwrap().unwrap() };

        assert!(
            s.flag_issue("a", "7", IssueFlag::Deleted { at_ms: 42 })
                .await
                .unwrap()
        );
        assert_eq!(get().await.deleted_at_ms, Some(42));
        assert!(!get().await.counts());
        assert!(s.flag_issue("a", "7", IssueFlag::Restored).await.unwrap());
        assert_eq!(get().await.deleted_at_ms, None);
        assert!(s.flag_issue("a", "7", IssueFlag::Hidden).await.unwrap());
        assert!(get().await.hidden);
        assert!(s.flag_issue("a", "7", IssueFlag::Unhidden).await.unwrap());
        assert!(get().await.counts());
        assert!(s.flag_issue("a", "7", IssueFlag::OutOfScope).await.unwrap());
        assert!(get().await.out_of_scope && !get().await.counts());
        assert!(s.flag_issue("a", "7", IssueFlag::InScope).await.unwrap());
        assert!(get().await.counts());

        assert!(!s.flag_issue("a", "8", IssueFlag::Hidden).await.unwrap());
        assert!(!s.flag_issue("b", "7", IssueFlag::Hidden).await.unwrap());
        assert_eq!(s.get_issue("a", "8").await.unwrap(), None);
    }

    pub async fn removal_keeps_a_tombstone_without_content(s: &dyn Store) {
        let mut secret = issue("7", "P");
        secret
            .fields
            .insert("summary".into(), json!("secret plans"));
        secret.comments = vec![Comment {
            id: "1".into(),
            body: json!("more secrets"),
            ..Comment::default()
        }];
        secret.changelog = vec![History {
            id: "2".into(),
            ..History::default()
        }];
        s.put_issues("a", &[secret])
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        assert!(s.flag_issue("a", "7", IssueFlag::Removed).await.unwrap());

        let tombstone = s.get_issue("a", "7").await.unwrap().unwrap();
        assert!(tombstone.removed && !tombstone.counts());
        assert!(tombstone.fields.is_empty() && tombstone.comments.is_empty());
        assert!(tombstone.changelog.is_empty());
        // Still listed and indexed as removed, so a sync knows not to bring it back.
        assert_eq!(ids(&s.list_issues("a", None, 10).await.unwrap()), ["7"]);
        assert!(whole_issue_index(s, "a").await.unwrap()[0].removed);
        // Hiding it later keeps it removed.
        s.flag_issue("a", "7", IssueFlag::Hidden).await.unwrap();
        assert!(s.get_issue("a", "7").await.unwrap().unwrap().removed);
    }

    pub async fn issues_over_the_item_size_limit_round_trip(s: &dyn Store) {
        // Over 1 MB of JSON that compresses poorly: more than any single item can hold.
        let mut huge = issue("500", "BIG");
        huge.fields.insert(
            "description".into(),
            json!(incompressible_text(1_300_000, 7)),
        );
        // 600 KB of JSON that compresses well.
        let mut verbose = issue("501", "BIG");
        verbose.fields.insert(
            "description".into(),
            json!("all work and no play ".repeat(30_000)),
        );
        assert!(serde_json::to_vec(&huge).unwrap().len() > 1_000_000);
        s.put_issues("a", &[huge.clone(), verbose.clone(), issue("502", "BIG")])
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        // As stored: at their first revision.
        huge.rev = 1;
        verbose.rev = 1;

        assert_eq!(s.get_issue("a", "500").await.unwrap().as_ref(), Some(&huge));
        assert_eq!(
            s.get_issue("a", "501").await.unwrap().as_ref(),
            Some(&verbose)
        );
        let listed = s.list_issues("a", None, 10).await.unwrap();
        assert_eq!(ids(&listed), ["500", "501", "502"]);
        assert_eq!(listed[0], huge);

        // Rewritten with different content of about the same size, then much smaller.
        huge.fields.insert(
            "description".into(),
            json!(incompressible_text(1_100_000, 8)),
        );
        s.put_issues("a", std::slice::from_ref(&huge))
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        huge.rev = 2;
        assert_eq!(s.get_issue("a", "500").await.unwrap().as_ref(), Some(&huge));
        huge.fields.insert("description".into(), json!("short now"));
        s.put_issues("a", std::slice::from_ref(&huge))
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        huge.rev = 3;
        assert_eq!(s.get_issue("a", "500").await.unwrap().as_ref(), Some(&huge));

        // Removing a large issue drops its content too.
        verbose
            .fields
            .insert("extra".into(), json!(incompressible_text(900_000, 9)));
        s.put_issues("a", &[verbose])
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        assert!(s.flag_issue("a", "501", IssueFlag::Removed).await.unwrap());
        let tombstone = s.get_issue("a", "501").await.unwrap().unwrap();
        assert!(tombstone.removed && tombstone.fields.is_empty());
    }

    pub async fn records_are_upserted_and_listed_per_kind(s: &dyn Store) {
        let user = |id: &str, name: &str| Record {
            id: id.into(),
            data: json!({"accountId": id, "displayName": name}),
        };
        let users: Vec<Record> = (0..30)
            .map(|n| user(&format!("u{n:02}"), "someone"))
            .collect();
        s.put_records("a", RecordKind::User, &users).await.unwrap();
        s.put_records("a", RecordKind::User, &[user("u05", "Renamed")])
            .await
            .unwrap();
        let status = Record {
            id: "3".into(),
            data: json!({"name": "In Progress", "statusCategory": {"key": "indeterminate"}}),
        };
        s.put_records("a", RecordKind::Status, std::slice::from_ref(&status))
            .await
            .unwrap();
        s.put_records("a", RecordKind::Sprint, &[]).await.unwrap();

        let listed = s.list_records("a", RecordKind::User).await.unwrap();
        assert_eq!(listed.len(), 30);
        assert_eq!(listed[5], user("u05", "Renamed"));
        assert_eq!(
            s.list_records("a", RecordKind::Status).await.unwrap(),
            [status]
        );
        assert!(
            s.list_records("a", RecordKind::Sprint)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            s.list_records("b", RecordKind::User)
                .await
                .unwrap()
                .is_empty()
        );
    }

    pub async fn projects_keep_their_first_onboarding_time(s: &dyn Store) {
        let project = |key: &str, name: &str, onboarded_at_ms| ProjectRecord {
            key: key.into(),
            id: format!("{key}-id"),
            name: name.into(),
            onboarded_at_ms,
        };
        s.put_project("a", &project("PLAT", "Platform", 5))
            .await
            .unwrap();
        s.put_project("a", &project("WEB", "Web", 6)).await.unwrap();
        s.put_project("a", &project("PLAT", "Renamed", 99))
            .await
            .unwrap();

        let listed = s.list_projects("a").await.unwrap();
        assert_eq!(
            listed,
            [project("PLAT", "Renamed", 5), project("WEB", "Web", 6)]
        );
        assert!(s.list_projects("b").await.unwrap().is_empty());

        // A project that left the scope leaves the list; one never there changes nothing.
        s.remove_project("a", "PLAT").await.unwrap();
        s.remove_project("a", "NONE").await.unwrap();
        s.remove_project("b", "WEB").await.unwrap();
        assert_eq!(
            s.list_projects("a").await.unwrap(),
            [project("WEB", "Web", 6)]
        );
        s.put_project("a", &project("PLAT", "Platform", 77))
            .await
            .unwrap();
        assert_eq!(
            s.list_projects("a").await.unwrap(),
            [project("PLAT", "Platform", 77), project("WEB", "Web", 6)],
            "back in the scope: onboarded again"
        );
    }

    pub async fn cursors_are_kept_per_unit(s: &dyn Store) {
        let cursor = Cursor {
            watermark_ms: Some(1_000),
            in_progress: Some(Progress {
                window_start_ms: Some(700),
                run_started_ms: 2_000,
                last_id: 10_042,
            }),
            last_census_ms: Some(900),
            census_after: Some(10_000),
        };
        assert_eq!(s.get_cursor("a", "PLAT").await.unwrap(), None);
        s.put_cursor("a", "PLAT", &cursor).await.unwrap();
        s.put_cursor("a", "jql", &Cursor::default()).await.unwrap();
        assert_eq!(
            s.get_cursor("a", "PLAT").await.unwrap(),
            Some(cursor.clone())
        );
        let finished = Cursor {
            in_progress: None,
            ..cursor
        };
        s.put_cursor("a", "PLAT", &finished).await.unwrap();
        assert_eq!(s.get_cursor("a", "PLAT").await.unwrap(), Some(finished));
        assert_eq!(
            s.get_cursor("a", "jql").await.unwrap(),
            Some(Cursor::default())
        );
        assert_eq!(s.get_cursor("b", "PLAT").await.unwrap(), None);
    }

    pub async fn leases_are_exclusive_until_expiry_or_release(s: &dyn Store) {
        assert!(
            s.acquire_lease("a", "P", "run-1", 1_000, 500)
                .await
                .unwrap()
        );
        assert!(
            !s.acquire_lease("a", "P", "run-2", 1_200, 500)
                .await
                .unwrap()
        );
        assert!(
            s.acquire_lease("a", "Q", "run-2", 1_200, 500)
                .await
                .unwrap(),
            "units lease independently"
        );
        assert!(
            s.acquire_lease("b", "P", "run-2", 1_200, 500)
                .await
                .unwrap(),
            "integrations lease independently"
        );
        assert!(
            s.acquire_lease("a", "P", "run-1", 1_300, 500)
                .await
                .unwrap(),
            "the owner renews"
        );
        assert!(
            !s.acquire_lease("a", "P", "run-2", 1_700, 500)
                .await
                .unwrap(),
            "the renewal extended it"
        );
        assert!(
            s.acquire_lease("a", "P", "run-2", 1_800, 500)
                .await
                .unwrap(),
            "expired"
        );
        s.release_lease("a", "P", "run-1").await.unwrap();
        assert!(
            !s.acquire_lease("a", "P", "run-3", 1_900, 500)
                .await
                .unwrap(),
            "only the owner releases"
        );
        s.release_lease("a", "P", "run-2").await.unwrap();
        assert!(
            s.acquire_lease("a", "P", "run-3", 1_900, 500)
                .await
                .unwrap()
        );
        s.release_lease("a", "never-leased", "run-3").await.unwrap();
    }

    pub async fn runs_are_listed_since_a_time(s: &dyn Store) {
        let run = |id: &str, started_ms, ended_ms, outcome| RunRecord {
            run_id: id.into(),
            started_ms,
            ended_ms,
            outcome,
            projects: vec!["PLAT".into()],
            counts: Counts {
                issues_new: 3,
                requests: 12,
                ..Counts::default()
            },
            errors: Vec::new(),
            synced_through_ms: None,
        };
        let old = run("old", 100, Some(200), RunOutcome::Succeeded);
        let overlapping = run("overlapping", 900, Some(1_100), RunOutcome::Partial);
        let mut running = run("running", 500, None, RunOutcome::Running);
        let recent = run("recent", 2_000, Some(2_100), RunOutcome::Failed);
        for r in [&old, &overlapping, &running, &recent] {
            s.put_run("a", r).await.unwrap();
        }
        assert_eq!(
            s.list_runs("a", 1_000).await.unwrap(),
            [running.clone(), overlapping.clone(), recent.clone()],
            "in start order: every run that was going at or after the time"
        );
        running.ended_ms = Some(600);
        running.outcome = RunOutcome::Succeeded;
        running.errors = vec![RunError::new(
            ErrorCategory::RateLimited,
            "PLAT: 429 Too Many Requests",
        )];
        s.put_run("a", &running).await.unwrap();
        assert_eq!(
            s.list_runs("a", 1_000).await.unwrap(),
            [overlapping, recent],
            "a run is updated in place"
        );
        assert_eq!(s.list_runs("a", 0).await.unwrap().len(), 4);
        assert!(s.list_runs("b", 0).await.unwrap().is_empty());
    }

    pub async fn calls_are_counted_per_account_kind_and_window_even_when_concurrent(s: &dyn Store) {
        let counts = futures_util::future::join_all(
            (0..12).map(|_| async move { s.count_call("acme", "validation", 60_000).await }),
        )
        .await;
        let mut counts: Vec<u64> = counts.into_iter().map(Result::unwrap).collect();
        counts.sort_unstable();
        assert_eq!(
            counts,
            (1..=12).collect::<Vec<u64>>(),
            "each call its own count"
        );
        for (account, kind, window) in [
            ("globex", "validation", 60_000),
            ("acme", "other", 60_000),
            ("acme", "validation", 120_000),
        ] {
            assert_eq!(s.count_call(account, kind, window).await.unwrap(), 1);
        }
        assert_eq!(
            s.count_call("acme", "validation", 60_000).await.unwrap(),
            13
        );
    }

    pub async fn daily_counters_add_up_even_when_concurrent(s: &dyn Store) {
        let delta = DailyCounts {
            issues_new: 2,
            issues_updated: 3,
            issues_deleted: 1,
            issues_left_scope: 4,
            issues_returned: 5,
            runs: 1,
            failed_runs: 0,
        };
        s.add_daily("a", day(28), &delta).await.unwrap();
        s.add_daily("a", day(30), &delta).await.unwrap();
        let adds = (0..20).map(|n| {
            let delta = DailyCounts {
                failed_runs: n % 2,
                ..delta
            };
            async move { s.add_daily("a", day(29), &delta).await }
        });
        for added in futures_util::future::join_all(adds).await {
            added.unwrap();
        }
        s.add_daily("b", day(29), &delta).await.unwrap();

        let listed = s.list_daily("a", day(29), day(30)).await.unwrap();
        let expected_29 = DailyCounts {
            issues_new: 40,
            issues_updated: 60,
            issues_deleted: 20,
            issues_left_scope: 80,
            issues_returned: 100,
            runs: 20,
            failed_runs: 10,
        };
        assert_eq!(listed, [(day(29), expected_29), (day(30), delta)]);
        assert_eq!(s.list_daily("a", day(1), day(30)).await.unwrap().len(), 3);
        assert!(s.list_daily("a", day(1), day(27)).await.unwrap().is_empty());
    }

    pub async fn integrations_are_visible_only_to_their_account(s: &dyn Store) {
        let first = integration("acme", "0b8d6d1e-1111-4c0f-9d0e-000000000001");
        let second = IntegrationRecord {
            deployment: sei_jira_core::jira::Deployment::DataCenter,
            email: None,
            scope: ScopeConfig::Jql {
                jql: "project = OPS ORDER BY id".into(),
            },
            ..integration("acme", "0b8d6d1e-1111-4c0f-9d0e-000000000002")
        };
        let other = IntegrationRecord {
            scope: ScopeConfig::AllAccessible,
            ..integration("globex", "0b8d6d1e-1111-4c0f-9d0e-000000000003")
        };
        for record in [&first, &second, &other] {
            s.put_integration(record).await.unwrap();
        }
        let renamed = IntegrationRecord {
            name: "Renamed".into(),
            updated_ms: 2_000,
            ..first.clone()
        };
        s.put_integration(&renamed).await.unwrap();

        assert_eq!(
            s.get_integration("acme", &first.id).await.unwrap(),
            Some(renamed.clone())
        );
        let mut listed = s.list_integrations("acme").await.unwrap();
        listed.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(listed, [renamed, second.clone()]);
        assert_eq!(
            s.list_integrations("globex").await.unwrap(),
            std::slice::from_ref(&other)
        );

        // Another account can neither read, list nor delete it.
        assert_eq!(s.get_integration("globex", &first.id).await.unwrap(), None);
        assert_eq!(s.get_integration("acme", &other.id).await.unwrap(), None);
        assert!(!s.delete_integration("globex", &second.id).await.unwrap());
        assert_eq!(
            s.get_integration("acme", &second.id).await.unwrap(),
            Some(second)
        );
        assert!(s.list_integrations("initech").await.unwrap().is_empty());
    }

    pub async fn of_concurrent_creates_with_one_id_exactly_one_lands(s: &dyn Store) {
        let id = "0b8d6d1e-3333-4c0f-9d0e-000000000001";
        let tries: Vec<IntegrationRecord> = (0..8)
            .map(|n| IntegrationRecord {
                name: format!("Try {n}"),
                ..integration("acme", id)
            })
            .collect();
        let created = futures_util::future::join_all(tries.iter().map(|r| s.create_integration(r)))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect::<Vec<bool>>();
        let winners: Vec<&IntegrationRecord> = tries
            .iter()
            .zip(&created)
            .filter_map(|(r, won)| won.then_some(r))
            .collect();
        assert_eq!(winners.len(), 1, "{created:?}");
        assert_eq!(
            s.get_integration("acme", id).await.unwrap().as_ref(),
            Some(winners[0]),
            "what is stored is the one create that landed"
        );
        // A create over a deleted id lands again.
        assert!(s.delete_integration("acme", id).await.unwrap());
        assert!(s.create_integration(&tries[0]).await.unwrap());
        assert!(!s.integration_deleted(id).await.unwrap());
    }

    pub async fn replacing_an_integration_never_brings_a_deleted_one_back(s: &dyn Store) {
        let record = integration("acme", "0b8d6d1e-2222-4c0f-9d0e-000000000001");
        let renamed = IntegrationRecord {
            name: "Renamed".into(),
            updated_ms: record.updated_ms + 1_000,
            ..record.clone()
        };
        assert!(
            !s.replace_integration(&record, record.updated_ms)
                .await
                .unwrap(),
            "nothing to replace yet"
        );
        assert_eq!(s.get_integration("acme", &record.id).await.unwrap(), None);

        s.put_integration(&record).await.unwrap();
        assert!(
            s.replace_integration(&renamed, record.updated_ms)
                .await
                .unwrap()
        );
        assert_eq!(
            s.get_integration("acme", &record.id).await.unwrap(),
            Some(renamed.clone())
        );
        // A change made from the version before never undoes the one kept since.
        let stale = IntegrationRecord {
            name: "Made from the first version".into(),
            updated_ms: record.updated_ms + 500,
            ..record.clone()
        };
        assert!(
            !s.replace_integration(&stale, record.updated_ms)
                .await
                .unwrap()
        );
        assert_eq!(
            s.get_integration("acme", &record.id).await.unwrap(),
            Some(renamed.clone())
        );
        // Another account's "replacement" of the same id lands nowhere.
        let hijack = IntegrationRecord {
            account: "globex".into(),
            ..renamed.clone()
        };
        assert!(
            !s.replace_integration(&hijack, renamed.updated_ms)
                .await
                .unwrap()
        );
        assert!(s.list_integrations("globex").await.unwrap().is_empty());

        assert!(s.delete_integration("acme", &record.id).await.unwrap());
        assert!(
            !s.replace_integration(&renamed, renamed.updated_ms)
                .await
                .unwrap()
        );
        assert_eq!(s.get_integration("acme", &record.id).await.unwrap(), None);
    }

    pub async fn every_issue_write_leaves_a_mark_and_clearing_takes_exactly_those(s: &dyn Store) {
        let id = "i1";
        assert!(s.changed_issues(id, 100).await.unwrap().is_empty());
        s.put_issues(id, &[issue("1", "P"), issue("2", "P")])
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        let first = s.changed_issues(id, 100).await.unwrap();
        let mut marked: Vec<&str> = first.iter().map(|m| m.id.as_str()).collect();
        marked.sort();
        assert_eq!(marked, ["1", "2"]);
        assert_eq!(s.changed_issues(id, 1).await.unwrap().len(), 1);

        // A write after the marks were read (a flag set by hand) leaves a mark of its own...
        assert!(s.flag_issue(id, "1", IssueFlag::Hidden).await.unwrap());
        s.clear_changed(id, &first).await.unwrap();
        // ...which clearing the marks read before does not take.
        let left = s.changed_issues(id, 100).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].id, "1");
        assert!(!first.contains(&left[0]));
        s.clear_changed(id, &left).await.unwrap();
        assert!(s.changed_issues(id, 100).await.unwrap().is_empty());
        assert!(s.changed_issues("i2", 100).await.unwrap().is_empty());
    }

    fn indexed_cell(project: &str, tickets: u64, seq: u64) -> IndexedCell {
        IndexedCell {
            cell: hygiene::Cell {
                project: project.into(),
                issue_type: "A long issue type name ".repeat(60),
                ..hygiene::Cell::default()
            },
            tallies: hygiene::aggregate::Tallies {
                tickets,
                ..Default::default()
            },
            seq,
        }
    }

    fn contribution(project: &str) -> Contribution {
        Contribution {
            facts: hygiene::IssueFacts {
                project: project.into(),
                updated_ms: 7,
                ..Default::default()
            },
            custom: vec![true, false],
        }
    }

    pub async fn the_hygiene_index_head_cells_and_contributions_round_trip(s: &dyn Store) {
        let id = "i1";
        assert_eq!(s.get_index_head(id).await.unwrap(), None);
        let head = IndexHead {
            basis: "[[],[]]".into(),
            custom: vec!["Large".into()],
            seq: 3,
            ..IndexHead::default()
        };
        s.put_index_head(id, &head).await.unwrap();
        assert_eq!(s.get_index_head(id).await.unwrap(), Some(head));

        // Cells are upserted by cell (names longer than a DynamoDB sort key may be).
        s.put_index_cells(id, &[indexed_cell("P", 1, 1), indexed_cell("Q", 2, 1)])
            .await
            .unwrap();
        s.put_index_cells(id, &[indexed_cell("P", 5, 2)])
            .await
            .unwrap();
        let mut cells = s.list_index_cells(id).await.unwrap();
        cells.sort_by(|a, b| a.cell.cmp(&b.cell));
        assert_eq!(cells, [indexed_cell("P", 5, 2), indexed_cell("Q", 2, 1)]);
        // Read by cell: the kept ones among those asked.
        let asked = [
            indexed_cell("Q", 0, 0).cell,
            indexed_cell("NONE", 0, 0).cell,
            indexed_cell("Q", 0, 0).cell,
        ];
        assert_eq!(
            s.get_index_cells(id, &asked).await.unwrap(),
            [indexed_cell("Q", 2, 1)]
        );
        assert!(s.get_index_cells("i2", &asked).await.unwrap().is_empty());
        // Cleared: none left of this integration, another's untouched.
        s.put_index_cells("i2", &[indexed_cell("P", 1, 1)])
            .await
            .unwrap();
        s.clear_index_cells(id).await.unwrap();
        assert!(s.list_index_cells(id).await.unwrap().is_empty());
        assert_eq!(
            s.list_index_cells("i2").await.unwrap(),
            [indexed_cell("P", 1, 1)]
        );
        s.clear_index_cells("i2").await.unwrap();
        s.put_index_cells(id, &[indexed_cell("P", 5, 2), indexed_cell("Q", 2, 1)])
            .await
            .unwrap();

        // Contributions are kept per issue id; None removes one.
        let many: Vec<(String, Option<Contribution>)> = (1..=150)
            .map(|n| (n.to_string(), Some(contribution("P"))))
            .collect();
        s.put_contributions(id, &many).await.unwrap();
        s.put_contributions(
            id,
            &[("2".into(), None), ("3".into(), Some(contribution("Q")))],
        )
        .await
        .unwrap();
        let asked: Vec<String> = ["1", "2", "3", "149", "999"].map(String::from).to_vec();
        let mut got = s.get_contributions(id, &asked).await.unwrap();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            [
                ("1".to_string(), contribution("P")),
                ("149".to_string(), contribution("P")),
                ("3".to_string(), contribution("Q")),
            ]
        );
        assert!(s.list_index_cells("i2").await.unwrap().is_empty());
        assert!(s.get_contributions("i2", &asked).await.unwrap().is_empty());
    }

    /// A cell whose distributions hold `buckets` distinct hours (a large backlog over years).
    pub fn huge_cell(buckets: u64, seed: u64) -> IndexedCell {
        let mut state = seed | 1;
        let hours: serde_json::Map<String, serde_json::Value> = (0..buckets)
            .map(|n| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((400_000 + n * 3).to_string(), json!(1 + state % 50))
            })
            .collect();
        let mut cell = indexed_cell("BIG", buckets, 1);
        cell.tallies.updated_hour = serde_json::from_value(json!(hours)).unwrap();
        cell.tallies.resolution.waiting_since_hour = cell.tallies.updated_hour.clone();
        cell
    }

    pub async fn hygiene_cells_over_the_item_size_limit_round_trip(s: &dyn Store) {
        let id = "i1";
        let big = huge_cell(150_000, 5);
        s.put_index_cells(id, &[big.clone(), indexed_cell("P", 1, 1)])
            .await
            .unwrap();
        let mut cells = s.list_index_cells(id).await.unwrap();
        cells.sort_by(|a, b| a.cell.cmp(&b.cell));
        assert_eq!(cells, [big.clone(), indexed_cell("P", 1, 1)]);
        assert_eq!(
            s.get_index_cells(id, std::slice::from_ref(&big.cell))
                .await
                .unwrap(),
            std::slice::from_ref(&big)
        );
        // Shrunk back to a small cell, it reads as the small one.
        let small = indexed_cell("BIG", 2, 2);
        s.put_index_cells(id, std::slice::from_ref(&small))
            .await
            .unwrap();
        let mut cells = s.list_index_cells(id).await.unwrap();
        cells.sort_by(|a, b| a.cell.cmp(&b.cell));
        assert_eq!(cells, [small, indexed_cell("P", 1, 1)]);
        // Cleared with its parts: a cell as large again is whole, not mixed with old parts.
        s.clear_index_cells(id).await.unwrap();
        assert!(s.list_index_cells(id).await.unwrap().is_empty());
        s.put_index_cells(id, std::slice::from_ref(&big))
            .await
            .unwrap();
        assert_eq!(s.list_index_cells(id).await.unwrap(), [big]);
    }

    /// Stores one of everything under the integration.
    pub async fn populate(s: &dyn Store, id: &str) {
        let mut big = issue("77", "P");
        big.fields
            .insert("description".into(), json!(incompressible_text(800_000, 3)));
        let issues: Vec<StoredIssue> = (1..=40)
            .map(|n| issue(&n.to_string(), "P"))
            .chain([big])
            .collect();
        s.put_issues(id, &issues)
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        for kind in RecordKind::ALL {
            let record = Record {
                id: "1".into(),
                data: json!({"kind": kind.name()}),
            };
            s.put_records(id, kind, &[record]).await.unwrap();
        }
        let project = ProjectRecord {
            key: "P".into(),
            id: "1".into(),
            name: "P".into(),
            onboarded_at_ms: 1,
        };
        s.put_project(id, &project).await.unwrap();
        s.put_cursor(id, "P", &Cursor::default()).await.unwrap();
        assert!(
            s.acquire_lease(id, "P", "run-1", 1_000, 1_000_000)
                .await
                .unwrap()
        );
        let run = RunRecord {
            run_id: "run-1".into(),
            started_ms: 1_000,
            ended_ms: None,
            outcome: RunOutcome::Running,
            projects: vec!["P".into()],
            counts: Counts::default(),
            errors: Vec::new(),
            synced_through_ms: None,
        };
        s.put_run(id, &run).await.unwrap();
        let counts = DailyCounts {
            runs: 1,
            ..DailyCounts::default()
        };
        s.add_daily(id, day(29), &counts).await.unwrap();
        let config = HygieneConfig {
            version: 1,
            ..HygieneConfig::default()
        };
        assert!(s.put_hygiene_config(id, &config).await.unwrap());
        s.put_snapshot("acme", id, &snapshot_at(day(29), 12, 40))
            .await
            .unwrap();
        s.put_history_build(id, &HistoryBuild::default())
            .await
            .unwrap();
        let sum = Sum {
            through: 1,
            snapshot: snapshot_at(day(3), 23, 5),
        };
        s.put_history_sums(id, &[(0, sum)]).await.unwrap();
        s.put_history_points(id, &[snapshot_at(day(4), 23, 6)])
            .await
            .unwrap();
        s.put_index_head(id, &IndexHead::default()).await.unwrap();
        s.put_index_cells(id, &[indexed_cell("P", 1, 1)])
            .await
            .unwrap();
        s.put_contributions(id, &[("1".into(), Some(contribution("P")))])
            .await
            .unwrap();
        let dora = DoraConfig {
            version: 1,
            ..DoraConfig::default()
        };
        assert!(s.put_dora_config(id, &dora).await.unwrap());
        s.put_dora_heads(id, &DoraHeads::default()).await.unwrap();
        s.put_dora_members(id, "p1", &[("1".into(), Some(dora_facts("1")))])
            .await
            .unwrap();
    }

    fn dora_facts(id: &str) -> DoraFacts {
        DoraFacts {
            id: id.into(),
            key: format!("P-{id}"),
            project: "P".into(),
            created_ms: Some(1_000),
            incident: true,
            caused_by: vec!["7".into()],
            ..DoraFacts::default()
        }
    }

    pub async fn dora_profiles_keep_only_a_change_made_over_the_stored_version(s: &dyn Store) {
        let id = "i1";
        assert_eq!(s.get_dora_config(id).await.unwrap(), None);
        let profile: sei_jira_core::dora::DoraProfile = serde_json::from_value(json!({
            "name": "Ops",
            "incidents": {"sets": [{"conditions": [{"field": "issuetype", "operator": "equals", "values": ["Incident"]}]}]},
            "changes": {"sets": [{"conditions": [{"field": "issuetype", "operator": "equals", "values": ["Change"]}]}]},
        }))
        .unwrap();
        let catalog = hygiene::criteria::Catalog::new(&[], &Default::default());
        let mut config = DoraConfig::default();
        let p1 = config.add(profile.clone(), &catalog).unwrap();
        assert!(s.put_dora_config(id, &config).await.unwrap());
        assert_eq!(s.get_dora_config(id).await.unwrap().as_ref(), Some(&config));
        // A change made over version 0 lost the race, as does one without a version.
        assert!(!s.put_dora_config(id, &config).await.unwrap());
        assert!(!s.put_dora_config(id, &DoraConfig::default()).await.unwrap());
        // Two changes over version 1 at once: exactly one is kept.
        let mut a = config.clone();
        a.remove(&p1).unwrap();
        let mut b = config.clone();
        let mut renamed = profile;
        renamed.name = "Platform".into();
        b.replace(&p1, renamed, &catalog).unwrap();
        let (kept_a, kept_b) = tokio::join!(s.put_dora_config(id, &a), s.put_dora_config(id, &b));
        assert!(kept_a.unwrap() ^ kept_b.unwrap(), "exactly one is kept");
        let stored = s.get_dora_config(id).await.unwrap().unwrap();
        assert!(stored == a || stored == b);
        assert_eq!(s.get_dora_config("other").await.unwrap(), None);
    }

    pub async fn dora_members_are_kept_per_profile_in_issue_order(s: &dyn Store) {
        let id = "i1";
        assert_eq!(s.get_dora_heads(id).await.unwrap(), None);
        let mut heads = DoraHeads::default();
        heads.profiles.insert(
            "p1".into(),
            sei_jira_core::dora::index::ProfileHead {
                basis: "b".into(),
                build: Some(hygiene::index::Build {
                    after: Some("10".into()),
                }),
            },
        );
        s.put_dora_heads(id, &heads).await.unwrap();
        assert_eq!(s.get_dora_heads(id).await.unwrap(), Some(heads));

        // Ids across shards and digit counts, written out of order; the last write of an id wins.
        let members: Vec<(String, Option<DoraFacts>)> = ["100", "9", "1000003", "20", "9"]
            .iter()
            .map(|n| (n.to_string(), Some(dora_facts(n))))
            .collect();
        s.put_dora_members(id, "p1", &members).await.unwrap();
        s.put_dora_members(id, "p10", &[("5".into(), Some(dora_facts("5")))])
            .await
            .unwrap();
        let listed = |p: &'static str| async move {
            s.list_dora_members(id, p)
                .await
                .unwrap()
                .into_iter()
                .map(|f| f.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(listed("p1").await, ["9", "20", "100", "1000003"]);
        assert_eq!(
            listed("p10").await,
            ["5"],
            "a profile's id is no prefix of another's"
        );
        assert_eq!(
            s.list_dora_members(id, "p1").await.unwrap()[0],
            dora_facts("9")
        );
        // Asked by id: the members among them, of that profile only.
        let mut among = s
            .dora_members_among(id, "p1", &["9", "5", "1000003", "404"])
            .await
            .unwrap();
        among.sort();
        assert_eq!(among, ["1000003", "9"]);
        assert_eq!(
            s.dora_members_among(id, "p10", &["9", "5"]).await.unwrap(),
            ["5"]
        );
        assert!(
            s.dora_members_among("other", "p1", &["9"])
                .await
                .unwrap()
                .is_empty()
        );

        s.put_dora_members(id, "p1", &[("20".into(), None), ("404".into(), None)])
            .await
            .unwrap();
        assert_eq!(listed("p1").await, ["9", "100", "1000003"]);
        assert!(s.list_dora_members("other", "p1").await.unwrap().is_empty());
        assert!(s.put_dora_members(id, "", &members).await.is_err());
    }

    /// A snapshot taken `hour` hours into `d`, of `tickets` tickets in one cell.
    fn snapshot_at(d: NaiveDate, hour: u32, tickets: u64) -> Snapshot {
        let at = d.and_hms_opt(hour, 0, 0).unwrap().and_utc();
        Snapshot {
            at_ms: at.timestamp_millis(),
            custom: vec!["Large".into()],
            cells: vec![(
                hygiene::Cell {
                    project: "P".into(),
                    ..hygiene::Cell::default()
                },
                hygiene::Counts {
                    tickets,
                    custom: vec![1],
                    ..hygiene::Counts::default()
                },
            )],
            ..Snapshot::default()
        }
    }

    pub async fn hygiene_settings_keep_only_a_change_made_over_the_stored_version(s: &dyn Store) {
        let id = "i1";
        assert_eq!(s.get_hygiene_config(id).await.unwrap(), None);
        let mut config = HygieneConfig::default();
        let at = config
            .add_sla(hygiene::SlaInput {
                project: "P".into(),
                issue_type: "Bug".into(),
                priority: "High".into(),
                response_hours: 4,
                resolution_hours: 48,
            })
            .unwrap();
        assert_eq!(config.version, 1);
        assert!(s.put_hygiene_config(id, &config).await.unwrap());
        assert_eq!(
            s.get_hygiene_config(id).await.unwrap().as_ref(),
            Some(&config)
        );
        // A second change made over version 0 lost the race: nothing is written.
        assert!(!s.put_hygiene_config(id, &config).await.unwrap());
        let unversioned = HygieneConfig::default();
        assert!(!s.put_hygiene_config(id, &unversioned).await.unwrap());
        // Two changes over version 1 at once: exactly one is kept.
        let mut a = config.clone();
        a.remove_sla(&at).unwrap();
        let mut b = config.clone();
        b.replace_sla(
            &at,
            hygiene::SlaInput {
                project: "P".into(),
                issue_type: "Bug".into(),
                priority: "High".into(),
                response_hours: 1,
                resolution_hours: 2,
            },
        )
        .unwrap();
        let (kept_a, kept_b) =
            tokio::join!(s.put_hygiene_config(id, &a), s.put_hygiene_config(id, &b));
        assert!(
            kept_a.unwrap() ^ kept_b.unwrap(),
            "exactly one change is kept"
        );
        let stored = s.get_hygiene_config(id).await.unwrap().unwrap();
        assert!(stored == a || stored == b);
        assert_eq!(s.get_hygiene_config("i2").await.unwrap(), None);
    }

    pub async fn snapshots_are_kept_one_a_day_and_listed_by_range(s: &dyn Store) {
        let id = "i1";
        assert!(s.snapshot_targets().await.unwrap().is_empty());
        for (d, hour, tickets) in [(1, 10, 10), (1, 20, 11), (3, 0, 30), (5, 23, 50)] {
            s.put_snapshot("acme", id, &snapshot_at(day(d), hour, tickets))
                .await
                .unwrap();
        }
        s.put_snapshot("globex", "i2", &snapshot_at(day(2), 0, 2))
            .await
            .unwrap();
        let listed = s.list_snapshots(id, day(1), day(3)).await.unwrap();
        assert_eq!(
            listed,
            [snapshot_at(day(1), 20, 11), snapshot_at(day(3), 0, 30)],
            "the later snapshot of a day replaces the earlier; days outside the range are left out"
        );
        assert_eq!(s.list_snapshots(id, day(4), day(5)).await.unwrap().len(), 1);
        assert!(
            s.list_snapshots(id, day(6), day(30))
                .await
                .unwrap()
                .is_empty()
        );
        let mut targets = s.snapshot_targets().await.unwrap();
        targets.sort();
        assert_eq!(
            targets,
            [
                ("acme".to_string(), id.to_string()),
                ("globex".into(), "i2".into())
            ]
        );
    }

    pub async fn the_history_build_its_sums_and_points_round_trip(s: &dyn Store) {
        let id = "i1";
        assert_eq!(s.get_history_build(id).await.unwrap(), None);
        let build = HistoryBuild {
            weeks: 3,
            instants: vec![1, 2, 3],
            chunks: 2,
            after: Some("1000".into()),
            issues: 4_000,
            ..HistoryBuild::default()
        };
        s.put_history_build(id, &build).await.unwrap();
        assert_eq!(s.get_history_build(id).await.unwrap(), Some(build));
        assert_eq!(s.get_history_build("i2").await.unwrap(), None);

        let sum = |n: u64| Sum {
            through: n,
            snapshot: snapshot_at(day(n as u32), 23, n),
        };
        // Positions past 9 sort after 9 (the build reads them back in order).
        s.put_history_sums(id, &[(10, sum(3)), (2, sum(1))])
            .await
            .unwrap();
        s.put_history_sums(id, &[(2, sum(2))]).await.unwrap();
        s.put_history_sums("i2", &[(0, sum(9))]).await.unwrap();
        assert_eq!(
            s.history_sums(id).await.unwrap(),
            [(2, sum(2)), (10, sum(3))],
            "a sum put again replaces the one at its position"
        );
        s.clear_history_sums(id).await.unwrap();
        assert!(s.history_sums(id).await.unwrap().is_empty());
        assert_eq!(s.history_sums("i2").await.unwrap().len(), 1);

        let point = |d: u32, tickets: u64| Snapshot {
            source: hygiene::Taken::History,
            ..snapshot_at(day(d), 23, tickets)
        };
        s.put_history_points(id, &[point(1, 10), point(3, 30), point(5, 50)])
            .await
            .unwrap();
        s.put_history_points(id, &[point(3, 31)]).await.unwrap();
        assert_eq!(
            s.list_history_points(id, day(2), day(5)).await.unwrap(),
            [point(3, 31), point(5, 50)]
        );
        assert!(
            s.list_history_points("i2", day(1), day(30))
                .await
                .unwrap()
                .is_empty()
        );
        // Points are not daily snapshots: the daily list and its targets are left alone.
        assert!(
            s.list_snapshots(id, day(1), day(30))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(s.snapshot_targets().await.unwrap().is_empty());
    }

    /// Whether anything at all is stored under the integration.
    async fn holds_anything(s: &dyn Store, id: &str) -> bool {
        let mut found = !s.list_issues(id, None, 1).await.unwrap().is_empty()
            || !whole_issue_index(s, id).await.unwrap().is_empty()
            || s.get_issue(id, "77").await.unwrap().is_some()
            || !s.list_projects(id).await.unwrap().is_empty()
            || s.get_cursor(id, "P").await.unwrap().is_some()
            || !s.list_runs(id, 0).await.unwrap().is_empty()
            || !s.list_daily(id, day(1), day(30)).await.unwrap().is_empty()
            || s.get_hygiene_config(id).await.unwrap().is_some()
            || s.get_dora_config(id).await.unwrap().is_some()
            || s.get_dora_heads(id).await.unwrap().is_some()
            || !s.list_dora_members(id, "p1").await.unwrap().is_empty()
            || s.get_index_head(id).await.unwrap().is_some()
            || !s.list_index_cells(id).await.unwrap().is_empty()
            || !s
                .get_contributions(id, &["1".into()])
                .await
                .unwrap()
                .is_empty()
            || !s.changed_issues(id, 1).await.unwrap().is_empty()
            || !s
                .list_snapshots(id, day(1), day(30))
                .await
                .unwrap()
                .is_empty()
            || s.get_history_build(id).await.unwrap().is_some()
            || !s.history_sums(id).await.unwrap().is_empty()
            || !s
                .list_history_points(id, day(1), day(30))
                .await
                .unwrap()
                .is_empty()
            || s.snapshot_targets()
                .await
                .unwrap()
                .iter()
                .any(|(_, t)| t == id);
        for kind in RecordKind::ALL {
            found |= !s.list_records(id, kind).await.unwrap().is_empty();
        }
        // A held lease keeps other owners out.
        found
            || !s
                .acquire_lease(id, "P", "someone-else", 2_000, 1)
                .await
                .unwrap()
    }

    pub async fn deleting_an_integration_removes_all_its_data_and_nothing_else(s: &dyn Store) {
        let doomed = integration("acme", "a0000000-0000-4000-8000-00000000000a");
        let kept = integration("acme", "b0000000-0000-4000-8000-00000000000b");
        for record in [&doomed, &kept] {
            s.put_integration(record).await.unwrap();
            populate(s, &record.id).await;
        }

        assert!(!s.delete_integration("globex", &doomed.id).await.unwrap());
        assert!(s.delete_integration("acme", &doomed.id).await.unwrap());

        assert_eq!(s.get_integration("acme", &doomed.id).await.unwrap(), None);
        assert_eq!(
            s.list_integrations("acme").await.unwrap(),
            std::slice::from_ref(&kept)
        );
        assert!(
            !holds_anything(s, &doomed.id).await,
            "all of its data is gone"
        );
        assert!(!s.delete_integration("acme", &doomed.id).await.unwrap());

        assert_eq!(s.list_issues(&kept.id, None, 100).await.unwrap().len(), 41);
        assert_eq!(whole_issue_index(s, &kept.id).await.unwrap().len(), 41);
        let big = s.get_issue(&kept.id, "77").await.unwrap().unwrap();
        assert_eq!(
            big.fields["description"],
            json!(incompressible_text(800_000, 3))
        );
        assert!(holds_anything(s, &kept.id).await);
        for kind in RecordKind::ALL {
            assert_eq!(s.list_records(&kept.id, kind).await.unwrap().len(), 1);
        }
        assert_eq!(s.list_runs(&kept.id, 0).await.unwrap().len(), 1);
    }

    pub async fn a_snapshot_taken_across_a_deletion_is_swept_and_its_target_withdrawn(
        s: &dyn Store,
    ) {
        // GIVEN an integration with data, read by a snapshot under way
        let doomed = integration("acme", "e0000000-0000-4000-8000-00000000000e");
        s.put_integration(&doomed).await.unwrap();
        populate(s, &doomed.id).await;
        let read = s
            .get_integration("acme", &doomed.id)
            .await
            .unwrap()
            .unwrap();
        // WHEN the integration is deleted before the snapshot is kept
        assert!(s.delete_integration("acme", &doomed.id).await.unwrap());
        let at_ms = day(15)
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let taken = hygiene::service::take_snapshot(s, &read, at_ms).await;
        // THEN the snapshot is swept with its place on the daily list
        assert!(
            matches!(taken, Err(hygiene::HygieneError::IntegrationDeleted)),
            "{taken:?}"
        );
        assert!(
            !holds_anything(s, &doomed.id).await,
            "nothing of it is left"
        );

        // AND a target whose integration is gone can be withdrawn on its own
        let stray = "f0000000-0000-4000-8000-00000000000f";
        s.put_snapshot("acme", stray, &hygiene::snapshot::Snapshot::default())
            .await
            .unwrap();
        assert!(
            s.snapshot_targets()
                .await
                .unwrap()
                .iter()
                .any(|(_, t)| t == stray)
        );
        s.withdraw_snapshot_target(stray).await.unwrap();
        assert!(
            !s.snapshot_targets()
                .await
                .unwrap()
                .iter()
                .any(|(_, t)| t == stray)
        );
    }

    pub async fn a_deletion_fences_writers_that_outlive_it(s: &dyn Store) {
        // GIVEN an integration with data, beside another
        let doomed = integration("acme", "c0000000-0000-4000-8000-00000000000c");
        let kept = integration("acme", "d0000000-0000-4000-8000-00000000000d");
        for record in [&doomed, &kept] {
            s.put_integration(record).await.unwrap();
            populate(s, &record.id).await;
        }
        assert!(!s.integration_deleted(&doomed.id).await.unwrap());
        assert!(
            !s.sweep_deleted(&doomed.id).await.unwrap(),
            "a live integration is never swept"
        );
        assert!(holds_anything(s, &doomed.id).await);

        // WHEN it is deleted, and a sync that outlived the deletion writes under its id again
        assert!(s.delete_integration("acme", &doomed.id).await.unwrap());
        assert!(s.integration_deleted(&doomed.id).await.unwrap());
        populate(s, &doomed.id).await;
        assert!(holds_anything(s, &doomed.id).await);

        // THEN its sweep removes those writes, and nothing of the other integration
        assert!(s.sweep_deleted(&doomed.id).await.unwrap());
        assert!(
            !holds_anything(s, &doomed.id).await,
            "the late writes are gone"
        );
        assert!(holds_anything(s, &kept.id).await);
        assert!(!s.integration_deleted(&kept.id).await.unwrap());

        // AND an integration put under that id again is live
        s.put_integration(&doomed).await.unwrap();
        assert!(!s.integration_deleted(&doomed.id).await.unwrap());
    }
}

/// What the DynamoDB store leaves in its table, beyond what the trait shows.
mod dynamodb_items {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::AttributeValue;
    use sei_jira_aws::dynamo::DynamoStore;
    use sei_jira_core::store::{
        HygieneIndexStore, IntegrationStore, IssueFlag, IssueStore, RunLog,
    };
    use serde_json::json;

    use super::behaviours::{huge_cell, incompressible_text, integration, issue, populate};

    type Item = HashMap<String, AttributeValue>;

    async fn all_items(client: &aws_sdk_dynamodb::Client, table: &str) -> Vec<Item> {
        client
            .scan()
            .table_name(table)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .unwrap()
    }

    fn pk(item: &Item) -> &str {
        item["pk"].as_s().unwrap()
    }

    async fn parts_of(client: &aws_sdk_dynamodb::Client, table: &str, integration: &str) -> usize {
        items_in(client, table, &format!("INT#{integration}#PART")).await
    }

    async fn items_in(client: &aws_sdk_dynamodb::Client, table: &str, partition: &str) -> usize {
        all_items(client, table)
            .await
            .iter()
            .filter(|i| pk(i) == partition)
            .count()
    }

    #[tokio::test]
    async fn split_hygiene_cells_leave_no_parts_of_old_versions() {
        let (client, table) = super::dynamodb_table().await;
        let store = DynamoStore::new(client.clone(), table.clone());
        let cell_parts = "INT#a#HCELLPART";
        store
            .put_index_cells("a", &[huge_cell(150_000, 1)])
            .await
            .unwrap();
        let first = items_in(&client, &table, cell_parts).await;
        assert!(first >= 2, "the cell takes parts: {first}");
        store
            .put_index_cells("a", &[huge_cell(150_000, 2)])
            .await
            .unwrap();
        assert_eq!(
            items_in(&client, &table, cell_parts).await,
            first,
            "only the new version's parts"
        );
        store
            .put_index_cells("a", &[huge_cell(10, 2)])
            .await
            .unwrap();
        assert_eq!(items_in(&client, &table, cell_parts).await, 0);
    }

    #[tokio::test]
    async fn split_issues_leave_no_parts_of_old_versions() {
        let (client, table) = super::dynamodb_table().await;
        let store = DynamoStore::new(client.clone(), table.clone());
        let mut big = issue("500", "BIG");
        big.fields.insert(
            "description".into(),
            json!(incompressible_text(1_200_000, 1)),
        );
        store
            .put_issues("a", std::slice::from_ref(&big))
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        let first = parts_of(&client, &table, "a").await;
        assert!(
            first >= 3,
            "1.2 MB of incompressible text takes parts: {first}"
        );

        big.fields
            .insert("description".into(), json!(incompressible_text(900_000, 2)));
        big.rev = 1;
        store
            .put_issues("a", std::slice::from_ref(&big))
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        let second = parts_of(&client, &table, "a").await;
        assert!(
            (1..first).contains(&second),
            "only the new version's parts: {second}"
        );

        store
            .flag_issue("a", "500", IssueFlag::Removed)
            .await
            .unwrap();
        assert_eq!(
            parts_of(&client, &table, "a").await,
            0,
            "removal drops all parts"
        );
    }

    /// Two writers of a split issue from one revision, at once: exactly one lands, the issue
    /// reads back whole as it wrote it, and the next write leaves only its own parts.
    #[tokio::test]
    async fn two_writers_of_a_split_issue_never_break_it() {
        let (client, table) = super::dynamodb_table().await;
        let store = DynamoStore::new(client.clone(), table.clone());
        let big = |seed: u64, rev: u64| {
            let mut big = issue("600", "BIG");
            big.fields.insert(
                "description".into(),
                json!(incompressible_text(800_000, seed)),
            );
            sei_jira_core::store::StoredIssue { rev, ..big }
        };
        store
            .put_issues("a", &[big(1, 0)])
            .await
            .unwrap()
            .expect_none()
            .unwrap();
        for round in 0..4 {
            let rev = 1 + round;
            let (one, two) = (big(10 + round * 2, rev), big(11 + round * 2, rev));
            let (a, b) = tokio::join!(
                store.put_issues("a", std::slice::from_ref(&one)),
                store.put_issues("a", std::slice::from_ref(&two))
            );
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_eq!(
                usize::from(a.is_empty()) + usize::from(b.is_empty()),
                1,
                "exactly one writer lands: {a:?} {b:?}"
            );
            let winner = if a.is_empty() { &one } else { &two };
            let stored = store.get_issue("a", "600").await.unwrap().unwrap();
            assert_eq!(
                stored.fields, winner.fields,
                "read back whole, as the winner wrote it"
            );
            assert_eq!(stored.rev, rev + 1);
        }
        for integration in ["a", "b"] {
            let rev = if integration == "a" { 5 } else { 0 };
            store
                .put_issues(integration, &[big(99, rev)])
                .await
                .unwrap()
                .expect_none()
                .unwrap();
        }
        assert_eq!(
            parts_of(&client, &table, "a").await,
            parts_of(&client, &table, "b").await,
            "only the last version's parts are left, as many as one fresh write takes"
        );
    }

    #[tokio::test]
    async fn run_records_expire_after_90_days_through_the_tables_ttl() {
        let (client, table) = super::dynamodb_table().await;
        let ttl = client
            .describe_time_to_live()
            .table_name(&table)
            .send()
            .await
            .unwrap()
            .time_to_live_description
            .unwrap();
        assert_eq!(ttl.attribute_name(), Some("expires_at"));
        assert_eq!(
            ttl.time_to_live_status().map(|s| s.as_str()),
            Some("ENABLED")
        );

        let store = DynamoStore::new(client.clone(), table.clone());
        let run = sei_jira_core::store::RunRecord {
            run_id: "run-ttl".into(),
            started_ms: 1_700_000_000_000,
            ended_ms: None,
            outcome: sei_jira_core::store::RunOutcome::Running,
            projects: Vec::new(),
            counts: Default::default(),
            errors: Vec::new(),
            synced_through_ms: None,
        };
        store.put_run("a", &run).await.unwrap();
        let items = all_items(&client, &table).await;
        let runs: Vec<&Item> = items.iter().filter(|i| pk(i) == "INT#a#RUN").collect();
        assert_eq!(runs.len(), 1);
        let expires: i64 = runs[0]["expires_at"].as_n().unwrap().parse().unwrap();
        let now = chrono::Utc::now().timestamp();
        let ninety_days = 90 * 24 * 3600;
        assert!(
            (now + ninety_days - 60..=now + ninety_days + 60).contains(&expires),
            "expires_at {expires} is 90 days after {now}"
        );
        // Nothing else the store keeps expires.
        populate(&store, "b").await;
        let others = all_items(&client, &table).await;
        let expiring: Vec<&str> = others
            .iter()
            .filter(|i| i.contains_key("expires_at"))
            .map(pk)
            .collect();
        assert!(expiring.iter().all(|p| p.ends_with("#RUN")), "{expiring:?}");
    }

    #[tokio::test]
    async fn deleting_an_integration_leaves_none_of_its_items() {
        let (client, table) = super::dynamodb_table().await;
        let store = DynamoStore::new(client.clone(), table.clone());
        let doomed = integration("acme", "c0000000-0000-4000-8000-00000000000c");
        let kept = integration("acme", "d0000000-0000-4000-8000-00000000000d");
        for record in [&doomed, &kept] {
            store.put_integration(record).await.unwrap();
            populate(&store, &record.id).await;
        }
        let before = all_items(&client, &table).await.len();
        assert!(store.delete_integration("acme", &doomed.id).await.unwrap());

        let after = all_items(&client, &table).await;
        let doomed_prefix = format!("INT#{}#", doomed.id);
        let leftovers: Vec<&Item> = after
            .iter()
            .filter(|i| {
                pk(i).starts_with(&doomed_prefix) || i["sk"].as_s().unwrap().contains(&doomed.id)
            })
            .collect();
        assert!(
            matches!(leftovers.as_slice(), [tombstone]
                if pk(tombstone) == "DELETED" && tombstone.contains_key("expires_at")),
            "only the deletion's tombstone, which expires by itself: {leftovers:?}"
        );
        assert_eq!(
            (after.len() - 1) * 2,
            before,
            "the other integration keeps all of its items"
        );
    }
}
