//! The HTTP functions' routes as axum routers: run in Lambda through `lambda_http`, one router
//! per function. What every route shares lives here: who calls ([`Caller`], put on each request
//! by the deployment's [`behind_authorizer`] layer, never read from the path, query or body),
//! path, query and body extractors whose refusals are the API's 400s, and [`Failure`] as every
//! handler's error answer.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, RawPathParams, Request};
use axum::handler::Handler;
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, MethodRouter, on};
use serde::de::DeserializeOwned;
use tower::ServiceExt;

use sei_jira_core::store::{IntegrationRecord, IntegrationStore};
use sei_jira_core::user_text::echoed;

use crate::failure::Failure;
use crate::http_api::{self, MAX_PATH_PARAM_CHARS};
use crate::metrics::{LogLines, measured};

/// One route: its key as API Gateway, `template.yaml` and `docs/openapi.yaml` name it
/// (`POST /integrations/{integrationId}/sync`), and the handler that serves it. A function's
/// list of them is the one home of its routes: its router is built from it, and the test that
/// keeps the template and the document in step reads its keys.
pub struct Route<S> {
    pub key: &'static str,
    serve: MethodRouter<S>,
}

impl<S: Clone + Send + Sync + 'static> Route<S> {
    /// `key` is `METHOD /path`, the path's parameters in braces.
    pub fn new<H: Handler<T, S>, T: 'static>(key: &'static str, handler: H) -> Self {
        let filter = key
            .split_once(' ')
            .and_then(|(method, _)| Method::from_bytes(method.as_bytes()).ok())
            .and_then(|method| MethodFilter::try_from(method).ok())
            .unwrap_or_else(|| panic!("route key {key:?}: not `METHOD /path`"));
        Route {
            key,
            serve: on(filter, handler),
        }
    }

    fn path(&self) -> &'static str {
        self.key.split_once(' ').map_or(self.key, |(_, path)| path)
    }
}

/// The keys of `routes`.
pub fn keys<S>(routes: &[Route<S>]) -> Vec<&'static str> {
    routes.iter().map(|r| r.key).collect()
}

/// The router of `routes` over `state` (the methods of one path served together). Routers of
/// several functions merge into one; whoever serves the result names the caller and answers what
/// no route takes ([`behind_authorizer`]).
pub fn router_of<S: Clone + Send + Sync + 'static>(routes: Vec<Route<S>>, state: S) -> Router {
    let mut router = Router::new();
    for route in routes {
        let path = route.path();
        router = router.route(path, route.serve);
    }
    router.with_state(state)
}

/// The account (tenant) a request is made for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Failure> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Failure::Answered(Box::new(http_api::unauthorized())))
    }
}

/// `router` as a deployment serves it: each request's caller is the account the API Gateway JWT
/// authorizer's `claim` names; a request without one is answered 401 before any route runs, and
/// one no route takes 404 ([`no_route`]).
pub fn behind_authorizer(router: Router, claim: &str) -> Router {
    let claim: Arc<str> = claim.into();
    router
        .fallback(no_route)
        .layer(middleware::from_fn(move |mut req: Request, next: Next| {
            let claim = claim.clone();
            async move {
                match http_api::account(&req, &claim) {
                    Some(account) => {
                        req.extensions_mut().insert(Caller(account));
                        next.run(req).await
                    }
                    None => http_api::unauthorized().into_response(),
                }
            }
        }))
}

/// `router` as a local server serves it: each request must carry `Authorization: Bearer
/// <token>`, the token the server made at start; its caller is then `account`. Anything else is
/// answered 401 before any route runs, so another user of the machine cannot call it.
pub fn behind_bearer(router: Router, token: &str, account: &str) -> Router {
    let expected: Arc<[u8]> = format!("Bearer {token}").into_bytes().into();
    let caller = Caller(account.to_string());
    router
        .fallback(no_route)
        .layer(middleware::from_fn(move |mut req: Request, next: Next| {
            let (expected, caller) = (expected.clone(), caller.clone());
            async move {
                let given = req
                    .headers()
                    .get(axum::http::header::AUTHORIZATION)
                    .map(|v| v.as_bytes())
                    .unwrap_or_default();
                if !same_bytes(given, &expected) {
                    return http_api::unauthorized().into_response();
                }
                req.extensions_mut().insert(caller);
                next.run(req).await
            }
        }))
}

