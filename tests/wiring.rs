//! The functions' wiring from their environment, run as Lambda runs them: each real binary,
//! given the variables `template.yaml` gives it.
//!
//! GIVEN a function binary and the names of the variables the template gives it (Globals and its
//! own), WHEN any one of them is missing — as a name misspelled in the template leaves it — THEN
//! the function stops at start with a message naming that variable, before it asks the Lambda
//! runtime for any request; and WHEN none is missing, it gets past its wiring.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_norway::Value;

/// Function binary -> the names of the variables the template gives it.
fn template_variables() -> BTreeMap<String, Vec<String>> {
    let path = e2e::repo_root().join("template.yaml");
    let template: Value = serde_norway::from_str(&std::fs::read_to_string(&path).unwrap())
        .expect("template.yaml is YAML");
    let names = |env: &Value| -> Vec<String> {
        env["Variables"]
            .as_mapping()
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let globals = names(&template["Globals"]["Function"]["Environment"]);
    let mut functions = BTreeMap::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("each function names its binary")
            .to_string();
        let mut variables = globals.clone();
        variables.extend(names(&resource["Properties"]["Environment"]));
        functions.insert(binary, variables);
    }
    assert_eq!(functions.len(), 6, "{functions:?}");
    functions
}

/// A value of the right form for each variable (numbers and flags are parsed).
fn value_for(name: &str) -> &'static str {
    match name {
        "MIN_SCHEDULE_MINUTES" => "15",
        "MAX_INTEGRATIONS_PER_ACCOUNT" => "100",
        "VALIDATIONS_PER_MINUTE" => "30",
        "STALLED_RUNS_BEFORE_STOP" => "5",
        "STALE_AFTER_HOURS" => "48",
        "JIRA_PRIVATE_CIDRS" => "",
        "DEFAULT_SCHEDULE_RATE" => "rate(1 hour)",
        n if n.ends_with("_ARN") => "arn:aws:iam::123456789012:role/wiring",
        _ => "wiring",
    }
}

/// Runs `binary` with exactly `variables` (and what the Lambda service and the emulator add),
/// for at most 3 s: whether it exited, and what it printed.
fn run(binary: &str, variables: &[&String]) -> (bool, String) {
    let mut command = Command::new(e2e::binary(binary));
    command
        .env_clear()
        // Nothing listens there: a function past its wiring fails on its first runtime call.
        .env("AWS_LAMBDA_RUNTIME_API", "http://127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", binary)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_REGION", "us-east-1")
        .env("SEI_AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in variables {
        command.env(name, value_for(name));
    }
    let mut child = command.spawn().expect("the function binary starts");
    let started = Instant::now();
    let exited = loop {
        if child.try_wait().unwrap().is_some() {
            break true;
        }
        if started.elapsed() > Duration::from_secs(3) {
            child.kill().unwrap();
            child.wait().unwrap();
            break false;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut printed = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    (exited, printed)
}

#[test]
fn a_missing_variable_stops_the_function_at_start_naming_it() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (binary, variables) in template_variables() {
        for missing in &variables {
            let rest: Vec<&String> = variables.iter().filter(|v| *v != missing).collect();
            let (exited, printed) = run(&binary, &rest);
            checked += 1;
            if !exited || !printed.contains(&format!("environment variable {missing}")) {
                wrong.push(format!(
                    "{binary} without {missing}: exited {exited}, printed {printed:?}"
                ));
            }
        }
        // With all of them it gets past its wiring, to its first call to the runtime API.
        let all: Vec<&String> = variables.iter().collect();
        let (_, printed) = run(&binary, &all);
        if !printed.contains("127.0.0.1:9") || printed.contains("environment variable") {
            wrong.push(format!("{binary} with every variable: {printed:?}"));
        }
    }
    assert!(checked >= 38, "{checked} cases");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
