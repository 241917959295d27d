//! The `sei-jira` CLI as people use it: demo, validate, sync, export, hide, against `jira-sim`.

use e2e::{ok_json, sei_jira, start_sim};
use serde_json::Value;

#[test]
fn demo_validates_syncs_and_summarises() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let out = sei_jira(&[
        "demo",
        "--issues",
        "400",
        "--out",
        page.to_str().unwrap(),
        "--json",
    ]);
    let v = ok_json(out);
    assert!(
        v["validation"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "passed")
    );
    assert_eq!(v["backfill"]["counts"]["issues_new"], 400);
    assert_eq!(v["backfill"]["outcome"], "succeeded");
    assert_eq!(v["incremental"]["counts"]["issues_new"], 0);
    // The report page, written where asked.
    assert_eq!(v["report"], page.to_str().unwrap());
    assert!(
        std::fs::read_to_string(&page)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
    // The demo's DORA step: a kept profile, classified, read from its members; every metric
    // with its sample size.
    assert_eq!(v["dora"]["recomputing"], false, "{}", v["dora"]);
    let dora = &v["dora"]["metrics"];
    for sample in [
        &dora["time_to_restore"]["sample"],
        &dora["lead_time"]["sample"],
        &dora["change_failure_rate"]["deployed"],
        &dora["deployment_frequency"]["deployments"],
    ] {
        assert!(sample.is_u64(), "{dora}");
    }
}

/// The flags that connect as Bob to the simulator at `base`.
/// A simulator started with `args`, its base URL, bob's token and a directory for a fresh store.
fn bobs_site(args: &[&str]) -> (e2e::Running, String, String, tempfile::TempDir) {
    let sim = start_sim(args);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let token = jira_sim::user_token(&sim.startup, "bob@example.com").unwrap();
    (sim, base, token, tempfile::tempdir().unwrap())
}

fn bobs<'a>(base: &'a str, token: &'a str) -> [&'a str; 7] {
    [
        "--url",
        base,
        "--email",
        "bob@example.com",
        "--token",
        token,
        "--allow-private-network",
    ]
}

