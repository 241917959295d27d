//! The deployed functions as the end-to-end tests drive them: their handlers, built as
//! `template.yaml` wires them, on DynamoDB, Secrets Manager, EventBridge Scheduler, EventBridge and
//! SQS served by moto on 127.0.0.1, called with real API Gateway HTTP API (payload v2) and
//! EventBridge event JSON; every request and answer checked against `docs/openapi.yaml`.
//!
//! Included by each test file that needs it (`#[path]`); none uses all of it.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::tracing::subscriber::filter::LevelFilter;
use lambda_http::{Body, Response};
use sei_jira_aws::dynamo::DynamoStore;
use sei_jira_aws::events::EventBridgePublisher;
use sei_jira_aws::scheduler::{EventBridgeRetries, EventBridgeScheduler};
use sei_jira_aws::secrets::SecretsManagerStore;
use sei_jira_core::integrations::ApiSettings;
use sei_jira_core::jira::{PrivateNetworks, RetryPolicy};
use sei_jira_core::store::Store;
use sei_jira_core::sync::stall::StallPolicy;
use sei_jira_core::validation::ValidationSettings;
use sei_jira_lambda::http_api::ISSUES_PER_REQUEST;
use sei_jira_lambda::metrics::Kept;
use serde_json::{Value, json};

pub const CLAIM: &str = "custom:account_id";
pub const GROUP: &str = "sei-jira-e2e";
pub const BUS: &str = "sei-jira-e2e";
pub const SYNC_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:sync-project";
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/sei-jira-scheduler";
pub const RETRY_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/sei-jira-retry";

/// Everything the handlers log, to scan for tokens.
#[derive(Clone, Default)]
pub struct Logs(pub Arc<Mutex<Vec<u8>>>);

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
pub fn capture_logs() -> Logs {
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
pub fn http_event(account: &str, request: &str, ids: &[&str], body: Option<Value>) -> String {
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

/// `router`'s answer to `req`, behind the authorizer as deployed (the account from [`CLAIM`]).
pub async fn served(router: axum::Router, req: lambda_http::Request) -> Response<Body> {
    let router = sei_jira_lambda::routes::behind_authorizer(router, CLAIM);
    sei_jira_lambda::routes::answer(&router, req).await
}

/// An app of the world's to change between requests (none holds it then).
pub fn only<T>(app: &mut Arc<T>) -> &mut T {
    Arc::get_mut(app).expect("no request in flight holds the app")
}

pub struct World {
    pub config: SdkConfig,
    pub table: String,
    pub queue_url: String,
    pub api: Arc<validate_credentials::App>,
    pub sync: sync_project::App,
    pub monitoring: Arc<monitoring_query::App>,
    pub hygiene: Arc<score_hygiene::App>,
    pub dora: Arc<dora_metrics::App>,
    /// What the sync and hygiene event work recorded as metrics.
    pub metrics: Arc<Kept>,
    /// Every response body and event seen, for the token scan.
    pub seen: Vec<String>,
    /// What requests and answers are checked against.
    pub contract: e2e::openapi::OpenApi,
    /// The routes that have answered with a 2xx.
    pub succeeded: BTreeSet<String>,
}

pub fn store(config: &SdkConfig, table: &str) -> Box<dyn Store> {
    Box::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(config),
        table,
    ))
}

