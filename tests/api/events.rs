//! Live events over real WebSockets: what each tab and each visitor receives, resuming with
//! `since`, slow consumers, refusal before upgrade, shutdown.

use std::time::Duration;

use serde_json::Value;

use switchboard::domain::Author;
use switchboard::domain::event::{Event, EventKind, EventMessage};
use switchboard::store::{Store, events, workspaces};

use crate::common::{Db, IfAssignee, Socket, TestDb, TestServer, paths};
use crate::on_both;

/// On PostgreSQL a commit tells every node of its events in NOTIFYs, one per event, in order,
/// whose payload holds at most 8,000 bytes: an event that fits is carried whole, a longer one
/// is named by its id, and so is every event of a commit of thousands (a queue drained at
/// once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_tell_of_their_events_whole_or_by_id_on_postgres() {
    const MANY: usize = 3000;
    let Some(db) = TestDb::create(Db::Postgres).await else {
        return;
    };
    let store = Store::connect(&db.url, 2).await.unwrap();
    store.migrate().await.unwrap();
    let mut listener = sqlx::postgres::PgListener::connect(&db.url).await.unwrap();
    listener.listen(events::NOTIFY_CHANNEL).await.unwrap();
    let mut tx = store.write().await.unwrap();
    let workspace = workspaces::insert(tx.conn(), "Acme", 0).await.unwrap();
    tx.commit().await.unwrap();
    let event = |i: usize, kind: EventKind| Event {
        workspace_id: workspace.id,
        visitor_id: None,
        recipient_id: Some(i as i64),
        at: String::new(),
        kind,
    };
    let ended = |i: usize| EventKind::SessionsEnded {
        operator_id: i as i64,
    };
    let long = EventKind::MessageCreated {
        conversation_id: 1,
        message: EventMessage {
            id: 1,
            author: Author::Visitor,
            operator_id: None,
            operator_name: None,
            body: "x".repeat(10_000),
            created_at: String::new(),
        },
    };
    let mut told = Vec::new();
    for commit in [
        vec![event(0, ended(0)), event(1, long), event(2, ended(2))],
        (0..MANY).map(|i| event(i, ended(i))).collect(),
    ] {
        let expected = told.len() + commit.len();
        let mut tx = store.write().await.unwrap();
        events::append_and_notify(tx.conn(), &commit, 0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        while told.len() < expected {
            let notification = tokio::time::timeout(Duration::from_secs(5), listener.recv())
                .await
                .expect("every event told within 5 s")
                .unwrap();
            told.push(events::Notified::parse(notification.payload()).expect("readable"));
        }
    }

    let ids: Vec<i64> = told
        .iter()
        .map(|notified| match notified {
            events::Notified::Event(stored) => stored.id,
            events::Notified::Id(id) => *id,
        })
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order, each once");
    let carried = |n: &events::Notified, i: usize| match n {
        events::Notified::Event(stored) => {
            assert_eq!(stored.event.recipient_id, Some(i as i64));
            assert_eq!(stored.event.kind, ended(i));
        }
        events::Notified::Id(_) => panic!("event {i} of the small commit named by id"),
    };
    carried(&told[0], 0);
    assert!(
        matches!(told[1], events::Notified::Id(_)),
        "the long one by id"
    );
    carried(&told[2], 2);
    assert!(
        told[3..]
            .iter()
            .all(|n| matches!(n, events::Notified::Id(_))),
        "the events of the big commit by id"
    );
}

