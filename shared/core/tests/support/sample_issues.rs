//! Stored issues of a made-up site for the hygiene index's test and benchmark: every field the
//! hygiene rules read, varied by a seeded generator, over about two years of history.

use sei_jira_core::jira::models::{ChangeItem, Comment, History};
use sei_jira_core::store::embedded::EmbeddedStore;
use sei_jira_core::store::{
    IntegrationRecord, IntegrationStore, IssueStore, RecordKind, RecordStore, ScopeConfig,
    StoredIssue,
};
use serde_json::{Map, Value, json};

/// 2025-01-01T00:00:00Z.
pub const START_MS: i64 = 1_735_689_600_000;
const HOUR_MS: i64 = 3_600_000;
/// The issues' times fall within this many hours after [`START_MS`].
pub const SPAN_HOURS: i64 = 2 * 365 * 24;

/// xorshift64*: the same issues for the same seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

/// Issue `n` of the site, as the sync stores it; `version` changes it as a later edit would.
pub fn issue(n: u64, version: u64, rng: &mut Rng) -> StoredIssue {
    let project = rng.pick(&["OPS", "WEB", "API", "DATA"]);
    let created = START_MS + rng.below(SPAN_HOURS as u64) as i64 * HOUR_MS / 2;
    let updated = created + rng.below(4_000) as i64 * HOUR_MS / 4 + version as i64 * HOUR_MS;
    let (status, category) = match rng.below(3) {
        0 => ("To Do", "To Do"),
        1 => ("In Progress", "In Progress"),
        _ => ("Done", "Done"),
    };
    let mut fields = Map::new();
    fields.insert("created".into(), json!(time(created)));
    fields.insert(
        "issuetype".into(),
        json!({"name": rng.pick(&["Bug", "Story", "Task"])}),
    );
    fields.insert(
        "priority".into(),
        json!({"name": rng.pick(&["High", "Medium", "Low"])}),
    );
    fields.insert(
        "status".into(),
        json!({"name": status, "statusCategory": {"name": category}}),
    );
    if category == "Done" {
        fields.insert("resolutiondate".into(), json!(time(updated)));
    }
    if rng.below(2) == 0 {
        fields.insert("duedate".into(), json!("2026-06-30"));
    }
    if rng.below(4) != 0 {
        let active = rng.below(10) != 0;
        fields.insert(
            "assignee".into(),
            json!({"accountId": format!("u{}", rng.below(40)), "active": active}),
        );
    }
    let components: Vec<Value> = (0..rng.below(3)).map(|c| json!({"name": c})).collect();
    fields.insert("components".into(), Value::Array(components));
    if rng.below(5) != 0 {
        let words = "word ".repeat(rng.below(20) as usize);
        fields.insert("description".into(), json!(words));
    }
    if rng.below(3) == 0 {
        let state = if rng.below(2) == 0 {
            "active"
        } else {
            "closed"
        };
        fields.insert(
            "customfield_10020".into(),
            json!([{"id": 1, "state": state}]),
        );
    }
    let comments = (0..rng.below(3))
        .map(|c| Comment {
            id: format!("{n}-{c}"),
            created: time(created + (c as i64 + 1) * rng.below(200) as i64 * HOUR_MS / 3),
            ..Comment::default()
        })
        .collect();
    let changelog = (0..rng.below(3))
        .map(|h| History {
            id: format!("{n}-{h}"),
            created: time(created + (h as i64 + 1) * rng.below(300) as i64 * HOUR_MS / 5),
            items: vec![ChangeItem {
                field: "status".into(),
                field_id: Some("status".into()),
                ..ChangeItem::default()
            }],
            ..History::default()
        })
        .collect();
    StoredIssue {
        id: (10_000 + n).to_string(),
        key: format!("{project}-{n}"),
        project_key: project.into(),
        updated_ms: updated,
        fields,
        changelog,
        comments,
        // Versions are written in order, each over the one before it.
        rev: version,
        ..StoredIssue::default()
    }
}

/// The integration the issues belong to.
pub fn integration(id: &str) -> IntegrationRecord {
    IntegrationRecord {
        account: "local".into(),
        id: id.into(),
        name: "sample".into(),
        description: String::new(),
        tags: Vec::new(),
        deployment: sei_jira_core::jira::Deployment::Cloud,
        url: "https://example.atlassian.net".into(),
        email: None,
        secret_name: String::new(),
        scope: ScopeConfig::AllAccessible,
        excluded_fields: Vec::new(),
        custom_fields: Vec::new(),
        schedule_rate: "rate(1 hour)".into(),
        created_ms: START_MS,
        updated_ms: START_MS,
    }
}

/// The site's field list as the sync stores it: the sprint field, so hygiene sees sprints.
pub fn site_fields() -> Vec<sei_jira_core::store::Record> {
    vec![sei_jira_core::store::Record {
        id: "customfield_10020".into(),
        data: json!({
            "id": "customfield_10020",
            "name": "Sprint",
            "custom": true,
            "schema": {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint"}
        }),
    }]
}

/// A site of `issues` sample issues (generated from `seed`) in a fresh embedded store, with its
/// integration record and field list, as a sync leaves them.
pub struct SampleSite {
    pub store: EmbeddedStore,
    pub record: IntegrationRecord,
    _dir: tempfile::TempDir,
}

pub async fn sample_site(id: &str, issues: u64, seed: u64) -> SampleSite {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(&dir.path().join("store.redb")).unwrap();
    let record = integration(id);
    store.put_integration(&record).await.unwrap();
    store
        .put_records(id, RecordKind::Field, &site_fields())
        .await
        .unwrap();
    let mut rng = Rng::new(seed);
    let all: Vec<StoredIssue> = (0..issues).map(|n| issue(n, 0, &mut rng)).collect();
    for batch in all.chunks(1_000) {
        store
            .put_issues(id, batch)
            .await
            .unwrap()
            .expect_none()
            .unwrap();
    }
    SampleSite {
        store,
        record,
        _dir: dir,
    }
}
