//! The AWS adapters of the ports (Secrets Manager, EventBridge Scheduler, EventBridge) against
//! moto on 127.0.0.1, read back through the plain SDK clients so each test checks what reached
//! the service, not only what the adapter says.
//!
//! All tests share one moto server; each uses names of its own.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use e2e::Moto;
use sei_jira_aws::events::EventBridgePublisher;
use sei_jira_aws::scheduler::EventBridgeScheduler;
use sei_jira_aws::secrets::{SecretsManagerStore, secret_name};
use sei_jira_core::jira::Secret;
use sei_jira_core::ports::*;
use sei_jira_core::store::{Counts, RunOutcome};
use serde_json::{Value, json};

const REGION: &str = "us-east-1";
const SYNC_FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:sei-jira-sync";
const SCHEDULER_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/sei-jira-scheduler";

fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(e2e::start_moto)
}

/// SDK configuration that can only reach moto: a loopback endpoint and dummy credentials.
async fn config() -> SdkConfig {
    sei_jira_aws::local_sdk_config(moto().endpoint(), REGION)
        .await
        .unwrap()
}

/// A name no other test (nor an earlier run against the same moto) uses.
fn unique(what: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{what}-{}-{n}", std::process::id())
}

mod secrets {
    use super::*;

    async fn store() -> SecretsManagerStore {
        SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&config().await))
    }

    fn fresh_name() -> String {
        secret_name("sei-jira/", "acme", &unique("jira")).unwrap()
    }

    #[tokio::test]
    async fn put_replace_get_delete_round_trip() {
        let store = store().await;
        let name = fresh_name();
        assert_eq!(store.get_secret(&name).await.unwrap(), None);

        store
            .put_secret(&name, &Secret::new("tok-1"))
            .await
            .unwrap();
        let read = store.get_secret(&name).await.unwrap().unwrap();
        assert_eq!(read.expose(), "tok-1");

        store
            .put_secret(&name, &Secret::new("tok-2"))
            .await
            .unwrap();
        let read = store.get_secret(&name).await.unwrap().unwrap();
        assert_eq!(read.expose(), "tok-2");

        store.delete_secret(&name).await.unwrap();
        assert_eq!(store.get_secret(&name).await.unwrap(), None);
    }

    #[tokio::test]
    async fn deleting_twice_or_a_missing_secret_is_fine() {
        let store = store().await;
        let name = fresh_name();
        store.put_secret(&name, &Secret::new("tok")).await.unwrap();
        store.delete_secret(&name).await.unwrap();
        store.delete_secret(&name).await.unwrap();
        store.delete_secret(&fresh_name()).await.unwrap();
    }

    #[tokio::test]
    async fn a_deleted_secret_can_be_created_again_at_once() {
        let store = store().await;
        let name = fresh_name();
        store.put_secret(&name, &Secret::new("old")).await.unwrap();
        store.delete_secret(&name).await.unwrap();
        store.put_secret(&name, &Secret::new("new")).await.unwrap();
        let read = store.get_secret(&name).await.unwrap().unwrap();
        assert_eq!(read.expose(), "new");
    }

    #[tokio::test]
    async fn errors_do_not_carry_the_value() {
        // Nothing listens on this loopback port, so the call fails in transport, where an SDK
        // error could most plausibly describe the request. (moto accepts every name and value, so
        // it offers no service error on a write to check instead.)
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap();
        let config = sei_jira_aws::local_sdk_config(&format!("http://{closed}"), REGION)
            .await
            .unwrap();
        let store = SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&config));
        let err = store
            .put_secret("sei-jira/acme/jira", &Secret::new("tok-leak-check"))
            .await
            .unwrap_err();
        assert!(err.message.contains("CreateSecret"), "{err}");
        assert!(
            !format!("{err} {err:?}").contains("tok-leak-check"),
            "{err}"
        );
    }
}

mod schedules {
    use aws_sdk_scheduler::types::FlexibleTimeWindowMode;

    use super::*;

