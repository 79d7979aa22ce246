//! Workload (SPEC 9) and routing you can see (SPEC 10): capacity, the queue that drains
//! itself, unanswered chats that move on, auto-close, presence that follows the inbox tabs,
//! the decision behind each routed assignment, the preview, and the visitor's place in line.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Chat, Db, IfAssignee, Op, TestServer, Widget};
use crate::on_both;

/// A chat the visitor handed to the team.
async fn handed_over(s: &TestServer, widget: &Widget) -> Chat {
    let chat = s.start_chat(widget, "hello").await;
    s.handover(widget, &chat).await;
    chat
}

/// Polls the conversation until `done` holds, for at most `within`; returns it.
async fn until(
    s: &TestServer,
    op: &Op,
    id: i64,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let conv = s.conversation(op, id).await;
        if done(&conv) {
            return conv;
        }
        assert!(started.elapsed() < within, "not within {within:?}: {conv}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assignee(conv: &Value) -> Option<i64> {
    conv["assignee_id"].as_i64()
}

fn last_event(conv: &Value) -> Value {
    conv["assignment_events"]
        .as_array()
        .and_then(|e| e.last().cloned())
        .unwrap_or(Value::Null)
}

async fn set_capacity(s: &TestServer, admin: &Op, op: &Op, capacity: Value) {
    let (status, body) = s
        .update_operator(admin, op.id, json!({"capacity": capacity}))
        .await;
    assert_eq!(status, 200, "capacity: {body}");
}

async fn capacity_limits_both_auto_modes_but_not_claims_or_picks(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    set_capacity(&s, &ana, &ana, json!(1)).await;
    set_capacity(&s, &ana, &bob, json!(2)).await;
    for mode in ["round_robin", "lightest_load"] {
        let widget = s.widget(&ana, mode, &[]).await;
        let mut got = Vec::new();
        for _ in 0..4 {
            let chat = handed_over(&s, &widget).await;
            got.push(assignee(&s.conversation(&ana, chat.id).await));
        }
        let to = |id| got.iter().filter(|a| **a == Some(id)).count();
        assert_eq!((to(ana.id), to(bob.id)), (1, 2), "{mode}: {got:?}");
        assert_eq!(
            got.iter().filter(|a| a.is_none()).count(),
            1,
            "{mode}: one waits"
        );
        // Free everyone for the next mode.
        let (_, all) = s.conversations(&ana, "?view=all").await;
        for conv in all["items"].as_array().unwrap() {
            s.close(&ana, conv["id"].as_i64().unwrap()).await;
        }
    }
    let widget = s.widget(&ana, "manual", &[]).await;
    let first = handed_over(&s, &widget).await;
    let (status, body) = s.claim(&ana, first.id).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("over_capacity").is_none(),
        "at capacity, not over: {body}"
    );
    let second = handed_over(&s, &widget).await;
    let (status, body) = s.claim(&ana, second.id).await;
    assert_eq!(status, 200, "a claim may go over capacity: {body}");
    assert_eq!(body["over_capacity"], true, "{body}");
    let third = handed_over(&s, &widget).await;
    let (status, body) = s
        .set_assignee(&bob, third.id, Some(ana.id), IfAssignee::Any)
        .await;
    assert_eq!(status, 200, "a pick may go over capacity: {body}");
    assert_eq!(body["over_capacity"], true, "{body}");
}

