//! Each issue's life story, replayed from its creation: transitions, reassignments, sprint
//! moves, estimate changes, edits and comments, so its fields agree with its changelog.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::{DAY, Generator, HOUR, PEOPLE, fmt_points, to_date};
use crate::changelog::{self, Field};
use crate::model::{ChangeItem, Comment, Issue, Link, RichText, Site, Version, plain_text};

const LABELS: &[&str] = &[
    "backend",
    "frontend",
    "tech-debt",
    "customer",
    "security",
    "flaky",
    "perf",
    "ux",
];

impl Generator {
    pub(super) fn issues(&mut self, site: &mut Site, total: usize) {
        if site.projects.is_empty() || total == 0 {
            return;
        }
        // The operations history's issues (at most half of the site's, the latest), interleaved
        // with the others by creation time so that ids ascend.
        let plan = match self.operations {
            Some(seed) => self.plan_operations(site, seed),
            None => Vec::new(),
        };
        let mut plan_order: Vec<usize> = (0..plan.len()).collect();
        plan_order.sort_by_key(|&n| plan[n].created);
        let kept = plan_order.len().min(total / 2);
        let mut planned = plan_order
            .split_off(plan_order.len() - kept)
            .into_iter()
            .peekable();
        // Creation times ascending with id, as Jira allocates ids.
        let mut created: Vec<i64> = (0..total - kept)
            .map(|_| self.now - self.rng.random_range(HOUR..730 * DAY))
            .collect();
        created.sort_unstable();
        let weights: Vec<usize> = (0..site.projects.len())
            .map(|i| if i == 0 { 3 } else { 2 })
            .collect();
        let weight_sum: usize = weights.iter().sum();
        let mut planned_ids = vec![None; plan.len()];
        for (index, created) in created.into_iter().enumerate() {
            while let Some(n) = planned.next_if(|&n| plan[n].created <= created) {
                self.create_planned(site, &plan, n, &mut planned_ids);
            }
            let mut pick = self.rng.random_range(0..weight_sum);
            let mut project_index = 0;
            while pick >= weights[project_index] {
                pick -= weights[project_index];
                project_index += 1;
            }
            self.issue(site, index, project_index, created);
        }
        for n in planned {
            self.create_planned(site, &plan, n, &mut planned_ids);
        }
        self.links(site);
    }

    fn issue(&mut self, site: &mut Site, index: usize, project_index: usize, created: i64) {
        // Generated people (after the credential holders) own, report and change issues.
        let content_users = site.users.len() - PEOPLE.len()..site.users.len();
        let project = &site.projects[project_index];
        let types = project.issue_types.clone();
        let issue_type = pick_type(&mut self.rng, &types);
        let subtask = site.issue_type(&issue_type).subtask;
        let epic = issue_type == "10004";
        let parent = if subtask || (!epic && self.rng.random_bool(0.4)) {
            self.parent_for(project.id, subtask)
        } else {
            None
        };
        let issue_type = if subtask && parent.is_none() {
            types[0].clone()
        } else {
            issue_type
        };
        let reporter = self.rng.random_range(content_users.clone());
        let id = site.next_issue_id;
        site.next_issue_id += 1;
        let number = project.next_number;
        let workflow = project.workflow(&issue_type);
        let scrum_board = site
            .boards
            .iter()
            .find(|b| b.project_id == project.id && b.scrum)
            .map(|b| b.id);
        let label_count = self.rng.random_range(0..=3);
        let component_count = self.rng.random_range(0..=2);
        let estimates = matches!(issue_type.as_str(), "10001" | "10002" | "10003" | "10100");
        let mut issue = Issue {
            id,
            project_id: project.id,
            number,
            issue_type: issue_type.clone(),
            status: workflow[0].clone(),
            status_changed: created,
            priority: ["1", "2", "3", "3", "3", "4", "5"][self.rng.random_range(0..7)].to_string(),
            resolution: None,
            assignee: if self.rng.random_bool(0.6) {
                Some(self.rng.random_range(content_users.clone()))
            } else {
                None
            },
            reporter,
            creator: reporter,
            summary: self.summary(),
            description: self.description(),
            labels: LABELS
                .choose_multiple(&mut self.rng, label_count)
                .map(|s| s.to_string())
                .collect(),
            components: project
                .components
                .choose_multiple(&mut self.rng, component_count)
                .map(|c| c.id.clone())
                .collect(),
            fix_versions: Vec::new(),
            due_date: None,
            story_points: if estimates && self.rng.random_bool(0.6) {
                Some(
                    *[1.0, 2.0, 3.0, 5.0, 8.0, 13.0]
                        .choose(&mut self.rng)
                        .unwrap(),
                )
            } else {
                None
            },
            sprints: Vec::new(),
            severity: (issue_type == "10006")
                .then(|| site.severities[self.rng.random_range(0..4)].id.clone()),
            parent,
            created,
            updated: created,
            resolved: None,
            histories: Vec::new(),
            comments: Vec::new(),
        };
        issue.labels.sort();
        let project = &mut site.projects[project_index];
        project.next_number += 1;
        let key = format!("{}-{}", project.key, number);
        let versions = project.versions.clone();

        self.replay_life(
            site,
            &mut issue,
            index,
            &workflow,
            scrum_board,
            &content_users,
        );
        self.ship(&mut issue, &versions);
        if self.operations.is_some() {
            let components: Vec<(String, String)> = site.projects[project_index]
                .components
                .iter()
                .map(|c| (c.id.clone(), c.name.clone()))
                .collect();
            self.tidy_up(site, &mut issue, &components, &content_users);
        }
        let final_type = issue.issue_type.clone();
        let final_subtask = site.issue_type(&final_type).subtask;
        self.remember(issue.project_id, id, &final_type, final_subtask);
        site.keys.insert(key, id);
        site.issues.insert(id, issue);
    }

