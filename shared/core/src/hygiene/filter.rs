//! Which tickets a report covers: filters combined with AND. Most are dimensions a snapshot
//! keeps its counts by ([`Cell`]), so a trend can apply them without reading issues; the time
//! ranges need each issue's times and apply to live reports only.

use serde::{Deserialize, Serialize};

use super::facts::IssueFacts;

/// The dimensions counts are kept by: every filter but the time ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Cell {
    pub project: String,
    pub issue_type: String,
    pub priority: String,
    pub status: String,
    pub status_category: String,
    pub active_sprint: bool,
}

impl Cell {
    pub fn of(facts: &IssueFacts) -> Cell {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Cell {
            project: facts.project.clone(),
            issue_type: text(&facts.issue_type),
            priority: text(&facts.priority),
            status: text(&facts.status),
            status_category: text(&facts.status_category),
            active_sprint: facts.in_active_sprint,
        }
    }
}

/// A time range, epoch milliseconds, both ends included; an open end is None.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl TimeRange {
    pub fn is_open(&self) -> bool {
        self.from_ms.is_none() && self.to_ms.is_none()
    }

    /// A bounded range never holds a missing time (an unresolved issue is not "resolved in
    /// November").
    fn holds(&self, t: Option<i64>) -> bool {
        if self.is_open() {
            return true;
        }
        t.is_some_and(|t| self.from_ms.is_none_or(|f| t >= f) && self.to_ms.is_none_or(|e| t <= e))
    }
}

/// Empty lists select everything; names compare without case.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub projects: Vec<String>,
    pub issue_types: Vec<String>,
    pub priorities: Vec<String>,
    pub statuses: Vec<String>,
    pub status_categories: Vec<String>,
    /// Only tickets in an active sprint.
    pub active_sprint_only: bool,
    pub created: TimeRange,
    pub updated: TimeRange,
    pub resolved: TimeRange,
}

impl Filter {
    /// Whether the filter needs issue times, which snapshots do not keep.
    pub fn has_time_ranges(&self) -> bool {
        !(self.created.is_open() && self.updated.is_open() && self.resolved.is_open())
    }

    /// The dimension filters alone.
    pub fn selects_cell(&self, cell: &Cell) -> bool {
        let any = |wanted: &[String], value: &str| {
            wanted.is_empty() || wanted.iter().any(|w| w.trim().eq_ignore_ascii_case(value))
        };
        any(&self.projects, &cell.project)
            && any(&self.issue_types, &cell.issue_type)
            && any(&self.priorities, &cell.priority)
            && any(&self.statuses, &cell.status)
            && any(&self.status_categories, &cell.status_category)
            && (!self.active_sprint_only || cell.active_sprint)
    }

    pub fn selects(&self, facts: &IssueFacts) -> bool {
        self.selects_cell(&Cell::of(facts))
            && self.created.holds(facts.created_ms)
            && self.updated.holds(Some(facts.updated_ms))
            && self.resolved.holds(facts.resolved_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> IssueFacts {
        IssueFacts {
            project: "OPS".into(),
            issue_type: Some("Bug".into()),
            priority: Some("High".into()),
            status: Some("In Review".into()),
            status_category: Some("In Progress".into()),
            in_active_sprint: true,
            created_ms: Some(1_000),
            updated_ms: 5_000,
            resolved_ms: None,
            ..IssueFacts::default()
        }
    }

    #[test]
    fn every_filter_combines_with_and_and_names_ignore_case() {
        let t = ticket();
        assert!(Filter::default().selects(&t));
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let cases: Vec<(Filter, bool)> = vec![
            (
                Filter {
                    projects: names(&["ops"]),
                    ..Filter::default()
                },
                true,
            ),
            (
                Filter {
                    projects: names(&["DEV"]),
                    ..Filter::default()
                },
                false,
            ),
            (
                Filter {
                    issue_types: names(&["story", "BUG"]),
                    ..Filter::default()
                },
                true,
            ),
            (
                Filter {
                    priorities: names(&["Low"]),
                    ..Filter::default()
                },
                false,
            ),
            (
                Filter {
                    statuses: names(&["in review"]),
                    ..Filter::default()
                },
                true,
            ),
            (
                Filter {
                    status_categories: names(&["Done"]),
                    ..Filter::default()
                },
                false,
            ),
            (
                Filter {
                    active_sprint_only: true,
                    ..Filter::default()
                },
                true,
            ),
            (
                Filter {
                    projects: names(&["OPS"]),
                    priorities: names(&["Low"]),
                    ..Filter::default()
                },
                false,
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(filter.selects(&t), expected, "{filter:?}");
        }
        let outside_sprint = IssueFacts {
            in_active_sprint: false,
            ..ticket()
        };
        let sprint = Filter {
            active_sprint_only: true,
            ..Filter::default()
        };
        assert!(!sprint.selects(&outside_sprint));
    }

    #[test]
    fn ranges_include_both_ends_and_never_hold_a_missing_time() {
        let t = ticket();
        let range = |from_ms, to_ms| TimeRange { from_ms, to_ms };
        let created = |r| Filter {
            created: r,
            ..Filter::default()
        };
        assert!(created(range(Some(1_000), Some(1_000))).selects(&t));
        assert!(!created(range(Some(1_001), None)).selects(&t));
        assert!(!created(range(None, Some(999))).selects(&t));
        let updated = Filter {
            updated: range(Some(5_000), None),
            ..Filter::default()
        };
        assert!(updated.selects(&t) && updated.has_time_ranges());
        let resolved = Filter {
            resolved: range(None, Some(i64::MAX)),
            ..Filter::default()
        };
        assert!(
            !resolved.selects(&t),
            "an unresolved ticket is in no resolved range"
        );
        assert!(!Filter::default().has_time_ranges());
    }
}