async fn inbox_tabs_see_a_handover_in_commit_order(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "round_robin", &[bob.id]).await;
    let mut tab1 = s.inbox_stream(&ana).await;
    let mut tab2 = s.inbox_stream(&bob).await;

    let chat = s.start_chat(&widget, "hello").await;
    s.handover(&widget, &chat).await;
    for tab in [&mut tab1, &mut tab2] {
        let mut seen: Vec<Value> = Vec::new();
        while seen
            .last()
            .is_none_or(|e| e["type"] != "conversation.assigned")
        {
            seen.push(tab.next().await);
        }
        let kinds: Vec<&str> = seen.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            vec![
                "conversation.created",
                "message.created",
                "message.created",
                "message.created",
                "conversation.status_changed",
                "conversation.assigned",
            ]
        );
        let ids: Vec<i64> = seen.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids follow commit order: {ids:?}"
        );
        assert!(
            seen.iter()
                .all(|e| e["workspace_id"].is_i64() && e["at"].is_string())
        );
        assert_eq!(seen[1]["message"]["author"], "visitor");
        assert_eq!(seen[2]["message"]["author"], "ai");
        assert_eq!(seen[4]["status"], "handed_off");
        let assigned = seen.last().unwrap();
        assert_eq!(assigned["conversation_id"], chat.id);
        assert_eq!(assigned["assignee_id"], bob.id);
        assert_eq!(assigned["previous_assignee_id"], Value::Null);
        assert_eq!(assigned["reason"], "round_robin");
        assert_eq!(assigned["actor_id"], Value::Null);
    }

    // Unassign and presence reach every tab too.
    s.set_assignee(&ana, chat.id, None, IfAssignee::Any).await;
    let unassigned = tab2.next_of("conversation.assigned").await;
    assert_eq!(unassigned["assignee_id"], Value::Null);
    assert_eq!(unassigned["previous_assignee_id"], bob.id);
    assert_eq!(unassigned["reason"], "unassign");
    assert_eq!(unassigned["actor_id"], ana.id);
    s.set_availability(&bob, "away").await;
    let presence = tab1.next_of("operator.availability_changed").await;
    assert_eq!(presence["operator_id"], bob.id);
    assert_eq!(presence["availability"], "away");
}

async fn another_workspace_receives_nothing(s: TestServer) {
    let ana = s.signup("Acme").await;
    let eve = s.signup("Evil").await;
    let mut eves_tab = s.inbox_stream(&eve).await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let chat = s.start_chat(&widget, "secret").await;
    s.handover(&widget, &chat).await;
    s.set_availability(&ana, "away").await;
    // Eve's own change is the first thing she hears of.
    s.set_availability(&eve, "away").await;
    let first = eves_tab.next().await;
    assert_eq!(first["type"], "operator.availability_changed");
    assert_eq!(first["operator_id"], eve.id);
}

/// A reply too long for a PostgreSQL NOTIFY (which then names it, and each node fetches it)
/// reaches the tab whole, between short ones carried whole, in commit order.
async fn a_long_reply_arrives_whole_between_short_ones(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    let mut tab = s.inbox_stream(&ana).await;
    let long = "é".repeat(9_000);
    let bodies = ["before", long.as_str(), "after"];
    for body in bodies {
        let (status, message) = s.reply(&ana, chat.id, body).await;
        assert_eq!(status, 201, "{message}");
    }
    for body in bodies {
        let event = tab.next_of("message.created").await;
        assert_eq!(event["message"]["body"], body);
    }
}

async fn credentials_are_checked_before_the_upgrade(s: TestServer) {
    s.signup("Acme").await;
    assert_eq!(
        Socket::connect(&s.base, paths::EVENTS, None).await.err(),
        Some(401)
    );
    assert_eq!(
        Socket::connect(&s.base, paths::EVENTS, Some("forged"))
            .await
            .err(),
        Some(401)
    );
    assert_eq!(
        Socket::connect(&s.base, &paths::visitor_events("wk_nope", "x"), None)
            .await
            .err(),
        Some(404)
    );
}

