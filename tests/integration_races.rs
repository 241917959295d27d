//! Races between requests on one integration (issue #11, items 10 and 11), each made to happen
//! at the worst moment: a second instance of the integration API serves the other request from
//! inside the first one's call to Scheduler or Secrets Manager; and a create that fails midway,
//! its fault made to strike just after the token was kept. On moto (127.0.0.1) against the Jira
//! simulator.

#[path = "deployed.rs"]
mod deployed;

use std::sync::Mutex;

use async_trait::async_trait;
use deployed::*;
use sei_jira_aws::secrets::SecretsManagerStore;
use sei_jira_core::jira::Secret;
use sei_jira_core::ports::{PortError, PortResult, SecretStore, SyncScheduler};
use serde_json::json;

/// Another request, served by another instance once, when the adapter it is given to is first
/// called.
struct Interruption {
    pending: Mutex<Option<(validate_credentials::App, String)>>,
    status: Mutex<Option<u16>>,
}

impl Interruption {
    fn new(app: validate_credentials::App, event: String) -> Interruption {
        Interruption {
            pending: Mutex::new(Some((app, event))),
            status: Mutex::new(None),
        }
    }

    async fn happen(&self) {
        let pending = self.pending.lock().unwrap().take();
        if let Some((app, event)) = pending {
            let req = lambda_http::request::from_str(&event).unwrap();
            let router = validate_credentials::router(std::sync::Arc::new(app));
            let response = served(router, req).await;
            *self.status.lock().unwrap() = Some(response.status().as_u16());
        }
    }

    fn status(&self) -> Option<u16> {
        *self.status.lock().unwrap()
    }
}

/// Scheduler, with the other request served just before the first schedule write.
struct SchedulerInterrupted<'a> {
    inner: sei_jira_aws::scheduler::EventBridgeScheduler,
    interruption: &'a Interruption,
}

#[async_trait]
impl SyncScheduler for SchedulerInterrupted<'static> {
    async fn upsert_schedule(
        &self,
        account: &str,
        integration: &str,
        rate: &str,
    ) -> PortResult<()> {
        self.interruption.happen().await;
        self.inner.upsert_schedule(account, integration, rate).await
    }
    async fn delete_schedule(&self, integration: &str) -> PortResult<()> {
        self.inner.delete_schedule(integration).await
    }
}

/// Secrets Manager, with the other request served just after the first secret read.
struct SecretsInterrupted<'a> {
    inner: SecretsManagerStore,
    interruption: &'a Interruption,
}

#[async_trait]
impl SecretStore for SecretsInterrupted<'static> {
    async fn put_secret(&self, name: &str, value: &Secret) -> PortResult<()> {
        self.inner.put_secret(name, value).await
    }
    async fn get_secret(&self, name: &str) -> PortResult<Option<Secret>> {
        let read = self.inner.get_secret(name).await;
        self.interruption.happen().await;
        read
    }
    async fn delete_secret(&self, name: &str) -> PortResult<()> {
        self.inner.delete_secret(name).await
    }
}

