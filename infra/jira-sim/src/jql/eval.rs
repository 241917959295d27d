//! JQL semantics: resolving values against the site as the searching user sees it, and
//! evaluating clauses on issues. Dates are read in `dates`, `ORDER BY` keys built in `order`.

use std::cmp::Ordering;
use std::collections::HashSet;

use chrono::{NaiveTime, TimeZone};

use super::dates::date_value;
use super::field::{Field, SearchContext, field};
use super::order::{Cmp, comparator};
use super::parse::{Clause, Operand, Operator, Query};
use crate::model::{Category, Issue, Site};

type Pred = Box<dyn Fn(&Site, &Issue) -> bool + Send + Sync>;

pub struct Compiled {
    pred: Option<Pred>,
    order: Vec<Cmp>,
}

impl Compiled {
    pub fn matches(&self, site: &Site, issue: &Issue) -> bool {
        self.pred.as_ref().is_none_or(|p| p(site, issue))
    }

    /// Orders issues; without ORDER BY, newest first (created DESC), ties by id.
    pub fn sort(&self, site: &Site, issues: &mut [&Issue]) {
        issues.sort_by(|a, b| {
            for cmp in &self.order {
                let o = cmp(site, a, b);
                if o != Ordering::Equal {
                    return o;
                }
            }
            if self.order.is_empty() {
                b.created.cmp(&a.created).then(b.id.cmp(&a.id))
            } else {
                a.id.cmp(&b.id)
            }
        });
    }
}

fn field_missing(name: &str) -> String {
    format!("Field '{name}' does not exist or you do not have permission to view it.")
}

fn value_missing(value: &str, field: &str) -> String {
    format!("The value '{value}' does not exist for the field '{field}'.")
}

/// Checks a parsed query against the site. `Err` holds Jira's messages; `Ok` is ready to run.
pub fn compile(query: &Query, site: &Site, ctx: SearchContext) -> Result<Compiled, Vec<String>> {
    let mut errors = Vec::new();
    let pred = query
        .clause
        .as_ref()
        .map(|c| clause(c, site, ctx, &mut errors));
    let mut order = Vec::new();
    for o in &query.order_by {
        match field(&o.field, site).and_then(|f| comparator(f, o.descending.unwrap_or(false), site))
        {
            Some(c) => order.push(c),
            None => errors.push(format!("Not able to sort using field '{}'.", o.field)),
        }
    }
    if errors.is_empty() {
        Ok(Compiled { pred, order })
    } else {
        Err(errors)
    }
}

fn clause(c: &Clause, site: &Site, ctx: SearchContext, errors: &mut Vec<String>) -> Pred {
    match c {
        Clause::And(parts) => {
            let preds: Vec<Pred> = parts.iter().map(|p| clause(p, site, ctx, errors)).collect();
            Box::new(move |s, i| preds.iter().all(|p| p(s, i)))
        }
        Clause::Or(parts) => {
            let preds: Vec<Pred> = parts.iter().map(|p| clause(p, site, ctx, errors)).collect();
            Box::new(move |s, i| preds.iter().any(|p| p(s, i)))
        }
        // Jira pushes NOT down to the terms and flips their operators (De Morgan), so that
        // `NOT assignee = x` excludes unassigned issues exactly as `assignee != x` does.
        Clause::Not(inner) => clause(&negate(inner), site, ctx, errors),
        Clause::Term {
            field: name,
            operator,
            operand,
        } => match term(name, operator, operand, site, ctx) {
            Ok(p) => p,
            Err(e) => {
                errors.push(e);
                Box::new(|_, _| false)
            }
        },
    }
}

fn negate(c: &Clause) -> Clause {
    match c {
        Clause::And(parts) => Clause::Or(parts.iter().map(negate).collect()),
        Clause::Or(parts) => Clause::And(parts.iter().map(negate).collect()),
        Clause::Not(inner) => (**inner).clone(),
        Clause::Term {
            field,
            operator,
            operand,
        } => Clause::Term {
            field: field.clone(),
            operator: match operator {
                Operator::Eq => Operator::Ne,
                Operator::Ne => Operator::Eq,
                Operator::Gt => Operator::Le,
                Operator::Le => Operator::Gt,
                Operator::Lt => Operator::Ge,
                Operator::Ge => Operator::Lt,
                Operator::Like => Operator::NotLike,
                Operator::NotLike => Operator::Like,
                Operator::In => Operator::NotIn,
                Operator::NotIn => Operator::In,
                Operator::Is => Operator::IsNot,
                Operator::IsNot => Operator::Is,
            },
            operand: operand.clone(),
        },
    }
}

