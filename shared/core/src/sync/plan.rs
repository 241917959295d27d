//! What a sync asks Jira for: scope units and their JQL, the field list (custom fields resolved
//! through `/field`), and what excluded fields remove. Pure functions.

use serde::{Deserialize, Serialize};

use crate::jira::models::FieldDetails;
use crate::store::ScopeConfig;

/// Which issues an integration ingests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Projects(Vec<String>),
    Jql(String),
    AllAccessible,
}

impl From<&ScopeConfig> for Scope {
    fn from(config: &ScopeConfig) -> Scope {
        match config {
            ScopeConfig::Projects { keys } => Scope::Projects(keys.clone()),
            ScopeConfig::Jql { jql } => Scope::Jql(jql.clone()),
            ScopeConfig::AllAccessible => Scope::AllAccessible,
        }
    }
}

/// Text fields a customer may keep out of the store entirely.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    pub summary: bool,
    pub description: bool,
    pub comments: bool,
}

impl Excluded {
    /// Removes the excluded text fields (summary, description) from a field map.
    pub fn drop_text(&self, fields: &mut serde_json::Map<String, serde_json::Value>) {
        if self.summary {
            fields.remove("summary");
        }
        if self.description {
            fields.remove("description");
        }
    }

    /// Whether Jira's field `id` is one these exclusions keep out of requests and the store.
    pub fn keeps_out(&self, id: &str) -> bool {
        match id {
            "summary" => self.summary,
            "description" => self.description,
            "comment" => self.comments,
            _ => false,
        }
    }

    /// The fields that can be excluded: the names [`Excluded::parse`] reads, with their titles.
    pub const CHOICES: [(&'static str, &'static str); 3] = [
        ("summary", "Summary"),
        ("description", "Description"),
        ("comments", "Comments"),
    ];

    /// Parses `summary,description,comments` (the CLI's `--exclude`).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut e = Excluded::default();
        for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.to_ascii_lowercase().as_str() {
                "summary" => e.summary = true,
                "description" => e.description = true,
                "comments" | "comment" => e.comments = true,
                other => {
                    return Err(format!(
                        "unknown field '{other}': choose from summary, description, comments"
                    ));
                }
            }
        }
        Ok(e)
    }

    /// The names [`Excluded::parse`] reads, of the fields excluded.
    pub fn names(&self) -> Vec<String> {
        [
            (self.summary, "summary"),
            (self.description, "description"),
            (self.comments, "comments"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| name.to_string())
        .collect()
    }

    /// The fields either keeps out.
    pub fn or(&self, other: &Excluded) -> Excluded {
        Excluded {
            summary: self.summary || other.summary,
            description: self.description || other.description,
            comments: self.comments || other.comments,
        }
    }

    /// Whether these exclusions keep out a field that `other` lets in.
    pub fn beyond(&self, other: &Excluded) -> bool {
        (self.summary && !other.summary)
            || (self.description && !other.description)
            || (self.comments && !other.comments)
    }

    /// Whether a changelog item about `field_id`/`field` must be dropped.
    pub fn drops_item(&self, field_id: Option<&str>, field: &str) -> bool {
        let name = field_id.unwrap_or(field).to_ascii_lowercase();
        (self.summary && name == "summary") || (self.description && name == "description")
    }
}

/// One unit of sync work with its own cursor and lease: a project, or the JQL filter.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// Stable name, its cursor's and lease's: the project key, or `jql-` and a digest of the
    /// filter (a changed filter is a new unit, read from the start).
    pub name: String,
    /// The restriction, without ORDER BY.
    pub jql: String,
    pub project: Option<String>,
}

impl Unit {
    pub fn project(key: &str) -> Self {
        Unit {
            name: key.to_string(),
            jql: format!("project = \"{}\"", key.replace('"', "\\\"")),
            project: Some(key.to_string()),
        }
    }
    pub fn filter(jql: &str) -> Self {
        let jql = strip_order_by(jql);
        // Name-based (SHA-1), so the same filter has the same name in every run and release.
        let digest = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, jql.as_bytes()).simple();
        Unit {
            name: format!("jql-{}", &digest.to_string()[..16]),
            jql,
            project: None,
        }
    }

    /// `({restriction}) [AND updated >= ms] AND id > last ORDER BY id ASC`: ids only grow, so
    /// edits between pages never shift what is left to read, and a restart resumes at `last`.
    /// Epoch milliseconds are zone-free, unlike date literals (read in the user's zone).
    pub fn scan_jql(&self, updated_since_ms: Option<i64>, after_id: u64) -> String {
        format!(
            "{} ORDER BY id ASC",
            self.restriction(updated_since_ms, after_id)
        )
    }

    /// The unit's issues created before `ms`: what a listing that started then must have found
    /// at least (issues deleted meanwhile aside, which only make it find more).
    pub fn created_before(&self, ms: i64) -> String {
        format!("({}) AND created < {ms}", self.jql)
    }

    /// The issues a scan from `after_id` reads, unordered (what a count is asked for).
    pub fn restriction(&self, updated_since_ms: Option<i64>, after_id: u64) -> String {
        let mut q = format!("({})", self.jql);
        if let Some(ms) = updated_since_ms {
            q.push_str(&format!(" AND updated >= {ms}"));
        }
        format!("{q} AND id > {after_id}")
    }
}

