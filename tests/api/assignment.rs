//! Every manual assignment path (SPEC section 2), presence (section 4) and the assignment log.

use serde_json::{Value, json};

use crate::common::{Chat, IfAssignee, Op, TestServer, Widget, paths};
use crate::on_both;

async fn handed_off_unassigned(s: &TestServer, admin: &Op) -> (Widget, Chat) {
    let widget = s.widget(admin, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    s.handover(&widget, &chat).await;
    (widget, chat)
}

fn events(conv: &Value) -> Vec<(Value, Value, String, Value)> {
    conv["assignment_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["at"].as_str().is_some_and(|t| t.ends_with('Z')), "{e}");
            (
                e["from_operator_id"].clone(),
                e["to_operator_id"].clone(),
                e["reason"].as_str().unwrap().to_owned(),
                e["actor_id"].clone(),
            )
        })
        .collect()
}

async fn reply_self_claims_only_unassigned_chats_and_stops_the_ai(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;

    let (status, msg) = s.reply(&bob, chat.id, "Hi, Bob here").await;
    assert_eq!(status, 201, "{msg}");
    assert_eq!(msg["author"], "operator");
    assert_eq!(msg["operator_id"], bob.id);
    let conv = s.conversation(&ana, chat.id).await;
    assert_eq!(
        conv["assignee_id"], bob.id,
        "reply claims an unassigned chat"
    );
    assert_eq!(conv["status"], "handed_off", "any reply stops the AI");

    let (status, _) = s.reply(&ana, chat.id, "Ana chiming in").await;
    assert_eq!(status, 201);
    let conv = s.conversation(&ana, chat.id).await;
    assert_eq!(
        conv["assignee_id"], bob.id,
        "replying to someone else's chat keeps its assignee"
    );
    assert_eq!(
        events(&conv),
        vec![(json!(null), json!(bob.id), "reply".into(), json!(bob.id))]
    );

    // The AI stays silent on a handed-off chat.
    let (status, _) = s.visitor_says(&widget, &chat, "thanks").await;
    assert_eq!(status, 201);
    let conv = s.conversation(&ana, chat.id).await;
    let authors: Vec<&str> = conv["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author"].as_str().unwrap())
        .collect();
    assert_eq!(
        authors,
        vec!["visitor", "ai", "operator", "operator", "visitor"]
    );
}

