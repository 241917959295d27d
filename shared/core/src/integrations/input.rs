//! The integration API's bodies and views, and the checks of every field a request sets: each
//! refusal names the field.

use serde::{Deserialize, Serialize};

use super::connection::{Connection, checked_client, jira_refusal};
use super::{ApiResult, Services, bad};
use crate::jira::Deployment;
use crate::store::{IntegrationRecord, ScopeConfig};
use crate::sync::Excluded;
use crate::sync::plan::strip_order_by;
use crate::user_text::echoed;
use crate::validation::ConnectionRequest;

/// Which issues an integration ingests, as the API takes it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeInput {
    pub kind: String,
    #[serde(default)]
    pub keys: Option<Vec<String>>,
    #[serde(default)]
    pub jql: Option<String>,
}

impl ScopeInput {
    /// The scope this input names, or why not (the field to fix named): the API's checks, which
    /// the CLI's flags go through too.
    pub fn config(&self) -> ApiResult<ScopeConfig> {
        match self.kind.as_str() {
            "projects" => {
                let given = self.keys.as_deref().unwrap_or_default();
                if given.len() > MAX_SCOPE_KEYS {
                    return Err(bad(
                        "scope.keys",
                        format!("at most {MAX_SCOPE_KEYS} project keys"),
                    ));
                }
                let mut keys: Vec<String> = Vec::new();
                for key in given.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
                    if !is_project_key(key) {
                        return Err(bad(
                            "scope.keys",
                            format!(
                                "{} is not a Jira project key (a letter, then letters, digits or _; at most {MAX_PROJECT_KEY_CHARS})",
                                echoed(key)
                            ),
                        ));
                    }
                    if !keys.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                        keys.push(key.to_string());
                    }
                }
                if keys.is_empty() {
                    return Err(bad("scope.keys", "list at least one project key"));
                }
                Ok(ScopeConfig::Projects { keys })
            }
            "jql" => match self.jql.as_deref().map(str::trim) {
                Some(jql) if jql.chars().count() > MAX_JQL_CHARS => Err(bad(
                    "scope.jql",
                    format!("must be at most {MAX_JQL_CHARS} characters"),
                )),
                // Sorting alone selects every issue the user can see, and the sync puts its own
                // ORDER BY after the restriction: there would be nothing to put it after.
                Some(jql) if !jql.is_empty() && strip_order_by(jql).is_empty() => Err(bad(
                    "scope.jql",
                    "has only an ORDER BY clause: say which issues to sync (e.g. project = ABC), or use scope.kind all_accessible",
                )),
                Some(jql) if !jql.is_empty() => Ok(ScopeConfig::Jql {
                    jql: jql.to_string(),
                }),
                _ => Err(bad("scope.jql", "is required when scope.kind is jql")),
            },
            "all_accessible" => Ok(ScopeConfig::AllAccessible),
            other => Err(bad(
                "scope.kind",
                format!("'{other}' is not a scope: use projects, jql or all_accessible"),
            )),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationCreate {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub connection: Connection,
    pub scope: ScopeInput,
    #[serde(default)]
    pub excluded_fields: Vec<String>,
    #[serde(default)]
    pub custom_fields: Vec<String>,
    #[serde(default)]
    pub schedule_rate: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub scope: Option<ScopeInput>,
    pub excluded_fields: Option<Vec<String>>,
    pub custom_fields: Option<Vec<String>>,
    pub schedule_rate: Option<String>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsUpdate {
    #[serde(default)]
    pub email: Option<String>,
    pub token: String,
}

/// An integration as the API shows it: never the token, nor where it is kept.
#[derive(Clone, Debug, Serialize)]
pub struct IntegrationView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub deployment: Deployment,
    pub url: String,
    pub email: Option<String>,
    pub scope: ScopeConfig,
    pub excluded_fields: Vec<String>,
    pub custom_fields: Vec<String>,
    pub schedule_rate: String,
    pub created_at: String,
    pub updated_at: String,
}

pub(super) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl From<&IntegrationRecord> for IntegrationView {
    fn from(r: &IntegrationRecord) -> Self {
        IntegrationView {
            id: r.id.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            tags: r.tags.clone(),
            deployment: r.deployment,
            url: r.url.clone(),
            email: r.email.clone(),
            scope: r.scope.clone(),
            excluded_fields: r.excluded_fields.clone(),
            custom_fields: r.custom_fields.clone(),
            schedule_rate: r.schedule_rate.clone(),
            created_at: rfc3339(r.created_ms),
            updated_at: rfc3339(r.updated_ms),
        }
    }
}

/// Limits of a scope: Jira's own limit on a key's length, and sizes far beyond any real scope
/// that keep the integration record small.
pub(super) const MAX_SCOPE_KEYS: usize = 1_000;
pub(super) const MAX_PROJECT_KEY_CHARS: usize = 255;
pub(super) const MAX_JQL_CHARS: usize = 10_000;
pub(super) const MAX_CUSTOM_FIELDS: usize = 100;

/// Jira's project keys: a letter, then letters, digits or underscores.
fn is_project_key(key: &str) -> bool {
    key.len() <= MAX_PROJECT_KEY_CHARS
        && key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

pub(super) fn checked_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(bad("name", "must be 1 to 200 characters"));
    }
    Ok(name.to_string())
}

