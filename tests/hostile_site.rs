//! The bad-input catalogue's second half (issue #11, item 15): what a hostile or broken Jira
//! answers a sync, each named, each with the named failure the run records, and each checked to
//! change no stored issue. A loopback proxy in front of the Jira simulator passes everything
//! through but the one answer a row spoils; the sync function runs on moto as deployed.

#[path = "deployed.rs"]
mod deployed;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use deployed::*;
use serde_json::{Value, json};

/// Jira's answer (a success) as the simulator gave it, for a row to spoil, and the request's
/// JSON body (Null when it had none).
struct Answer {
    body: Vec<u8>,
    request: Value,
}

/// How a row makes Jira's answer hostile.
type Spoil = fn(Answer) -> Response;

/// One hostile answer: its name, which requests it spoils (a path fragment), how, and how the
/// run must end.
struct Row {
    name: &'static str,
    on: &'static str,
    spoil: Spoil,
    ends: Ends,
    /// The run may store issues the site answered unspoiled before the spoiled answer came (a
    /// listing's genuine first page, the window's edit before a census).
    may_store: bool,
}

enum Ends {
    /// Failed, recording this category, its message holding this text.
    Failed(&'static str, &'static str),
    /// Stopped at its checkpoint, to be resumed (a wait for Jira past the run's deadline).
    Partial,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    http: reqwest::Client,
    /// The path fragment of the requests being spoiled, and how.
    spoiling: Arc<Mutex<Option<(&'static str, Spoil)>>>,
}

async fn relay(
    State(proxy): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut forward = proxy
        .http
        .request(method, format!("{}{path}", proxy.upstream))
        .body(body.to_vec());
    for name in ["authorization", "content-type", "accept"] {
        if let Some(value) = headers.get(name) {
            forward = forward.header(name, value.as_bytes());
        }
    }
    let answer = forward.send().await.unwrap();
    let status = answer.status().as_u16();
    let content_type = answer
        .headers()
        .get("content-type")
        .map(|v| v.as_bytes().to_vec());
    let body = answer.bytes().await.unwrap().to_vec();
    let spoiling = *proxy.spoiling.lock().unwrap();
    match spoiling {
        Some((on, spoil)) if uri.path().contains(on) => spoil(Answer { body, request }),
        _ => {
            let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
            if let Some(ct) = content_type {
                response
                    .headers_mut()
                    .insert("content-type", ct.try_into().unwrap());
            }
            response
        }
    }
}

fn json_answer(value: &Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// The answer's JSON with `change` made to it.
fn edited(answer: Answer, change: impl FnOnce(&mut Value)) -> Response {
    let mut value: Value = serde_json::from_slice(&answer.body).unwrap();
    change(&mut value);
    json_answer(&value)
}

/// Every issue of a search or bulk-fetch answer, for a row to change.
fn each_issue(value: &mut Value, mut change: impl FnMut(&mut Value)) {
    for issue in value["issues"].as_array_mut().into_iter().flatten() {
        change(issue);
    }
}

fn status(code: u16, headers: &'static [(&'static str, &'static str)]) -> Response {
    let mut response = (
        StatusCode::from_u16(code).unwrap(),
        [("content-type", "application/json")],
        r#"{"errorMessages":["no"],"errors":{}}"#,
    )
        .into_response();
    for (name, value) in headers {
        response.headers_mut().insert(*name, value.parse().unwrap());
    }
    response
}

fn rows() -> Vec<Row> {
    const SEARCH: &str = "/search/jql";
    const FETCH: &str = "/issue/bulkfetch";
    let id_row = |name, spoil| Row {
        name,
        on: SEARCH,
        spoil,
        ends: Ends::Failed("unexpected_response", "not a positive integer"),
        may_store: false,
    };
    let mut rows = vec![
        id_row("an issue id that is a word", |a| {
            edited(a, |v| each_issue(v, |i| i["id"] = json!("abc")))
        }),
        id_row("an issue id of 0", |a| {
            edited(a, |v| each_issue(v, |i| i["id"] = json!("0")))
        }),
        id_row("a negative issue id", |a| {
            edited(a, |v| each_issue(v, |i| i["id"] = json!("-1")))
        }),
        id_row("an issue id of 2^64", |a| {
            edited(a, |v| {
                each_issue(v, |i| i["id"] = json!("18446744073709551616"))
            })
        }),
        Row {
            ends: Ends::Failed("unexpected_response", "expected a string"),
            ..id_row("an issue id that is a number", |a| {
                edited(a, |v| each_issue(v, |i| i["id"] = json!(10_001)))
            })
        },
        Row {
            ends: Ends::Failed("unexpected_response", "expected a string"),
            ..id_row("an issue id that is a list", |a| {
                edited(a, |v| each_issue(v, |i| i["id"] = json!(["10001"])))
            })
        },
    ];
    rows.extend([
        Row {
            name: "a search that says more follow, with the cursor it gave before",
            on: SEARCH,
            spoil: |a| {
                edited(a, |v| {
                    v["nextPageToken"] = json!("again");
                    v["isLast"] = json!(false);
                })
            },
            ends: Ends::Failed("listing_inconsistent", "did not advance"),
            // The first page's issues are Jira's own: the pipeline may store them before the
            // next page shows the listing stalled (it did in one run of three).
            may_store: true,
        },
        Row {
            name: "a search that says more follow, forever, with new cursors and no issues",
            on: SEARCH,
            spoil: |_| {
                static PAGE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let n = PAGE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                json_answer(
                    &json!({"issues": [], "nextPageToken": format!("p{n}"), "isLast": false}),
                )
            },
            ends: Ends::Failed("listing_inconsistent", "did not advance"),
            may_store: false,
        },
        Row {
            name: "an issue not asked for",
            on: FETCH,
            spoil: |a| edited(a, |v| each_issue(v, |i| i["id"] = json!("99999999"))),
            ends: Ends::Failed("unexpected_response", "not asked for"),
            may_store: false,
        },
        Row {
            name: "custom fields nested 200 levels deep",
            on: FETCH,
            spoil: |a| {
                let mut deep = json!("bottom");
                for _ in 0..200 {
                    deep = json!({ "value": deep });
                }
                edited(a, |v| {
                    each_issue(v, |i| i["fields"]["customfield_10999"] = deep.clone())
                })
            },
            ends: Ends::Failed("unexpected_response", "recursion limit"),
            may_store: false,
        },
        Row {
            name: "JSON cut off in the middle",
            on: FETCH,
            spoil: |a| {
                let cut = a.body[..a.body.len() / 2].to_vec();
                (StatusCode::OK, [("content-type", "application/json")], cut).into_response()
            },
            ends: Ends::Failed("unexpected_response", "EOF while parsing"),
            may_store: false,
        },
        Row {
            name: "invalid UTF-8 inside a string",
            on: FETCH,
            spoil: |a| {
                let text = String::from_utf8(a.body).unwrap();
                let at = text.find("\"key\":\"").unwrap() + 7;
                let mut bytes = text.into_bytes();
                bytes.splice(at..at, [0xff, 0xfe, 0xc3]);
                (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    bytes,
                )
                    .into_response()
            },
            ends: Ends::Failed("unexpected_response", "invalid unicode"),
            may_store: false,
        },
        Row {
            name: "a body announced as 2 GiB",
            on: FETCH,
            spoil: |_| {
                let chunks = futures_util::stream::repeat_with(|| {
                    Ok::<_, std::io::Error>(Bytes::from_static(&[b' '; 64 * 1024]))
                });
                let mut response = Response::new(Body::from_stream(chunks));
                let headers = response.headers_mut();
                headers.insert("content-type", "application/json".parse().unwrap());
                headers.insert("content-length", "2147483648".parse().unwrap());
                response
            },
            ends: Ends::Failed("unexpected_response", "larger than"),
            may_store: false,
        },
        Row {
            name: "an HTML page with 200 OK",
            on: FETCH,
            spoil: |_| {
                (
                    StatusCode::OK,
                    [("content-type", "text/html")],
                    "<html><body>Log in</body></html>",
                )
                    .into_response()
            },
            ends: Ends::Failed("unexpected_response", "expected value"),
            may_store: false,
        },
        Row {
            name: "an empty body with 200 OK",
            on: FETCH,
            spoil: |_| (StatusCode::OK, [("content-type", "application/json")], "").into_response(),
            ends: Ends::Failed("unexpected_response", "EOF while parsing"),
            may_store: false,
        },
        Row {
            name: "a list where an object belongs",
            on: FETCH,
            spoil: |_| json_answer(&json!([1, 2, 3])),
            ends: Ends::Failed("unexpected_response", "invalid type"),
            may_store: false,
        },
        Row {
            name: "500 on every try",
            on: SEARCH,
            spoil: |_| status(500, &[]),
            ends: Ends::Failed("jira_unavailable", "kept failing"),
            may_store: false,
        },
        Row {
            name: "429 on every try, Retry-After NaN",
            on: SEARCH,
            spoil: |_| status(429, &[("retry-after", "NaN")]),
            ends: Ends::Failed("rate_limited", "still throttled"),
            may_store: false,
        },
        Row {
            name: "429 on every try, Retry-After a century",
            on: SEARCH,
            spoil: |_| status(429, &[("retry-after", "3153600000")]),
            ends: Ends::Partial,
            may_store: false,
        },
        Row {
            name: "401 in the middle of a sync",
            on: SEARCH,
            spoil: |_| status(401, &[]),
            ends: Ends::Failed("credentials_rejected", "rejected the credentials"),
            may_store: false,
        },
        Row {
            name: "403 in the middle of a sync",
            on: FETCH,
            spoil: |_| status(403, &[]),
            ends: Ends::Failed("permission_missing", "refused access"),
            may_store: false,
        },
        Row {
            name: "410 for the search API",
            on: SEARCH,
            spoil: |_| status(410, &[]),
            ends: Ends::Failed("api_removed", "removed this API"),
            may_store: false,
        },
        Row {
            name: "a redirect to the metadata service",
            on: SEARCH,
            spoil: |_| {
                status(
                    302,
                    &[("location", "http://169.254.169.254/latest/meta-data/")],
                )
            },
            ends: Ends::Failed("site_unreachable", "redirects are not followed"),
            may_store: false,
        },
        Row {
            name: "a search that repeats its page",
            on: SEARCH,
            spoil: |a| {
                static FIRST: Mutex<Option<Vec<u8>>> = Mutex::new(None);
                let page = FIRST.lock().unwrap().get_or_insert(a.body).clone();
                edited(Answer { body: page, ..a }, |v| {
                    v["isLast"] = json!(false);
                    v["nextPageToken"] = json!("more");
                })
            },
            ends: Ends::Failed("listing_inconsistent", "restart was not honoured"),
            may_store: true,
        },
        Row {
            name: "a search whose restart is ignored",
            on: SEARCH,
            spoil: |a| {
                static FIRST: Mutex<Option<Vec<u8>>> = Mutex::new(None);
                let restarted = !a.request["jql"].as_str().unwrap_or("").contains("id > 0 ");
                let page = FIRST.lock().unwrap().get_or_insert(a.body).clone();
                edited(Answer { body: page, ..a }, |v| {
                    v["isLast"] = json!(false);
                    v["nextPageToken"] = json!("more");
                    // From the start of the listing again, and on past the restart point.
                    if restarted {
                        v["issues"]
                            .as_array_mut()
                            .unwrap()
                            .push(json!({"id": "99999999", "key": "HOST-99999999", "fields": {}}));
                    }
                })
            },
            ends: Ends::Failed("listing_inconsistent", "restart was not honoured"),
            may_store: true,
        },
        Row {
            name: "a search that answers another project's issues",
            on: SEARCH,
            spoil: |a| {
                edited(a, |v| {
                    each_issue(v, |i| i["fields"]["project"] = json!({"key": "ELSEWHERE"}))
                })
            },
            ends: Ends::Failed("listing_inconsistent", "of project ELSEWHERE"),
            may_store: false,
        },
        Row {
            name: "issueErrors in a bulk fetch",
            on: FETCH,
            spoil: |a| {
                edited(a, |v| {
                    let ids: Vec<Value> = v["issues"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|i| i["id"].clone())
                        .collect();
                    v["issues"] = json!([]);
                    v["issueErrors"] = json!([{"issueIdsOrKeys": ids,
                        "errorMessages": ["Issue does not exist or you do not have permission to see it."]}]);
                })
            },
            ends: Ends::Failed("issues_missing", "were not answered"),
            may_store: false,
        },
        Row {
            name: "ids left out of a bulk fetch",
            on: FETCH,
            spoil: |a| edited(a, |v| v["issues"] = json!([])),
            ends: Ends::Failed("issues_missing", "were not answered"),
            may_store: false,
        },
        Row {
            name: "a count that disagrees with the listing",
            on: "/search/approximate-count",
            spoil: |a| edited(a, |v| v["count"] = json!(999_999)),
            ends: Ends::Failed("count_shortfall", "Jira counts 999999"),
            may_store: true,
        },
    ]);
    rows
}

/// The stored issues and their index, as text.
async fn issues_stored(w: &World, id: &str) -> String {
    let issues = [
        format!("INT#{id}#ISSUE"),
        format!("INT#{id}#INDEX"),
        format!("INT#{id}#PART"),
    ];
    w.table_dump()
        .await
        .lines()
        .filter(|l| issues.iter().any(|p| l.contains(&format!("pk=S(\"{p}"))))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_answer_fails_the_run_by_name_and_changes_no_stored_issue() {
    let (mut w, site) = stage(30, 1).await;
    let (base, token) = (site.base.clone(), site.token.clone());
    let proxy = Proxy {
        upstream: base.clone(),
        http: reqwest::Client::new(),
        spoiling: Arc::new(Mutex::new(None)),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .fallback(relay)
        .with_state(proxy.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let id = w.create_alices("Hostile", &front, &token).await;
    let trigger = json!({"source": "sei-jira", "detail-type": "jira.sync.continuation",
        "detail": {"account_id": "acme", "integration_id": id, "trigger": "manual"}});
    let first = w.sync(trigger.clone(), None, "run-first").await;
    assert_eq!(first["outcome"], "succeeded", "{first}");

    let truth = e2e::hygiene_truth::truth(&base, "alice@example.com").await;
    let runs = store(&w.config, &w.table);
    let rows = rows();
    let mut wrong = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        // Something new to fetch: an issue edited since the last run.
        let key = truth[n % truth.len()]["key"].as_str().unwrap();
        let edited = reqwest::Client::new()
            .post(format!("{base}/_sim/issues/{key}/edit"))
            .json(&json!({"summary": format!("edited for {}", row.name)}))
            .send()
            .await
            .unwrap();
        assert!(edited.status().is_success());
        let before = issues_stored(&w, &id).await;
        *proxy.spoiling.lock().unwrap() = Some((row.on, row.spoil));
        let run_id = format!("run-{n}");
        // As in Lambda, the run has a deadline: no wait for Jira may outlast it.
        let deadline = Instant::now() + Duration::from_secs(30);
        let out = w.sync(trigger.clone(), Some(deadline), &run_id).await;
        *proxy.spoiling.lock().unwrap() = None;

        let recorded = runs.list_runs(&id, 0).await.unwrap();
        let run = recorded.iter().find(|r| r.run_id == run_id);
        let failure = run.and_then(|r| r.errors.first());
        let category = failure.map(|e| serde_json::to_value(e.category).unwrap());
        let message = failure.map(|e| e.message.clone()).unwrap_or_default();
        let as_named = match row.ends {
            Ends::Failed(want, says) => {
                out["outcome"] == "failed"
                    && category == Some(json!(want))
                    && message.contains(says)
            }
            // Stopped at its checkpoint, saying why.
            Ends::Partial => {
                out["outcome"] == "partial"
                    && category == Some(json!("rate_limited"))
                    && message.contains("asked for a wait")
            }
        };
        if !as_named {
            wrong.push(format!("{}: {out} / {category:?} {message}", row.name));
        }
        if !row.may_store && issues_stored(&w, &id).await != before {
            wrong.push(format!("{}: changed a stored issue", row.name));
        }
    }
    // The site answers well again: the next run takes every edit.
    let last = w.sync(trigger, None, "run-last").await;
    assert_eq!(last["outcome"], "succeeded", "{last}");
    e2e::assert_no_wrong_rows(&wrong, rows.len());
}
