//! The site without its issues: statuses, issue types, fields and priorities; the users, each
//! persona exercising one authentication or permission case; projects with their versions and
//! components; boards and their sprints.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono_tz::Tz;
use rand::Rng;

use super::{DAY, DatasetConfig, Generator, PEOPLE, to_date};
use crate::model::{
    Board, Category, CredentialKind, CustomFieldIds, IssueType, LinkType, Mode, NamedItem, Project,
    Site, Sprint, Status, User, Version,
};

/// The people who hold credentials, each exercising one authentication or permission case.
struct Persona {
    email: &'static str,
    name: &'static str,
    kind: CredentialKind,
    zone: Tz,
    denied: &'static [&'static str],
    hides_first_project: bool,
}

const PERSONAS: &[Persona] = &[
    Persona {
        email: "alice@example.com",
        name: "Alice Kahale",
        kind: CredentialKind::User,
        zone: chrono_tz::Pacific::Honolulu,
        denied: &[],
        hides_first_project: false,
    },
    Persona {
        email: "bob@example.com",
        name: "Bob Tupou",
        kind: CredentialKind::User,
        zone: chrono_tz::Pacific::Tongatapu,
        denied: &[],
        hides_first_project: false,
    },
    Persona {
        email: "carol@example.com",
        name: "Carol Weber",
        kind: CredentialKind::User,
        zone: chrono_tz::Europe::Berlin,
        denied: &["VIEW_AGGREGATED_DATA"],
        hides_first_project: false,
    },
    Persona {
        email: "dave@example.com",
        name: "Dave Miller",
        kind: CredentialKind::User,
        zone: chrono_tz::America::New_York,
        denied: &["USER_PICKER"],
        hides_first_project: false,
    },
    Persona {
        email: "erin@example.com",
        name: "Erin Iyer",
        kind: CredentialKind::User,
        zone: chrono_tz::Asia::Kolkata,
        denied: &[],
        hides_first_project: true,
    },
    Persona {
        email: "nora@example.com",
        name: "Nora Lind",
        kind: CredentialKind::User,
        zone: chrono_tz::UTC,
        denied: &["BROWSE_PROJECTS"],
        hides_first_project: false,
    },
    Persona {
        email: "sync-bot@serviceaccount.atlassian.com",
        name: "Sync Bot",
        kind: CredentialKind::ServiceAccount,
        zone: chrono_tz::UTC,
        denied: &[],
        hides_first_project: false,
    },
    Persona {
        email: "scoped@example.com",
        name: "Sam Scoped",
        kind: CredentialKind::ScopedToken,
        zone: chrono_tz::UTC,
        denied: &[],
        hides_first_project: false,
    },
];

const ZONES: &[Tz] = &[
    chrono_tz::UTC,
    chrono_tz::Europe::London,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::America::Los_Angeles,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Asia::Tokyo,
    chrono_tz::Australia::Sydney,
    chrono_tz::Pacific::Honolulu,
    chrono_tz::Pacific::Tongatapu,
];

const PROJECT_NAMES: &[(&str, &str)] = &[
    ("PLAT", "Platform"),
    ("SRE", "Site Reliability"),
    ("WEB", "Web App"),
    ("MOB", "Mobile"),
    ("DATA", "Data Pipeline"),
    ("OPS", "Operations"),
    ("SEC", "Security"),
    ("API", "Public API"),
    ("BILL", "Billing"),
    ("SRCH", "Search"),
];

