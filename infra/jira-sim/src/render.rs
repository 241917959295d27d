//! Renders the site model into Jira's JSON shapes (`IssueBean`, `User`, `Changelog`, …).
//! Timestamps are written in the viewer's time zone, as Jira does.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use chrono::TimeZone;
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::model::{
    Block, Category, ChangeItem, Comment, History, Issue, ItemValues, Mode, NamedItem, Project,
    RichText, Site, Sprint, Version,
};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Api {
    /// `/rest/api/2`: rich text as wiki markup strings.
    V2,
    /// `/rest/api/3`: rich text as Atlassian Document Format.
    V3,
}

pub struct Renderer<'a> {
    pub site: &'a Site,
    pub base: &'a str,
    pub api: Api,
    pub zone: Tz,
    /// Users as already rendered for this answer: a page of issues names the same few people
    /// in thousands of histories and comments.
    users: RefCell<HashMap<usize, Value>>,
}

/// Which fields a request asked for (`fields` parameter).
#[derive(Clone, Debug, Default)]
pub struct FieldSelection {
    pub all: bool,
    pub navigable: bool,
    pub include: BTreeSet<String>,
    pub exclude: BTreeSet<String>,
}

/// Every field the simulator knows, with whether `*navigable` includes it.
pub fn known_fields(site: &Site) -> Vec<(String, bool)> {
    let mut v: Vec<(String, bool)> = [
        "summary",
        "status",
        "issuetype",
        "project",
        "priority",
        "assignee",
        "reporter",
        "creator",
        "created",
        "updated",
        "resolutiondate",
        "resolution",
        "labels",
        "components",
        "fixVersions",
        "duedate",
        "description",
        "parent",
        "issuelinks",
        "subtasks",
        "statuscategorychangedate",
    ]
    .iter()
    .map(|f| (f.to_string(), true))
    .collect();
    v.push(("comment".into(), false));
    for id in [
        &site.custom_fields.story_points,
        &site.custom_fields.story_points_classic,
        &site.custom_fields.sprint,
        &site.custom_fields.severity,
    ] {
        v.push((id.clone(), true));
    }
    v
}

impl FieldSelection {
    /// Parses `fields` values (each may itself be comma-separated). `default` applies when none.
    pub fn parse<S: AsRef<str>>(values: &[S], default: &str) -> Self {
        let mut sel = FieldSelection::default();
        let mut tokens: Vec<String> = values
            .iter()
            .flat_map(|v| {
                v.as_ref()
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|s| !s.is_empty())
            .collect();
        // Only exclusions (`-description`) mean "all navigable fields except these" (the spec's
        // words for search; GET issue's default, `*all`, already includes every field).
        if tokens.iter().all(|t| t.starts_with('-')) {
            let base = if tokens.is_empty() || default == "*all" {
                default
            } else {
                "*navigable"
            };
            tokens.extend(base.split(',').map(String::from));
        }
        for t in tokens {
            match t.as_str() {
                "*all" => sel.all = true,
                "*navigable" => sel.navigable = true,
                _ if t.starts_with('-') => {
                    sel.exclude.insert(t[1..].to_string());
                }
                _ => {
                    sel.include.insert(t);
                }
            }
        }
        sel
    }

    pub fn wants(&self, field: &str, navigable: bool) -> bool {
        !self.exclude.contains(field)
            && (self.all || (self.navigable && navigable) || self.include.contains(field))
    }

    /// True when only identity is requested (`id`, `key`): Jira then allows far larger pages.
    pub fn id_only(&self) -> bool {
        !self.all && !self.navigable && self.include.iter().all(|f| f == "id" || f == "key")
    }

    /// The concrete field ids this selection asks for.
    pub fn requested(&self, site: &Site) -> Vec<String> {
        known_fields(site)
            .into_iter()
            .filter(|(f, nav)| self.wants(f, *nav))
            .map(|(f, _)| f)
            .collect()
    }
}

pub const CHANGELOG_EMBED_LIMIT: usize = 40;
pub const COMMENT_EMBED_LIMIT: usize = 20;

impl<'a> Renderer<'a> {
    /// A renderer for one answer, in the caller's API version and time zone.
    pub fn new(site: &'a Site, base: &'a str, api: Api, zone: Tz) -> Self {
        Renderer {
            site,
            base,
            api,
            zone,
            users: RefCell::default(),
        }
    }

