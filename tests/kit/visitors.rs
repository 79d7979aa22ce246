//! What a visitor does through the public widget endpoints.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, Chat, Credential, Widget, paths};

impl Api {
    /// A visitor starts a chat, and this waits until the AI has taken its turn (it answers in
    /// the background), so tests see a settled conversation.
    pub async fn start_chat(&self, widget: &Widget, body: &str) -> Chat {
        let chat = self.open_chat(widget, body).await;
        self.visitor_view_until(widget, &chat, "the AI's turn", |view| {
            view["status"] != "active" || view["messages"].as_array().is_some_and(|m| m.len() >= 2)
        })
        .await;
        chat
    }

    /// A visitor starts a chat; the AI may still be taking its turn.
    pub async fn open_chat(&self, widget: &Widget, body: &str) -> Chat {
        let (status, resp) = self.visitor_start(widget, json!({"body": body})).await;
        assert_eq!(status, 201, "start chat: {resp}");
        Chat {
            id: resp["conversation_id"].as_i64().unwrap(),
            token: resp["visitor_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Starts a chat with this request body (`body`, and `visitor_token` for a returning
    /// visitor), which may be refused.
    pub async fn visitor_start(&self, widget: &Widget, request: Value) -> (u16, Value) {
        self.call(
            Method::POST,
            &paths::visitor_chats(&widget.key),
            None,
            Some(request),
        )
        .await
    }

    /// The visitor's view of their chat.
    pub async fn visitor_view(&self, widget: &Widget, chat: &Chat) -> (u16, Value) {
        self.visitor(widget, chat, Method::GET, "", None).await
    }

    /// Polls the visitor's view of the chat until `done` holds; returns that view.
    pub async fn visitor_view_until(
        &self,
        widget: &Widget,
        chat: &Chat,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, view) = self.visitor_view(widget, chat).await;
            assert_eq!(status, 200, "{view}");
            if done(&view) {
                return view;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {view}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A request about `chat` (`suffix`: `""`, `/messages` or `/handover`) with its visitor
    /// token, whichever widget and chat the test pairs.
    pub async fn visitor(
        &self,
        widget: &Widget,
        chat: &Chat,
        method: Method,
        suffix: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let path = format!("{}{suffix}", paths::visitor_chat(&widget.key, chat.id));
        let token = Credential::Visitor(&chat.token);
        self.send(method, &path, Some(token), body).await
    }

    /// "Talk to a person".
    pub async fn handover(&self, widget: &Widget, chat: &Chat) -> Value {
        let (status, body) = self.try_handover(widget, chat).await;
        assert_eq!(status, 200, "handover: {body}");
        body
    }

    /// "Talk to a person", which may be refused (or shed with a 503 under load).
    pub async fn try_handover(&self, widget: &Widget, chat: &Chat) -> (u16, Value) {
        self.visitor(widget, chat, Method::POST, "/handover", None)
            .await
    }

    pub async fn visitor_says(&self, widget: &Widget, chat: &Chat, text: &str) -> (u16, Value) {
        self.visitor(
            widget,
            chat,
            Method::POST,
            "/messages",
            Some(json!({"body": text})),
        )
        .await
    }
}
