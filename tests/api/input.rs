//! Hostile text and odd ids: NUL characters, invisible bodies, non-canonical ids and bodies far
//! over the limit get the same clear answer on both backends and change nothing.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{TestServer, Widget, paths};
use crate::on_both;

fn assert_nul_refused(what: &str, status: u16, body: &Value, field: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert_eq!(body["error"]["code"], "invalid_input", "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(field), "{what} names {field}: {message}");
}

async fn nul_bytes_are_a_400_naming_the_field(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;

    let start = format!("/api/v1/widget/{}/conversations", widget.key);
    let (status, body) = s
        .call(Method::POST, &start, None, Some(json!({"body": "a\u{0}b"})))
        .await;
    assert_nul_refused("a visitor's first message", status, &body, "`body`");

    let (status, body) = s.visitor_says(&widget, &chat, "a\u{0}b").await;
    assert_nul_refused("a visitor's message", status, &body, "`body`");

    let (status, body) = s.reply(&ana, chat.id, "x\u{0}").await;
    assert_nul_refused("an operator's reply", status, &body, "`body`");

    let (status, body) = s.try_login("a\u{0}@x.test", "password1").await;
    assert_nul_refused("a sign-in", status, &body, "`email`");

    let (status, body) = s.add_article(&ana, widget.id, "q", "a\u{0}").await;
    assert_nul_refused("an article", status, &body, "`answer`");

    let (status, body) = s
        .subscribe_push(
            &ana,
            json!({"endpoint": "https://push.test/\u{0}", "keys": {"p256dh": "k", "auth": "a"}}),
        )
        .await;
    assert_nul_refused("a push subscription", status, &body, "`endpoint`");

    let nul_key = Widget {
        id: widget.id,
        key: "ab%00cd".to_owned(),
    };
    let (status, body) = s.visitor_start(&nul_key, json!({"body": "hi"})).await;
    assert_nul_refused("a widget key", status, &body, "path");

    let (status, body) = s.conversations(&ana, "?view=all&status=%00").await;
    assert_nul_refused("a query parameter", status, &body, "`status`");

    // Nothing was stored: the one chat and its messages are as they were.
    let (_, list) = s.conversations(&ana, "?view=all").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let detail = s.conversation(&ana, chat.id).await;
    let texts: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert!(texts.iter().all(|t| !t.contains('\0')), "{texts:?}");
}

async fn invisible_bodies_are_blank(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    for blank in ["\u{200B}\u{200B}", " \u{FEFF}\u{2060} ", "\u{200D}\n"] {
        let (status, body) = s.visitor_says(&widget, &chat, blank).await;
        assert_eq!(status, 400, "{blank:?}: {body}");
        assert_eq!(body["error"]["code"], "invalid_body");
        let (status, _) = s.reply(&ana, chat.id, blank).await;
        assert_eq!(status, 400, "operator reply {blank:?}");
    }
    let (status, _) = s.visitor_says(&widget, &chat, "\u{200B}ok").await;
    assert_eq!(
        status, 201,
        "visible text around invisible characters is kept"
    );
}

async fn only_canonical_ids_name_anything(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    let (status, _) = s
        .get(&ana, &format!("/api/v1/conversations/{}", chat.id))
        .await;
    assert_eq!(status, 200);
    for alias in [
        format!("+{}", chat.id),
        format!("00{}", chat.id),
        format!("{}%20", chat.id),
    ] {
        let (status, body) = s
            .get(&ana, &format!("{}/{alias}", paths::CONVERSATIONS))
            .await;
        assert_eq!(status, 404, "{alias}: {body}");
        let (status, _) = s
            .get(
                &ana,
                &format!(
                    "{}/{}",
                    paths::WIDGETS,
                    alias.replace(&chat.id.to_string(), &widget.id.to_string())
                ),
            )
            .await;
        assert_eq!(status, 404, "widget {alias}");
        let (status, _) = s
            .call(
                Method::GET,
                &format!("{}/{alias}", paths::visitor_chats(&widget.key)),
                None,
                None,
            )
            .await;
        assert_eq!(status, 404, "visitor view {alias}");
    }
}

/// A client that writes its whole (far too large) body before reading gets the 413, not a
/// reset connection.
async fn an_oversized_body_is_read_before_the_413(s: TestServer) {
    let ana = s.signup("Acme").await;
    let address = s.base.trim_start_matches("http://").to_owned();
    let body_len = 3 * 1024 * 1024;
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {body_len}\r\n\r\n",
        paths::WIDGETS,
        ana.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent < body_len {
        let n = chunk.len().min(body_len - sent);
        stream
            .write_all(&chunk[..n])
            .await
            .expect("the server reads the whole body");
        sent += n;
    }
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered")
        .expect("the connection is closed cleanly, not reset");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("too_large"), "{answer}");
}

on_both!(
    nul_bytes_are_a_400_naming_the_field,
    invisible_bodies_are_blank,
    only_canonical_ids_name_anything,
    an_oversized_body_is_read_before_the_413,
);
