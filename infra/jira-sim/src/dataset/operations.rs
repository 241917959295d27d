//! An operations history, for a demo worth looking at: over the last [`DAYS`] days, each project
//! that has the Incident and Change types deploys change requests a few times a week (each
//! created days before, moved through the workflow to Deployed), some of which cause an incident
//! hours later (most linked, "causes"; the others only near in time), beside incidents of their
//! own; incidents are restored within hours, and the latest may still be open.
//!
//! Planned with a random stream of its own and at most half of the site's issues (the latest);
//! ids still ascend with creation time, as Jira allocates them.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{DAY, Generator, HOUR, PEOPLE};
use crate::model::{Block, CAUSES_LINK, CHANGE_TYPE, INCIDENT_TYPE, Issue, Link, Site};

/// How far back the history goes.
pub(super) const DAYS: i64 = 120;

/// One planned issue of the history.
pub(super) struct Planned {
    pub created: i64,
    project_index: usize,
    kind: Kind,
}

enum Kind {
    /// Moved on at each of `steps` (in progress, in review, deployed).
    Change { steps: [i64; 3] },
    /// Restored at `restored` (if that is past), caused by the planned change at `cause`.
    Incident {
        started: i64,
        restored: i64,
        cause: Option<usize>,
    },
}

impl Generator {
    /// The history to create, oldest first.
    pub(super) fn plan_operations(&self, site: &Site, seed: u64) -> Vec<Planned> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0b5e_55ed);
        let mut planned = Vec::new();
        let teams = site.projects.iter().enumerate().filter(|(_, p)| {
            [INCIDENT_TYPE, CHANGE_TYPE]
                .iter()
                .all(|t| p.issue_types.iter().any(|have| have == t))
        });
        for (project_index, _) in teams {
            for day in (1..=DAYS).rev() {
                let day_start = self.now - day * DAY;
                if rng.random_bool(0.45) {
                    let deployed = day_start + rng.random_range(9 * HOUR..18 * HOUR);
                    let lead = rng.random_range(4 * HOUR..10 * DAY);
                    let created = deployed - lead;
                    let steps = [created + lead / 4, created + lead * 3 / 4, deployed];
                    planned.push(Planned {
                        created,
                        project_index,
                        kind: Kind::Change { steps },
                    });
                    if rng.random_bool(0.18) {
                        let started = deployed + rng.random_range(HOUR / 2..20 * HOUR);
                        let linked = rng.random_bool(0.6);
                        planned.push(incident(
                            &mut rng,
                            project_index,
                            started,
                            linked.then_some(planned.len() - 1),
                        ));
                    }
                }
                if rng.random_bool(0.1) {
                    let started = day_start + rng.random_range(0..DAY);
                    planned.push(incident(&mut rng, project_index, started, None));
                }
            }
        }
        planned.retain(|p| p.created < self.now);
        planned
    }

    /// Creates the planned issue `n` of `plan`; the ids of those created so far are in `ids`.
    pub(super) fn create_planned(
        &self,
        site: &mut Site,
        plan: &[Planned],
        n: usize,
        ids: &mut [Option<u64>],
    ) {
        let p = &plan[n];
        let project = &site.projects[p.project_index];
        let people = site.users.len() - PEOPLE.len();
        let person =
            |salt: u64| people + ((p.created as u64 ^ salt) % PEOPLE.len() as u64) as usize;
        let (issue_type, summary) = match p.kind {
            Kind::Change { .. } => (CHANGE_TYPE, "Roll out the change to production"),
            Kind::Incident { .. } => (INCIDENT_TYPE, "Errors reported by customers in production"),
        };
        let workflow = project.workflow(issue_type);
        let id = site.next_issue_id;
        site.next_issue_id += 1;
        let mut issue = Issue {
            id,
            project_id: project.id,
            number: project.next_number,
            issue_type: issue_type.into(),
            status: workflow[0].clone(),
            status_changed: p.created,
            priority: if issue_type == INCIDENT_TYPE {
                "2"
            } else {
                "3"
            }
            .into(),
            resolution: None,
            assignee: Some(person(1)),
            reporter: person(2),
            creator: person(2),
            summary: summary.into(),
            description: Some(vec![Block::Paragraph(format!(
                "{summary}: tracked in the operations history of {}.",
                project.name
            ))]),
            labels: Vec::new(),
            components: project
                .components
                .first()
                .map(|c| c.id.clone())
                .into_iter()
                .collect(),
            fix_versions: Vec::new(),
            due_date: None,
            story_points: None,
            sprints: Vec::new(),
            severity: (issue_type == INCIDENT_TYPE).then(|| site.severities[1].id.clone()),
            parent: None,
            created: p.created,
            updated: p.created,
            resolved: None,
            histories: Vec::new(),
            comments: Vec::new(),
        };
        let key = format!("{}-{}", project.key, project.next_number);
        site.projects[p.project_index].next_number += 1;
        // The workflow's steps this issue reaches by now: a change its three, an incident in
        // progress at once and restored (the workflow's last status) when that time has come.
        let steps: Vec<(i64, usize)> = match p.kind {
            Kind::Change { steps } => steps
                .iter()
                .zip([1, 2, workflow.len() - 1])
                .map(|(at, to)| (*at, to))
                .collect(),
            Kind::Incident {
                started, restored, ..
            } => {
                vec![
                    (started + (restored - started) / 10, 1),
                    (restored, workflow.len() - 1),
                ]
            }
        };
        for (at, to) in steps.into_iter().filter(|(at, _)| *at < self.now) {
            let from = site.status(&issue.status).clone();
            let to = site.status(&workflow[to]).clone();
            let items = crate::changelog::transition(&mut issue, &from, &to, at);
            site.record_history(&mut issue, person(3), at, items);
            issue.updated = issue.updated.max(at);
        }
        if let Kind::Incident { cause: Some(c), .. } = p.kind
            && let Some(change) = ids[c]
        {
            site.next_link_id += 1;
            site.links.push(Link {
                id: site.next_link_id,
                type_id: CAUSES_LINK.into(),
                outward: change,
                inward: id,
            });
        }
        ids[n] = Some(id);
        site.keys.insert(key, id);
        site.issues.insert(id, issue);
    }
}

fn incident(
    rng: &mut ChaCha8Rng,
    project_index: usize,
    started: i64,
    cause: Option<usize>,
) -> Planned {
    // Most are restored within a few hours; some take a day or more.
    let hours = [0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 24.0, 40.0][rng.random_range(0..10)];
    let restored = started + (hours * HOUR as f64) as i64 + rng.random_range(0..HOUR / 2);
    Planned {
        created: started,
        project_index,
        kind: Kind::Incident {
            started,
            restored,
            cause,
        },
    }
}
