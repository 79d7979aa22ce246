//! The routing report (SPEC 10) against a scripted history: chats handed over, claimed,
//! answered and moved through the API, then their times set to known instants in the
//! database, so every median is known.

use serde_json::{Value, json};
use sqlx::Connection;

use crate::common::{Op, TestServer};
use crate::on_both;

/// 2026-01-05T00:00:00Z, the window's start.
const T: i64 = 1_767_571_200_000;
const FROM: &str = "2026-01-05T00:00:00Z";
const TO: &str = "2026-01-05T01:00:00Z";

/// Statements that put the history's times where the test wants them.
async fn on_database(s: &TestServer, statements: &[(&'static str, Vec<i64>)]) {
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(s.database_url())
        .await
        .unwrap();
    for (sql, binds) in statements {
        let mut query = sqlx::query(*sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        query.execute(&mut db).await.unwrap();
    }
    db.close().await.unwrap();
}

/// A chat of `widget` handed to the team; its id.
async fn handed_over(s: &TestServer, widget: &crate::common::Widget, text: &str) -> i64 {
    let chat = s.start_chat(widget, text).await;
    s.handover(widget, &chat).await;
    chat.id
}

/// The chat's assignment to `to`: handed over at `handover`, assigned at `at` (ms after T).
fn assigned_at(chat: i64, to: i64, handover: i64, at: i64) -> (&'static str, Vec<i64>) {
    (
        "UPDATE assignment_events SET at = $1, handed_off_at = $2 \
         WHERE conversation_id = $3 AND to_operator_id = $4",
        vec![T + at, T + handover, chat, to],
    )
}

/// The assignee's first reply in the chat, at `at` ms after T.
fn replied_at(chat: i64, at: i64) -> (&'static str, Vec<i64>) {
    (
        "UPDATE assignment_events SET first_reply_at = $1 WHERE conversation_id = $2 AND first_reply_at IS NOT NULL",
        vec![T + at, chat],
    )
}

/// Whether each chat's assignment has its first reply recorded, as the API's replies left it.
async fn first_replies_recorded(s: &TestServer, chats: &[i64]) -> Vec<bool> {
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(s.database_url())
        .await
        .unwrap();
    let mut recorded = Vec::new();
    for chat in chats {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(first_reply_at) FROM assignment_events WHERE conversation_id = $1",
        )
        .bind(*chat)
        .fetch_one(&mut db)
        .await
        .unwrap();
        recorded.push(n > 0);
    }
    db.close().await.unwrap();
    recorded
}

fn row<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["operators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {report}"))
}

