//! Credential validation against the simulator: every failure mode yields its own named check.

use jira_sim::{DatasetConfig, Mode, SimConfig, SimHandle};
use sei_jira_core::jira::{Deployment, PrivateNetworks, Secret};
use sei_jira_core::validation::{
    AuthMethod, CheckId, ConnectionRequest, Outcome, Report, ValidationSettings, validate,
};
use serde_json::Value;

async fn sim(mode: Mode) -> (SimHandle, Value) {
    let handle = jira_sim::start(SimConfig {
        dataset: DatasetConfig {
            issues: 50,
            mode,
            ..DatasetConfig::default()
        },
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let info = jira_sim::describe(&handle);
    (handle, info)
}

/// A Cloud site in the simulator (kept running while its handle lives), its description, its
/// URL, the local validation settings for it, and alice's token.
async fn cloud_site() -> (SimHandle, Value, String, ValidationSettings, String) {
    let (h, info) = sim(Mode::Cloud).await;
    let base = h.base_url.clone();
    let settings = local(&base);
    let alice = token(&info, "alice@example.com");
    (h, info, base, settings, alice)
}

fn token(info: &Value, email: &str) -> String {
    jira_sim::user_token(info, email).expect("a user of the simulator")
}

fn local(base: &str) -> ValidationSettings {
    // The simulator plays Atlassian's gateway too, so scoped tokens can be recognised.
    ValidationSettings {
        private_networks: PrivateNetworks::local(),
        gateway_url: base.to_string(),
        ..ValidationSettings::default()
    }
}

fn request(url: &str, email: &str, token: &str) -> ConnectionRequest {
    ConnectionRequest {
        deployment: Deployment::Cloud,
        auth_method: AuthMethod::ApiToken,
        url: url.into(),
        email: Some(email.into()),
        token: Secret::new(token),
        jql: None,
    }
}

async fn run(handle: &SimHandle, info: &Value, email: &str) -> Report {
    validate(
        &request(&handle.base_url, email, &token(info, email)),
        &local(&handle.base_url),
    )
    .await
}

#[tokio::test]
async fn a_good_user_passes_every_check() {
    let (h, info) = sim(Mode::Cloud).await;
    let mut req = request(
        &h.base_url,
        "bob@example.com",
        &token(&info, "bob@example.com"),
    );
    req.jql =
        Some("project in (PLAT, SRE) AND updated >= -90d AND issuetype in (Bug, Story)".into());
    let report = validate(&req, &local(&h.base_url)).await;
    assert!(report.passed(), "{report:#?}");
    assert_eq!(
        report.identity.as_ref().unwrap().time_zone.as_deref(),
        Some("Pacific/Tongatapu")
    );
    assert_eq!(report.outcome(CheckId::Jql), Some(Outcome::Passed));
}

/// Each case fails exactly the checks named with it, each failure says why, and no message
/// carries the token.
async fn each_fails_its_own_checks(
    cases: Vec<(ConnectionRequest, ValidationSettings, Vec<CheckId>)>,
) {
    for (req, settings, expected) in cases {
        let report = validate(&req, &settings).await;
        assert_eq!(
            report.failed(),
            expected,
            "{} {:?}: {report:#?}",
            req.url,
            req.email
        );
        for c in &report.checks {
            assert!(c.outcome != Outcome::Failed || !c.message.is_empty());
            assert!(
                !c.message.contains(req.token.expose()) || req.token.expose().len() < 8,
                "token leaked: {}",
                c.message
            );
        }
    }
}

/// The site, the token and the user each fail their own check: a malformed URL, an unreachable
/// site, a wrong token, a scoped token, a service account.
#[tokio::test]
async fn the_site_the_token_and_the_user_each_fail_their_own_check() {
    let (_site, info, base, settings, alice) = cloud_site().await;
    each_fails_its_own_checks(vec![
        (
            request("not a url", "alice@example.com", &alice),
            settings.clone(),
            vec![CheckId::UrlFormat],
        ),
        (
            request("http://127.0.0.1:1", "alice@example.com", &alice),
            settings.clone(),
            vec![CheckId::Reachable],
        ),
        (
            request(&base, "alice@example.com", "wrong-token"),
            settings.clone(),
            vec![CheckId::Authenticated],
        ),
        (
            request(
                &base,
                "scoped@example.com",
                &token(&info, "scoped@example.com"),
            ),
            settings.clone(),
            vec![CheckId::ClassicToken],
        ),
        (
            request(
                &base,
                "sync-bot@serviceaccount.atlassian.com",
                &token(&info, "sync-bot@serviceaccount.atlassian.com"),
            ),
            settings.clone(),
            vec![CheckId::RealUser],
        ),
    ])
    .await;
}

/// Each missing permission fails its own check.
#[tokio::test]
async fn each_missing_permission_fails_its_own_check() {
    let (_site, info, base, settings, _) = cloud_site().await;
    each_fails_its_own_checks(vec![
        (
            request(&base, "nora@example.com", &token(&info, "nora@example.com")),
            settings.clone(),
            vec![CheckId::BrowseProjects],
        ),
        (
            request(
                &base,
                "carol@example.com",
                &token(&info, "carol@example.com"),
            ),
            settings.clone(),
            vec![CheckId::ViewAggregatedData],
        ),
        (
            request(&base, "dave@example.com", &token(&info, "dave@example.com")),
            settings.clone(),
            vec![CheckId::BrowseUsers, CheckId::UserPicker],
        ),
    ])
    .await;
}

/// A JQL naming an unknown project, and one that does not parse, fail the JQL check.
#[tokio::test]
async fn an_unusable_jql_fails_the_jql_check() {
    let (_site, _, base, settings, alice) = cloud_site().await;
    each_fails_its_own_checks(vec![
        (
            ConnectionRequest {
                jql: Some("project = NOPE AND status = Done".into()),
                ..request(&base, "alice@example.com", &alice)
            },
            settings.clone(),
            vec![CheckId::Jql],
        ),
        (
            ConnectionRequest {
                jql: Some("invalid query".into()),
                ..request(&base, "alice@example.com", &alice)
            },
            settings.clone(),
            vec![CheckId::Jql],
        ),
    ])
    .await;
}

/// Addresses outside what the deployment allows fail the URL checks before any connection.
#[tokio::test]
async fn addresses_the_deployment_does_not_allow_fail_the_url_checks() {
    let (_site, _, base, settings, alice) = cloud_site().await;
    each_fails_its_own_checks(vec![
        // Outside local mode: private and loopback targets are refused before any connection.
        (
            request("https://10.0.0.7", "alice@example.com", &alice),
            ValidationSettings::default(),
            vec![CheckId::UrlAllowed],
        ),
        (
            request("https://169.254.169.254", "alice@example.com", &alice),
            ValidationSettings::default(),
            vec![CheckId::UrlAllowed],
        ),
        // Private networks allowed (everything, even): the metadata service and link-local
        // addresses stay refused.
        (
            ConnectionRequest {
                deployment: Deployment::DataCenter,
                ..request("http://169.254.169.254", "alice@example.com", &alice)
            },
            ValidationSettings {
                private_networks: PrivateNetworks::parse("0.0.0.0/0,::/0").unwrap(),
                ..settings.clone()
            },
            vec![CheckId::UrlAllowed],
        ),
        (
            ConnectionRequest {
                deployment: Deployment::DataCenter,
                ..request("http://[fe80::1]:8080", "alice@example.com", &alice)
            },
            settings.clone(),
            vec![CheckId::UrlAllowed],
        ),
        // A deployment's list opens what it names, and no more.
        (
            request("https://10.0.0.7", "alice@example.com", &alice),
            ValidationSettings {
                private_networks: PrivateNetworks::parse("10.20.0.0/16").unwrap(),
                ..settings.clone()
            },
            vec![CheckId::UrlAllowed],
        ),
        (
            request(&base, "alice@example.com", &alice),
            ValidationSettings::default(),
            vec![CheckId::UrlFormat],
        ),
    ])
    .await;
}

/// An authentication method or a deployment the site does not support fails its own check.
#[tokio::test]
async fn an_unsupported_method_or_deployment_fails_its_own_check() {
    let (_site, _, base, settings, alice) = cloud_site().await;
    each_fails_its_own_checks(vec![
        (
            ConnectionRequest {
                auth_method: AuthMethod::ConnectApp,
                ..request(&base, "alice@example.com", &alice)
            },
            settings.clone(),
            vec![CheckId::AuthMethod],
        ),
        (
            ConnectionRequest {
                deployment: Deployment::DataCenter,
                ..request(&base, "alice@example.com", &alice)
            },
            settings.clone(),
            vec![CheckId::Deployment],
        ),
    ])
    .await;
}

/// GIVEN a Cloud token the site refuses, on a site that is not an Atlassian Cloud site (the
/// simulator here, as a custom host), and a Data Center site, WHEN they are validated with
/// Atlassian's gateway elsewhere (a server standing in for it), THEN no request reaches it: a
/// token goes to no host but its site's. The check says the scoped-token question was not asked.
#[tokio::test]
async fn a_token_is_sent_to_no_host_but_its_own_site() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static ASKED: AtomicUsize = AtomicUsize::new(0);
    fn gateway(_: &str, _: std::net::SocketAddr) -> String {
        ASKED.fetch_add(1, Ordering::SeqCst);
        jira_sim::scripted::json_reply(
            "200 OK",
            r#"{"accountId": "x", "accountType": "atlassian"}"#,
        )
    }
    let elsewhere = jira_sim::scripted::serve(gateway).await;
    let settings = ValidationSettings {
        gateway_url: elsewhere.clone(),
        ..local("http://unused.invalid")
    };
    let (cloud, info) = sim(Mode::Cloud).await;
    let scoped = token(&info, "scoped@example.com");
    for (email, token) in [
        ("alice@example.com", "wrong-token"),
        ("scoped@example.com", scoped.as_str()),
    ] {
        let report = validate(&request(&cloud.base_url, email, token), &settings).await;
        assert_eq!(report.failed(), vec![CheckId::Authenticated], "{report:#?}");
        let authenticated = report
            .checks
            .iter()
            .find(|c| c.id == CheckId::Authenticated);
        assert!(
            authenticated.unwrap().message.contains("was not checked"),
            "{report:#?}"
        );
    }
    let (dc, _) = sim(Mode::DataCenter).await;
    let req = ConnectionRequest {
        deployment: Deployment::DataCenter,
        email: None,
        ..request(&dc.base_url, "", "wrong-token")
    };
    assert_eq!(
        validate(&req, &settings).await.failed(),
        vec![CheckId::Authenticated]
    );
    assert_eq!(
        ASKED.load(Ordering::SeqCst),
        0,
        "the stand-in gateway was asked"
    );
}

/// GIVEN a site that answers 429 with `Retry-After: 900` when the user signs in, WHEN its
/// credentials are validated, THEN the answer comes within the validation's deadline (under API
/// Gateway's 30 s), the failed check saying Jira asked to wait; it used to wait 15 minutes.
#[tokio::test]
async fn a_site_that_asks_for_a_long_wait_is_answered_within_the_deadline() {
    let (h, info) = sim(Mode::Cloud).await;
    let throttle = serde_json::json!({"force_429": 100, "force_429_wait_secs": 900,
        "force_429_path": "/myself"});
    let set = reqwest::Client::new()
        .put(format!("{}/_sim/control", h.base_url))
        .json(&throttle)
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success());
    let started = std::time::Instant::now();
    let report = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        run(&h, &info, "alice@example.com"),
    )
    .await
    .expect("answered within 30 s");
    assert!(started.elapsed() < ValidationSettings::default().deadline);
    assert_eq!(report.failed(), vec![CheckId::Authenticated], "{report:#?}");
    let check = report
        .checks
        .iter()
        .find(|c| c.id == CheckId::Authenticated);
    assert!(check.unwrap().message.contains("wait"), "{report:#?}");
}

