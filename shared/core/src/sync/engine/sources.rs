//! Reference data refreshed where Jira keeps it. A version released, a sprint closed or a user
//! deactivated touches no issue, so no incremental window brings it: taken only from the issues a
//! run writes, it would stay stale for ever. So each completed run reads every version of the
//! scope's projects (one request per project page), and at most once a day (`census_every_ms`) the
//! sprints and users that stored issues refer to: sprints not known to be closed one by one (the
//! Agile API has no bulk read), users in bulk where Jira allows. What changed is kept as records,
//! and the stored issues that embed it (a sprint's state and dates in the sprint field, a user's
//! `active` in assignee, reporter and creator) are written again with it, which marks them for the
//! hygiene and DORA indexers.

use std::collections::HashMap;

use futures_util::StreamExt;
use serde_json::Value;

use super::{Ctx, SyncError, due, now_ms};
use crate::jira::models::UserRef;
use crate::jira::{JiraClient, JiraError};
use crate::store::records::{Cursor, Record, RecordKind, StoredIssue};
use crate::store::rewrite_stored_issues;
use crate::sync::pipeline::Task;
use crate::sync::plan::Unit;

/// The cursor under which the last refresh of sprints and users is kept (its `last_census_ms`).
pub const SOURCES_UNIT: &str = "~sources";
/// Sprints read side by side.
const SPRINTS_AT_ONCE: usize = 10;
/// Stored issues read per store call while looking for those that embed what changed.
const ISSUE_PAGE: usize = 500;

/// Versions asked for while the run syncs (they depend on no issue), and the requests they took.
pub(super) type VersionsAsked = Task<Result<(Vec<Value>, u64), JiraError>>;

/// Asks for every version of these projects, side by side, on its own task: started with the
/// run, its answer waits for the run's end instead of adding a round trip to it.
pub(super) fn ask_versions(client: &JiraClient, projects: Vec<String>) -> VersionsAsked {
    let client = client.clone();
    Task::spawn(async move {
        let lists = futures_util::future::try_join_all(
            projects.iter().map(|key| client.project_versions(key)),
        )
        .await?;
        let requests = lists.iter().map(|(_, n)| n).sum();
        Ok((lists.into_iter().flat_map(|(v, _)| v).collect(), requests))
    })
}

/// Refreshes the versions of the scope's projects (asked for at the run's start where the scope
/// names its projects; a JQL scope's projects are those its issues were found in), and when due
/// the referenced sprints and users.
pub(super) async fn refresh_sources(
    ctx: &mut Ctx<'_>,
    units: &[Unit],
    versions: Option<VersionsAsked>,
) -> Result<(), SyncError> {
    let integration = ctx.opts.integration.clone();
    let (versions, requests) = match versions {
        Some(asked) => asked.await?,
        None => {
            let projects = ctx
                .store
                .list_projects(&integration)
                .await?
                .into_iter()
                .map(|p| p.key)
                .collect();
            // Asked for now: the refresh's own count of requests takes them in.
            (ask_versions(ctx.client, projects).await?.0, 0)
        }
    };
    let versions = versions
        .into_iter()
        .filter_map(|v| {
            let id = v["id"].as_str()?.to_string();
            Some(Record { id, data: v })
        })
        .collect();
    // Asked for beside the run: counted here, with the other refresh requests.
    ctx.counts.reference_requests += requests;
    let stored_versions = stored(ctx, RecordKind::Version).await?;
    put_changed(ctx, RecordKind::Version, &stored_versions, versions).await?;

    let last = ctx
        .store
        .get_cursor(&integration, SOURCES_UNIT)
        .await?
        .and_then(|c| c.last_census_ms);
    // A first run that read every unit whole took its sprints and users from issues just read.
    let fresh = last.is_none() && units.iter().all(|u| ctx.read_every_id.contains(&u.name));
    if fresh || !due(last, ctx.opts.census_every_ms) {
        if fresh {
            put_refreshed(ctx).await?;
        }
        return Ok(());
    }
    let (stored_sprints, stored_users) = (
        stored(ctx, RecordKind::Sprint).await?,
        stored(ctx, RecordKind::User).await?,
    );
    let (sprints, users) = tokio::try_join!(
        refreshed_sprints(ctx, &stored_sprints),
        refreshed_users(ctx, &stored_users)
    )?;
    // Only what issues embed and metrics read makes the issues be written again: the Agile
    // API's sprint carries more than an issue's copy of it.
    let changed = Changed {
        sprints: meaningful(
            put_changed(ctx, RecordKind::Sprint, &stored_sprints, sprints).await?,
            &SPRINT_KEYS,
        ),
        users: meaningful(
            put_changed(ctx, RecordKind::User, &stored_users, users).await?,
            &["active"],
        ),
    };
    if !changed.is_empty() {
        rewrite_issues(ctx, &changed).await?;
    }
    put_refreshed(ctx).await
}

