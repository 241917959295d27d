//! Changelog entries as Jira writes them: the generated history and the control API's edits
//! both record their changes through these builders, so an item's shape has one home.

use crate::model::{Category, ChangeItem, History, Issue, ItemValues, Site, Status};

/// The field a changelog item names: its display name, its id, and whether it is custom.
#[derive(Clone, Copy)]
pub(crate) struct Field<'a> {
    name: &'a str,
    id: &'a str,
    custom: bool,
}

impl<'a> Field<'a> {
    /// A system field whose name in the changelog is its id (`status`, `labels`, …).
    pub(crate) const fn system(id: &'a str) -> Self {
        Self {
            name: id,
            id,
            custom: false,
        }
    }

    /// A system field the changelog names differently from its id (`Component` for
    /// `components`).
    pub(crate) const fn named(name: &'a str, id: &'a str) -> Self {
        Self {
            name,
            id,
            custom: false,
        }
    }

    pub(crate) const fn custom(name: &'a str, id: &'a str) -> Self {
        Self {
            name,
            id,
            custom: true,
        }
    }

    fn item(self, values: ItemValues) -> ChangeItem {
        ChangeItem {
            field: self.name.into(),
            field_id: self.id.into(),
            custom: self.custom,
            values,
        }
    }
}

/// A change of a field that refers to something by id: each side is `(id, display name)`.
pub(crate) fn reference(
    field: Field,
    from: Option<(&str, &str)>,
    to: Option<(&str, &str)>,
) -> ChangeItem {
    field.item(ItemValues::Plain {
        from: from.map(|(id, _)| id.into()),
        from_string: from.map(|(_, name)| name.into()),
        to: to.map(|(id, _)| id.into()),
        to_string: to.map(|(_, name)| name.into()),
    })
}

/// A change of a field recorded by its text only (summary, labels, story points …).
pub(crate) fn text(field: Field, from: Option<&str>, to: Option<&str>) -> ChangeItem {
    field.item(ItemValues::Plain {
        from: None,
        from_string: from.map(String::from),
        to: None,
        to_string: to.map(String::from),
    })
}

/// A change of assignee: the users are rendered with their account ids or names.
pub(crate) fn assignee(from: Option<usize>, to: Option<usize>) -> ChangeItem {
    Field::system("assignee").item(ItemValues::User { from, to })
}

/// A move between two statuses, as one item.
pub(crate) fn status(from: &Status, to: &Status) -> ChangeItem {
    reference(
        Field::system("status"),
        Some((&from.id, &from.name)),
        Some((&to.id, &to.name)),
    )
}

/// Moves an issue to another status as Jira records it: entering Done sets the resolution and
/// resolution date, leaving Done clears them, and the status-category date moves only when the
/// category does. Returns the changelog items.
pub(crate) fn transition(
    issue: &mut Issue,
    from: &Status,
    to: &Status,
    at: i64,
) -> Vec<ChangeItem> {
    const DONE: (&str, &str) = ("10000", "Done");
    let resolution = Field::system("resolution");
    let mut items = Vec::new();
    if to.category == Category::Done && issue.resolution.is_none() {
        items.push(reference(resolution, None, Some(DONE)));
        issue.resolution = Some(DONE.0.into());
        issue.resolved = Some(at);
    } else if to.category != Category::Done && issue.resolution.is_some() {
        items.push(reference(resolution, Some(DONE), None));
        issue.resolution = None;
        issue.resolved = None;
    }
    items.push(status(from, to));
    issue.status = to.id.clone();
    if from.category != to.category {
        issue.status_changed = at;
    }
    items
}

impl Site {
    /// Records `items` on `issue` as one changelog entry with the site's next history id;
    /// nothing is recorded when there are no items.
    pub(crate) fn record_history(
        &mut self,
        issue: &mut Issue,
        author: usize,
        at: i64,
        items: Vec<ChangeItem>,
    ) {
        if items.is_empty() {
            return;
        }
        self.next_history_id += 1;
        issue.histories.push(History {
            id: self.next_history_id,
            author,
            created: at,
            items,
        });
    }
}