/// Removes a trailing `ORDER BY …` (outside quotes) from a user's JQL.
pub fn strip_order_by(jql: &str) -> String {
    let lower = jql.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(_) if c == b'\\' => i += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            // Bytes, not str slices: `i` may fall inside a multi-byte character, and "order"
            // is ASCII, so a match always starts on a character boundary.
            None if bytes[i..].starts_with(b"order")
                && (i == 0 || bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b')') =>
            {
                let rest = bytes[i + 5..].trim_ascii_start();
                if rest.starts_with(b"by") {
                    return jql[..i].trim().to_string();
                }
            }
            None => {}
        }
        i += 1;
    }
    jql.trim().to_string()
}

/// Custom fields resolved for this site.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldMap {
    /// Every field that can hold story points, in the order an issue's story points are read
    /// (the first with a value counts; see [`resolve_fields`]).
    pub story_points: Vec<String>,
    pub sprint: Option<String>,
    /// Every company-managed epic link field (a team-managed epic child names its epic as its
    /// parent instead).
    pub epic_link: Vec<String>,
    /// User-mapped custom fields: (what the user asked for, resolved field id).
    pub mapped: Vec<(String, String)>,
}

const STORY_POINTS_TYPE: &str = "com.pyxis.greenhopper.jira:jsw-story-points";
const SPRINT_TYPE: &str = "com.pyxis.greenhopper.jira:gh-sprint";
const EPIC_LINK_TYPE: &str = "com.pyxis.greenhopper.jira:gh-epic-link";

/// Resolves story points, sprint, epic link and the user's mappings (names or ids) from `/field`.
///
/// Story points: every field that can hold them is fetched, and an issue's story points are the
/// first of them with a value, in this order: a field the user maps explicitly; numeric custom
/// fields named "Story Points" (any case; the established product's default); fields of the
/// `jsw-story-points` type (team-managed "Story point estimate"); numeric fields named "Story
/// point estimate".
pub fn resolve_fields(fields: &[FieldDetails], wanted: &[String]) -> Result<FieldMap, String> {
    let by_type = |t: &str| {
        fields
            .iter()
            .find(|f| f.schema.as_ref().and_then(|s| s.custom.as_deref()) == Some(t))
            .map(|f| f.id.clone())
    };
    let numeric_named = |name: &'static str| {
        fields
            .iter()
            .filter(move |f| {
                f.custom
                    && f.name.trim().eq_ignore_ascii_case(name)
                    && f.schema.as_ref().is_some_and(|s| s.kind == "number")
            })
            .map(|f| f.id.clone())
    };
    let of_type = fields
        .iter()
        .filter(|f| f.schema.as_ref().and_then(|s| s.custom.as_deref()) == Some(STORY_POINTS_TYPE))
        .map(|f| f.id.clone());
    // Real sites often have both the company-managed "Story Points" (the established
    // product's default) and the team-managed "Story point estimate", with values in either.
    let mut story_points: Vec<String> = Vec::new();
    for id in numeric_named("story points")
        .chain(of_type)
        .chain(numeric_named("story point estimate"))
    {
        if !story_points.contains(&id) {
            story_points.push(id);
        }
    }
    let mut mapped = Vec::new();
    let mut unknown = Vec::new();
    for w in wanted {
        match fields
            .iter()
            .find(|f| f.id.eq_ignore_ascii_case(w) || f.name.eq_ignore_ascii_case(w))
        {
            Some(f) => mapped.push((w.clone(), f.id.clone())),
            None => unknown.push(w.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "unknown custom field(s): {} (see the site's field list)",
            unknown.join(", ")
        ));
    }
    // A story points field the user maps explicitly is read first.
    for (_, id) in mapped.iter().rev() {
        if let Some(at) = story_points.iter().position(|s| s == id) {
            let chosen = story_points.remove(at);
            story_points.insert(0, chosen);
        }
    }
    Ok(FieldMap {
        story_points,
        sprint: by_type(SPRINT_TYPE),
        epic_link: fields
            .iter()
            .filter(|f| f.schema.as_ref().and_then(|s| s.custom.as_deref()) == Some(EPIC_LINK_TYPE))
            .map(|f| f.id.clone())
            .collect(),
        mapped,
    })
}

const SYSTEM_FIELDS: &[&str] = &[
    "issuetype",
    "project",
    "status",
    "statuscategorychangedate",
    "priority",
    "resolution",
    "resolutiondate",
    "created",
    "updated",
    "assignee",
    "reporter",
    "creator",
    "labels",
    "components",
    "fixVersions",
    "duedate",
    "parent",
    "issuelinks",
    "subtasks",
];

