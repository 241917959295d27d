use super::*;

#[test]
fn schedule_rates_are_checked() {
    for ok in [
        "rate(1 hour)",
        "rate(30 minutes)",
        "rate(2 days)",
        "cron(0 * * * ? *)",
    ] {
        assert!(checked_rate(ok, 15).is_ok(), "{ok}");
    }
    for wrong in [
        "rate(1 hours)",
        "rate(0 minutes)",
        "hourly",
        "rate(5 weeks)",
        "cron()",
    ] {
        let err = checked_rate(wrong, 15).unwrap_err();
        assert!(err.to_string().starts_with("schedule_rate:"), "{err}");
    }
}

#[test]
fn schedules_more_frequent_than_the_deployment_allows_are_refused() {
    for (rate, min, ok) in [
        ("rate(15 minutes)", 15, true),
        ("rate(14 minutes)", 15, false),
        ("rate(1 minute)", 1, true),
        ("cron(*/5 * * * ? *)", 15, false),
        ("cron(0,30 * * * ? *)", 15, true),
        ("cron(0,30 * * * ? *)", 31, false),
    ] {
        let checked = checked_rate(rate, min);
        assert_eq!(
            checked.is_ok(),
            ok,
            "{rate} with a floor of {min}: {checked:?}"
        );
        if let Err(e) = checked {
            assert!(
                e.to_string().starts_with("schedule_rate: runs every"),
                "{e}"
            );
        }
    }
}

#[test]
fn scope_input_names_the_field_at_fault() {
    let s = |kind: &str| ScopeInput {
        kind: kind.into(),
        keys: None,
        jql: None,
    };
    assert!(
        s("projects")
            .config()
            .unwrap_err()
            .to_string()
            .starts_with("scope.keys")
    );
    assert!(
        s("jql")
            .config()
            .unwrap_err()
            .to_string()
            .starts_with("scope.jql")
    );
    assert!(
        s("everything")
            .config()
            .unwrap_err()
            .to_string()
            .starts_with("scope.kind")
    );
    assert_eq!(
        s("all_accessible").config().unwrap(),
        ScopeConfig::AllAccessible
    );
}

#[test]
fn a_connection_never_prints_its_token() {
    let c = Connection {
        deployment: "cloud".into(),
        url: "https://x.atlassian.net".into(),
        email: Some("a@b.c".into()),
        token: Some("ATATT-secret-value".into()),
    };
    assert!(!format!("{c:?}").contains("secret-value"));
}

#[test]
fn scopes_over_their_limits_or_without_a_restriction_are_refused_naming_the_field() {
    let projects = |keys: Vec<String>| ScopeInput {
        kind: "projects".into(),
        keys: Some(keys),
        jql: None,
    };
    let jql = |text: &str| ScopeInput {
        kind: "jql".into(),
        keys: None,
        jql: Some(text.into()),
    };
    let refused = |scope: ScopeInput| scope.config().unwrap_err().to_string();

    let many: Vec<String> = (0..=MAX_SCOPE_KEYS).map(|n| format!("P{n}")).collect();
    assert!(refused(projects(many)).starts_with("scope.keys: at most 1000"));
    for wrong in ["9LIVES", "PL-AT", "PLAT DEV", "ÄPFEL"] {
        let message = refused(projects(vec![wrong.to_string()]));
        assert!(
            message.starts_with(&format!("scope.keys: '{wrong}' is not a Jira project key")),
            "{wrong}: {message}"
        );
    }
    let pasted = format!("ATATT3x{}=9B1D4C2A", "Zq7".repeat(60));
    for long in ["P".repeat(256), pasted.clone()] {
        let message = refused(projects(vec![long.clone()]));
        assert!(
            message.starts_with(&format!(
                "scope.keys: a text of {} characters is not a Jira project key",
                long.len()
            )),
            "{message}"
        );
    }
    assert_eq!(
        projects(vec![" PLAT ".into(), "plat".into(), "SRE_2".into()])
            .config()
            .unwrap(),
        ScopeConfig::Projects {
            keys: vec!["PLAT".into(), "SRE_2".into()]
        }
    );

    for sort_only in [
        "ORDER BY created DESC",
        "  order by rank",
        "ORDER BY key ASC, id",
    ] {
        let message = refused(jql(sort_only));
        assert!(
            message.starts_with("scope.jql: has only an ORDER BY clause"),
            "{sort_only}: {message}"
        );
    }
    assert!(refused(jql(&"x".repeat(MAX_JQL_CHARS + 1))).starts_with("scope.jql: must be at most"));
    assert!(jql("project = PLAT ORDER BY created").config().is_ok());

    let fields: Vec<String> = (0..=MAX_CUSTOM_FIELDS)
        .map(|n| format!("Field {n}"))
        .collect();
    assert!(
        normalized_custom_fields(&fields)
            .unwrap_err()
            .to_string()
            .starts_with("custom_fields: at most 100")
    );
}