async fn the_queue_drains_oldest_first_when_someone_turns_available(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    s.set_availability(&ana, "away").await;
    s.set_availability(&bob, "away").await;
    set_capacity(&s, &ana, &bob, json!(2)).await;
    let widget = s.widget(&ana, "lightest_load", &[]).await;
    let mut chats = Vec::new();
    for _ in 0..3 {
        let chat = handed_over(&s, &widget).await;
        let conv = s.conversation(&ana, chat.id).await;
        assert_eq!(conv["waiting_reason"], "no_available_operator");
        assert!(conv["queued_at"].is_string(), "queued: {conv}");
        chats.push(chat);
    }
    let started = Instant::now();
    s.set_availability(&bob, "available").await;
    let first = until(&s, &ana, chats[0].id, Duration::from_secs(1), |c| {
        assignee(c) == Some(bob.id)
    })
    .await;
    let second = until(&s, &ana, chats[1].id, Duration::from_secs(1), |c| {
        assignee(c) == Some(bob.id)
    })
    .await;
    assert!(started.elapsed() < Duration::from_secs(1));
    let third = s.conversation(&ana, chats[2].id).await;
    assert_eq!(
        assignee(&third),
        None,
        "Bob is at capacity: the newest waits"
    );
    for conv in [&first, &second] {
        let event = last_event(conv);
        assert_eq!(event["reason"], "lightest_load", "{event}");
        assert_eq!(event["from_queue"], true, "{event}");
        assert!(event["queued_at"].is_string(), "{event}");
        assert_eq!(conv["queued_at"], Value::Null);
    }

    // A chat closing frees a place: the waiting one moves to Bob within a second.
    s.close(&bob, chats[0].id).await;
    until(&s, &ana, chats[2].id, Duration::from_secs(1), |c| {
        assignee(c) == Some(bob.id)
    })
    .await;

    // Unassigned by hand, a chat waits for a claim: the drain does not give it straight back.
    let (status, body) = s
        .set_assignee(&bob, chats[1].id, None, IfAssignee::Any)
        .await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let conv = s.conversation(&ana, chats[1].id).await;
    assert_eq!(
        (assignee(&conv), conv["queued_at"].clone()),
        (None, Value::Null),
        "{conv}"
    );
}

async fn raising_capacity_and_changing_routing_drain_too(s: TestServer) {
    let ana = s.signup("Acme").await;
    set_capacity(&s, &ana, &ana, json!(1)).await;
    let manual = s.widget(&ana, "manual", &[]).await;
    let waiting = handed_over(&s, &manual).await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let first = handed_over(&s, &widget).await;
    let second = handed_over(&s, &widget).await;
    assert_eq!(
        assignee(&s.conversation(&ana, first.id).await),
        Some(ana.id)
    );
    assert_eq!(assignee(&s.conversation(&ana, second.id).await), None);
    set_capacity(&s, &ana, &ana, json!(3)).await;
    until(&s, &ana, second.id, Duration::from_secs(1), |c| {
        assignee(c) == Some(ana.id)
    })
    .await;
    // The manual widget's chat is not queued until its widget routes automatically.
    assert_eq!(assignee(&s.conversation(&ana, waiting.id).await), None);
    let (status, body) = s.set_routing(&ana, manual.id, "round_robin", &[]).await;
    assert_eq!(status, 200, "{body}");
    until(&s, &ana, waiting.id, Duration::from_secs(1), |c| {
        assignee(c) == Some(ana.id)
    })
    .await;

    // A teammate joining is a candidate appearing.
    s.set_availability(&ana, "away").await;
    let queued = handed_over(&s, &widget).await;
    assert_eq!(assignee(&s.conversation(&ana, queued.id).await), None);
    let bob = s.add_operator(&ana, "Bob").await;
    until(&s, &ana, queued.id, Duration::from_secs(1), |c| {
        assignee(c) == Some(bob.id)
    })
    .await;
}

