//! `ORDER BY`: how each field sorts issues, as Jira sorts them.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::NaiveDate;

use super::field::Field;
use crate::model::{Issue, Site};

/// One key of an `ORDER BY`.
pub(super) type Cmp = Box<dyn Fn(&Site, &Issue, &Issue) -> Ordering + Send + Sync>;

/// Ranks of names in sort order, so comparisons during a sort never touch strings.
fn ranks<'a>(names: impl Iterator<Item = (String, &'a str)>) -> HashMap<String, usize> {
    let mut list: Vec<(String, &str)> = names.collect();
    list.sort_by(|a, b| a.1.cmp(b.1));
    list.into_iter()
        .enumerate()
        .map(|(rank, (id, _))| (id, rank))
        .collect()
}

/// The rank of `id`; an id without one sorts last.
fn rank_of(ranks: &HashMap<String, usize>, id: &str) -> usize {
    ranks.get(id).copied().unwrap_or(usize::MAX)
}

/// Orders issues by `key`, descending when `desc`.
fn by<K: Ord>(desc: bool, key: impl Fn(&Site, &Issue) -> K + Send + Sync + 'static) -> Cmp {
    Box::new(move |s, a, b| {
        let o = key(s, a).cmp(&key(s, b));
        if desc { o.reverse() } else { o }
    })
}

/// Orders issues by the name of the `(id, name)` item that `id_of` gives the id of.
fn by_name<'a>(
    desc: bool,
    items: impl Iterator<Item = (&'a String, &'a String)>,
    id_of: fn(&Issue) -> &String,
) -> Cmp {
    let r = ranks(items.map(|(id, name)| (id.clone(), name.as_str())));
    by(desc, move |_, i| rank_of(&r, id_of(i)))
}

pub(super) fn comparator(f: Field, desc: bool, site: &Site) -> Option<Cmp> {
    let mut by_key: Vec<(&str, u64)> = site
        .projects
        .iter()
        .map(|p| (p.key.as_str(), p.id))
        .collect();
    by_key.sort();
    let project_rank: HashMap<u64, usize> = by_key
        .iter()
        .enumerate()
        .map(|(rank, (_, id))| (*id, rank))
        .collect();
    let project_of = move |i: &Issue| {
        project_rank
            .get(&i.project_id)
            .copied()
            .unwrap_or(usize::MAX)
    };
    Some(match f {
        Field::Key => by(desc, move |_, i| (project_of(i), i.number)),
        Field::Project => by(desc, move |_, i| project_of(i)),
        Field::Id => by(desc, |_, i| i.id),
        Field::Created => by(desc, |_, i| i.created),
        Field::Updated => by(desc, |_, i| i.updated),
        // Issues without a value sort last ascending, as Jira does.
        Field::Resolved => by(desc, |_, i| i.resolved.unwrap_or(i64::MAX)),
        Field::DueDate => by(desc, |_, i| i.due_date.unwrap_or(NaiveDate::MAX)),
        // Priority ids run from Highest (1) down; Jira sorts ASC from the least important up.
        Field::Priority => by(desc, |_, i| {
            std::cmp::Reverse(i.priority.parse::<u32>().unwrap_or(u32::MAX))
        }),
        Field::Status => by_name(desc, site.statuses.iter().map(|s| (&s.id, &s.name)), |i| {
            &i.status
        }),
        Field::IssueType => by_name(
            desc,
            site.issue_types.iter().map(|t| (&t.id, &t.name)),
            |i| &i.issue_type,
        ),
        Field::Assignee => {
            let r = ranks(
                site.users
                    .iter()
                    .enumerate()
                    .map(|(n, u)| (n.to_string(), u.display_name.as_str())),
            );
            let by_index: Vec<usize> = (0..site.users.len()).map(|n| r[&n.to_string()]).collect();
            by(desc, move |_, i| {
                i.assignee.map(|u| by_index[u]).unwrap_or(usize::MAX)
            })
        }
        Field::Summary => by(desc, |_, i| i.summary.clone()),
        _ => return None,
    })
}
