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

/// The visitor's view says why a chat the team has waits, so the widget can tell the visitor a
/// person will reply and offer to email them: a manual widget, or nobody available.
async fn the_visitor_view_says_why_a_chat_waits(s: TestServer) {
    let ana = s.signup("Acme").await;
    let manual = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&manual, "hello").await;
    let (_, view) = s.visitor_view(&manual, &chat).await;
    assert_eq!(view["waiting_reason"], Value::Null, "the AI has it");
    let view = s.handover(&manual, &chat).await;
    assert_eq!(view["waiting_reason"], "manual_mode", "{view}");
    s.claim(&ana, chat.id).await;
    let (_, view) = s.visitor_view(&manual, &chat).await;
    assert_eq!(
        view["waiting_reason"],
        Value::Null,
        "someone has it: {view}"
    );

    s.set_availability(&ana, "away").await;
    let routed = s.widget(&ana, "round_robin", &[]).await;
    let chat = s.start_chat(&routed, "anyone?").await;
    let view = s.handover(&routed, &chat).await;
    assert_eq!(view["waiting_reason"], "no_available_operator", "{view}");
    assert_eq!(view["assignee_name"], Value::Null);
}

on_both!(the_visitor_view_says_why_a_chat_waits);

/// In Chromium, on a shop's page: nobody will answer at once (a manual widget), so the widget
/// says a person will reply and offers to email the reply; the visitor leaves (a wrong address
/// first), goes away, and the emailed link opens the chat on a page of its own, where they
/// answer. At 1440×900 and 390×844, with screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_offers_to_email_the_reply_and_the_link_continues_the_chat() {
    use crate::browser::{
        ChromeDriver, DESKTOP, PHONE, WIDGET, at_size, host_page_with, in_widget, screenshot,
        until, widget_says,
    };
    let Some(mut driver) = ChromeDriver::start().await else {
        return;
    };
    let Some(smtp) = crate::notifications::SmtpServer::start(crate::common::free_port()).await
    else {
        return;
    };
    let smtp_url = smtp.url();
    let Some(s) = TestServer::start_with(Db::Sqlite, |c| {
        c.public_url = Some(format!("http://{}", c.listen));
        c.smtp_url = Some(smtp_url);
        c.visitor_email_delay_secs = 1;
    })
    .await
    else {
        return;
    };
    let (status, _) = s
        .signup_with(json!({"workspace_name": "Trail Shoe Co.", "name": "Ana Lima", "email": "ana@acme.test", "password": "ana-password"}))
        .await;
    assert_eq!(status, 201);
    let ana = s.login("ana@acme.test", "ana-password").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let shop = host_page_with(&s.base, &widget.key, "").await;

    let browser = driver.session().await;
    at_size(&browser, DESKTOP).await;
    open_widget(&browser, &shop).await;
    ask_for_a_person(&browser).await;
    widget_says(&browser, "Do you have the Ridge boots in size 44?").await;
    until(
        &browser,
        "a person will reply, and the offer",
        &format!("{WIDGET}.querySelector('.waiting .why')?.textContent == 'A person will reply here soon.' && !{WIDGET}.querySelector('.email-offer').hidden"),
    )
    .await;
    let label = in_widget(
        &browser,
        "r.querySelector('.email-offer label').textContent",
    )
    .await;
    assert_eq!(
        label,
        "Not staying? Leave your email and we'll send you the reply."
    );
    screenshot(&browser, "widget-desktop-email-offer").await;

    let leave = |email: &str| {
        format!(
            "const r = {WIDGET}; r.querySelector('.email-offer input').value = {email:?}; r.querySelector('.email-offer button').click();"
        )
    };
    browser.execute(&leave("dana@"), vec![]).await.unwrap();
    until(&browser, "the address refused", &format!("{WIDGET}.querySelector('.email-error').textContent == 'Please enter an email address like name@example.com.' && !{WIDGET}.querySelector('.email-error').hidden")).await;
    browser
        .execute(&leave("Dana@Example.com"), vec![])
        .await
        .unwrap();
    until(
        &browser,
        "the address kept",
        &format!("{WIDGET}.querySelector('.email-saved').textContent == \"We'll email the reply to dana@example.com if you're not here.\" && {WIDGET}.querySelector('.email-offer').hidden"),
    )
    .await;
    screenshot(&browser, "widget-desktop-email-saved").await;
    let (_, rows) = s.conversations(&ana, "?view=all").await;
    let row = rows["items"][0].clone();
    assert_eq!(row["visitor"]["email"], "dana@example.com", "{row}");
    let chat = row["id"].as_i64().unwrap();

    // On a phone the chat comes back with the address remembered.
    at_size(&browser, PHONE).await;
    open_widget(&browser, &shop).await;
    until(&browser, "the restored chat", &format!("{WIDGET}.querySelector('.email-saved')?.offsetParent !== null && [...{WIDGET}.querySelectorAll('li.visitor')].length == 1")).await;
    screenshot(&browser, "widget-phone-email-saved").await;

    // The visitor leaves the shop; the reply is emailed, and its link opens the chat.
    browser.goto("about:blank").await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.reply(
        &ana,
        chat,
        "Hi Dana! Yes, size 44 is in stock. Shall I put a pair aside for you?",
    )
    .await;
    let mails = smtp.wait_for(1).await;
    let text = mails[0]["text"].as_str().unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/chat/"))
        .expect("the link")
        .to_owned();
    assert!(link.starts_with(&s.base), "{link}");
    browser.goto(&link).await.unwrap();
    until(&browser, "the linked chat", "document.querySelector('#title').textContent == 'Your chat with Trail Shoe Co.' && document.querySelectorAll('li.operator').length == 1").await;
    screenshot(&browser, "chat-link-phone").await;
    browser
        .execute(
            "const t = document.querySelector('textarea'); t.value = 'Yes please, I will pick them up on Friday.'; document.querySelector('#reply').requestSubmit();",
            vec![],
        )
        .await
        .unwrap();
    until(&browser, "the visitor's answer", "[...document.querySelectorAll('li.visitor')].some(li => li.textContent.includes('Friday')) && document.querySelector('textarea').value == ''").await;
    s.reply(&ana, chat, "Done, they're waiting for you at the counter.")
        .await;
    until(&browser, "the reply, live", "[...document.querySelectorAll('li.operator')].some(li => li.textContent.includes('counter'))").await;
    at_size(&browser, DESKTOP).await;
    screenshot(&browser, "chat-link-desktop").await;
    let conversation = s.conversation(&ana, chat).await;
    let bodies: Vec<&str> = conversation["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert!(
        bodies.contains(&"Yes please, I will pick them up on Friday."),
        "{bodies:?}"
    );
    assert_eq!(
        smtp.messages().len(),
        1,
        "the page was open: no second email"
    );

    // A link that opens nothing says so in the visitor's words.
    browser
        .goto(&format!("{}/chat/not-a-real-link", s.base))
        .await
        .unwrap();
    until(&browser, "the dead link", "document.querySelector('#error').textContent.includes('This link no longer works') && document.querySelector('#reply').hidden").await;
    browser.close().await.unwrap();
}

