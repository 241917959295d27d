//! The HTTP API's OpenAPI document (`docs/openapi.yaml`) as a contract: the end-to-end tests check
//! every request they send and every answer the handlers give against the operation it documents.
//!
//! The document's schemas are OpenAPI 3.0 schema objects, which are JSON Schema draft 4 with a few
//! extra keywords. Two rewrites make them a stricter draft 4 schema before checking:
//! - `nullable: true` becomes `null` among the allowed types (draft 4 has no `nullable`);
//! - an object schema that lists `properties` and says nothing of `additionalProperties` is
//!   closed, so a field that a handler returns, or a test sends, without it being documented
//!   fails. (The document therefore composes schemas with `anyOf`, never with `allOf`, whose
//!   branches could not each be closed.)

use std::collections::BTreeSet;

use serde_json::{Value, json};

pub struct OpenApi {
    doc: Value,
    /// `components`, rewritten as above; every schema is checked with these beside it, so that
    /// `#/components/...` references resolve.
    components: Value,
}

impl OpenApi {
    /// The repository's `docs/openapi.yaml`.
    pub fn load() -> OpenApi {
        let path = crate::repo_root().join("docs/openapi.yaml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        OpenApi::parse(&text)
    }

    pub fn parse(yaml: &str) -> OpenApi {
        let doc: Value = serde_norway::from_str(yaml).expect("docs/openapi.yaml is YAML");
        assert!(
            !yaml.contains("allOf:"),
            "the contract closes object schemas, which allOf cannot combine; use anyOf"
        );
        let mut components = doc["components"].clone();
        to_strict_draft4(&mut components);
        OpenApi { doc, components }
    }

    /// Every documented operation as `METHOD /path`, the form of an HTTP API route key.
    pub fn routes(&self) -> BTreeSet<String> {
        let mut routes = BTreeSet::new();
        for (path, item) in self.doc["paths"].as_object().into_iter().flatten() {
            for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
                if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                    routes.insert(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        routes
    }

    /// Checks a request body against the operation's `requestBody` schema.
    pub fn check_request(&self, route: &str, body: Option<&Value>) -> Result<(), String> {
        let operation = self.operation(route)?;
        let Some(request) = operation.get("requestBody").map(|r| self.resolve(r)) else {
            return match body {
                None => Ok(()),
                Some(_) => Err(format!("{route} documents no request body")),
            };
        };
        let Some(body) = body else {
            return match request["required"].as_bool() {
                Some(true) => Err(format!("{route} documents a required request body")),
                _ => Ok(()),
            };
        };
        self.check_schema(&request["content"]["application/json"]["schema"], body)
            .map_err(|e| format!("request body of {route}: {e}"))
    }

    /// Checks an answer: its status must be documented for the operation, a documented JSON body
    /// must come as JSON and match its schema, and a status documented without content must have
    /// an empty body.
    pub fn check_response(
        &self,
        route: &str,
        status: u16,
        content_type: Option<&str>,
        body: &str,
    ) -> Result<(), String> {
        let responses = &self.operation(route)?["responses"];
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
            .map(|r| self.resolve(r))
            .ok_or_else(|| format!("{route} does not document status {status}"))?;
        let Some(content) = response.get("content") else {
            return match body.is_empty() {
                true => Ok(()),
                false => Err(format!("{route} {status} documents no body, got {body}")),
            };
        };
        if content.get("text/html").is_some() {
            return match content_type.is_some_and(|t| t.starts_with("text/html"))
                && body.starts_with("<!DOCTYPE html>")
            {
                true => Ok(()),
                false => Err(format!(
                    "{route} {status} documents a page, got content-type {content_type:?}"
                )),
            };
        }
        let schema = &content["application/json"]["schema"];
        if !content_type.is_some_and(|t| t.starts_with("application/json")) {
            return Err(format!(
                "{route} {status} documents JSON, got content-type {content_type:?}"
            ));
        }
        let body: Value = serde_json::from_str(body)
            .map_err(|e| format!("{route} {status}: the body is not JSON ({e}): {body}"))?;
        self.check_schema(schema, &body)
            .map_err(|e| format!("{route} {status}: {e}"))
    }

    fn operation(&self, route: &str) -> Result<&Value, String> {
        let (method, path) = route
            .split_once(' ')
            .ok_or_else(|| format!("`{route}` is not `METHOD /path`"))?;
        self.doc["paths"]
            .get(path)
            .and_then(|item| item.get(method.to_lowercase()))
            .ok_or_else(|| format!("docs/openapi.yaml has no operation {route}"))
    }

    /// Follows a `$ref` to a reusable response or request body.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let pointer = reference
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("only local references: {reference}"));
                self.doc
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling reference {reference}"))
            }
            None => value,
        }
    }

    fn check_schema(&self, schema: &Value, instance: &Value) -> Result<(), String> {
        let mut schema = schema.clone();
        to_strict_draft4(&mut schema);
        let root = json!({ "components": self.components, "allOf": [schema] });
        let validator = jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&root)
            .map_err(|e| format!("the documented schema does not compile: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("at `{}`: {e}", e.instance_path()))
            .collect();
        match errors.is_empty() {
            true => Ok(()),
            false => Err(format!("{}; in {instance}", errors.join("; "))),
        }
    }
}