async fn claim_with_and_without_precondition(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let (_, chat) = handed_off_unassigned(&s, &ana).await;

    let (status, conv) = s.claim_if(&ana, chat.id, IfAssignee::Nobody).await;
    assert_eq!(status, 200, "{conv}");
    assert_eq!(conv["assignee_id"], ana.id);
    assert_eq!(conv["assignee"]["name"], "Owner");

    let (status, err) = s.claim_if(&bob, chat.id, IfAssignee::Nobody).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"]["code"], "assignee_changed");
    assert_eq!(err["error"]["current_assignee_id"], ana.id);
    assert_eq!(err["error"]["current_assignee"]["id"], ana.id);

    let (status, conv) = s.claim_if(&bob, chat.id, IfAssignee::Is(ana.id)).await;
    assert_eq!(
        status, 200,
        "a matching precondition lets Bob take it over: {conv}"
    );
    assert_eq!(conv["assignee_id"], bob.id);

    // Without a precondition a claim is unconditional; with no body at all too.
    let (status, conv) = s
        .call(
            reqwest::Method::POST,
            &paths::conversation_action(chat.id, "claim"),
            Some(&ana.token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{conv}");
    assert_eq!(conv["assignee_id"], ana.id);
    let (status, conv) = s.claim(&ana, chat.id).await;
    assert_eq!(status, 200, "claiming your own chat is a no-op");
    assert_eq!(conv["assignee_id"], ana.id);

    let conv = s.conversation(&ana, chat.id).await;
    assert_eq!(
        events(&conv),
        vec![
            (json!(null), json!(ana.id), "claim".into(), json!(ana.id)),
            (json!(ana.id), json!(bob.id), "claim".into(), json!(bob.id)),
            (json!(bob.id), json!(ana.id), "claim".into(), json!(ana.id)),
        ]
    );
}

async fn claiming_an_ai_chat_stops_the_ai(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    let (status, conv) = s.claim(&ana, chat.id).await;
    assert_eq!(status, 200);
    assert_eq!(conv["status"], "handed_off");
}

async fn pick_a_teammate_and_unassign(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let other = s.signup("Other").await;
    let (_, chat) = handed_off_unassigned(&s, &ana).await;

    s.set_availability(&bob, "away").await;
    let (status, conv) = s
        .set_assignee(&ana, chat.id, Some(bob.id), IfAssignee::Any)
        .await;
    assert_eq!(status, 200, "assigning an away teammate works: {conv}");
    assert_eq!(conv["assignee_id"], bob.id);
    assert_eq!(conv["assignee"]["availability"], "away");

    let (status, err) = s
        .set_assignee(&ana, chat.id, Some(ana.id), IfAssignee::Nobody)
        .await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["current_assignee_id"], bob.id);

    let (status, _) = s
        .set_assignee(&ana, chat.id, Some(other.id), IfAssignee::Any)
        .await;
    assert_eq!(status, 404, "another workspace's operator is not found");
    let (status, _) = s
        .set_assignee(&ana, chat.id, Some(9_999_999), IfAssignee::Any)
        .await;
    assert_eq!(status, 404);
    let (status, err) = s
        .put(
            &ana,
            &paths::conversation_action(chat.id, "assignee"),
            json!({}),
        )
        .await;
    assert_eq!(status, 400, "operator_id is required: {err}");

    let (status, conv) = s
        .set_assignee(&ana, chat.id, None, IfAssignee::Is(bob.id))
        .await;
    assert_eq!(status, 200);
    assert_eq!(conv["assignee_id"], json!(null));
    assert_eq!(
        conv["status"], "handed_off",
        "unassigned chats wait in the queue"
    );
    let (_, queue) = s.conversations(&ana, "?view=unassigned").await;
    assert_eq!(queue["items"][0]["id"], chat.id);

    let conv = s.conversation(&ana, chat.id).await;
    assert_eq!(
        events(&conv),
        vec![
            (json!(null), json!(bob.id), "manual".into(), json!(ana.id)),
            (json!(bob.id), json!(null), "unassign".into(), json!(ana.id)),
        ]
    );
}

async fn close_and_reopen_by_visitor_keeps_an_available_assignee(s: TestServer) {
    let ana = s.signup("Acme").await;
    let (widget, chat) = handed_off_unassigned(&s, &ana).await;
    s.claim(&ana, chat.id).await;
    let (status, conv) = s.close(&ana, chat.id).await;
    assert_eq!(status, 200);
    assert_eq!(conv["status"], "closed");
    let (status, _) = s.visitor_says(&widget, &chat, "One more thing").await;
    assert_eq!(status, 201);
    let conv = s.conversation(&ana, chat.id).await;
    assert_eq!(conv["status"], "handed_off");
    assert_eq!(conv["assignee_id"], ana.id);
    assert_eq!(events(&conv).len(), 1, "no assignment change");
}

async fn reopen_by_visitor_reroutes_away_from_an_away_assignee(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    s.handover(&widget, &chat).await;
    assert_eq!(s.conversation(&ana, chat.id).await["assignee_id"], ana.id);
    s.close(&ana, chat.id).await;
    s.set_availability(&ana, "away").await;
    s.visitor_says(&widget, &chat, "Hello again").await;
    let conv = s.conversation(&bob, chat.id).await;
    assert_eq!(conv["status"], "handed_off");
    assert_eq!(conv["assignee_id"], bob.id);
    assert_eq!(
        events(&conv),
        vec![
            (
                json!(null),
                json!(ana.id),
                "round_robin".into(),
                json!(null)
            ),
            (
                json!(ana.id),
                json!(null),
                "assignee_away".into(),
                json!(null)
            ),
            (
                json!(null),
                json!(bob.id),
                "round_robin".into(),
                json!(null)
            ),
        ]
    );

    // In manual mode the reopened chat waits unassigned.
    let manual = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&manual, "hi").await;
    s.claim(&ana, chat.id).await;
    s.close(&ana, chat.id).await;
    s.visitor_says(&manual, &chat, "Back again").await;
    let conv = s.conversation(&bob, chat.id).await;
    assert_eq!(conv["assignee_id"], json!(null));
    assert_eq!(conv["waiting_reason"], "manual_mode");
}

