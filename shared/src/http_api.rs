//! What the HTTP functions share (API Gateway HTTP API, payload v2): the caller's account from
//! the JWT authorizer's claims — never from the path, query or body — and JSON responses,
//! errors as `{code, message}`.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::json;

use crate::integrations::ApiError;

/// The account (tenant) named by the authorizer's `claim`, or None when the request carries no
/// such verified claim (API Gateway only invokes us after the JWT authorizer accepted the token).
pub fn account(req: &Request, claim: &str) -> Option<String> {
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

/// `METHOD /path/{param}` as API Gateway names the route.
pub fn route(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

pub fn path_param(req: &Request, name: &str) -> Option<String> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_string)
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_string)
}

pub fn json<T: Serialize>(status: u16, body: &T) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(
            serde_json::to_string(body).unwrap_or_else(|_| "{}".into()),
        ))
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

/// Parses a JSON body; a malformed one is a 400 naming what is wrong.
pub fn body<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, Box<Response<Body>>> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.is_empty() {
        return Err(Box::new(error(
            400,
            "invalid_request",
            "body: a JSON body is required",
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(error(
            400,
            "invalid_request",
            format!("body: {}", redact(&e.to_string())),
        ))
    })
}

/// serde's messages quote the offending value; a token pasted into the wrong field must not
/// come back in the response (or in logs), so quoted values are cut out.
fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for ch in message.chars() {
        match ch {
            '"' | '`' => {
                quoted = !quoted;
                out.push(ch);
                if quoted {
                    out.push('…');
                }
            }
            _ if quoted => {}
            _ => out.push(ch),
        }
    }
    out
}

/// The response for an operation's error.
pub fn api_error(e: &ApiError) -> Response<Body> {
    match e {
        ApiError::BadRequest { .. } => error(400, "invalid_request", e.to_string()),
        ApiError::ValidationFailed(report) => json(
            400,
            &json!({
                "code": "validation_failed",
                "message": e.to_string(),
                "checks": report.checks,
            }),
        ),
        ApiError::NotFound(_) => error(404, "not_found", e.to_string()),
        ApiError::Internal(message) => {
            tracing::error!(error = %message, "request failed");
            error(500, "internal", "internal error; see the function's logs")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_cut_from_parse_errors() {
        let e = serde_json::from_str::<u32>("\"ATATT3xsecret\"").unwrap_err();
        let shown = redact(&e.to_string());
        assert!(!shown.contains("ATATT3xsecret"), "{shown}");
    }

    #[test]
    fn account_ids_use_a_safe_alphabet() {
        assert!(valid_account("acct-42_A"));
        for bad in ["", "a/b", "a#b", "a b", &"x".repeat(129)] {
            assert!(!valid_account(bad), "{bad}");
        }
    }
}