/// Keeps the time of this refresh of sprints and users.
async fn put_refreshed(ctx: &mut Ctx<'_>) -> Result<(), SyncError> {
    let cursor = Cursor {
        last_census_ms: Some(now_ms()),
        ..Cursor::default()
    };
    ctx.put_cursor(SOURCES_UNIT, &cursor).await?;
    Ok(())
}

/// Records of one kind as stored, by id.
type Stored = HashMap<String, Value>;

async fn stored(ctx: &Ctx<'_>, kind: RecordKind) -> Result<Stored, SyncError> {
    Ok(ctx
        .store
        .list_records(&ctx.opts.integration, kind)
        .await?
        .into_iter()
        .map(|r| (r.id, r.data))
        .collect())
}

/// The stored sprints not known to be closed, as Jira has them now (one it no longer shows is
/// left as it was).
async fn refreshed_sprints(ctx: &Ctx<'_>, stored: &Stored) -> Result<Vec<Record>, SyncError> {
    let open: Vec<u64> = stored
        .iter()
        .filter(|(_, data)| data["state"].as_str() != Some("closed"))
        .filter_map(|(id, _)| id.parse().ok())
        .collect();
    let client = ctx.client;
    let answers: Vec<Result<Value, JiraError>> = futures_util::stream::iter(open)
        .map(|id| async move { client.sprint(id).await })
        .buffered(SPRINTS_AT_ONCE)
        .collect()
        .await;
    let mut sprints = Vec::new();
    for answer in answers {
        match answer {
            Ok(s) => {
                if let Some(id) = s["id"].as_u64() {
                    sprints.push(Record {
                        id: id.to_string(),
                        data: s,
                    });
                }
            }
            Err(JiraError::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(sprints)
}

/// The stored users with what Jira says of them now: their records with `active` (and the
/// display name) as Jira answers today.
async fn refreshed_users(ctx: &Ctx<'_>, stored: &Stored) -> Result<Vec<Record>, SyncError> {
    let ids: Vec<String> = stored.keys().cloned().collect();
    let now: HashMap<String, UserRef> = ctx
        .client
        .users(&ids)
        .await?
        .into_iter()
        .filter_map(|u| Some((u.account_id.clone().or(u.key.clone())?, u)))
        .collect();
    Ok(stored
        .iter()
        .filter_map(|(id, data)| {
            let user = now.get(id)?;
            let mut data = data.clone();
            if let Some(active) = user.active {
                data["active"] = Value::Bool(active);
            }
            if let Some(name) = &user.display_name {
                data["displayName"] = Value::String(name.clone());
            }
            Some(Record {
                id: id.clone(),
                data,
            })
        })
        .collect())
}

/// What an issue's copy of a sprint holds of its state.
const SPRINT_KEYS: [&str; 4] = ["state", "startDate", "endDate", "completeDate"];

/// Of the records kept (each with what was stored before), those whose `keys` changed.
fn meaningful(kept: Vec<(Option<Value>, Record)>, keys: &[&str]) -> HashMap<String, Value> {
    kept.into_iter()
        .filter(|(before, r)| {
            before
                .as_ref()
                .is_some_and(|b| keys.iter().any(|k| b.get(*k) != r.data.get(*k)))
        })
        .map(|(_, r)| (r.id, r.data))
        .collect()
}

/// Keeps the records that differ from those stored; the ones kept, each with what was stored
/// before.
async fn put_changed(
    ctx: &mut Ctx<'_>,
    kind: RecordKind,
    stored: &Stored,
    records: Vec<Record>,
) -> Result<Vec<(Option<Value>, Record)>, SyncError> {
    let changed: Vec<Record> = records
        .into_iter()
        .filter(|r| stored.get(&r.id) != Some(&r.data))
        .collect();
    ctx.store
        .put_records(&ctx.opts.integration, kind, &changed)
        .await?;
    for r in &changed {
        ctx.written_records
            .insert((kind, r.id.clone()), r.data.clone());
    }
    Ok(changed
        .into_iter()
        .map(|r| (stored.get(&r.id).cloned(), r))
        .collect())
}

/// Sprints and users whose state changed at their source, by id.
struct Changed {
    sprints: HashMap<String, Value>,
    users: HashMap<String, Value>,
}

impl Changed {
    fn is_empty(&self) -> bool {
        self.sprints.is_empty() && self.users.is_empty()
    }

    /// The issue with what changed written into it; whether anything was (a tombstone holds
    /// nothing to change).
    fn apply(&self, issue: &mut StoredIssue, sprint_field: Option<&str>) -> bool {
        if issue.removed {
            return false;
        }
        let mut touched = false;
        for field in ["assignee", "reporter", "creator"] {
            let Some(user) = issue.fields.get_mut(field) else {
                continue;
            };
            let id = user["accountId"].as_str().or(user["key"].as_str());
            let Some(now) = id.and_then(|id| self.users.get(id)) else {
                continue;
            };
            if user.get("active") != now.get("active") {
                user["active"] = now["active"].clone();
                touched = true;
            }
        }
        let sprints = sprint_field.and_then(|f| issue.fields.get_mut(f));
        for entry in sprints.and_then(Value::as_array_mut).into_iter().flatten() {
            touched |= self.apply_sprint(entry);
        }
        touched
    }

    /// A sprint as an issue embeds it: an object on Cloud, a string
    /// (`…Sprint@1f[id=3,rapidViewId=1,state=ACTIVE,…]`) on Data Center.
    fn apply_sprint(&self, entry: &mut Value) -> bool {
        if let Some(text) = entry.as_str() {
            let Some(now) = data_center_sprint_id(text).and_then(|id| self.sprints.get(&id)) else {
                return false;
            };
            let Some(state) = now["state"].as_str() else {
                return false;
            };
            let replaced = replace_state(text, &state.to_ascii_uppercase());
            let touched = replaced != text;
            *entry = Value::String(replaced);
            return touched;
        }
        let Some(now) = entry["id"]
            .as_u64()
            .and_then(|id| self.sprints.get(&id.to_string()))
        else {
            return false;
        };
        let mut touched = false;
        for key in SPRINT_KEYS {
            if entry.get(key) != now.get(key) {
                match now.get(key) {
                    Some(v) => entry[key] = v.clone(),
                    None => {
                        entry.as_object_mut().map(|o| o.remove(key));
                    }
                }
                touched = true;
            }
        }
        touched
    }
}

/// The id in a Data Center sprint string (`…[id=3,…]`).
fn data_center_sprint_id(text: &str) -> Option<String> {
    let rest = text.split_once("[id=")?.1;
    Some(rest.split([',', ']']).next()?.to_string())
}

/// The string with its `state=…` set to `state`.
fn replace_state(text: &str, state: &str) -> String {
    let Some(at) = text.find("state=") else {
        return text.to_string();
    };
    let from = at + "state=".len();
    let to = text[from..]
        .find([',', ']'])
        .map_or(text.len(), |n| from + n);
    format!("{}{state}{}", &text[..from], &text[to..])
}

/// Writes again every stored issue that embeds a changed sprint or user, at the revision the run
/// knows (a write that lost to another is read again and decided anew).
async fn rewrite_issues(ctx: &Ctx<'_>, changed: &Changed) -> Result<(), SyncError> {
    let integration = ctx.opts.integration.clone();
    let sprint_field = ctx.map.sprint.as_deref();
    let mut after: Option<String> = None;
    loop {
        let page = ctx
            .store
            .list_issues(&integration, after.as_deref(), ISSUE_PAGE)
            .await?;
        let Some(last) = page.last().map(|i| i.id.clone()) else {
            return Ok(());
        };
        let embedding: Vec<StoredIssue> = page
            .into_iter()
            .filter_map(|mut i| changed.apply(&mut i, sprint_field).then_some(i))
            .collect();
        rewrite_stored_issues(ctx.store, &integration, embedding, |i| {
            changed.apply(i, sprint_field)
        })
        .await?;
        after = Some(last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_changed_sprint_and_user_are_written_into_the_issues_that_embed_them() {
        let changed = Changed {
            sprints: HashMap::from([
                (
                    "7".to_string(),
                    json!({"id": 7, "state": "closed", "startDate": "a", "endDate": "b", "completeDate": "b"}),
                ),
                ("3".to_string(), json!({"id": 3, "state": "closed"})),
            ]),
            users: HashMap::from([(
                "u1".to_string(),
                json!({"accountId": "u1", "active": false}),
            )]),
        };
        let mut cloud = StoredIssue {
            fields: json!({
                "assignee": {"accountId": "u1", "active": true},
                "reporter": {"accountId": "u2", "active": true},
                "customfield_10020": [{"id": 7, "state": "active", "startDate": "a", "endDate": "b"}, {"id": 8, "state": "active"}],
            })
            .as_object()
            .unwrap()
            .clone(),
            ..StoredIssue::default()
        };
        assert!(changed.apply(&mut cloud, Some("customfield_10020")));
        assert_eq!(cloud.fields["assignee"]["active"], json!(false));
        assert_eq!(cloud.fields["reporter"]["active"], json!(true));
        assert_eq!(
            cloud.fields["customfield_10020"],
            json!([{"id": 7, "state": "closed", "startDate": "a", "endDate": "b", "completeDate": "b"}, {"id": 8, "state": "active"}])
        );
        assert!(
            !changed.apply(&mut cloud, Some("customfield_10020")),
            "applied once"
        );

        let mut data_center = StoredIssue {
            fields: json!({"customfield_10100": ["com.atlassian.greenhopper.service.sprint.Sprint@1f[id=3,rapidViewId=1,state=ACTIVE,name=S1]"]})
                .as_object()
                .unwrap()
                .clone(),
            ..StoredIssue::default()
        };
        assert!(changed.apply(&mut data_center, Some("customfield_10100")));
        assert_eq!(
            data_center.fields["customfield_10100"],
            json!([
                "com.atlassian.greenhopper.service.sprint.Sprint@1f[id=3,rapidViewId=1,state=CLOSED,name=S1]"
            ])
        );
    }
}
