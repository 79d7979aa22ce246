//! The embeddable widget's server side: the knowledge base the built-in AI answers from,
//! allowed origins and CORS, rate limits, and the OpenAI-compatible provider against a
//! loopback server that speaks that protocol.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Db, TestServer, paths};
use crate::fake_ai::{FakeProvider, text};
use crate::on_both;

async fn the_ai_answers_from_the_knowledge_base_and_hands_over_after_two_misses(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "round_robin", &[ana.id]).await;
    let (status, article) = s
        .add_article(
            &ana,
            widget.id,
            "How do refunds work?",
            "Refunds reach your card in 5 days.",
        )
        .await;
    assert_eq!(status, 201, "{article}");
    let (status, _) = s.add_article(&bob, widget.id, "q", "a").await;
    assert_eq!(
        status, 403,
        "only owners and admins edit the knowledge base"
    );
    let (status, _) = s.add_article(&ana, widget.id, "", "a").await;
    assert_eq!(status, 400);
    let (_, list) = s.articles(&bob, widget.id).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "everyone can read it"
    );

    let chat = s.start_chat(&widget, "hi, how long do refunds take?").await;
    let view = s
        .visitor_view_until(&widget, &chat, "the answer", |v| {
            v["messages"].as_array().unwrap().len() >= 2
        })
        .await;
    assert_eq!(view["messages"][1]["author"], "ai");
    assert_eq!(
        view["messages"][1]["body"],
        "Refunds reach your card in 5 days."
    );
    assert_eq!(view["status"], "active");

    s.visitor_says(&widget, &chat, "what is the meaning of life?")
        .await;
    let view = s
        .visitor_view_until(&widget, &chat, "a miss", |v| {
            v["messages"].as_array().unwrap().len() >= 4
        })
        .await;
    assert_eq!(view["status"], "active", "one miss asks again");
    s.visitor_says(&widget, &chat, "and the universe?").await;
    let view = s
        .visitor_view_until(&widget, &chat, "the handover", |v| {
            v["status"] == "handed_off"
        })
        .await;
    assert_eq!(
        view["assignee_name"], "Owner",
        "routed after two misses in a row"
    );

    // Once handed off, the AI stays silent.
    s.visitor_says(&widget, &chat, "hello?").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let conv = s.conversation(&ana, chat.id).await;
    let last = conv["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["author"], "visitor");

    let id = article["id"].as_i64().unwrap();
    let (status, updated) = s
        .update_article(&ana, widget.id, id, "Refunds?", "Within a week.")
        .await;
    assert_eq!(
        (status, updated["answer"].clone()),
        (200, json!("Within a week."))
    );
    let other = s.signup("Other").await;
    let (status, _) = s.articles(&other, widget.id).await;
    assert_eq!(status, 404, "another workspace's widget");
    let (status, _) = s.delete_article(&ana, widget.id, id).await;
    assert_eq!(status, 204);
    let (status, _) = s.delete_article(&ana, widget.id, id).await;
    assert_eq!(status, 404);
}

