//! Reference data: the site's fields and statuses (cached for a day), the scope's units and their
//! projects, and the users, sprints, versions and projects that stored issues refer to.

use std::collections::HashMap;

use serde_json::Value;

use super::{Ctx, SyncError, SyncOptions, due, now_ms};
use crate::jira::JiraClient;
use crate::jira::models::FieldDetails;
use crate::store::SyncStore;
use crate::store::records::{Cursor, ProjectRecord, Record, RecordKind, StoredIssue};
use crate::sync::plan::{Scope, Unit};

/// The cursor name under which the last refresh of fields and statuses is kept.
const REFERENCE_UNIT: &str = "~reference";

/// The site's fields: the stored copy while it is fresh, otherwise fetched again together with
/// the statuses (both change rarely; a repeat run should cost Jira nothing for them).
pub(super) async fn reference_data_fields(
    client: &JiraClient,
    store: &dyn SyncStore,
    opts: &SyncOptions,
) -> Result<Vec<FieldDetails>, SyncError> {
    let refreshed = store
        .get_cursor(&opts.integration, REFERENCE_UNIT)
        .await?
        .and_then(|c| c.last_census_ms);
    if !due(refreshed, opts.census_every_ms) {
        let cached: Vec<FieldDetails> = store
            .list_records(&opts.integration, RecordKind::Field)
            .await?
            .into_iter()
            .filter_map(|r| serde_json::from_value(r.data).ok())
            .collect();
        if !cached.is_empty() {
            return Ok(cached);
        }
    }
    refresh_reference_data(client, store, opts).await
}

pub(super) async fn refresh_reference_data(
    client: &JiraClient,
    store: &dyn SyncStore,
    opts: &SyncOptions,
) -> Result<Vec<FieldDetails>, SyncError> {
    let (site_fields, statuses) = tokio::try_join!(client.fields(), client.statuses())?;
    let field_records: Vec<Record> = site_fields
        .iter()
        .map(|f| Record {
            id: f.id.clone(),
            data: serde_json::to_value(f).unwrap_or(Value::Null),
        })
        .collect();
    store
        .put_records(&opts.integration, RecordKind::Field, &field_records)
        .await?;
    let statuses: Vec<Record> = statuses
        .into_iter()
        .map(|s| Record {
            id: s.id.clone(),
            data: serde_json::to_value(&s).unwrap_or(Value::Null),
        })
        .collect();
    store
        .put_records(&opts.integration, RecordKind::Status, &statuses)
        .await?;
    let cursor = Cursor {
        last_census_ms: Some(now_ms()),
        ..Cursor::default()
    };
    store
        .put_cursor(&opts.integration, REFERENCE_UNIT, &cursor)
        .await?;
    Ok(site_fields)
}

/// The scope's units; projects are recorded (with their first onboarding time).
pub(super) async fn units(
    client: &JiraClient,
    store: &dyn SyncStore,
    opts: &SyncOptions,
) -> Result<Vec<Unit>, SyncError> {
    let accessible = match &opts.scope {
        Scope::Jql(_) => Vec::new(),
        _ => client.projects().await?,
    };
    let chosen = match &opts.scope {
        Scope::Jql(jql) => return Ok(vec![Unit::filter(jql)]),
        Scope::AllAccessible => accessible.clone(),
        Scope::Projects(keys) => {
            let missing: Vec<&String> = keys
                .iter()
                .filter(|k| !accessible.iter().any(|p| p.key.eq_ignore_ascii_case(k)))
                .collect();
            if !missing.is_empty() {
                return Err(SyncError::ProjectsNotVisible(
                    missing.into_iter().cloned().collect(),
                ));
            }
            accessible
                .into_iter()
                .filter(|p| keys.iter().any(|k| p.key.eq_ignore_ascii_case(k)))
                .collect()
        }
    };
    let now = now_ms();
    for p in &chosen {
        store
            .put_project(
                &opts.integration,
                &ProjectRecord {
                    key: p.key.clone(),
                    id: p.id.clone(),
                    name: p.name.clone(),
                    onboarded_at_ms: now,
                },
            )
            .await?;
    }
    Ok(chosen.iter().map(|p| Unit::project(&p.key)).collect())
}