/// Moto, a small simulated site, the functions on both, and an integration made with Alice's
/// credentials (its id).
async fn raced() -> (World, Site, String) {
    let (mut w, site) = stage(20, 1).await;
    let id = w.create_alices("Raced", &site.base, &site.token).await;
    (w, site, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_racing_a_deletion_leaves_no_schedule_behind() {
    // GIVEN an integration
    let (mut w, _site, id) = raced().await;

    // WHEN its deletion is served just as a change of its schedule writes the schedule
    let deletion = http_event("acme", "DELETE /integrations/{integrationId}", &[&id], None);
    let interruption: &'static Interruption =
        Box::leak(Box::new(Interruption::new(w.another_api(), deletion)));
    only(&mut w.api).scheduler = Box::new(SchedulerInterrupted {
        inner: w.scheduler(),
        interruption,
    });
    let (status, body) = w
        .api(
            "acme",
            "PATCH /integrations/{integrationId}",
            &[&id],
            Some(json!({"schedule_rate": "rate(2 hours)"})),
        )
        .await;

    // THEN the deletion stands, whole: no record, and no schedule left to start syncs
    assert_eq!(interruption.status(), Some(204), "the deletion was served");
    assert_eq!(status, 404, "{body}");
    let (status, _) = w
        .api("acme", "GET /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!(status, 404);
    let schedule = aws_sdk_scheduler::Client::new(&w.config)
        .get_schedule()
        .group_name(GROUP)
        .name(format!("sync-{id}"))
        .send()
        .await;
    assert!(
        schedule.is_err(),
        "a schedule outlived its integration: {schedule:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_racing_new_credentials_never_pairs_the_old_email_with_the_new_token() {
    // GIVEN an integration with Alice's credentials
    let (mut w, site, id) = raced().await;
    let bob = token_of(&site.info, "bob@example.com");

    // WHEN Bob's credentials replace Alice's just after a change of the scope read the record
    // and the secret
    let replacement = http_event(
        "acme",
        "PUT /integrations/{integrationId}/credentials",
        &[&id],
        Some(json!({"email": "bob@example.com", "token": bob})),
    );
    let interruption: &'static Interruption =
        Box::leak(Box::new(Interruption::new(w.another_api(), replacement)));
    only(&mut w.api).secrets = Box::new(SecretsInterrupted {
        inner: SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&w.config)),
        interruption,
    });
    let (status, body) = w
        .api(
            "acme",
            "PATCH /integrations/{integrationId}",
            &[&id],
            Some(json!({"custom_fields": ["Severity"]})),
        )
        .await;

    // THEN the change made from the old version is refused, and Bob's token has Bob's email
    assert_eq!(
        interruption.status(),
        Some(200),
        "the credentials were replaced"
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let (_, read) = w
        .api("acme", "GET /integrations/{integrationId}", &[&id], None)
        .await;
    assert_eq!(read["email"], "bob@example.com", "{read}");
    assert_eq!(secret_of(&w.config, &id).await, bob);
}

/// Scheduler refusing every schedule (down, or its role misconfigured).
struct SchedulerDown;

#[async_trait]
impl SyncScheduler for SchedulerDown {
    async fn upsert_schedule(&self, _: &str, _: &str, _: &str) -> PortResult<()> {
        Err(PortError {
            service: "EventBridge Scheduler",
            message: "service unavailable".into(),
        })
    }

    async fn delete_schedule(&self, _: &str) -> PortResult<()> {
        Ok(())
    }
}

/// Secrets Manager refusing to keep any token.
struct SecretsDown;

#[async_trait]
impl SecretStore for SecretsDown {
    async fn put_secret(&self, _: &str, _: &Secret) -> PortResult<()> {
        Err(PortError {
            service: "Secrets Manager",
            message: "service unavailable".into(),
        })
    }

    async fn get_secret(&self, _: &str) -> PortResult<Option<Secret>> {
        Ok(None)
    }

    async fn delete_secret(&self, _: &str) -> PortResult<()> {
        Ok(())
    }
}

async fn secret_names(w: &World) -> Vec<String> {
    aws_sdk_secretsmanager::Client::new(&w.config)
        .list_secrets()
        .send()
        .await
        .unwrap()
        .secret_list()
        .iter()
        .filter_map(|s| s.name().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_fails_midway_leaves_no_secret_nor_integration_behind() {
    // GIVEN the integration API, with Scheduler down
    let (mut w, site) = stage(20, 1).await;
    let body = json!({"name": "Doomed", "connection": alice_connection(&site.base, &site.token),
        "scope": {"kind": "all_accessible"}});
    only(&mut w.api).scheduler = Box::new(SchedulerDown);

    // WHEN an integration is created
    let (status, answer) = w
        .api("acme", "POST /integrations", &[], Some(body.clone()))
        .await;

    // THEN it fails, and neither its token nor its record is left
    assert_eq!(status, 500, "{answer}");
    assert_eq!(secret_names(&w).await, Vec::<String>::new());
    let (_, listed) = w.api("acme", "GET /integrations", &[], None).await;
    assert_eq!(listed, json!({"integrations": []}), "no integration");

    // AND WHEN the token cannot be kept, after the record was
    only(&mut w.api).scheduler = Box::new(w.scheduler());
    only(&mut w.api).secrets = Box::new(SecretsDown);
    let (status, answer) = w.api("acme", "POST /integrations", &[], Some(body)).await;

    // THEN the record is removed again
    assert_eq!(status, 500, "{answer}");
    let (_, listed) = w.api("acme", "GET /integrations", &[], None).await;
    assert_eq!(listed, json!({"integrations": []}), "no integration");
}

/// A create with `key`, as an event.
fn keyed_create(body: &serde_json::Value, key: &str) -> String {
    let mut event: serde_json::Value = serde_json::from_str(&http_event(
        "acme",
        "POST /integrations",
        &[],
        Some(body.clone()),
    ))
    .unwrap();
    event["headers"]["idempotency-key"] = json!(key);
    event.to_string()
}

/// Secrets Manager, with the other request served just before the first token is kept.
struct SecretsInterruptedBeforePut<'a> {
    inner: SecretsManagerStore,
    interruption: &'a Interruption,
}

#[async_trait]
impl SecretStore for SecretsInterruptedBeforePut<'static> {
    async fn put_secret(&self, name: &str, value: &Secret) -> PortResult<()> {
        self.interruption.happen().await;
        self.inner.put_secret(name, value).await
    }
    async fn get_secret(&self, name: &str) -> PortResult<Option<Secret>> {
        self.inner.get_secret(name).await
    }
    async fn delete_secret(&self, name: &str) -> PortResult<()> {
        self.inner.delete_secret(name).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_creates_with_one_key_make_one_integration_and_each_answer_is_what_is_stored() {
    // GIVEN two creates with the same Idempotency-Key asking for different integrations, the
    // second served while the first is under way (validated, its token about to be kept)
    let (mut w, site) = stage(20, 1).await;
    let body = |name: &str| {
        json!({"name": name, "connection": alice_connection(&site.base, &site.token),
            "scope": {"kind": "all_accessible"}})
    };
    let interruption: &'static Interruption = Box::leak(Box::new(Interruption::new(
        w.another_api(),
        keyed_create(&body("Second"), "one-key"),
    )));
    only(&mut w.api).secrets = Box::new(SecretsInterruptedBeforePut {
        inner: SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&w.config)),
        interruption,
    });

    // WHEN the first is answered
    let (status, first) = w
        .api_with(
            "acme",
            "POST /integrations",
            &[],
            Some(body("First")),
            &[("Idempotency-Key", "one-key")],
        )
        .await;

    // THEN exactly one of them created it, the other was told of the conflict, and the stored
    // integration is the one the creator was answered
    let second = interruption.status();
    let mut statuses = vec![status, second.unwrap()];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![201, 409], "first answered {first}");
    let (_, listed) = w.api("acme", "GET /integrations", &[], None).await;
    let listed = listed["integrations"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let winner = if status == 201 { "First" } else { "Second" };
    assert_eq!(listed[0]["name"], winner, "{listed:?}");
}

