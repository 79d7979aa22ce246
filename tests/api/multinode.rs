//! Several `switchboard serve` processes on one PostgreSQL form one deployment: their routing
//! decisions and claims are serialised through the database.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{Api, Db, Socket, TestDb, client, free_port};
use crate::notifications::SmtpServer;
use crate::races::{concurrent_handovers, simultaneous_claims, simultaneous_replies, team};

/// A `switchboard serve` child process, killed when dropped.
struct Node {
    child: Child,
    api: Api,
}

impl Node {
    async fn spawn(database_url: &str) -> Node {
        Node::spawn_with(database_url, &[]).await
    }

    async fn spawn_with(database_url: &str, extra_args: &[&str]) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                database_url,
                "--allow-signup",
                "--widget-rate-limit",
                "0",
            ])
            .args(extra_args)
            .env("SWITCHBOARD_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("switchboard binary starts");
        let api = Api {
            base: format!("http://127.0.0.1:{port}"),
            client: client(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let health = api.client.get(format!("{}/healthz", api.base)).send().await;
            if health.is_ok_and(|resp| resp.status() == 200) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "node on port {port} did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Node { child, api }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_never_double_assign() {
    let Some(db) = TestDb::create(Db::Postgres).await else {
        return;
    };
    // Both start at once: migrations must be applied exactly once.
    let (a, b) = tokio::join!(Node::spawn(&db.url), Node::spawn(&db.url));
    let nodes = [a.api.clone(), b.api.clone()];

    let owner = nodes[0].signup("Acme").await;
    let ops = team(&nodes[1], &owner, 4).await;

    let rr = nodes[1].widget(&owner, "round_robin", &[]).await;
    let counts = concurrent_handovers(&nodes, &owner, &rr, 40).await;
    for op in &ops {
        assert_eq!(
            counts.get(&op.id),
            Some(&10),
            "round-robin across nodes: {counts:?}"
        );
    }

    let ll = nodes[0].widget(&owner, "lightest_load", &[]).await;
    let counts = concurrent_handovers(&nodes, &owner, &ll, 40).await;
    for op in &ops {
        assert_eq!(
            counts.get(&op.id),
            Some(&10),
            "lightest-load across nodes: {counts:?}"
        );
    }

    let manual = nodes[0].widget(&owner, "manual", &[]).await;
    for _ in 0..5 {
        simultaneous_claims(&nodes, &ops, &manual).await;
        simultaneous_replies(&nodes, &ops, &manual).await;
    }
    drop((a, b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assignment_through_one_node_reaches_tabs_on_every_node() {
    let Some(db) = TestDb::create(Db::Postgres).await else {
        return;
    };
    let (a, b) = tokio::join!(Node::spawn(&db.url), Node::spawn(&db.url));
    let owner = a.api.signup("Acme").await;
    let bob = a.api.add_operator(&owner, "Bob").await;
    let widget = a.api.widget(&owner, "round_robin", &[bob.id]).await;
    let mut tab_on_b = Socket::connect(&b.api.base, "/api/v1/events", Some(&bob.token))
        .await
        .unwrap();
    let mut tab_on_a = Socket::connect(&a.api.base, "/api/v1/events", Some(&owner.token))
        .await
        .unwrap();

    let chat = a.api.start_chat(&widget, "hello").await;
    a.api.handover(&widget, &chat).await;
    for tab in [&mut tab_on_b, &mut tab_on_a] {
        let assigned = tab.next_of("conversation.assigned").await;
        assert_eq!(assigned["conversation_id"], chat.id);
        assert_eq!(assigned["assignee_id"], bob.id);
        assert_eq!(assigned["reason"], "round_robin");
    }

    // A long message crosses nodes whole (the notification carries only ids).
    let long = "é".repeat(10_000);
    let (status, _) = b
        .api
        .post(
            &bob,
            &format!("/api/v1/conversations/{}/messages", chat.id),
            json!({"body": long}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        tab_on_a.next_of("message.created").await["message"]["body"],
        long.as_str()
    );

    // The visitor connected to node B hears the reply made through node A.
    let visitor_path = format!(
        "/api/v1/widget/{}/events?visitor_token={}",
        widget.key, chat.token
    );
    let mut visitor = Socket::connect(&b.api.base, &visitor_path, None)
        .await
        .unwrap();
    a.api
        .post(
            &owner,
            &format!("/api/v1/conversations/{}/messages", chat.id),
            json!({"body": "from A"}),
        )
        .await;
    assert_eq!(
        visitor.next_of("message.created").await["message"]["body"],
        "from A"
    );
}

/// Both nodes run the notification worker on one outbox: every notification is sent, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_never_send_the_same_notification_twice() {
    let Some(db) = TestDb::create(Db::Postgres).await else {
        return;
    };
    let Some(smtp) = SmtpServer::start(free_port()).await else {
        return;
    };
    let args = ["--smtp-url", &smtp.url()];
    let (a, b) = tokio::join!(
        Node::spawn_with(&db.url, &args),
        Node::spawn_with(&db.url, &args)
    );
    let nodes = [a.api.clone(), b.api.clone()];
    let owner = nodes[0].signup("Acme").await;
    let ops = team(&nodes[0], &owner, 3).await;
    let eligible: Vec<i64> = ops[1..].iter().map(|o| o.id).collect();
    let widget = nodes[0].widget(&owner, "round_robin", &eligible).await;
    let counts = concurrent_handovers(&nodes, &owner, &widget, 20).await;
    assert_eq!(counts.values().sum::<usize>(), 20);
    let mails = smtp.wait_for(20).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(mails.len() >= 20);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 20, "one email per routed chat, none twice");
    let mut ids: Vec<String> = mails
        .iter()
        .map(|m| m["message_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
}
