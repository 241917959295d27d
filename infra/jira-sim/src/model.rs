//! The simulated Jira site: plain data, no I/O. The server renders it into Jira's JSON shapes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Which Jira product the simulator imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Jira Cloud: `/rest/api/3` (and `/2`), email + API token, enhanced search.
    Cloud,
    /// Jira Data Center: `/rest/api/2`, personal access tokens, startAt/total search.
    #[value(name = "datacenter")]
    #[serde(rename = "datacenter")]
    DataCenter,
}

/// How a user's credential behaves; printed as `kind` in the startup line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// A classic (unscoped) API token: works with Basic auth on the site URL.
    User,
    /// A scoped API token: only valid on the api.atlassian.com gateway, so 401 on the site URL.
    ScopedToken,
    /// A service account (`accountType: app`, `appType: service`).
    ServiceAccount,
    /// A Data Center personal access token (Bearer).
    Pat,
}

#[derive(Clone, Debug)]
pub struct User {
    pub account_id: String,
    /// Data Center username (also used as the changelog value there).
    pub name: String,
    /// Data Center user key, e.g. `JIRAUSER10100`.
    pub key: String,
    pub display_name: String,
    pub email: String,
    /// Whether the email is visible to other users (profile privacy).
    pub email_visible: bool,
    pub active: bool,
    pub time_zone: Tz,
    pub credential: Option<(CredentialKind, String)>,
    /// Permission keys this user does not hold anywhere.
    pub denied: BTreeSet<String>,
    /// Project keys this user cannot browse (their issues are invisible to them).
    pub hidden_projects: BTreeSet<String>,
}

impl User {
    pub fn is_service_account(&self) -> bool {
        matches!(self.credential, Some((CredentialKind::ServiceAccount, _)))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    ToDo,
    InProgress,
    Done,
}

impl Category {
    pub fn id(self) -> u32 {
        match self {
            Category::ToDo => 2,
            Category::InProgress => 4,
            Category::Done => 3,
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            Category::ToDo => "new",
            Category::InProgress => "indeterminate",
            Category::Done => "done",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Category::ToDo => "To Do",
            Category::InProgress => "In Progress",
            Category::Done => "Done",
        }
    }
    pub fn color(self) -> &'static str {
        match self {
            Category::ToDo => "blue-gray",
            Category::InProgress => "yellow",
            Category::Done => "green",
        }
    }
    pub const ALL: [Category; 3] = [Category::ToDo, Category::InProgress, Category::Done];
}

#[derive(Clone, Debug)]
pub struct Status {
    pub id: String,
    pub name: String,
    pub category: Category,
}

#[derive(Clone, Debug)]
pub struct IssueType {
    pub id: String,
    pub name: String,
    pub subtask: bool,
    pub hierarchy_level: i32,
}