/// At most this many characters of description, tags of at most [`MAX_TAG_CHARS`], and
/// [`MAX_TAGS`] of them: an integration record stays small, and an oversized one is a 400
/// naming the field rather than a store error.
pub(super) const MAX_DESCRIPTION_CHARS: usize = 2_000;
pub(super) const MAX_TAGS: usize = 50;
pub(super) const MAX_TAG_CHARS: usize = 128;

pub(super) fn checked_description(description: &str) -> ApiResult<String> {
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(bad(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(description.to_string())
}

pub(super) fn checked_tags(tags: &[String]) -> ApiResult<Vec<String>> {
    if tags.len() > MAX_TAGS {
        return Err(bad("tags", format!("at most {MAX_TAGS} tags")));
    }
    let mut out = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim();
        if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
            return Err(bad(
                "tags",
                format!("each tag must be 1 to {MAX_TAG_CHARS} characters"),
            ));
        }
        if !out.iter().any(|t: &String| t == tag) {
            out.push(tag.to_string());
        }
    }
    Ok(out)
}

/// The custom fields to map, trimmed, each once (names compare case-insensitively, as the
/// sync resolves them).
pub(super) fn normalized_custom_fields(fields: &[String]) -> ApiResult<Vec<String>> {
    if fields.len() > MAX_CUSTOM_FIELDS {
        return Err(bad(
            "custom_fields",
            format!("at most {MAX_CUSTOM_FIELDS} custom fields"),
        ));
    }
    let mut wanted: Vec<String> = Vec::new();
    for field in fields.iter().map(|f| f.trim()) {
        if field.is_empty() || field.chars().count() > 255 {
            return Err(bad(
                "custom_fields",
                "each field name or id must be 1 to 255 characters",
            ));
        }
        if !wanted.iter().any(|w| w.eq_ignore_ascii_case(field)) {
            wanted.push(field.to_string());
        }
    }
    Ok(wanted)
}

/// Checks that the site has every field of `wanted` (a name or id), as the sync will resolve
/// them, so a typo is a 400 naming `custom_fields` now rather than a failed sync every hour.
/// A mapping of a field the integration excludes (say `Summary` while summary is excluded) is
/// refused too: it would bring the field back.
pub(super) async fn check_custom_fields_exist(
    s: &Services<'_>,
    req: &ConnectionRequest,
    wanted: &[String],
    excluded: Excluded,
) -> ApiResult<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let client = checked_client(req, &s.settings.validation).await?;
    let site_fields = client.fields().await.map_err(jira_refusal)?;
    let map = crate::sync::plan::resolve_fields(&site_fields, wanted)
        .map_err(|e| bad("custom_fields", e))?;
    if let Some((name, id)) = map.mapped.iter().find(|(_, id)| excluded.keeps_out(id)) {
        return Err(bad(
            "custom_fields",
            format!("'{name}' is Jira's {id} field, which this integration excludes"),
        ));
    }
    Ok(())
}

pub(super) fn checked_excluded(fields: &[String]) -> ApiResult<Vec<String>> {
    Excluded::parse(&fields.join(",")).map_err(|e| bad("excluded_fields", e))?;
    let mut out: Vec<String> = fields.iter().map(|f| f.trim().to_lowercase()).collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// `rate(N unit)` or `cron(…)`, checked as EventBridge Scheduler checks them, so no expression
/// is stored that the schedule would then refuse.
pub(super) fn checked_rate(rate: &str, min_minutes: u32) -> ApiResult<String> {
    let rate = rate.trim();
    crate::schedule_expression::validate_rate(rate).map_err(|why| {
        bad(
            "schedule_rate",
            format!("{why}; e.g. rate(1 hour), rate(30 minutes) or cron(0 * * * ? *)"),
        )
    })?;
    match crate::schedule_expression::shortest_interval_minutes(rate) {
        Some(every) if every >= min_minutes => Ok(rate.to_string()),
        Some(every) => Err(bad(
            "schedule_rate",
            format!(
                "runs every {every} minute(s); this deployment syncs an integration at most once every {min_minutes} minutes"
            ),
        )),
        None => Err(bad(
            "schedule_rate",
            "the cron minute field must be *, numbers, ranges or steps (e.g. 0, 0,30, */15)",
        )),
    }
}
