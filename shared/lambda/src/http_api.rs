//! What the HTTP functions share (API Gateway HTTP API, payload v2): the caller's account from
//! the JWT authorizer's claims — never from the path, query or body — and JSON responses,
//! errors as `{code, message}`. The routes themselves are in [`crate::routes`].

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt, Response};
use serde::Serialize;
use serde_json::json;

use sei_jira_core::hygiene::config::Saved;

/// The account (tenant) named by the authorizer's `claim`, or None when the request carries no
/// such verified claim (API Gateway only invokes us after the JWT authorizer accepted the token).
pub fn account<B>(req: &lambda_http::http::Request<B>, claim: &str) -> Option<String> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return None;
    };
    let claims = &ctx.authorizer.as_ref()?.jwt.as_ref()?.claims;
    claims
        .get(claim)
        .map(|a| a.trim().to_string())
        .filter(|a| valid_account(a))
}

/// Account ids become key and secret-name parts: a conservative alphabet keeps them inert.
fn valid_account(a: &str) -> bool {
    !a.is_empty()
        && a.len() <= 128
        && a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Stored issues one request reads at most, so that it answers within API Gateway's 30 s: a
/// page of missing tickets stops there (with `next`); a report that would be counted from more
/// issues than this (its index being built) is answered 503 `retry_later`.
pub const ISSUES_PER_REQUEST: usize = 5_000;

/// The longest path parameter any route takes (ids are UUIDs, Jira's numeric ids, or ours).
pub const MAX_PATH_PARAM_CHARS: usize = 128;

pub fn json<T: Serialize>(status: u16, body: &T) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(
            serde_json::to_string(body).unwrap_or_else(|_| "{}".into()),
        ))
        .expect("a static response shape")
}

/// A page: HTML that may fetch nothing (the report page needs no script and no remote part).
pub fn html(status: u16, page: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .header(
            "content-security-policy",
            sei_jira_core::report::html::CONTENT_SECURITY_POLICY,
        )
        .header("x-content-type-options", "nosniff")
        .body(Body::from(page))
        .expect("a static response shape")
}

pub fn empty(status: u16) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::Empty)
        .expect("a static response shape")
}

pub fn error(status: u16, code: &str, message: impl Into<String>) -> Response<Body> {
    json(status, &json!({"code": code, "message": message.into()}))
}

pub fn unauthorized() -> Response<Body> {
    error(
        401,
        "unauthorized",
        "the request carries no account: the authorizer's token must name one",
    )
}

/// Parses a JSON body; a malformed one is a 400 whose message starts with the path of the
/// offending field (`connection.deployment: invalid type ...`), as the operations' own errors do.
pub fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Box<Response<Body>>> {
    if bytes.is_empty() {
        return Err(Box::new(error(
            400,
            "invalid_request",
            "body: a JSON body is required",
        )));
    }
    let mut json = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        let field = match path.as_str() {
            // The root, or a key not read yet (a body cut short).
            "." | "" | "?" => "body".to_string(),
            path => redact_path(path),
        };
        let message = format!("{field}: {}", redact(&e.inner().to_string()));
        Box::new(error(400, "invalid_request", message))
    })
}

/// serde's messages quote the offending value; a token pasted into the wrong field must not
/// come back in the response (or in logs), so quoted values are cut out. Quoted field names
/// (`unknown field `jql`, expected one of `name`, ...`) stay: short snake_case words, which no
/// Jira token or password is.
fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest[open..].chars().next().unwrap_or('`');
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(quote) else {
            out.push('…');
            return out;
        };
        let quoted = &after[..close];
        out.push_str(if is_field_name(quoted) { quoted } else { "…" });
        out.push(quote);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// A field path (`scope.keys[2]`) with every segment that is not a field name cut out: an
/// unknown key is the user's text, and might be a pasted token.
fn redact_path(path: &str) -> String {
    let segment = |s: &str| {
        let name = s.split('[').next().unwrap_or_default();
        let indexes = &s[name.len()..];
        let indexes_ok = indexes
            .chars()
            .all(|c| c.is_ascii_digit() || c == '[' || c == ']');
        match is_field_name(name) && indexes_ok {
            true => s.to_string(),
            false => "…".to_string(),
        }
    };
    path.split('.').map(segment).collect::<Vec<_>>().join(".")
}

