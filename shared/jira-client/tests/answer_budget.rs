//! The answers in flight share one memory budget: a site that answers every request with the
//! largest body it may, all at once, never has the client hold more than the budget.

use std::time::Duration;

use sei_jira_client::{
    Credentials, Deployment, JiraClient, PrivateNetworks, RetryPolicy, Secret, SiteConfig,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BODY: usize = 4 * 1024 * 1024;
const IN_FLIGHT: usize = 10;

/// A site that answers every request with a `BODY`-byte JSON object, sending the first half at
/// once and the rest later, so that every answer is half read before any is whole.
async fn hostile_site() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let head = r#"{"accountId":"hostile","pad":""#;
    let body = format!("{head}{}\"}}", "a".repeat(BODY - head.len() - 2));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut chunk = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&chunk[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let (first, rest) = body.as_bytes().split_at(body.len() / 2);
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.write_all(first).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                let _ = socket.write_all(rest).await;
            });
        }
    });
    base
}

/// Asks `IN_FLIGHT` requests at once with the given budget; the most bytes held at once, and
/// whether every request got its answer.
async fn peak_with(base: &str, budget: usize) -> (usize, bool) {
    let mut config = SiteConfig::new(
        base,
        Deployment::DataCenter,
        Credentials::PersonalAccessToken {
            token: Secret::new("a-personal-access-token"),
        },
    );
    config.private_networks = PrivateNetworks::local();
    config.max_in_flight = IN_FLIGHT;
    config.requests_per_second = 1000;
    config.answer_budget_bytes = budget;
    config.retry = RetryPolicy {
        max_retries: 30,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
    };
    let client = JiraClient::new(&config).unwrap();
    let answers = futures_util::future::join_all((0..IN_FLIGHT).map(|_| client.myself())).await;
    let all_answered = answers.iter().all(|a| {
        a.as_ref()
            .is_ok_and(|me| me.account_id.as_deref() == Some("hostile"))
    });
    (client.answer_bytes_peak(), all_answered)
}

/// GIVEN a site answering ten requests in flight with 4 MiB each, WHEN the client's budget is
/// three answers, THEN it never holds more than that, and every request still gets its answer
/// (those that found the budget spent are tried again); side by side, a budget as large as
/// every answer together shows what the site would have had it hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_in_flight_never_pass_the_budget() {
    let base = hostile_site().await;
    let budget = 3 * BODY;
    let (unbounded, _) = peak_with(&base, IN_FLIGHT * BODY * 2).await;
    let (bounded, answered) = peak_with(&base, budget).await;
    println!(
        "{IN_FLIGHT} answers of {} MiB in flight: {} MiB held at most without a budget, {} MiB \
         with a budget of {} MiB",
        BODY >> 20,
        unbounded >> 20,
        bounded >> 20,
        budget >> 20
    );
    assert!(
        unbounded > budget,
        "the site did not have the answers overlap: {unbounded}"
    );
    assert!(
        bounded <= budget,
        "{bounded} held, past the budget of {budget}"
    );
    assert!(answered, "a request went without its answer");
}