/// The explicit field list to request: never `*all`/`*navigable`, so excluded fields are never
/// even requested.
pub fn requested_fields(map: &FieldMap, excluded: &Excluded) -> Vec<String> {
    let mut f: Vec<String> = SYSTEM_FIELDS.iter().map(|s| s.to_string()).collect();
    if !excluded.summary {
        f.push("summary".into());
    }
    if !excluded.description {
        f.push("description".into());
    }
    if !excluded.comments {
        f.push("comment".into());
    }
    for id in map
        .story_points
        .iter()
        .chain(map.sprint.iter())
        .chain(map.epic_link.iter())
    {
        f.push(id.clone());
    }
    // A mapping can never bring an excluded field back into a request.
    for (_, id) in &map.mapped {
        if !f.contains(id) && !excluded.keeps_out(id) {
            f.push(id.clone());
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::models::FieldSchema;

    #[test]
    fn scan_queries_are_zone_free_and_resumable() {
        let u = Unit::project("PLAT");
        assert_eq!(
            u.scan_jql(Some(1_700_000_000_000), 10_042),
            "(project = \"PLAT\") AND updated >= 1700000000000 AND id > 10042 ORDER BY id ASC"
        );
        let f = Unit::filter("project in (A, B) AND summary ~ \"order by\" ORDER BY created DESC");
        // Non-ASCII text outside quotes (found by tests/properties.rs: it used to panic).
        assert_eq!(strip_order_by("project = ÄB ORDER BY x"), "project = ÄB");
        assert_eq!(strip_order_by(">\u{80}Ⱥ\\"), ">\u{80}Ⱥ\\");
        assert_eq!(f.jql, "project in (A, B) AND summary ~ \"order by\"");
        // A filter's unit is named for the filter alone: its order does not matter, its
        // restriction does.
        assert_eq!(
            f.name,
            Unit::filter("project in (A, B) AND summary ~ \"order by\"").name
        );
        assert_ne!(f.name, Unit::filter("project in (A, B)").name);
        assert!(f.name.starts_with("jql-"), "{}", f.name);
    }

    #[test]
    fn excluded_names_read_back_as_the_same_exclusions() {
        for list in [
            "",
            "summary",
            "description,comments",
            "summary,description,comments",
        ] {
            let e = Excluded::parse(list).unwrap();
            assert_eq!(Excluded::parse(&e.names().join(",")).unwrap(), e, "{list}");
            assert_eq!(e.names().join(","), list);
        }
    }

    #[test]
    fn excluded_fields_are_never_requested() {
        let e = Excluded::parse("summary, description,comments").unwrap();
        // Even when a mapping names them.
        let map = FieldMap {
            mapped: vec![
                ("Summary".into(), "summary".into()),
                ("Description".into(), "description".into()),
                ("Comment".into(), "comment".into()),
                ("Severity".into(), "customfield_10050".into()),
            ],
            ..FieldMap::default()
        };
        let f = requested_fields(&map, &e);
        assert!(f.contains(&"customfield_10050".to_string()));
        assert!(
            !f.iter().any(|x| x == "summary"
                || x == "description"
                || x == "comment"
                || x.starts_with('*'))
        );
        assert!(
            Excluded::parse("summary,body")
                .unwrap_err()
                .contains("body")
        );
        assert!(
            e.drops_item(Some("description"), "description")
                && !e.drops_item(Some("status"), "status")
        );
    }

    #[test]
    fn custom_fields_resolve_by_type_then_name() {
        let field = |id: &str, name: &str, custom: Option<&str>, kind: &str| FieldDetails {
            id: id.into(),
            name: name.into(),
            custom: true,
            schema: Some(FieldSchema {
                kind: kind.into(),
                custom: custom.map(String::from),
                ..FieldSchema::default()
            }),
        };
        let fields = vec![
            field(
                "customfield_10018",
                "Story Points",
                Some("com.atlassian.jira.plugin.system.customfieldtypes:float"),
                "number",
            ),
            field(
                "customfield_10016",
                "Story point estimate",
                Some(STORY_POINTS_TYPE),
                "number",
            ),
            field("customfield_10020", "Sprint", Some(SPRINT_TYPE), "array"),
            field("customfield_10050", "Severity", None, "option"),
        ];
        let m = resolve_fields(&fields, &["severity".into()]).unwrap();
        assert_eq!(m.story_points, ["customfield_10018", "customfield_10016"]);
        let mapped = resolve_fields(&fields, &["Story point estimate".into()]).unwrap();
        assert_eq!(
            mapped.story_points,
            ["customfield_10016", "customfield_10018"],
            "a mapped field is read first"
        );
        assert_eq!(m.sprint.as_deref(), Some("customfield_10020"));
        assert_eq!(
            m.mapped,
            vec![("severity".to_string(), "customfield_10050".to_string())]
        );
        assert!(
            resolve_fields(&fields, &["Team".into()])
                .unwrap_err()
                .contains("Team")
        );
    }
}
