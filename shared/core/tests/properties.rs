//! Properties of what the service reads from people, over generated input (proptest): the JQL
//! builder, the hygiene request's parameters and the schedule expressions never panic, and keep
//! what they promise. `PROPTEST_CASES` sets the number of cases (256 by default, as CI runs them;
//! docs/reliability.md gives a longer run's figures).

use proptest::prelude::*;
use sei_jira_core::hygiene::params::{self, Params};
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
    fn every_hygiene_refusal_names_a_parameter_that_was_given(
        pairs in prop::collection::vec(
            (
                prop::sample::select(vec![
                    "idle_days", "stalled_days", "poor_description_chars", "at", "response",
                    "weights", "active_sprint", "created_from", "created_to", "projects", "bogus",
                ]),
                prop_oneof![Just("3".to_string()), Just("2026-12-01".to_string()), ".{0,12}"],
            ),
            0..6,
        )
    ) {
        let given: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").unwrap().to_utc();
        match params::report(&Params::new(given.clone()), &[], now) {
            Ok(asked) => {
                prop_assert!((0..=3650).contains(&asked.settings.idle_days));
                prop_assert!((0..=3650).contains(&asked.settings.stalled_days));
                prop_assert!(asked.settings.poor_description_chars <= 1000);
                prop_assert!(!given.iter().any(|(k, _)| k == "bogus"), "an unknown parameter was taken");
            }
            Err(refused) => prop_assert!(
                given.iter().any(|(k, _)| refused.parameter == *k || refused.parameter == format!("'{k}'")),
                "{refused} names none of {given:?}"
            ),
        }
    }
}