async fn only_allowed_origins_may_use_the_widget(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let (status, _) = s
        .set_allowed_origins(&ana, widget.id, &["not an origin"])
        .await;
    assert_eq!(status, 400);
    let (status, saved) = s
        .set_allowed_origins(&ana, widget.id, &["https://Shop.Example/"])
        .await;
    assert_eq!(status, 200);
    assert_eq!(saved["allowed_origins"], json!(["https://shop.example"]));

    let start = s.url(&paths::visitor_chats(&widget.key));
    let from = |origin: &str| {
        s.client
            .post(&start)
            .header("origin", origin)
            .json(&json!({"body": "hi"}))
            .send()
    };
    let allowed = from("https://shop.example").await.unwrap();
    assert_eq!(allowed.status(), 201);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let refused = from("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(
        refused.headers()["access-control-allow-origin"],
        "https://evil.example",
        "so the page can read why"
    );
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed");
    let preflight = s
        .client
        .request(Method::OPTIONS, &start)
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert!(
        preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("x-visitor-token")
    );
    let (status, _) = s.visitor_start(&widget, json!({"body": "no origin"})).await;
    assert_eq!(status, 201, "server-to-server calls carry no Origin");
    let resp = s
        .client
        .get(format!("{}/widget.js", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("attachShadow"));
}

on_both!(
    the_ai_answers_from_the_knowledge_base_and_hands_over_after_two_misses,
    only_allowed_origins_may_use_the_widget
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_widget_endpoints_are_rate_limited() {
    let Some(s) = TestServer::start_with(Db::Sqlite, |c| c.widget_rate_limit = 3).await else {
        return;
    };
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let start = s.url(&paths::visitor_chats(&widget.key));
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..5 {
        let resp = s
            .client
            .post(&start)
            .json(&json!({"body": "hi"}))
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            retry_after = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
        }
    }
    assert_eq!(statuses, vec![201, 201, 201, 429, 429]);
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().unwrap() >= 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_compatible_provider_answers_hands_over_and_fails_safe() {
    let (fake, base) = FakeProvider::start().await;
    let Some(s) = TestServer::start_with(Db::Sqlite, |c| {
        c.ai = "openai".into();
        c.ai_base_url = base.clone();
        c.ai_model = "test-model".into();
        c.ai_api_key = Some("sk-test".into());
        c.ai_timeout_secs = 1;
    })
    .await
    else {
        return;
    };
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    s.add_article(&ana, widget.id, "Hours?", "9 to 5.").await;

    fake.answer(200, text("We are open 9 to 5."), Duration::ZERO);
    let chat = s.start_chat(&widget, "when are you open?").await;
    let view = s
        .visitor_view_until(&widget, &chat, "the reply", |v| {
            v["messages"].as_array().unwrap().len() >= 2
        })
        .await;
    assert_eq!(view["messages"][1]["body"], "We are open 9 to 5.");
    assert_eq!(view["status"], "active");
    let request = fake.requests.lock().unwrap().last().cloned().unwrap();
    assert_eq!(request["model"], "test-model");
    assert_eq!(
        request["messages"].as_array().unwrap().last().unwrap()["content"],
        "when are you open?"
    );
    assert!(
        request["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("9 to 5."),
        "the knowledge base is in the prompt"
    );
    assert_eq!(
        request["tools"][0]["function"]["name"],
        "hand_over_to_human"
    );

    let tool_call = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [
        {"id": "t1", "type": "function", "function": {"name": "hand_over_to_human", "arguments": "{\"reason\":\"asked\"}"}}
    ]}, "finish_reason": "tool_calls"}]});
    fake.answer(200, tool_call, Duration::ZERO);
    let chat = s.start_chat(&widget, "I have a complicated problem").await;
    let view = s
        .visitor_view_until(&widget, &chat, "a handover by tool call", |v| {
            v["status"] == "handed_off"
        })
        .await;
    assert_eq!(view["assignee_name"], "Owner");

    for (status, body, delay, what) in [
        (
            500,
            json!({"error": {"message": "boom"}}),
            Duration::ZERO,
            "an error",
        ),
        (200, text("too late"), Duration::from_secs(3), "a timeout"),
        (
            200,
            json!({"unexpected": true}),
            Duration::ZERO,
            "a nonsense answer",
        ),
    ] {
        fake.answer(status, body, delay);
        let chat = s.start_chat(&widget, "hello?").await;
        let view = s
            .visitor_view_until(&widget, &chat, what, |v| v["status"] == "handed_off")
            .await;
        assert!(
            view["assignee_name"].is_string(),
            "{what}: handed over, never left unanswered"
        );
        let bodies: Vec<&str> = view["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap())
            .collect();
        assert!(!bodies.contains(&"too late"), "{what}");
    }
}