async fn an_unanswered_chat_moves_to_someone_not_yet_given_it(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let routing = json!({"mode": "round_robin", "reassign_after_secs": 1});
    let (status, body) = s.set_routing_with(&ana, widget.id, routing).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["routing"]["reassign_after_secs"], 1);
    let chat = handed_over(&s, &widget).await;
    assert_eq!(assignee(&s.conversation(&ana, chat.id).await), Some(ana.id));
    let moved = until(&s, &ana, chat.id, Duration::from_secs(5), |c| {
        assignee(c) == Some(bob.id)
    })
    .await;
    let event = last_event(&moved);
    assert_eq!(event["reason"], "unanswered", "{event}");
    assert_eq!(
        event["from_operator_id"], ana.id,
        "one event from Ana to Bob"
    );
    let excluded = &event["decision"]["excluded"];
    assert_eq!(
        excluded,
        &json!([{"operator_id": ana.id, "why": "already_given"}])
    );
    // Nobody left who was not given it: it stays with Bob.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let stayed = s.conversation(&ana, chat.id).await;
    assert_eq!(assignee(&stayed), Some(bob.id));
    assert_eq!(stayed["assignment_events"].as_array().unwrap().len(), 2);

    // A reply cancels the timer.
    let answered = handed_over(&s, &widget).await;
    let holder = assignee(&s.conversation(&ana, answered.id).await).unwrap();
    let holder_op = if holder == ana.id { &ana } else { &bob };
    s.reply(holder_op, answered.id, "On it").await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(
        assignee(&s.conversation(&ana, answered.id).await),
        Some(holder)
    );
}