#[derive(Clone, Debug)]
pub struct NamedItem {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct Version {
    pub id: String,
    pub name: String,
    pub released: bool,
    pub release_date: Option<chrono::NaiveDate>,
}

/// The Change issue type, and the status its workflow ends in instead of Done.
pub const CHANGE_TYPE: &str = "10007";
/// The Incident issue type.
pub const INCIDENT_TYPE: &str = "10006";
/// The link type under which a change causes an incident ("causes" / "is caused by").
pub const CAUSES_LINK: &str = "10004";
pub const DONE_STATUS: &str = "10002";
pub const DEPLOYED_STATUS: &str = "10003";

#[derive(Clone, Debug)]
pub struct Project {
    pub id: u64,
    pub key: String,
    pub name: String,
    pub lead: usize,
    /// Workflow statuses, in workflow order.
    pub statuses: Vec<String>,
    pub issue_types: Vec<String>,
    pub components: Vec<NamedItem>,
    pub versions: Vec<Version>,
    pub next_number: u64,
}

impl Project {
    /// The statuses an issue of `issue_type` moves through, in order: the project's, except
    /// that change requests end in Deployed (of the Done category) instead of Done, as a
    /// release workflow does.
    pub fn workflow(&self, issue_type: &str) -> Vec<String> {
        self.statuses
            .iter()
            .map(|s| match (issue_type, s.as_str()) {
                (CHANGE_TYPE, DONE_STATUS) => DEPLOYED_STATUS.to_string(),
                _ => s.clone(),
            })
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct Board {
    pub id: u64,
    pub name: String,
    pub scrum: bool,
    pub project_id: u64,
}

#[derive(Clone, Debug)]
pub struct Sprint {
    pub id: u64,
    pub name: String,
    pub board_id: u64,
    pub start: i64,
    pub end: i64,
    pub goal: String,
}

impl Sprint {
    pub fn state(&self, now_ms: i64) -> &'static str {
        if now_ms < self.start {
            "future"
        } else if now_ms < self.end {
            "active"
        } else {
            "closed"
        }
    }
}

#[derive(Clone, Debug)]
pub struct LinkType {
    pub id: String,
    pub name: String,
    pub inward: String,
    pub outward: String,
}

/// `outward` issue "<outward verb>" `inward` issue, e.g. a change *causes* an incident.
#[derive(Clone, Debug)]
pub struct Link {
    pub id: u64,
    pub type_id: String,
    pub outward: u64,
    pub inward: u64,
}

/// Rich text kept structurally so it can be rendered as ADF (Cloud v3) or wiki markup (v2).
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Paragraph(String),
    Heading(u8, String),
    Bullets(Vec<String>),
    Code(String),
}

pub type RichText = Vec<Block>;

pub fn plain_text(text: &RichText) -> String {
    text.iter()
        .map(|b| match b {
            Block::Paragraph(s) | Block::Heading(_, s) | Block::Code(s) => s.clone(),
            Block::Bullets(items) => items.join("\n"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How a changelog item's `from`/`to` values are stored: user fields hold a user index so they
/// can be rendered as accountId (Cloud) or username (Data Center).
#[derive(Clone, Debug, PartialEq)]
pub enum ItemValues {
    Plain {
        from: Option<String>,
        from_string: Option<String>,
        to: Option<String>,
        to_string: Option<String>,
    },
    User {
        from: Option<usize>,
        to: Option<usize>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChangeItem {
    pub field: String,
    pub field_id: String,
    pub custom: bool,
    pub values: ItemValues,
}

#[derive(Clone, Debug)]
pub struct History {
    pub id: u64,
    pub author: usize,
    pub created: i64,
    pub items: Vec<ChangeItem>,
}

#[derive(Clone, Debug)]
pub struct Comment {
    pub id: u64,
    pub author: usize,
    pub body: RichText,
    pub created: i64,
    pub updated: i64,
}

#[derive(Clone, Debug)]
pub struct Issue {
    pub id: u64,
    pub project_id: u64,
    pub number: u64,
    pub issue_type: String,
    pub status: String,
    pub status_changed: i64,
    pub priority: String,
    pub resolution: Option<String>,
    pub assignee: Option<usize>,
    pub reporter: usize,
    pub creator: usize,
    pub summary: String,
    pub description: Option<RichText>,
    pub labels: Vec<String>,
    pub components: Vec<String>,
    pub fix_versions: Vec<String>,
    pub due_date: Option<chrono::NaiveDate>,
    pub story_points: Option<f64>,
    pub sprints: Vec<u64>,
    pub severity: Option<String>,
    pub parent: Option<u64>,
    pub created: i64,
    pub updated: i64,
    pub resolved: Option<i64>,
    /// Oldest first.
    pub histories: Vec<History>,
    /// Oldest first.
    pub comments: Vec<Comment>,
}

/// The site-specific ids of the custom fields the dataset uses (they differ per seed, as real
/// sites' ids do, so a client must discover them through `/field`).
#[derive(Clone, Debug, Serialize)]
pub struct CustomFieldIds {
    /// The team-managed "Story point estimate" (`jsw-story-points`).
    pub story_points: String,
    /// The company-managed "Story Points" number field.
    pub story_points_classic: String,
    /// Which of the two holds the issues' values (the other is empty on every issue).
    pub story_points_in: String,
    pub sprint: String,
    pub severity: String,
}

#[derive(Clone, Debug)]
pub struct Site {
    pub mode: Mode,
    pub users: Vec<User>,
    pub statuses: Vec<Status>,
    pub issue_types: Vec<IssueType>,
    pub priorities: Vec<NamedItem>,
    pub resolutions: Vec<NamedItem>,
    pub severities: Vec<NamedItem>,
    pub link_types: Vec<LinkType>,
    pub projects: Vec<Project>,
    pub boards: Vec<Board>,
    pub sprints: Vec<Sprint>,
    pub custom_fields: CustomFieldIds,
    pub issues: BTreeMap<u64, Issue>,
    pub links: Vec<Link>,
    /// Derived indexes (see [`Site::reindex`]): children by parent id, link positions by issue id.
    pub children: HashMap<u64, Vec<u64>>,
    pub links_of: HashMap<u64, Vec<usize>>,
    /// Every key an issue has had (moves change keys; old keys still resolve, as in Jira).
    pub keys: HashMap<String, u64>,
    pub next_issue_id: u64,
    pub next_history_id: u64,
    pub next_comment_id: u64,
    pub next_link_id: u64,
}

impl Site {
    /// Rebuilds the derived indexes; call after any change to parents or links.
    pub fn reindex(&mut self) {
        self.children.clear();
        for i in self.issues.values() {
            if let Some(p) = i.parent {
                self.children.entry(p).or_default().push(i.id);
            }
        }
        self.links_of.clear();
        for (n, l) in self.links.iter().enumerate() {
            self.links_of.entry(l.outward).or_default().push(n);
            self.links_of.entry(l.inward).or_default().push(n);
        }
    }

    pub fn project(&self, id: u64) -> &Project {
        self.projects
            .iter()
            .find(|p| p.id == id)
            .expect("issue refers to a known project")
    }
    pub fn project_by_key_or_id(&self, text: &str) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| p.key.eq_ignore_ascii_case(text) || p.id.to_string() == text)
    }
    pub fn status(&self, id: &str) -> &Status {
        self.statuses
            .iter()
            .find(|s| s.id == id)
            .expect("known status")
    }
    pub fn issue_type(&self, id: &str) -> &IssueType {
        self.issue_types
            .iter()
            .find(|t| t.id == id)
            .expect("known issue type")
    }
    pub fn named<'a>(items: &'a [NamedItem], id: &str) -> &'a NamedItem {
        items.iter().find(|i| i.id == id).expect("known item")
    }
    pub fn issue_key(&self, issue: &Issue) -> String {
        format!("{}-{}", self.project(issue.project_id).key, issue.number)
    }
    /// Finds an issue by id or by any key it has had.
    pub fn find_issue(&self, id_or_key: &str) -> Option<&Issue> {
        let id = match id_or_key.parse::<u64>() {
            Ok(id) => id,
            Err(_) => *self.keys.get(&id_or_key.to_ascii_uppercase())?,
        };
        self.issues.get(&id)
    }
    pub fn user_index(&self, account_id_or_name: &str) -> Option<usize> {
        self.users.iter().position(|u| {
            u.account_id == account_id_or_name
                || u.name == account_id_or_name
                || u.key == account_id_or_name
                || u.email.eq_ignore_ascii_case(account_id_or_name)
        })
    }
    /// Whether `user` (None = anonymous) may browse issues of `project`.
    pub fn can_browse(&self, user: Option<usize>, project: &Project) -> bool {
        match user {
            None => false,
            Some(u) => {
                let user = &self.users[u];
                !user.denied.contains("BROWSE_PROJECTS")
                    && !user.hidden_projects.contains(&project.key)
            }
        }
    }
    pub fn can_see_issue(&self, user: Option<usize>, issue: &Issue) -> bool {
        self.can_browse(user, self.project(issue.project_id))
    }
}