    /// Replays the issue's changes and comments from its creation: most issues have a few; some
    /// exceed Jira's embed limits (40 changelog entries in search, 20 comments) and some exceed
    /// 100.
    fn replay_life(
        &mut self,
        site: &mut Site,
        issue: &mut Issue,
        index: usize,
        workflow: &[String],
        scrum_board: Option<u64>,
        content_users: &std::ops::Range<usize>,
    ) {
        let created = issue.created;
        let histories = if index % 251 == 7 {
            self.rng.random_range(101..=160)
        } else if index % 97 == 3 {
            self.rng.random_range(41..=80)
        } else {
            self.rng.random_range(0..=8)
        };
        let comments = if index % 307 == 11 {
            self.rng.random_range(101..=140)
        } else if index % 89 == 5 {
            self.rng.random_range(21..=60)
        } else {
            self.rng.random_range(0..=4)
        };
        let lifetime = (self.now - created).max(1);
        let span = if histories > 40 {
            lifetime
        } else {
            lifetime.min(self.rng.random_range(DAY..90 * DAY))
        };
        let mut times: Vec<i64> = (0..histories)
            .map(|_| created + self.rng.random_range(0..span))
            .collect();
        times.sort_unstable();
        for at in times {
            let author = self.rng.random_range(content_users.clone());
            let items = self.life_event(site, issue, workflow, scrum_board, at);
            if items.is_empty() {
                continue;
            }
            site.record_history(issue, author, at, items);
            issue.updated = issue.updated.max(at);
        }
        let mut comment_times: Vec<i64> = (0..comments)
            .map(|_| created + self.rng.random_range(0..span))
            .collect();
        comment_times.sort_unstable();
        for at in comment_times {
            site.next_comment_id += 1;
            let edited = if self.rng.random_bool(0.1) {
                (at + self.rng.random_range(60_000..DAY)).min(self.now)
            } else {
                at
            };
            issue.comments.push(Comment {
                id: site.next_comment_id,
                author: self.rng.random_range(content_users.clone()),
                body: self.comment_body(),
                created: at,
                updated: edited,
            });
            issue.updated = issue.updated.max(edited);
        }
    }

    /// The operations site's team tidies its backlog over the last four months: most tickets
    /// older than five months get the owner, component and due date they lacked, in one change
    /// — so that the site's hygiene improves week by week, as its history shows.
    fn tidy_up(
        &mut self,
        site: &mut Site,
        issue: &mut Issue,
        components: &[(String, String)],
        content_users: &std::ops::Range<usize>,
    ) {
        if issue.created > self.now - 150 * DAY || !self.rng.random_bool(0.7) {
            return;
        }
        let last = issue.histories.last().map_or(issue.created, |h| h.created);
        let from = (self.now - 120 * DAY).max(last + 60_000);
        if from >= self.now - HOUR {
            return;
        }
        let at = self.rng.random_range(from..self.now - HOUR);
        let mut items = Vec::new();
        if issue.assignee.is_none() {
            let to = self.rng.random_range(content_users.clone());
            items.push(changelog::assignee(None, Some(to)));
            issue.assignee = Some(to);
        }
        if let (true, Some((id, name))) = (
            issue.components.is_empty(),
            components.choose(&mut self.rng),
        ) {
            items.push(changelog::reference(
                Field::named("Component", "components"),
                None,
                Some((id, name)),
            ));
            issue.components.push(id.clone());
        }
        if issue.due_date.is_none() {
            let due = to_date(at + self.rng.random_range(DAY..30 * DAY));
            let text = due.to_string();
            items.push(changelog::reference(
                Field::system("duedate"),
                None,
                Some((&text, &format!("{text} 00:00:00.0"))),
            ));
            issue.due_date = Some(due);
        }
        let author = self.rng.random_range(content_users.clone());
        site.record_history(issue, author, at, items);
        issue.updated = issue.updated.max(at);
    }

