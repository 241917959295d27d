//! Properties of what the service reads from people, over generated input (proptest): the JQL
//! builder, the integration API's bodies and the schedule expressions never panic, and keep what
//! they promise. `PROPTEST_CASES` sets the number of cases (256 by default, as CI runs them;
//! docs/reliability.md gives a longer run's figures).

use proptest::prelude::*;
use sei_jira_core::integrations::{IntegrationCreate, IntegrationPatch};
use sei_jira_core::schedule_expression::{shortest_interval_minutes, validate_rate};
use sei_jira_core::sync::plan::{Unit, strip_order_by};

/// JQL-like text: words, quotes, escapes, parentheses and ORDER BY in any case.
fn jqlish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("project = PLAT".to_string()),
            Just(" ORDER BY ".to_string()),
            Just(" order by ".to_string()),
            Just("\"".to_string()),
            Just("'".to_string()),
            Just("\\".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just(" AND ".to_string()),
            Just("summary ~ \"order by\"".to_string()),
            ".{0,6}",
        ],
        0..10,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn order_by_is_cut_from_the_end_only(jql in jqlish()) {
        let stripped = strip_order_by(&jql);
        // What is left is the text's start, and stripping again changes nothing more than a
        // second ORDER BY inside would.
        prop_assert!(jql.trim().starts_with(&stripped), "{jql:?} -> {stripped:?}");
        prop_assert!(strip_order_by(&stripped).len() <= stripped.len());
        let scan = Unit::filter(&jql).scan_jql(Some(1), 42);
        prop_assert!(scan.ends_with(" AND id > 42 ORDER BY id ASC"), "{scan}");
        prop_assert!(scan.starts_with('('));
    }

    #[test]
    fn schedule_expressions_never_panic(text in ".{0,40}", n in any::<u32>()) {
        for candidate in [
            text.clone(),
            format!("rate({n} minutes)"),
            format!("cron({text} * * * ? *)"),
            format!("cron(*/{n} * * * ? *)"),
        ] {
            if validate_rate(&candidate).is_ok() {
                let _ = shortest_interval_minutes(&candidate);
            }
        }
    }

    #[test]
    fn api_bodies_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), text in ".{0,64}") {
        let _ = serde_json::from_slice::<IntegrationCreate>(&bytes);
        let _ = serde_json::from_slice::<IntegrationPatch>(&bytes);
        let body = format!(r#"{{"name": {text:?}, "scope": {{"kind": {text:?}, "keys": [{text:?}], "jql": {text:?}}}, "connection": {{"deployment": "cloud", "url": {text:?}, "email": {text:?}, "token": {text:?}}}}}"#);
        let _ = serde_json::from_str::<IntegrationCreate>(&body);
    }
}