    pub fn time(&self, ms: i64) -> String {
        let t = self
            .zone
            .timestamp_millis_opt(ms)
            .single()
            .expect("valid instant");
        sei_jira_client::time::format(&t)
    }

    fn avatars(&self, seed: &str) -> Value {
        let url = |s: u32| format!("{}/secure/useravatar?size={s}&ownerId={seed}", self.base);
        json!({"48x48": url(48), "24x24": url(24), "16x16": url(16), "32x32": url(32)})
    }

    /// A user as embedded in issues and changelogs (`UserDetails`).
    pub fn user_ref(&self, index: usize) -> Value {
        self.users
            .borrow_mut()
            .entry(index)
            .or_insert_with(|| self.render_user_ref(index))
            .clone()
    }

    fn render_user_ref(&self, index: usize) -> Value {
        let u = &self.site.users[index];
        match self.site.mode {
            Mode::Cloud => {
                let mut v = json!({
                    "self": format!("{}/rest/api/3/user?accountId={}", self.base, u.account_id),
                    "accountId": u.account_id,
                    "avatarUrls": self.avatars(&u.account_id),
                    "displayName": u.display_name,
                    "active": u.active,
                    "timeZone": u.time_zone.name(),
                    "accountType": if u.is_service_account() { "app" } else { "atlassian" },
                });
                if u.email_visible {
                    v["emailAddress"] = json!(u.email);
                }
                v
            }
            Mode::DataCenter => json!({
                "self": format!("{}/rest/api/2/user?username={}", self.base, u.name),
                "name": u.name,
                "key": u.key,
                "emailAddress": u.email,
                "avatarUrls": self.avatars(&u.key),
                "displayName": u.display_name,
                "active": u.active,
                "timeZone": u.time_zone.name(),
            }),
        }
    }

    /// The full `User` shape (`/myself`, `/users/search`, `/user/bulk`).
    pub fn user_full(&self, index: usize, expand_groups: bool) -> Value {
        let u = &self.site.users[index];
        let mut v = self.user_ref(index);
        v["locale"] = json!("en_US");
        if self.site.mode == Mode::Cloud && u.is_service_account() {
            v["appType"] = json!("service");
        }
        if expand_groups {
            v["groups"] = json!({"size": 1, "items": [{"name": "jira-software-users", "groupId": "1b3ea5b6-6c0c-4a02-8f59-6e6a6b4f7c9a"}]});
            v["applicationRoles"] = json!({"size": 1, "items": []});
        } else {
            v["groups"] = json!({"size": 1, "items": []});
            v["applicationRoles"] = json!({"size": 1, "items": []});
        }
        v["expand"] = json!("groups,applicationRoles");
        v
    }

    /// A user id as it appears in changelog `from`/`to`: accountId (Cloud) or key (Data Center).
    fn user_value(&self, index: usize) -> String {
        let u = &self.site.users[index];
        match self.site.mode {
            Mode::Cloud => u.account_id.clone(),
            Mode::DataCenter => u.key.clone(),
        }
    }

    pub fn rich_text(&self, text: &RichText) -> Value {
        match self.api {
            Api::V3 => adf(text),
            Api::V2 => Value::String(wiki(text)),
        }
    }

    pub fn status(&self, id: &str) -> Value {
        let s = self.site.status(id);
        json!({
            "self": format!("{}/rest/api/3/status/{}", self.base, s.id),
            "description": "",
            "iconUrl": format!("{}/images/icons/statuses/generic.png", self.base),
            "name": s.name,
            "untranslatedName": s.name,
            "id": s.id,
            "statusCategory": self.category(s.category),
        })
    }

    pub fn category(&self, c: Category) -> Value {
        json!({"self": format!("{}/rest/api/3/statuscategory/{}", self.base, c.id()), "id": c.id(), "key": c.key(), "colorName": c.color(), "name": c.name()})
    }

    pub fn issue_type(&self, id: &str) -> Value {
        let t = self.site.issue_type(id);
        json!({
            "self": format!("{}/rest/api/3/issuetype/{}", self.base, t.id),
            "id": t.id,
            "description": "",
            "iconUrl": format!("{}/images/icons/issuetypes/{}.png", self.base, t.id),
            "name": t.name,
            "subtask": t.subtask,
            "hierarchyLevel": t.hierarchy_level,
        })
    }

