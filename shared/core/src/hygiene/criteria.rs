//! Custom hygiene misses: a name and one or more conditions on a field, all of which must hold —
//! each condition describes the undesired state (a field Missing that should be filled, a value
//! that should not be there). At most [`MAX_CRITERIA`] per integration.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jira::models::FieldDetails;
use crate::store::records::StoredIssue;
use crate::sync::plan::FieldMap;

pub const MAX_CRITERIA: usize = 10;

/// A custom hygiene miss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub name: String,
    pub conditions: Vec<Condition>,
}

/// One field in its undesired state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// A standard field's name (`status`, `fix versions`, …) or a mapped custom field's name or id.
    pub field: String,
    #[serde(flatten)]
    pub operator: Operator,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "operator", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operator {
    /// The field is empty.
    Missing,
    /// The field has a value.
    Present,
    /// One of the field's values is one of these (names, any case).
    Equals {
        values: Vec<String>,
    },
    /// None of the field's values is one of these.
    Exclude {
        values: Vec<String>,
    },
    /// Text longer than this many characters, or a list of more items.
    LengthGreaterThan {
        value: usize,
    },
    LengthLessThan {
        value: usize,
    },
    /// Numeric fields only.
    GreaterThan {
        value: f64,
    },
    LessThan {
        value: f64,
    },
}

impl Operator {
    fn name(&self) -> &'static str {
        match self {
            Operator::Missing => "missing",
            Operator::Present => "present",
            Operator::Equals { .. } => "equals",
            Operator::Exclude { .. } => "exclude",
            Operator::LengthGreaterThan { .. } => "length_greater_than",
            Operator::LengthLessThan { .. } => "length_less_than",
            Operator::GreaterThan { .. } => "greater_than",
            Operator::LessThan { .. } => "less_than",
        }
    }

    fn fits(&self, kind: Kind) -> bool {
        match self {
            Operator::Missing | Operator::Present => true,
            Operator::Equals { .. } | Operator::Exclude { .. } => kind != Kind::Number,
            Operator::LengthGreaterThan { .. } | Operator::LengthLessThan { .. } => {
                kind != Kind::Number
            }
            Operator::GreaterThan { .. } | Operator::LessThan { .. } => kind == Kind::Number,
        }
    }
}

/// What a field holds, which decides the operators that fit it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One name or text (status, priority, a select list, …).
    Text,
    /// Several names (components, labels, versions, sprints).
    List,
    Number,
}

/// A field criteria can name, and where its value is in a stored issue.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The name people use (`fix versions`), or the custom field's name.
    pub name: String,
    /// Jira's field id (`fixVersions`, `customfield_10020`).
    pub id: String,
    pub kind: Kind,
}

/// The fields criteria may name on one site: the standard ones, then the site's story points,
/// sprint and epic link fields and the integration's mapped custom fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    fields: Vec<Field>,
    /// The fields that can hold story points, in the order they are read.
    story_points: Vec<String>,
    epic_links: Vec<String>,
}

/// The id the catalog gives "story points": not one Jira field, but the first of the site's
/// story points fields with a value ([`crate::sync::plan::resolve_fields`]).
pub const STORY_POINTS: &str = "story points";
/// The id the catalog gives "epic": a company-managed epic link with a value, or else the
/// parent when it is an epic (a team-managed epic child; a sub-task's parent is no epic).
pub const EPIC: &str = "epic";

const STANDARD: [(&str, &str, Kind); 13] = [
    ("status", "status", Kind::Text),
    ("priority", "priority", Kind::Text),
    ("issue type", "issuetype", Kind::Text),
    ("assignee", "assignee", Kind::Text),
    ("reporter", "reporter", Kind::Text),
    ("project", "project", Kind::Text),
    ("components", "components", Kind::List),
    ("labels", "labels", Kind::List),
    ("fix versions", "fixVersions", Kind::List),
    ("versions", "versions", Kind::List),
    ("resolution", "resolution", Kind::Text),
    ("status category", "statusCategory", Kind::Text),
    ("parent", "parent", Kind::Text),
];

