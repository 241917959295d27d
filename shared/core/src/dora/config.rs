//! An integration's kept DORA profiles, each under an id the service hands out. A change is
//! checked whole before it is kept, so a refused change leaves the profiles as they were; each
//! kept change bumps `version`, which the store compares so that two concurrent changes never
//! overwrite each other.

use serde::{Deserialize, Serialize};

use super::profile::{DoraProfile, IssueFilter, ProfileError};
use crate::hygiene::config::Saved;
use crate::hygiene::criteria::Catalog;

/// At most this many profiles per integration: each is kept classified by every sync.
pub const MAX_PROFILES: usize = 10;
/// The largest profile (as JSON): the kept profiles together stay far below a stored item's
/// size limit (DynamoDB's 400 KB).
pub const MAX_PROFILE_BYTES: usize = 16 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DoraConfig {
    /// 0 before the first change; each kept change adds one.
    pub version: u64,
    pub profiles: Vec<Saved<DoraProfile>>,
    /// The last id handed out: ids are never handed out twice.
    pub last_id: u64,
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ProfileChangeError {
    /// The change is refused; `field` names the place in the request body.
    #[error(transparent)]
    Invalid(#[from] ProfileError),
    #[error("no DORA profile with id '{0}'")]
    NotFound(String),
}

/// Profile names are compared trimmed, in any case.
fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

fn invalid(field: &str, message: String) -> ProfileChangeError {
    ProfileChangeError::Invalid(ProfileError {
        field: field.to_string(),
        message,
    })
}

impl DoraConfig {
    pub fn get(&self, id: &str) -> Option<&DoraProfile> {
        self.profiles.iter().find(|p| p.id == id).map(|p| &p.item)
    }

    /// The id of the profile `wanted` names: its id, or its name as names are compared (trimmed,
    /// in any case).
    pub fn id_of(&self, wanted: &str) -> Option<&str> {
        let wanted = wanted.trim();
        self.profiles
            .iter()
            .find(|p| p.id == wanted)
            .or_else(|| {
                self.profiles
                    .iter()
                    .find(|p| same_name(&p.item.name, wanted))
            })
            .map(|p| p.id.as_str())
    }

    /// Adds a profile, checked against the site's fields and the other profiles' names.
    pub fn add(
        &mut self,
        profile: DoraProfile,
        catalog: &Catalog,
    ) -> Result<String, ProfileChangeError> {
        if self.profiles.len() >= MAX_PROFILES {
            return Err(invalid(
                "name",
                format!("at most {MAX_PROFILES} DORA profiles per integration"),
            ));
        }
        self.check(&profile, None, catalog)?;
        self.last_id += 1;
        let id = format!("p{}", self.last_id);
        self.profiles.push(Saved {
            id: id.clone(),
            item: profile,
        });
        self.version += 1;
        Ok(id)
    }

    pub fn replace(
        &mut self,
        id: &str,
        profile: DoraProfile,
        catalog: &Catalog,
    ) -> Result<(), ProfileChangeError> {
        let at = self.position(id)?;
        self.check(&profile, Some(id), catalog)?;
        self.profiles[at].item = profile;
        self.version += 1;
        Ok(())
    }

    pub fn remove(&mut self, id: &str) -> Result<(), ProfileChangeError> {
        let at = self.position(id)?;
        self.profiles.remove(at);
        self.version += 1;
        Ok(())
    }

    fn position(&self, id: &str) -> Result<usize, ProfileChangeError> {
        self.profiles
            .iter()
            .position(|p| p.id == id)
            .ok_or_else(|| ProfileChangeError::NotFound(id.to_string()))
    }

    fn check(
        &self,
        profile: &DoraProfile,
        replacing: Option<&str>,
        catalog: &Catalog,
    ) -> Result<(), ProfileChangeError> {
        profile.validate(catalog)?;
        let bytes = |side: &IssueFilter| serde_json::to_vec(side).map_or(0, |v| v.len());
        let (incidents, changes) = (bytes(&profile.incidents), bytes(&profile.changes));
        if incidents + changes > MAX_PROFILE_BYTES {
            let field = if incidents >= changes {
                "incidents"
            } else {
                "changes"
            };
            return Err(invalid(
                field,
                format!(
                    "the profile's filters take {} bytes; at most {MAX_PROFILE_BYTES}",
                    incidents + changes
                ),
            ));
        }
        let name = profile.name.trim();
        let taken = self
            .profiles
            .iter()
            .filter(|p| Some(p.id.as_str()) != replacing)
            .any(|p| same_name(&p.item.name, name));
        if taken {
            return Err(invalid(
                "name",
                "another DORA profile has this name (names are compared in any case)".to_string(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dora::profile::{Condition, FilterSet, IssueFilter, Join, Operator};
    use crate::sync::plan::FieldMap;

    fn catalog() -> Catalog {
        Catalog::new(&[], &FieldMap::default())
    }

    fn profile(name: &str, incident_type: &str) -> DoraProfile {
        let filter = |value: &str| IssueFilter {
            sets: vec![FilterSet {
                conditions: vec![Condition {
                    field: "issuetype".into(),
                    operator: Operator::Equals,
                    values: vec![value.into()],
                }],
            }],
            join: Join::Or,
        };
        DoraProfile {
            name: name.into(),
            incidents: filter(incident_type),
            changes: filter("Change"),
            restored_statuses: vec![],
            deployed_statuses: vec![],
            failure_window_hours: 24,
        }
    }

    #[test]
    fn profiles_are_added_replaced_and_removed_by_id_each_change_bumping_the_version() {
        let mut config = DoraConfig::default();
        let a = config.add(profile("Ops", "Incident"), &catalog()).unwrap();
        let b = config.add(profile("Web", "Bug"), &catalog()).unwrap();
        assert_ne!(a, b);
        config
            .replace(&a, profile("ops", "Outage"), &catalog())
            .unwrap();
        assert_eq!(config.get(&a).unwrap().name, "ops");
        config.remove(&b).unwrap();
        assert_eq!(config.version, 4);
        assert_eq!(
            config.remove(&b),
            Err(ProfileChangeError::NotFound(b.clone()))
        );
        let c = config.add(profile("Again", "Bug"), &catalog()).unwrap();
        assert!(c != a && c != b, "ids are never handed out twice");
    }

    #[test]
    fn a_refused_profile_names_the_field_and_changes_nothing() {
        let mut config = DoraConfig::default();
        config.add(profile("Ops", "Incident"), &catalog()).unwrap();
        let before = config.clone();
        let field = |r: Result<String, ProfileChangeError>| match r {
            Err(ProfileChangeError::Invalid(e)) => e.field,
            other => panic!("not refused: {other:?}"),
        };
        assert_eq!(field(config.add(profile("OPS", "Bug"), &catalog())), "name");
        let mut bad = profile("Other", "Bug");
        bad.incidents.sets[0].conditions[0].field = "flavour".into();
        assert_eq!(
            field(config.add(bad, &catalog())),
            "incidents.sets[0].conditions[0].field"
        );
        let mut huge = profile("Huge", "Bug");
        let mut wide = huge.changes.sets[0].conditions[0].clone();
        wide.operator = Operator::In;
        wide.values = vec!["x".repeat(250); 50];
        let set = FilterSet {
            conditions: vec![wide; 10],
        };
        huge.changes.sets = vec![set; 3];
        assert_eq!(field(config.add(huge, &catalog())), "changes");
        assert_eq!(config, before);
        for i in 1..MAX_PROFILES {
            config
                .add(profile(&format!("p{i}"), "Bug"), &catalog())
                .unwrap();
        }
        assert_eq!(
            field(config.add(profile("eleventh", "Bug"), &catalog())),
            "name"
        );
    }
}