#[tokio::test]
async fn erin_passes_with_partial_project_access() {
    // Permissions without a project context count if held in any project.
    let (h, info) = sim(Mode::Cloud).await;
    assert!(run(&h, &info, "erin@example.com").await.passed());
}

#[tokio::test]
async fn data_center_with_a_personal_access_token() {
    let (h, info) = sim(Mode::DataCenter).await;
    let req = ConnectionRequest {
        deployment: Deployment::DataCenter,
        email: None,
        ..request(&h.base_url, "", &token(&info, "alice@example.com"))
    };
    let report = validate(&req, &local(&h.base_url)).await;
    assert!(report.passed(), "{report:#?}");
    // Asked as Cloud (an email and the token as an API token), the site has no Cloud API: the
    // product check says it is Data Center, rather than that the URL is wrong.
    let as_cloud = ConnectionRequest {
        deployment: Deployment::Cloud,
        email: Some("alice@example.com".into()),
        ..req.clone()
    };
    let report = validate(&as_cloud, &local(&h.base_url)).await;
    assert_eq!(report.failed(), vec![CheckId::Deployment], "{report:#?}");
    let product = report
        .checks
        .iter()
        .find(|c| c.id == CheckId::Deployment)
        .unwrap();
    assert!(product.message.contains("Data Center"), "{product:?}");
    let wrong = ConnectionRequest {
        token: Secret::new("nope"),
        ..req
    };
    assert_eq!(
        validate(&wrong, &local(&h.base_url)).await.failed(),
        vec![CheckId::Authenticated]
    );
}