/// Scheduler that serves the other request, then fails the schedule.
struct SchedulerInterruptedThenDown<'a> {
    interruption: &'a Interruption,
}

#[async_trait]
impl SyncScheduler for SchedulerInterruptedThenDown<'static> {
    async fn upsert_schedule(&self, _: &str, _: &str, _: &str) -> PortResult<()> {
        self.interruption.happen().await;
        SchedulerDown.upsert_schedule("", "", "").await
    }
    async fn delete_schedule(&self, _: &str) -> PortResult<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_create_whose_schedule_fails_never_removes_what_another_request_answered_for() {
    // GIVEN a create whose schedule fails, and the same create (same key) served meanwhile by an
    // instance whose Scheduler works
    let (mut w, site) = stage(20, 1).await;
    let body = json!({"name": "Twice", "connection": alice_connection(&site.base, &site.token),
        "scope": {"kind": "all_accessible"}});
    let interruption: &'static Interruption = Box::leak(Box::new(Interruption::new(
        w.another_api(),
        keyed_create(&body, "twice"),
    )));
    only(&mut w.api).scheduler = Box::new(SchedulerInterruptedThenDown { interruption });

    // WHEN the first fails
    let (status, answer) = w
        .api_with(
            "acme",
            "POST /integrations",
            &[],
            Some(body),
            &[("Idempotency-Key", "twice")],
        )
        .await;
    assert_eq!(status, 500, "{answer}");

    // THEN the integration the other request was answered 201 for still stands, token and all
    assert_eq!(interruption.status(), Some(201));
    let (_, listed) = w.api("acme", "GET /integrations", &[], None).await;
    let listed = listed["integrations"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(secret_names(&w).await.len(), 1);
}