    /// A scheduler on a fresh group, and a plain client to read schedules back with.
    async fn scheduler() -> (EventBridgeScheduler, aws_sdk_scheduler::Client) {
        let client = aws_sdk_scheduler::Client::new(&config().await);
        let group = unique("sei-jira-schedules");
        client
            .create_schedule_group()
            .name(&group)
            .send()
            .await
            .unwrap();
        let scheduler = EventBridgeScheduler {
            client: client.clone(),
            group,
            target_arn: SYNC_FUNCTION_ARN.into(),
            role_arn: SCHEDULER_ROLE_ARN.into(),
        };
        (scheduler, client)
    }

    async fn get(
        scheduler: &EventBridgeScheduler,
        client: &aws_sdk_scheduler::Client,
        integration: &str,
    ) -> Option<aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput> {
        let result = client
            .get_schedule()
            .group_name(&scheduler.group)
            .name(format!("sync-{integration}"))
            .send()
            .await;
        match result {
            Ok(output) => Some(output),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(e) => panic!("GetSchedule: {e:?}"),
        }
    }

    #[tokio::test]
    async fn upsert_creates_then_updates_and_delete_removes() {
        let (scheduler, client) = scheduler().await;
        let integration = unique("jira");

        scheduler
            .upsert_schedule("acme", &integration, "rate(1 hour)")
            .await
            .unwrap();
        let schedule = get(&scheduler, &client, &integration).await.unwrap();
        assert_eq!(schedule.schedule_expression(), Some("rate(1 hour)"));
        assert_eq!(
            schedule.flexible_time_window().map(|w| w.mode()),
            Some(&FlexibleTimeWindowMode::Off)
        );
        let target = schedule.target().unwrap();
        assert_eq!(target.arn(), SYNC_FUNCTION_ARN);
        assert_eq!(target.role_arn(), SCHEDULER_ROLE_ARN);
        let input: Value = serde_json::from_str(target.input().unwrap()).unwrap();
        assert_eq!(
            input,
            json!({
                "source": "sei-jira",
                "detail-type": "jira.sync.scheduled",
                "detail": {
                    "account_id": "acme",
                    "integration_id": integration,
                    "trigger": "schedule",
                },
            })
        );

        scheduler
            .upsert_schedule("acme", &integration, "rate(15 minutes)")
            .await
            .unwrap();
        let schedule = get(&scheduler, &client, &integration).await.unwrap();
        assert_eq!(schedule.schedule_expression(), Some("rate(15 minutes)"));
        assert_eq!(schedule.target().unwrap().arn(), SYNC_FUNCTION_ARN);

        scheduler.delete_schedule(&integration).await.unwrap();
        assert!(get(&scheduler, &client, &integration).await.is_none());
        scheduler.delete_schedule(&integration).await.unwrap();
    }

    #[tokio::test]
    async fn an_invalid_rate_is_refused_before_anything_is_created() {
        let (scheduler, client) = scheduler().await;
        let integration = unique("jira");
        let err = scheduler
            .upsert_schedule("acme", &integration, "rate(5 hour)")
            .await
            .unwrap_err();
        assert!(err.message.contains("plural unit"), "{err}");
        assert!(get(&scheduler, &client, &integration).await.is_none());
    }

    #[tokio::test]
    async fn a_schedule_in_a_missing_group_is_an_error() {
        let (mut scheduler, _) = scheduler().await;
        scheduler.group = unique("no-such-group");
        let err = scheduler
            .upsert_schedule("acme", &unique("jira"), "rate(1 day)")
            .await
            .unwrap_err();
        assert!(err.message.contains("CreateSchedule"), "{err}");
    }
}

mod events {
    use super::*;

    /// What the bus delivered: a rule on it sends every `sei-jira` event to a fresh SQS queue.
    struct Bus {
        name: String,
        sqs: aws_sdk_sqs::Client,
        queue_url: String,
    }