impl World {
    pub async fn new(endpoint: &str, gateway: &str) -> World {
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
        let bus = BUS;
        let events = aws_sdk_eventbridge::Client::new(&config);
        let bus_arn = events
            .create_event_bus()
            .name(bus)
            .send()
            .await
            .unwrap()
            .event_bus_arn()
            .unwrap()
            .to_string();
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
            private_networks: PrivateNetworks::local(),
            gateway_url: gateway.to_string(),
            timeout: Duration::from_secs(10),
            ..ValidationSettings::default()
        };
        let metrics = Arc::new(Kept::default());
        World {
            api: Arc::new(validate_credentials::App {
                store: store(&config, &table),
                secrets: Box::new(secrets()),
                scheduler: Box::new(EventBridgeScheduler {
                    client: aws_sdk_scheduler::Client::new(&config),
                    group: GROUP.into(),
                    target_arn: SYNC_ARN.into(),
                    role_arn: ROLE_ARN.into(),
                }),
                events: Box::new(publisher()),
                settings: ApiSettings {
                    secret_prefix: "sei-jira/".into(),
                    default_schedule_rate: "rate(1 hour)".into(),
                    min_schedule_minutes: 15,
                    max_integrations: 100,
                    validations_per_minute: 1_000,
                    validation: validation.clone(),
                },
            }),
            sync: sync_project::App {
                store: store(&config, &table),
                secrets: Box::new(secrets()),
                events: Box::new(publisher()),
                retries: Box::new(EventBridgeRetries {
                    client: aws_sdk_scheduler::Client::new(&config),
                    group: GROUP.into(),
                    bus_arn,
                    role_arn: RETRY_ROLE_ARN.into(),
                }),
                stall: StallPolicy::default(),
                answer_budget: sei_jira_core::jira::DEFAULT_ANSWER_BUDGET,
                metrics: Box::new(metrics.clone()),
                board: None,
                validation,
                retry: RetryPolicy {
                    max_retries: 1,
                    base_delay: Duration::from_millis(20),
                    max_delay: Duration::from_millis(50),
                },
            },
            monitoring: Arc::new(monitoring_query::App {
                store: store(&config, &table),
                issues_per_request: ISSUES_PER_REQUEST,
            }),
            hygiene: Arc::new(score_hygiene::App {
                store: store(&config, &table),
                events: Box::new(publisher()),
                issues_per_request: ISSUES_PER_REQUEST,
                metrics: Box::new(metrics.clone()),
                stale_after: score_hygiene::DEFAULT_STALE_AFTER,
            }),
            dora: Arc::new(dora_metrics::App {
                store: store(&config, &table),
                events: Box::new(publisher()),
                issues_per_request: ISSUES_PER_REQUEST,
            }),
            metrics,
            config,
            table,
            queue_url,
            seen: Vec::new(),
            contract: e2e::openapi::OpenApi::load(),
            succeeded: BTreeSet::new(),
        }
    }

    /// A second instance of the integration API on the same table, secrets, schedules and bus,
    /// as Lambda runs one per concurrent request.
    pub fn another_api(&self) -> validate_credentials::App {
        validate_credentials::App {
            store: store(&self.config, &self.table),
            secrets: Box::new(SecretsManagerStore::new(
                aws_sdk_secretsmanager::Client::new(&self.config),
            )),
            scheduler: Box::new(self.scheduler()),
            events: Box::new(EventBridgePublisher {
                client: aws_sdk_eventbridge::Client::new(&self.config),
                bus: BUS.to_string(),
            }),
            settings: self.api.settings.clone(),
        }
    }

    /// The Scheduler adapter as the integration API has it.
    pub fn scheduler(&self) -> EventBridgeScheduler {
        EventBridgeScheduler {
            client: aws_sdk_scheduler::Client::new(&self.config),
            group: GROUP.into(),
            target_arn: SYNC_ARN.into(),
            role_arn: ROLE_ARN.into(),
        }
    }

    /// Calls the function that serves `request` (see `http_event`) as `account`, and checks the
    /// request, if accepted, and the answer against docs/openapi.yaml.
    pub async fn api(
        &mut self,
        account: &str,
        request: &str,
        ids: &[&str],
        body: Option<Value>,
    ) -> (u16, Value) {
        self.api_with(account, request, ids, body, &[]).await
    }

    /// As [`World::api`], with request headers besides the event's own.
    pub async fn api_with(
        &mut self,
        account: &str,
        request: &str,
        ids: &[&str],
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut event: Value =
            serde_json::from_str(&http_event(account, request, ids, body.clone())).unwrap();
        for (name, value) in headers {
            event["headers"][name.to_ascii_lowercase()] = json!(value);
        }
        self.api_event(request, &event, body.as_ref()).await
    }

    /// Calls the function that serves `request` with `event` as it is (an HTTP API v2 event,
    /// e.g. `http_event`'s made stranger), checking as [`World::api`] does; `body` is what the
    /// event's body holds as JSON, for the check of an accepted request.
    pub async fn api_event(
        &mut self,
        request: &str,
        event: &Value,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let (status, text) = self.answer(request, event, body).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// As [`World::api`], for a route that answers a page: its status and text.
    pub async fn page(&mut self, account: &str, request: &str, ids: &[&str]) -> (u16, String) {
        let event: Value = serde_json::from_str(&http_event(account, request, ids, None)).unwrap();
        self.answer(request, &event, None).await
    }

    async fn answer(
        &mut self,
        request: &str,
        event: &Value,
        body: Option<&Value>,
    ) -> (u16, String) {
        let event = event.to_string();
        let route = request.split('?').next().unwrap();
        let req = lambda_http::request::from_str(&event).expect("a valid HTTP API v2 event");
        let router = if route.ends_with("/monitoring") || route.ends_with("/report") {
            monitoring_query::router(self.monitoring.clone())
        } else if route.contains("/hygiene") {
            score_hygiene::router(self.hygiene.clone())
        } else if route.contains("/dora") {
            dora_metrics::router(self.dora.clone())
        } else {
            validate_credentials::router(self.api.clone())
        };
        let response = served(router, req).await;
        let (status, text) = self.read(response, route);
        if (200..300).contains(&status) {
            // What the handler accepted, the document must describe.
            if let Err(e) = self.contract.check_request(route, body) {
                panic!("docs/openapi.yaml disagrees with an accepted request: {e}");
            }
            self.succeeded.insert(route.to_string());
        }
        (status, text)
    }

    /// The answer's status and body, after checking them against the route's operation.
    pub fn read(&mut self, response: Response<Body>, route: &str) -> (u16, String) {
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
        // A caller asked to come back later is told when.
        if matches!(status, 429 | 503) {
            let after = response.headers().get("retry-after");
            assert!(
                after.is_some_and(|v| v.to_str().is_ok_and(|s| s.parse::<u64>().is_ok())),
                "{status} without Retry-After seconds: {text}"
            );
        }
        self.seen.push(text.clone());
        (status, text)
    }

    /// The events the bus delivered since the last call.
    pub async fn delivered(&mut self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut events = Vec::new();
        while events.len() < n && Instant::now() < deadline {
            events.extend(self.receive().await);
            if events.len() < n {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        assert_eq!(events.len(), n, "events delivered: {events:?}");
        events
    }

    /// Asks the integration API for a sync now, as `account` does; the continuation event the
    /// bus then delivers, which the sync function runs.
    pub async fn sync_now(&mut self, account: &str, integration: &str) -> Value {
        let route = "POST /integrations/{integrationId}/sync";
        let (status, body) = self.api(account, route, &[integration], None).await;
        assert_eq!(
            (status, &body["run_requested"], &body["already_under_way"]),
            (202, &json!(true), &json!(false)),
            "{body}"
        );
        let requested = self.delivered(1).await.remove(0);
        assert_eq!(requested["detail-type"], "jira.sync.continuation");
        requested
    }

    /// Every event on the queue now (the bus delivers to it as it is put).
    pub async fn drain_events(&mut self) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let batch = self.receive().await;
            if batch.is_empty() {
                return events;
            }
            events.extend(batch);
        }
    }

    /// A batch of the queue's events, taken off it.
    async fn receive(&mut self) -> Vec<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.config);
        let out = sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .send()
            .await
            .unwrap();
        let mut events = Vec::new();
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
        events
    }

    /// Hands an event to the hygiene function, as the template's rule and schedule do.
    pub async fn hygiene_event(&mut self, event: &Value) -> Value {
        let out = score_hygiene::handle_event(&self.hygiene, event, chrono::Utc::now(), None).await;
        self.seen.push(format!("{out:?}"));
        out.unwrap_or_else(|e| json!({"error": e}))
    }

    pub async fn sync(&mut self, event: Value, stop: Option<Instant>, run: &str) -> Value {
        let out = sync_project::handle(&self.sync, event, stop, run).await;
        self.seen.push(format!("{out:?}"));
        out.unwrap_or_else(|e| json!({"error": e}))
    }

    /// Creates an integration of account acme named `name` on the site at `url`, as Alice with
    /// `token`, syncing every issue she can see; its id.
    pub async fn create_alices(&mut self, name: &str, url: &str, token: &str) -> String {
        let body = json!({"name": name, "connection": alice_connection(url, token),
            "scope": {"kind": "all_accessible"}});
        let (status, created) = self
            .api("acme", "POST /integrations", &[], Some(body))
            .await;
        assert_eq!(status, 201, "{created}");
        created["id"].as_str().unwrap().to_string()
    }

    /// The items of the table's dump that name `id`, but for its deletion tombstone (which
    /// holds nothing of the integration's data and expires by itself).
    pub async fn items_naming(&self, id: &str) -> Vec<String> {
        self.table_dump()
            .await
            .lines()
            .filter(|l| l.contains(id) && !l.contains("pk=S(\"DELETED\")"))
            .map(str::to_string)
            .collect()
    }

    /// Every item of the table, as text, with what the store packs into binary attributes
    /// unpacked: each `body` as JSON (gunzipped when `enc` is `gzip`), and a split issue's
    /// parts joined and gunzipped, so a scan of the dump sees what the items hold.
    pub async fn table_dump(&self) -> String {
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
pub fn unpacked(bytes: &[u8]) -> String {
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
pub async fn site(issues: usize, projects: usize) -> (jira_sim::SimHandle, Value) {
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

/// What the end-to-end tests start from besides the functions: moto, and a simulated site with
/// Alice's token on it. The moto server and the simulator live as long as it does.
pub struct Site {
    pub info: Value,
    pub base: String,
    pub token: String,
    _moto: e2e::Moto,
    _sim: jira_sim::SimHandle,
}

/// Moto, a simulated site of `issues` issues in `projects` projects, and the functions on both.
pub async fn stage(issues: usize, projects: usize) -> (World, Site) {
    let moto = e2e::start_moto();
    let (sim, info) = site(issues, projects).await;
    let base = info["base_url"].as_str().unwrap().to_string();
    let token = token_of(&info, "alice@example.com");
    let w = World::new(moto.endpoint(), &base).await;
    let staged = Site {
        info,
        base,
        token,
        _moto: moto,
        _sim: sim,
    };
    (w, staged)
}

/// The token stored for account acme's integration `id`.
pub async fn secret_of(config: &SdkConfig, id: &str) -> String {
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
pub fn alice_connection(base: &str, token: &str) -> Value {
    json!({"deployment": "cloud", "url": base, "email": "alice@example.com", "token": token})
}

/// The event an acme integration's schedule sends the sync function (its target's own input).
pub fn scheduled(id: &str) -> Value {
    serde_json::from_str(&sei_jira_core::ports::scheduled_input("acme", id)).unwrap()
}

pub fn token_of(sim: &Value, email: &str) -> String {
    jira_sim::user_token(sim, email).expect("a user of the simulator")
}