fn is_field_name(s: &str) -> bool {
    (1..=40).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Whether a function's raw input is an API Gateway HTTP API event (a function that also takes
/// EventBridge events tells them apart by this).
pub fn is_http_event(payload: &serde_json::Value) -> bool {
    payload.get("requestContext").is_some() && payload.get("routeKey").is_some()
}

/// A response as API Gateway's HTTP API (payload 2.0) reads it from a function's raw output.
pub fn gateway_response(response: Response<Body>) -> ApiGatewayV2httpResponse {
    let (parts, body) = response.into_parts();
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.headers = parts.headers;
    (out.body, out.is_base64_encoded) = match body {
        Body::Empty => (None, false),
        Body::Text(t) => (Some(Body::Text(t)), false),
        Body::Binary(b) => (Some(Body::Binary(b)), true),
        _ => (None, false),
    };
    out
}

/// The response, saying in `Retry-After` when to try again (whole seconds, at least one).
pub fn retry_after(mut response: Response<Body>, after: std::time::Duration) -> Response<Body> {
    let seconds = after.as_secs().max(1).to_string();
    if let Ok(value) = lambda_http::http::HeaderValue::from_str(&seconds) {
        response
            .headers_mut()
            .insert(lambda_http::http::header::RETRY_AFTER, value);
    }
    response
}

/// A kept setting (a custom miss, an SLA row, a DORA profile) as the API shows it: its id
/// beside its fields.
pub fn with_id<T: Serialize>(id: &str, item: &T) -> serde_json::Value {
    let mut v = serde_json::to_value(item).unwrap_or_default();
    if let serde_json::Value::Object(o) = &mut v {
        o.insert("id".into(), json!(id));
    }
    v
}

/// Every kept setting of a list, each with its id.
pub fn all_with_ids<T: Serialize>(items: &[Saved<T>]) -> Vec<serde_json::Value> {
    items.iter().map(|s| with_id(&s.id, &s.item)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_cut_from_parse_errors() {
        let e = serde_json::from_str::<u32>("\"ATATT3xsecret\"").unwrap_err();
        let shown = redact(&e.to_string());
        assert!(!shown.contains("ATATT3xsecret"), "{shown}");
        assert_eq!(redact("a `Tok-3n` and \"open"), "a `…` and \"…");
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        connection: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        deployment: String,
    }

    fn message_for(body: &str) -> String {
        let response = *parse_body::<Outer>(body.as_bytes()).unwrap_err();
        assert_eq!(response.status(), 400);
        let Body::Text(text) = response.body() else {
            panic!("a text body")
        };
        serde_json::from_str::<serde_json::Value>(text).unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_malformed_body_is_answered_with_the_path_of_the_field() {
        let wrong_type = message_for(r#"{"connection": {"deployment": 5}}"#);
        assert!(
            wrong_type.starts_with("connection.deployment: invalid type"),
            "{wrong_type}"
        );
        let unknown = message_for(r#"{"deployment": "cloud"}"#);
        assert!(
            unknown.starts_with("deployment: unknown field `deployment`, expected `connection`"),
            "{unknown}"
        );
        let secret_key = message_for(r#"{"connection": {"ATATT3xSECRET": 1}}"#);
        assert!(
            secret_key.starts_with("connection.…: unknown field `…`, expected `deployment`"),
            "{secret_key}"
        );
        let in_a_list = redact_path("scope.keys[2]");
        assert_eq!(in_a_list, "scope.keys[2]");
        assert!(
            message_for("{").starts_with("body: EOF"),
            "{}",
            message_for("{")
        );
    }

    #[test]
    fn account_ids_use_a_safe_alphabet() {
        assert!(valid_account("acct-42_A"));
        for bad in ["", "a/b", "a#b", "a b", &"x".repeat(129)] {
            assert!(!valid_account(bad), "{bad}");
        }
    }
}