fn literals(operand: &Operand) -> Vec<&Operand> {
    match operand {
        Operand::List(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn term(
    name: &str,
    op: &Operator,
    operand: &Operand,
    site: &Site,
    ctx: SearchContext,
) -> Result<Pred, String> {
    let f = field(name, site).ok_or_else(|| field_missing(name))?;
    let unsupported = || format!("The operator '{op}' is not supported by the '{name}' field.");
    let list_op = matches!(op, Operator::In | Operator::NotIn);
    if list_op != matches!(operand, Operand::List(_))
        && !matches!(operand, Operand::Function { .. })
        && !matches!(op, Operator::Is | Operator::IsNot)
    {
        return Err(if list_op {
            format!(
                "Operator '{op}' does not support the non-list value '\"{}\"' for field '{name}'.",
                operand.text()
            )
        } else {
            format!(
                "Operator '{op}' does not support the list value '{}' for field '{name}'.",
                operand.text()
            )
        });
    }
    if matches!(op, Operator::Is | Operator::IsNot) && *operand != Operand::Empty {
        return Err(format!(
            "The operator '{op}' only supports EMPTY or NULL for field '{name}'."
        ));
    }
    match f {
        Field::Created | Field::Updated | Field::Resolved | Field::DueDate => {
            date_term(f, name, op, operand, ctx)
        }
        Field::Summary | Field::Description | Field::Text => {
            if !matches!(
                op,
                Operator::Like | Operator::NotLike | Operator::Is | Operator::IsNot
            ) {
                return Err(unsupported());
            }
            if matches!(op, Operator::Is | Operator::IsNot) {
                let want_empty = matches!(op, Operator::Is | Operator::Eq);
                return Ok(Box::new(move |_, i| {
                    let empty = match f {
                        Field::Description => i.description.is_none(),
                        _ => i.summary.is_empty(),
                    };
                    empty == want_empty
                }));
            }
            let needle = operand.text().to_lowercase();
            let negate = *op == Operator::NotLike;
            Ok(Box::new(move |_, i| {
                let mut hay = String::new();
                if f != Field::Description {
                    hay.push_str(&i.summary);
                }
                if let Some(d) = i.description.as_ref().filter(|_| f != Field::Summary) {
                    hay.push(' ');
                    hay.push_str(&crate::model::plain_text(d));
                }
                if f == Field::Text {
                    for c in &i.comments {
                        hay.push(' ');
                        hay.push_str(&crate::model::plain_text(&c.body));
                    }
                }
                hay.to_lowercase().contains(&needle) != negate
            }))
        }
        Field::Key | Field::Id => key_term(f, name, op, operand, site, ctx),
        _ => {
            if matches!(
                op,
                Operator::Gt
                    | Operator::Ge
                    | Operator::Lt
                    | Operator::Le
                    | Operator::Like
                    | Operator::NotLike
            ) {
                return Err(unsupported());
            }
            let mut wanted: HashSet<String> = HashSet::new();
            let mut empty = false;
            for lit in literals(operand) {
                match lit {
                    Operand::Empty => empty = true,
                    // `resolution = Unresolved` is Jira's built-in spelling of EMPTY.
                    Operand::Value { text, .. }
                        if f == Field::Resolution && text.eq_ignore_ascii_case("unresolved") =>
                    {
                        empty = true
                    }
                    other => {
                        let ids = resolve(f, other, site, ctx);
                        // Anonymous callers (including rejected credentials) get empty
                        // results rather than an error, as Jira's anonymous search does;
                        // a function that yields nothing (no open sprint) matches nothing.
                        let function = matches!(other, Operand::Function { .. });
                        if ids.is_empty() && ctx.user.is_some() && !function {
                            return Err(value_missing(&other.text(), name));
                        }
                        wanted.extend(ids);
                    }
                }
            }
            let positive = matches!(op, Operator::Eq | Operator::In | Operator::Is);
            Ok(Box::new(move |s, i| {
                let values = current_values(f, s, i);
                let hit = (empty && values.is_empty()) || values.iter().any(|v| wanted.contains(v));
                // Jira: `!=` and `NOT IN` never match issues whose field is EMPTY.
                if positive {
                    hit
                } else {
                    !hit && (empty || !values.is_empty())
                }
            }))
        }
    }
}

/// The canonical values (ids) an issue has for a set-like field.
fn current_values(f: Field, site: &Site, i: &Issue) -> Vec<String> {
    match f {
        Field::Project => vec![i.project_id.to_string()],
        Field::IssueType => vec![i.issue_type.clone()],
        Field::Status => vec![i.status.clone()],
        Field::StatusCategory => vec![site.status(&i.status).category.id().to_string()],
        Field::Priority => vec![i.priority.clone()],
        Field::Resolution => i.resolution.iter().cloned().collect(),
        Field::Labels => i.labels.clone(),
        Field::Assignee => i.assignee.map(|u| u.to_string()).into_iter().collect(),
        Field::Reporter => vec![i.reporter.to_string()],
        Field::Parent => i.parent.map(|p| p.to_string()).into_iter().collect(),
        Field::Sprint => i.sprints.iter().map(u64::to_string).collect(),
        Field::Component => i.components.clone(),
        Field::FixVersion => i.fix_versions.clone(),
        _ => Vec::new(),
    }
}

/// Resolves one operand to the canonical ids it names, as the searching user can see them.
/// The ids of the `(id, name)` items that `text` names, by id or by name in any case.
fn named<'a>(items: impl Iterator<Item = (&'a String, &'a String)>, text: &str) -> Vec<String> {
    items
        .filter(|(id, name)| name.eq_ignore_ascii_case(text) || *id == text)
        .map(|(id, _)| id.clone())
        .collect()
}

fn resolve(f: Field, o: &Operand, site: &Site, ctx: SearchContext) -> Vec<String> {
    let text = match o {
        Operand::Value { text, .. } => text.clone(),
        Operand::Function { name, .. } if name.eq_ignore_ascii_case("currentUser") => {
            return ctx.user.map(|u| u.to_string()).into_iter().collect();
        }
        Operand::Function { name, .. }
            if f == Field::Sprint && name.eq_ignore_ascii_case("openSprints") =>
        {
            return site
                .sprints
                .iter()
                .filter(|s| s.state(ctx.now_ms) == "active")
                .map(|s| s.id.to_string())
                .collect();
        }
        _ => return Vec::new(),
    };
    let eq = |a: &str| a.eq_ignore_ascii_case(&text);
    match f {
        Field::Project => site
            .projects
            .iter()
            .filter(|p| eq(&p.key) || eq(&p.name) || p.id.to_string() == text)
            .filter(|p| site.can_browse(ctx.user, p))
            .map(|p| p.id.to_string())
            .collect(),
        Field::IssueType => named(site.issue_types.iter().map(|t| (&t.id, &t.name)), &text),
        Field::Status => named(site.statuses.iter().map(|s| (&s.id, &s.name)), &text),
        Field::StatusCategory => Category::ALL
            .iter()
            .filter(|c| eq(c.name()) || eq(c.key()) || c.id().to_string() == text)
            .map(|c| c.id().to_string())
            .collect(),
        Field::Priority => named(site.priorities.iter().map(|p| (&p.id, &p.name)), &text),
        Field::Resolution => named(site.resolutions.iter().map(|r| (&r.id, &r.name)), &text),
        Field::Labels => vec![text.clone()],
        Field::Assignee | Field::Reporter => site
            .user_index(&text)
            .map(|u| u.to_string())
            .into_iter()
            .collect(),
        Field::Parent => site
            .find_issue(&text)
            .filter(|i| site.can_see_issue(ctx.user, i))
            .map(|i| i.id.to_string())
            .into_iter()
            .collect(),
        Field::Sprint => site
            .sprints
            .iter()
            .filter(|s| eq(&s.name) || s.id.to_string() == text)
            .map(|s| s.id.to_string())
            .collect(),
        Field::Component => {
            let components = site.projects.iter().flat_map(|p| &p.components);
            named(components.map(|c| (&c.id, &c.name)), &text)
        }
        Field::FixVersion => {
            let versions = site.projects.iter().flat_map(|p| &p.versions);
            named(versions.map(|v| (&v.id, &v.name)), &text)
        }
        _ => Vec::new(),
    }
}

fn compare(op: &Operator, o: Ordering) -> bool {
    match op {
        Operator::Eq | Operator::In => o == Ordering::Equal,
        Operator::Ne | Operator::NotIn => o != Ordering::Equal,
        Operator::Gt => o == Ordering::Greater,
        Operator::Ge => o != Ordering::Less,
        Operator::Lt => o == Ordering::Less,
        Operator::Le => o != Ordering::Greater,
        _ => false,
    }
}

fn key_term(
    f: Field,
    name: &str,
    op: &Operator,
    operand: &Operand,
    site: &Site,
    ctx: SearchContext,
) -> Result<Pred, String> {
    if matches!(
        op,
        Operator::Like | Operator::NotLike | Operator::Is | Operator::IsNot
    ) {
        return Err(format!(
            "The operator '{op}' is not supported by the '{name}' field."
        ));
    }
    let equality = matches!(
        op,
        Operator::Eq | Operator::In | Operator::Ne | Operator::NotIn
    );
    // Each literal becomes (project id, number) for keys, or an id.
    let mut targets = Vec::new();
    for lit in literals(operand) {
        let text = lit.text();
        let target = if f == Field::Id {
            text.parse::<u64>().ok().map(|id| (0, id))
        } else {
            let (project, number) = text.rsplit_once('-').unwrap_or(("", ""));
            match (site.project_by_key_or_id(project), number.parse::<u64>()) {
                (Some(p), Ok(n)) if site.can_browse(ctx.user, p) => {
                    // An old key of a moved issue resolves to the issue's current key.
                    match site
                        .keys
                        .get(&text.to_ascii_uppercase())
                        .and_then(|id| site.issues.get(id))
                    {
                        Some(i) if equality => Some((i.project_id, i.number)),
                        // Equality on a key that no issue has (or had) is an error in Jira.
                        None if equality => None,
                        _ => Some((p.id, n)),
                    }
                }
                _ => None,
            }
        };
        match target {
            Some(t) => targets.push(t),
            None if ctx.user.is_none() => targets.push((u64::MAX, u64::MAX)),
            None if f == Field::Id => {
                return Err(format!(
                    "The value '{text}' is not valid for the field 'id'."
                ));
            }
            None => {
                return Err(format!(
                    "An issue with key '{text}' does not exist for field '{name}'."
                ));
            }
        }
    }
    let op = op.clone();
    let negative = matches!(op, Operator::Ne | Operator::NotIn);
    Ok(Box::new(move |_, i| {
        let test = |&(project, number): &(u64, u64)| {
            if f == Field::Id {
                compare(&op, i.id.cmp(&number))
            } else if project != i.project_id {
                // Ordering comparisons only relate keys of the same project.
                matches!(op, Operator::Ne | Operator::NotIn)
            } else {
                compare(&op, i.number.cmp(&number))
            }
        };
        if negative {
            targets.iter().all(test)
        } else {
            targets.iter().any(test)
        }
    }))
}

fn date_term(
    f: Field,
    name: &str,
    op: &Operator,
    operand: &Operand,
    ctx: SearchContext,
) -> Result<Pred, String> {
    if matches!(op, Operator::Like | Operator::NotLike) {
        return Err(format!(
            "The operator '{op}' is not supported by the '{name}' field."
        ));
    }
    let get = move |i: &Issue| -> Option<i64> {
        match f {
            Field::Created => Some(i.created),
            Field::Updated => Some(i.updated),
            Field::Resolved => i.resolved,
            _ => i.due_date.map(|d| {
                ctx.zone
                    .from_local_datetime(&d.and_time(NaiveTime::MIN))
                    .earliest()
                    .map(|t| t.timestamp_millis())
                    .unwrap_or(0)
            }),
        }
    };
    if *operand == Operand::Empty {
        let want_empty = matches!(op, Operator::Is | Operator::Eq);
        return Ok(Box::new(move |_, i| get(i).is_none() == want_empty));
    }
    let mut instants = Vec::new();
    for lit in literals(operand) {
        instants.push(date_value(lit, name, ctx)?);
    }
    let op = op.clone();
    let exact = matches!(
        op,
        Operator::Eq | Operator::Ne | Operator::In | Operator::NotIn
    );
    let negative = matches!(op, Operator::Ne | Operator::NotIn);
    Ok(Box::new(move |_, i| {
        let Some(t) = get(i) else { return false };
        let test = |at: &i64| {
            if exact {
                // A literal names a whole minute.
                let inside = t >= *at && t < at.saturating_add(60_000);
                inside != negative
            } else {
                compare(&op, t.cmp(at))
            }
        };
        if negative {
            instants.iter().all(test)
        } else {
            instants.iter().any(test)
        }
    }))
}
