//! Keeps each DORA profile's members in the store, so that a report reads the incidents and
//! change requests of its profile and no other issue. It runs inside the hygiene indexer, under
//! its lease (one run per integration at a time): every issue the indexer evaluates — written
//! since its last run, or read by a build — is classified under every profile too; a profile
//! whose basis changed (new, edited, or the mapping or the site's Done statuses changed) is
//! classified again from every issue, page by page, its position kept in its head so that a run
//! stopped anywhere goes on where it stood. Writing a member is idempotent, so a batch the
//! indexer repeats after a stop is classified again harmlessly.

use std::collections::HashSet;

use super::facts::{DoraFacts, done_statuses};
use super::index::{Classifier, DoraHeads, ProfileHead, not_yet_built};
use crate::hygiene::criteria::Catalog;
use crate::hygiene::index::Build;
use crate::store::{
    DoraStore, IssueStore, RecordKind, RecordStore, StoreResult, StoredIssue, issue_order,
};

/// Issues read per page of a build.
const PAGE: usize = 500;

pub struct Upkeep {
    classifiers: Vec<Classifier>,
    heads: DoraHeads,
}

impl Upkeep {
    /// The integration's profiles as they are kept now, and where their members stand.
    pub async fn open<S: DoraStore + RecordStore + ?Sized>(
        store: &S,
        integration: &str,
        custom_fields: &[String],
    ) -> StoreResult<Upkeep> {
        let config = store
            .get_dora_config(integration)
            .await?
            .unwrap_or_default();
        let done = done_statuses(&store.list_records(integration, RecordKind::Status).await?);
        let classifiers: Vec<Classifier> = config
            .profiles
            .iter()
            .map(|p| Classifier::new(&p.id, &p.item, custom_fields, &done))
            .collect();
        let heads = store.get_dora_heads(integration).await?.unwrap_or_default();
        Ok(Upkeep { classifiers, heads })
    }

    /// Removes the members of profiles no longer kept, and starts classifying again every
    /// profile whose basis changed (its members removed first). Answers whether it did anything.
    pub async fn start_builds<S: DoraStore + ?Sized>(
        &mut self,
        store: &S,
        integration: &str,
    ) -> StoreResult<bool> {
        let kept: HashSet<&str> = self.classifiers.iter().map(|c| c.id.as_str()).collect();
        let gone: Vec<String> = self
            .heads
            .profiles
            .keys()
            .filter(|id| !kept.contains(id.as_str()))
            .cloned()
            .collect();
        let stale: Vec<(String, String)> = self
            .classifiers
            .iter()
            .filter(|c| {
                self.heads
                    .profiles
                    .get(&c.id)
                    .is_none_or(|h| h.basis != c.basis)
            })
            .map(|c| (c.id.clone(), c.basis.clone()))
            .collect();
        if gone.is_empty() && stale.is_empty() {
            return Ok(false);
        }
        for id in &gone {
            clear(store, integration, id).await?;
            self.heads.profiles.remove(id);
        }
        for (id, basis) in stale {
            clear(store, integration, &id).await?;
            let head = ProfileHead {
                basis,
                build: Some(Build::default()),
            };
            self.heads.profiles.insert(id, head);
        }
        store.put_dora_heads(integration, &self.heads).await?;
        Ok(true)
    }

    /// Whether some profile is still being classified from every issue.
    pub fn building(&self) -> bool {
        self.heads.profiles.values().any(|h| h.build.is_some())
    }

    /// Classifies `issues` (each id with the issue as stored now; None when it is gone) under
    /// every profile, and keeps what changed.
    pub async fn note<S: DoraStore + ?Sized>(
        &mut self,
        store: &S,
        integration: &str,
        catalog: &Catalog,
        issues: &[(&str, Option<&StoredIssue>)],
    ) -> StoreResult<()> {
        for c in &self.classifiers {
            let known = known(store, integration, &c.id, issues.iter().map(|(id, _)| *id)).await?;
            let writes = classify(c, catalog, &known, issues.iter().copied());
            store.put_dora_members(integration, &c.id, &writes).await?;
        }
        Ok(())
    }

    /// One page of the builds: the issues after the earliest build's position, classified under
    /// each profile that has yet to read them. Answers the issues read (0: every build is done).
    pub async fn build_page<S: DoraStore + IssueStore + ?Sized>(
        &mut self,
        store: &S,
        integration: &str,
        catalog: &Catalog,
    ) -> StoreResult<usize> {
        let start = self
            .heads
            .profiles
            .values()
            .filter_map(|h| h.build.as_ref())
            .map(|b| b.after.clone())
            .min_by_key(|after| after.as_deref().map(issue_order));
        let Some(start) = start else {
            return Ok(0);
        };
        let page = store
            .list_issues(integration, start.as_deref(), PAGE)
            .await?;
        for c in &self.classifiers {
            let Some(build) = self.heads.profiles.get(&c.id).and_then(|h| h.build.clone()) else {
                continue;
            };
            let unread: Vec<(&str, Option<&StoredIssue>)> = page
                .iter()
                .filter(|i| not_yet_built(&build, &i.id))
                .map(|i| (i.id.as_str(), Some(i)))
                .collect();
            let known = known(store, integration, &c.id, unread.iter().map(|(id, _)| *id)).await?;
            let writes = classify(c, catalog, &known, unread.into_iter());
            store.put_dora_members(integration, &c.id, &writes).await?;
        }
        for head in self.heads.profiles.values_mut() {
            let Some(build) = head.build.as_mut() else {
                continue;
            };
            match page.last() {
                None => head.build = None,
                Some(last) if not_yet_built(build, &last.id) => {
                    build.after = Some(last.id.clone());
                }
                Some(_) => {}
            }
        }
        store.put_dora_heads(integration, &self.heads).await?;
        Ok(page.len())
    }
}

/// The writes that bring the issues' membership to their facts: `known` holds those of them
/// that are members now, so an issue that leaves is removed and no write is made for issues
/// that never were members.
fn classify<'a>(
    classifier: &Classifier,
    catalog: &Catalog,
    known: &HashSet<String>,
    issues: impl Iterator<Item = (&'a str, Option<&'a StoredIssue>)>,
) -> Vec<(String, Option<DoraFacts>)> {
    let mut writes = Vec::new();
    for (id, issue) in issues {
        match issue.and_then(|i| classifier.member(i, catalog)) {
            Some(facts) => writes.push((id.to_string(), Some(facts))),
            None if known.contains(id) => writes.push((id.to_string(), None)),
            None => {}
        }
    }
    writes
}

/// Those of `ids` that are members of the profile now: asked per batch, so a run holds no more
/// member ids than a batch has issues.
async fn known<'a, S: DoraStore + ?Sized>(
    store: &S,
    integration: &str,
    profile: &str,
    ids: impl Iterator<Item = &'a str>,
) -> StoreResult<HashSet<String>> {
    let ids: Vec<&str> = ids.collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(store
        .dora_members_among(integration, profile, &ids)
        .await?
        .into_iter()
        .collect())
}

/// Removes every member of the profile, as the store holds them.
async fn clear<S: DoraStore + ?Sized>(
    store: &S,
    integration: &str,
    profile: &str,
) -> StoreResult<()> {
    let gone: Vec<(String, Option<DoraFacts>)> = store
        .list_dora_members(integration, profile)
        .await?
        .into_iter()
        .map(|f| (f.id, None))
        .collect();
    store.put_dora_members(integration, profile, &gone).await
}
