//! Properties of what the client reads from Jira, over generated input (proptest): no answer,
//! however malformed, makes a model or the ADF reader panic. `PROPTEST_CASES` sets the number of
//! cases (256 by default, as CI runs them; docs/reliability.md gives a longer run's figures).

use proptest::prelude::*;
use sei_jira_client::adf::plain_text;
use sei_jira_client::models::{
    BulkChangelog, BulkIssues, CommentsPage, Issue, LegacySearchPage, SearchPage,
};
use serde_json::{Value, json};

/// Any JSON value, up to a few levels deep, with ADF's keys common among its object keys.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        let key = prop_oneof![
            Just("type".to_string()),
            Just("text".to_string()),
            Just("content".to_string()),
            Just("id".to_string()),
            Just("total".to_string()),
            Just("issues".to_string()),
            Just("fields".to_string()),
            Just("changelog".to_string()),
            "[a-zA-Z]{1,8}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn models_never_panic_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = serde_json::from_slice::<SearchPage>(&bytes);
        let _ = serde_json::from_slice::<LegacySearchPage>(&bytes);
        let _ = serde_json::from_slice::<BulkIssues>(&bytes);
        let _ = serde_json::from_slice::<BulkChangelog>(&bytes);
        let _ = serde_json::from_slice::<CommentsPage>(&bytes);
        let _ = serde_json::from_slice::<Issue>(&bytes);
    }

    #[test]
    fn models_never_panic_on_any_json(value in any_json()) {
        let text = value.to_string();
        let _ = serde_json::from_str::<SearchPage>(&text);
        let _ = serde_json::from_str::<BulkIssues>(&text);
        let _ = serde_json::from_str::<BulkChangelog>(&text);
        let _ = serde_json::from_str::<Issue>(&text);
    }

    #[test]
    fn adf_text_never_panics_and_never_ends_in_whitespace(value in any_json()) {
        let text = plain_text(&value);
        prop_assert_eq!(text.trim_end(), text.as_str());
    }

    #[test]
    fn adf_paragraphs_read_as_their_text_one_line_each(
        lines in prop::collection::vec("[a-zA-Z0-9 ,.]{0,20}[a-zA-Z0-9,.]", 1..6)
    ) {
        let doc = json!({"type": "doc", "version": 1, "content": lines.iter().map(|l| json!({
            "type": "paragraph", "content": [{"type": "text", "text": l}]
        })).collect::<Vec<_>>()});
        prop_assert_eq!(plain_text(&doc), lines.join("\n"));
    }
}