async fn operator_reopen_keeps_the_assignee(s: TestServer) {
    let ana = s.signup("Acme").await;
    let (_, chat) = handed_off_unassigned(&s, &ana).await;
    s.claim(&ana, chat.id).await;
    s.close(&ana, chat.id).await;
    let (status, conv) = s.reopen(&ana, chat.id).await;
    assert_eq!(status, 200);
    assert_eq!(conv["status"], "handed_off");
    assert_eq!(conv["assignee_id"], ana.id);
    let (status, body) = s.takeover(&ana, chat.id).await;
    assert_eq!(status, 409, "{body}");
}

async fn presence_is_persisted_and_listed(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let (_, me) = s.me(&bob).await;
    assert_eq!(
        me["availability"], "available",
        "new operators start available"
    );
    assert_eq!(me["role"], "operator");
    s.set_availability(&bob, "away").await;
    let (_, me) = s.me(&bob).await;
    assert_eq!(me["availability"], "away");
    let (status, _) = s
        .put(&bob, paths::AVAILABILITY, json!({"availability": "busy"}))
        .await;
    assert_eq!(status, 400);
    let (_, ops) = s.operators(&ana).await;
    let items = ops["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["id"], bob.id);
    assert_eq!(items[1]["availability"], "away");
    assert_eq!(items[1]["load"], 0);
}

async fn inbox_views_filters_and_pages(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(s.start_chat(&widget, &format!("chat {i}")).await.id);
    }
    s.claim(&ana, ids[0]).await;
    s.claim(&bob, ids[1]).await;
    s.close(&ana, ids[2]).await;

    let list = |q: &'static str| {
        let s = &s;
        let ana = &ana;
        async move {
            let (status, body) = s.conversations(ana, q).await;
            assert_eq!(status, 200, "{q}: {body}");
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("?view=mine").await, vec![ids[0]]);
    // The two chats the AI still answers wait for nobody: they are in the AI view (SPEC 12).
    assert_eq!(list("?view=unassigned").await, vec![ids[2]]);
    assert_eq!(
        list("?view=unassigned&status=open").await,
        Vec::<i64>::new()
    );
    assert_eq!(list("?view=ai").await, vec![ids[4], ids[3]]);
    assert_eq!(list("?status=closed").await, vec![ids[2]]);
    assert_eq!(list("").await.len(), 5);
    assert_eq!(list("?view=all&status=active,handed_off").await.len(), 4);

    let (_, rows) = s.conversations(&ana, "").await;
    let row = rows["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == ids[1])
        .unwrap();
    assert_eq!(
        row["assignee"]["id"], bob.id,
        "every row carries its assignee"
    );
    assert!(row["last_message_at"].as_str().is_some());

    let (_, page1) = s.conversations(&ana, "?limit=2").await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let mut seen: Vec<i64> = page1["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    let mut cursor = page1["next_cursor"].as_str().unwrap().to_owned();
    loop {
        let (_, page) = s
            .conversations(&ana, &format!("?limit=2&cursor={cursor}"))
            .await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "pages cover every row once");

    for bad in [
        "?view=theirs",
        "?status=open,paused",
        "?limit=0",
        "?limit=1000",
        "?cursor=nonsense",
    ] {
        let (status, body) = s.conversations(&ana, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

on_both!(
    reply_self_claims_only_unassigned_chats_and_stops_the_ai,
    claim_with_and_without_precondition,
    claiming_an_ai_chat_stops_the_ai,
    pick_a_teammate_and_unassign,
    close_and_reopen_by_visitor_keeps_an_available_assignee,
    reopen_by_visitor_reroutes_away_from_an_away_assignee,
    operator_reopen_keeps_the_assignee,
    presence_is_persisted_and_listed,
    inbox_views_filters_and_pages,
);