impl Catalog {
    pub fn new(site_fields: &[FieldDetails], map: &FieldMap) -> Catalog {
        let mut fields: Vec<Field> = STANDARD
            .iter()
            .map(|(name, id, kind)| Field {
                name: name.to_string(),
                id: id.to_string(),
                kind: *kind,
            })
            .collect();
        let named = |id: &str, name: &str, kind: Kind| Field {
            name: name.into(),
            id: id.into(),
            kind,
        };
        if !map.story_points.is_empty() {
            fields.push(named(STORY_POINTS, "story points", Kind::Number));
        }
        if let Some(id) = &map.sprint {
            fields.push(named(id, "sprint", Kind::List));
        }
        fields.push(named(EPIC, "epic", Kind::Text));
        for (_, id) in &map.mapped {
            let detail = site_fields.iter().find(|f| &f.id == id);
            let kind = match detail
                .and_then(|f| f.schema.as_ref())
                .map(|s| s.kind.as_str())
            {
                Some("number") => Kind::Number,
                Some("array") => Kind::List,
                _ => Kind::Text,
            };
            let name = detail.map_or(id.as_str(), |f| f.name.as_str());
            fields.push(named(id, &name.to_ascii_lowercase(), kind));
        }
        Catalog {
            fields,
            story_points: map.story_points.clone(),
            epic_links: map.epic_link.clone(),
        }
    }

    /// The issue's value of `id`: a field's, a status's category, or the first story points
    /// value the issue has.
    fn value_of<'a>(&self, issue: &'a StoredIssue, id: &str) -> Option<&'a Value> {
        match id {
            "statusCategory" => issue.fields.get("status").map(|s| &s["statusCategory"]),
            STORY_POINTS => first_set(issue, &self.story_points),
            EPIC => first_set(issue, &self.epic_links).or_else(|| {
                let parent = issue.fields.get("parent")?;
                (parent["fields"]["issuetype"]["hierarchyLevel"] == 1).then_some(parent)
            }),
            _ => issue.fields.get(id),
        }
    }

    /// The issue's story points, if it has any.
    pub fn story_points(&self, issue: &StoredIssue) -> Option<f64> {
        self.value_of(issue, STORY_POINTS).and_then(Value::as_f64)
    }

    /// The site's sprint field id, if it has one.
    pub fn sprint_field(&self) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name == "sprint")
            .map(|f| f.id.as_str())
    }

    /// The names `field` holds in `issue` (see [`names`]); a project also by its key.
    pub fn names_of(&self, issue: &StoredIssue, field: &Field) -> Vec<String> {
        let mut names = names(self.value_of(issue, &field.id));
        if field.id == "project" {
            names.push(issue.project_key.clone());
        }
        names
    }

    /// The field a criterion names: by name (any case) or by id.
    pub fn field(&self, wanted: &str) -> Option<&Field> {
        let wanted = wanted.trim();
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(wanted) || f.id.eq_ignore_ascii_case(wanted))
    }
}

/// Why criteria were refused: `field` names the place in the request, e.g.
/// `criteria[2].conditions[0].operator`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CriteriaError {
    pub field: String,
    pub message: String,
}

