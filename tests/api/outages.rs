//! PostgreSQL stopping and coming back under a running node: the node answers what it can,
//! gives clear 503s for what it cannot, reconnects by itself, and delivers everything after.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Api, Socket, free_port};
use crate::node::Node;
use crate::notifications::SmtpServer;
use crate::pg_cluster::PgCluster;
use crate::races::team;

/// Polls until `path` answers `status`; returns how long that took.
async fn until_status(api: &Api, path: &str, status: u16) -> Duration {
    let started = Instant::now();
    loop {
        let (got, _) = api.call(Method::GET, path, None, None).await;
        if got == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{path} never answered {status} (last {got})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_unavailable(what: &str, status: u16, body: &Value) {
    assert_eq!(status, 503, "{what}: {body}");
    assert_eq!(body["error"]["code"], "unavailable", "{what}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_gives_503s_then_everything_is_delivered() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    // The mail server is down too at first: notifications queue up across the outage.
    let smtp_port = free_port();
    let smtp_url = format!("smtp://127.0.0.1:{smtp_port}");
    let node = Node::spawn_logging(
        &cluster.url(),
        &["--smtp-url", &smtp_url, "--notify-retry-max-secs", "1"],
        "info",
    )
    .await;
    let api = &node.api;
    let owner = api.signup("Acme").await;
    let ops = team(api, &owner, 2).await;
    let widget = api.widget(&owner, "round_robin", &[]).await;
    let mut tab = Socket::connect(&api.base, "/api/v1/events", Some(&owner.token))
        .await
        .unwrap();
    let before = api.start_chat(&widget, "before the outage").await;
    api.handover(&widget, &before).await;
    let assigned = tab.next_of("conversation.assigned").await;
    assert_eq!(assigned["conversation_id"], before.id);

    cluster.stop();
    let went_down = until_status(api, "/healthz", 503).await;
    let started = Instant::now();
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/api/v1/widget/{}/conversations", widget.key),
            None,
            Some(json!({"body": "during the outage"})),
        )
        .await;
    assert_unavailable("a visitor's new chat", status, &body);
    let (status, body) = api.get(&owner, "/api/v1/conversations").await;
    assert_unavailable("the inbox", status, &body);
    let (status, body) = api
        .post(
            &ops[1],
            &format!("/api/v1/conversations/{}/messages", before.id),
            json!({"body": "during the outage"}),
        )
        .await;
    assert_unavailable("a reply", status, &body);
    let answered_503_in = started.elapsed() / 3;
    // What needs no database still works.
    let (status, _) = api
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(status, 200);
    let widget_js = api
        .client
        .get(format!("{}/widget.js", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(widget_js.status(), 200);

    cluster.start_again();
    let came_back = until_status(api, "/healthz", 200).await;
    // The session, the widget and the chat from before are all there, and work goes on.
    let after = api.start_chat(&widget, "after the outage").await;
    api.handover(&widget, &after).await;
    let (status, _) = api
        .post(
            &ops[1],
            &format!("/api/v1/conversations/{}/messages", before.id),
            json!({"body": "after the outage"}),
        )
        .await;
    assert_eq!(status, 201);
    // The open tab is told to refetch once the node listens again (events committed while it
    // did not may have been missed); replaying from its last event brings back what happened
    // since, and live events flow again.
    loop {
        if tab.next_within(Duration::from_secs(40)).await.unwrap()["type"] == "resync" {
            break;
        }
    }
    let since = format!("/api/v1/events?since={}", assigned["id"]);
    let mut replay = Socket::connect(&api.base, &since, Some(&owner.token))
        .await
        .unwrap();
    let replayed = replay.until_quiet(Duration::from_millis(500)).await;
    assert!(
        replayed
            .iter()
            .any(|e| e["type"] == "conversation.assigned" && e["conversation_id"] == after.id),
        "{replayed:?}"
    );
    api.post(
        &ops[1],
        &format!("/api/v1/conversations/{}/messages", after.id),
        json!({"body": "live again"}),
    )
    .await;
    assert_eq!(
        tab.next_of("message.created").await["message"]["body"],
        "live again"
    );

    // Both queued notifications go out once the mail server is up, once each.
    let Some(smtp) = SmtpServer::start(smtp_port).await else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while smtp.messages().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the queued emails did not arrive; the node's log:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_ne!(mails[0]["message_id"], mails[1]["message_id"]);
    eprintln!(
        "postgres restart: /healthz 503 after {went_down:?}, each 503 in {answered_503_in:?}, \
         200 again {came_back:?} after the restart"
    );
}