async fn a_visitor_sees_only_their_own_conversation(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let mine = s.start_chat(&widget, "mine").await;
    let theirs = s.start_chat(&widget, "theirs").await;
    assert_eq!(
        Socket::connect(&s.base, &paths::visitor_events(&widget.key, "forged"), None)
            .await
            .err(),
        Some(401)
    );
    let mut me = s.visitor_stream(&widget, &mine).await;

    s.reply(&ana, theirs.id, "for them").await;
    s.reply(&ana, mine.id, "for you").await;
    let reply = me.next_of("message.created").await;
    assert_eq!(
        reply["conversation_id"], mine.id,
        "nothing of the other visitor's chat came first"
    );
    assert_eq!(reply["message"]["body"], "for you");
    assert_eq!(reply["message"]["author"], "operator");
    assert_eq!(reply["message"]["operator_name"], "Owner");
    assert!(reply.get("workspace_id").is_none() && reply["message"].get("operator_id").is_none());
    let text = reply.to_string();
    assert!(!text.contains('@'), "no emails: {text}");
    // The reply claimed it and stopped the AI: the visitor hears both.
    let mut kinds = vec![];
    for _ in 0..2 {
        let e = me.next().await;
        assert_eq!(e["conversation_id"], mine.id);
        kinds.push(e["type"].as_str().unwrap().to_owned());
    }
    kinds.sort();
    assert_eq!(
        kinds,
        vec!["conversation.assigned", "conversation.status_changed"]
    );
}

async fn a_reconnecting_tab_resumes_with_since(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let mut tab = s.inbox_stream(&ana).await;
    s.start_chat(&widget, "one").await;
    let mut last = 0;
    for _ in 0..3 {
        last = tab.next().await["id"].as_i64().unwrap();
    }
    drop(tab);
    let missed = s.start_chat(&widget, "two").await;
    let mut tab = s.inbox_stream_since(&ana, last).await;
    let replayed = tab.next().await;
    assert_eq!(replayed["type"], "conversation.created");
    assert_eq!(replayed["conversation_id"], missed.id);
    assert!(replayed["id"].as_i64().unwrap() > last);
    assert_eq!(tab.next().await["message"]["body"], "two");
    // Live events follow the replay without duplicates.
    s.set_availability(&ana, "away").await;
    let next = tab.next_of("operator.availability_changed").await;
    assert!(next["id"].as_i64().unwrap() > replayed["id"].as_i64().unwrap());

    let mut stale = s.inbox_stream_since(&ana, 999999).await;
    assert_eq!(
        stale.next().await["type"],
        "resync",
        "an unknown cursor asks the client to refetch"
    );
}

on_both!(
    inbox_tabs_see_a_handover_in_commit_order,
    another_workspace_receives_nothing,
    a_long_reply_arrives_whole_between_short_ones,
    credentials_are_checked_before_the_upgrade,
    a_visitor_sees_only_their_own_conversation,
    a_reconnecting_tab_resumes_with_since,
);

/// A client that stops reading does not hold up anyone else, and is disconnected with a
/// reason once it is too far behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_does_not_delay_the_others() {
    let Some(s) = TestServer::start_with(Db::Sqlite, |c| c.event_buffer = 32).await else {
        return;
    };
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    let mut slow = Socket::connect_with_small_buffer(&s.base, paths::EVENTS, &ana.token).await;
    let mut fast = s.inbox_stream(&ana).await;

    // Large replies (40 KB each) fill the slow client's small TCP buffers quickly, so the
    // server's writes to it block for real.
    let body = "🦀".repeat(10_000);
    let replies = 300;
    let reader = tokio::spawn(async move {
        let mut got = 0;
        while got < replies {
            let event = fast
                .next_within(Duration::from_secs(10))
                .await
                .expect("fast stream stays open");
            if event["type"] == "message.created" {
                got += 1;
            }
        }
        got
    });
    for _ in 0..replies {
        let (status, _) = s.reply(&ana, chat.id, &body).await;
        assert_eq!(status, 201);
    }
    assert_eq!(
        reader.await.unwrap(),
        replies,
        "the fast tab got every event while the slow one read nothing"
    );

    let mut closed_with = None;
    for _ in 0..=replies * 2 {
        match slow.next_within(Duration::from_secs(10)).await {
            Ok(_) => continue,
            Err(code) => {
                closed_with = code;
                break;
            }
        }
    }
    assert_eq!(closed_with, Some(4001), "the slow tab is told it lagged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_streams_with_going_away() {
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    let ana = s.signup("Acme").await;
    let mut tab = s.inbox_stream(&ana).await;
    tokio::time::timeout(Duration::from_secs(10), s.stop())
        .await
        .expect("stops promptly with a stream open");
    assert_eq!(
        tab.next_within(Duration::from_secs(5)).await.err(),
        Some(Some(1001))
    );
}
