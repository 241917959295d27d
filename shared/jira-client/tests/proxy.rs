//! The proxies the environment names are not the Jira client's: the URL guard checks the name
//! it connects to, and through a proxy that would be the proxy's alone. (Its own test binary:
//! it sets the process's proxy variables.)

use std::sync::atomic::{AtomicUsize, Ordering};

use jira_sim::scripted::{self, json_reply};
use sei_jira_client::{Credentials, Deployment, JiraClient, PrivateNetworks, Secret, SiteConfig};

static PROXIED: AtomicUsize = AtomicUsize::new(0);

fn proxy(_: &str, _: std::net::SocketAddr) -> String {
    PROXIED.fetch_add(1, Ordering::SeqCst);
    json_reply("200 OK", r#"{"accountId": "via-proxy"}"#)
}

fn site(_: &str, _: std::net::SocketAddr) -> String {
    json_reply("200 OK", r#"{"accountId": "direct"}"#)
}

/// GIVEN `HTTP_PROXY`, `HTTPS_PROXY` and `ALL_PROXY` naming a proxy, WHEN the client asks the
/// site, THEN it connects to the site itself and the proxy sees nothing.
#[tokio::test]
async fn proxies_from_the_environment_are_ignored() {
    let proxy = scripted::serve(proxy).await;
    for name in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
    ] {
        // SAFETY: this binary's only test sets them before any thread reads the environment.
        unsafe { std::env::set_var(name, &proxy) };
    }
    let base = scripted::serve(site).await;
    let mut config = SiteConfig::new(
        &base,
        Deployment::DataCenter,
        Credentials::PersonalAccessToken {
            token: Secret::new("a-personal-access-token"),
        },
    );
    config.private_networks = PrivateNetworks::local();
    let me = JiraClient::new(&config).unwrap().myself().await.unwrap();
    assert_eq!(me.account_id.as_deref(), Some("direct"));
    assert_eq!(PROXIED.load(Ordering::SeqCst), 0, "the proxy was asked");
}
