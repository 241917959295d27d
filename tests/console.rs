//! The console in a real browser: Debian's `chromium` driven through WebDriver (`chromedriver`,
//! Debian's `chromium-driver`; the test script installs both) against `sei-jira serve` over the
//! Jira simulator, as a person walks the product page's flow. A screenshot of each page is kept
//! in `target/console/` (the README shows two of them, copied to `docs/`).
//!
//! The browser reaches nothing past this machine: every host name resolves to nothing and any
//! connection but loopback would go through a closed port on 127.0.0.1.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use e2e::{repo_root, start_serve, start_sim};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// `chromedriver` on a free loopback port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_driver() -> Driver {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = free_port();
    let child = Command::new(&bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{bin} does not start ({e}): install Debian's chromium-driver \
                 (infra/scripts/test-all.sh does) or set CHROMEDRIVER"
            )
        });
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver never listened"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1100,1500",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                // Loopback is never proxied (Chromium's default); anything else would be.
                "--proxy-server=http://127.0.0.1:9",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// The person at the browser.
struct Person {
    b: Client,
    shots: PathBuf,
}

impl Person {
    async fn css(&self, selector: &str) -> Element {
        let found = self
            .b
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(selector))
            .await;
        match found {
            Ok(e) => e,
            Err(e) => {
                let source = self.b.source().await.unwrap_or_default();
                panic!("no {selector} on {}: {e}\n{source}", self.url().await)
            }
        }
    }

    async fn url(&self) -> String {
        self.b.current_url().await.unwrap().to_string()
    }

    async fn text(&self, selector: &str) -> String {
        self.css(selector).await.text().await.unwrap()
    }

    /// Saves the page's screenshot, having checked that every input on it has a label.
    async fn shot(&self, name: &str) {
        let unlabelled = self
            .b
            .execute(
                "return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))\
                   .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))\
                   .map(e => e.name || e.id);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(unlabelled, json!([]), "inputs without a label on {name}");
        let png = self.b.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    /// Presses Tab until the focus is on the element `selector` names (at most 60 times), as a
    /// person on a keyboard moves through a form.
    async fn tab_to(&self, selector: &str) -> Element {
        let target = self.css(selector).await;
        for _ in 0..60 {
            let focused = self.b.active_element().await.unwrap();
            if focused.element_id() == target.element_id() {
                return focused;
            }
            focused.send_keys(&key(Key::Tab)).await.unwrap();
        }
        panic!("Tab never reaches {selector}");
    }

    /// Tabs to the field and types `text` into it (replacing what it held).
    async fn type_into(&self, selector: &str, text: &str) {
        let field = self.tab_to(selector).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Tabs to a button and presses Enter.
    async fn press(&self, selector: &str) {
        self.tab_to(selector)
            .await
            .send_keys(&key(Key::Enter))
            .await
            .unwrap();
    }

    /// Fills a field with the mouse's help (the forms after the first are checked for their
    /// results, not for the keyboard).
    async fn fill(&self, selector: &str, text: &str) {
        let field = self.css(selector).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    async fn click(&self, selector: &str) {
        self.css(selector).await.click().await.unwrap();
    }

    /// Clicks a button that submits a form, and waits until the page it left is gone: what is
    /// read next is the answer's page, never an element of the page before it.
    async fn submit(&self, selector: &str) {
        let before = self.css("html").await;
        self.click(selector).await;
        let started = Instant::now();
        while before.tag_name().await.is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{selector} brought no new page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Loads `path` again until `selector`'s text satisfies `done` (work the server does in the
    /// background: a sync, an index refresh), for at most a minute.
    async fn reload_until(
        &self,
        path: &str,
        selector: &str,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            let text = match self.b.find(Locator::Css(selector)).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if done(&text) {
                return text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{selector} never became as expected on {path}: {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
            self.b.goto(path).await.unwrap();
        }
    }
}

fn form_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://127.0.0.1/").unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or_default().to_string()
}

fn key(k: Key) -> String {
    char::from(k).to_string()
}

/// The simulator's own answer for `jql`: every issue it returns, with `fields`.
async fn sim_issues(base: &str, email: &str, token: &str, jql: &str, fields: &str) -> Vec<Value> {
    let http = reqwest::Client::new();
    let (mut all, mut next) = (Vec::new(), None::<String>);
    loop {
        let mut query =
            form_urlencoded_pairs(&[("jql", jql), ("fields", fields), ("maxResults", "100")]);
        if let Some(n) = &next {
            query.push_str(&format!("&nextPageToken={n}"));
        }
        let page: Value = http
            .get(format!("{base}/rest/api/3/search/jql?{query}"))
            .basic_auth(email, Some(token))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        all.extend(page["issues"].as_array().unwrap().iter().cloned());
        match page["nextPageToken"].as_str() {
            Some(n) => next = Some(n.to_string()),
            None => return all,
        }
    }
}

/// GIVEN `sei-jira serve` over an empty store and the simulator, WHEN a person walks the
/// product page's flow in Chromium — adds an integration with a wrong token, corrects it,
/// validates a bad then a good JQL and creates it (that form with the keyboard only), syncs
/// now, adds a custom hygiene miss with a weight, a DORA profile, hides a ticket and edits the
/// exclusions — THEN each page shows what the simulator holds and what was asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_adds_and_uses_an_integration_in_the_console() {
    let sim = start_sim(&["--issues", "80", "--projects", "2", "--seed", "27"]);
    let base = sim.startup["base_url"].as_str().unwrap().to_string();
    let email = "alice@example.com";
    let token = &jira_sim::user_token(&sim.startup, email).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let serve = start_serve(&dir.path().join("store.redb"));
    let url = serve.startup["url"].as_str().unwrap().to_string();
    let driver = start_driver();
    let profile = tempfile::tempdir().unwrap();
    let shots = repo_root().join("target/console");
    std::fs::create_dir_all(&shots).unwrap();
    let me = Person {
        b: browser(&driver, profile.path()).await,
        shots,
    };

    a_stranger_is_turned_away(&me, &url, serve.startup["console"].as_str().unwrap()).await;
    a_wrong_token_is_named_and_the_rest_is_kept(&me, &base, email).await;
    let id = the_right_token_and_a_valid_jql_create_the_integration(&me, token).await;
    let plat = sim_issues(&base, email, token, "project = PLAT", "labels").await;
    sync_now_shows_healthy_with_the_sites_count(&me, &plat).await;
    a_weighted_custom_miss_counts_as_the_site_says(&me, &url, &id, &plat).await;
    a_dora_profile_shows_figures_with_samples(&me, &url, &id).await;
    hiding_a_ticket_counts_one_fewer(&me, &url, &id, &plat).await;
    settings_name_a_refused_field_and_keep_the_exclusions(&me, &url, &id).await;
    the_list_shows_the_integration_healthy(&me, &url, &id).await;
    me.b.close().await.unwrap();
}

/// Without the printed one-time link the console shows nothing; with it, the list opens.
async fn a_stranger_is_turned_away(me: &Person, url: &str, link: &str) {
    // Without the printed link, the console shows nothing.
    me.b.goto(&format!("{url}/console")).await.unwrap();
    assert!(
        me.text("h1").await.contains("link"),
        "a stranger is turned away"
    );
    me.b.goto(link).await.unwrap();
    me.click("a[href='/console/new']").await;
}

/// Add integration by keyboard only (Tab between fields, Enter submits) with a wrong token: the
/// failed check says what to do, and everything typed but the token is kept.
async fn a_wrong_token_is_named_and_the_rest_is_kept(me: &Person, base: &str, email: &str) {
    // Add integration, keyboard only: Tab between fields, Enter to submit.
    me.type_into("#f-name", "Acme Jira").await;
    me.type_into("#f-url", base).await;
    me.type_into("#f-email", email).await;
    me.type_into("#f-token", "not-the-token").await;
    me.b.active_element()
        .await
        .unwrap()
        .send_keys(&key(Key::Enter))
        .await
        .unwrap();
    let failed = me
        .text("li[data-check='authenticated'][data-status='failed']")
        .await;
    assert!(failed.contains("What to do"), "{failed}");
    me.shot("add-integration-wrong-token").await;
    // Nothing typed is lost but the token.
    let kept = me.css("#f-url").await.prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some(base));
    let name = me.css("#f-name").await.prop("value").await.unwrap();
    assert_eq!(name.as_deref(), Some("Acme Jira"));
}

/// The right token passes every check; a bad JQL is invalid, a good one valid; the integration is
/// created with it and its monitoring page opens. Returns the integration's id.
async fn the_right_token_and_a_valid_jql_create_the_integration(
    me: &Person,
    token: &str,
) -> String {
    me.type_into("#f-token", token).await;
    me.b.active_element()
        .await
        .unwrap()
        .send_keys(&key(Key::Enter))
        .await
        .unwrap();
    me.css("[data-credentials='valid']").await;

    me.type_into("#f-jql", "project = PLAT AND").await;
    me.press("button[value='jql']").await;
    me.css("[data-jql='invalid']").await;
    me.type_into("#f-jql", "project = PLAT").await;
    me.press("button[value='jql']").await;
    me.css("[data-jql='valid']").await;
    me.shot("add-integration-jql").await;
    me.press("button[value='create_jql']").await;

    me.css("#monitoring").await;
    let page = me.url().await;
    // The monitoring page's address carries the new integration's id.
    page.split("/console/i/")
        .nth(1)
        .unwrap()
        .split(['?', '/'])
        .next()
        .unwrap()
        .to_string()
}

/// Monitoring: Sync now; the page follows the run and then shows Healthy, with the simulator's
/// count of PLAT's issues, and lists the run.
async fn sync_now_shows_healthy_with_the_sites_count(me: &Person, plat: &[Value]) {
    me.click("form[action$='/sync'] button").await;
    // The page follows the run (its script polls the progress) and shows itself again once the
    // run has ended.
    me.css("#progress[data-url]").await;
    let started = Instant::now();
    while !me.url().await.contains("synced=1") {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sync never ended"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let stored = me.text("[data-figure='tickets-total']").await;
    assert_eq!(stored, plat.len().to_string());
    let health = me.text("[data-health]").await;
    assert!(health.contains("Healthy"), "{health}");
    assert!(
        me.css("#runs tr[data-outcome='succeeded']")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "the run is listed"
    );
    me.shot("monitoring").await;
}

/// Hygiene: a custom miss counts the site's unlabelled issues, and the score is the weighted sum
/// of the step scores shown.
async fn a_weighted_custom_miss_counts_as_the_site_says(
    me: &Person,
    url: &str,
    id: &str,
    plat: &[Value],
) {
    // Hygiene: a custom miss, weighed, shows its category and counts as the site says.
    me.b.goto(&format!("{url}/console/i/{id}/hygiene"))
        .await
        .unwrap();
    me.fill("#criteria #f-name", "No labels").await;
    me.fill("#criteria #f-field", "labels").await;
    me.css("#criteria #f-operator option[value='missing']")
        .await
        .click()
        .await
        .unwrap();
    me.submit("#criteria button[type='submit']").await;
    me.css("#criteria li[data-criterion='No labels']").await;
    let unlabelled = plat
        .iter()
        .filter(|i| {
            i["fields"]["labels"]
                .as_array()
                .is_none_or(|l| l.is_empty())
        })
        .count();
    let misses = me
        .text("tr[data-category='No labels'] td[data-misses]")
        .await;
    assert_eq!(misses, unlabelled.to_string());
    me.fill("input[name='w.Idle']", "2.5").await;
    me.fill("input[name='w.No labels']", "10").await;
    me.submit("form[action$='/hygiene'] > button[type='submit']")
        .await;
    let weight = me
        .css("input[name='w.No labels']")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(weight.as_deref(), Some("10"));
    // The score is the weighted step scores' sum, over the rows the page shows.
    let mut weighted = 0.0;
    for row in
        me.b.find_all(Locator::Css("tr[data-category]"))
            .await
            .unwrap()
    {
        let cells = row.find_all(Locator::Css("td")).await.unwrap();
        let step = cells[3].text().await.unwrap().parse::<f64>().unwrap_or(0.0);
        let w = row
            .find(Locator::Css("input"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap()
            .parse::<f64>()
            .unwrap();
        weighted += step * w / 100.0;
    }
    let score: f64 = me
        .text("[data-figure='hygiene-score']")
        .await
        .parse()
        .unwrap();
    assert!((score - weighted).abs() < 0.051, "{score} vs {weighted}");
    me.shot("hygiene").await;
}

/// DORA: a profile, and its figures with their samples.
async fn a_dora_profile_shows_figures_with_samples(me: &Person, url: &str, id: &str) {
    // DORA: a profile, and its figures with their samples.
    me.b.goto(&format!("{url}/console/i/{id}/dora"))
        .await
        .unwrap();
    me.fill("#f-name", "Operations").await;
    me.fill("#f-incidents_field", "issue type").await;
    me.fill("#f-incidents_values", "Incident").await;
    me.fill("#f-changes_field", "issue type").await;
    me.fill("#f-changes_values", "Change").await;
    me.submit("form[action$='/dora/profiles'] > button[type='submit']")
        .await;
    let restore = me.text("[data-figure='time-to-restore']").await;
    assert!(restore.contains("incidents"), "{restore}");
    let changes = me.text("[data-figure='change-failure-rate']").await;
    assert!(changes.contains("changes"), "{changes}");
    me.shot("dora").await;
}

/// Deleted tickets: hide one, and one ticket fewer counts.
async fn hiding_a_ticket_counts_one_fewer(me: &Person, url: &str, id: &str, plat: &[Value]) {
    // Deleted tickets: hide one, and one ticket fewer counts.
    let tickets = format!("{url}/console/i/{id}/tickets");
    me.b.goto(&tickets).await.unwrap();
    let before: u64 = me
        .text("[data-figure='tickets-counted']")
        .await
        .parse()
        .unwrap();
    let first = plat[0]["key"].as_str().unwrap();
    me.fill("#f-issue", first).await;
    me.submit("form[method='get'] button").await;
    me.submit(&format!(
        "#found tr[data-ticket='{first}'] button[value='hide']"
    ))
    .await;
    let state = me.text(&format!("#hidden tr[data-ticket='{first}']")).await;
    assert!(state.contains("hidden"), "{state}");
    me.reload_until(&tickets, "[data-figure='tickets-counted']", |t| {
        t == (before - 1).to_string()
    })
    .await;
    me.shot("tickets").await;
}

/// Edit configuration: a refused schedule is named beside its field with the rest kept; an
/// exclusion of comments is kept when the page is shown again.
async fn settings_name_a_refused_field_and_keep_the_exclusions(me: &Person, url: &str, id: &str) {
    // Edit configuration: exclude comments; kept when the page is shown again.
    let settings = format!("{url}/console/i/{id}/settings");
    me.b.goto(&settings).await.unwrap();
    // A refused submit names the field as the API does, beside it, and keeps what was typed.
    me.fill("#f-description", "Platform team's Jira").await;
    me.fill("#f-schedule_rate", "rate(5 weeks)").await;
    me.submit("form[action$='/settings'] > button[type='submit']")
        .await;
    let refused = me.text("#f-schedule_rate + .hint + .field-error").await;
    assert!(refused.starts_with("schedule_rate:"), "{refused}");
    let invalid = me
        .css("#f-schedule_rate")
        .await
        .attr("aria-invalid")
        .await
        .unwrap();
    assert_eq!(invalid.as_deref(), Some("true"));
    let kept = me.css("#f-description").await.prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("Platform team's Jira"));
    me.fill("#f-schedule_rate", "rate(2 hours)").await;
    me.click("#c-excluded_fields-comments").await;
    me.submit("form[action$='/settings'] > button[type='submit']")
        .await;
    me.css("[data-saved]").await;
    me.b.goto(&settings).await.unwrap();
    let checked = me
        .css("#c-excluded_fields-comments")
        .await
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(checked.as_deref(), Some("true"));
    let schedule = me
        .css("#f-schedule_rate")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(schedule.as_deref(), Some("rate(2 hours)"));
    me.shot("settings").await;
}

/// The integrations list shows the integration with its health.
async fn the_list_shows_the_integration_healthy(me: &Person, url: &str, id: &str) {
    // The integrations list with its health.
    me.b.goto(&format!("{url}/console")).await.unwrap();
    let health = me
        .text(&format!("tr[data-integration='{id}'] [data-health]"))
        .await;
    assert_eq!(health, "Healthy");
    me.shot("integrations").await;
}
