//! The report page in a real browser: headless Chromium (Debian's `chromium`, which the test
//! script installs) renders the page the demo wrote. Its charts are in the DOM with the numbers
//! the JSON answers give, it asks the network for nothing, and its screenshot is kept at
//! `target/report-page.png` (the README shows a copy, `docs/report-page.png`).
//!
//! Chromium never reaches past this machine: every host name resolves to nothing and every
//! connection would go through a closed port on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::{ok_json, sei_jira};
use serde_json::Value;

fn chromium() -> String {
    let bin = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&bin).arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "{bin} not found: install Debian's chromium (infra/scripts/test-all.sh does) or set CHROMIUM"
    );
    bin
}

/// Runs headless Chromium on `page` with `extra` arguments, its network log in `net_log`.
fn render(page: &Path, net_log: &Path, extra: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs")
}

/// The URLs the page itself asked for: requests the network log names with an initiator (the
/// browser's own background requests have none: "not an origin").
fn page_requests(net_log: &Path) -> Vec<String> {
    let log: Value = serde_json::from_str(&std::fs::read_to_string(net_log).unwrap()).unwrap();
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == start_job)
        .filter(|e| e["params"]["initiator"] != "not an origin")
        .filter_map(|e| e["params"]["url"].as_str().map(str::to_string))
        .filter(|url| !url.starts_with("file:"))
        .collect()
}

/// The markup of the figure whose `data-chart` is `id`.
fn figure<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("data-chart=\"{id}\""))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let end = start + dom[start..].find("</figure>").unwrap();
    &dom[start..end]
}

/// Every value of `attr` in `markup`, in order.
fn values<'a>(markup: &'a str, attr: &str) -> Vec<&'a str> {
    let key = format!("{attr}=\"");
    markup
        .match_indices(&key)
        .map(|(i, _)| {
            let rest = &markup[i + key.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

fn attr<'a>(markup: &'a str, at: &str, attr: &str) -> &'a str {
    let start = markup.find(at).unwrap_or_else(|| panic!("no {at}"));
    values(&markup[start..], attr)[0]
}

fn sum(values: &[&str]) -> f64 {
    values.iter().map(|v| v.parse::<f64>().unwrap()).sum()
}

/// GIVEN the demo's store and the page it wrote, WHEN Chromium renders the page, THEN every
/// section's charts are there with the numbers the JSON answers give, the page asked for
/// nothing, and a screenshot is kept.
#[test]
fn the_demo_report_renders_its_numbers_and_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, page) = (
        dir.path().join("store.redb"),
        dir.path().join("report.html"),
    );
    let demo = the_demo_writes_its_page_where_asked(&store, &page);
    let dom = the_page_renders_charts_and_asks_for_nothing(&page, &dir.path().join("net.json"));
    let synced = monitoring_shows_the_backfill_and_a_healthy_last_day(&demo, &dom);
    hygiene_shows_what_the_cli_answers_at_its_evaluation_time(&dom, &store);
    dora_shows_four_banded_metrics_and_deployments_that_add_up(&dom);
    report_writes_the_window_asked_for_and_refuses_an_unknown_one(&store, dir.path(), synced);
    the_screenshot_the_readme_shows_is_kept(&page, dir.path());
}

/// `sei-jira demo` over 3000 issues writes its report page where `--report` says; returns the
/// demo's JSON answer.
fn the_demo_writes_its_page_where_asked(store: &Path, page: &Path) -> Value {
    let out = sei_jira(&[
        "demo",
        "--issues",
        "3000",
        "--store",
        store.to_str().unwrap(),
        "--report",
        page.to_str().unwrap(),
        "--json",
    ]);
    let demo = ok_json(out);
    assert_eq!(demo["report"], page.to_str().unwrap());
    demo
}

/// Chromium renders the page with its SVG charts, and the page asks the network for nothing;
/// returns the rendered DOM.
fn the_page_renders_charts_and_asks_for_nothing(page: &Path, net_log: &Path) -> String {
    let rendered = render(page, net_log, &["--dump-dom"]);
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let dom = String::from_utf8(rendered.stdout).unwrap();
    assert!(dom.contains("<svg"), "rendered: {dom}");
    assert_eq!(page_requests(net_log), Vec::<String>::new());
    dom
}

