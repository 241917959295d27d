//! An integration's hygiene settings that persist: its custom hygiene misses and its SLA rows,
//! each under an id the service hands out. Every change is checked whole before it is kept, so a
//! refused change leaves the settings as they were; each kept change bumps `version`, which the
//! store compares so that two concurrent changes never overwrite each other.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::aggregate::HOUR_MS;
use super::criteria::{self, Catalog, CriteriaError, Criterion, MAX_CRITERIA};
use super::rules::{Settings, Sla, SlaKey};

/// At most this many SLA rows per integration.
pub const MAX_SLAS: usize = 1_000;
/// An SLA of more than ten years is a typing error.
const MAX_SLA_HOURS: u32 = 24 * 3_653;

/// The settings of one integration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HygieneConfig {
    /// 0 before the first change; each kept change adds one.
    pub version: u64,
    pub criteria: Vec<Saved<Criterion>>,
    pub slas: Vec<Saved<SlaInput>>,
    /// The last id handed out.
    #[serde(default)]
    pub last_id: u64,
}

/// A setting and the id it is addressed by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saved<T> {
    pub id: String,
    pub item: T,
}

/// One SLA row as people write it: the goals in whole hours (reports are evaluated on the hour,
/// see `aggregate`) for one (project, issue type, priority).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaInput {
    pub project: String,
    pub issue_type: String,
    pub priority: String,
    pub response_hours: u32,
    pub resolution_hours: u32,
}

