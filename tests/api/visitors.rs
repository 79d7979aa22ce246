//! The public widget endpoints and the AI stage.

use reqwest::Method;
use serde_json::json;

use crate::common::{TestServer, paths};
use crate::on_both;

async fn a_visitor_chats_with_the_ai_then_a_person(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let chat = s
        .start_chat(&widget, "<script>alert(1)</script> do you ship abroad?")
        .await;
    let (status, view) = s.visitor_view(&widget, &chat).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "active");
    assert_eq!(
        view["messages"][0]["body"], "<script>alert(1)</script> do you ship abroad?",
        "stored as written"
    );
    assert_eq!(view["messages"][1]["author"], "ai", "the AI answered");
    assert_eq!(view["assignee_name"], json!(null));

    let view = s.handover(&widget, &chat).await;
    assert_eq!(view["status"], "handed_off");
    assert_eq!(view["assignee_name"], "Owner");
    let again = s.handover(&widget, &chat).await;
    assert_eq!(
        again["messages"], view["messages"],
        "a second press changes nothing"
    );

    s.reply(&ana, chat.id, "Hi! Ana here.").await;
    let (_, view) = s.visitor_view(&widget, &chat).await;
    let last = view["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["author"], "operator");
    assert_eq!(last["operator_name"], "Owner");
    assert!(
        last.get("email").is_none() && !view.to_string().contains("@"),
        "no teammate emails leak to visitors"
    );
}

async fn a_returning_visitor_keeps_their_token(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let first = s.start_chat(&widget, "first").await;
    let (status, second) = s
        .visitor_start(
            &widget,
            json!({"body": "second", "visitor_token": first.token}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(second["visitor_token"], first.token.as_str());
    let (status, _) = s
        .visitor_start(&widget, json!({"body": "x", "visitor_token": "forged"}))
        .await;
    assert_eq!(
        status, 401,
        "an unknown token is refused, not silently replaced"
    );
}

async fn visitors_only_reach_their_own_chats(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let other_widget = s.widget(&ana, "manual", &[]).await;
    let mine = s.start_chat(&widget, "mine").await;
    let theirs = s.start_chat(&widget, "theirs").await;
    let stolen = crate::common::Chat {
        id: theirs.id,
        token: mine.token.clone(),
    };
    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::POST, "/messages", Some(json!({"body": "hi"}))),
        (Method::POST, "/handover", None),
    ] {
        let (status, _) = s
            .visitor(&widget, &stolen, method.clone(), suffix, body.clone())
            .await;
        assert_eq!(status, 404, "{method} {suffix}");
        let (status, _) = s
            .visitor(&other_widget, &mine, method.clone(), suffix, body)
            .await;
        assert_eq!(status, 404, "token of another widget: {method} {suffix}");
    }
    let (status, _) = s
        .call(
            Method::GET,
            &paths::visitor_chat(&widget.key, mine.id),
            None,
            None,
        )
        .await;
    assert_eq!(status, 404, "no token");
    let (status, _) = s
        .call(
            Method::POST,
            &paths::visitor_chats("wk_unknown"),
            None,
            Some(json!({"body": "hi"})),
        )
        .await;
    assert_eq!(status, 404, "unknown widget key");
    let conv = s.conversation(&ana, theirs.id).await;
    assert_eq!(
        conv["messages"].as_array().unwrap().len(),
        2,
        "nothing was added to theirs"
    );
}

async fn visitor_input_is_validated(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    for body in [
        json!({}),
        json!({"body": ""}),
        json!({"body": "   "}),
        json!({"body": 42}),
        json!({"body": "x".repeat(10_001)}),
    ] {
        let (status, resp) = s.visitor_start(&widget, body.clone()).await;
        assert_eq!(status, 400, "{body}: {resp}");
        assert!(resp["error"]["message"].as_str().is_some());
    }
    let (status, _) = s
        .visitor_start(&widget, json!({"body": "é".repeat(10_000)}))
        .await;
    assert_eq!(status, 201, "10,000 characters fit");
}

/// A visitor's message committed by a process that stopped before the AI's turn (played
/// here by writing the message straight into the database): the next start gives the AI that
/// turn, so the chat is not left unanswered; an answered chat gets no second answer.
async fn the_ai_turn_owed_before_a_restart_is_taken_after_it(s: TestServer) {
    use sqlx::Connection;
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let waiting = s.start_chat(&widget, "do you ship abroad?").await;
    let answered = s.start_chat(&widget, "what are your hours?").await;
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(s.database_url())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO messages (conversation_id, author, body, created_at) VALUES ($1, 'visitor', 'hello? anyone?', 1)",
    )
    .bind(waiting.id)
    .execute(&mut db)
    .await
    .unwrap();
    db.close().await.unwrap();

    let s = s.restart(|_| {}).await;
    let view = s
        .visitor_view_until(&widget, &waiting, "the owed turn", |view| {
            view["messages"].as_array().is_some_and(|m| m.len() >= 4)
        })
        .await;
    let last = &view["messages"][3];
    assert!(
        last["author"] == "ai" || last["author"] == "system",
        "the AI answered or handed over: {view}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, view) = s.visitor_view(&widget, &waiting).await;
    assert_eq!(
        view["messages"].as_array().unwrap().len(),
        4,
        "one answer: {view}"
    );
    let (_, view) = s.visitor_view(&widget, &answered).await;
    assert_eq!(
        view["messages"].as_array().unwrap().len(),
        2,
        "no second answer: {view}"
    );
}

on_both!(
    a_visitor_chats_with_the_ai_then_a_person,
    the_ai_turn_owed_before_a_restart_is_taken_after_it,
    a_returning_visitor_keeps_their_token,
    visitors_only_reach_their_own_chats,
    visitor_input_is_validated,
);
