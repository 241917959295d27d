//! The built-in hygiene categories and when an issue misses one. Pure: the evaluation time is an
//! argument, so a report can be reproduced.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::facts::IssueFacts;
use crate::sync::Excluded;

pub const DAY_MS: i64 = 86_400_000;

/// The built-in categories, in the order reports list them: the established product's eight,
/// then the one the product page's definition adds ("failed to change status while sprint was
/// active").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Idle,
    PoorDescription,
    NoDueDate,
    NoAssignee,
    NoComponents,
    MissedResponseTime,
    MissedResolutionTime,
    InactiveAssignee,
    StalledInActiveSprint,
    /// A custom hygiene miss (see `criteria`): decided by its conditions, not by these rules.
    Custom,
}

impl Category {
    /// The built-in categories.
    pub const ALL: [Category; 9] = [
        Category::Idle,
        Category::PoorDescription,
        Category::NoDueDate,
        Category::NoAssignee,
        Category::NoComponents,
        Category::MissedResponseTime,
        Category::MissedResolutionTime,
        Category::InactiveAssignee,
        Category::StalledInActiveSprint,
    ];

    /// The built-in category of a title or snake name, any case (`No Due Date`, `no_due_date`).
    pub fn named(name: &str) -> Option<Category> {
        let wanted = name.trim().replace(['_', ' '], "").to_ascii_lowercase();
        Category::ALL
            .into_iter()
            .find(|c| c.title().replace(' ', "").to_ascii_lowercase() == wanted)
    }

    /// The name people see.
    pub fn title(self) -> &'static str {
        match self {
            Category::Idle => "Idle",
            Category::PoorDescription => "Poor Description",
            Category::NoDueDate => "No Due Date",
            Category::NoAssignee => "No Assignee",
            Category::NoComponents => "No Components",
            Category::MissedResponseTime => "Missed Response Time",
            Category::MissedResolutionTime => "Missed Resolution Time",
            Category::InactiveAssignee => "Inactive Assignee",
            Category::StalledInActiveSprint => "Stalled in Active Sprint",
            Category::Custom => "Custom",
        }
    }

    /// The default weight: 12.5 for each of the established product's eight (they add up to
    /// 100), 0 for the extra one and for custom misses, so default scores stay comparable with
    /// that product.
    pub fn default_weight(self) -> f64 {
        match self {
            Category::StalledInActiveSprint | Category::Custom => 0.0,
            _ => 12.5,
        }
    }
}

/// What counts as the first response to an issue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMeasure {
    /// The first comment (as the established product computes it).
    #[default]
    FirstComment,
    /// The first status change (as its documentation words it).
    FirstStatusChange,
    /// Whichever of the two came first.
    Earliest,
}

impl ResponseMeasure {
    pub const ALL: [ResponseMeasure; 3] = [
        ResponseMeasure::FirstComment,
        ResponseMeasure::FirstStatusChange,
        ResponseMeasure::Earliest,
    ];

    fn reads_comments(self) -> bool {
        self != ResponseMeasure::FirstStatusChange
    }

    /// When the issue was first responded to, by this measure.
    pub fn response_of(self, facts: &IssueFacts) -> Option<i64> {
        match self {
            ResponseMeasure::FirstComment => facts.first_comment_ms,
            ResponseMeasure::FirstStatusChange => facts.first_status_change_ms,
            ResponseMeasure::Earliest => [facts.first_comment_ms, facts.first_status_change_ms]
                .into_iter()
                .flatten()
                .min(),
        }
    }
}

/// Response and resolution goals, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    pub response_ms: i64,
    pub resolution_ms: i64,
}

impl Default for Sla {
    /// One day each.
    fn default() -> Self {
        Sla {
            response_ms: DAY_MS,
            resolution_ms: DAY_MS,
        }
    }
}

