//! The deployed product end to end, without AWS: the three functions' handlers called with real
//! API Gateway HTTP API (payload v2) event JSON and real EventBridge events, on DynamoDB, Secrets
//! Manager, EventBridge Scheduler, EventBridge and SQS served by moto on 127.0.0.1, against the
//! Jira simulator.
//!
//! GIVEN a site in the simulator, WHEN an account creates an integration, its schedule fires, the
//! sync stops early and continues, THEN monitoring shows the ingested issues, the onboarded
//! projects and a Healthy day; a sync against a failing site shows Unhealthy; an integration that
//! never ran shows No Data; another account sees none of it; no token appears anywhere.
//!
//! Every request the tests send and every answer they get is checked against its operation in
//! `docs/openapi.yaml` (`e2e::openapi`), and one test calls every route the handlers serve.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use lambda_http::tracing::subscriber::filter::LevelFilter;
use lambda_http::{Body, Response};
use sei_jira_aws::dynamo::DynamoStore;
use sei_jira_aws::events::EventBridgePublisher;
use sei_jira_aws::scheduler::EventBridgeScheduler;
use sei_jira_aws::secrets::SecretsManagerStore;
use sei_jira_core::integrations::Settings;
use sei_jira_core::jira::RetryPolicy;
use sei_jira_core::store::Store;
use sei_jira_core::validation::ValidationSettings;
use serde_json::{Value, json};

const CLAIM: &str = "custom:account_id";
const GROUP: &str = "sei-jira-e2e";
const SYNC_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:sync-project";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/sei-jira-scheduler";

/// Everything the handlers log, to scan for tokens.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process's log subscriber, installed by the first test that asks; the tests of this file
/// share it, so each token scan also covers what the other tests logged.
fn capture_logs() -> Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        // The functions' own subscriber, at its most verbose: no level may log a token.
        sei_jira_lambda::logging::init_with(LevelFilter::TRACE, true, move || writer.clone());
        logs
    })
    .clone()
}

/// An API Gateway HTTP API (payload format 2.0) event, as the JWT authorizer passes it on, for
/// `request`: a route key with an optional query (`GET /integrations/{integrationId}?a=b`), its
/// path parameters filled from `ids` in order. An empty `account` leaves the account claim out of
/// the token.
fn http_event(account: &str, request: &str, ids: &[&str], body: Option<Value>) -> String {
    let (route, raw_query) = request.split_once('?').unwrap_or((request, ""));
    let (method, template) = route.split_once(' ').unwrap();
    let mut ids = ids.iter();
    let mut params = serde_json::Map::new();
    let mut segments = Vec::new();
    for segment in template.split('/') {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let value = *ids
                    .next()
                    .unwrap_or_else(|| panic!("no {{{name}}} for {route}"));
                params.insert(name.into(), json!(value));
                segments.push(value);
            }
            None => segments.push(segment),
        }
    }
    assert!(ids.next().is_none(), "more ids than {route} has parameters");
    let raw_path = segments.join("/");
    let query: serde_json::Map<String, Value> = raw_query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let mut claims =
        json!({"sub": format!("user-of-{account}"), "iss": "https://issuer.example.com"});
    if !account.is_empty() {
        claims[CLAIM] = json!(account);
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": {"content-type": "application/json", "host": "api.example.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "e2eapi",
            "authorizer": {"jwt": {"claims": claims, "scopes": null}},
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "e2e"},
            "requestId": "req-1",
            "routeKey": route,
            "stage": "$default",
            "time": "29/Nov/2026:06:00:00 +0000",
            "timeEpoch": 1_795_932_000_000i64
        },
        "pathParameters": if params.is_empty() { Value::Null } else { Value::Object(params) },
        "isBase64Encoded": false
    });
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if let Some(b) = body {
        event["body"] = json!(b.to_string());
    }
    event.to_string()
}

struct World {
    config: SdkConfig,
    table: String,
    queue_url: String,
    api: validate_credentials::App,
    sync: sync_project::App,
    monitoring: monitoring_query::App,
    /// Every response body and event seen, for the token scan.
    seen: Vec<String>,
    /// What requests and answers are checked against.
    contract: e2e::openapi::OpenApi,
    /// The routes that have answered with a 2xx.
    succeeded: BTreeSet<String>,
}

