//! Changes to the site made through the admin API, each recorded in the issue's changelog the way
//! Jira records it, and each bumping `updated` to the current time.

use serde::Deserialize;

use crate::changelog::{self, Field, transition};
use crate::dataset::fmt_points;
use crate::model::{Block, Comment, Issue, Project, RichText, Site, plain_text};

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewIssue {
    pub project: String,
    /// Issue type name or id; defaults to the project's first type.
    pub issuetype: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    /// accountId or email.
    pub assignee: Option<String>,
    /// accountId or email of the reporter; defaults to the project lead.
    pub reporter: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Edit {
    /// Status name or id (must be in the project's workflow).
    pub status: Option<String>,
    /// accountId or email; `null` unassigns. Absent leaves it alone.
    #[serde(default, with = "double_option")]
    pub assignee: Option<Option<String>>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub story_points: Option<f64>,
    pub labels: Option<Vec<String>>,
    /// Priority name or id.
    pub priority: Option<String>,
    /// Adds a comment with this text.
    pub comment: Option<String>,
    /// Who makes the change (accountId or email); defaults to the reporter.
    pub author: Option<String>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Ok(Some(Option::deserialize(d)?))
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn paragraph(text: &str) -> RichText {
    vec![Block::Paragraph(text.to_string())]
}

fn user(site: &Site, who: &str) -> Result<usize, String> {
    site.user_index(who)
        .ok_or_else(|| format!("unknown user '{who}'"))
}

pub fn create(site: &mut Site, req: NewIssue) -> Result<u64, String> {
    let project = site
        .project_by_key_or_id(&req.project)
        .ok_or_else(|| format!("unknown project '{}'", req.project))?
        .clone();
    let issue_type = match &req.issuetype {
        None => project.issue_types[0].clone(),
        Some(t) => project
            .issue_types
            .iter()
            .find(|id| *id == t || site.issue_type(id).name.eq_ignore_ascii_case(t))
            .cloned()
            .ok_or_else(|| format!("issue type '{t}' is not used by project {}", project.key))?,
    };
    let assignee = req.assignee.as_deref().map(|a| user(site, a)).transpose()?;
    let reporter = req
        .reporter
        .as_deref()
        .map(|a| user(site, a))
        .transpose()?
        .unwrap_or(project.lead);
    let now = now_ms();
    let id = site.next_issue_id;
    site.next_issue_id += 1;
    let p = site
        .projects
        .iter_mut()
        .find(|p| p.id == project.id)
        .expect("found above");
    let number = p.next_number;
    p.next_number += 1;
    site.keys.insert(format!("{}-{number}", project.key), id);
    site.issues.insert(
        id,
        Issue {
            id,
            project_id: project.id,
            number,
            issue_type,
            status: project.statuses[0].clone(),
            status_changed: now,
            priority: "3".into(),
            resolution: None,
            assignee,
            reporter,
            creator: reporter,
            summary: req.summary.unwrap_or_else(|| format!("New issue {id}")),
            description: req.description.as_deref().map(paragraph),
            labels: Vec::new(),
            components: Vec::new(),
            fix_versions: Vec::new(),
            due_date: None,
            story_points: None,
            sprints: Vec::new(),
            severity: None,
            parent: None,
            created: now,
            updated: now,
            resolved: None,
            histories: Vec::new(),
            comments: Vec::new(),
        },
    );
    Ok(id)
}

pub fn edit(site: &mut Site, id_or_key: &str, req: Edit) -> Result<(), String> {
    let id = site
        .find_issue(id_or_key)
        .ok_or_else(|| format!("no issue '{id_or_key}'"))?
        .id;
    let now = now_ms();
    let mut issue = site.issues[&id].clone();
    let author = req
        .author
        .as_deref()
        .map(|a| user(site, a))
        .transpose()?
        .unwrap_or(issue.reporter);
    let mut items = Vec::new();
    if let Some(s) = &req.status {
        let workflow = site.project(issue.project_id).workflow(&issue.issue_type);
        let to = workflow
            .iter()
            .map(|id| site.status(id))
            .find(|st| st.id == *s || st.name.eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("status '{s}' is not in the workflow"))?
            .clone();
        let from = site.status(&issue.status).clone();
        if to.id != from.id {
            items.extend(transition(&mut issue, &from, &to, now));
        }
    }
    if let Some(a) = &req.assignee {
        let to = a.as_deref().map(|a| user(site, a)).transpose()?;
        if to != issue.assignee {
            items.push(changelog::assignee(issue.assignee, to));
            issue.assignee = to;
        }
    }
    if let Some(s) = req.summary {
        let from = std::mem::replace(&mut issue.summary, s.clone());
        items.push(changelog::text(
            Field::system("summary"),
            Some(&from),
            Some(&s),
        ));
    }
    if let Some(d) = req.description {
        let from = issue
            .description
            .replace(paragraph(&d))
            .map(|t| plain_text(&t));
        items.push(changelog::text(
            Field::system("description"),
            from.as_deref(),
            Some(&d),
        ));
    }
    if let Some(p) = req.story_points {
        let from = issue.story_points.replace(p).map(fmt_points);
        items.push(changelog::text(
            Field::custom("Story point estimate", &site.custom_fields.story_points),
            from.as_deref(),
            Some(&fmt_points(p)),
        ));
    }
    if let Some(mut labels) = req.labels {
        labels.sort();
        let from = std::mem::replace(&mut issue.labels, labels).join(" ");
        items.push(changelog::text(
            Field::system("labels"),
            Some(from.as_str()).filter(|s| !s.is_empty()),
            Some(&issue.labels.join(" ")),
        ));
    }
    if let Some(p) = &req.priority {
        let to = site
            .priorities
            .iter()
            .find(|x| x.id == *p || x.name.eq_ignore_ascii_case(p))
            .ok_or_else(|| format!("unknown priority '{p}'"))?
            .clone();
        let from = Site::named(&site.priorities, &issue.priority).clone();
        items.push(changelog::reference(
            Field::system("priority"),
            Some((&from.id, &from.name)),
            Some((&to.id, &to.name)),
        ));
        issue.priority = to.id;
    }
    site.record_history(&mut issue, author, now, items);
    if let Some(text) = req.comment {
        site.next_comment_id += 1;
        issue.comments.push(Comment {
            id: site.next_comment_id,
            author,
            body: paragraph(&text),
            created: now,
            updated: now,
        });
    }
    issue.updated = now;
    site.issues.insert(id, issue);
    Ok(())
}

/// Moves an issue to another project: it gets a new key (the old one still resolves) and its
/// changelog records every change the move makes (project, Key, status or type mapped into the
/// new project's scheme, components and fix versions dropped), as Jira's move does. Sub-tasks
/// move with their parent; a sub-task cannot be moved on its own.
pub fn move_issue(site: &mut Site, id_or_key: &str, project: &str) -> Result<String, String> {
    let id = site
        .find_issue(id_or_key)
        .ok_or_else(|| format!("no issue '{id_or_key}'"))?
        .id;
    let target = site
        .project_by_key_or_id(project)
        .ok_or_else(|| format!("unknown project '{project}'"))?
        .clone();
    let issue = &site.issues[&id];
    if issue.project_id == target.id {
        return Err(format!("issue is already in {}", target.key));
    }
    if site.issue_type(&issue.issue_type).subtask {
        return Err("a sub-task moves with its parent: move the parent instead".into());
    }
    let subtasks: Vec<u64> = site
        .children
        .get(&id)
        .into_iter()
        .flatten()
        .copied()
        .filter(|c| site.issue_type(&site.issues[c].issue_type).subtask)
        .collect();
    let now = now_ms();
    let new_key = move_one(site, id, &target, now);
    for child in subtasks {
        move_one(site, child, &target, now);
    }
    site.reindex();
    Ok(new_key)
}

fn move_one(site: &mut Site, id: u64, target: &Project, now: i64) -> String {
    let mut issue = site.issues[&id].clone();
    let source = site.project(issue.project_id).clone();
    let old_key = site.issue_key(&issue);
    let p = site
        .projects
        .iter_mut()
        .find(|p| p.id == target.id)
        .expect("target exists");
    let number = p.next_number;
    p.next_number += 1;
    let new_key = format!("{}-{number}", target.key);
    let mut items = vec![
        changelog::reference(
            Field::system("project"),
            Some((&source.id.to_string(), &source.name)),
            Some((&target.id.to_string(), &target.name)),
        ),
        changelog::text(Field::named("Key", ""), Some(&old_key), Some(&new_key)),
    ];
    let workflow = target.workflow(&issue.issue_type);
    if !workflow.contains(&issue.status) {
        let from = site.status(&issue.status).clone();
        let to = workflow
            .iter()
            .map(|s| site.status(s))
            .find(|s| s.category == from.category)
            .unwrap_or_else(|| site.status(&workflow[0]))
            .clone();
        items.push(changelog::status(&from, &to));
        if from.category != to.category {
            issue.status_changed = now;
        }
        issue.status = to.id;
    }
    let subtask = site.issue_type(&issue.issue_type).subtask;
    if !target.issue_types.contains(&issue.issue_type) {
        let from = site.issue_type(&issue.issue_type).clone();
        let to = target
            .issue_types
            .iter()
            .map(|t| site.issue_type(t))
            .find(|t| t.subtask == subtask)
            .unwrap_or_else(|| site.issue_type(&target.issue_types[0]))
            .clone();
        items.push(changelog::reference(
            Field::system("issuetype"),
            Some((&from.id, &from.name)),
            Some((&to.id, &to.name)),
        ));
        issue.issue_type = to.id;
    }
    // Components and versions belong to the old project.
    for c in std::mem::take(&mut issue.components) {
        let name = source
            .components
            .iter()
            .find(|x| x.id == c)
            .map(|x| x.name.clone());
        items.push(changelog::reference(
            Field::named("Component", "components"),
            Some((&c, name.as_deref().unwrap_or_default())),
            None,
        ));
    }
    for v in std::mem::take(&mut issue.fix_versions) {
        let name = source
            .versions
            .iter()
            .find(|x| x.id == v)
            .map(|x| x.name.clone());
        items.push(changelog::reference(
            Field::named("Fix Version", "fixVersions"),
            Some((&v, name.as_deref().unwrap_or_default())),
            None,
        ));
    }
    issue.project_id = target.id;
    issue.number = number;
    let reporter = issue.reporter;
    site.record_history(&mut issue, reporter, now, items);
    issue.updated = now;
    site.keys.insert(new_key.clone(), id);
    site.issues.insert(id, issue);
    new_key
}

/// Deletes an issue for good: no tombstone and no changelog entry on it (as in Jira); its links
/// go with it, its sub-tasks are deleted too, and an epic's children record losing their parent.
pub fn delete(site: &mut Site, id_or_key: &str) -> Result<(), String> {
    let id = site
        .find_issue(id_or_key)
        .ok_or_else(|| format!("no issue '{id_or_key}'"))?
        .id;
    let parent_key = site.issue_key(&site.issues[&id]);
    let children: Vec<u64> = site
        .children
        .get(&id)
        .into_iter()
        .flatten()
        .copied()
        .collect();
    let now = now_ms();
    for child in children {
        if site.issue_type(&site.issues[&child].issue_type).subtask {
            remove(site, child);
        } else {
            let mut c = site.issues.remove(&child).expect("indexed child exists");
            c.parent = None;
            c.updated = now;
            let item = changelog::reference(
                Field::named("IssueParentAssociation", ""),
                Some((&id.to_string(), &parent_key)),
                None,
            );
            let reporter = c.reporter;
            site.record_history(&mut c, reporter, now, vec![item]);
            site.issues.insert(child, c);
        }
    }
    remove(site, id);
    site.reindex();
    Ok(())
}

fn remove(site: &mut Site, id: u64) {
    site.issues.remove(&id);
    site.keys.retain(|_, v| *v != id);
    site.links.retain(|l| l.inward != id && l.outward != id);
}
