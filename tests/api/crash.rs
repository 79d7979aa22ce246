//! Crash safety: a node killed with SIGKILL in the middle of a load loses nothing it answered
//! 2xx to, and after the restart every queued notification goes out, under one Message-ID.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::common::{Api, Chat, Db, Node, Op, TestDb, Widget, free_port, paths, soak};
use crate::notifications::SmtpServer;
use crate::races::team;

/// Visitors running through their chats at once.
const WORKERS: usize = 6;
/// Chats per visitor at most, so the whole run fits in one `since=0` replay.
const CHATS_PER_WORKER: usize = 15;
/// Chats answered 201 before the node is killed.
const KILL_AFTER_CHATS: usize = 20;

/// The node's notification lease in this test, in seconds.
const LEASE_SECS: u64 = 3;
/// Rows the notification worker leases at once (`notify::BATCH`): the most sends a kill can
/// leave unrecorded.
const OUTBOX_BATCH: usize = 20;

/// What the node acknowledged with a 2xx.
#[derive(Default)]
struct Acknowledged {
    chats: Vec<Chat>,
    /// (conversation, message body)
    messages: Vec<(i64, String)>,
    handed_over: Vec<i64>,
    /// Answers other than 2xx while the node was up: always a bug.
    unexpected: Vec<String>,
}

type Ledger = Arc<Mutex<Acknowledged>>;

