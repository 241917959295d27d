//! The console's way to the API: a request to the same router the listener serves, in-process,
//! with the run's bearer token, answered exactly as a platform's request would be.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

#[derive(Clone)]
pub struct Api {
    router: Router,
    authorization: String,
}

/// One answer: its status and JSON body (Null when it had none).
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The error's message, as the API words it (naming the field for a bad request).
    pub fn message(&self) -> String {
        match self.body["message"].as_str() {
            Some(m) => m.to_string(),
            None => format!("the API answered {}", self.status),
        }
    }
}

impl Api {
    /// `router` behind its bearer `token`.
    pub fn new(router: Router, token: &str) -> Self {
        Api {
            router,
            authorization: format!("Bearer {token}"),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn send(&self, method: Method, path: &str, body: &Value) -> Answer {
        self.call(method, path, Some(body)).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, &self.authorization);
        let body = match body {
            Some(b) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let request = request.body(body).expect("a request of a valid path");
        let answer = match self.router.clone().oneshot(request).await {
            Ok(answer) => answer,
            Err(never) => match never {},
        };
        let status = answer.status();
        let bytes = axum::body::to_bytes(answer.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }
}

/// `segment` made safe for a path (an issue key or id a person typed).
pub fn seg(segment: &str) -> String {
    form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// The strings of a JSON array (empty when it is not one).
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}
