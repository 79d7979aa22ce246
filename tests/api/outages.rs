//! PostgreSQL stopping and coming back under a running node: the node answers what it can,
//! gives clear 503s for what it cannot, reconnects by itself, and delivers everything after.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::common::{Api, Node, Op, Widget, free_port, paths};
use crate::crash::conversation_linked;
use crate::fake_ai::{FakeProvider, text};
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

/// Longest a request may take to be told the database is unavailable.
const PROMPT_503: Duration = Duration::from_secs(5);

/// Sends the request, checks it is a 503 `unavailable` that came within `PROMPT_503`, and
/// returns how long it took.
async fn assert_unavailable(what: &str, request: impl Future<Output = (u16, Value)>) -> Duration {
    let started = Instant::now();
    let (status, body) = request.await;
    let took = started.elapsed();
    assert_eq!(status, 503, "{what}: {body}");
    assert_eq!(body["error"]["code"], "unavailable", "{what}: {body}");
    assert!(took < PROMPT_503, "{what} took {took:?} to fail");
    took
}

/// Visitors starting chats and an operator reading the inbox, over and over until `stop`;
/// returns every answer's status (0: no answer at all).
fn background_load(
    api: &Api,
    widget: &Widget,
    operator: &Op,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Vec<u16>> {
    let (api, widget, operator) = (api.clone(), widget.clone(), operator.clone());
    tokio::spawn(async move {
        let start = api.url(&paths::visitor_chats(&widget.key));
        let inbox = api.url(paths::CONVERSATIONS);
        let mut statuses = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let (chat, inbox) = tokio::join!(
                api.client
                    .post(&start)
                    .json(&json!({"body": "busy"}))
                    .send(),
                api.client.get(&inbox).bearer_auth(&operator.token).send(),
            );
            for answer in [chat, inbox] {
                statuses.push(answer.map_or(0, |r| r.status().as_u16()));
            }
        }
        statuses
    })
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
    let mut tab = api.inbox_stream(&owner).await;
    let before = api.start_chat(&widget, "before the outage").await;
    api.handover(&widget, &before).await;
    let assigned = tab.next_of("conversation.assigned").await;
    assert_eq!(assigned["conversation_id"], before.id);

    // Requests keep coming while PostgreSQL goes down and comes back: each gets an answer,
    // and it is either a success or a 503, never a 500, whatever it was doing at the time.
    let stop_load = Arc::new(AtomicBool::new(false));
    let load: Vec<_> = (0..3)
        .map(|_| background_load(api, &widget, &ops[1], stop_load.clone()))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.stop();
    let went_down = until_status(api, paths::HEALTHZ, 503).await;
    let visitor_503 = assert_unavailable(
        "a visitor's new chat",
        api.visitor_start(&widget, json!({"body": "during the outage"})),
    )
    .await;
    let inbox_503 = assert_unavailable("the inbox", api.conversations(&owner, "")).await;
    let reply_503 = assert_unavailable(
        "a reply",
        api.reply(&ops[1], before.id, "during the outage"),
    )
    .await;
    // What needs no database still works.
    let (status, _) = api.call(Method::GET, paths::OPENAPI, None, None).await;
    assert_eq!(status, 200);
    let widget_js = api
        .client
        .get(format!("{}/widget.js", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(widget_js.status(), 200);

    cluster.start_again();
    let came_back = until_status(api, paths::HEALTHZ, 200).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_load.store(true, Ordering::Relaxed);
    let mut statuses: Vec<u16> = Vec::new();
    for task in join_all(load).await {
        statuses.extend(task.unwrap());
    }
    let unavailable = statuses.iter().filter(|s| **s == 503).count();
    let succeeded = statuses.iter().filter(|s| matches!(**s, 200 | 201)).count();
    assert_eq!(
        unavailable + succeeded,
        statuses.len(),
        "only successes and 503s under the outage: {statuses:?}; the node's errors:\n{}",
        node.log()
            .lines()
            .filter(|line| line.contains("ERROR"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(unavailable > 0 && succeeded > 0, "{statuses:?}");
    // The session, the widget and the chat from before are all there, and work goes on.
    let after = api.start_chat(&widget, "after the outage").await;
    api.handover(&widget, &after).await;
    let (status, _) = api.reply(&ops[1], before.id, "after the outage").await;
    assert_eq!(status, 201);
    // The open tab is told to refetch (events committed while the node was not listening may
    // have been missed), and live events flow again once it listens: replies are posted until
    // one arrives on the tab, and every one of them is then in a replay from before the outage.
    let mut resynced = false;
    let mut posted = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    'live: loop {
        assert!(Instant::now() < deadline, "no live event after the outage");
        let (status, message) = api
            .reply(&ops[1], after.id, &format!("live again {}", posted.len()))
            .await;
        assert_eq!(status, 201, "{message}");
        posted.push(message["id"].clone());
        while let Ok(event) = tokio::time::timeout(Duration::from_secs(1), tab.next()).await {
            resynced |= event["type"] == "resync";
            if event["type"] == "message.created" && posted.contains(&event["message"]["id"]) {
                break 'live;
            }
        }
    }
    assert!(resynced, "the tab was told to resync");
    let mut replay = api
        .inbox_stream_since(&owner, assigned["id"].as_i64().unwrap())
        .await;
    let replayed = replay.until_quiet(Duration::from_secs(2)).await;
    let replayed_messages: Vec<&Value> = replayed
        .iter()
        .filter(|e| e["type"] == "message.created")
        .map(|e| &e["message"]["id"])
        .collect();
    assert!(
        replayed
            .iter()
            .any(|e| e["type"] == "conversation.assigned" && e["conversation_id"] == after.id),
        "the assignment after the outage is in the replay"
    );
    for id in &posted {
        assert!(
            replayed_messages.contains(&id),
            "reply {id} is in the replay"
        );
    }

    // Every routed chat's notification goes out once the mail server is up, once each: the
    // two routed around the outage, and any chat whose AI turn failed during it, which is
    // handed to the team once the database is back.
    let Some(smtp) = SmtpServer::start(smtp_port).await else {
        return;
    };
    let routed = || async {
        let (status, list) = api
            .conversations(&owner, "?view=all&status=handed_off&limit=200")
            .await;
        assert_eq!(status, 200, "{list}");
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["assignee_id"].is_i64())
            .map(|c| c["id"].as_i64().unwrap())
            .collect::<BTreeSet<i64>>()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let notified: BTreeSet<i64> = smtp.messages().iter().map(conversation_linked).collect();
        let routed = routed().await;
        if routed.len() >= 2 && notified == routed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "emails for {notified:?}, routed {routed:?}; the node's log:\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails = smtp.messages();
    let ids: BTreeSet<&str> = mails
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        mails.len(),
        "one email per routed chat: {mails:?}"
    );
    assert!(routed().await.contains(&before.id) && routed().await.contains(&after.id));
    // The outage is told in the log once, not once per request or retry.
    let log = node.log();
    let loud: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("WARN") || line.contains("ERROR"))
        .filter(|line| line.contains("switchboard::"))
        .collect();
    let said = |what: &str| log.lines().filter(|line| line.contains(what)).count();
    assert_eq!(said("the database is unreachable"), 1, "{log}");
    assert_eq!(said("the database is reachable again"), 1, "{log}");
    assert!(
        loud.len() <= 6,
        "{} warnings and errors for one outage:\n{}",
        loud.len(),
        loud.join("\n")
    );
    eprintln!(
        "postgres restart: {} warning and error lines in the log; /healthz 503 after {went_down:?}; 503s in {visitor_503:?}, \
         {inbox_503:?}, {reply_503:?}; 200 again {came_back:?} after the restart; background \
         load: {succeeded} successes, {unavailable} 503s",
        loud.len()
    );
}

/// A chat whose AI turn was under way when PostgreSQL stopped is answered once it is back,
/// without any node restarting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ai_turn_owed_through_an_outage_is_taken_when_the_database_is_back() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let (fake, base) = FakeProvider::start().await;
    fake.answer(200, text("Here is your answer."), Duration::from_secs(3));
    let node = Node::spawn_logging(
        &cluster.url(),
        &[
            "--ai",
            "openai",
            "--ai-base-url",
            &base,
            "--ai-model",
            "m",
            "--ai-timeout-secs",
            "10",
        ],
        "info",
    )
    .await;
    let api = &node.api;
    let owner = api.signup("Acme").await;
    let widget = api.widget(&owner, "manual", &[]).await;
    let chat = api.open_chat(&widget, "where is my order?").await;
    cluster.stop();
    tokio::time::sleep(Duration::from_secs(9)).await;
    cluster.start_again();
    let restarted = Instant::now();
    let deadline = restarted + Duration::from_secs(10);
    loop {
        let (status, view) = api.visitor_view(&widget, &chat).await;
        let messages = view["messages"].as_array().map_or(0, Vec::len);
        if status == 200 && (messages >= 2 || view["status"] == "handed_off") {
            assert_eq!(
                view["messages"][1]["body"], "Here is your answer.",
                "{view}"
            );
            eprintln!(
                "owed AI turn: answered {:?} after PostgreSQL was started again",
                restarted.elapsed()
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the chat is still unanswered 10 s after the restart: {view}\n{}",
            node.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
