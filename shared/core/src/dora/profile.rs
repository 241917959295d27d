//! A DORA profile: a team's definitions of what an incident and a change request are (filter
//! sets over the issue's fields), which statuses mean "restored" and "deployed", and how long
//! after a deployment an incident in the same project counts as caused by it when no link says
//! so. Checked against the site's fields: every refusal names the place in the request.

use serde::{Deserialize, Serialize};

use crate::hygiene::criteria::Catalog;
use crate::hygiene::seen::{Dimension, Seen, Unseen};
use crate::store::records::StoredIssue;

/// The most filter sets one side (incidents, changes) may have.
pub const MAX_FILTER_SETS: usize = 3;
/// The most conditions in one filter set, and values in one condition.
pub const MAX_CONDITIONS: usize = 10;
pub const MAX_VALUES: usize = 50;
/// The longest value or status name (Jira's names are shorter).
pub const MAX_VALUE_CHARS: usize = 255;
/// How long after a deployment an incident in its project is taken as caused by it, when no
/// link says so (hours), unless the profile says otherwise; and the longest window taken.
pub const DEFAULT_WINDOW_HOURS: u32 = 24;
pub const MAX_WINDOW_HOURS: u32 = 24 * 30;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoraProfile {
    pub name: String,
    pub incidents: IssueFilter,
    pub changes: IssueFilter,
    /// Status names that mean an incident is restored; none: the Done status category.
    #[serde(default)]
    pub restored_statuses: Vec<String>,
    /// Status names that mean a change request is deployed; none: the Done status category.
    #[serde(default)]
    pub deployed_statuses: Vec<String>,
    #[serde(default = "default_window")]
    pub failure_window_hours: u32,
}

fn default_window() -> u32 {
    DEFAULT_WINDOW_HOURS
}

/// Which issues are of one kind: filter sets, joined by AND or OR.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueFilter {
    pub sets: Vec<FilterSet>,
    #[serde(default)]
    pub join: Join,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Join {
    And,
    #[default]
    Or,
}

/// Conditions that must all hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSet {
    pub conditions: Vec<Condition>,
}

/// One condition on a field: project, issue type, labels, priority, status, components,
/// resolution, any other field hygiene criteria may name, or a mapped custom field (by name or
/// id).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// One of the field's values is the value (any case).
    Equals,
    /// None of the field's values is any of the values.
    NotEquals,
    /// One of the field's values contains the value (any case).
    Contains,
    StartsWith,
    /// One of the field's values is one of the values.
    In,
}

impl DoraProfile {
    /// The values the profile names that no stored ticket holds — an issue type, status,
    /// priority or project in an `equals`/`in` condition, a restored or deployed status — each at
    /// its place in the profile. A typo ("Incidnet") would otherwise select nothing, silently.
    pub fn unseen(&self, seen: &Seen) -> Vec<Unseen> {
        let mut unseen = Vec::new();
        for (side, filter) in [("incidents", &self.incidents), ("changes", &self.changes)] {
            for (s, set) in filter.sets.iter().enumerate() {
                for (c, condition) in set.conditions.iter().enumerate() {
                    let Some(dimension) = dimension_of(&condition.field) else {
                        continue;
                    };
                    if !matches!(condition.operator, Operator::Equals | Operator::In) {
                        continue;
                    }
                    let place = format!("{side}.sets[{s}].conditions[{c}].values");
                    unseen.extend(
                        condition
                            .values
                            .iter()
                            .filter_map(|v| seen.check(dimension, v, &place)),
                    );
                }
            }
        }
        for (place, statuses) in [
            ("restored_statuses", &self.restored_statuses),
            ("deployed_statuses", &self.deployed_statuses),
        ] {
            unseen.extend(
                statuses
                    .iter()
                    .filter_map(|v| seen.check(Dimension::Status, v, place)),
            );
        }
        unseen
    }
}

/// The dimension a condition's field names, for the fields every ticket holds one value of.
fn dimension_of(field: &str) -> Option<Dimension> {
    match field.trim().to_ascii_lowercase().as_str() {
        "project" => Some(Dimension::Project),
        "issue type" | "issuetype" | "type" => Some(Dimension::IssueType),
        "priority" => Some(Dimension::Priority),
        "status" => Some(Dimension::Status),
        _ => None,
    }
}

/// Why a profile was refused: `field` names the place in the request, e.g.
/// `incidents.sets[1].conditions[0].operator`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ProfileError {
    pub field: String,
    pub message: String,
}

