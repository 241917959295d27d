use super::*;

#[test]
fn schedule_rates_are_checked() {
    for ok in [
        "rate(1 hour)",
        "rate(30 minutes)",
        "rate(2 days)",
        "cron(0 * * * ? *)",
    ] {
        assert!(checked_rate(ok).is_ok(), "{ok}");
    }
    for wrong in [
        "rate(1 hours)",
        "rate(0 minutes)",
        "hourly",
        "rate(5 weeks)",
        "cron()",
    ] {
        let err = checked_rate(wrong).unwrap_err();
        assert!(err.to_string().starts_with("schedule_rate:"), "{err}");
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