/// Whether `a` and `b` are equal, in a time that does not depend on where they first differ.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The answer of a deployed function's `router` ([`behind_authorizer`]) to one API Gateway
/// request, as `lambda_http` hands it over and takes it back.
pub async fn answer(
    router: &Router,
    req: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    let response = match router.clone().oneshot(req).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    lambda_http::IntoResponse::into_response(response).await
}

/// Serves API Gateway's requests with `router` behind the authorizer's `claim`
/// ([`behind_authorizer`]) until the runtime stops, each answer measured under `function`'s name:
/// all an HTTP function's `main` does once its clients are built.
pub async fn serve_api(
    router: Router,
    claim: &str,
    function: &'static str,
) -> Result<(), lambda_http::Error> {
    let router = &behind_authorizer(router, claim);
    lambda_http::run(lambda_http::service_fn(
        move |req: lambda_http::Request| async move {
            Ok::<_, lambda_http::Error>(measured(&LogLines, function, answer(router, req)).await)
        },
    ))
    .await
}

/// A route's path parameters, deserialized into `T` (a struct of the route's `{names}`); a
/// parameter over [`MAX_PATH_PARAM_CHARS`] is refused by name before anything reads the store,
/// whose keys have limits of their own (DynamoDB refuses a sort key over 1 KB with an error that
/// would otherwise be a 500).
pub struct Ids<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Ids<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| Failure::BadRequest(format!("path: {}", e.body_text())))?;
        if let Some((name, _)) = raw
            .iter()
            .find(|(_, value)| value.chars().count() > MAX_PATH_PARAM_CHARS)
        {
            return Err(Failure::BadRequest(format!(
                "{name}: must be at most {MAX_PATH_PARAM_CHARS} characters"
            )));
        }
        let Path(ids) = Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|e| Failure::BadRequest(format!("path: {}", e.body_text())))?;
        Ok(Ids(ids))
    }
}

/// What holds the integrations a route's path may name: a function's app.
pub trait Integrations: Send + Sync {
    fn integrations(&self) -> &dyn IntegrationStore;
}

/// The integration the route's path names (`{integrationId}`), of the caller's account: 404
/// when it is not there or is another account's ([`integration_of`]).
pub struct TheIntegration(pub IntegrationRecord);

impl<A: Integrations + 'static> FromRequestParts<Arc<A>> for TheIntegration {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<A>) -> Result<Self, Failure> {
        let caller = Caller::from_request_parts(parts, app).await?;
        let Ids(path) = Ids::<IntegrationPath>::from_request_parts(parts, app).await?;
        let record = integration_of(app.integrations(), &caller, &path.integration).await?;
        Ok(TheIntegration(record))
    }
}

/// The path of every integration's route.
#[derive(serde::Deserialize)]
pub struct IntegrationPath {
    #[serde(rename = "integrationId")]
    pub integration: String,
}

/// The query string's pairs, in order (a route decides which it takes, and refuses the rest).
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    /// The first value of `name`.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map(|Query(pairs)| QueryPairs(pairs))
            .map_err(|e| Failure::BadRequest(format!("query: {}", e.body_text())))
    }
}

/// A JSON body, parsed by [`http_api::parse_body`]: a malformed one is a 400 naming the field.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| Failure::BadRequest(format!("body: {}", e.body_text())))?;
        http_api::parse_body(&bytes)
            .map(JsonBody)
            .map_err(Failure::Answered)
    }
}

/// What answers a request no route takes (API Gateway sends none such; a local listener may).
pub async fn no_route(req: Request) -> Failure {
    Failure::no_route(&format!("{} {}", req.method(), req.uri().path()))
}

/// A handler's answer: a response, or the failure that is answered instead.
pub type Answer = Result<lambda_http::Response<lambda_http::Body>, Failure>;

