//! What people type, as text: scope JQL, schedule expressions, site URLs and the integration
//! API's bodies. Nothing may panic, and the JQL a sync builds from a scope keeps its own
//! restriction and ordering at the end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sei_jira_core::integrations::{IntegrationCreate, IntegrationPatch};
use sei_jira_core::jira::Deployment;
use sei_jira_core::schedule_expression::{shortest_interval_minutes, validate_rate};
use sei_jira_core::sync::plan::{Unit, strip_order_by};
use sei_jira_core::validation::url_guard::parse_site_url;

fuzz_target!(|bytes: &[u8]| {
    let _ = serde_json::from_slice::<IntegrationCreate>(bytes);
    let _ = serde_json::from_slice::<IntegrationPatch>(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let stripped = strip_order_by(text);
    assert!(text.trim().starts_with(&stripped));
    let scan = Unit::filter(text).scan_jql(Some(1), 42);
    assert!(scan.ends_with(" AND id > 42 ORDER BY id ASC"), "{scan}");
    if validate_rate(text).is_ok() {
        let _ = shortest_interval_minutes(text);
    }
    for deployment in [Deployment::Cloud, Deployment::DataCenter] {
        for private in [false, true] {
            let _ = parse_site_url(text, deployment, private);
        }
    }
});