/// What Jira answered of a validation: its requests and the most answered at once.
async fn requests_seen(base: &str) -> (u64, u64) {
    let log: Value = reqwest::get(format!("{base}/_sim/requests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        log["total"].as_u64().unwrap(),
        log["peak_in_flight"].as_u64().unwrap(),
    )
}

/// Requests no answer depends on go out side by side: the sign-in beside the anonymous
/// serverInfo, the permissions beside the users' listing and the JQL.
#[tokio::test]
async fn checks_that_do_not_depend_on_each_other_ask_side_by_side() {
    // GIVEN a site answering every request in 50 ms
    let start = |_| async {
        let handle = jira_sim::start(SimConfig {
            dataset: DatasetConfig {
                issues: 50,
                ..DatasetConfig::default()
            },
            settings: jira_sim::Settings {
                latency_ms: 50,
                ..jira_sim::Settings::default()
            },
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let info = jira_sim::describe(&handle);
        (handle, info)
    };
    // WHEN a good user with a filter is checked
    let (site, info) = start(()).await;
    let project = info["projects"][0].as_str().unwrap();
    let with_filter = ConnectionRequest {
        jql: Some(format!("project = {project}")),
        ..request(
            &site.base_url,
            "alice@example.com",
            &token(&info, "alice@example.com"),
        )
    };
    let report = validate(&with_filter, &local(&site.base_url)).await;
    // THEN every check passes, and the permissions, the users' listing, the JQL and its count
    // were asked at once (six requests in two waves)
    assert!(report.passed(), "{report:?}");
    assert_eq!(requests_seen(&site.base_url).await, (6, 4));

    // WHEN a token the site refuses is checked
    let (site, _) = start(()).await;
    let refused = request(&site.base_url, "alice@example.com", "not-a-token");
    let report = validate(&refused, &local(&site.base_url)).await;
    // THEN the sign-in went beside serverInfo, and nothing was asked past the refusal but what
    // tells a scoped token (the site's tenant info, then Atlassian's gateway, played by the
    // simulator)
    assert!(!report.passed());
    assert_eq!(requests_seen(&site.base_url).await, (4, 2));
}
