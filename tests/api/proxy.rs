//! Behind a proxy: forwarded client addresses count only from a trusted peer.

use reqwest::Method;
use serde_json::json;

use crate::common::{Db, TestServer, Widget, paths};

/// Starts chats as if from `client`, through a proxy that says so in `X-Forwarded-For`.
async fn start_chat_from(s: &TestServer, widget: &Widget, client: &str) -> u16 {
    let resp = s
        .client
        .request(Method::POST, s.url(&paths::visitor_chats(&widget.key)))
        .header("X-Forwarded-For", format!("198.51.100.77, {client}"))
        .json(&json!({"body": "hello"}))
        .send()
        .await
        .unwrap();
    resp.status().as_u16()
}

async fn server(trusted: &[&str]) -> Option<TestServer> {
    let trusted: Vec<ipnet::IpNet> = trusted.iter().map(|t| t.parse().unwrap()).collect();
    TestServer::start_with(Db::Sqlite, |config| {
        config.widget_rate_limit = 3;
        config.trusted_proxies = trusted;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_gives_each_client_its_own_limit() {
    let Some(s) = server(&["127.0.0.1/32"]).await else {
        return;
    };
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    for _ in 0..3 {
        assert_eq!(start_chat_from(&s, &widget, "203.0.113.1").await, 201);
    }
    assert_eq!(
        start_chat_from(&s, &widget, "203.0.113.1").await,
        429,
        "the fourth from one client is over its limit"
    );
    assert_eq!(
        start_chat_from(&s, &widget, "203.0.113.2").await,
        201,
        "another client behind the same proxy has a limit of its own"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_peer_cannot_choose_its_address() {
    let Some(s) = server(&["10.0.0.0/8"]).await else {
        return;
    };
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    for n in 0..3 {
        assert_eq!(
            start_chat_from(&s, &widget, &format!("203.0.113.{n}")).await,
            201
        );
    }
    assert_eq!(
        start_chat_from(&s, &widget, "203.0.113.99").await,
        429,
        "a forwarded address from an untrusted peer is ignored: all count as the peer"
    );
}
