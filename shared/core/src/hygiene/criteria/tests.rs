use super::*;
use crate::jira::models::FieldSchema;
use serde_json::json;

fn catalog() -> Catalog {
    let site = vec![
        FieldDetails {
            id: "customfield_10050".into(),
            name: "Severity".into(),
            custom: true,
            schema: Some(FieldSchema {
                kind: "option".into(),
                ..FieldSchema::default()
            }),
        },
        FieldDetails {
            id: "customfield_10060".into(),
            name: "Risk Score".into(),
            custom: true,
            schema: Some(FieldSchema {
                kind: "number".into(),
                ..FieldSchema::default()
            }),
        },
    ];
    let map = FieldMap {
        story_points: vec!["customfield_10016".into()],
        sprint: Some("customfield_10020".into()),
        epic_link: Vec::new(),
        mapped: vec![
            ("Severity".into(), "customfield_10050".into()),
            ("customfield_10060".into(), "customfield_10060".into()),
        ],
    };
    Catalog::new(&site, &map)
}

fn issue(fields: Value) -> StoredIssue {
    StoredIssue {
        id: "1".into(),
        fields: fields.as_object().unwrap().clone(),
        ..StoredIssue::default()
    }
}

fn criterion(field: &str, operator: Operator) -> Criterion {
    Criterion {
        name: "c".into(),
        conditions: vec![Condition {
            field: field.into(),
            operator,
        }],
    }
}

fn check(field: &str, operator: Operator, fields: Value) -> bool {
    let c = criterion(field, operator);
    validate(std::slice::from_ref(&c), &catalog()).unwrap();
    matches(&c, &issue(fields), &catalog())
}