    async fn bus() -> Bus {
        let config = config().await;
        let events = aws_sdk_eventbridge::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let name = unique("sei-jira-bus");
        events.create_event_bus().name(&name).send().await.unwrap();
        let queue_url = create_queue(&sqs, &unique("sei-jira-events")).await;
        let queue_arn = queue_arn(&sqs, &queue_url).await;
        let rule = unique("all-sei-jira");
        events
            .put_rule()
            .name(&rule)
            .event_bus_name(&name)
            .event_pattern(json!({ "source": [EVENT_SOURCE] }).to_string())
            .send()
            .await
            .unwrap();
        let target = aws_sdk_eventbridge::types::Target::builder()
            .id("queue")
            .arn(queue_arn)
            .build()
            .unwrap();
        events
            .put_targets()
            .rule(&rule)
            .event_bus_name(&name)
            .targets(target)
            .send()
            .await
            .unwrap();
        Bus {
            name,
            sqs,
            queue_url,
        }
    }

    async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
        let output = sqs.create_queue().queue_name(name).send().await.unwrap();
        output.queue_url().unwrap().to_string()
    }

    async fn queue_arn(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> String {
        use aws_sdk_sqs::types::QueueAttributeName;
        let output = sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap();
        output.attributes().unwrap()[&QueueAttributeName::QueueArn].clone()
    }

    impl Bus {
        async fn publisher(&self) -> EventBridgePublisher {
            EventBridgePublisher {
                client: aws_sdk_eventbridge::Client::new(&config().await),
                bus: self.name.clone(),
            }
        }

        /// The next `n` events the rule delivered, polling briefly (moto delivers during
        /// PutEvents; no long polling, which would hold moto's only request thread).
        async fn received(&self, n: usize) -> Vec<Value> {
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut events = Vec::new();
            while events.len() < n && Instant::now() < deadline {
                let output = self
                    .sqs
                    .receive_message()
                    .queue_url(&self.queue_url)
                    .max_number_of_messages(10)
                    .wait_time_seconds(0)
                    .send()
                    .await
                    .unwrap();
                for message in output.messages() {
                    events.push(serde_json::from_str(message.body().unwrap()).unwrap());
                }
                if events.len() < n {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            assert_eq!(events.len(), n, "events delivered: {events:?}");
            events
        }
    }

    fn continuation() -> SyncEvent {
        SyncEvent::Continue(SyncTrigger {
            account_id: "acme".into(),
            integration_id: "jira-1".into(),
            trigger: Trigger::Continuation,
            chain_started_ms: Some(1_796_000_000_000),
        })
    }

    fn completed() -> SyncEvent {
        SyncEvent::Completed(SyncCompleted {
            account_id: "acme".into(),
            integration_id: "jira-1".into(),
            run_id: "run-7".into(),
            outcome: RunOutcome::Succeeded,
            counts: Counts {
                issues_new: 3,
                requests: 5,
                ..Counts::default()
            },
            started_ms: 1_700_000_000_000,
            ended_ms: 1_700_000_060_000,
        })
    }

    #[tokio::test]
    async fn continuation_and_completed_events_reach_the_bus() {
        let bus = bus().await;
        let publisher = bus.publisher().await;
        publisher.publish(&continuation()).await.unwrap();
        publisher.publish(&completed()).await.unwrap();

        let mut received = bus.received(2).await;
        received.sort_by_key(|e| e["detail-type"].as_str().unwrap_or_default().to_string());
        let [done, next] = &received[..] else {
            unreachable!()
        };
        assert_eq!(next["source"], EVENT_SOURCE);
        assert_eq!(next["detail-type"], DETAIL_CONTINUATION);
        assert_eq!(
            next["detail"],
            json!({"account_id": "acme", "integration_id": "jira-1", "trigger": "continuation",
                "chain_started_ms": 1_796_000_000_000_i64})
        );
        assert_eq!(done["source"], EVENT_SOURCE);
        assert_eq!(done["detail-type"], DETAIL_COMPLETED);
        assert_eq!(done["detail"]["run_id"], "run-7");
        assert_eq!(done["detail"]["outcome"], "succeeded");
        assert_eq!(done["detail"]["counts"]["issues_new"], 3);
        assert_eq!(done["detail"]["ended_ms"], 1_700_000_060_000_i64);
        let detail: SyncCompleted = serde_json::from_value(done["detail"].clone()).unwrap();
        let SyncEvent::Completed(expected) = completed() else {
            unreachable!()
        };
        assert_eq!(detail, expected);
    }

    #[tokio::test]
    async fn publishing_to_a_missing_bus_is_an_error() {
        let publisher = EventBridgePublisher {
            client: aws_sdk_eventbridge::Client::new(&config().await),
            bus: unique("no-such-bus"),
        };
        let err = publisher.publish(&continuation()).await.unwrap_err();
        assert!(err.message.contains("PutEvents"), "{err}");
    }
}

mod capacity_meter {
    use aws_sdk_dynamodb::types::{
        AttributeValue, KeysAndAttributes, Put, PutRequest, TransactWriteItem, WriteRequest,
    };
    use sei_jira_aws::dynamo::DynamoStore;
    use sei_jira_aws::dynamo::capacity::{CapacityMeter, Read, Written};
    use std::collections::HashMap;

    use super::*;

    /// An item of `pk`, `sk` and a string `v` of `len` bytes: its size is 2 + 1 + 2 + 1 + 1 + len.
    fn item(sk: &str, len: usize) -> HashMap<String, AttributeValue> {
        [
            ("pk".to_string(), AttributeValue::S("p".into())),
            ("sk".to_string(), AttributeValue::S(sk.into())),
            ("v".to_string(), AttributeValue::S("x".repeat(len))),
        ]
        .into()
    }

    /// GIVEN a DynamoDB client with the meter attached, WHEN it sends every kind of write and
    /// read the store uses, THEN the meter counts each item, its bytes and DynamoDB's units.
    #[tokio::test]
    async fn the_meter_counts_every_kind_of_write_and_read_a_client_sends() {
        let meter = CapacityMeter::default();
        let config = aws_sdk_dynamodb::config::Builder::from(&config().await)
            .interceptor(meter.clone())
            .build();
        let client = aws_sdk_dynamodb::Client::from_conf(config);
        let table = unique("meter");
        DynamoStore::create_table(&client, &table).await.unwrap();

        // 1,000 bytes of value: 1,007 bytes, one unit; 2,000: 2,007 bytes, two.
        client
            .put_item()
            .table_name(&table)
            .set_item(Some(item("a", 1_000)))
            .send()
            .await
            .unwrap();
        let puts = [("b", 2_000), ("c", 10)].map(|(sk, len)| {
            let put = PutRequest::builder().set_item(Some(item(sk, len))).build();
            WriteRequest::builder().put_request(put.unwrap()).build()
        });
        client
            .batch_write_item()
            .request_items(&table, puts.to_vec())
            .send()
            .await
            .unwrap();
        let put = Put::builder()
            .table_name(&table)
            .set_item(Some(item("d", 1_500)))
            .build()
            .unwrap();
        client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .send()
            .await
            .unwrap();
        client
            .delete_item()
            .table_name(&table)
            .key("pk", AttributeValue::S("p".into()))
            .key("sk", AttributeValue::S("a".into()))
            .send()
            .await
            .unwrap();

        let bytes = [1_000, 2_000, 10, 1_500].iter().map(|len| 7 + len).sum();
        // put 1 + batch (2 + 1) + a transactional 1,507 bytes (2 x 2) + delete 1
        assert_eq!(
            meter.written(),
            Written {
                items: 5,
                bytes,
                units: 1 + 3 + 4 + 1
            }
        );
        assert_eq!(meter.read(), Read::default(), "writes read nothing");

        // A consistent GetItem of 2,007 bytes: one unit; of nothing: one unit still.
        for sk in ["b", "gone"] {
            client
                .get_item()
                .table_name(&table)
                .key("pk", AttributeValue::S("p".into()))
                .key("sk", AttributeValue::S(sk.into()))
                .consistent_read(true)
                .send()
                .await
                .unwrap();
        }
        // An eventually consistent query of b, c, d: 2,007 + 17 + 1,507 bytes together, one
        // 4 KB begun, half a unit.
        client
            .query()
            .table_name(&table)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", AttributeValue::S("p".into()))
            .send()
            .await
            .unwrap();
        // A consistent BatchGetItem of c and d: each item on its own, a unit each.
        let keys = ["c", "d"].map(|sk| {
            [
                ("pk".to_string(), AttributeValue::S("p".into())),
                ("sk".to_string(), AttributeValue::S(sk.into())),
            ]
            .into()
        });
        let batch = KeysAndAttributes::builder()
            .set_keys(Some(keys.to_vec()))
            .consistent_read(true)
            .build()
            .unwrap();
        client
            .batch_get_item()
            .request_items(&table, batch)
            .send()
            .await
            .unwrap();
        let (b, c, d) = (2_007, 17, 1_507);
        assert_eq!(
            meter.read(),
            Read {
                items: 1 + 3 + 2,
                bytes: b + (b + c + d) + (c + d),
                units: 2.0 + 0.5 + 2.0
            }
        );
    }
}

/// The moto server the tests run (infra/scripts/serial_moto_server.py) backs a transaction up by
/// the items it names rather than by copying the table: a cancelled transaction must still leave
/// every item as it was, and one that passes must write every item.
mod transactions_on_moto {
    use super::*;
    use aws_sdk_dynamodb::Client;
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, KeySchemaElement,
        KeyType, Put, ScalarAttributeType, TransactWriteItem, Update,
    };

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    async fn table(ddb: &Client) -> String {
        let name = unique("transactions");
        ddb.create_table()
            .table_name(&name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("pk"))
            .attribute_definitions(attribute("sk"))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .send()
            .await
            .unwrap();
        name
    }

    fn attribute(name: &str) -> AttributeDefinition {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    }

    fn key(name: &str, kind: KeyType) -> KeySchemaElement {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    }

    async fn value_of(ddb: &Client, table: &str, sk: &str) -> Option<String> {
        let got = ddb
            .get_item()
            .table_name(table)
            .key("pk", s("p"))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        got.item().map(|item| item["v"].as_s().unwrap().to_string())
    }

    async fn write(ddb: &Client, table: &str, refuse: bool) -> bool {
        let put = Put::builder()
            .table_name(table)
            .item("pk", s("p"))
            .item("sk", s("new"))
            .item("v", s("written"))
            .build()
            .unwrap();
        let update = Update::builder()
            .table_name(table)
            .key("pk", s("p"))
            .key("sk", s("kept"))
            .update_expression("SET v = :v")
            .expression_attribute_values(":v", s("changed"))
            .build()
            .unwrap();
        let delete = Delete::builder()
            .table_name(table)
            .key("pk", s("p"))
            .key("sk", s("gone"))
            .build()
            .unwrap();
        let check = ConditionCheck::builder()
            .table_name(table)
            .key("pk", s("p"))
            .key("sk", s("guard"))
            .condition_expression(if refuse {
                "attribute_not_exists(pk)"
            } else {
                "attribute_exists(pk)"
            })
            .build()
            .unwrap();
        ddb.transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(TransactWriteItem::builder().delete(delete).build())
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .send()
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn a_cancelled_transaction_leaves_every_item_as_it_was_and_a_passed_one_writes_all() {
        let ddb = Client::new(&config().await);
        let table = table(&ddb).await;
        for sk in ["kept", "gone", "guard"] {
            ddb.put_item()
                .table_name(&table)
                .item("pk", s("p"))
                .item("sk", s(sk))
                .item("v", s("before"))
                .send()
                .await
                .unwrap();
        }

        assert!(!write(&ddb, &table, true).await, "the condition refuses it");
        assert_eq!(value_of(&ddb, &table, "new").await, None);
        assert_eq!(
            value_of(&ddb, &table, "kept").await.as_deref(),
            Some("before")
        );
        assert_eq!(
            value_of(&ddb, &table, "gone").await.as_deref(),
            Some("before")
        );

        assert!(
            write(&ddb, &table, false).await,
            "the condition lets it pass"
        );
        assert_eq!(
            value_of(&ddb, &table, "new").await.as_deref(),
            Some("written")
        );
        assert_eq!(
            value_of(&ddb, &table, "kept").await.as_deref(),
            Some("changed")
        );
        assert_eq!(value_of(&ddb, &table, "gone").await, None);
    }
}
