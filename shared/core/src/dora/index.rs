//! The kept DORA classification of an integration, profile by profile: the facts of each issue
//! that is an incident or a change request under the profile (its members), and where each
//! profile's classification stands — pure; [`super::upkeep`] keeps it in the store.
//!
//! A profile's members are classified on a basis: the profile, the custom-field mapping its
//! conditions may name, and the site's Done statuses (the default of its status mappings).
//! Another basis means the members must be classified again from every issue.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::facts::{DoraFacts, Statuses};
use super::profile::DoraProfile;
use crate::hygiene::criteria::Catalog;
use crate::hygiene::index::Build;
use crate::store::records::{StoredIssue, issue_order};

/// Where each profile's members stand, by profile id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DoraHeads {
    pub profiles: BTreeMap<String, ProfileHead>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileHead {
    /// What the members were classified on.
    pub basis: String,
    /// Set while the members are classified from every issue.
    pub build: Option<Build>,
}

impl ProfileHead {
    /// Whether reports can be answered from the members.
    pub fn is_current(&self, basis: &str) -> bool {
        self.basis == basis && self.build.is_none()
    }
}

/// What a profile's members depend on besides the issues.
pub fn basis(profile: &DoraProfile, custom_fields: &[String], done: &[String]) -> String {
    let mut done: Vec<String> = done.iter().map(|s| s.trim().to_lowercase()).collect();
    done.sort();
    done.dedup();
    serde_json::to_string(&(profile, custom_fields, done)).unwrap_or_default()
}

/// One profile as issues are classified under it.
pub struct Classifier {
    pub id: String,
    pub profile: DoraProfile,
    pub statuses: Statuses,
    pub basis: String,
}

impl Classifier {
    pub fn new(
        id: &str,
        profile: &DoraProfile,
        custom_fields: &[String],
        done: &[String],
    ) -> Classifier {
        Classifier {
            id: id.to_string(),
            statuses: Statuses::new(profile, done),
            basis: basis(profile, custom_fields, done),
            profile: profile.clone(),
        }
    }

    /// The issue's facts when it is an incident or a change request that counts (not hidden,
    /// removed or deleted).
    pub fn member(&self, issue: &StoredIssue, catalog: &Catalog) -> Option<DoraFacts> {
        if !issue.counts() {
            return None;
        }
        let facts = DoraFacts::of(issue, &self.profile, catalog, &self.statuses);
        (facts.incident || facts.change).then_some(facts)
    }
}

/// Whether a build that stands at `build` has yet to read issue `id`.
pub fn not_yet_built(build: &Build, id: &str) -> bool {
    build
        .after
        .as_deref()
        .is_none_or(|after| issue_order(id) > issue_order(after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_has_read_the_issues_up_to_its_position_in_numeric_order() {
        let at = |after: Option<&str>| Build {
            after: after.map(str::to_string),
        };
        assert!(not_yet_built(&at(None), "1"));
        assert!(not_yet_built(&at(Some("9")), "10"));
        assert!(!not_yet_built(&at(Some("10")), "9"));
        assert!(!not_yet_built(&at(Some("10")), "10"));
    }

    #[test]
    fn the_basis_ignores_the_order_and_case_of_the_done_statuses() {
        let profile: DoraProfile = serde_json::from_value(serde_json::json!({
            "name": "Ops",
            "incidents": {"sets": [{"conditions": [{"field": "issuetype", "operator": "equals", "values": ["Incident"]}]}]},
            "changes": {"sets": [{"conditions": [{"field": "issuetype", "operator": "equals", "values": ["Change"]}]}]},
        }))
        .unwrap();
        let a = basis(&profile, &[], &["Done".into(), "Closed".into()]);
        let b = basis(&profile, &[], &["closed".into(), "done".into()]);
        assert_eq!(a, b);
        assert_ne!(
            a,
            basis(&profile, &["customfield_1".into()], &["done".into()])
        );
    }
}