/// One request; `None` when no answer came (the node died under it).
async fn send(
    api: &Api,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> Option<(u16, Value)> {
    let mut request = api
        .client
        .request(method, format!("{}{path}", api.base))
        .json(&body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.json().await.ok()?;
    Some((status, body))
}

/// A visitor starts chats one after another; in each, writes once, asks for a person, and an
/// operator replies. Stops at the first request that gets no answer.
async fn visitor(api: Api, widget: Widget, ops: Vec<Op>, worker: usize, ledger: Ledger) {
    let record_unexpected = |what: &str, status: u16, body: &Value| {
        ledger
            .lock()
            .unwrap()
            .unexpected
            .push(format!("{what}: {status} {body}"));
    };
    for i in 0..CHATS_PER_WORKER {
        let tag = format!("w{worker}c{i}");
        let first = format!("{tag} hello");
        let path = paths::visitor_chats(&widget.key);
        let Some((status, body)) =
            send(&api, Method::POST, &path, &[], json!({"body": first})).await
        else {
            return;
        };
        if status != 201 {
            return record_unexpected("start", status, &body);
        }
        let chat = Chat {
            id: body["conversation_id"].as_i64().unwrap(),
            token: body["visitor_token"].as_str().unwrap().to_owned(),
        };
        {
            let mut ledger = ledger.lock().unwrap();
            ledger.chats.push(chat.clone());
            ledger.messages.push((chat.id, first));
        }
        let chat_path = paths::visitor_chat(&widget.key, chat.id);
        let visitor = [("x-visitor-token", chat.token.as_str())];

        let second = format!("{tag} second");
        let sent = send(
            &api,
            Method::POST,
            &format!("{chat_path}/messages"),
            &visitor,
            json!({"body": second}),
        )
        .await;
        match sent {
            None => return,
            Some((201, _)) => ledger.lock().unwrap().messages.push((chat.id, second)),
            Some((status, body)) => return record_unexpected("message", status, &body),
        }

        let handed = send(
            &api,
            Method::POST,
            &format!("{chat_path}/handover"),
            &visitor,
            json!({}),
        )
        .await;
        match handed {
            None => return,
            Some((200, _)) => ledger.lock().unwrap().handed_over.push(chat.id),
            Some((status, body)) => return record_unexpected("handover", status, &body),
        }

        let reply = format!("{tag} reply");
        let op = &ops[i % ops.len()];
        let bearer = format!("Bearer {}", op.token);
        let replied = send(
            &api,
            Method::POST,
            &paths::conversation_action(chat.id, "messages"),
            &[("authorization", bearer.as_str())],
            json!({"body": reply}),
        )
        .await;
        match replied {
            None => return,
            Some((201, _)) => ledger.lock().unwrap().messages.push((chat.id, reply)),
            Some((status, body)) => return record_unexpected("reply", status, &body),
        }
    }
}

async fn a_killed_node_loses_nothing_it_acknowledged(db: Db) {
    let Some(database) = TestDb::create(db).await else {
        return;
    };
    let Some(smtp) = SmtpServer::start(free_port()).await else {
        return;
    };
    let smtp_url = smtp.url();
    // A short lease: the rows the killed node was sending are retried seconds after restart.
    let lease = LEASE_SECS.to_string();
    let args = [
        "--smtp-url",
        smtp_url.as_str(),
        "--notify-lease-secs",
        lease.as_str(),
        "--notify-retry-max-secs",
        "1",
    ];
    let node = Node::spawn_with(&database.url, &args).await;
    let owner = node.api.signup("Acme").await;
    let ops = team(&node.api, &owner, 3).await;
    let widget = node.api.widget(&owner, "round_robin", &[]).await;

    let ledger = Ledger::default();
    let visitors: Vec<_> = (0..WORKERS)
        .map(|worker| {
            tokio::spawn(visitor(
                node.api.clone(),
                widget.clone(),
                ops.clone(),
                worker,
                ledger.clone(),
            ))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while ledger.lock().unwrap().chats.len() < KILL_AFTER_CHATS {
        assert!(Instant::now() < deadline, "the load did not get going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    node.kill_9();
    join_all(visitors).await;

    let acknowledged = std::mem::take(&mut *ledger.lock().unwrap());
    assert!(
        acknowledged.unexpected.is_empty(),
        "{:?}",
        acknowledged.unexpected
    );
    let node = Node::spawn_with(&database.url, &args).await;
    let api = &node.api;

    // Every acknowledged write is there.
    // Every conversation stored, including ones whose start was committed but never answered
    // (the AI, resumed at restart, may have handed those over too: read once it has).
    ai_turns_settle(api, &owner).await;
    let (status, list) = api.conversations(&owner, "?limit=200").await;
    assert_eq!(status, 200, "{list}");
    let mut conversations = HashMap::new();
    for row in list["items"].as_array().unwrap() {
        let id = row["id"].as_i64().unwrap();
        conversations.insert(id, api.conversation(&owner, id).await);
    }
    for chat in &acknowledged.chats {
        assert!(
            conversations.contains_key(&chat.id),
            "acknowledged chat {} is missing",
            chat.id
        );
    }
    for (id, body) in &acknowledged.messages {
        let messages = conversations[id]["messages"].as_array().unwrap();
        assert!(
            messages.iter().any(|m| m["body"] == body.as_str()),
            "acknowledged message {body:?} is missing from {}",
            conversations[id]
        );
    }
    for id in &acknowledged.handed_over {
        let conversation = &conversations[id];
        assert_eq!(conversation["status"], "handed_off", "{conversation}");
        assert!(conversation["assignee_id"].is_i64(), "{conversation}");
    }
    // Committed but unanswered requests may have landed too; none landed twice.
    let mut routed = BTreeSet::new();
    for (id, conversation) in &conversations {
        let assignments = conversation["assignment_events"].as_array().unwrap();
        assert!(assignments.len() <= 1, "{conversation}");
        if !assignments.is_empty() {
            routed.insert(*id);
        }
    }

    // The event log holds an event for every message and assignment that was committed.
    let mut replay = api.inbox_stream_since(&owner, 0).await;
    let events = replay.until_quiet(Duration::from_secs(1)).await;
    let replayed_messages: HashSet<i64> = events
        .iter()
        .filter(|e| e["type"] == "message.created")
        .map(|e| e["message"]["id"].as_i64().unwrap())
        .collect();
    let replayed_assignments: HashSet<i64> = events
        .iter()
        .filter(|e| e["type"] == "conversation.assigned")
        .map(|e| e["conversation_id"].as_i64().unwrap())
        .collect();
    for (id, conversation) in &conversations {
        for message in conversation["messages"].as_array().unwrap() {
            assert!(
                replayed_messages.contains(&message["id"].as_i64().unwrap()),
                "no message.created for {message}"
            );
        }
        if conversation["assignee_id"].is_i64() {
            assert!(
                replayed_assignments.contains(id),
                "no assignment event for {id}"
            );
        }
    }

    // One email per routed chat, each under its own Message-ID, the ones queued or in flight at
    // the kill included. A send the kill interrupted after the mail server took it is repeated
    // under the same Message-ID; only a send in flight at the kill can be (a batch at most),
    // and once the outbox is empty nothing is sent again.
    smtp.wait_for(routed.len()).await;
    outbox_drains(&database.url).await;
    let mails = smtp.messages();
    tokio::time::sleep(Duration::from_secs(2 * LEASE_SECS)).await;
    assert_eq!(
        smtp.messages().len(),
        mails.len(),
        "nothing sent twice later"
    );
    let ids: HashSet<&str> = mails
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    let notified: BTreeSet<i64> = mails.iter().map(conversation_linked).collect();
    assert_eq!(notified, routed, "an email for each routed chat");
    assert_eq!(ids.len(), routed.len(), "one Message-ID per routed chat");
    let repeats = mails.len() - ids.len();
    assert!(repeats <= OUTBOX_BATCH, "{repeats} repeated sends");
    eprintln!(
        "crash test ({db:?}): {} chats, {} messages, {} handovers acknowledged before the kill; \
         {} routed; {} mails, {repeats} under a repeated Message-ID",
        acknowledged.chats.len(),
        acknowledged.messages.len(),
        acknowledged.handed_over.len(),
        routed.len(),
        mails.len(),
    );
}

/// The conversation an "assigned to you" email links to.
/// Waits until no chat owes the AI a turn (active, the visitor spoke last): the node resumes
/// those at start-up, and may answer or hand them over a moment later.
async fn ai_turns_settle(api: &Api, owner: &Op) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, active) = api.conversations(owner, "?status=active&limit=200").await;
        let mut owed = Vec::new();
        for row in active["items"].as_array().unwrap() {
            let id = row["id"].as_i64().unwrap();
            let detail = api.conversation(owner, id).await;
            let last = detail["messages"].as_array().unwrap().last().cloned();
            if last.is_some_and(|m| m["author"] == "visitor") {
                owed.push(id);
            }
        }
        if owed.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "AI turns still owed on {owed:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn conversation_linked(mail: &Value) -> i64 {
    let text = mail["text"].as_str().unwrap();
    let (_, after) = text
        .split_once("/inbox/conversations/")
        .unwrap_or_else(|| panic!("no deep link in {text}"));
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap()
}

/// Waits until the outbox holds nothing left to send.
async fn outbox_drains(database_url: &str) {
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(database_url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (pending,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM notification_outbox WHERE sent_at IS NULL AND failed_at IS NULL",
        )
        .fetch_one(&mut db)
        .await
        .unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} notifications still queued"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_loses_nothing_on_sqlite() {
    for _ in 0..soak() {
        a_killed_node_loses_nothing_it_acknowledged(Db::Sqlite).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_loses_nothing_on_postgres() {
    for _ in 0..soak() {
        a_killed_node_loses_nothing_it_acknowledged(Db::Postgres).await;
    }
}
