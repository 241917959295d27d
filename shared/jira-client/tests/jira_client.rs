//! The Jira client against the simulator: retries, throttling, fatal errors, secrecy.

use std::time::Duration;

use jira_sim::scripted::{self, json_reply};
use jira_sim::{DatasetConfig, Mode, Settings, SimConfig, SimHandle};
use sei_jira_client::{
    Credentials, Deployment, JiraClient, JiraError, PrivateNetworks, RetryPolicy, Secret,
    SiteConfig,
};
use serde_json::{Value, json};

async fn sim(settings: Settings) -> (SimHandle, String) {
    let handle = jira_sim::start(SimConfig {
        dataset: DatasetConfig {
            issues: 300,
            ..DatasetConfig::default()
        },
        settings,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let info = jira_sim::describe(&handle);
    let token = jira_sim::user_token(&info, "alice@example.com").expect("a user of the simulator");
    (handle, token)
}

fn client(base: &str, token: &str, retries: usize) -> JiraClient {
    let mut config = SiteConfig::new(
        base,
        Deployment::Cloud,
        Credentials::ApiToken {
            email: "alice@example.com".into(),
            token: Secret::new(token),
        },
    );
    // The simulator listens on 127.0.0.1.
    config.private_networks = PrivateNetworks::local();
    // Short waits keep the test quick; the policy's shape is what is under test.
    config.retry = RetryPolicy {
        max_retries: retries,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
    };
    JiraClient::new(&config).unwrap()
}

async fn control(h: &SimHandle, settings: Value) {
    reqwest::Client::new()
        .put(format!("{}/_sim/control", h.base_url))
        .json(&settings)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

#[tokio::test]
async fn reads_typed_models() {
    let (h, token) = sim(Settings::default()).await;
    let c = client(&h.base_url, &token, 3);
    let me = c.myself().await.unwrap();
    assert_eq!(me.time_zone.as_deref(), Some("Pacific/Honolulu"));
    let projects = c.projects().await.unwrap();
    assert_eq!(projects.len(), 5);
    let fields = c.fields().await.unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f.schema.as_ref().and_then(|s| s.custom.as_deref())
                == Some("com.pyxis.greenhopper.jira:gh-sprint"))
    );
    let page = c
        .search_page("project = SRE", &["summary", "status"], true, 10, None)
        .await
        .unwrap();
    assert_eq!(page.issues.len(), 10);
    assert!(page.next_page_token.is_some());
    assert!(
        page.issues
            .iter()
            .all(|i| i.changelog.is_some() && i.fields.contains_key("summary"))
    );
    assert_eq!(c.stats().requests(), 4);
}

#[tokio::test]
async fn retries_5xx_and_dropped_connections_until_success() {
    let (h, token) = sim(Settings {
        fault_rate: 0.4,
        drop_share: 0.5,
        ..Settings::default()
    })
    .await;
    let c = client(&h.base_url, &token, 12);
    for _ in 0..30 {
        c.myself().await.expect("retries hide transient faults");
    }
    assert!(c.stats().retries() > 0);
    assert_eq!(c.stats().requests(), 30 + c.stats().retries());
}

#[tokio::test]
async fn honours_429_and_gives_up_after_its_budget() {
    let (h, token) = sim(Settings::default()).await;
    let c = client(&h.base_url, &token, 3);
    control(&h, json!({"force_429": 2})).await;
    let started = std::time::Instant::now();
    c.myself().await.expect("two 429s are retried");
    // Each 429 advised Retry-After: 1 s, a minimum the client must respect.
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(
        c.stats()
            .throttled
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );

    control(&h, json!({"force_429": 100})).await;
    let err = c.myself().await.unwrap_err();
    assert!(
        matches!(err, JiraError::RateLimited { attempts: 4, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("429"));
}

#[tokio::test]
async fn persistent_5xx_ends_in_a_clear_error() {
    let (h, token) = sim(Settings {
        fault_rate: 1.0,
        drop_share: 0.0,
        ..Settings::default()
    })
    .await;
    let err = client(&h.base_url, &token, 2).myself().await.unwrap_err();
    assert!(
        matches!(err, JiraError::Unavailable { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("HTTP 50"), "{err}");
}

#[tokio::test]
async fn authentication_failures_are_fatal_everywhere() {
    let (h, _) = sim(Settings::default()).await;
    let c = client(&h.base_url, "ATATT3x-wrong-but-secret-token", 5);
    // Search is anonymous-capable: Jira answers 200 with empty results and the Seraph header.
    let err = c
        .search_page("project = SRE", &["summary"], false, 10, None)
        .await
        .unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    let err = c.myself().await.unwrap_err();
    assert!(err.is_auth());
    assert_eq!(
        c.stats().retries(),
        0,
        "authentication failures are not retried"
    );
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains("wrong-but-secret"), "{text}");
    }
}

#[tokio::test]
async fn removed_search_and_bad_jql_are_named() {
    let (h, token) = sim(Settings::default()).await;
    let c = client(&h.base_url, &token, 1);
    let err = c
        .get::<Value>("/rest/api/3/search", &[("jql", "project = SRE".into())])
        .await
        .unwrap_err();
    assert!(matches!(err, JiraError::Gone { .. }), "{err:?}");
    let err = c
        .search_page("project = ", &["id"], false, 10, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, JiraError::Rejected { status: 400, message } if message.contains("Error in the JQL Query")),
        "{err:?}"
    );
}

#[tokio::test]
async fn unreachable_host_is_named() {
    let c = client("http://127.0.0.1:1", "t", 1);
    let err = c.myself().await.unwrap_err();
    assert!(matches!(err, JiraError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn data_center_uses_bearer_tokens_and_v2() {
    let handle = jira_sim::start(SimConfig {
        dataset: DatasetConfig {
            issues: 50,
            mode: Mode::DataCenter,
            ..DatasetConfig::default()
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let info = jira_sim::describe(&handle);
    let token = info["users"][0]["token"].as_str().unwrap();
    let c = JiraClient::new(&SiteConfig {
        private_networks: PrivateNetworks::local(),
        ..SiteConfig::new(
            &handle.base_url,
            Deployment::DataCenter,
            Credentials::PersonalAccessToken {
                token: Secret::new(token),
            },
        )
    })
    .unwrap();
    let me = c.myself().await.unwrap();
    assert_eq!(me.name.as_deref(), Some("alice"));
    let page = c
        .legacy_search_page("project = PLAT", &["summary"], true, 0, 20)
        .await
        .unwrap();
    assert!(page.total > 0 && page.issues.len() <= 20);
}

/// Requests that reached `/internal`.
static INWARD: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Every request is redirected to the site's own `/internal`, which serves what an attacker
/// would like to read (say, instance metadata).
fn redirect_inward(head: &str, addr: std::net::SocketAddr) -> String {
    if head.starts_with("GET /internal") {
        INWARD.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        json_reply("200 OK", r#"{"AccessKeyId":"SECRET-METADATA"}"#)
    } else {
        format!(
            "HTTP/1.1 302 Found\r\nlocation: http://{addr}/internal/latest?x=1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
    }
}

#[tokio::test]
async fn redirects_are_refused_never_followed() {
    let base = scripted::serve(redirect_inward).await;
    let c = client(&base, "ATATT3xSECRETTOKEN", 0);
    let err = c.myself().await.unwrap_err();
    let JiraError::Redirected { status, to } = &err else {
        panic!("not refused as a redirect: {err:?}")
    };
    assert_eq!(
        (*status, to.as_str()),
        (302, base.as_str()),
        "only the origin is named"
    );
    let text = err.to_string();
    assert!(
        !text.contains("SECRET-METADATA") && !text.contains("/internal"),
        "{text}"
    );
    assert_eq!(
        INWARD.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "never followed"
    );
}

/// GIVEN a site that echoes the request's Authorization header and the token in its error
/// bodies, THEN the client's errors carry neither, in any form.
#[tokio::test]
async fn credentials_echoed_in_error_bodies_are_cut_out() {
    fn echo(head: &str, _: std::net::SocketAddr) -> String {
        use base64::Engine;
        let auth = head
            .lines()
            .find_map(|l| l.strip_prefix("authorization: "))
            .unwrap_or_default()
            .trim();
        let credential = auth.split(' ').nth(1).unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credential)
            .map(|d| String::from_utf8_lossy(&d).into_owned())
            .unwrap_or_default();
        let message = format!("bad header {auth}; credential {credential}; user:token {decoded}");
        json_reply(
            "400 Bad Request",
            &json!({"errorMessages": [message]}).to_string(),
        )
    }
    use base64::Engine;
    let base = scripted::serve(echo).await;
    let token = "ATATT3xSECRETTOKEN0123456789";
    let err = client(&base, token, 0).myself().await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("bad header") && text.contains("[redacted]"),
        "{text}"
    );
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("alice@example.com:{token}"));
    assert!(!text.contains(token) && !text.contains(&basic), "{text}");
}

/// GIVEN a site that answers 200 with the token where a value of another type belongs, THEN
/// the error (the JSON parser quotes the text it could not read) does not carry it.
#[tokio::test]
async fn credentials_echoed_in_an_unreadable_success_are_cut_out() {
    const TOKEN: &str = "ATATT3xSECRETTOKEN0123456789";
    fn echo(_: &str, _: std::net::SocketAddr) -> String {
        json_reply("200 OK", &json!({ "active": TOKEN }).to_string())
    }
    let base = scripted::serve(echo).await;
    let err = client(&base, TOKEN, 0).myself().await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
}

/// GIVEN a site whose name leads to a loopback address, or whose URL is one, WHEN the client is
/// not allowed private networks, THEN no request is sent: the address is refused at the
/// connection (each one: the resolver checks every lookup), finally, without retries.
#[tokio::test]
async fn addresses_are_checked_at_every_connection() {
    let (handle, token) = sim(Settings::default()).await;
    let port = handle.base_url.rsplit(':').next().unwrap().to_string();
    let strict = |base: &str| {
        let mut config = SiteConfig::new(
            base,
            Deployment::Cloud,
            Credentials::ApiToken {
                email: "alice@example.com".into(),
                token: Secret::new(&token),
            },
        );
        config.retry.max_retries = 3;
        JiraClient::new(&config)
    };
    let by_name = strict(&format!("http://localhost:{port}")).unwrap();
    let err = by_name.myself().await.unwrap_err();
    let JiraError::AddressRefused { host, reason, .. } = &err else {
        panic!("not refused: {err:?}")
    };
    assert_eq!(
        (host.as_str(), *reason),
        ("localhost", "a loopback address")
    );
    assert_eq!(by_name.stats().retries(), 0, "a refusal is final");
    for literal in [
        format!("http://[::ffff:127.0.0.1]:{port}"),
        format!("http://127.0.0.1:{port}"),
    ] {
        match strict(&literal) {
            Err(JiraError::AddressRefused { reason, .. }) => {
                assert_eq!(reason, "a loopback address")
            }
            Err(other) => panic!("{literal}: {other:?}"),
            Ok(_) => panic!("{literal}: accepted"),
        }
    }
    let requests: Value = reqwest::get(format!("{}/_sim/requests", handle.base_url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(requests["total"], 0, "nothing reached the site: {requests}");
}

/// GIVEN a site whose answer is larger than the client reads (announced, or streamed without a
/// length), THEN the request fails with a named error instead of reading it all.
#[tokio::test]
async fn answers_past_the_size_limit_are_refused() {
    fn announced(_: &str, _: std::net::SocketAddr) -> String {
        json_reply("200 OK", &format!("{{\"pad\":\"{}\"}}", "x".repeat(4096)))
    }
    fn streamed(_: &str, _: std::net::SocketAddr) -> String {
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(4096));
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        )
    }
    for answer in [
        announced as fn(&str, std::net::SocketAddr) -> String,
        streamed,
    ] {
        let base = scripted::serve(answer).await;
        let mut config = SiteConfig::new(
            &base,
            Deployment::Cloud,
            Credentials::ApiToken {
                email: "alice@example.com".into(),
                token: Secret::new("ATATT3xSECRETTOKEN"),
            },
        );
        config.private_networks = PrivateNetworks::local();
        config.max_body_bytes = 1024;
        let err = JiraClient::new(&config)
            .unwrap()
            .myself()
            .await
            .unwrap_err();
        assert!(
            matches!(err, JiraError::TooLarge { limit: 1024 }),
            "{err:?}"
        );
        config.max_body_bytes = 64 * 1024;
        let ok = JiraClient::new(&config).unwrap().myself().await;
        assert!(ok.is_ok(), "{ok:?}");
    }
}

/// GIVEN a site that throttles with `Retry-After: 600` and a client whose deadline is a second
/// away, THEN the client does not wait: it answers at once that the wait would outlast it.
#[tokio::test]
async fn a_wait_past_the_deadline_is_an_error_at_once_not_a_sleep() {
    fn throttled(_: &str, _: std::net::SocketAddr) -> String {
        "HTTP/1.1 429 Too Many Requests\r\nretry-after: 600\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".to_string()
    }
    let base = scripted::serve(throttled).await;
    let mut config = SiteConfig::new(
        &base,
        Deployment::Cloud,
        Credentials::ApiToken {
            email: "alice@example.com".into(),
            token: Secret::new("token"),
        },
    );
    config.private_networks = PrivateNetworks::local();
    config.retry.max_retries = 5;
    config.deadline = Some(std::time::Instant::now() + Duration::from_secs(1));
    let c = JiraClient::new(&config).unwrap();
    let answered = tokio::time::timeout(Duration::from_secs(10), c.myself())
        .await
        .expect("answered without sleeping through Retry-After");
    let err = answered.unwrap_err();
    assert!(
        matches!(&err, JiraError::PastDeadline { wait, .. } if *wait >= Duration::from_secs(600)),
        "{err:?}"
    );
}