    pub(crate) fn named(&self, kind: &str, item: &NamedItem) -> Value {
        json!({"self": format!("{}/rest/api/3/{kind}/{}", self.base, item.id), "id": item.id, "name": item.name})
    }

    pub fn project_ref(&self, p: &Project) -> Value {
        json!({
            "self": format!("{}/rest/api/3/project/{}", self.base, p.id),
            "id": p.id.to_string(),
            "key": p.key,
            "name": p.name,
            "projectTypeKey": "software",
            "simplified": false,
            "avatarUrls": self.avatars(&p.key),
        })
    }

    /// A `Project` as `/project/search` lists it.
    pub fn project(&self, p: &Project, expand: &str) -> Value {
        let mut v = self.project_ref(p);
        v["expand"] = json!("description,lead,issueTypes,url,projectKeys,permissions,insight");
        v["style"] = json!("classic");
        v["isPrivate"] = json!(false);
        v["properties"] = json!({});
        if expand.contains("lead") {
            v["lead"] = self.user_ref(p.lead);
        }
        if expand.contains("description") {
            v["description"] = json!(format!("The {} team's project", p.name));
        }
        if expand.contains("issueTypes") {
            v["issueTypes"] = p
                .issue_types
                .iter()
                .map(|t| {
                    let mut it = self.issue_type(t);
                    it["avatarId"] = json!(10_300);
                    it
                })
                .collect();
        }
        if expand.contains("url") {
            v["url"] = json!(format!("{}/projects/{}", self.base, p.key));
        }
        if expand.contains("projectKeys") {
            v["projectKeys"] = json!([p.key]);
        }
        if expand.contains("permissions") {
            v["permissions"] = json!({"canEdit": false});
        }
        if expand.contains("issueTypeHierarchy") {
            v["issueTypeHierarchy"] = self.hierarchy(p);
        }
        if expand.contains("insight") {
            let (count, last) = self
                .site
                .issues
                .values()
                .filter(|i| i.project_id == p.id)
                .fold((0, 0), |(c, l), i| (c + 1, l.max(i.updated)));
            v["insight"] =
                json!({"totalIssueCount": count, "lastIssueUpdateTime": self.time(last)});
        }
        v
    }