/// The SLA cell of an issue: its project, issue type and priority, compared without case (people
/// type `bug` for Jira's `Bug`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlaKey {
    project: String,
    issue_type: String,
    priority: String,
}

impl SlaKey {
    pub fn new(project: &str, issue_type: &str, priority: &str) -> SlaKey {
        let folded = |s: &str| s.trim().to_lowercase();
        SlaKey {
            project: folded(project),
            issue_type: folded(issue_type),
            priority: folded(priority),
        }
    }
}

/// The thresholds of the built-in categories.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Idle: not updated for more than this many days (default 10).
    pub idle_days: i64,
    /// Poor Description: fewer characters than this (default 30).
    pub poor_description_chars: usize,
    /// Stalled in Active Sprint: no status change for more than this many days (default 3).
    pub stalled_days: i64,
    pub response: ResponseMeasure,
    /// SLAs per (project, issue type, priority); any other issue gets `default_sla`.
    pub slas: HashMap<SlaKey, Sla>,
    pub default_sla: Sla,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            idle_days: 10,
            poor_description_chars: 30,
            stalled_days: 3,
            response: ResponseMeasure::default(),
            slas: HashMap::new(),
            default_sla: Sla::default(),
        }
    }
}

impl Settings {
    pub fn sla(&self, facts: &IssueFacts) -> Sla {
        self.sla_of(
            &facts.project,
            facts.issue_type.as_deref().unwrap_or_default(),
            facts.priority.as_deref().unwrap_or_default(),
        )
    }

    pub fn sla_of(&self, project: &str, issue_type: &str, priority: &str) -> Sla {
        let key = SlaKey::new(project, issue_type, priority);
        self.slas.get(&key).copied().unwrap_or(self.default_sla)
    }

    /// Why a category cannot be judged when these fields are not ingested, if it cannot.
    pub fn skipped(&self, category: Category, excluded: &Excluded) -> Option<&'static str> {
        match category {
            Category::PoorDescription if excluded.description => {
                Some("descriptions are excluded from ingestion")
            }
            Category::MissedResponseTime if excluded.comments && self.response.reads_comments() => {
                Some("comments are excluded from ingestion")
            }
            _ => None,
        }
    }
}