async fn the_report_adds_up_a_scripted_history(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let cleo = s.add_operator(&ana, "Cleo").await;
    let (status, _) = s
        .update_operator(&ana, cleo.id, json!({"capacity": 5}))
        .await;
    assert_eq!(status, 200);
    let manual = s.widget(&ana, "manual", &[]).await;

    // Bob claims three chats from the queue after 10, 30 and 50 s and answers two of them,
    // after 60 and 10 s; Cleo answers one after 120 s of waiting, which claims it.
    let mut chats = Vec::new();
    for text in ["one", "two", "three"] {
        let chat = handed_over(&s, &manual, text).await;
        assert_eq!(s.claim(&bob, chat).await.0, 200);
        chats.push(chat);
    }
    s.reply(&bob, chats[0], "on it").await;
    s.reply(&bob, chats[1], "on it").await;
    let four = handed_over(&s, &manual, "four").await;
    s.reply(&cleo, four, "hello").await;
    // One Bob claimed exactly at the window's end: outside it.
    let late = handed_over(&s, &manual, "late").await;
    s.claim(&bob, late).await;
    assert_eq!(
        first_replies_recorded(&s, &[chats[0], chats[1], chats[2], four, late]).await,
        [true, true, false, true, false],
        "each assignee's first reply is recorded with the assignment"
    );
    // Chat three moved on from Bob to Cleo as unanswered (SPEC 9's reason).
    let moved = (
        "INSERT INTO assignment_events (conversation_id, from_operator_id, to_operator_id, reason, actor_id, at) \
         VALUES ($1, $2, $3, 'unanswered', NULL, $4)",
        vec![chats[2], bob.id, cleo.id, T + 500_000],
    );
    on_database(
        &s,
        &[
            assigned_at(chats[0], bob.id, 0, 10_000),
            replied_at(chats[0], 70_000),
            assigned_at(chats[1], bob.id, 100_000, 130_000),
            replied_at(chats[1], 140_000),
            assigned_at(chats[2], bob.id, 200_000, 250_000),
            assigned_at(four, cleo.id, 300_000, 420_000),
            replied_at(four, 420_000),
            assigned_at(late, bob.id, 3_000_000, 3_600_000),
            moved,
        ],
    )
    .await;

    // A chat waiting on a widget that routes, with nobody available for it: the queue.
    let dan = s.add_operator(&ana, "Dan").await;
    s.set_availability(&dan, "away").await;
    let routed = s.widget(&ana, "round_robin", &[dan.id]).await;
    let queued = handed_over(&s, &routed, "anyone?").await;
    on_database(
        &s,
        &[(
            "UPDATE conversations SET queued_at = $1 WHERE id = $2",
            vec![T + 600_000, queued],
        )],
    )
    .await;

    handed_over(&s, &manual, "a manual widget's chat waits for a claim").await;

    let (status, report) = s.routing_report(&ana, FROM, TO).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["from"], "2026-01-05T00:00:00.000Z");
    assert_eq!(report["to"], "2026-01-05T01:00:00.000Z");
    let names: Vec<&str> = report["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Owner", "Bob", "Cleo", "Dan"], "in join order");
    let b = row(&report, "Bob");
    assert_eq!(b["operator_id"], bob.id);
    assert_eq!(b["assigned"], json!({"claim": 3}), "{b}");
    assert_eq!(b["median_wait_secs"], 30.0, "10, 30 and 50 s: {b}");
    assert_eq!(b["median_first_reply_secs"], 35.0, "60 and 10 s: {b}");
    assert_eq!(b["unanswered_moves"], 1, "{b}");
    assert_eq!(b["load"], 4, "chats one, two, three and the late one: {b}");
    assert_eq!(b["capacity"], Value::Null);
    let c = row(&report, "Cleo");
    assert_eq!(c["assigned"], json!({"reply": 1, "unanswered": 1}), "{c}");
    assert_eq!(
        c["median_wait_secs"], 120.0,
        "a move from Bob ended no wait: {c}"
    );
    assert_eq!(
        c["median_first_reply_secs"], 0.0,
        "a reply that claims: {c}"
    );
    assert_eq!(c["unanswered_moves"], 0);
    assert_eq!(
        (c["load"].clone(), c["capacity"].clone()),
        (json!(1), json!(5))
    );
    let owner = row(&report, "Owner");
    assert_eq!(owner["assigned"], json!({}));
    assert_eq!(owner["median_wait_secs"], Value::Null);
    assert_eq!(owner["median_first_reply_secs"], Value::Null);
    assert_eq!(
        report["days"],
        json!([{"day": "2026-01-05T00:00:00.000Z", "assigned": 5, "median_wait_secs": 40.0}]),
        "an hour is one short day: every assignment, the waits 10, 30, 50 and 120 s"
    );
    assert_eq!(
        report["queue"],
        json!({"length": 1, "oldest_queued_at": "2026-01-05T00:10:00.000Z"}),
        "the manual widget's waiting chats are no queue"
    );

    // Offsets are instants too; an earlier window sees none of it.
    let (status, same) = s
        .routing_report(&ana, "2026-01-05T01:00:00%2B01:00", TO)
        .await;
    assert_eq!((status, &same["operators"]), (200, &report["operators"]));
    let (_, before) = s.routing_report(&ana, "2026-01-04T00:00:00Z", FROM).await;
    assert_eq!(row(&before, "Bob")["assigned"], json!({}));
    assert_eq!(
        before["days"],
        json!([{"day": "2026-01-04T00:00:00.000Z", "assigned": 0, "median_wait_secs": null}])
    );

    // Owners and admins only; another workspace sees only its own.
    let (status, body) = s.routing_report(&bob, FROM, TO).await;
    assert_eq!(status, 403, "{body}");
    let other = s.signup("Other").await;
    let (status, theirs) = s.routing_report(&other, FROM, TO).await;
    assert_eq!(status, 200);
    assert_eq!(theirs["operators"].as_array().unwrap().len(), 1, "{theirs}");
    assert_eq!(
        theirs["queue"],
        json!({"length": 0, "oldest_queued_at": null})
    );
}

async fn bad_windows_are_refused_with_what_is_wrong(s: TestServer) {
    let ana: Op = s.signup("Acme").await;
    for (from, to, says) in [
        ("yesterday", TO, "from must be an ISO 8601 instant"),
        (FROM, "2026-01-05", "to must be an ISO 8601 instant"),
        (
            FROM,
            "2026-01-05T01:00:00",
            "to must be an ISO 8601 instant",
        ),
        (TO, FROM, "from must not be after to"),
        (
            "2025-01-01T00:00:00Z",
            "2026-01-02T00:00:01Z",
            "at most 366 days",
        ),
    ] {
        let (status, body) = s.routing_report(&ana, from, to).await;
        assert_eq!(status, 400, "{from}..{to}: {body}");
        assert_eq!(body["error"]["code"], "invalid_window", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{from}..{to}: {message}");
    }
    let (status, body) = s.get(&ana, crate::common::paths::ROUTING_REPORT).await;
    assert_eq!(status, 400, "from and to are required: {body}");
    let (status, _) = s
        .routing_report(&ana, "2025-01-01T00:00:00Z", "2026-01-02T00:00:00Z")
        .await;
    assert_eq!(status, 200, "366 days exactly");
    let (status, _) = s.routing_report(&ana, FROM, FROM).await;
    assert_eq!(status, 200, "an empty window");
}

on_both!(
    the_report_adds_up_a_scripted_history,
    bad_windows_are_refused_with_what_is_wrong
);