async fn a_silent_chat_closes_itself_and_frees_its_assignee(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let (status, body) = s
        .set_routing_with(
            &ana,
            widget.id,
            json!({"mode": "round_robin", "auto_close_after_secs": 1}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let ai_only = s.start_chat(&widget, "hello").await;
    let chat = handed_over(&s, &widget).await;
    for id in [ai_only.id, chat.id] {
        let closed = until(&s, &ana, id, Duration::from_secs(5), |c| {
            c["status"] == "closed"
        })
        .await;
        let last = closed["messages"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(last["author"], "system");
        assert_eq!(last["body"], "Closed after 1 minute without messages");
    }
    let (_, team) = s.operators(&ana).await;
    assert_eq!(
        team["items"][0]["load"], 0,
        "the closed chat no longer counts"
    );
}

async fn widget_timers_are_validated(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    for bad in [
        json!({"mode": "manual", "reassign_after_secs": 0}),
        json!({"mode": "manual", "reassign_after_secs": 86_401}),
        json!({"mode": "manual", "auto_close_after_secs": 2_592_001}),
        json!({"mode": "manual", "auto_close_after_secs": "soon"}),
    ] {
        let (status, body) = s.set_routing_with(&ana, widget.id, bad.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (_, body) = s.get_widget(&ana, widget.id).await;
    assert_eq!(
        body["routing"]["reassign_after_secs"],
        Value::Null,
        "nothing changed"
    );
    let on = json!({"mode": "manual", "reassign_after_secs": 60, "auto_close_after_secs": 3600});
    let (status, body) = s.set_routing_with(&ana, widget.id, on).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = s
        .set_routing_with(&ana, widget.id, json!({"mode": "manual"}))
        .await;
    assert_eq!(
        body["routing"]["auto_close_after_secs"], 3600,
        "absent = unchanged"
    );
    let off = json!({"mode": "manual", "auto_close_after_secs": null});
    let (_, body) = s.set_routing_with(&ana, widget.id, off).await;
    assert_eq!(body["routing"]["auto_close_after_secs"], Value::Null);
    assert_eq!(body["routing"]["reassign_after_secs"], 60);
}

async fn away_with_hand_back_routes_open_chats_again(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    s.set_availability(&bob, "away").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let chats = [
        handed_over(&s, &widget).await,
        handed_over(&s, &widget).await,
    ];
    s.set_availability(&bob, "available").await;
    let (status, body) = s
        .set_availability_with(&ana, json!({"availability": "away", "hand_back": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    for chat in &chats {
        let conv = s.conversation(&ana, chat.id).await;
        assert_eq!(assignee(&conv), Some(bob.id), "{conv}");
        let event = last_event(&conv);
        assert_eq!(event["reason"], "assignee_away");
        assert_eq!(
            event["from_operator_id"], ana.id,
            "one event from Ana to Bob"
        );
    }
    // With nobody to take it: one event to nobody, and the chat is queued.
    let third = handed_over(&s, &widget).await;
    assert_eq!(
        assignee(&s.conversation(&ana, third.id).await),
        Some(bob.id)
    );
    s.set_availability_with(&bob, json!({"availability": "away", "hand_back": true}))
        .await;
    let conv = s.conversation(&ana, third.id).await;
    assert_eq!(assignee(&conv), None);
    assert!(conv["queued_at"].is_string(), "{conv}");
    let event = last_event(&conv);
    assert_eq!(
        (event["reason"].clone(), event["to_operator_id"].clone()),
        (json!("assignee_away"), Value::Null)
    );
}

async fn presence_follows_the_inbox_tabs(s: TestServer) {
    let ana = s.signup("Acme").await;
    let api_client = s.add_operator(&ana, "Script").await;
    let tab = s.inbox_stream(&ana).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(tab);
    // The grace is 1 s in this test.
    let started = Instant::now();
    loop {
        let (_, me) = s.me(&ana).await;
        if me["availability"] == "away" {
            assert_eq!(me["availability_reason"], "no_open_tab", "{me}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still {me}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "not before the grace"
    );
    let (_, me) = s.me(&api_client).await;
    assert_eq!(
        me["availability"], "available",
        "never had a tab: unaffected"
    );

    let _tab = s.inbox_stream(&ana).await;
    let started = Instant::now();
    loop {
        let (_, me) = s.me(&ana).await;
        if me["availability"] == "available" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3), "still {me}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Away by hand stays Away whatever the tabs do.
    s.set_availability(&ana, "away").await;
    let _second = s.inbox_stream(&ana).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, me) = s.me(&ana).await;
    assert_eq!(
        (
            me["availability"].clone(),
            me["availability_reason"].clone()
        ),
        (json!("away"), json!("manual"))
    );
}

async fn decisions_say_why(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let cy = s.add_operator(&ana, "Cy").await;
    let dee = s.add_operator(&ana, "Dee").await;
    s.set_availability(&cy, "away").await;
    set_capacity(&s, &ana, &bob, json!(1)).await;
    let widget = s
        .widget(&ana, "round_robin", &[ana.id, bob.id, cy.id])
        .await;
    let first = handed_over(&s, &widget).await;
    let event = last_event(&s.conversation(&ana, first.id).await);
    let d = &event["decision"];
    assert_eq!(d["mode"], "round_robin");
    assert_eq!(d["chosen_operator_id"], ana.id);
    assert_eq!(d["rule"], "first in join order");
    assert_eq!(d["cursor_before"], Value::Null);
    assert_eq!(d["cursor_after"], ana.id);
    let second = handed_over(&s, &widget).await;
    let d = last_event(&s.conversation(&ana, second.id).await)["decision"].clone();
    assert_eq!(d["chosen_operator_id"], bob.id);
    assert_eq!(d["rule"], "next after Owner in join order");
    assert_eq!(
        (d["cursor_before"].clone(), d["cursor_after"].clone()),
        (json!(ana.id), json!(bob.id))
    );
    assert_eq!(
        d["excluded"],
        json!([{"operator_id": cy.id, "why": "away"}, {"operator_id": dee.id, "why": "not_eligible"}])
    );
    let ids: Vec<i64> = d["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operator_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [ana.id, bob.id]);
    assert_eq!(d["candidates"][1]["capacity"], 1);
    assert_eq!(d["candidates"][0]["load"], 1);

    let lightest = s
        .widget(&ana, "lightest_load", &[ana.id, bob.id, cy.id])
        .await;
    let third = handed_over(&s, &lightest).await;
    let d = last_event(&s.conversation(&ana, third.id).await)["decision"].clone();
    assert_eq!(d["chosen_operator_id"], ana.id, "Bob is at capacity: {d}");
    assert_eq!(d["rule"], "fewest open chats (1)");
    assert!(
        d["excluded"]
            .as_array()
            .unwrap()
            .contains(&json!({"operator_id": bob.id, "why": "at_capacity"})),
        "{d}"
    );
    // Manual events carry no decision.
    let manual = s.widget(&ana, "manual", &[]).await;
    let fourth = handed_over(&s, &manual).await;
    s.claim(&dee, fourth.id).await;
    assert_eq!(
        last_event(&s.conversation(&ana, fourth.id).await)["decision"],
        Value::Null
    );
}

async fn the_preview_is_what_the_next_handover_does(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let cy = s.add_operator(&ana, "Cy").await;
    s.set_availability(&cy, "away").await;
    for mode in ["round_robin", "lightest_load"] {
        let widget = s.widget(&ana, mode, &[]).await;
        for _ in 0..4 {
            let (status, preview) = s.routing_preview(&bob, widget.id).await;
            assert_eq!(status, 200, "any operator may ask: {preview}");
            let chat = handed_over(&s, &widget).await;
            let decision = last_event(&s.conversation(&ana, chat.id).await)["decision"].clone();
            assert_eq!(preview, decision, "{mode}");
        }
    }
    s.set_availability(&ana, "away").await;
    s.set_availability(&bob, "away").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let (_, preview) = s.routing_preview(&ana, widget.id).await;
    assert_eq!(preview["chosen_operator_id"], Value::Null, "{preview}");
    let other = s.signup("Elsewhere").await;
    let (status, _) = s.routing_preview(&other, widget.id).await;
    assert_eq!(status, 404, "another workspace's widget");
}

async fn visitors_see_their_place_in_line(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    // Five chats routed at once: the widget's estimate is their median wait, zero.
    for _ in 0..5 {
        let chat = handed_over(&s, &widget).await;
        s.close(&ana, chat.id).await;
    }
    s.set_availability(&ana, "away").await;
    let first = handed_over(&s, &widget).await;
    let second = handed_over(&s, &widget).await;
    let mut stream = s.visitor_stream(&widget, &second).await;
    let third = handed_over(&s, &widget).await;
    let (_, view) = s.visitor_view(&widget, &first).await;
    assert_eq!(
        view["queue"],
        json!({"position": 1, "estimated_wait_secs": 0}),
        "{view}"
    );
    let (_, view) = s.visitor_view(&widget, &third).await;
    assert_eq!(view["queue"]["position"], 3, "{view}");

    // Ana takes one chat at a time: the line moves up by one, and the visitor is told.
    set_capacity(&s, &ana, &ana, json!(1)).await;
    s.set_availability(&ana, "available").await;
    let changed = stream.next_of("queue.changed").await;
    assert_eq!(changed["conversation_id"], second.id);
    assert_eq!(changed["queue"]["position"], 1, "{changed}");
    let (_, view) = s.visitor_view(&widget, &first).await;
    assert_eq!(
        view["queue"],
        Value::Null,
        "routed: out of the queue: {view}"
    );
    let (_, view) = s.visitor_view(&widget, &third).await;
    assert_eq!(view["queue"]["position"], 2, "{view}");

    s.close(&ana, first.id).await;
    let changed = stream.next_of("queue.changed").await;
    assert_eq!(changed["queue"], Value::Null, "its turn came: {changed}");
}

on_both!(
    capacity_limits_both_auto_modes_but_not_claims_or_picks,
    the_queue_drains_oldest_first_when_someone_turns_available,
    raising_capacity_and_changing_routing_drain_too,
    an_unanswered_chat_moves_to_someone_not_yet_given_it,
    a_silent_chat_closes_itself_and_frees_its_assignee,
    widget_timers_are_validated,
    away_with_hand_back_routes_open_chats_again,
    decisions_say_why,
    the_preview_is_what_the_next_handover_does,
    visitors_see_their_place_in_line,
);

/// A tab open when the server stops is a tab closed: after the restart, the grace runs out.
async fn a_tab_closed_by_a_restart_counts(s: TestServer) {
    let ana = s.signup("Acme").await;
    let _tab = s.inbox_stream(&ana).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let s = s.restart(|c| c.presence_grace_secs = 1).await;
    let started = Instant::now();
    loop {
        let (_, me) = s.me(&ana).await;
        if me["availability"] == "away" {
            assert_eq!(me["availability_reason"], "no_open_tab", "{me}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still {me}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Presence needs a short grace: each database with `--presence-grace-secs 1`.
mod presence_grace {
    use super::*;

    async fn start(db: Db) -> Option<TestServer> {
        TestServer::start_with(db, |c| c.presence_grace_secs = 1).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        if let Some(s) = start(Db::Sqlite).await {
            presence_follows_the_inbox_tabs(s).await;
        }
        if let Some(s) = start(Db::Sqlite).await {
            a_tab_closed_by_a_restart_counts(s).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(s) = start(Db::Postgres).await {
            presence_follows_the_inbox_tabs(s).await;
        }
        if let Some(s) = start(Db::Postgres).await {
            a_tab_closed_by_a_restart_counts(s).await;
        }
    }
}

/// Each teammate's load, as the database keeps it for routing (`operators.open_load`) and as
/// counted from their open chats, by operator id.
async fn loads_kept_and_counted(s: &TestServer) -> Vec<(i64, i64, i64)> {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(s.database_url())
        .await
        .unwrap();
    let rows = sqlx::query_as(
        "SELECT o.id, o.open_load, (SELECT COUNT(*) FROM conversations c \
         WHERE c.assignee_id = o.id AND c.status IN ('active', 'handed_off')) \
         FROM operators o ORDER BY o.id",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    db.close().await.unwrap();
    rows
}

/// The load routing reads is kept by the database as chats change hands and status; whatever
/// happens to the chats, it is each teammate's count of open chats, and the team list says so.
async fn loads_follow_every_change_of_hands_and_status(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "lightest_load", &[]).await;
    let mut chats = Vec::new();
    for _ in 0..6 {
        chats.push(handed_over(&s, &widget).await);
    }
    let ok = |(status, body): (u16, Value)| assert_eq!(status, 200, "{body}");
    ok(s.claim(&bob, chats[0].id).await);
    ok(
        s.set_assignee(&ana, chats[1].id, Some(ana.id), IfAssignee::Any)
            .await,
    );
    ok(s.set_assignee(&ana, chats[2].id, None, IfAssignee::Any)
        .await);
    ok(s.close(&ana, chats[3].id).await);
    ok(s.close(&ana, chats[4].id).await);
    ok(s.reopen(&ana, chats[4].id).await);
    let (status, body) = s.visitor_says(&widget, &chats[3], "one more thing").await;
    assert!(status < 300, "{body}");
    ok(
        s.set_availability_with(&bob, json!({"availability": "away", "hand_back": true}))
            .await,
    );

    let rows = loads_kept_and_counted(&s).await;
    assert!(rows.iter().any(|(_, _, counted)| *counted > 0), "{rows:?}");
    for (id, kept, counted) in &rows {
        assert_eq!(
            kept, counted,
            "operator {id}: kept {kept}, counted {counted}"
        );
    }
    let (status, team) = s.operators(&ana).await;
    assert_eq!(status, 200, "{team}");
    for (id, _, counted) in rows {
        let member = team["items"]
            .as_array()
            .and_then(|all| all.iter().find(|o| o["id"] == id).cloned())
            .unwrap_or(Value::Null);
        assert_eq!(member["load"], json!(counted), "operator {id} in {team}");
    }
}
on_both!(loads_follow_every_change_of_hands_and_status);

/// A deadline that came due while the server was down fires when it starts again.
async fn a_timer_due_during_a_restart_fires_after_it(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let routing = json!({"mode": "round_robin", "reassign_after_secs": 2});
    s.set_routing_with(&ana, widget.id, routing).await;
    let chat = handed_over(&s, &widget).await;
    assert_eq!(assignee(&s.conversation(&ana, chat.id).await), Some(ana.id));
    // Down longer than the deadline (the wait runs after the stop, before the start): it is
    // due when the server comes back.
    let s = s
        .restart(|_| std::thread::sleep(Duration::from_millis(2500)))
        .await;
    let moved = until(&s, &ana, chat.id, Duration::from_secs(2), |c| {
        assignee(c) == Some(bob.id)
    })
    .await;
    assert_eq!(
        moved["assignment_events"].as_array().unwrap().len(),
        2,
        "fired once"
    );
}

on_both!(a_timer_due_during_a_restart_fires_after_it);

/// 200 handovers at once, over two nodes on one PostgreSQL, to a team whose capacities add up
/// to fewer: nobody goes over capacity, no chat is routed twice, the rest wait in the queue;
/// raising the capacities drains it, each chat still routed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_holds_under_concurrent_handovers_across_two_nodes() {
    use futures_util::{StreamExt, stream};

    use crate::common::{Node, TestDb};
    use crate::races::team;

    const HANDOVERS: usize = 200;
    const CAPACITY: i64 = 40;
    let Some(db) = TestDb::create(Db::Postgres).await else {
        return;
    };
    let (a, b) = tokio::join!(Node::spawn(&db.url), Node::spawn(&db.url));
    let nodes = [a.api.clone(), b.api.clone()];
    let owner = nodes[0].signup("Acme").await;
    let ops = team(&nodes[1], &owner, 4).await;
    for op in &ops {
        let change = json!({"capacity": CAPACITY});
        let (status, body) = nodes[0].update_operator(&owner, op.id, change).await;
        assert_eq!(status, 200, "{body}");
    }
    let widget = nodes[0].widget(&owner, "lightest_load", &[]).await;
    let chats: Vec<Chat> = stream::iter(0..HANDOVERS)
        .map(|i| {
            let api = nodes[i % 2].clone();
            let widget = widget.clone();
            async move { api.open_chat(&widget, "hello").await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let requests = chats.iter().enumerate().map(|(i, chat)| {
        let (api, widget, chat) = (nodes[i % 2].clone(), widget.clone(), chat.clone());
        tokio::spawn(async move {
            loop {
                let (status, body) = api.try_handover(&widget, &chat).await;
                match status {
                    200 => return,
                    503 => tokio::time::sleep(Duration::from_millis(200)).await,
                    _ => panic!("handover: {status} {body}"),
                }
            }
        })
    });
    for request in futures_util::future::join_all(requests).await {
        request.expect("handover");
    }
    let routed_once = |conv: &Value| {
        let to: Vec<&Value> = conv["assignment_events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["to_operator_id"].is_i64())
            .collect();
        assert!(to.len() <= 1, "routed more than once: {conv}");
        to.len()
    };
    let check = |expected_routed: usize| {
        let nodes = nodes.clone();
        let (owner, chats) = (owner.clone(), chats.clone());
        async move {
            let convs: Vec<Value> = stream::iter(&chats)
                .map(|chat| nodes[0].conversation(&owner, chat.id))
                .buffer_unordered(32)
                .collect()
                .await;
            let routed: usize = convs.iter().map(routed_once).sum();
            assert_eq!(routed, expected_routed);
            let (_, team) = nodes[1].operators(&owner).await;
            for op in team["items"].as_array().unwrap() {
                assert!(
                    op["load"].as_i64().unwrap() <= op["capacity"].as_i64().unwrap(),
                    "{op}"
                );
            }
        }
    };
    check(ops.len() * CAPACITY as usize).await;
    for op in &ops {
        let change = json!({"capacity": 100});
        nodes[(op.id % 2) as usize]
            .update_operator(&owner, op.id, change)
            .await;
    }
    check(HANDOVERS).await;
    drop((a, b));
}