impl Generator {
    pub(super) fn site_skeleton(&mut self, config: &DatasetConfig) -> Site {
        let users = self.users(config.mode);
        let statuses = vec![
            status("10000", "To Do", Category::ToDo),
            status("3", "In Progress", Category::InProgress),
            status("10001", "In Review", Category::InProgress),
            status("10002", "Done", Category::Done),
            status("10003", "Deployed", Category::Done),
            status("10100", "À faire", Category::ToDo),
            status("10101", "En cours", Category::InProgress),
            status("10102", "Terminé", Category::Done),
        ];
        let issue_types = vec![
            itype("10001", "Story", false, 0),
            itype("10002", "Bug", false, 0),
            itype("10003", "Task", false, 0),
            itype("10004", "Epic", false, 1),
            itype("10005", "Sub-task", true, -1),
            itype("10006", "Incident", false, 0),
            itype("10007", "Change", false, 0),
            itype("10100", "Tâche", false, 0),
            itype("10101", "Anomalie", false, 0),
        ];
        let priorities = ["Highest", "High", "Medium", "Low", "Lowest"]
            .iter()
            .enumerate()
            .map(|(i, n)| NamedItem {
                id: (i + 1).to_string(),
                name: n.to_string(),
            })
            .collect();
        let resolutions = vec![
            NamedItem {
                id: "10000".into(),
                name: "Done".into(),
            },
            NamedItem {
                id: "10001".into(),
                name: "Won't Do".into(),
            },
        ];
        let severities = (1..=4)
            .map(|i| NamedItem {
                id: format!("1020{i}"),
                name: format!("SEV-{i}"),
            })
            .collect();
        let link_types = vec![
            LinkType {
                id: "10000".into(),
                name: "Blocks".into(),
                inward: "is blocked by".into(),
                outward: "blocks".into(),
            },
            LinkType {
                id: "10001".into(),
                name: "Cloners".into(),
                inward: "is cloned by".into(),
                outward: "clones".into(),
            },
            LinkType {
                id: "10002".into(),
                name: "Duplicate".into(),
                inward: "is duplicated by".into(),
                outward: "duplicates".into(),
            },
            LinkType {
                id: "10003".into(),
                name: "Relates".into(),
                inward: "relates to".into(),
                outward: "relates to".into(),
            },
            LinkType {
                id: "10004".into(),
                name: "Causes".into(),
                inward: "is caused by".into(),
                outward: "causes".into(),
            },
        ];
        // Site-specific custom field ids, as on real sites.
        let base = 10_010 + self.rng.random_range(0..80u32) * 10;
        let (estimate, classic) = (
            format!("customfield_{}", base + 6),
            format!("customfield_{}", base + 8),
        );
        let custom_fields = CustomFieldIds {
            story_points_in: match config.classic_story_points {
                true => classic.clone(),
                false => estimate.clone(),
            },
            story_points: estimate,
            story_points_classic: classic,
            sprint: format!("customfield_{}", base + 1),
            severity: format!("customfield_{}", base + 3),
        };
        let projects = self.projects(config.projects, users.len());
        let (boards, sprints) = self.boards_and_sprints(&projects);
        Site {
            mode: config.mode,
            users,
            statuses,
            issue_types,
            priorities,
            resolutions,
            severities,
            link_types,
            projects,
            boards,
            sprints,
            custom_fields,
            issues: BTreeMap::new(),
            links: Vec::new(),
            children: HashMap::new(),
            links_of: HashMap::new(),
            keys: HashMap::new(),
            next_issue_id: 10_000,
            next_history_id: 10_000,
            next_comment_id: 10_000,
            next_link_id: 10_000,
        }
    }

    fn users(&mut self, mode: Mode) -> Vec<User> {
        let mut users = Vec::new();
        for p in PERSONAS {
            let kind = match (mode, p.kind) {
                (Mode::Cloud, kind) => kind,
                // Data Center has neither scoped tokens nor service accounts.
                (Mode::DataCenter, CredentialKind::User) => CredentialKind::Pat,
                (Mode::DataCenter, _) => continue,
            };
            let token = self.token();
            let local = p.email.split('@').next().unwrap_or(p.email);
            let mut user = person(
                self.account_id(),
                local,
                p.name,
                p.email,
                p.zone,
                users.len(),
            );
            user.credential = Some((kind, token));
            user.denied = p.denied.iter().map(|s| s.to_string()).collect();
            if p.hides_first_project {
                user.hidden_projects.insert(PROJECT_NAMES[0].0.to_string());
            }
            users.push(user);
        }
        for (i, name) in PEOPLE.iter().enumerate() {
            let local: String = name
                .to_lowercase()
                .chars()
                .map(|c| match c {
                    ' ' => '.',
                    'é' => 'e',
                    'á' => 'a',
                    'í' => 'i',
                    'ó' => 'o',
                    'ü' => 'u',
                    c => c,
                })
                .collect();
            let email = format!("{local}@example.com");
            let zone = ZONES[i % ZONES.len()];
            let mut user = person(self.account_id(), &local, name, &email, zone, users.len());
            user.active = i % 8 != 7; // three inactive people who still own old issues
            user.email_visible = i % 5 != 4;
            users.push(user);
        }
        users
    }