fn values(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn missing_and_present() {
    for (fields, missing) in [
        (json!({"fixVersions": []}), true),
        (json!({"fixVersions": null}), true),
        (json!({}), true),
        (json!({"fixVersions": [{"name": "1.0"}]}), false),
    ] {
        assert_eq!(
            check("fix versions", Operator::Missing, fields.clone()),
            missing
        );
        assert_eq!(check("fixVersions", Operator::Present, fields), !missing);
    }
    assert!(check(
        "assignee",
        Operator::Missing,
        json!({"assignee": null})
    ));
    assert!(!check(
        "Severity",
        Operator::Missing,
        json!({"customfield_10050": {"value": "High"}})
    ));
}

#[test]
fn equals_and_exclude_compare_names_without_case() {
    let bug = json!({"issuetype": {"name": "Bug"}, "labels": ["ops", "urgent"]});
    assert!(check(
        "issue type",
        Operator::Equals {
            values: values(&["bug", "Task"])
        },
        bug.clone()
    ));
    assert!(!check(
        "issue type",
        Operator::Exclude {
            values: values(&["BUG"])
        },
        bug.clone()
    ));
    assert!(check(
        "labels",
        Operator::Equals {
            values: values(&["URGENT"])
        },
        bug.clone()
    ));
    assert!(check(
        "labels",
        Operator::Exclude {
            values: values(&["security"])
        },
        bug
    ));
    assert!(check(
        "status category",
        Operator::Equals {
            values: values(&["done"])
        },
        json!({"status": {"name": "Closed", "statusCategory": {"key": "done", "name": "Done"}}})
    ));
}

#[test]
fn lengths_count_characters_of_text_and_items_of_lists() {
    let f = json!({"labels": ["a", "b", "c"], "status": {"name": "In Review"}});
    assert!(check(
        "labels",
        Operator::LengthGreaterThan { value: 2 },
        f.clone()
    ));
    assert!(!check(
        "labels",
        Operator::LengthGreaterThan { value: 3 },
        f.clone()
    ));
    assert!(check(
        "labels",
        Operator::LengthLessThan { value: 4 },
        f.clone()
    ));
    assert!(check(
        "status",
        Operator::LengthGreaterThan { value: 8 },
        f.clone()
    ));
    assert!(!check("status", Operator::LengthLessThan { value: 9 }, f));
}

#[test]
fn greater_and_less_than_compare_numbers_and_never_match_a_missing_value() {
    let f = json!({"customfield_10016": 8.0, "customfield_10060": 3});
    assert!(check(
        "story points",
        Operator::GreaterThan { value: 5.0 },
        f.clone()
    ));
    assert!(!check(
        "story points",
        Operator::GreaterThan { value: 8.0 },
        f.clone()
    ));
    assert!(check(
        "Risk Score",
        Operator::LessThan { value: 3.5 },
        f.clone()
    ));
    assert!(!check(
        "story points",
        Operator::LessThan { value: 100.0 },
        json!({"customfield_10016": null})
    ));
}

#[test]
fn every_condition_must_hold() {
    let c = Criterion {
        name: "Large unversioned stories".into(),
        conditions: vec![
            Condition {
                field: "issue type".into(),
                operator: Operator::Equals {
                    values: values(&["Story"]),
                },
            },
            Condition {
                field: "story points".into(),
                operator: Operator::GreaterThan { value: 8.0 },
            },
            Condition {
                field: "fix versions".into(),
                operator: Operator::Missing,
            },
        ],
    };
    let cat = catalog();
    validate(std::slice::from_ref(&c), &cat).unwrap();
    let large = json!({"issuetype": {"name": "Story"}, "customfield_10016": 13, "fixVersions": []});
    assert!(matches(&c, &issue(large), &cat));
    let versioned = json!({"issuetype": {"name": "Story"}, "customfield_10016": 13, "fixVersions": [{"name": "2.0"}]});
    assert!(!matches(&c, &issue(versioned), &cat));
}

#[test]
fn invalid_criteria_are_refused_naming_the_field_and_operator() {
    let cat = catalog();
    let refused = |criteria: &[Criterion]| validate(criteria, &cat).unwrap_err();
    let e = refused(&[criterion("Team", Operator::Missing)]);
    assert_eq!(e.field, "criteria[0].conditions[0].field");
    assert!(e.message.contains("'Team'"), "{e}");
    let e = refused(&[criterion("labels", Operator::GreaterThan { value: 1.0 })]);
    assert_eq!(e.field, "criteria[0].conditions[0].operator");
    assert!(
        e.message.contains("greater_than") && e.message.contains("labels"),
        "{e}"
    );
    let e = refused(&[criterion(
        "story points",
        Operator::Equals {
            values: values(&["3"]),
        },
    )]);
    assert_eq!(e.field, "criteria[0].conditions[0].operator");
    let e = refused(&[criterion("labels", Operator::Equals { values: vec![] })]);
    assert_eq!(e.field, "criteria[0].conditions[0].values");
    let eleven: Vec<Criterion> = (0..11)
        .map(|i| Criterion {
            name: format!("c{i}"),
            ..criterion("labels", Operator::Missing)
        })
        .collect();
    assert_eq!(refused(&eleven).field, "criteria");
    assert!(validate(&eleven[..10], &cat).is_ok());
    let e = refused(&[
        criterion("labels", Operator::Missing),
        Criterion {
            name: "C".into(),
            ..criterion("labels", Operator::Present)
        },
    ]);
    assert_eq!(e.field, "criteria[1].name");
    let e = refused(&[Criterion {
        name: "empty".into(),
        conditions: vec![],
    }]);
    assert_eq!(e.field, "criteria[0].conditions");
}

#[test]
fn criteria_read_from_json() {
    let c: Vec<Criterion> = serde_json::from_value(json!([
        {"name": "No fix version", "conditions": [{"field": "fix versions", "operator": "missing"}]},
        {"name": "Big", "conditions": [{"field": "story points", "operator": "greater_than", "value": 8}]},
        {"name": "Not ops", "conditions": [{"field": "labels", "operator": "exclude", "values": ["ops"]}]}
    ]))
    .unwrap();
    assert_eq!(
        c[1].conditions[0].operator,
        Operator::GreaterThan { value: 8.0 }
    );
    assert!(validate(&c, &catalog()).is_ok());
    assert!(
        serde_json::from_value::<Criterion>(
            json!({"name": "x", "conditions": [{"field": "labels", "operator": "sometimes"}]})
        )
        .is_err()
    );
}

#[test]
fn the_epic_is_an_epic_link_with_a_value_or_else_a_parent_that_is_an_epic() {
    let map = FieldMap {
        epic_link: vec!["customfield_10014".into()],
        story_points: vec!["customfield_10018".into(), "customfield_10016".into()],
        ..FieldMap::default()
    };
    let catalog = Catalog::new(&[], &map);
    let epic = catalog.field("epic").unwrap();
    let names = |fields: Value| catalog.names_of(&issue(fields), epic);
    let parent = |level: u32| json!({"key": "P-1", "fields": {"issuetype": {"name": "x", "hierarchyLevel": level}}});
    assert_eq!(names(json!({"customfield_10014": "P-7"})), ["P-7"]);
    assert_eq!(
        names(json!({"customfield_10014": null, "parent": parent(1)})),
        ["P-1"],
        "a team-managed epic child"
    );
    assert!(
        names(json!({"parent": parent(0)})).is_empty(),
        "a sub-task's parent is no epic"
    );
    // Story points: the first of the fields with a value.
    let points = |fields: Value| catalog.story_points(&issue(fields));
    assert_eq!(points(json!({"customfield_10016": 5})), Some(5.0));
    assert_eq!(
        points(json!({"customfield_10018": 3, "customfield_10016": 5})),
        Some(3.0)
    );
    assert_eq!(points(json!({"customfield_10018": null})), None);
}