/// Checks an integration's whole list of criteria.
pub fn validate(criteria: &[Criterion], catalog: &Catalog) -> Result<(), CriteriaError> {
    let refuse = |field: String, message: String| Err(CriteriaError { field, message });
    if criteria.len() > MAX_CRITERIA {
        return refuse(
            "criteria".into(),
            format!("at most {MAX_CRITERIA} custom hygiene misses per integration"),
        );
    }
    for (i, c) in criteria.iter().enumerate() {
        let at = format!("criteria[{i}]");
        let name = c.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return refuse(format!("{at}.name"), "must be 1 to 100 characters".into());
        }
        if criteria[..i]
            .iter()
            .any(|o| o.name.trim().eq_ignore_ascii_case(name))
        {
            return refuse(
                format!("{at}.name"),
                format!("'{name}' is already the name of another criterion"),
            );
        }
        if c.conditions.is_empty() {
            return refuse(
                format!("{at}.conditions"),
                "needs at least one condition".into(),
            );
        }
        for (j, cond) in c.conditions.iter().enumerate() {
            let at = format!("{at}.conditions[{j}]");
            let Some(field) = catalog.field(&cond.field) else {
                return refuse(
                    format!("{at}.field"),
                    format!(
                        "'{}' is neither a standard field nor a mapped custom field",
                        cond.field
                    ),
                );
            };
            if !cond.operator.fits(field.kind) {
                return refuse(
                    format!("{at}.operator"),
                    format!(
                        "{} does not apply to {} ({} field)",
                        cond.operator.name(),
                        field.name,
                        match field.kind {
                            Kind::Text => "a text",
                            Kind::List => "a list",
                            Kind::Number => "a numeric",
                        }
                    ),
                );
            }
            let values = match &cond.operator {
                Operator::Equals { values } | Operator::Exclude { values } => Some(values),
                _ => None,
            };
            if values.is_some_and(|v| v.iter().all(|x| x.trim().is_empty())) {
                return refuse(format!("{at}.values"), "needs at least one value".into());
            }
            let bound = match &cond.operator {
                Operator::GreaterThan { value } | Operator::LessThan { value } => Some(*value),
                _ => None,
            };
            if bound.is_some_and(|v| !v.is_finite()) {
                return refuse(format!("{at}.value"), "must be a number".into());
            }
        }
    }
    Ok(())
}

/// Whether the issue is in the undesired state every condition describes. `catalog` must have
/// validated the criterion; a field it does not know matches nothing.
pub fn matches(criterion: &Criterion, issue: &StoredIssue, catalog: &Catalog) -> bool {
    criterion.conditions.iter().all(|cond| {
        catalog
            .field(&cond.field)
            .is_some_and(|field| holds(&cond.operator, field, issue, catalog))
    })
}

fn holds(operator: &Operator, field: &Field, issue: &StoredIssue, catalog: &Catalog) -> bool {
    let raw = catalog.value_of(issue, &field.id);
    let names = names(raw);
    let any_of = |wanted: &[String]| {
        names
            .iter()
            .any(|n| wanted.iter().any(|w| w.trim().eq_ignore_ascii_case(n)))
    };
    let length = || match field.kind {
        Kind::List => names.len(),
        _ => names.first().map_or(0, |n| n.chars().count()),
    };
    match operator {
        Operator::Missing => names.is_empty(),
        Operator::Present => !names.is_empty(),
        Operator::Equals { values } => any_of(values),
        Operator::Exclude { values } => !any_of(values),
        Operator::LengthGreaterThan { value } => length() > *value,
        Operator::LengthLessThan { value } => length() < *value,
        Operator::GreaterThan { value } => raw.and_then(Value::as_f64).is_some_and(|n| n > *value),
        Operator::LessThan { value } => raw.and_then(Value::as_f64).is_some_and(|n| n < *value),
    }
}

/// The first of `fields` the issue has a value in.
fn first_set<'a>(issue: &'a StoredIssue, fields: &[String]) -> Option<&'a Value> {
    fields
        .iter()
        .find_map(|f| issue.fields.get(f).filter(|v| !v.is_null()))
}

/// The names a value carries: a string or number as it is; an object by its name (`name`,
/// `displayName`, `key`, `value`); a list item by item. Empty strings and nulls carry none.
fn names(value: Option<&Value>) -> Vec<String> {
    fn one(v: &Value) -> Option<String> {
        match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Object(o) => ["name", "displayName", "key", "value"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str))
                .map(str::to_string),
            _ => None,
        }
    }
    match value {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