fn store(config: &SdkConfig, table: &str) -> Box<dyn Store> {
    Box::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(config),
        table,
    ))
}

impl World {
    async fn new(endpoint: &str, gateway: &str) -> World {
        let config = sei_jira_aws::local_sdk_config(endpoint, "us-east-1")
            .await
            .unwrap();
        let table = "sei-jira-e2e".to_string();
        DynamoStore::create_table(&aws_sdk_dynamodb::Client::new(&config), &table)
            .await
            .unwrap();
        aws_sdk_scheduler::Client::new(&config)
            .create_schedule_group()
            .name(GROUP)
            .send()
            .await
            .unwrap();
        let bus = "sei-jira-e2e";
        let events = aws_sdk_eventbridge::Client::new(&config);
        events.create_event_bus().name(bus).send().await.unwrap();
        let sqs = aws_sdk_sqs::Client::new(&config);
        let queue_url = sqs
            .create_queue()
            .queue_name("sei-jira-e2e-events")
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_string();
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes()
            .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
            .clone();
        // The template's continuation rule targets the sync function; here every event of ours
        // goes to a queue the test reads, and the test hands continuations to the function.
        events
            .put_rule()
            .name("all-sei-jira")
            .event_bus_name(bus)
            .event_pattern(json!({"source": ["sei-jira"]}).to_string())
            .send()
            .await
            .unwrap();
        events
            .put_targets()
            .rule("all-sei-jira")
            .event_bus_name(bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(queue_arn)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let publisher = || EventBridgePublisher {
            client: aws_sdk_eventbridge::Client::new(&config),
            bus: bus.to_string(),
        };
        let secrets = || SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&config));
        // Local mode: the simulator is on loopback; its gateway route recognises scoped tokens.
        let validation = ValidationSettings {
            allow_private_network: true,
            gateway_url: gateway.to_string(),
            timeout: Duration::from_secs(10),
        };
        World {
            api: validate_credentials::App {
                store: store(&config, &table),
                secrets: Box::new(secrets()),
                scheduler: Box::new(EventBridgeScheduler {
                    client: aws_sdk_scheduler::Client::new(&config),
                    group: GROUP.into(),
                    target_arn: SYNC_ARN.into(),
                    role_arn: ROLE_ARN.into(),
                }),
                events: Box::new(publisher()),
                settings: Settings {
                    secret_prefix: "sei-jira/".into(),
                    default_schedule_rate: "rate(1 hour)".into(),
                    validation: validation.clone(),
                },
                account_claim: CLAIM.into(),
            },
            sync: sync_project::App {
                store: store(&config, &table),
                secrets: Box::new(secrets()),
                events: Box::new(publisher()),
                validation,
                retry: RetryPolicy {
                    max_retries: 1,
                    base_delay: Duration::from_millis(20),
                    max_delay: Duration::from_millis(50),
                },
            },
            monitoring: monitoring_query::App {
                store: store(&config, &table),
                account_claim: CLAIM.into(),
            },
            config,
            table,
            queue_url,
            seen: Vec::new(),
            contract: e2e::openapi::OpenApi::load(),
            succeeded: BTreeSet::new(),
        }
    }

    /// Calls the function that serves `request` (see `http_event`) as `account`, and checks the
    /// request, if accepted, and the answer against docs/openapi.yaml.
    async fn api(
        &mut self,
        account: &str,
        request: &str,
        ids: &[&str],
        body: Option<Value>,
    ) -> (u16, Value) {
        let event = http_event(account, request, ids, body.clone());
        let route = request.split('?').next().unwrap();
        let req = lambda_http::request::from_str(&event).expect("a valid HTTP API v2 event");
        let response = if route.ends_with("/monitoring") {
            monitoring_query::handle(&self.monitoring, req).await
        } else {
            validate_credentials::handle(&self.api, req).await
        };
        let (status, text) = self.read(response, route);
        if (200..300).contains(&status) {
            // What the handler accepted, the document must describe.
            if let Err(e) = self.contract.check_request(route, body.as_ref()) {
                panic!("docs/openapi.yaml disagrees with an accepted request: {e}");
            }
            self.succeeded.insert(route.to_string());
        }
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The answer's status and body, after checking them against the route's operation.
    fn read(&mut self, response: Response<Body>, route: &str) -> (u16, String) {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        let text = match response.body() {
            Body::Text(t) => t.clone(),
            Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        };
        if let Err(e) = self
            .contract
            .check_response(route, status, content_type, &text)
        {
            panic!("the answer is not as docs/openapi.yaml says: {e}");
        }
        self.seen.push(text.clone());
        (status, text)
    }

    /// The events the bus delivered since the last call.
    async fn delivered(&mut self, n: usize) -> Vec<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.config);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut events = Vec::new();
        while events.len() < n && Instant::now() < deadline {
            let out = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            for m in out.messages() {
                self.seen.push(m.body().unwrap().to_string());
                events.push(serde_json::from_str::<Value>(m.body().unwrap()).unwrap());
                sqs.delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            if events.len() < n {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        assert_eq!(events.len(), n, "events delivered: {events:?}");
        events
    }

    async fn sync(&mut self, event: Value, stop: Option<Instant>, run: &str) -> Value {
        let out = sync_project::handle(&self.sync, event, stop, run).await;
        self.seen.push(format!("{out:?}"));
        out.unwrap_or_else(|e| json!({"error": e}))
    }

    /// Every item of the table, as text, with what the store packs into binary attributes
    /// unpacked: each `body` as JSON (gunzipped when `enc` is `gzip`), and a split issue's
    /// parts joined and gunzipped, so a scan of the dump sees what the items hold.
    async fn table_dump(&self) -> String {
        let ddb = aws_sdk_dynamodb::Client::new(&self.config);
        let mut all = String::new();
        let mut parts: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
        let mut start = None;
        loop {
            let out = ddb
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .unwrap();
            for item in out.items() {
                let mut keys: Vec<&String> = item.keys().collect();
                keys.sort();
                for key in keys {
                    let text = match &item[key] {
                        AttributeValue::B(blob) => unpacked(blob.as_ref()),
                        other => format!("{other:?}"),
                    };
                    all.push_str(&format!("{key}={text} "));
                }
                all.push('\n');
                if let (Some(AttributeValue::S(sk)), Some(AttributeValue::B(chunk))) =
                    (item.get("sk"), item.get("chunk"))
                {
                    parts.insert(sk.clone(), chunk.as_ref().to_vec());
                }
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        // Part keys are `{id}#{generation}#{n:04}`: in key order, one version's chunks line up.
        let mut versions: std::collections::BTreeMap<&str, Vec<u8>> = Default::default();
        for (sk, chunk) in &parts {
            let (version, _) = sk.rsplit_once('#').unwrap();
            versions
                .entry(version)
                .or_default()
                .extend_from_slice(chunk);
        }
        for (version, bytes) in versions {
            all.push_str(&format!("part {version}: {}\n", unpacked(&bytes)));
        }
        all
    }
}

/// A binary attribute as text: gunzipped when it is gzip, as (lossy) UTF-8 otherwise.
fn unpacked(bytes: &[u8]) -> String {
    use std::io::Read;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        if flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .is_ok()
        {
            return text;
        }
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// A simulated Jira site with `issues` issues in `projects` projects, and its description
/// (base URL, users and their tokens).
async fn site(issues: usize, projects: usize) -> (jira_sim::SimHandle, Value) {
    let sim = jira_sim::start(jira_sim::SimConfig {
        dataset: jira_sim::DatasetConfig {
            issues,
            projects,
            ..jira_sim::DatasetConfig::default()
        },
        ..jira_sim::SimConfig::default()
    })
    .await
    .unwrap();
    let info = jira_sim::describe(&sim);
    (sim, info)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integration_from_creation_to_monitoring() {
    let logs = capture_logs();
    let moto = e2e::start_moto();
    let (_sim, info) = site(400, 3).await;
    let base = info["base_url"].as_str().unwrap().to_string();
    let token = token_of(&info, "alice@example.com");
    let mut w = World::new(moto.endpoint(), &base).await;
    let connection = alice_connection(&base, &token);

    // Bad input is a 400 naming the field, and stores nothing.
    let (status, body) = w
        .api(
            "acme",
            "POST /integrations",
            &[],
            Some(json!({"name": "Jira", "connection": connection, "scope": {"kind": "projects"}})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().starts_with("scope.keys"),
        "{body}"
    );

    // Create: validated, the token in Secrets Manager, the schedule created.
    let (status, created) = w
        .api("acme", "POST /integrations", &[], Some(json!({
            "name": "Acme Jira", "tags": ["team-a"], "connection": connection,
            "scope": {"kind": "projects", "keys": ["PLAT", "SRE"]}, "custom_fields": ["Severity"]
        })))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(created.get("token").is_none() && created.get("secret_name").is_none());
    assert_eq!(secret_of(&w.config, &id).await, token);
    let schedule = aws_sdk_scheduler::Client::new(&w.config)
        .get_schedule()
        .group_name(GROUP)
        .name(format!("sync-{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(schedule.schedule_expression(), Some("rate(1 hour)"));
    let target = schedule.target().unwrap();
    assert_eq!((target.arn(), target.role_arn()), (SYNC_ARN, ROLE_ARN));
    let scheduled: Value = serde_json::from_str(target.input().unwrap()).unwrap();

    // Another account: not found, whatever it tries; the integration survives.
    let (status, _) = w
        .api("globex", "GET /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .api(
            "globex",
            "DELETE /integrations/{integrationId}",
            &[&id],
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .api(
            "globex",
            "PATCH /integrations/{integrationId}",
            &[&id],
            Some(json!({"name": "mine now"})),
        )
        .await;
    assert_eq!(status, 404);
    let (_, listed) = w.api("globex", "GET /integrations", &[], None).await;
    assert_eq!(listed["integrations"], json!([]));
    let (status, own) = w
        .api("acme", "GET /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!((status, own["name"].as_str()), (200, Some("Acme Jira")));

    // A custom field the site does not have, or oversized tags, are refused naming the field;
    // nothing changes.
    for (patch, field) in [
        (
            json!({"custom_fields": ["Severity", "Severty"]}),
            "custom_fields",
        ),
        (json!({"tags": vec!["t"; 51]}), "tags"),
        (json!({"description": "d".repeat(2_001)}), "description"),
    ] {
        let (status, body) = w
            .api(
                "acme",
                "PATCH /integrations/{integrationId}",
                &[&id],
                Some(patch),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_request")),
            "{body}"
        );
        assert!(
            body["message"].as_str().unwrap().starts_with(field),
            "{body}"
        );
    }
    let (_, unchanged) = w
        .api("acme", "GET /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!(unchanged, own, "refused changes change nothing");

    // Just created, never run: Pending (docs/monitoring.md).
    let (status, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &[&id],
            None,
        )
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["health"]["status"], "Pending", "{m}");
    // An integration ten days old with no run in the range: No Data.
    let mut idle = store(&w.config, &w.table)
        .get_integration("acme", &id)
        .await
        .unwrap()
        .unwrap();
    idle.id = "idle-integration".into();
    idle.secret_name = "sei-jira/acme/idle-integration".into();
    idle.created_ms -= 10 * 86_400_000;
    store(&w.config, &w.table)
        .put_integration(&idle)
        .await
        .unwrap();
    let (status, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &["idle-integration"],
            None,
        )
        .await;
    assert_eq!(
        (status, m["health"]["status"].as_str()),
        (200, Some("No Data")),
        "{m}"
    );

    // The schedule fires with too little time left: the sync checkpoints and continues itself.
    let first = w.sync(scheduled, Some(Instant::now()), "run-1").await;
    assert_eq!(first["outcome"], "partial", "{first}");
    let continuation = w.delivered(1).await.remove(0);
    assert_eq!(continuation["detail-type"], "jira.sync.continuation");
    let second = w.sync(continuation, None, "run-2").await;
    assert_eq!(second["outcome"], "succeeded", "{second}");
    let completed = w.delivered(1).await.remove(0);
    assert_eq!(completed["detail-type"], "jira.sync.completed");
    assert_eq!(completed["detail"]["integration_id"], id.as_str());

    // Exactly the simulator's issues of the two projects, once each.
    let truth: Vec<Value> = reqwest::get(format!("{base}/_sim/truth?as=alice@example.com"))
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| ["PLAT", "SRE"].contains(&t["project"].as_str().unwrap()))
        .cloned()
        .collect();
    let stored = store(&w.config, &w.table)
        .list_issues(&id, None, usize::MAX)
        .await
        .unwrap();
    assert_eq!(stored.len(), truth.len());
    // The early stop kept what it had fetched, and the continuation went on from there: every
    // issue was new exactly once across the two runs.
    let new_in = |run: &Value| run["counts"]["issues_new"].as_u64().unwrap();
    assert!(
        new_in(&first) > 0,
        "the first run stored a batch before stopping: {first}"
    );
    assert!(new_in(&first) < truth.len() as u64, "{first}");
    assert_eq!(
        new_in(&first) + new_in(&second),
        truth.len() as u64,
        "{first} {second}"
    );

    let (status, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &[&id],
            None,
        )
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["health"]["status"], "Healthy", "{m}");
    assert_eq!(m["tickets"]["ingested_in_range"], truth.len(), "{m}");
    assert_eq!(m["tickets"]["total"], truth.len(), "{m}");
    assert_eq!(m["projects"]["total"], 2, "{m}");
    let today = m["availability"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(today["status"], "Healthy", "{m}");
    let (status, other) = w
        .api(
            "globex",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &[&id],
            None,
        )
        .await;
    assert_eq!(status, 404, "{other}");
    let (status, bad) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=90d",
            &[&id],
            None,
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad["message"].as_str().unwrap().contains("range"), "{bad}");

    // The site fails every request: the run fails and monitoring says Unhealthy.
    reqwest::Client::new()
        .put(format!("{base}/_sim/control"))
        .json(&json!({"fault_rate": 1.0, "drop_share": 0.0}))
        .send()
        .await
        .unwrap();
    let manual = json!({"source": "sei-jira", "detail-type": "jira.sync.continuation",
        "detail": {"account_id": "acme", "integration_id": id, "trigger": "manual"}});
    let failed = w.sync(manual, None, "run-3").await;
    assert!(failed.get("error").is_some(), "{failed}");
    let (_, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &[&id],
            None,
        )
        .await;
    assert_eq!(m["health"]["status"], "Unhealthy", "{m}");
    assert_eq!(failed["outcome"], "failed", "{failed}");

    // Another account cannot touch this integration's issues, token or syncs either.
    let issue = stored[0].id.clone();
    for (request, ids, body) in [
        (
            "POST /integrations/{integrationId}/issues/{issueId}/remove",
            vec![id.as_str(), issue.as_str()],
            None,
        ),
        (
            "POST /integrations/{integrationId}/issues/{issueId}/hide",
            vec![id.as_str(), issue.as_str()],
            None,
        ),
        (
            "POST /integrations/{integrationId}/sync",
            vec![id.as_str()],
            None,
        ),
        (
            "PUT /integrations/{integrationId}/credentials",
            vec![id.as_str()],
            Some(json!({"email": "bob@example.com", "token": token_of(&info, "bob@example.com")})),
        ),
    ] {
        let (status, body) = w.api("globex", request, &ids, body).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("not_found")),
            "{request}: {body}"
        );
    }
    assert_eq!(
        secret_of(&w.config, &id).await,
        token,
        "the token is still acme's"
    );
    let untouched = store(&w.config, &w.table)
        .get_issue(&id, &issue)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        untouched, stored[0],
        "the issue is neither hidden nor removed"
    );

    // Hand flags, then deletion: schedule, secret and data go.
    let (status, _) = w
        .api(
            "acme",
            "POST /integrations/{integrationId}/issues/{issueId}/hide",
            &[&id, &issue],
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = w
        .api(
            "acme",
            "POST /integrations/{integrationId}/issues/{issueId}/hide",
            &[&id, "999999999"],
            None,
        )
        .await;
    assert_eq!(status, 404);

    // No token anywhere, nor the Basic credentials made of it: responses, events, stored items
    // (their packed bodies unpacked), logs at trace.
    let dump = w.table_dump().await;
    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("alice@example.com:{token}"));
    for (what, text) in [
        ("responses and events", w.seen.join("\n")),
        ("DynamoDB items", dump.clone()),
        ("logs", log_text.clone()),
    ] {
        assert!(!text.contains(&token), "the token appears in {what}");
        assert!(
            !text.contains(&basic),
            "the Basic credentials appear in {what}"
        );
    }
    // The scan reads what it claims to: the issues' unpacked JSON, and trace-level logs.
    assert!(dump.contains(&id), "the scan saw the integration's items");
    assert!(
        dump.contains(&format!("\"key\":\"{}\"", stored[0].key)),
        "the scan saw inside the issues' bodies"
    );
    assert!(
        log_text.contains("\"level\":\"TRACE\""),
        "the logs were captured at trace"
    );

    let (status, _) = w
        .api("acme", "DELETE /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!(status, 204);
    assert!(
        aws_sdk_secretsmanager::Client::new(&w.config)
            .get_secret_value()
            .secret_id(format!("sei-jira/acme/{id}"))
            .send()
            .await
            .is_err()
    );
    assert!(
        aws_sdk_scheduler::Client::new(&w.config)
            .get_schedule()
            .group_name(GROUP)
            .name(format!("sync-{id}"))
            .send()
            .await
            .is_err()
    );
    let left = w.table_dump().await;
    let left: Vec<&str> = left.lines().filter(|l| l.contains(&id)).collect();
    assert!(
        left.is_empty(),
        "no item of the integration is left: {left:?}"
    );
    let (status, _) = w
        .api("acme", "GET /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!(status, 404);
}

/// The token stored for account acme's integration `id`.
async fn secret_of(config: &SdkConfig, id: &str) -> String {
    aws_sdk_secretsmanager::Client::new(config)
        .get_secret_value()
        .secret_id(format!("sei-jira/acme/{id}"))
        .send()
        .await
        .unwrap()
        .secret_string()
        .unwrap()
        .to_string()
}

/// A Jira Cloud connection to the site at `base` as alice, with `token`.
fn alice_connection(base: &str, token: &str) -> Value {
    json!({"deployment": "cloud", "url": base, "email": "alice@example.com", "token": token})
}

fn token_of(sim: &Value, email: &str) -> String {
    jira_sim::user_token(sim, email).expect("a user of the simulator")
}

/// GIVEN a site in the simulator, WHEN an account calls every route of the API (each answer
/// checked against docs/openapi.yaml as it comes), THEN each route has succeeded at least once,
/// and what the calls change is what the document promises.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_as_the_openapi_document_says() {
    let logs = capture_logs();
    let moto = e2e::start_moto();
    let (_sim, info) = site(60, 2).await;
    let base = info["base_url"].as_str().unwrap().to_string();
    let (alice, bob, carol) = (
        token_of(&info, "alice@example.com"),
        token_of(&info, "bob@example.com"),
        token_of(&info, "carol@example.com"),
    );
    let mut w = World::new(moto.endpoint(), &base).await;
    let connection = alice_connection(&base, &alice);

    // No account claim in the token: 401, whatever the route.
    let (status, body) = w.api("", "GET /integrations", &[], None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));

    // Validation routes: credentials, JQL, the project picker.
    let (status, checks) = w
        .api(
            "acme",
            "POST /credentials/validate",
            &[],
            Some(json!({"connection": connection})),
        )
        .await;
    assert_eq!(
        (status, checks["ok"].as_bool()),
        (200, Some(true)),
        "{checks}"
    );
    let weak =
        json!({"deployment": "cloud", "url": base, "email": "carol@example.com", "token": carol});
    let (status, checks) = w
        .api(
            "acme",
            "POST /credentials/validate",
            &[],
            Some(json!({"connection": weak})),
        )
        .await;
    assert_eq!(
        (status, checks["ok"].as_bool()),
        (200, Some(false)),
        "{checks}"
    );
    let failed: Vec<&str> = checks["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "failed")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["view_aggregated_data"], "{checks}");
    let (status, body) = w
        .api(
            "acme",
            "POST /credentials/validate",
            &[],
            Some(json!({"connection": {"deployment": "cloud", "url": base, "email": "a@b.c"}})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("connection.token"),
        "{body}"
    );
    let (status, body) = w
        .api("acme", "POST /credentials/validate", &[], Some(weak))
        .await;
    assert_eq!(status, 400, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("deployment: unknown field `deployment`"),
        "{body}"
    );

    let (status, jql) = w
        .api(
            "acme",
            "POST /jql/validate",
            &[],
            Some(json!({"connection": connection, "jql": "project = PLAT ORDER BY key"})),
        )
        .await;
    assert_eq!((status, jql["ok"].as_bool()), (200, Some(true)), "{jql}");
    let (status, jql) = w
        .api(
            "acme",
            "POST /jql/validate",
            &[],
            Some(json!({"connection": connection, "jql": "project = = PLAT"})),
        )
        .await;
    assert_eq!((status, jql["ok"].as_bool()), (200, Some(false)), "{jql}");
    assert!(!jql["errors"].as_array().unwrap().is_empty(), "{jql}");

    let (status, found) = w
        .api(
            "acme",
            "POST /projects/search",
            &[],
            Some(json!({"connection": connection})),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let keys: Vec<&str> = found["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{found}");

    // Create over all accessible projects, then list and read it.
    let (status, created) = w
        .api(
            "acme",
            "POST /integrations",
            &[],
            Some(json!({
                "name": "Everything", "description": "all projects", "connection": connection,
                "scope": {"kind": "all_accessible"}, "excluded_fields": ["description"]
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (status, list) = w.api("acme", "GET /integrations", &[], None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["integrations"].as_array().unwrap().len(), 1, "{list}");
    let (status, read) = w
        .api("acme", "GET /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!((status, &read), (200, &created));

    // Advanced configuration: a JQL filter, excluded fields, custom fields, the schedule rate.
    let (status, patched) = w
        .api(
            "acme",
            "PATCH /integrations/{integrationId}",
            &[&id],
            Some(json!({
                "scope": {"kind": "jql", "jql": format!("project = {}", keys[0])},
                "excluded_fields": ["summary", "comments"],
                "custom_fields": ["Severity"],
                "schedule_rate": "rate(2 hours)"
            })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["scope"]["kind"], "jql", "{patched}");
    assert_eq!(
        patched["excluded_fields"],
        json!(["comments", "summary"]),
        "{patched}"
    );
    let schedule = aws_sdk_scheduler::Client::new(&w.config)
        .get_schedule()
        .group_name(GROUP)
        .name(format!("sync-{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(schedule.schedule_expression(), Some("rate(2 hours)"));
    let (status, body) = w
        .api(
            "acme",
            "PATCH /integrations/{integrationId}",
            &[&id],
            Some(json!({"scope": {"kind": "jql", "jql": "project = = X"}})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().starts_with("scope.jql: "),
        "{body}"
    );
    let (_, unchanged) = w
        .api("acme", "GET /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!(unchanged, patched, "a refused change changes nothing");

    // New credentials: refused ones keep the old secret; accepted ones replace it.
    let route = "PUT /integrations/{integrationId}/credentials";
    let (status, body) = w
        .api(
            "acme",
            route,
            &[&id],
            Some(json!({"email": "carol@example.com", "token": carol})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("validation_failed")),
        "{body}"
    );
    assert_eq!(secret_of(&w.config, &id).await, alice);
    let (status, body) = w
        .api(
            "acme",
            route,
            &[&id],
            Some(json!({"email": "bob@example.com", "token": bob})),
        )
        .await;
    assert_eq!((status, body["ok"].as_bool()), (200, Some(true)), "{body}");
    assert_eq!(secret_of(&w.config, &id).await, bob);

    // Sync now: a continuation event on the bus, which the sync function runs.
    let (status, body) = w
        .api(
            "acme",
            "POST /integrations/{integrationId}/sync",
            &[&id],
            None,
        )
        .await;
    assert_eq!((status, body), (202, json!({"run_requested": true})));
    let requested = w.delivered(1).await.remove(0);
    assert_eq!(requested["detail-type"], "jira.sync.continuation");
    let run = w.sync(requested, None, "run-now").await;
    assert_eq!(run["outcome"], "succeeded", "{run}");
    w.delivered(1).await; // jira.sync.completed
    let issues = store(&w.config, &w.table)
        .list_issues(&id, None, usize::MAX)
        .await
        .unwrap();
    assert!(!issues.is_empty());
    // The patched configuration is what ran: the JQL's project only, without the excluded fields.
    for stored in &issues {
        assert_eq!(stored.project_key, keys[0], "{}", stored.key);
        assert!(!stored.fields.contains_key("summary"), "{}", stored.key);
        assert!(stored.comments.is_empty(), "{}", stored.key);
    }

    // Hand flags on one issue: hidden, shown again, then removed (a tombstone without content).
    let issue = issues[0].id.clone();
    let mut states = Vec::new();
    for action in ["hide", "unhide", "remove"] {
        let route = format!("POST /integrations/{{integrationId}}/issues/{{issueId}}/{action}");
        let (status, body) = w.api("acme", &route, &[&id, &issue], None).await;
        assert_eq!(status, 204, "{action}: {body}");
        let stored = store(&w.config, &w.table)
            .list_issues(&id, None, usize::MAX)
            .await
            .unwrap()
            .into_iter()
            .find(|i| i.id == issue)
            .expect("the issue stays stored");
        states.push((stored.hidden, stored.removed, stored.fields.is_empty()));
    }
    assert_eq!(
        states,
        [
            (true, false, false),
            (false, false, false),
            (false, true, true)
        ]
    );

    let (status, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=30d",
            &[&id],
            None,
        )
        .await;
    assert_eq!(
        (status, m["health"]["status"].as_str()),
        (200, Some("Healthy")),
        "{m}"
    );

    let (status, _) = w
        .api("acme", "DELETE /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!(status, 204);

    let documented = w.contract.routes();
    assert_eq!(
        w.succeeded, documented,
        "every documented route answered with success"
    );
    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let seen = w.seen.join("\n");
    for token in [&alice, &bob, &carol] {
        assert!(!seen.contains(token.as_str()) && !log_text.contains(token.as_str()));
    }
}

/// GIVEN an integration whose token has gone from Secrets Manager, WHEN its schedule fires,
/// THEN the run is recorded as failed and monitoring says Unhealthy, naming the cause; the
/// function answers without an error, so Lambda does not retry the event and count it again.
/// GIVEN a schedule expression EventBridge Scheduler would refuse, THEN the create is a 400
/// naming `schedule_rate` and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_that_cannot_start_is_recorded_as_a_failed_run() {
    let moto = e2e::start_moto();
    let (_sim, info) = site(60, 1).await;
    let base = info["base_url"].as_str().unwrap().to_string();
    let token = token_of(&info, "alice@example.com");
    let mut w = World::new(moto.endpoint(), &base).await;
    let connection = alice_connection(&base, &token);

    let (status, body) = w
        .api(
            "acme",
            "POST /integrations",
            &[],
            Some(json!({"name": "Nightly", "connection": connection,
                "scope": {"kind": "all_accessible"}, "schedule_rate": "cron(0 8 * * *)"})),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("schedule_rate"),
        "{body}"
    );
    let (_, listed) = w.api("acme", "GET /integrations", &[], None).await;
    assert_eq!(
        listed["integrations"],
        json!([]),
        "a refused create stores nothing"
    );

    let (status, created) = w
        .api(
            "acme",
            "POST /integrations",
            &[],
            Some(json!({"name": "Jira", "connection": connection, "scope": {"kind": "all_accessible"}})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    aws_sdk_secretsmanager::Client::new(&w.config)
        .delete_secret()
        .secret_id(format!("sei-jira/acme/{id}"))
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();

    let scheduled: Value =
        serde_json::from_str(&sei_jira_core::ports::scheduled_input("acme", &id)).unwrap();
    let run = sync_project::handle(&w.sync, scheduled, None, "run-no-token").await;
    let run = run.expect("a recorded failure is not an error to retry");
    assert_eq!(run["outcome"], "failed", "{run}");
    assert!(
        run["error"].as_str().unwrap().contains("token is missing"),
        "{run}"
    );

    let (status, m) = w
        .api(
            "acme",
            "GET /integrations/{integrationId}/monitoring?range=7d",
            &[&id],
            None,
        )
        .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["health"]["status"], "Unhealthy", "{m}");
    assert!(
        m["health"]["reason"]
            .as_str()
            .unwrap()
            .contains("token missing from the secret store"),
        "{m}"
    );
    let today = m["availability"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (today["runs"].as_u64(), today["failed_runs"].as_u64()),
        (Some(1), Some(1)),
        "{m}"
    );
}