/// SPEC 10: a visitor waiting in line is told their place, and it moves as the line does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_tells_the_visitor_their_place_in_line() {
    use crate::browser::{
        ChromeDriver, DESKTOP, PHONE, WIDGET, at_size, host_page_with, screenshot, until,
        widget_says,
    };
    let Some(mut driver) = ChromeDriver::start().await else {
        return;
    };
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    let ana = s.signup("Trail Shoe Co.").await;
    s.set_availability(&ana, "away").await;
    let widget = s.widget(&ana, "round_robin", &[]).await;
    // Someone is already waiting when the visitor asks for a person.
    let first = s.start_chat(&widget, "Where is my order?").await;
    s.handover(&widget, &first).await;
    let shop = host_page_with(&s.base, &widget.key, "").await;

    let browser = driver.session().await;
    at_size(&browser, PHONE).await;
    open_widget(&browser, &shop).await;
    ask_for_a_person(&browser).await;
    widget_says(&browser, "Do you ship to Norway?").await;
    let place = |text: &str| {
        format!(
            "{WIDGET}.querySelector('.waiting .place')?.textContent == {text:?} && !{WIDGET}.querySelector('.waiting .place').hidden"
        )
    };
    until(
        &browser,
        "second in line",
        &place("You're number 2 in line."),
    )
    .await;
    screenshot(&browser, "widget-phone-place-in-line").await;

    // The chat ahead is taken by hand: the visitor moves up, live.
    assert_eq!(s.claim(&ana, first.id).await.0, 200);
    until(&browser, "next in line", &place("You're next in line.")).await;
    at_size(&browser, DESKTOP).await;
    screenshot(&browser, "widget-desktop-place-in-line").await;

    // Someone turns Available: the queue drains to them and the line is gone.
    s.set_availability(&ana, "available").await;
    until(
        &browser,
        "taken",
        &format!("{WIDGET}.querySelector('.waiting .place').hidden"),
    )
    .await;
    let (_, rows) = s.conversations(&ana, "?view=mine").await;
    assert_eq!(rows["items"].as_array().unwrap().len(), 2, "{rows}");
    browser.close().await.unwrap();
}

/// Opens the shop page and, once its launcher is drawn, the widget.
async fn open_widget(browser: &fantoccini::Client, shop: &str) {
    use crate::browser::{WIDGET, until};
    browser.goto(shop).await.unwrap();
    until(
        browser,
        "the launcher",
        &format!("{WIDGET}?.querySelector('.launcher svg')"),
    )
    .await;
    browser
        .execute(
            &format!("{WIDGET}.querySelector('.launcher').click()"),
            vec![],
        )
        .await
        .unwrap();
}

/// "Talk to a person" in the open widget.
async fn ask_for_a_person(browser: &fantoccini::Client) {
    use crate::browser::WIDGET;
    browser
        .execute(
            &format!("{WIDGET}.querySelector('button.handover').click()"),
            vec![],
        )
        .await
        .unwrap();
}
