//! What the inbox's rows and views need (SPEC 12): per-operator read markers and the unread
//! mark, how long a visitor has waited for a person, the AI's own view kept out of Unassigned,
//! and an "assigned to you" email that waits and is dropped when the chat was opened first.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Db, TestServer, free_port};
use crate::notifications::SmtpServer;
use crate::on_both;

fn row(list: &Value, id: i64) -> Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("row {id} in {list}"))
        .clone()
}

async fn unread_is_per_operator_and_comes_back_with_the_next_visitor_message(s: TestServer) {
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    s.handover(&widget, &chat).await;

    let (_, list) = s.conversations(&ana, "?view=all").await;
    assert_eq!(row(&list, chat.id)["unread"], true, "nobody read it yet");
    let (status, _) = s.mark_read(&ana, chat.id).await;
    assert_eq!(status, 204);
    let (_, list) = s.conversations(&ana, "?view=all").await;
    assert_eq!(row(&list, chat.id)["unread"], false, "Ana read it");
    let (_, list) = s.conversations(&bob, "?view=all").await;
    assert_eq!(row(&list, chat.id)["unread"], true, "Bob did not");

    let (status, _) = s.reply(&ana, chat.id, "Hi, I'm Ana").await;
    assert_eq!(status, 201);
    let (_, list) = s.conversations(&ana, "?view=all").await;
    assert_eq!(
        row(&list, chat.id)["unread"],
        false,
        "an operator's reply is not news to anyone"
    );
    let (status, _) = s.visitor_says(&widget, &chat, "thanks!").await;
    assert_eq!(status, 201);
    let (_, list) = s.conversations(&ana, "?view=all").await;
    assert_eq!(
        row(&list, chat.id)["unread"],
        true,
        "the visitor wrote again"
    );

    // The single conversation carries no row marks; a foreign or unknown one is a 404.
    let one = s.conversation(&ana, chat.id).await;
    assert!(one.get("unread").is_none(), "{one}");
    let (status, _) = s.mark_read(&ana, chat.id + 1000).await;
    assert_eq!(status, 404);
    let other = s.signup("Bolt").await;
    let (status, _) = s.mark_read(&other, chat.id).await;
    assert_eq!(status, 404, "another workspace's chat");
}

async fn waiting_since_is_the_first_unanswered_visitor_message(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    s.handover(&widget, &chat).await;
    let first = s.conversation(&ana, chat.id).await["messages"][0]["created_at"].clone();
    let (_, list) = s.conversations(&ana, "").await;
    assert_eq!(row(&list, chat.id)["waiting_since"], first);
    assert_eq!(
        row(&list, chat.id)["last_message_preview"],
        "hello",
        "the row shows what the visitor asked, not the AI's answer or the handover note"
    );

    s.reply(&ana, chat.id, "Hello!").await;
    let (_, list) = s.conversations(&ana, "").await;
    assert_eq!(
        row(&list, chat.id)["waiting_since"],
        Value::Null,
        "answered"
    );
    assert_eq!(row(&list, chat.id)["last_message_preview"], "Hello!");

    s.visitor_says(&widget, &chat, "one more thing").await;
    s.visitor_says(&widget, &chat, "are you there?").await;
    let conv = s.conversation(&ana, chat.id).await;
    let messages = conv["messages"].as_array().unwrap();
    let one_more = messages
        .iter()
        .find(|m| m["body"] == "one more thing")
        .unwrap();
    let (_, list) = s.conversations(&ana, "").await;
    assert_eq!(
        row(&list, chat.id)["waiting_since"],
        one_more["created_at"],
        "waiting since the first message nobody answered"
    );
}

async fn the_ai_has_its_own_view_and_is_not_counted_in_unassigned(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let with_ai = s.start_chat(&widget, "what are your hours?").await;
    let waiting = s.start_chat(&widget, "I need a person").await;
    s.handover(&widget, &waiting).await;
    let claimed = s.start_chat(&widget, "hi").await;
    s.claim(&ana, claimed.id).await;

    let counts = s.conversation_counts(&ana, "?status=open").await;
    assert_eq!(
        counts,
        json!({"mine": 1, "unassigned": 1, "ai": 1, "all": 3}),
        "the AI's chat is not waiting for anyone"
    );
    let ids = |list: &Value| -> Vec<i64> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    let (_, list) = s.conversations(&ana, "?view=unassigned&status=open").await;
    assert_eq!(ids(&list), vec![waiting.id]);
    let (_, list) = s.conversations(&ana, "?view=ai&status=open").await;
    assert_eq!(ids(&list), vec![with_ai.id]);
    let (_, list) = s.conversations(&ana, "?view=ai&status=closed").await;
    assert_eq!(ids(&list), Vec::<i64>::new(), "no closed chat is the AI's");

    // Handing it to the team moves it from the AI view to Unassigned.
    s.takeover(&ana, with_ai.id).await;
    let counts = s.conversation_counts(&ana, "?status=open").await;
    assert_eq!(counts["ai"], 0);
    assert_eq!(counts["unassigned"], 2);
    let (status, body) = s.conversations(&ana, "?view=robots").await;
    assert_eq!(status, 400, "{body}");
}

on_both!(
    unread_is_per_operator_and_comes_back_with_the_next_visitor_message,
    waiting_since_is_the_first_unanswered_visitor_message,
    the_ai_has_its_own_view_and_is_not_counted_in_unassigned,
);

/// With `email_delay_secs`, the email waits that long and is dropped when the assignee
/// opened the chat meanwhile; a chat left unopened is emailed once the delay is over.
async fn a_delayed_email_is_dropped_when_the_chat_was_opened(db: Db) {
    let Some(smtp) = SmtpServer::start(free_port()).await else {
        return;
    };
    let Some(s) = TestServer::start_with(db, |c| c.smtp_url = Some(smtp.url())).await else {
        return;
    };
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    for refused in [json!(-1), json!(86_401), json!("soon")] {
        let (status, body) = s
            .set_notification_channels(&bob, json!({ "email_delay_secs": refused }))
            .await;
        assert_eq!(status, 400, "{refused}: {body}");
    }
    let (status, channels) = s
        .set_notification_channels(&bob, json!({"email_delay_secs": 3}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        channels,
        json!({"push": true, "email": true, "email_delay_secs": 3})
    );

    let widget = s.widget(&ana, "round_robin", &[bob.id]).await;
    let opened = s.start_chat(&widget, "first, opened at once").await;
    s.handover(&widget, &opened).await;
    let left = s.start_chat(&widget, "second, left alone").await;
    s.handover(&widget, &left).await;
    let (status, _) = s.mark_read(&bob, opened.id).await;
    assert_eq!(status, 204);

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.messages().len(), 0, "nothing before the delay is over");
    let mails = smtp.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mails_after = smtp.messages();
    assert_eq!(
        mails_after.len(),
        1,
        "only the chat Bob did not open: {mails_after:?}"
    );
    let text = mails[0].to_string();
    assert!(
        text.contains(&format!("/inbox/conversations/{}", left.id)),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_email_is_dropped_when_the_chat_was_opened_on_sqlite() {
    a_delayed_email_is_dropped_when_the_chat_was_opened(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delayed_email_is_dropped_when_the_chat_was_opened_on_postgres() {
    a_delayed_email_is_dropped_when_the_chat_was_opened(Db::Postgres).await;
}