fn refuse<T>(field: impl Into<String>, message: impl Into<String>) -> Result<T, ProfileError> {
    Err(ProfileError {
        field: field.into(),
        message: message.into(),
    })
}

impl DoraProfile {
    /// Checks the whole profile against the fields of the site (`catalog`: the standard fields
    /// and the integration's mapped custom fields).
    pub fn validate(&self, catalog: &Catalog) -> Result<(), ProfileError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return refuse("name", "must be 1 to 100 characters");
        }
        self.incidents.validate("incidents", catalog)?;
        self.changes.validate("changes", catalog)?;
        for (field, statuses) in [
            ("restored_statuses", &self.restored_statuses),
            ("deployed_statuses", &self.deployed_statuses),
        ] {
            let bad = |s: &String| s.trim().is_empty() || s.chars().count() > MAX_VALUE_CHARS;
            if statuses.len() > MAX_VALUES || statuses.iter().any(bad) {
                return refuse(
                    field,
                    format!(
                        "at most {MAX_VALUES} status names of 1 to {MAX_VALUE_CHARS} characters"
                    ),
                );
            }
        }
        if !(1..=MAX_WINDOW_HOURS).contains(&self.failure_window_hours) {
            return refuse(
                "failure_window_hours",
                format!("must be 1 to {MAX_WINDOW_HOURS}"),
            );
        }
        Ok(())
    }
}

impl IssueFilter {
    fn validate(&self, at: &str, catalog: &Catalog) -> Result<(), ProfileError> {
        if self.sets.is_empty() || self.sets.len() > MAX_FILTER_SETS {
            return refuse(
                format!("{at}.sets"),
                format!("1 to {MAX_FILTER_SETS} filter sets"),
            );
        }
        for (s, set) in self.sets.iter().enumerate() {
            let at = format!("{at}.sets[{s}].conditions");
            if set.conditions.is_empty() || set.conditions.len() > MAX_CONDITIONS {
                return refuse(at, format!("1 to {MAX_CONDITIONS} conditions"));
            }
            for (c, condition) in set.conditions.iter().enumerate() {
                condition.validate(&format!("{at}[{c}]"), catalog)?;
            }
        }
        Ok(())
    }

    /// Whether the issue is of this kind.
    pub fn matches(&self, issue: &StoredIssue, catalog: &Catalog) -> bool {
        let holds = |set: &FilterSet| set.conditions.iter().all(|c| c.holds(issue, catalog));
        match self.join {
            Join::And => self.sets.iter().all(holds),
            Join::Or => self.sets.iter().any(holds),
        }
    }
}

impl Condition {
    fn validate(&self, at: &str, catalog: &Catalog) -> Result<(), ProfileError> {
        if catalog.field(&self.field).is_none() {
            return refuse(
                format!("{at}.field"),
                "not a field of this integration: project, issue type, labels, priority, status, \
                 components, resolution, another standard field, or a mapped custom field",
            );
        }
        if self.values.is_empty() || self.values.len() > MAX_VALUES {
            return refuse(format!("{at}.values"), format!("1 to {MAX_VALUES} values"));
        }
        if self.values.iter().any(|v| v.trim().is_empty()) {
            return refuse(format!("{at}.values"), "no value may be empty");
        }
        if self
            .values
            .iter()
            .any(|v| v.chars().count() > MAX_VALUE_CHARS)
        {
            return refuse(
                format!("{at}.values"),
                format!("at most {MAX_VALUE_CHARS} characters per value"),
            );
        }
        if self.operator != Operator::In && self.values.len() > 1 {
            return refuse(
                format!("{at}.values"),
                "one value for this operator (use in for several)",
            );
        }
        Ok(())
    }

    fn holds(&self, issue: &StoredIssue, catalog: &Catalog) -> bool {
        let Some(field) = catalog.field(&self.field) else {
            return false;
        };
        let names: Vec<String> = catalog
            .names_of(issue, field)
            .into_iter()
            .map(|n| n.to_lowercase())
            .collect();
        let values: Vec<String> = self
            .values
            .iter()
            .map(|v| v.trim().to_lowercase())
            .collect();
        let any = |test: &dyn Fn(&str, &str) -> bool| {
            names.iter().any(|n| values.iter().any(|v| test(n, v)))
        };
        match self.operator {
            Operator::Equals | Operator::In => any(&|n, v| n == v),
            Operator::NotEquals => !any(&|n, v| n == v),
            Operator::Contains => any(&|n, v| n.contains(v)),
            Operator::StartsWith => any(&|n, v| n.starts_with(v)),
        }
    }
}