impl SlaInput {
    fn key(&self) -> SlaKey {
        SlaKey::new(&self.project, &self.issue_type, &self.priority)
    }
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The change is refused; `field` names the place in the request body.
    #[error(transparent)]
    Invalid(#[from] CriteriaError),
    #[error("no {kind} with id '{id}'")]
    NotFound { kind: &'static str, id: String },
}

fn invalid(field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(CriteriaError {
        field: field.to_string(),
        message: message.into(),
    })
}

impl HygieneConfig {
    pub fn criteria(&self) -> Vec<Criterion> {
        self.criteria.iter().map(|c| c.item.clone()).collect()
    }

    /// The built-in thresholds of `base` with this integration's SLA rows.
    pub fn settings(&self, base: Settings) -> Settings {
        let slas: HashMap<SlaKey, Sla> = self
            .slas
            .iter()
            .map(|s| {
                let sla = Sla {
                    response_ms: i64::from(s.item.response_hours) * HOUR_MS,
                    resolution_ms: i64::from(s.item.resolution_hours) * HOUR_MS,
                };
                (s.item.key(), sla)
            })
            .collect();
        Settings { slas, ..base }
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.last_id += 1;
        format!("{prefix}{}", self.last_id)
    }

    /// Adds a custom miss, checked against the site's fields and the other criteria.
    pub fn add_criterion(
        &mut self,
        criterion: Criterion,
        catalog: &Catalog,
    ) -> Result<String, ConfigError> {
        if self.criteria.len() >= MAX_CRITERIA {
            return Err(invalid(
                "name",
                format!("at most {MAX_CRITERIA} custom hygiene misses per integration"),
            ));
        }
        self.check_criterion(&criterion, None, catalog)?;
        let id = self.next_id("c");
        self.criteria.push(Saved {
            id: id.clone(),
            item: criterion,
        });
        self.version += 1;
        Ok(id)
    }

    pub fn replace_criterion(
        &mut self,
        id: &str,
        criterion: Criterion,
        catalog: &Catalog,
    ) -> Result<(), ConfigError> {
        let at = position(&self.criteria, id, "criterion")?;
        self.check_criterion(&criterion, Some(id), catalog)?;
        self.criteria[at].item = criterion;
        self.version += 1;
        Ok(())
    }

    pub fn remove_criterion(&mut self, id: &str) -> Result<(), ConfigError> {
        let at = position(&self.criteria, id, "criterion")?;
        self.criteria.remove(at);
        self.version += 1;
        Ok(())
    }

    /// One criterion on its own (its errors name the body's fields), then its name among the
    /// others.
    fn check_criterion(
        &self,
        criterion: &Criterion,
        replacing: Option<&str>,
        catalog: &Catalog,
    ) -> Result<(), ConfigError> {
        criteria::validate(std::slice::from_ref(criterion), catalog).map_err(|e| {
            let field = e.field.strip_prefix("criteria[0].").unwrap_or(&e.field);
            invalid(field, e.message)
        })?;
        let name = criterion.name.trim();
        let taken = self
            .criteria
            .iter()
            .filter(|c| Some(c.id.as_str()) != replacing)
            .any(|c| c.item.name.trim().eq_ignore_ascii_case(name));
        if taken {
            return Err(invalid(
                "name",
                format!("'{name}' is already the name of another criterion"),
            ));
        }
        Ok(())
    }

    pub fn add_sla(&mut self, sla: SlaInput) -> Result<String, ConfigError> {
        if self.slas.len() >= MAX_SLAS {
            return Err(invalid(
                "project",
                format!("at most {MAX_SLAS} SLA rows per integration"),
            ));
        }
        self.check_sla(&sla, None)?;
        let id = self.next_id("s");
        self.slas.push(Saved {
            id: id.clone(),
            item: sla,
        });
        self.version += 1;
        Ok(id)
    }

    pub fn replace_sla(&mut self, id: &str, sla: SlaInput) -> Result<(), ConfigError> {
        let at = position(&self.slas, id, "SLA row")?;
        self.check_sla(&sla, Some(id))?;
        self.slas[at].item = sla;
        self.version += 1;
        Ok(())
    }

    pub fn remove_sla(&mut self, id: &str) -> Result<(), ConfigError> {
        let at = position(&self.slas, id, "SLA row")?;
        self.slas.remove(at);
        self.version += 1;
        Ok(())
    }

    fn check_sla(&self, sla: &SlaInput, replacing: Option<&str>) -> Result<(), ConfigError> {
        for (field, value) in [
            ("project", &sla.project),
            ("issue_type", &sla.issue_type),
            ("priority", &sla.priority),
        ] {
            let len = value.trim().chars().count();
            if len == 0 || len > 255 {
                return Err(invalid(field, "must be 1 to 255 characters"));
            }
        }
        for (field, hours) in [
            ("response_hours", sla.response_hours),
            ("resolution_hours", sla.resolution_hours),
        ] {
            if !(1..=MAX_SLA_HOURS).contains(&hours) {
                return Err(invalid(
                    field,
                    format!("must be a whole number of hours from 1 to {MAX_SLA_HOURS}"),
                ));
            }
        }
        let key = sla.key();
        let taken = self
            .slas
            .iter()
            .filter(|s| Some(s.id.as_str()) != replacing)
            .any(|s| s.item.key() == key);
        if taken {
            return Err(invalid(
                "project",
                format!(
                    "an SLA row for ({}, {}, {}) already exists",
                    sla.project.trim(),
                    sla.issue_type.trim(),
                    sla.priority.trim()
                ),
            ));
        }
        Ok(())
    }
}

fn position<T>(items: &[Saved<T>], id: &str, kind: &'static str) -> Result<usize, ConfigError> {
    items
        .iter()
        .position(|s| s.id == id)
        .ok_or_else(|| ConfigError::NotFound {
            kind,
            id: id.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::super::criteria::{Condition, Operator};
    use super::super::facts::IssueFacts;
    use super::*;
    use crate::sync::plan::FieldMap;

    fn catalog() -> Catalog {
        Catalog::new(&[], &FieldMap::default())
    }

    fn criterion(name: &str, field: &str, operator: Operator) -> Criterion {
        Criterion {
            name: name.into(),
            conditions: vec![Condition {
                field: field.into(),
                operator,
            }],
        }
    }

    fn sla(project: &str, response_hours: u32) -> SlaInput {
        SlaInput {
            project: project.into(),
            issue_type: "Bug".into(),
            priority: "High".into(),
            response_hours,
            resolution_hours: 48,
        }
    }

    #[test]
    fn criteria_are_added_replaced_and_removed_by_id_and_each_change_bumps_the_version() {
        let mut config = HygieneConfig::default();
        let a = config
            .add_criterion(
                criterion("No labels", "labels", Operator::Missing),
                &catalog(),
            )
            .unwrap();
        let b = config
            .add_criterion(
                criterion("Unowned", "assignee", Operator::Missing),
                &catalog(),
            )
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(config.version, 2);
        config
            .replace_criterion(
                &a,
                criterion("No labels", "components", Operator::Missing),
                &catalog(),
            )
            .unwrap();
        assert_eq!(config.criteria[0].item.conditions[0].field, "components");
        config.remove_criterion(&b).unwrap();
        assert_eq!(config.criteria().len(), 1);
        assert_eq!(config.version, 4);
        assert_eq!(
            config.remove_criterion(&b),
            Err(ConfigError::NotFound {
                kind: "criterion",
                id: b.clone()
            })
        );
        // Ids are never handed out twice, even after a removal.
        let c = config
            .add_criterion(criterion("Again", "labels", Operator::Present), &catalog())
            .unwrap();
        assert!(c != a && c != b);
    }

    #[test]
    fn a_refused_criterion_names_the_field_and_changes_nothing() {
        let mut config = HygieneConfig::default();
        config
            .add_criterion(
                criterion("No labels", "labels", Operator::Missing),
                &catalog(),
            )
            .unwrap();
        let before = config.clone();
        let refused =
            |config: &mut HygieneConfig, c: Criterion| match config.add_criterion(c, &catalog()) {
                Err(ConfigError::Invalid(e)) => e.field,
                other => panic!("not refused: {other:?}"),
            };
        assert_eq!(
            refused(
                &mut config,
                criterion("X", "labels", Operator::GreaterThan { value: 1.0 })
            ),
            "conditions[0].operator"
        );
        assert_eq!(
            refused(&mut config, criterion("Y", "flavour", Operator::Missing)),
            "conditions[0].field"
        );
        assert_eq!(
            refused(
                &mut config,
                criterion("no LABELS", "status", Operator::Missing)
            ),
            "name"
        );
        assert_eq!(config, before);
        for i in 1..MAX_CRITERIA {
            config
                .add_criterion(
                    criterion(&format!("c{i}"), "labels", Operator::Missing),
                    &catalog(),
                )
                .unwrap();
        }
        assert_eq!(
            refused(
                &mut config,
                criterion("eleventh", "labels", Operator::Missing)
            ),
            "name"
        );
        // Renaming a criterion to its own name is no clash.
        let id = config.criteria[0].id.clone();
        config
            .replace_criterion(
                &id,
                criterion("No Labels", "labels", Operator::Missing),
                &catalog(),
            )
            .unwrap();
    }

    #[test]
    fn sla_rows_are_checked_unique_per_cell_and_become_settings() {
        let mut config = HygieneConfig::default();
        let id = config.add_sla(sla("OPS", 4)).unwrap();
        let field = |r: Result<String, ConfigError>| match r {
            Err(ConfigError::Invalid(e)) => e.field,
            other => panic!("not refused: {other:?}"),
        };
        assert_eq!(field(config.add_sla(sla("ops", 8))), "project");
        assert_eq!(field(config.add_sla(sla("DEV", 0))), "response_hours");
        assert_eq!(field(config.add_sla(sla(" ", 1))), "project");
        let mut long = sla("DEV", 1);
        long.resolution_hours = MAX_SLA_HOURS + 1;
        assert_eq!(field(config.add_sla(long)), "resolution_hours");
        config.replace_sla(&id, sla("OPS", 3)).unwrap();
        let settings = config.settings(Settings::default());
        let facts = |project: &str, priority: &str| IssueFacts {
            project: project.into(),
            issue_type: Some("bug".into()),
            priority: Some(priority.into()),
            ..IssueFacts::default()
        };
        let goal = settings.sla(&facts("OPS", "HIGH"));
        assert_eq!(goal.response_ms, 3 * HOUR_MS);
        assert_eq!(goal.resolution_ms, 48 * HOUR_MS);
        assert_eq!(settings.sla(&facts("OPS", "Low")), Sla::default());
        config.remove_sla(&id).unwrap();
        assert!(config.settings(Settings::default()).slas.is_empty());
    }
}
