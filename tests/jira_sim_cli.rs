//! The `jira-sim` binary as scripts use it: flags in, one JSON line out, a Jira on loopback.

use std::process::Command;

use e2e::{binary, start_sim};
use serde_json::Value;

#[tokio::test]
async fn startup_line_describes_a_working_site() {
    let sim = start_sim(&["--projects", "3", "--issues", "150", "--seed", "7"]);
    let base = sim.startup["base_url"].as_str().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"));
    assert_eq!(sim.startup["issues"], 150);
    assert_eq!(sim.startup["projects"].as_array().unwrap().len(), 3);
    let users = sim.startup["users"].as_array().unwrap();
    for field in ["email", "token", "kind", "time_zone"] {
        assert!(
            users.iter().all(|u| u[field].is_string()),
            "every user has {field}"
        );
    }
    // The printed credentials work.
    let alice = users
        .iter()
        .find(|u| u["email"] == "alice@example.com")
        .unwrap();
    let me: Value = reqwest::Client::new()
        .get(format!("{base}/rest/api/3/myself"))
        .basic_auth("alice@example.com", alice["token"].as_str())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["timeZone"], alice["time_zone"]);
    let count: Value = reqwest::Client::new()
        .post(format!("{base}/rest/api/3/search/approximate-count"))
        .basic_auth("alice@example.com", alice["token"].as_str())
        .json(&serde_json::json!({"jql": "created >= -1000d"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count["count"], 150);
}

#[test]
fn data_center_mode_prints_personal_access_tokens() {
    let sim = start_sim(&["--mode", "datacenter", "--issues", "20"]);
    assert_eq!(sim.startup["mode"], "datacenter");
    assert!(
        sim.startup["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["kind"] == "pat")
    );
}

#[test]
fn bad_flags_are_named() {
    let out = Command::new(binary("jira-sim"))
        .args(["--fault-rate", "2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fault-rate"));
    let out = Command::new(binary("jira-sim"))
        .args(["--mode", "server"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mode"));
}