/// Whether the issue misses `category` at `at_ms`. Durations compare strictly: an issue idle
/// for exactly N days, or answered exactly at its SLA, does not miss.
pub fn misses(category: Category, facts: &IssueFacts, settings: &Settings, at_ms: i64) -> bool {
    let created = facts.created_ms.unwrap_or(facts.updated_ms);
    match category {
        Category::Idle => at_ms - facts.updated_ms > settings.idle_days * DAY_MS,
        Category::PoorDescription => facts
            .description_chars
            .is_none_or(|n| n < settings.poor_description_chars),
        Category::NoDueDate => !facts.has_due_date,
        Category::NoAssignee => facts.assignee.is_none(),
        Category::NoComponents => facts.components == 0,
        Category::MissedResponseTime => {
            let responded = settings.response.response_of(facts);
            responded.unwrap_or(at_ms) - created > settings.sla(facts).response_ms
        }
        Category::MissedResolutionTime => {
            facts.resolved_ms.unwrap_or(at_ms) - created > settings.sla(facts).resolution_ms
        }
        Category::InactiveAssignee => facts
            .assignee
            .as_ref()
            .is_some_and(|a| a.active == Some(false)),
        Category::StalledInActiveSprint => {
            facts.in_active_sprint
                && at_ms - facts.last_status_change_ms.unwrap_or(created)
                    > settings.stalled_days * DAY_MS
        }
        Category::Custom => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::facts::Assignee;
    use super::*;

    const AT: i64 = 1_800_000_000_000;
    const SECOND: i64 = 1_000;

    fn facts() -> IssueFacts {
        IssueFacts {
            created_ms: Some(AT - 30 * DAY_MS),
            updated_ms: AT,
            resolved_ms: None,
            has_due_date: true,
            assignee: Some(Assignee {
                id: "a".into(),
                active: Some(true),
            }),
            components: 1,
            description_chars: Some(30),
            first_comment_ms: Some(AT - 30 * DAY_MS + DAY_MS),
            first_status_change_ms: None,
            last_status_change_ms: None,
            in_active_sprint: false,
            project: "P".into(),
            issue_type: Some("Bug".into()),
            priority: Some("High".into()),
            status: Some("To Do".into()),
            status_category: Some("To Do".into()),
        }
    }

    fn miss(category: Category, f: &IssueFacts) -> bool {
        misses(category, f, &Settings::default(), AT)
    }

    #[test]
    fn idle_is_more_than_n_days_without_an_update() {
        let exactly = IssueFacts {
            updated_ms: AT - 10 * DAY_MS,
            ..facts()
        };
        assert!(!miss(Category::Idle, &exactly));
        let one_ms_more = IssueFacts {
            updated_ms: AT - 10 * DAY_MS - 1,
            ..facts()
        };
        assert!(miss(Category::Idle, &one_ms_more));
    }

    #[test]
    fn a_poor_description_is_shorter_than_n_characters_or_absent() {
        assert!(!miss(Category::PoorDescription, &facts()));
        let short = IssueFacts {
            description_chars: Some(29),
            ..facts()
        };
        assert!(miss(Category::PoorDescription, &short));
        let none = IssueFacts {
            description_chars: None,
            ..facts()
        };
        assert!(miss(Category::PoorDescription, &none));
    }

    #[test]
    fn empty_fields_are_misses() {
        let empty = IssueFacts {
            has_due_date: false,
            assignee: None,
            components: 0,
            ..facts()
        };
        assert!(miss(Category::NoDueDate, &empty));
        assert!(miss(Category::NoAssignee, &empty));
        assert!(miss(Category::NoComponents, &empty));
        for c in [
            Category::NoDueDate,
            Category::NoAssignee,
            Category::NoComponents,
        ] {
            assert!(!miss(c, &facts()), "{c:?}");
        }
    }

    #[test]
    fn a_response_exactly_at_the_sla_is_met_and_a_second_later_missed() {
        let created = AT - 30 * DAY_MS;
        let on_time = IssueFacts {
            first_comment_ms: Some(created + DAY_MS),
            ..facts()
        };
        assert!(!miss(Category::MissedResponseTime, &on_time));
        let late = IssueFacts {
            first_comment_ms: Some(created + DAY_MS + SECOND),
            ..facts()
        };
        assert!(miss(Category::MissedResponseTime, &late));
        // No response yet: measured to the evaluation time.
        let waiting = IssueFacts {
            created_ms: Some(AT - DAY_MS),
            first_comment_ms: None,
            ..facts()
        };
        assert!(!miss(Category::MissedResponseTime, &waiting));
        let waiting_longer = IssueFacts {
            created_ms: Some(AT - DAY_MS - SECOND),
            ..waiting
        };
        assert!(miss(Category::MissedResponseTime, &waiting_longer));
    }

    #[test]
    fn the_response_measure_picks_comment_status_change_or_the_earliest() {
        let created = AT - 30 * DAY_MS;
        let f = IssueFacts {
            first_comment_ms: Some(created + 2 * DAY_MS),
            first_status_change_ms: Some(created + DAY_MS / 2),
            ..facts()
        };
        let with = |response| Settings {
            response,
            ..Settings::default()
        };
        let judge = |s: &Settings| misses(Category::MissedResponseTime, &f, s, AT);
        assert!(judge(&with(ResponseMeasure::FirstComment)));
        assert!(!judge(&with(ResponseMeasure::FirstStatusChange)));
        assert!(!judge(&with(ResponseMeasure::Earliest)));
    }

    #[test]
    fn resolution_is_measured_to_the_resolution_or_the_evaluation_time() {
        let created = AT - 30 * DAY_MS;
        let resolved_on_time = IssueFacts {
            resolved_ms: Some(created + DAY_MS),
            ..facts()
        };
        assert!(!miss(Category::MissedResolutionTime, &resolved_on_time));
        let resolved_late = IssueFacts {
            resolved_ms: Some(created + DAY_MS + SECOND),
            ..facts()
        };
        assert!(miss(Category::MissedResolutionTime, &resolved_late));
        assert!(miss(Category::MissedResolutionTime, &facts()));
    }

    #[test]
    fn slas_are_looked_up_per_project_type_and_priority() {
        let mut settings = Settings::default();
        settings.slas.insert(
            SlaKey::new("P", "Bug", "High"),
            Sla {
                response_ms: 3 * DAY_MS,
                resolution_ms: 40 * DAY_MS,
            },
        );
        let f = IssueFacts {
            first_comment_ms: Some(AT - 28 * DAY_MS),
            ..facts()
        };
        assert!(!misses(Category::MissedResponseTime, &f, &settings, AT));
        assert!(!misses(Category::MissedResolutionTime, &f, &settings, AT));
        let other_priority = IssueFacts {
            priority: Some("Low".into()),
            ..f
        };
        assert!(misses(
            Category::MissedResponseTime,
            &other_priority,
            &settings,
            AT
        ));
    }

    #[test]
    fn only_an_assignee_jira_calls_inactive_is_inactive() {
        assert!(!miss(Category::InactiveAssignee, &facts()));
        let inactive = IssueFacts {
            assignee: Some(Assignee {
                id: "a".into(),
                active: Some(false),
            }),
            ..facts()
        };
        assert!(miss(Category::InactiveAssignee, &inactive));
        let unknown = IssueFacts {
            assignee: Some(Assignee {
                id: "a".into(),
                active: None,
            }),
            ..facts()
        };
        assert!(!miss(Category::InactiveAssignee, &unknown));
        let unassigned = IssueFacts {
            assignee: None,
            ..facts()
        };
        assert!(!miss(Category::InactiveAssignee, &unassigned));
    }

    #[test]
    fn stalled_means_in_an_active_sprint_without_a_status_change_for_more_than_n_days() {
        let exactly = IssueFacts {
            in_active_sprint: true,
            last_status_change_ms: Some(AT - 3 * DAY_MS),
            ..facts()
        };
        assert!(!miss(Category::StalledInActiveSprint, &exactly));
        let longer = IssueFacts {
            last_status_change_ms: Some(AT - 3 * DAY_MS - 1),
            ..exactly.clone()
        };
        assert!(miss(Category::StalledInActiveSprint, &longer));
        let never_changed = IssueFacts {
            last_status_change_ms: None,
            ..exactly.clone()
        };
        assert!(miss(Category::StalledInActiveSprint, &never_changed));
        let not_in_sprint = IssueFacts {
            in_active_sprint: false,
            ..longer
        };
        assert!(!miss(Category::StalledInActiveSprint, &not_in_sprint));
    }

    #[test]
    fn excluded_inputs_skip_their_category() {
        let settings = Settings::default();
        let excluded = Excluded {
            summary: true,
            description: true,
            comments: true,
        };
        assert!(
            settings
                .skipped(Category::PoorDescription, &excluded)
                .is_some()
        );
        assert!(
            settings
                .skipped(Category::MissedResponseTime, &excluded)
                .is_some()
        );
        assert!(settings.skipped(Category::Idle, &excluded).is_none());
        // Measured by status changes, the response needs no comment.
        let by_status = Settings {
            response: ResponseMeasure::FirstStatusChange,
            ..Settings::default()
        };
        assert!(
            by_status
                .skipped(Category::MissedResponseTime, &excluded)
                .is_none()
        );
        assert!(
            settings
                .skipped(Category::PoorDescription, &Excluded::default())
                .is_none()
        );
    }
}
