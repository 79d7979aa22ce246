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

const CHROME_ON_MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/// A visitor's record after a chat: the page, where they came from, their browser, first and
/// last seen; the page follows the widget's reports.
async fn the_visitor_record_says_where_and_when(s: TestServer) {
    use sqlx::Connection;
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let start = json!({"body": "do these boots come in 44?",
        "page": {"url": "https://shop.test/boots?size=44", "referrer": "https://search.test/?q=boots"}});
    let (status, started) = s.visitor_start_from(&widget, start, CHROME_ON_MAC).await;
    assert_eq!(status, 201, "{started}");
    let chat = crate::common::Chat {
        id: started["conversation_id"].as_i64().unwrap(),
        token: started["visitor_token"].as_str().unwrap().to_owned(),
    };
    let conv = s.conversation(&ana, chat.id).await;
    let id = conv["visitor_id"].as_i64().unwrap();
    let (status, record) = s.visitor_record(&ana, id).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["current_url"], "https://shop.test/boots?size=44");
    assert_eq!(record["referrer"], "https://search.test/?q=boots");
    assert_eq!(record["user_agent"], CHROME_ON_MAC);
    assert_eq!(record["browser"], "Chrome 126 on macOS");
    assert_eq!(record["verified"], false);
    assert_eq!(record["name"], json!(null));
    assert_eq!(record["first_seen_at"], record["last_seen_at"]);
    assert_eq!(record["first_seen_at"], conv["created_at"]);
    assert_eq!(record["conversations"][0]["id"], chat.id);
    assert_eq!(record["conversations"][0]["status"], "active");
    assert_eq!(conv["visitor"]["display_name"], record["display_name"]);

    // A new page within the minute: written at once; the referrer is kept when none is sent.
    let (status, body) = s
        .report_page(&widget, &chat.token, "https://shop.test/checkout", None)
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, record) = s.visitor_record(&ana, id).await;
    assert_eq!(record["current_url"], "https://shop.test/checkout");
    assert_eq!(record["referrer"], "https://search.test/?q=boots");

    // Last seen moves with the visitor's requests, but at most once a minute: played by
    // moving the stored time back two minutes.
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(s.database_url())
        .await
        .unwrap();
    sqlx::query("UPDATE visitors SET last_seen_at = last_seen_at - 120000, first_seen_at = first_seen_at - 120000 WHERE id = $1")
        .bind(id)
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    let (_, stale) = s.visitor_record(&ana, id).await;
    s.visitor_view(&widget, &chat).await;
    let (_, fresh) = s.visitor_record(&ana, id).await;
    assert!(
        fresh["last_seen_at"].as_str() > stale["last_seen_at"].as_str(),
        "{stale} then {fresh}"
    );
    assert_eq!(fresh["first_seen_at"], stale["first_seen_at"]);
    s.visitor_view(&widget, &chat).await;
    let (_, again) = s.visitor_record(&ana, id).await;
    assert_eq!(
        again["last_seen_at"], fresh["last_seen_at"],
        "not a write per poll"
    );

    for (url, referrer) in [
        ("javascript:alert(1)", None),
        ("shop.test/page", None),
        ("https://shop.test/ok", Some("data:text/html,hi")),
    ] {
        let (status, body) = s.report_page(&widget, &chat.token, url, referrer).await;
        assert_eq!(status, 400, "{url}: {body}");
    }
    let long = format!("https://shop.test/{}", "a".repeat(2_048));
    let (status, _) = s.report_page(&widget, &chat.token, &long, None).await;
    assert_eq!(status, 400, "longer than 2,048 characters");
    let (status, _) = s
        .visitor_start(&widget, json!({"body": "hi", "page": {"url": long}}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = s
        .report_page(&widget, "made-up", "https://shop.test/", None)
        .await;
    assert_eq!(status, 401);
    let (_, record) = s.visitor_record(&ana, id).await;
    assert_eq!(
        record["current_url"], "https://shop.test/checkout",
        "unchanged"
    );
}

/// "Talk to a person" before the first message: the chat goes to the team, the AI stays out.
async fn a_visitor_may_ask_for_a_person_from_the_start(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    let (status, started) = s
        .visitor_start(
            &widget,
            json!({"body": "my order is wrong", "handover": true}),
        )
        .await;
    assert_eq!(status, 201, "{started}");
    let chat = crate::common::Chat {
        id: started["conversation_id"].as_i64().unwrap(),
        token: started["visitor_token"].as_str().unwrap().to_owned(),
    };
    let (_, view) = s.visitor_view(&widget, &chat).await;
    assert_eq!(view["status"], "handed_off", "{view}");
    assert_eq!(view["assignee_name"], "Owner");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (_, view) = s.visitor_view(&widget, &chat).await;
    let authors: Vec<&str> = view["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author"].as_str().unwrap())
        .collect();
    assert_eq!(authors, ["visitor", "system"], "no AI answer: {view}");
}

/// The widget's greeting: a default until a manager writes one; public, like the key.
async fn the_widget_greets_visitors(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let (status, public) = s.public_widget(&widget).await;
    assert_eq!(status, 200, "{public}");
    let default = public["greeting"].as_str().unwrap().to_owned();
    assert!(!default.is_empty());
    assert_eq!(
        public.as_object().unwrap().len(),
        1,
        "only the greeting: {public}"
    );

    let (status, saved) = s
        .update_widget(
            &ana,
            widget.id,
            json!({"greeting": "  Hello from Acme!\nAsk away.  "}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["greeting"], "Hello from Acme!\nAsk away.");
    assert_eq!(saved["name"], "Website", "left as it was");
    let (_, public) = s.public_widget(&widget).await;
    assert_eq!(public["greeting"], "Hello from Acme!\nAsk away.");

    let (status, saved) = s
        .update_widget(&ana, widget.id, json!({"name": "Shop"}))
        .await;
    assert_eq!((status, &saved["name"]), (200, &json!("Shop")));
    assert_eq!(
        saved["greeting"], "Hello from Acme!\nAsk away.",
        "left as it was"
    );
    let (_, saved) = s
        .update_widget(&ana, widget.id, json!({"greeting": null}))
        .await;
    assert_eq!(
        saved["greeting"],
        default.as_str(),
        "null puts the default back"
    );

    for bad in [
        json!({"greeting": " "}),
        json!({"greeting": "x".repeat(501)}),
        json!({"name": ""}),
    ] {
        let (status, _) = s.update_widget(&ana, widget.id, bad.clone()).await;
        assert_eq!(status, 400, "{bad}");
    }
    let (status, _) = s
        .update_widget(&bob, widget.id, json!({"greeting": "hi"}))
        .await;
    assert_eq!(status, 403, "owners and admins only");
    let other = s.signup("Other").await;
    let (status, _) = s
        .update_widget(&other, widget.id, json!({"greeting": "hi"}))
        .await;
    assert_eq!(status, 404);
    let (status, _) = s
        .call(Method::GET, &paths::public_widget("wk_unknown"), None, None)
        .await;
    assert_eq!(status, 404);
}

on_both!(
    the_visitor_record_says_where_and_when,
    a_visitor_may_ask_for_a_person_from_the_start,
    the_widget_greets_visitors,
    a_visitor_chats_with_the_ai_then_a_person,
    the_ai_turn_owed_before_a_restart_is_taken_after_it,
    a_returning_visitor_keeps_their_token,
    visitors_only_reach_their_own_chats,
    visitor_input_is_validated,
);