    /// Resolved work shipped in a released version; some open work is planned for the next one,
    /// and some work has a due date.
    fn ship(&mut self, issue: &mut Issue, versions: &[Version]) {
        let created = issue.created;
        let (released, odds) = if issue.resolved.is_some() {
            (true, 0.5)
        } else {
            (false, 0.2)
        };
        if self.rng.random_bool(odds) {
            let candidates: Vec<&Version> =
                versions.iter().filter(|v| v.released == released).collect();
            if let Some(v) = candidates.choose(&mut self.rng) {
                issue.fix_versions.push(v.id.clone());
            }
        }
        if self.rng.random_bool(0.3) {
            issue.due_date = Some(to_date(created + self.rng.random_range(DAY..60 * DAY)));
        }
    }

    /// Applies one random change to `issue` and returns the changelog items describing it.
    fn life_event(
        &mut self,
        site: &Site,
        issue: &mut Issue,
        workflow: &[String],
        scrum_board: Option<u64>,
        at: i64,
    ) -> Vec<ChangeItem> {
        let roll = self.rng.random_range(0..100);
        match roll {
            0..=39 => self.move_status(site, issue, workflow, at),
            40..=54 => self.reassign(site, issue),
            55..=66 => self.move_sprint(site, issue, scrum_board, at),
            67..=76 => self.estimate(site, issue),
            77..=84 => self.edit_summary(issue),
            85..=91 => self.edit_description(issue),
            92..=95 => self.reprioritise(site, issue),
            _ => self.toggle_label(issue),
        }
    }

    /// Moves the issue one step along its workflow (mostly forward).
    fn move_status(
        &mut self,
        site: &Site,
        issue: &mut Issue,
        workflow: &[String],
        at: i64,
    ) -> Vec<ChangeItem> {
        let current = workflow
            .iter()
            .position(|s| *s == issue.status)
            .unwrap_or(0);
        let next = if current + 1 < workflow.len() && self.rng.random_bool(0.8) {
            current + 1
        } else if current > 0 {
            current - 1
        } else {
            1.min(workflow.len() - 1)
        };
        if next == current {
            return Vec::new();
        }
        let from = site.status(&issue.status).clone();
        let to = site.status(&workflow[next]).clone();
        changelog::transition(issue, &from, &to, at)
    }

    /// Gives the issue to another person, or to no one.
    fn reassign(&mut self, site: &Site, issue: &mut Issue) -> Vec<ChangeItem> {
        let to = if self.rng.random_bool(0.1) {
            None
        } else {
            Some(
                self.rng
                    .random_range(site.users.len() - PEOPLE.len()..site.users.len()),
            )
        };
        if to == issue.assignee {
            return Vec::new();
        }
        let item = changelog::assignee(issue.assignee, to);
        issue.assignee = to;
        vec![item]
    }