/// Monitoring: today's tickets and projects are the backfill's; the last day is healthy.
/// Returns the number of issues the backfill synced.
fn monitoring_shows_the_backfill_and_a_healthy_last_day(demo: &Value, dom: &str) -> u64 {
    let synced = demo["backfill"]["counts"]["issues_new"].as_u64().unwrap();
    assert_eq!(synced, 3000);
    assert_eq!(
        sum(&values(figure(dom, "tickets-daily"), "data-value")),
        synced as f64
    );
    let projects = demo["backfill"]["projects"].as_array().unwrap().len();
    assert_eq!(
        sum(&values(figure(dom, "projects-daily"), "data-value")),
        projects as f64
    );
    let days = values(figure(dom, "availability"), "data-value");
    assert_eq!((days.len(), days.last()), (30, Some(&"Healthy")));
    assert_eq!(attr(dom, "data-health=", "data-health"), "Healthy");
    synced
}

/// Hygiene: each category's misses, miss percentage (or "skipped") and the score trend are as
/// `sei-jira hygiene` answers at the page's evaluation time.
fn hygiene_shows_what_the_cli_answers_at_its_evaluation_time(rendered: &str, store: &Path) {
    // The page scores the tickets as they are, on the hour (`hygiene --at` would score them as
    // they stood then): the CLI's report now is the same when it falls in the same hour; past
    // an hour's turn, a page written now is compared instead.
    let store_arg = store.to_str().unwrap();
    let hygiene = ok_json(sei_jira(&[
        "hygiene",
        "--store",
        store_arg,
        "--integration",
        "demo",
        "--json",
    ]));
    let fresh;
    let dom = if attr(rendered, "id=\"hygiene\"", "data-evaluated-at") == hygiene["evaluated_at"] {
        rendered
    } else {
        let page = store.with_extension("now.html");
        let out = sei_jira(&[
            "report",
            "--store",
            store_arg,
            "--integration",
            "demo",
            "--out",
            page.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{out:?}");
        fresh = std::fs::read_to_string(&page).unwrap();
        fresh.as_str()
    };
    let bars = figure(dom, "hygiene-categories");
    for c in hygiene["categories"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let row = format!("data-category=\"{name}\"");
        match c["misses"].as_u64() {
            Some(misses) => {
                assert_eq!(attr(dom, &row, "data-misses"), misses.to_string(), "{name}");
                let shown = attr(bars, &format!("data-label=\"{name}\""), "data-value");
                let percent = c["miss_percent"].as_f64().unwrap();
                assert!(
                    (shown.parse::<f64>().unwrap() - percent).abs() < 0.051,
                    "{name}: {shown} vs {percent}"
                );
            }
            None => {
                let at = dom.find(&row).unwrap();
                let cells = &dom[at..at + dom[at..].find("</tr>").unwrap()];
                assert!(cells.contains("skipped"), "{name}: {cells}");
            }
        }
    }
    // The trend: every week of the page's twelve, the weeks before today rebuilt from the
    // simulated history (drawn hollow), this week today's snapshot — each as `hygiene trend`
    // answers it.
    let score = hygiene["score"].as_f64().unwrap();
    let chart = figure(dom, "hygiene-trend");
    let shown = values(chart, "data-value");
    assert!(shown.len() >= 8, "a trend of many points: {shown:?}");
    let marks: Vec<&str> = chart
        .match_indices("<circle class=\"mark\"")
        .map(|(i, _)| &chart[i..i + chart[i..].find("</circle>").unwrap()])
        .collect();
    let (last, before) = marks.split_last().unwrap();
    assert!(
        !last.contains("data-hollow"),
        "today's snapshot is filled: {last}"
    );
    assert!((values(last, "data-value")[0].parse::<f64>().unwrap() - score).abs() < 0.051);
    assert!(
        before.iter().all(|m| m.contains("data-hollow=\"true\"")),
        "{before:?}"
    );
    assert!(chart.contains("hollow: rebuilt from the changelogs"));
    let from = values(chart, "data-label")[0];
    let trend = ok_json(sei_jira(&[
        "hygiene",
        "trend",
        "--store",
        store_arg,
        "--integration",
        "demo",
        "--from",
        from,
        "--json",
    ]));
    let answered: Vec<(String, f64)> = trend["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["score"].is_null())
        .map(|p| {
            (
                p["source"].as_str().unwrap().to_string(),
                p["score"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(answered.len(), shown.len(), "{trend}");
    for ((source, value), (mark, drawn)) in answered.iter().zip(marks.iter().zip(&shown)) {
        assert_eq!(source == "history", mark.contains("data-hollow"), "{mark}");
        assert!(
            (drawn.parse::<f64>().unwrap() - value).abs() < 0.051,
            "{mark} vs {value}"
        );
    }
}

/// DORA: the kept profile's four metrics, each with its sample size and a band only where the
/// sample allows one (at least 5; below it the page says so, with the count), and the
/// deployments per period adding up to the deployments counted.
fn dora_shows_four_banded_metrics_and_deployments_that_add_up(dom: &str) {
    let bands = values(dom, "data-band");
    assert_eq!(bands.len(), 4, "{bands:?}");
    for key in [
        "time_to_restore",
        "change_failure_rate",
        "deployment_frequency",
        "lead_time",
    ] {
        let at = format!("data-metric=\"{key}\"");
        let start = dom.find(&at).unwrap();
        let shown = &dom[start..start + dom[start..].find("</div>").unwrap()];
        let sample: usize = attr(shown, &at, "data-sample").parse().unwrap();
        let band = attr(shown, &at, "data-band");
        match sample {
            0 => assert!(band.is_empty() && shown.contains("no data"), "{shown}"),
            n if n < 5 => assert!(
                band.is_empty() && shown.contains(&format!("too few to band (n = {n};")),
                "{shown}"
            ),
            _ => assert!(
                ["elite", "high", "medium", "low"].contains(&band),
                "{shown}"
            ),
        }
    }
    let deployments = attr(dom, "data-metric=\"deployment_frequency\"", "data-sample");
    let chart = dom
        .find("data-chart=\"deployments-")
        .expect("a deployments chart");
    let per_period = &dom[chart..chart + dom[chart..].find("</figure>").unwrap()];
    assert_eq!(
        sum(&values(per_period, "data-value")),
        deployments.parse::<f64>().unwrap()
    );
}

/// `sei-jira report` writes the same page for a store, over the window asked for; a window it
/// does not know is refused by its flag.
fn report_writes_the_window_asked_for_and_refuses_an_unknown_one(
    store: &Path,
    dir: &Path,
    synced: u64,
) {
    let seven = dir.join("seven.html");
    let out = sei_jira(&[
        "report",
        "--store",
        store.to_str().unwrap(),
        "--integration",
        "demo",
        "--range",
        "7d",
        "--out",
        seven.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let week = std::fs::read_to_string(&seven).unwrap();
    assert_eq!(values(figure(&week, "availability"), "data-value").len(), 7);
    assert_eq!(
        sum(&values(figure(&week, "tickets-daily"), "data-value")),
        synced as f64
    );
    let out = sei_jira(&[
        "report",
        "--store",
        store.to_str().unwrap(),
        "--integration",
        "demo",
        "--range",
        "90d",
    ]);
    let error = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && error.contains("--range"),
        "{error}"
    );
}

/// The screenshot the README shows: Chromium takes it and it is kept at
/// `target/report-page.png`, larger than 10 kB.
fn the_screenshot_the_readme_shows_is_kept(page: &Path, dir: &Path) {
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/report-page.png");
    let taken = render(
        page,
        &dir.join("net-shot.json"),
        &[
            "--hide-scrollbars",
            "--window-size=900,2700",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(
        taken.status.success(),
        "{}",
        String::from_utf8_lossy(&taken.stderr)
    );
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
}

/// GIVEN a page that loads an image from elsewhere, WHEN Chromium renders it, THEN the network
/// log shows the request: the check above can see one.
#[test]
fn a_page_that_fetches_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let page: PathBuf = dir.path().join("fetching.html");
    std::fs::write(
        &page,
        r#"<!DOCTYPE html><html><body><img src="http://sei-jira.invalid/pixel.png"></body></html>"#,
    )
    .unwrap();
    let net_log = dir.path().join("net.json");
    assert!(render(&page, &net_log, &["--dump-dom"]).status.success());
    assert_eq!(
        page_requests(&net_log),
        ["http://sei-jira.invalid/pixel.png"]
    );
}