    fn projects(&mut self, count: usize, users: usize) -> Vec<Project> {
        let mut projects = Vec::new();
        for i in 0..count {
            // The last project of a multi-project site speaks French: non-ASCII type and status names.
            let french = count >= 2 && i == count - 1;
            let (key, name) = if french {
                ("DON".to_string(), "Données Équipe".to_string())
            } else if let Some((k, n)) = PROJECT_NAMES.get(i) {
                (k.to_string(), n.to_string())
            } else {
                (
                    format!("P{}", letters(i)),
                    format!("Project {}", letters(i)),
                )
            };
            let statuses = if french {
                vec!["10100", "10101", "10102"]
            } else {
                vec!["10000", "3", "10001", "10002"]
            };
            let issue_types = if french {
                vec!["10100", "10101", "10005"]
            } else {
                vec![
                    "10001", "10002", "10003", "10004", "10005", "10006", "10007",
                ]
            };
            let id = 10_000 + i as u64;
            let components = ["Backend", "Frontend", "Infrastructure", "API"]
                .iter()
                .enumerate()
                .map(|(c, n)| NamedItem {
                    id: (10_000 + id * 10 + c as u64).to_string(),
                    name: n.to_string(),
                })
                .collect();
            // Six released versions over two years and one planned for next quarter.
            let versions = (0..7)
                .map(|v| {
                    let date = self.now - (720 - v * 130) * DAY;
                    Version {
                        id: (20_000 + id * 10 + v as u64).to_string(),
                        name: format!("{key} {}.{}", 1 + v / 3, v % 3),
                        released: date < self.now,
                        release_date: Some(to_date(date)),
                    }
                })
                .collect();
            projects.push(Project {
                id,
                key,
                name,
                // Leads are generated people, who come after the credential holders.
                lead: users - PEOPLE.len() + self.rng.random_range(0..PEOPLE.len()),
                statuses: statuses.into_iter().map(String::from).collect(),
                issue_types: issue_types.into_iter().map(String::from).collect(),
                components,
                versions,
                next_number: 1,
            });
        }
        projects
    }

    fn boards_and_sprints(&mut self, projects: &[Project]) -> (Vec<Board>, Vec<Sprint>) {
        let mut boards = Vec::new();
        let mut sprints = Vec::new();
        let mut sprint_id = 1;
        for (i, p) in projects.iter().enumerate() {
            let scrum = i % 3 != 2; // every third project runs kanban
            let board = Board {
                id: i as u64 + 1,
                name: format!("{} board", p.key),
                scrum,
                project_id: p.id,
            };
            if scrum {
                // Two-week sprints over the last two years, one active now and two planned.
                let mut start = self.now - 730 * DAY + self.rng.random_range(0..14) * DAY;
                let mut n = 1;
                while start < self.now + 28 * DAY {
                    sprints.push(Sprint {
                        id: sprint_id,
                        name: format!("{} Sprint {n}", p.key),
                        board_id: board.id,
                        start,
                        end: start + 14 * DAY,
                        goal: if n % 4 == 0 {
                            String::new()
                        } else {
                            format!("Ship {} milestone {n}", p.name)
                        },
                    });
                    sprint_id += 1;
                    n += 1;
                    start += 14 * DAY;
                }
            }
            boards.push(board);
        }
        (boards, sprints)
    }
}

fn person(
    account_id: String,
    name: &str,
    display: &str,
    email: &str,
    zone: Tz,
    index: usize,
) -> User {
    User {
        account_id,
        name: name.to_string(),
        key: format!("JIRAUSER{}", 10_100 + index),
        display_name: display.to_string(),
        email: email.to_string(),
        email_visible: true,
        active: true,
        time_zone: zone,
        credential: None,
        denied: BTreeSet::new(),
        hidden_projects: BTreeSet::new(),
    }
}

fn status(id: &str, name: &str, category: Category) -> Status {
    Status {
        id: id.into(),
        name: name.into(),
        category,
    }
}

fn itype(id: &str, name: &str, subtask: bool, level: i32) -> IssueType {
    IssueType {
        id: id.into(),
        name: name.into(),
        subtask,
        hierarchy_level: level,
    }
}

fn letters(mut i: usize) -> String {
    let mut s = String::new();
    loop {
        s.insert(0, (b'A' + (i % 26) as u8) as char);
        i /= 26;
        if i == 0 {
            break s;
        }
        i -= 1;
    }
}