/// The two rewrites described at the top, applied to every schema object under `value`.
fn to_strict_draft4(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                if let Some(Value::String(kind)) = map.get("type") {
                    let kind = kind.clone();
                    map.insert("type".into(), json!([kind, "null"]));
                }
            }
            let is_object = map.get("type").and_then(Value::as_str) == Some("object");
            if is_object && map.contains_key("properties") {
                map.entry("additionalProperties").or_insert(json!(false));
            }
            // Examples are data, not schemas.
            for (key, child) in map.iter_mut() {
                if key != "example" && key != "examples" {
                    to_strict_draft4(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(to_strict_draft4),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r##"
openapi: 3.0.3
paths:
  /things/{id}:
    get:
      responses:
        "200":
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Thing"
        "204":
          description: nothing
components:
  schemas:
    Thing:
      type: object
      required: [name]
      properties:
        name:
          type: string
        email:
          type: string
          nullable: true
"##;

    const JSON: Option<&str> = Some("application/json");

    #[test]
    fn an_answer_matching_its_schema_passes() {
        let api = OpenApi::parse(DOC);
        let body = r#"{"name": "a", "email": null}"#;
        assert_eq!(
            api.check_response("GET /things/{id}", 200, JSON, body),
            Ok(())
        );
        assert_eq!(
            api.check_response("GET /things/{id}", 204, None, ""),
            Ok(())
        );
    }

    #[test]
    fn undocumented_fields_statuses_and_shapes_fail() {
        let api = OpenApi::parse(DOC);
        let route = "GET /things/{id}";
        let extra = r#"{"name": "a", "secret": "x"}"#;
        assert!(api.check_response(route, 200, JSON, extra).is_err());
        assert!(
            api.check_response(route, 200, JSON, r#"{"email": "e"}"#)
                .is_err()
        );
        assert!(
            api.check_response(route, 200, JSON, r#"{"name": 1}"#)
                .is_err()
        );
        assert!(
            api.check_response(route, 200, Some("text/plain"), r#"{"name": "a"}"#)
                .is_err()
        );
        assert!(api.check_response(route, 404, JSON, "{}").is_err());
        assert!(api.check_response(route, 204, None, "{}").is_err());
        assert!(
            api.check_response("POST /things/{id}", 200, JSON, "{}")
                .is_err()
        );
    }

    #[test]
    fn the_routes_are_the_documented_operations() {
        let routes: Vec<String> = OpenApi::parse(DOC).routes().into_iter().collect();
        assert_eq!(routes, ["GET /things/{id}"]);
    }
}
