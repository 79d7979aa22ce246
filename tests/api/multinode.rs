//! Several `switchboard serve` processes on one PostgreSQL form one deployment: their routing
//! decisions and claims are serialised through the database.

use std::collections::HashMap;
use std::time::Duration;

use crate::common::{Api, Db, Node, Op, TestDb, free_port, soak};
use crate::notifications::SmtpServer;
use crate::races::{concurrent_handovers, races_for_chats, spread, team};

/// Handovers fired at once, spread over both nodes, per routing mode (`soak()` bursts).
const CONCURRENT_HANDOVERS: usize = 1000;
/// Races of 2 to 8 operators for one unassigned chat (times `soak()`).
const CLAIM_RACES: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_never_double_assign() {
    let Some(db) = TestDb::create(Db::Postgres).await else {
        return;
    };
    // Both start at once: migrations must be applied exactly once.
    let (a, b) = tokio::join!(Node::spawn(&db.url), Node::spawn(&db.url));
    let nodes = [a.api.clone(), b.api.clone()];

    let owner = nodes[0].signup("Acme").await;
    // Three operators: 1,000 does not divide evenly, so the spread rule is exercised.
    let ops = team(&nodes[1], &owner, 3).await;

    // A soak run repeats the burst rather than making it bigger: past what a node serves in
    // the 10 s a request may wait for a connection, requests are shed with 503s.
    let round_robin = nodes[0].widget(&owner, "round_robin", &[]).await;
    let mut total: HashMap<i64, usize> = HashMap::new();
    for burst in 0..soak() {
        let started = std::time::Instant::now();
        let counts = concurrent_handovers(&nodes, &owner, &round_robin, CONCURRENT_HANDOVERS).await;
        for (op, n) in counts {
            *total.entry(op).or_default() += n;
        }
        assert!(spread(&total, &ops) <= 1, "round-robin: {total:?}");
        eprintln!(
            "round-robin across two nodes, burst {burst}: {total:?} in {:?}",
            started.elapsed()
        );
    }
    // Lightest-load evens out what each operator holds open, round-robin's chats included.
    let lightest_load = nodes[0].widget(&owner, "lightest_load", &[]).await;
    for burst in 0..soak() {
        let started = std::time::Instant::now();
        concurrent_handovers(&nodes, &owner, &lightest_load, CONCURRENT_HANDOVERS).await;
        let loads = open_loads(&nodes[1], &owner).await;
        assert!(spread(&loads, &ops) <= 1, "lightest-load: {loads:?}");
        eprintln!(
            "lightest-load across two nodes, burst {burst}: loads {loads:?} in {:?}",
            started.elapsed()
        );
    }

    let racers = team(&nodes[0], &owner, 8).await;
    let manual = nodes[0].widget(&owner, "manual", &[]).await;
    let started = std::time::Instant::now();
    let races = CLAIM_RACES * soak();
    races_for_chats(&nodes, &racers, &manual, races).await;
    eprintln!(
        "{races} claim races across two nodes in {:?}",
        started.elapsed()
    );
    drop((a, b));
}

/// How many open conversations each operator holds, as the team list shows it.
async fn open_loads(api: &Api, viewer: &Op) -> HashMap<i64, usize> {
    let (status, team) = api.operators(viewer).await;
    assert_eq!(status, 200, "{team}");
    team["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| {
            (
                op["id"].as_i64().unwrap(),
                op["load"].as_u64().unwrap() as usize,
            )
        })
        .collect()
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
    let mut tab_on_b = b.api.inbox_stream(&bob).await;
    let mut tab_on_a = a.api.inbox_stream(&owner).await;

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
    let (status, _) = b.api.reply(&bob, chat.id, &long).await;
    assert_eq!(status, 201);
    assert_eq!(
        tab_on_a.next_of("message.created").await["message"]["body"],
        long.as_str()
    );

    // The visitor connected to node B hears the reply made through node A.
    let mut visitor = b.api.visitor_stream(&widget, &chat).await;
    a.api.reply(&owner, chat.id, "from A").await;
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