/// Users, sprints, versions and (for JQL scopes) projects referenced by stored issues.
pub(super) async fn reference_data(
    ctx: &mut Ctx<'_>,
    issues: &[StoredIssue],
) -> Result<(), SyncError> {
    let mut users: HashMap<String, Value> = HashMap::new();
    let mut sprints: HashMap<String, Value> = HashMap::new();
    let mut versions: HashMap<String, Value> = HashMap::new();
    let user_id = |u: &Value| {
        u["accountId"]
            .as_str()
            .or(u["key"].as_str())
            .map(String::from)
    };
    for i in issues {
        for u in ["assignee", "reporter", "creator"]
            .iter()
            .filter_map(|f| i.fields.get(*f))
        {
            if let Some(id) = user_id(u) {
                users.insert(id, u.clone());
            }
        }
        // History and comment authors: people who act on issues without owning any.
        let authors = i
            .changelog
            .iter()
            .filter_map(|h| h.author.as_ref())
            .chain(i.comments.iter().filter_map(|c| c.author.as_ref()));
        for a in authors {
            if let Some(id) = a.account_id.clone().or(a.key.clone()) {
                users
                    .entry(id)
                    .or_insert_with(|| serde_json::to_value(a).unwrap_or(Value::Null));
            }
        }
        if let Some(Value::Array(list)) = ctx.map.sprint.as_ref().and_then(|f| i.fields.get(f)) {
            for s in list {
                if let Some(id) = s["id"].as_u64() {
                    sprints.insert(id.to_string(), s.clone());
                }
            }
        }
        if let Some(Value::Array(list)) = i.fields.get("fixVersions") {
            // An issue's copy of a version does not name its project, as Jira's list of the
            // project's versions does: the issue's project is the version's, and DORA counts
            // only the releases of projects in the scope.
            let project = i.fields.get("project").map(|p| &p["id"]);
            let project_id = project.and_then(|id| id.as_str()?.parse::<u64>().ok());
            for v in list {
                if let Some(id) = v["id"].as_str() {
                    let mut v = v.clone();
                    if let (Some(pid), None) = (project_id, v.get("projectId")) {
                        v["projectId"] = Value::from(pid);
                    }
                    versions.insert(id.to_string(), v);
                }
            }
        }
        if let Some(p) = i
            .fields
            .get("project")
            .filter(|_| !ctx.seen_projects.contains(&i.project_key))
        {
            ctx.seen_projects.insert(i.project_key.clone());
            if ctx.opts.scope_is_jql() {
                let record = ProjectRecord {
                    key: i.project_key.clone(),
                    id: p["id"].as_str().unwrap_or_default().to_string(),
                    name: p["name"].as_str().unwrap_or_default().to_string(),
                    onboarded_at_ms: now_ms(),
                };
                ctx.store
                    .put_project(&ctx.opts.integration, &record)
                    .await?;
            }
        }
    }
    let new_users: Vec<Record> = users
        .into_iter()
        .filter(|(id, _)| ctx.seen_users.insert(id.clone()))
        .map(|(id, data)| Record { id, data })
        .collect();
    ctx.store
        .put_records(&ctx.opts.integration, RecordKind::User, &new_users)
        .await?;
    put_changed_records(ctx, RecordKind::Sprint, sprints).await?;
    put_changed_records(ctx, RecordKind::Version, versions).await
}

/// Writes the records that differ from what this run last wrote of them.
async fn put_changed_records(
    ctx: &mut Ctx<'_>,
    kind: RecordKind,
    records: HashMap<String, Value>,
) -> Result<(), SyncError> {
    let changed: Vec<Record> = records
        .into_iter()
        .filter(|(id, data)| ctx.written_records.get(&(kind, id.clone())) != Some(data))
        .map(|(id, data)| Record { id, data })
        .collect();
    ctx.store
        .put_records(&ctx.opts.integration, kind, &changed)
        .await?;
    for r in changed {
        ctx.written_records.insert((kind, r.id), r.data);
    }
    Ok(())
}