    /// The project's issue type hierarchy: its issue types by level, lowest first.
    fn hierarchy(&self, p: &Project) -> Value {
        let mut levels: Vec<i32> = p
            .issue_types
            .iter()
            .map(|t| self.site.issue_type(t).hierarchy_level)
            .collect();
        levels.sort_unstable();
        levels.dedup();
        let name = |level: i32| match level {
            l if l < 0 => "Subtask",
            0 => "Base",
            _ => "Epic",
        };
        json!({
            "baseLevelId": 0,
            "levels": levels.iter().map(|&level| json!({
                "hierarchyLevelNumber": level,
                "name": name(level),
                "issueTypeIds": p.issue_types.iter()
                    .filter(|t| self.site.issue_type(t).hierarchy_level == level)
                    .filter_map(|t| t.parse::<i64>().ok())
                    .collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    fn linked_issue(&self, issue: &Issue) -> Value {
        json!({
            "id": issue.id.to_string(),
            "key": self.site.issue_key(issue),
            "self": format!("{}/rest/api/3/issue/{}", self.base, issue.id),
            "fields": {
                "summary": issue.summary,
                "status": self.status(&issue.status),
                "priority": self.named("priority", Site::named(&self.site.priorities, &issue.priority)),
                "issuetype": self.issue_type(&issue.issue_type),
            }
        })
    }

    pub fn sprint(&self, s: &Sprint, now_ms: i64) -> Value {
        let state = s.state(now_ms);
        let mut v = json!({
            "id": s.id,
            "self": format!("{}/rest/agile/1.0/sprint/{}", self.base, s.id),
            "state": state,
            "name": s.name,
            "originBoardId": s.board_id,
            "goal": s.goal,
        });
        if state != "future" {
            v["startDate"] = json!(iso(s.start));
            v["endDate"] = json!(iso(s.end));
        }
        if state == "closed" {
            v["completeDate"] = json!(iso(s.end));
        }
        v
    }

    pub(crate) fn field_value(
        &self,
        issue: &Issue,
        field: &str,
        now_ms: i64,
        comment_limit: usize,
    ) -> Value {
        let site = self.site;
        let cf = &site.custom_fields;
        match field {
            "summary" => json!(issue.summary),
            "status" => self.status(&issue.status),
            "issuetype" => self.issue_type(&issue.issue_type),
            "project" => self.project_ref(site.project(issue.project_id)),
            "priority" => self.named("priority", Site::named(&site.priorities, &issue.priority)),
            "assignee" => issue.assignee.map(|u| self.user_ref(u)).unwrap_or(Value::Null),
            "reporter" => self.user_ref(issue.reporter),
            "creator" => self.user_ref(issue.creator),
            "created" => json!(self.time(issue.created)),
            "updated" => json!(self.time(issue.updated)),
            "statuscategorychangedate" => json!(self.time(issue.status_changed)),
            "resolutiondate" => issue.resolved.map(|t| json!(self.time(t))).unwrap_or(Value::Null),
            "resolution" => issue.resolution.as_ref().map(|r| {
                let mut v = self.named("resolution", Site::named(&site.resolutions, r));
                v["description"] = json!("Work has been completed on this issue.");
                v
            }).unwrap_or(Value::Null),
            "labels" => json!(issue.labels),
            "components" => {
                let p = site.project(issue.project_id);
                json!(issue.components.iter().filter_map(|c| p.components.iter().find(|x| &x.id == c)).map(|c| self.named("component", c)).collect::<Vec<_>>())
            }
            "fixVersions" => {
                let p = site.project(issue.project_id);
                json!(issue.fix_versions.iter().filter_map(|v| p.versions.iter().find(|x| &x.id == v)).map(|v| version_json(self.base, v)).collect::<Vec<_>>())
            }
            "duedate" => issue.due_date.map(|d| json!(d.to_string())).unwrap_or(Value::Null),
            "description" => issue.description.as_ref().map(|d| self.rich_text(d)).unwrap_or(Value::Null),
            "parent" => issue.parent.and_then(|p| site.issues.get(&p)).map(|p| self.linked_issue(p)).unwrap_or(Value::Null),
            "subtasks" => json!(site.children.get(&issue.id).into_iter().flatten().filter_map(|c| site.issues.get(c)).filter(|i| site.issue_type(&i.issue_type).subtask).map(|i| self.linked_issue(i)).collect::<Vec<_>>()),
            "issuelinks" => json!(site.links_of.get(&issue.id).into_iter().flatten().map(|n| &site.links[*n]).filter_map(|l| {
                let t = site.link_types.iter().find(|t| t.id == l.type_id)?;
                let mut v = json!({
                    "id": l.id.to_string(),
                    "self": format!("{}/rest/api/3/issueLink/{}", self.base, l.id),
                    "type": {"id": t.id, "name": t.name, "inward": t.inward, "outward": t.outward, "self": format!("{}/rest/api/3/issueLinkType/{}", self.base, t.id)},
                });
                // On the outward issue the link points at the inward one, and vice versa.
                if l.outward == issue.id {
                    v["outwardIssue"] = self.linked_issue(site.issues.get(&l.inward)?);
                } else {
                    v["inwardIssue"] = self.linked_issue(site.issues.get(&l.outward)?);
                }
                Some(v)
            }).collect::<Vec<_>>()),
            "comment" => {
                let shown: Vec<Value> = issue.comments.iter().take(comment_limit).map(|c| self.comment(issue, c)).collect();
                json!({"comments": shown, "self": format!("{}/rest/api/3/issue/{}/comment", self.base, issue.id), "maxResults": shown.len(), "total": issue.comments.len(), "startAt": 0})
            }
            f if f == cf.story_points_in => issue.story_points.map(|p| json!(p)).unwrap_or(Value::Null),
            f if f == cf.sprint => {
                if issue.sprints.is_empty() {
                    Value::Null
                } else {
                    json!(issue.sprints.iter().filter_map(|id| site.sprints.iter().find(|s| s.id == *id)).map(|s| {
                        let mut v = self.sprint(s, now_ms);
                        v["boardId"] = v["originBoardId"].clone();
                        v.as_object_mut().map(|o| o.remove("self"));
                        v
                    }).collect::<Vec<_>>())
                }
            }
            f if f == cf.severity => issue.severity.as_ref().map(|s| {
                let item = Site::named(&site.severities, s);
                json!({"self": format!("{}/rest/api/3/customFieldOption/{}", self.base, item.id), "value": item.name, "id": item.id})
            }).unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    pub fn comment(&self, issue: &Issue, c: &Comment) -> Value {
        json!({
            "self": format!("{}/rest/api/3/issue/{}/comment/{}", self.base, issue.id, c.id),
            "id": c.id.to_string(),
            "author": self.user_ref(c.author),
            "body": self.rich_text(&c.body),
            "updateAuthor": self.user_ref(c.author),
            "created": self.time(c.created),
            "updated": self.time(c.updated),
            "jsdPublic": true,
        })
    }

    pub fn history(&self, h: &History) -> Value {
        json!({
            "id": h.id.to_string(),
            "author": self.user_ref(h.author),
            "created": self.time(h.created),
            "items": h.items.iter().map(|i| self.item(i)).collect::<Vec<_>>(),
        })
    }

    fn item(&self, i: &ChangeItem) -> Value {
        let (from, from_string, to, to_string) = match &i.values {
            ItemValues::Plain {
                from,
                from_string,
                to,
                to_string,
            } => (
                from.clone(),
                from_string.clone(),
                to.clone(),
                to_string.clone(),
            ),
            ItemValues::User { from, to } => (
                from.map(|u| self.user_value(u)),
                from.map(|u| self.site.users[u].display_name.clone()),
                to.map(|u| self.user_value(u)),
                to.map(|u| self.site.users[u].display_name.clone()),
            ),
        };
        let mut v = json!({
            "field": i.field,
            "fieldtype": if i.custom { "custom" } else { "jira" },
            "from": from, "fromString": from_string, "to": to, "toString": to_string,
        });
        // Jira omits fieldId on a few legacy items (e.g. the Key item of a move).
        if !i.field_id.is_empty() {
            v["fieldId"] = json!(i.field_id);
        }
        v
    }
}

/// Agile API dates are ISO 8601 in UTC with a `Z`.
fn iso(ms: i64) -> String {
    chrono::Utc
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn text_node(s: &str) -> Value {
    json!({"type": "text", "text": s})
}

/// Atlassian Document Format for a rich text.
pub fn adf(text: &RichText) -> Value {
    let content: Vec<Value> = text
        .iter()
        .map(|b| match b {
            Block::Paragraph(s) => {
                // Emphasise the first word so documents carry marks, as real ones do.
                match s.split_once(' ') {
                    Some((first, rest)) => json!({"type": "paragraph", "content": [
                        {"type": "text", "text": first, "marks": [{"type": "strong"}]},
                        text_node(&format!(" {rest}")),
                    ]}),
                    None => json!({"type": "paragraph", "content": [text_node(s)]}),
                }
            }
            Block::Heading(level, s) => json!({"type": "heading", "attrs": {"level": level}, "content": [text_node(s)]}),
            Block::Bullets(items) => json!({"type": "bulletList", "content": items.iter().map(|i| json!({
                "type": "listItem", "content": [{"type": "paragraph", "content": [text_node(i)]}]
            })).collect::<Vec<_>>()}),
            Block::Code(s) => json!({"type": "codeBlock", "attrs": {"language": "bash"}, "content": [text_node(s)]}),
        })
        .collect();
    json!({"type": "doc", "version": 1, "content": content})
}

/// Wiki markup (Jira v2 API and Data Center) for a rich text.
pub fn wiki(text: &RichText) -> String {
    text.iter()
        .map(|b| match b {
            Block::Paragraph(s) => match s.split_once(' ') {
                Some((first, rest)) => format!("*{first}* {rest}"),
                None => s.clone(),
            },
            Block::Heading(level, s) => format!("h{level}. {s}"),
            Block::Bullets(items) => items
                .iter()
                .map(|i| format!("* {i}"))
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Code(s) => format!("{{code:bash}}\n{s}\n{{code}}"),
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A version as Jira renders it in an issue's `fixVersions`; its project's listings add the
/// project's id.
pub fn version_json(base: &str, v: &Version) -> Value {
    json!({
        "self": format!("{base}/rest/api/3/version/{}", v.id),
        "id": v.id, "name": v.name, "description": "", "archived": false,
        "released": v.released, "releaseDate": v.release_date.map(|d| d.to_string()),
    })
}
