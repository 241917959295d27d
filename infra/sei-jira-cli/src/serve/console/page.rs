//! The console's pages: one layout (the report page's palette, a content security policy that
//! lets a page load only its own script), the tabs of an integration, labelled form inputs that
//! show the API's error beside the field it names, and the pages for a stranger and a wrong path.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sei_jira_core::report::html::STYLE;

/// Nothing from elsewhere: inline styles, the console's own script, forms posted to itself.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

const CONSOLE_STYLE: &str = "nav.tabs{display:flex;gap:4px;border-bottom:2px solid #0072B2;margin:8px 0 16px}
nav.tabs a{padding:6px 12px;text-decoration:none;color:#0072B2;border-radius:6px 6px 0 0}
nav.tabs a[aria-current=page]{background:#0072B2;color:#fff}
header.top{display:flex;justify-content:space-between;align-items:baseline}
form.card,section.card{border:1px solid #ccc;border-radius:6px;padding:12px;margin:12px 0}
fieldset{border:1px solid #ddd;border-radius:6px;margin:8px 0}
label{display:block;margin:8px 0 2px;font-weight:600}
label.inline{display:inline;font-weight:400;margin-right:12px}
input[type=text],input[type=password],input[type=url],input[type=email],input[type=number],textarea,select{width:100%;box-sizing:border-box;padding:6px;border:1px solid #888;border-radius:4px;font:inherit}
input[type=number]{width:8em}
input[aria-invalid=true],textarea[aria-invalid=true]{border:2px solid #D55E00}
.field-error,.error{color:#A03B00;font-weight:600}
.error{border:2px solid #D55E00;border-radius:6px;padding:8px;background:#fff5ee}
.ok{border:2px solid #009E73;border-radius:6px;padding:8px;background:#effaf5}
.hint{color:#444;font-size:.9em;margin:2px 0}
button{font:inherit;padding:6px 14px;margin:8px 8px 0 0;border-radius:6px;border:2px solid #0072B2;background:#0072B2;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0072B2}
button.danger{background:#fff;color:#A03B00;border-color:#A03B00}
button:focus,a:focus,input:focus,textarea:focus,select:focus{outline:3px solid #E69F00;outline-offset:2px}
ul.checks{list-style:none;padding:0}ul.checks li{margin:4px 0}
.passed{color:#006B4F}.failed{color:#A03B00}.skipped{color:#555}
.inline-form{display:inline}form.row select{width:auto;margin-right:8px}";

/// The tabs of one integration.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Monitoring,
    Hygiene,
    Dora,
    Tickets,
    Settings,
}

impl Tab {
    const ALL: [Tab; 5] = [
        Tab::Monitoring,
        Tab::Hygiene,
        Tab::Dora,
        Tab::Tickets,
        Tab::Settings,
    ];

    fn label(self) -> &'static str {
        match self {
            Tab::Monitoring => "Monitoring",
            Tab::Hygiene => "Hygiene",
            Tab::Dora => "DORA",
            Tab::Tickets => "Deleted tickets",
            Tab::Settings => "Edit configuration",
        }
    }

    fn path(self, id: &str) -> String {
        match self {
            Tab::Monitoring => format!("/console/i/{id}"),
            Tab::Hygiene => format!("/console/i/{id}/hygiene"),
            Tab::Dora => format!("/console/i/{id}/dora"),
            Tab::Tickets => format!("/console/i/{id}/tickets"),
            Tab::Settings => format!("/console/i/{id}/settings"),
        }
    }
}

/// The integration a page is about, for its heading and tabs.
pub struct Heading<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub tab: Tab,
}

impl<'a> Heading<'a> {
    /// The heading of integration `i` as the API answers it.
    pub fn of(i: &'a serde_json::Value, tab: Tab) -> Self {
        Heading {
            id: i["id"].as_str().unwrap_or_default(),
            name: i["name"].as_str().unwrap_or_default(),
            tab,
        }
    }
}

/// A JSON number as a figure: whole when it is, else with one decimal; a dash for none.
pub fn number(v: &serde_json::Value) -> String {
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 => format!("{n:.0}"),
        Some(n) => format!("{n:.1}"),
        None => "–".into(),
    }
}

/// A whole page.
pub fn page(title: &str, heading: Option<Heading>, body: Markup) -> Response {
    let document = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · sei-jira" }
                style { (PreEscaped(STYLE)) "\n" (PreEscaped(CONSOLE_STYLE)) }
                script src="/console/app.js" defer {}
            }
            body {
                header.top {
                    p { a href="/console" { "sei-jira" } " · Jira integrations" }
                }
                @if let Some(h) = &heading {
                    h1 { (h.name) }
                    nav.tabs aria-label="Integration" {
                        @for tab in Tab::ALL {
                            a href=(tab.path(h.id)) aria-current=[(tab == h.tab).then_some("page")] { (tab.label()) }
                        }
                    }
                } @else {
                    h1 { (title) }
                }
                main { (body) }
            }
        }
    };
    html_response(StatusCode::OK, document)
}

pub fn html_response(status: StatusCode, document: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        document.into_string(),
    )
        .into_response()
}

/// What went wrong with a submitted form: the API's message and the field it names.
#[derive(Debug, Clone, Default)]
pub struct Problem {
    pub message: String,
    /// The API's name of the field (`connection.url`, `scope.jql`); empty when none is named.
    pub field: String,
}

impl Problem {
    /// From the API's message, `field: what is wrong`.
    pub fn from_message(message: String) -> Self {
        let field = match message.split_once(':') {
            Some((f, _)) if !f.contains(' ') => f.to_string(),
            _ => String::new(),
        };
        Problem { message, field }
    }

    /// Whether the message is about the field the API calls `api_field` (or one inside it).
    pub fn names(&self, api_field: &str) -> bool {
        !api_field.is_empty()
            && (self.field == api_field
                || self.field.starts_with(&format!("{api_field}."))
                || self.field.starts_with(&format!("{api_field}[")))
    }
}

/// The problem of a failed submit, at the top of a form (announced to screen readers).
pub fn problem_box(problem: Option<&Problem>) -> Markup {
    html! {
        @if let Some(p) = problem {
            p.error role="alert" { (p.message) }
        }
    }
}

/// One labelled input. `api_field` is the API's name for it: the input is marked invalid and
/// the message repeated under it when the problem names it.
pub struct Input<'a> {
    pub label: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub value: &'a str,
    pub api_field: &'a str,
    pub hint: &'a str,
}

impl<'a> Input<'a> {
    pub fn text(label: &'a str, name: &'a str, value: &'a str) -> Self {
        Input {
            label,
            name,
            kind: "text",
            value,
            api_field: name,
            hint: "",
        }
    }

    pub fn kind(self, kind: &'a str) -> Self {
        Input { kind, ..self }
    }

    pub fn api(self, api_field: &'a str) -> Self {
        Input { api_field, ..self }
    }

    pub fn hint(self, hint: &'a str) -> Self {
        Input { hint, ..self }
    }

    pub fn render(&self, problem: Option<&Problem>) -> Markup {
        let wrong = problem.filter(|p| p.names(self.api_field));
        let id = format!("f-{}", self.name);
        let hint_id = format!("{id}-hint");
        html! {
            label for=(id) { (self.label) }
            @if self.kind == "textarea" {
                textarea id=(id) name=(self.name) rows="3"
                    aria-invalid=[wrong.map(|_| "true")]
                    aria-describedby=[(!self.hint.is_empty()).then_some(&hint_id)] { (self.value) }
            } @else {
                input id=(id) type=(self.kind) name=(self.name) value=(self.value)
                    autocomplete=[(self.kind == "password").then_some("new-password")]
                    aria-invalid=[wrong.map(|_| "true")]
                    aria-describedby=[(!self.hint.is_empty()).then_some(&hint_id)];
            }
            @if !self.hint.is_empty() { p.hint id=(hint_id) { (self.hint) } }
            @if let Some(p) = wrong { p.field-error { (p.message) } }
        }
    }
}

/// A labelled checkbox.
pub fn checkbox(name: &str, value: &str, label: &str, checked: bool) -> Markup {
    let id = format!("c-{name}-{value}");
    html! {
        input type="checkbox" id=(id) name=(name) value=(value) checked[checked];
        label.inline for=(id) { (label) }
    }
}

/// A labelled radio button.
pub fn radio(name: &str, value: &str, label: &str, checked: bool) -> Markup {
    let id = format!("r-{name}-{value}");
    html! {
        input type="radio" id=(id) name=(name) value=(value) checked[checked];
        label.inline for=(id) { (label) }
    }
}

/// A one-button form posting to `action` (remove, hide): forms, so it works without script.
pub fn button_form(action: &str, label: &str, class: &str) -> Markup {
    html! {
        form.inline-form method="post" action=(action) {
            button class=(class) type="submit" { (label) }
        }
    }
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        include_str!("app.js"),
    )
        .into_response()
}

pub fn signed_out() -> Response {
    let body = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Sign in · sei-jira" } style { (PreEscaped(STYLE)) } }
            body {
                h1 { "Open the console's link" }
                p { "This console answers only the browser that opened the one-time link "
                    code { "sei-jira serve" } " printed when it started. Restart it for a new link." }
            }
        }
    };
    html_response(StatusCode::UNAUTHORIZED, body)
}

pub async fn not_found() -> Response {
    let mut answer = page(
        "Not found",
        None,
        html! { p { "No such page. " a href="/console" { "Back to the integrations" } } },
    );
    *answer.status_mut() = StatusCode::NOT_FOUND;
    answer
}

/// A page for an answer the console cannot show (an integration gone, the store failing).
pub fn failed(status: StatusCode, message: &str) -> Response {
    let mut answer = page(
        "Something went wrong",
        None,
        html! { p.error role="alert" { (message) } p { a href="/console" { "Back to the integrations" } } },
    );
    *answer.status_mut() = status;
    answer
}