    /// Puts the issue in its board's current or next sprint (it keeps its last three).
    fn move_sprint(
        &mut self,
        site: &Site,
        issue: &mut Issue,
        scrum_board: Option<u64>,
        at: i64,
    ) -> Vec<ChangeItem> {
        let Some(board) = scrum_board else {
            return Vec::new();
        };
        let sprint = site
            .sprints
            .iter()
            .find(|s| s.board_id == board && s.start <= at && at < s.end)
            .or_else(|| {
                site.sprints
                    .iter()
                    .find(|s| s.board_id == board && s.start > at)
            });
        let Some(sprint) = sprint else {
            return Vec::new();
        };
        if issue.sprints.contains(&sprint.id) {
            return Vec::new();
        }
        let names = |ids: &[u64]| {
            ids.iter()
                .map(|id| {
                    site.sprints
                        .iter()
                        .find(|s| s.id == *id)
                        .map(|s| s.name.clone())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let joined = |ids: &[u64]| {
            ids.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let before = issue.sprints.clone();
        issue.sprints.push(sprint.id);
        if issue.sprints.len() > 3 {
            issue.sprints.remove(0);
        }
        let (from, from_s, to, to_s) = (
            joined(&before),
            names(&before),
            joined(&issue.sprints),
            names(&issue.sprints),
        );
        vec![changelog::reference(
            Field::custom("Sprint", &site.custom_fields.sprint),
            (!before.is_empty()).then_some((&from, &from_s)),
            Some((&to, &to_s)),
        )]
    }

    /// Re-estimates a story, bug or task in story points.
    fn estimate(&mut self, site: &Site, issue: &mut Issue) -> Vec<ChangeItem> {
        if !matches!(
            issue.issue_type.as_str(),
            "10001" | "10002" | "10003" | "10100"
        ) {
            return Vec::new();
        }
        let to = *[1.0, 2.0, 3.0, 5.0, 8.0, 13.0]
            .choose(&mut self.rng)
            .unwrap();
        let from = issue.story_points.map(fmt_points);
        issue.story_points = Some(to);
        let cf = &site.custom_fields;
        let name = match cf.story_points_in == cf.story_points {
            true => "Story point estimate",
            false => "Story Points",
        };
        vec![changelog::text(
            Field::custom(name, &cf.story_points_in),
            from.as_deref(),
            Some(&fmt_points(to)),
        )]
    }

    /// Rewrites the summary.
    fn edit_summary(&mut self, issue: &mut Issue) -> Vec<ChangeItem> {
        let to = self.summary();
        let from = std::mem::replace(&mut issue.summary, to.clone());
        vec![changelog::text(
            Field::system("summary"),
            Some(&from),
            Some(&to),
        )]
    }

    /// Rewrites the description.
    fn edit_description(&mut self, issue: &mut Issue) -> Vec<ChangeItem> {
        let to = self.description();
        let from = std::mem::replace(&mut issue.description, to.clone());
        let text = |d: &Option<RichText>| d.as_ref().map(plain_text);
        vec![changelog::text(
            Field::system("description"),
            text(&from).as_deref(),
            text(&to).as_deref(),
        )]
    }

    /// Changes the priority.
    fn reprioritise(&mut self, site: &Site, issue: &mut Issue) -> Vec<ChangeItem> {
        let to = site.priorities[self.rng.random_range(0..site.priorities.len())].clone();
        if to.id == issue.priority {
            return Vec::new();
        }
        let from = Site::named(&site.priorities, &issue.priority).clone();
        issue.priority = to.id.clone();
        vec![changelog::reference(
            Field::system("priority"),
            Some((&from.id, &from.name)),
            Some((&to.id, &to.name)),
        )]
    }

    /// Adds a label, or takes it off again.
    fn toggle_label(&mut self, issue: &mut Issue) -> Vec<ChangeItem> {
        let label = LABELS.choose(&mut self.rng).unwrap().to_string();
        let from = issue.labels.join(" ");
        if !issue.labels.contains(&label) {
            issue.labels.push(label);
            issue.labels.sort();
        } else {
            issue.labels.retain(|l| *l != label);
        }
        vec![changelog::text(
            Field::system("labels"),
            non_empty(&from),
            non_empty(&issue.labels.join(" ")),
        )]
    }

    fn parent_for(&mut self, project_id: u64, subtask: bool) -> Option<u64> {
        let pool = if subtask {
            &self.recent_parents
        } else {
            &self.recent_epics
        };
        pool.get(&project_id)
            .and_then(|ids| ids.choose(&mut self.rng))
            .copied()
    }

    fn remember(&mut self, project_id: u64, id: u64, issue_type: &str, subtask: bool) {
        let pool = match (issue_type, subtask) {
            ("10004", _) => &mut self.recent_epics,
            (_, false) => &mut self.recent_parents,
            _ => return,
        };
        let recent = pool.entry(project_id).or_default();
        recent.push(id);
        if recent.len() > 30 {
            recent.remove(0);
        }
    }

    fn links(&mut self, site: &mut Site) {
        let ids: Vec<u64> = site.issues.keys().copied().collect();
        for (n, id) in ids.iter().enumerate() {
            if n == 0 || !self.rng.random_bool(0.12) {
                continue;
            }
            let other = ids[self.rng.random_range(n.saturating_sub(200)..n)];
            let is_incident = site.issues[id].issue_type == "10006";
            let other_is_change = matches!(
                site.issues[&other].issue_type.as_str(),
                "10007" | "10002" | "10001"
            );
            let type_id = if is_incident && other_is_change {
                crate::model::CAUSES_LINK
            } else {
                ["10000", "10002", "10003", "10003"][self.rng.random_range(0..4)]
            };
            site.next_link_id += 1;
            site.links.push(Link {
                id: site.next_link_id,
                type_id: type_id.into(),
                outward: other,
                inward: *id,
            });
        }
    }
}

fn pick_type(rng: &mut ChaCha8Rng, types: &[String]) -> String {
    // Weighted towards the first (work) types; epics and sub-tasks are rarer.
    let weights: Vec<u32> = types
        .iter()
        .map(|t| match t.as_str() {
            "10004" => 1,
            "10005" => 3,
            "10006" | "10007" => 2,
            _ => 8,
        })
        .collect();
    let sum: u32 = weights.iter().sum();
    let mut pick = rng.random_range(0..sum);
    for (t, w) in types.iter().zip(weights) {
        if pick < w {
            return t.clone();
        }
        pick -= w;
    }
    types[0].clone()
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}
