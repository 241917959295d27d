//! Keeps the HTTP API's three descriptions in step: the routes the handlers serve (their
//! `ROUTES`), the OpenAPI document (`docs/openapi.yaml`) and the API Gateway events of
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
    validate_credentials::ROUTES
        .iter()
        .chain(monitoring_query::ROUTES)
        .chain(score_hygiene::ROUTES)
        .map(|r| r.to_string())
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
