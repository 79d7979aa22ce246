//! Reaching the visitor who left (SPEC 10): the email they leave, the replies written while
//! they have no widget open emailed together after the (shortened) delay unless they come back,
//! against a real SMTP server, and the page the email's link opens, which reaches that one chat
//! and nothing else.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Db, TestServer, paths};
use crate::notifications::SmtpServer;

const PUBLIC_URL: &str = "https://desk.example.test";
/// The delay the tests run with instead of five minutes.
const DELAY: Duration = Duration::from_secs(2);

async fn server(db: Db) -> Option<(SmtpServer, TestServer)> {
    let smtp = SmtpServer::start(crate::common::free_port()).await?;
    let url = smtp.url();
    let s = TestServer::start_with(db, |c| {
        c.smtp_url = Some(url);
        c.public_url = Some(PUBLIC_URL.to_owned());
        c.visitor_email_delay_secs = DELAY.as_secs();
    })
    .await?;
    Some((smtp, s))
}

/// The token of the chat link in an email's text.
fn link_token(mail: &Value) -> String {
    let text = mail["text"].as_str().unwrap();
    let start = text.find(&format!("{PUBLIC_URL}/chat/")).expect("the link") + PUBLIC_URL.len() + 6;
    text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn replies_a_visitor_misses_are_emailed_together_with_a_link_to_the_chat(db: Db) {
    let Some((smtp, s)) = server(db).await else {
        return;
    };
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "Is the blue one in stock?").await;
    let view = s.handover(&widget, &chat).await;
    assert_eq!(view["waiting_reason"], "manual_mode", "{view}");
    assert_eq!(view["email"], Value::Null);

    // The email they leave: checked, theirs only.
    let (status, body) = s.leave_email(&widget, &chat, "not an address").await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_email")),
        "{body}"
    );
    let other = s.start_chat(&widget, "Another visitor").await;
    let someone_else = crate::common::Chat {
        id: chat.id,
        token: other.token.clone(),
    };
    let (status, _) = s
        .leave_email(&widget, &someone_else, "eve@example.com")
        .await;
    assert_eq!(status, 404, "another visitor's chat");
    let (status, body) = s.leave_email(&widget, &chat, " Dana@Example.com ").await;
    assert_eq!(status, 204, "{body}");
    let (_, view) = s.visitor_view(&widget, &chat).await;
    assert_eq!(view["email"], "dana@example.com");
    let visitor = s.conversation(&ana, chat.id).await["visitor_id"]
        .as_i64()
        .unwrap();
    let (_, record) = s.visitor_record(&ana, visitor).await;
    assert_eq!(record["email"], "dana@example.com", "{record}");

    // Two replies while no widget is open: one email, after the delay, with both.
    s.reply(&ana, chat.id, "Yes, we have it in size 38 and 39.")
        .await;
    s.reply(&ana, chat.id, "Shall I keep one for you?").await;
    assert!(smtp.messages().is_empty(), "not before the delay");
    let mails = smtp.wait_for(1).await;
    let mail = &mails[0];
    assert_eq!(mail["to"], "dana@example.com");
    assert_eq!(mail["subject"], "Acme replied to your chat");
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains("Owner wrote:\n> Yes, we have it in size 38 and 39."),
        "{text}"
    );
    assert!(
        text.contains("Owner wrote:\n> Shall I keep one for you?"),
        "{text}"
    );
    tokio::time::sleep(DELAY).await;
    assert_eq!(smtp.messages().len(), 1, "one email for both replies");

    // The link opens that chat, and only with the right token.
    let token = link_token(mail);
    let (status, linked) = s.linked_chat(&token).await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["team_name"], "Acme");
    assert_eq!(linked["conversation"]["id"], chat.id);
    let bodies: Vec<&str> = linked["conversation"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert!(bodies.contains(&"Shall I keep one for you?"), "{bodies:?}");
    assert!(!bodies.contains(&"Another visitor"), "{bodies:?}");
    let page = s
        .client
        .get(s.url(&paths::chat_page(&token)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let wrong = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(s.linked_chat(&wrong).await.0, 404);
    assert_eq!(s.linked_chat_says(&wrong, "hi").await.0, 404);
    let page = s
        .client
        .get(s.url(&paths::chat_page(&wrong)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);

    // The visitor answers from the page, and follows only that chat live.
    let second = s
        .visitor_start(
            &widget,
            json!({"body": "And a second question", "visitor_token": chat.token}),
        )
        .await
        .1;
    let second = second["conversation_id"].as_i64().unwrap();
    let mut live = s.chat_link_stream(&token).await;
    let (status, written) = s.linked_chat_says(&token, "Yes please, size 38!").await;
    assert_eq!(status, 201, "{written}");
    assert_eq!(written["author"], "visitor");
    s.reply(&ana, second, "About your second question…").await;
    s.reply(&ana, chat.id, "Done, it's yours.").await;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let event = live.next_of("message.created").await;
        assert_eq!(
            event["conversation_id"], chat.id,
            "only the linked chat: {event}"
        );
        seen.push(event["message"]["body"].as_str().unwrap().to_owned());
    }
    assert_eq!(seen, ["Yes please, size 38!", "Done, it's yours."]);
    let conversation = s.conversation(&ana, chat.id).await;
    assert_eq!(
        conversation["messages"].as_array().unwrap().last().unwrap()["body"],
        "Done, it's yours."
    );

    // The page is open: the visitor is there, so nothing more was emailed.
    tokio::time::sleep(DELAY + Duration::from_secs(1)).await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "the second chat's reply only: {mails:?}");
    assert!(mails.iter().any(|m| {
        m["text"]
            .as_str()
            .unwrap()
            .contains("About your second question")
    }));
}

async fn a_visitor_who_comes_back_is_not_emailed(db: Db) {
    let Some((smtp, s)) = server(db).await else {
        return;
    };
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "Hello?").await;
    s.handover(&widget, &chat).await;
    assert_eq!(
        s.leave_email(&widget, &chat, "dana@example.com").await.0,
        204
    );

    // The widget is open: the reply arrives live, and no email is due.
    let mut widget_open = s.visitor_stream(&widget, &chat).await;
    s.reply(&ana, chat.id, "Hi Dana, I'm here.").await;
    assert_eq!(
        widget_open.next_of("message.created").await["message"]["body"],
        "Hi Dana, I'm here."
    );
    drop(widget_open);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Gone: a reply waits to be emailed; back before the delay: it is not sent.
    s.reply(&ana, chat.id, "Are you still there?").await;
    let back = s.visitor_stream(&widget, &chat).await;
    tokio::time::sleep(DELAY + Duration::from_secs(2)).await;
    assert!(smtp.messages().is_empty(), "{:?}", smtp.messages());

    // Gone again, for good: only what they missed since is emailed.
    drop(back);
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.reply(&ana, chat.id, "I'll email you the details.").await;
    let mails = smtp.wait_for(1).await;
    let text = mails[0]["text"].as_str().unwrap();
    assert!(text.contains("> I'll email you the details."), "{text}");
    assert!(!text.contains("Are you still there?"), "{text}");
}

mod emails_replies_with_a_link {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::replies_a_visitor_misses_are_emailed_together_with_a_link_to_the_chat(
            crate::common::Db::Sqlite,
        )
        .await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::replies_a_visitor_misses_are_emailed_together_with_a_link_to_the_chat(
            crate::common::Db::Postgres,
        )
        .await;
    }
}

mod not_to_a_visitor_who_came_back {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::a_visitor_who_comes_back_is_not_emailed(crate::common::Db::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::a_visitor_who_comes_back_is_not_emailed(crate::common::Db::Postgres).await;
    }
}
