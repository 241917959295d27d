//! Keeps the HTTP API's three descriptions in step: the routes the handlers serve (each
//! function's `routes()`, its router's one home), the OpenAPI document (`docs/openapi.yaml`) and the API Gateway events of
//! `template.yaml`. A route added to one and not the others fails here. (What each route answers
//! is checked against the document in `functions_e2e`.)

use std::collections::BTreeSet;

fn repo_file(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `METHOD /path` for each HttpApi event of the template (`Method:` then `Path:`).
fn template_routes(template: &str) -> BTreeSet<String> {
    let mut routes = BTreeSet::new();
    let mut method: Option<String> = None;
    for line in template.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("Method: ") {
            method = Some(m.trim().to_uppercase());
        } else if let (Some(p), Some(m)) = (line.strip_prefix("Path: "), method.take()) {
            routes.insert(format!("{m} {}", p.trim()));
        }
    }
    routes
}

fn handled() -> BTreeSet<String> {
    use sei_jira_lambda::routes::keys;
    [
        keys(&validate_credentials::routes()),
        keys(&monitoring_query::routes()),
        keys(&score_hygiene::routes()),
        keys(&dora_metrics::routes()),
    ]
    .concat()
    .into_iter()
    .map(String::from)
    .collect()
}

#[test]
fn the_openapi_document_describes_exactly_the_routes_the_handlers_serve() {
    let documented = e2e::openapi::OpenApi::load().routes();
    assert_eq!(documented, handled());
}

#[test]
fn the_template_routes_exactly_the_routes_the_handlers_serve() {
    let routed = template_routes(&repo_file("template.yaml"));
    assert_eq!(routed, handled());
}

/// Issue #11's deployment guard rails, kept in the template (what each does is described there).
#[test]
fn the_template_keeps_its_guard_rails() {
    let text = repo_file("template.yaml");
    let t: serde_norway::Value = serde_norway::from_str(&text).expect("template.yaml is YAML");
    let resources = &t["Resources"];
    let throttling = &resources["HttpApi"]["Properties"]["DefaultRouteSettings"];
    assert!(
        !throttling["ThrottlingRateLimit"].is_null()
            && !throttling["ThrottlingBurstLimit"].is_null(),
        "the HTTP API is throttled"
    );
    let sync = &resources["SyncProjectFunction"]["Properties"];
    assert!(
        !sync["ReservedConcurrentExecutions"].is_null(),
        "the sync has reserved concurrency"
    );
    let on_failure = &sync["EventInvokeConfig"]["DestinationConfig"]["OnFailure"];
    assert_eq!(
        on_failure["Type"].as_str(),
        Some("SQS"),
        "failed async syncs go to a queue"
    );
    assert!(!resources["SyncDeadLetterQueue"].is_null());
    let bus = &resources["EventBusPolicy"]["Properties"]["Statement"];
    assert_eq!(
        (bus["Effect"].as_str(), bus["Action"].as_str()),
        (Some("Deny"), Some("events:PutEvents")),
        "only the stack's functions put events on its bus"
    );
    let floor = &t["Parameters"]["MinScheduleMinutes"];
    assert!(
        floor["MinValue"].as_u64().is_some_and(|m| m >= 5),
        "{floor:?}"
    );
    assert!(
        !t["Globals"]["Function"]["Environment"]["Variables"]["MIN_SCHEDULE_MINUTES"].is_null()
    );
    for broad in [
        "DynamoDBCrudPolicy",
        "DynamoDBReadPolicy",
        "dynamodb:Scan",
        "dynamodb:*",
    ] {
        assert!(!text.contains(broad), "no function may {broad}");
    }
}