/// The integration `id` of the caller's account: not found when it is not there or is another
/// account's (404, the same answer: an id tells nobody whether another account holds it).
pub async fn integration_of(
    store: &dyn IntegrationStore,
    caller: &Caller,
    id: &str,
) -> Result<IntegrationRecord, Failure> {
    match store.get_integration(&caller.0, id).await? {
        Some(record) => Ok(record),
        None => Err(Failure::NotFound(format!(
            "integration {} not found",
            echoed(id)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::State;
    use lambda_http::Body;

    async fn echo(State(greeting): State<&'static str>, Caller(account): Caller) -> Answer {
        Ok(http_api::json(
            200,
            &serde_json::json!({"greeting": greeting, "account": account}),
        ))
    }

    async fn named(Ids(path): Ids<IntegrationPath>) -> Answer {
        Ok(http_api::json(200, &path.integration))
    }

    fn router() -> Router {
        let routes = vec![
            Route::new("GET /hello", echo),
            Route::new("POST /hello", echo),
            Route::new("GET /integrations/{integrationId}", named),
        ];
        behind_authorizer(router_of(routes, "hi"), "custom:account_id")
    }

    /// An API Gateway HTTP API request, its authorizer naming `account` when given.
    fn request(method: &str, path: &str, account: Option<&str>) -> lambda_http::Request {
        let claims = match account {
            Some(a) => serde_json::json!({"custom:account_id": a}),
            None => serde_json::json!({}),
        };
        let event = serde_json::json!({
            "version": "2.0", "routeKey": format!("{method} {path}"), "rawPath": path,
            "rawQueryString": "", "headers": {},
            "requestContext": {"accountId": "1", "apiId": "a", "domainName": "d",
                "domainPrefix": "d", "requestId": "r", "routeKey": format!("{method} {path}"),
                "stage": "$default", "time": "06/Dec/2026:12:00:00 +0000", "timeEpoch": 0,
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1", "userAgent": "t"},
                "authorizer": {"jwt": {"claims": claims, "scopes": null}}},
            "isBase64Encoded": false,
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    async fn status_and_body(req: lambda_http::Request) -> (u16, serde_json::Value) {
        let response = answer(&router(), req).await;
        let text = match response.body() {
            Body::Text(t) => t.clone(),
            Body::Binary(b) => String::from_utf8(b.clone()).unwrap(),
            Body::Empty => String::new(),
            _ => unreachable!("no other body"),
        };
        (
            response.status().as_u16(),
            serde_json::from_str(&text).unwrap_or_default(),
        )
    }

    #[tokio::test]
    async fn every_route_of_the_list_answers_for_the_account_the_authorizer_names() {
        for method in ["GET", "POST"] {
            let (status, body) = status_and_body(request(method, "/hello", Some("acme"))).await;
            assert_eq!(status, 200, "{method}: {body}");
            assert_eq!(
                body,
                serde_json::json!({"greeting": "hi", "account": "acme"})
            );
        }
    }

    #[tokio::test]
    async fn a_request_without_an_account_is_refused_before_any_route() {
        for path in ["/hello", "/nowhere"] {
            let (status, body) = status_and_body(request("GET", path, None)).await;
            assert_eq!(
                (status, &body["code"]),
                (401, &serde_json::json!("unauthorized"))
            );
        }
    }

    #[tokio::test]
    async fn no_route_and_an_oversized_id_are_named_in_their_answers() {
        let (status, body) = status_and_body(request("GET", "/nowhere", Some("acme"))).await;
        assert_eq!(status, 404, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("GET /nowhere"),
            "{body}"
        );
        let long = "x".repeat(MAX_PATH_PARAM_CHARS + 1);
        let path = format!("/integrations/{long}");
        let (status, body) = status_and_body(request("GET", &path, Some("acme"))).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("integrationId: must be at most"),
            "{body}"
        );
        let (status, body) =
            status_and_body(request("GET", "/integrations/i-1", Some("acme"))).await;
        assert_eq!((status, body), (200, serde_json::json!("i-1")));
    }
}