#[test]
fn sync_export_hide_remove_against_a_running_simulator() {
    let sim = start_sim(&["--issues", "300", "--projects", "3"]);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let token =
        jira_sim::user_token(&sim.startup, "bob@example.com").expect("a user of the simulator");
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.redb");
    let store = store.to_str().unwrap();
    let connection = bobs(&base, &token);

    let out = sei_jira(&[&["validate"][..], &connection[..]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("[ok  ] Credentials accepted"));

    let out = sei_jira(
        &[
            &[
                "sync",
                "--projects",
                "PLAT,SRE",
                "--exclude",
                "description",
                "--store",
                store,
                "--json",
            ][..],
            &connection[..],
        ]
        .concat(),
    );
    let run = ok_json(out);
    let synced = run["run"]["counts"]["issues_new"].as_u64().unwrap();
    assert!(synced > 0);

    let export = dir.path().join("issues.jsonl");
    let out = sei_jira(&[
        "export",
        "--store",
        store,
        "--out",
        export.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = std::fs::read_to_string(&export)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, synced);
    assert!(
        lines
            .iter()
            .all(|l| l["fields"].get("description").is_none() && l["fields"]["status"].is_object())
    );
    assert!(
        lines
            .iter()
            .all(|l| ["PLAT", "SRE"].contains(&l["project"].as_str().unwrap()))
    );

    let key = lines[0]["key"].as_str().unwrap();
    assert!(sei_jira(&["hide", key, "--store", store]).status.success());
    let id = lines[1]["id"].as_str().unwrap();
    assert!(sei_jira(&["remove", id, "--store", store]).status.success());
    let out = sei_jira(&["export", "--store", store]);
    let after: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(after[0]["hidden"], true);
    assert_eq!(after[1]["removed"], true);
    assert!(after[1]["fields"].as_object().unwrap().is_empty());
}

#[test]
fn bad_input_names_the_flag() {
    let out = sei_jira(&["sync", "--email", "a@b.c", "--token", "t"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--url"));
    let out = sei_jira(&[
        "sync",
        "--url",
        "https://acme.atlassian.net",
        "--token",
        "t",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--email"));
    let out = sei_jira(&[
        "sync",
        "--url",
        "https://acme.atlassian.net",
        "--email",
        "a@b.c",
        "--token",
        "t",
        "--exclude",
        "body",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--exclude"));
    // A JQL filter of ORDER BY alone selects nothing to sync: refused as the API refuses it,
    // before any request (to a loopback port nothing listens on, were one made).
    for command in ["sync", "validate"] {
        let out = sei_jira(&[
            command,
            "--url",
            "http://127.0.0.1:9",
            "--email",
            "a@b.c",
            "--token",
            "t",
            "--jql",
            "order by created",
        ]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command}");
        assert!(
            said.contains("--jql: has only an ORDER BY clause"),
            "{command}: {said}"
        );
    }
    // A site address without its scheme is named as such, in words, not the URL parser's.
    let out = sei_jira(&[
        "validate",
        "--url",
        "acme.atlassian.net",
        "--email",
        "a@b.c",
        "--token",
        "t",
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        said.contains("does not start with https://") && !said.contains("relative URL"),
        "{said}"
    );
    let out = sei_jira(&["export", "--store", "/nonexistent/store.redb"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--store"));
    // A private address is refused outside local mode, before any connection.
    let out = sei_jira(&[
        "validate",
        "--url",
        "https://10.1.2.3",
        "--email",
        "a@b.c",
        "--token",
        "t",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("[FAIL] Site URL allowed"));
}

/// GIVEN a site whose searches answer 429 with `Retry-After: 900`, WHEN a sync may spend 2 s
/// waiting on Jira, THEN it stops at once (it does not sleep 15 minutes) with exit code 75 and
/// says that the next run resumes. GIVEN a search that asks for a 9 s wait once, WHEN a sync
/// runs, THEN its progress line says it is waiting for Jira, until when and for how long, and
/// the run completes.
#[tokio::test]
async fn a_sync_says_why_it_waits_and_stops_past_its_most_wait() {
    let (_sim, base, token, dir) = bobs_site(&["--issues", "60", "--projects", "2"]);
    let store = dir.path().join("s.redb");
    let connection = [
        &bobs(&base, &token)[..],
        &["--store", store.to_str().unwrap()],
    ]
    .concat();
    e2e::sim_control(
        &base,
        serde_json::json!({"force_429": 1000, "force_429_wait_secs": 900,
        "force_429_path": "/search/jql"}),
    )
    .await;
    let started = std::time::Instant::now();
    let out = sei_jira(&[&["sync", "--max-wait", "2s"][..], &connection[..]].concat());
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{said}");
    assert!(
        said.contains("--max-wait") && said.contains("resumes"),
        "{said}"
    );
    assert!(started.elapsed().as_secs() < 60, "it waited");

    e2e::sim_control(
        &base,
        serde_json::json!({"force_429": 1, "force_429_wait_secs": 9}),
    )
    .await;
    let out = sei_jira(&[&["sync"][..], &connection[..]].concat());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("waiting for Jira until") && said.contains("(it asked for 9 s)"),
        "{said}"
    );
}

/// GIVEN a site whose every request takes a while, WHEN `sei-jira sync` backfills it, THEN the
/// hygiene index is brought up to date while the sync waits on Jira: once the sync has written
/// its last, few of the issues are left to evaluate; none is left marked as changed, and the
/// report counts every issue.
#[tokio::test]
async fn the_hygiene_index_is_kept_current_while_the_sync_writes() {
    // 80 ms a request: the refresh keeps pace on a loaded machine too (the test binary runs its
    // tests side by side; at 40 ms it once fell behind there).
    let (_sim, base, token, dir) =
        bobs_site(&["--issues", "1500", "--projects", "3", "--latency-ms", "80"]);
    let store = dir.path().join("s.redb");
    let store = store.to_str().unwrap();
    let connection = [&bobs(&base, &token)[..], &["--store", store]].concat();

    let run = ok_json(sei_jira(
        &[&["sync", "--json"][..], &connection[..]].concat(),
    ));
    let synced = run["run"]["counts"]["issues_new"].as_u64().unwrap();
    let after_sync = run["phases"]["index_refresh"]["issues_after_sync"]
        .as_u64()
        .unwrap();
    assert!(synced > 1000, "{run}");
    assert!(
        after_sync * 4 < synced,
        "{after_sync} of {synced} issues were left to evaluate after the sync"
    );

    let kept =
        sei_jira_core::store::embedded::EmbeddedStore::open(std::path::Path::new(store)).unwrap();
    let marks = sei_jira_core::store::HygieneIndexStore::changed_issues(&kept, "local", 10)
        .await
        .unwrap();
    assert!(marks.is_empty(), "marks left: {marks:?}");
    drop(kept);
    let report = ok_json(sei_jira(&["hygiene", "--store", store, "--json"]));
    assert_eq!(report["total_tickets"], synced, "{report}");
}

/// GIVEN a sync under way against a slow site, WHEN it gets Ctrl-C, THEN it stops with exit code
/// 130, saying that what it stored is kept and the next run resumes; AND an immediate rerun is
/// not held back by the interrupted run's leases: it exits 0 with every issue of the site stored,
/// without reading again what the first run stored. While the sync runs, a report asked of its
/// store is refused in words that say why and what to do.
#[tokio::test]
async fn ctrl_c_stops_a_sync_and_the_next_run_finishes_it_at_once() {
    let (sim, base, token, dir) =
        bobs_site(&["--issues", "5000", "--projects", "3", "--latency-ms", "400"]);
    let store = dir.path().join("s.redb");
    let connection = [
        &bobs(&base, &token)[..],
        &["--store", store.to_str().unwrap()],
    ]
    .concat();

    let child = std::process::Command::new(e2e::binary("sei-jira"))
        .args([&["sync"][..], &connection[..]].concat())
        .env_remove("JIRA_URL")
        .env_remove("JIRA_EMAIL")
        .env_remove("JIRA_API_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Past validation and into the fetch (the whole run takes about 8 s: the site answers every
    // request after 400 ms).
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let page = dir.path().join("r.html");
    let report = sei_jira(&[
        "report",
        "--store",
        store.to_str().unwrap(),
        "--out",
        page.to_str().unwrap(),
    ]);
    let refused = String::from_utf8_lossy(&report.stderr);
    assert_eq!(report.status.code(), Some(1), "{refused}");
    assert!(
        refused.contains("another sei-jira process has this store open")
            && refused.contains("sei-jira serve")
            && !refused.contains("Cannot acquire lock"),
        "{refused}"
    );
    // SAFETY: kill sends a signal to the child just spawned.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{said}");
    assert!(said.contains("next run resumes"), "{said}");
    let first = stored(&store).await;
    assert!((300..5000).contains(&first), "the first run stored {first}");

    let rerun = ok_json(sei_jira(
        &[&["sync", "--json"][..], &connection[..]].concat(),
    ));
    assert_eq!(rerun["run"]["outcome"], "succeeded", "{rerun}");
    assert_eq!(stored(&store).await, 5000);
    // It read the rest, not the whole site again: fewer requests than a backfill's least.
    let least = sim.startup["request_bound"]["lower_bound"]
        .as_u64()
        .unwrap();
    let asked = rerun["run"]["counts"]["requests"].as_u64().unwrap();
    assert!(
        asked < least,
        "the rerun asked {asked} requests; a whole backfill asks at least {least}"
    );
}

/// The issues the CLI's store holds for its integration.
async fn stored(path: &std::path::Path) -> usize {
    let store = sei_jira_core::store::embedded::EmbeddedStore::open(path).unwrap();
    sei_jira_core::store::whole_issue_index(&store, "local")
        .await
        .unwrap()
        .len()
}

/// GIVEN a store synced under the default integration name, WHEN a command reads it under a name
/// it does not hold (`demo`, as the demo names its integration), THEN it fails naming the flag
/// and the integrations the store holds, rather than answering with nothing.
#[test]
fn an_integration_the_store_does_not_hold_is_an_error_naming_those_it_does() {
    let (sim, base, token, dir) = bobs_site(&["--issues", "40", "--projects", "2"]);
    let store = dir.path().join("s.redb");
    let store = store.to_str().unwrap();
    let connection = [&bobs(&base, &token)[..], &["--store", store]].concat();
    ok_json(sei_jira(
        &[&["sync", "--json"][..], &connection[..]].concat(),
    ));

    let page = dir.path().join("report.html");
    for command in [
        &["hygiene"][..],
        &["export"],
        &["report", "--out", page.to_str().unwrap()],
        &["hygiene", "trend"],
    ] {
        let out = sei_jira(&[command, &["--store", store, "--integration", "demo"]].concat());
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command:?}: {said}");
        assert!(
            said.contains("--integration demo") && said.contains("holds local"),
            "{command:?}: {said}"
        );
        assert!(out.stdout.is_empty(), "{command:?}");
    }
    assert!(!page.exists());

    // A JQL scope's summary names the projects it stored issues of.
    let project = sim.startup["projects"][0].as_str().unwrap();
    let by_jql = dir.path().join("jql.redb");
    let jql = format!("project = {project}");
    let out = sei_jira(
        &[
            &["sync", "--jql", &jql][..],
            &bobs(&base, &token),
            &["--store", by_jql.to_str().unwrap()],
        ]
        .concat(),
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains(&format!("projects:          1 ({project})")),
        "{said}"
    );

    // A reader that stops early (`sei-jira export | head -1`) ends the output quietly.
    let mut child = std::process::Command::new(e2e::binary("sei-jira"))
        .args(["export", "--store", store])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{said}");
    assert!(!said.contains("panicked"), "{said}");
}

/// GIVEN a site that speaks plain HTTP, WHEN it is validated at an https:// address, THEN the
/// command fails its reachability check and exits 1: the peer closing the connection mid-handshake
/// does not end the process by a signal.
#[test]
fn a_site_answering_a_tls_handshake_in_plain_http_fails_reachability() {
    let sim = start_sim(&["--issues", "10", "--projects", "1"]);
    let address = sim.startup["base_url"]
        .as_str()
        .unwrap()
        .replace("http://", "https://");
    let out = sei_jira(&[
        "validate",
        "--url",
        &address,
        "--email",
        "a@b.c",
        "--token",
        "t",
        "--allow-private-network",
    ]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("[FAIL] Site reachable"), "{said}");
    assert!(
        said.contains("did not answer in TLS (is it plain http?")
            && !said.contains("InvalidContentType"),
        "{said}"
    );
}

/// Every subcommand's help ends with examples, and every `--json` flag says what it does.
#[test]
fn every_subcommand_helps_with_examples() {
    for command in [
        &["serve"][..],
        &["validate"],
        &["sync"],
        &["export"],
        &["hide"],
        &["unhide"],
        &["remove"],
        &["hygiene"],
        &["hygiene", "trend"],
        &["hygiene", "snapshot"],
        &["hygiene", "misses"],
        &["dora"],
        &["dora", "profile", "add"],
        &["dora", "profile", "list"],
        &["dora", "profile", "remove"],
        &["report"],
        &["completions"],
        &["demo"],
    ] {
        let out = sei_jira(&[command, &["--help"]].concat());
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{command:?}");
        let examples = help.split("Examples:").nth(1).unwrap_or_default();
        assert!(
            examples.contains(&format!("sei-jira {}", command.join(" "))),
            "{command:?}: {help}"
        );
        assert!(!help.contains("[default: ]") && !help.contains("[default: \"\"]"));
        if help.contains("--json") {
            assert!(
                help.contains("Print the answer as JSON"),
                "{command:?}: --json undescribed"
            );
        }
    }
}

/// GIVEN a synced store, WHEN a person lists the tickets missing an assignee, hides one and
/// unhides it, and keeps, uses and removes a DORA profile — all from the CLI, as the report page
/// tells local users to — THEN the misses are exactly the exported tickets without an assignee,
/// the hidden one leaves the misses and comes back, and the kept profile is listed, reported
/// under its id and name, shown on the report page, and gone once removed.
#[test]
fn the_cli_lists_misses_unhides_and_keeps_dora_profiles() {
    let (_sim, base, token, dir) = bobs_site(&["--issues", "200", "--projects", "2"]);
    let store = dir.path().join("s.redb");
    let store = store.to_str().unwrap();
    e2e::cli_sync(store, &base, "bob@example.com", &token);
    let at = ["--store", store];
    let run = |args: &[&str]| ok_json(sei_jira(&[args, &at[..]].concat()));
    let missing = || -> Vec<String> {
        let listed = run(&["hygiene", "misses", "--category", "no_assignee", "--json"]);
        assert_eq!(listed["category"], "No Assignee", "{listed}");
        let mut keys: Vec<String> = listed["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["key"].as_str().unwrap().to_string())
            .collect();
        keys.sort();
        keys
    };

    // Independently: the exported tickets whose assignee is empty.
    let export = sei_jira(&[&["export"][..], &at[..]].concat());
    let mut unassigned: Vec<String> = String::from_utf8(export.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|i| i["fields"]["assignee"].is_null())
        .map(|i| i["key"].as_str().unwrap().to_string())
        .collect();
    unassigned.sort();
    assert!(!unassigned.is_empty(), "the site has unassigned tickets");
    assert_eq!(missing(), unassigned);

    let first = unassigned[0].as_str();
    let hide = sei_jira(&[&["hide", first][..], &at[..]].concat());
    assert!(hide.status.success());
    assert!(!missing().contains(&first.to_string()));
    let unhide = sei_jira(&[&["unhide", first][..], &at[..]].concat());
    assert!(
        String::from_utf8_lossy(&unhide.stdout).contains("unhidden"),
        "{unhide:?}"
    );
    assert_eq!(missing(), unassigned);

    let limited = run(&[
        "hygiene",
        "misses",
        "--category",
        "No Assignee",
        "--limit",
        "1",
        "--json",
    ]);
    assert_eq!(limited["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(limited["more"], unassigned.len() > 1);

    // A DORA profile kept, listed, used by id and name, shown on the page, removed.
    let profile = dir.path().join("bugs.json");
    std::fs::write(
        &profile,
        r#"{"name": "Bugs as incidents",
            "incidents": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Bug"]}]}], "join": "or"},
            "changes": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Story"]}]}], "join": "or"}}"#,
    )
    .unwrap();
    let added = sei_jira(
        &[
            &["dora", "profile", "add", profile.to_str().unwrap()][..],
            &at[..],
        ]
        .concat(),
    );
    let said = String::from_utf8_lossy(&added.stdout);
    assert!(
        added.status.success() && said.contains("as p1"),
        "{added:?}"
    );
    let listed = run(&["dora", "profile", "list", "--json"]);
    assert_eq!(listed["profiles"][0]["id"], "p1", "{listed}");
    assert_eq!(
        listed["profiles"][0]["profile"]["name"],
        "Bugs as incidents"
    );
    for named in ["p1", "bugs AS incidents"] {
        let report = run(&["dora", "--profile", named, "--json"]);
        assert_eq!(report["profile_id"], "p1", "{report}");
        assert_eq!(report["profile"], "Bugs as incidents");
    }
    let page = dir.path().join("r.html");
    let written = sei_jira(&[&["report", "--out", page.to_str().unwrap()][..], &at[..]].concat());
    assert!(written.status.success());
    assert!(
        std::fs::read_to_string(&page)
            .unwrap()
            .contains("Bugs as incidents")
    );
    let removed = sei_jira(
        &[
            &["dora", "profile", "remove", "Bugs as incidents"][..],
            &at[..],
        ]
        .concat(),
    );
    assert!(removed.status.success(), "{removed:?}");
    assert_eq!(
        run(&["dora", "profile", "list", "--json"])["profiles"],
        serde_json::json!([])
    );
    // A profile naming a type and a status no stored ticket has is used, with a warning for
    // each at its place in the profile.
    let typo = dir.path().join("typo.json");
    std::fs::write(
        &typo,
        r#"{"name": "Typo", "deployed_statuses": ["Deploy"],
            "incidents": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Incidnet"]}]}], "join": "or"},
            "changes": {"sets": [{"conditions": [{"field": "issue type", "operator": "equals", "values": ["Story"]}]}], "join": "or"}}"#,
    )
    .unwrap();
    let warned = sei_jira(&[&["dora", "--profile", typo.to_str().unwrap()][..], &at[..]].concat());
    let said = String::from_utf8_lossy(&warned.stderr);
    assert!(warned.status.success(), "{said}");
    assert!(
        said.contains(
            "incidents.sets[0].conditions[0].values: no stored ticket has 'Incidnet' (they have: "
        ) && said.contains("deployed_statuses: no stored ticket has 'Deploy'")
            && !said.contains("'Story'"),
        "{said}"
    );
    let gone = sei_jira(&[&["dora", "--profile", "p1"][..], &at[..]].concat());
    let refused = String::from_utf8_lossy(&gone.stderr);
    assert!(
        !gone.status.success()
            && refused.contains("--profile p1: no such file, nor a kept profile"),
        "{refused}"
    );
}

/// GIVEN the bash completion script `sei-jira completions bash` prints, WHEN bash completes a
/// command, a subcommand's subcommand and a flag two levels down, THEN each offers what the CLI
/// takes there; the other shells' scripts name the commands too.
#[test]
fn completions_complete_commands_subcommands_and_their_flags_in_bash() {
    let out = sei_jira(&["completions", "bash"]);
    assert!(out.status.success(), "{out:?}");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("sei-jira.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let complete = |words: &[&str]| -> Vec<String> {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        let program = format!(
            "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; \
             complete -p sei-jira >/dev/null || exit 3; \
             $(complete -p sei-jira | sed -E 's/.*-F ([^ ]+).*/\\1/') sei-jira '{}' '{}'; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            quoted.join(" "),
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let done = std::process::Command::new("bash")
            .args(["-c", &program])
            .output()
            .unwrap();
        assert!(done.status.success(), "{done:?}");
        String::from_utf8(done.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(complete(&["sei-jira", "unh"]), ["unhide"]);
    let profile = complete(&["sei-jira", "dora", "profile", ""]);
    for action in ["add", "list", "remove"] {
        assert!(profile.contains(&action.to_string()), "{profile:?}");
    }
    assert_eq!(
        complete(&["sei-jira", "hygiene", "misses", "--cat"]),
        ["--category"]
    );
    for shell in ["zsh", "fish"] {
        let script = sei_jira(&["completions", shell]);
        let text = String::from_utf8_lossy(&script.stdout);
        assert!(
            script.status.success() && text.contains("unhide"),
            "{shell}"
        );
    }
    let unknown = sei_jira(&["completions", "tcsh"]);
    assert!(!unknown.status.success());
}

/// GIVEN the README's "Connect your Jira" commands, WHEN a person runs them as written, against
/// the simulator in place of their site (its URL, a user's email and two of its projects put in
/// for the README's examples), THEN every one succeeds and the sync stores the projects' issues;
/// and the README stays short enough to read (at most 1,500 words).
#[test]
fn the_readme_connect_steps_run_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let words = readme.split_whitespace().count();
    assert!(words <= 1500, "README.md has {words} words");
    let section = &readme[readme.find("## Connect your Jira").unwrap()..];
    let section = &section[..section[3..].find("\n## ").unwrap()];
    let block = section
        .split("```sh")
        .nth(2)
        .expect("the check-then-sync block");
    let block = &block[..block.find("```").unwrap()];

    let (sim, base, token, dir) = bobs_site(&["--issues", "120", "--projects", "3"]);
    let projects: Vec<&str> = sim.startup["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let mut ran = 0;
    for line in block.lines().filter(|l| l.starts_with("sei-jira ")) {
        for command in line.split("&&") {
            let command = command
                .trim()
                .replace("https://acme.atlassian.net", &base)
                .replace("you@acme.com", "bob@example.com")
                .replace("ABC,OPS", &format!("{},{}", projects[0], projects[1]));
            let mut args: Vec<&str> = command.split_whitespace().skip(1).collect();
            if matches!(args[0], "validate" | "sync") {
                // The simulator is on this machine, which a real site is not.
                args.push("--allow-private-network");
            }
            let out = std::process::Command::new(e2e::binary("sei-jira"))
                .args(&args)
                .current_dir(dir.path())
                .env("JIRA_API_TOKEN", &token)
                .env_remove("JIRA_URL")
                .env_remove("JIRA_EMAIL")
                .output()
                .unwrap();
            assert!(out.status.success(), "{command}: {out:?}");
            ran += 1;
        }
    }
    assert_eq!(ran, 4, "validate, sync, hygiene, report");
    assert!(dir.path().join("report.html").exists());
    let exported = sei_jira(&[
        "export",
        "--store",
        dir.path().join(".sei-jira/store.redb").to_str().unwrap(),
    ]);
    let keys: Vec<String> = String::from_utf8(exported.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["project"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|k| k == projects[0] || k == projects[1]),
        "{keys:?}"
    );
}

/// GIVEN a synced store, WHEN a snapshot is taken at a date (as `hygiene --at` takes one) and at
/// something that is no time, THEN the date is its first instant, and the refusal names the flag
/// and the forms it takes, in words rather than the time parser's.
#[test]
fn a_snapshot_is_taken_at_a_date_and_a_bad_time_is_refused_in_words() {
    let (_sim, base, token, dir) = bobs_site(&["--issues", "40", "--projects", "1"]);
    let store = dir.path().join("s.redb");
    let store = store.to_str().unwrap();
    e2e::cli_sync(store, &base, "bob@example.com", &token);
    let taken = ok_json(sei_jira(&[
        "hygiene",
        "snapshot",
        "--at",
        "2026-12-01",
        "--json",
        "--store",
        store,
    ]));
    assert_eq!(taken["day"], "2026-12-01", "{taken}");
    let refused = sei_jira(&["hygiene", "snapshot", "--at", "2026-12", "--store", store]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("--at: must be an RFC 3339 time or a date (YYYY-MM-DD)")
            && !said.contains("premature end of input"),
        "{said}"
    );
}

/// GIVEN a synced store, WHEN the hygiene report and trend are asked with a project the store
/// never saw and an issue type misspelt, THEN each value is warned about on stderr under its flag,
/// with the values the tickets do hold, the JSON carries the same warnings, and a selection of
/// no ticket reads "no data" rather than a score of 0.
#[test]
fn filters_naming_values_no_ticket_holds_are_warned_about() {
    let (_sim, base, token, dir) = bobs_site(&["--issues", "60", "--projects", "2"]);
    let store = dir.path().join("s.redb");
    let store = store.to_str().unwrap();
    e2e::cli_sync(store, &base, "bob@example.com", &token);
    let filters = [
        "--projects",
        "NOPE",
        "--issue-types",
        "Bugs",
        "--store",
        store,
    ];
    let out = sei_jira(&[&["hygiene"][..], &filters[..]].concat());
    let (said, shown) = (
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout),
    );
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("warning: --projects: no stored ticket has 'NOPE' (they have: ")
            && said.contains("warning: --issue-types: no stored ticket has 'Bugs' (they have: ")
            && said.contains("Bug"),
        "{said}"
    );
    assert!(
        shown.contains("no data (no stored ticket is selected)"),
        "{shown}"
    );
    let json = ok_json(sei_jira(
        &[&["hygiene", "--json"][..], &filters[..]].concat(),
    ));
    let warned: Vec<&str> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["value"].as_str().unwrap())
        .collect();
    assert_eq!(warned, ["NOPE", "Bugs"], "{json}");
    let trend = sei_jira(&[
        "hygiene",
        "trend",
        "--issue-types",
        "Bugs",
        "--store",
        store,
    ]);
    assert!(
        String::from_utf8_lossy(&trend.stderr)
            .contains("--issue-types: no stored ticket has 'Bugs'"),
        "{trend:?}"
    );
    // A value held, in another case, warns about nothing.
    let fine = sei_jira(&["hygiene", "--issue-types", "bug", "--store", store]);
    assert!(fine.status.success() && fine.stderr.is_empty(), "{fine:?}");
}

/// GIVEN a JQL that Jira accepts but that matches no issue, WHEN it is validated and then
/// synced, THEN validation passes it saying a sync would store nothing, and the sync's summary
/// says the filter matched no issue and touched no project, rather than reporting success over
/// an empty store without a word.
#[test]
fn a_jql_that_matches_nothing_is_said_at_validation_and_after_the_sync() {
    let (sim, base, token, dir) = bobs_site(&["--issues", "40", "--projects", "1"]);
    let project = sim.startup["projects"][0].as_str().unwrap();
    let jql = format!("project = {project} AND created < \"1999-01-01\"");
    let store = dir.path().join("s.redb");
    let connection = bobs(&base, &token);
    let validated = sei_jira(&[&["validate", "--jql", &jql][..], &connection[..]].concat());
    let said = String::from_utf8_lossy(&validated.stdout);
    assert!(validated.status.success(), "{said}");
    assert!(
        said.contains(
            "valid, but it matches no issue this user can see: a sync would store nothing"
        ),
        "{said}"
    );
    let synced = sei_jira(
        &[
            &["sync", "--jql", &jql, "--store", store.to_str().unwrap()][..],
            &connection[..],
        ]
        .concat(),
    );
    let summary = String::from_utf8_lossy(&synced.stdout);
    assert!(synced.status.success(), "{summary}");
    assert!(
        summary.contains("projects:          none")
            && summary
                .contains("the JQL filter matches no issue this user can see; nothing is stored"),
        "{summary}"
    );
}
