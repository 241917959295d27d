//! Checks exchanges with the HTTP API against `docs/openapi.yaml`, with the same contract the
//! end-to-end tests use ([`e2e::openapi`]): for the deployment rehearsal (`infra/rehearsal`),
//! which drives the deployed functions and writes what it sent and got to a JSON file.
//!
//! Usage: `api-contract EXCHANGES.json`, where the file holds an array of
//! `{"route", "request" (the body sent, or null), "status", "content_type", "body"}`.
//! Prints each exchange that breaks the contract and exits 1 if any did.

use serde_json::Value;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: api-contract EXCHANGES.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let exchanges: Vec<Value> = serde_json::from_str(&text).expect("a JSON array of exchanges");
    let contract = e2e::openapi::OpenApi::load();
    let mut broken = 0;
    for exchange in &exchanges {
        let route = exchange["route"].as_str().expect("route");
        let request = Some(&exchange["request"]).filter(|r| !r.is_null());
        let status = exchange["status"].as_u64().expect("status") as u16;
        let checked = contract.check_request(route, request).and_then(|()| {
            contract.check_response(
                route,
                status,
                exchange["content_type"].as_str(),
                exchange["body"].as_str().unwrap_or_default(),
            )
        });
        match checked {
            Ok(()) => println!("  as documented: {route} -> {status}"),
            Err(why) => {
                broken += 1;
                println!("  NOT as documented: {route} -> {status}: {why}");
            }
        }
    }
    if broken > 0 {
        std::process::exit(1);
    }
}
