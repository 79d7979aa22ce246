//! What a visitor does through the public widget endpoints.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, Chat, Credential, Op, Widget, paths};

/// What the embedding site's server computes for its signed-in user: hex HMAC-SHA256 of the
/// user id, keyed with the widget's identity secret.
pub fn user_hash(secret: &str, user_id: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(user_id.as_bytes());
    let digest = mac.finalize().into_bytes();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// An identify body for `user_id`, signed with `secret`, with a name and an email if given.
pub fn identity(secret: &str, user_id: &str, name: Option<&str>, email: Option<&str>) -> Value {
    json!({"user_id": user_id, "user_hash": user_hash(secret, user_id), "name": name, "email": email})
}

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

    /// Starts a chat with this request body, sent by a browser that says it is `user_agent`.
    pub async fn visitor_start_from(
        &self,
        widget: &Widget,
        request: Value,
        user_agent: &str,
    ) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(&paths::visitor_chats(&widget.key)))
            .header("user-agent", user_agent)
            .json(&request)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// What the widget shows before a chat (its greeting).
    pub async fn public_widget(&self, widget: &Widget) -> (u16, Value) {
        self.call(Method::GET, &paths::public_widget(&widget.key), None, None)
            .await
    }

    /// The widget reports the page the visitor holding `token` is on.
    pub async fn report_page(
        &self,
        widget: &Widget,
        token: &str,
        url: &str,
        referrer: Option<&str>,
    ) -> (u16, Value) {
        let body = json!({"page": {"url": url, "referrer": referrer}});
        let path = paths::visitor_seen(&widget.key);
        self.send(
            Method::PUT,
            &path,
            Some(Credential::Visitor(token)),
            Some(body),
        )
        .await
    }

    /// Identifies the visitor holding `token` with this body (`user_id`, `user_hash`, `name`,
    /// `email`, `page`).
    pub async fn identify(&self, widget: &Widget, token: &str, body: Value) -> (u16, Value) {
        let path = paths::identify(&widget.key);
        self.send(
            Method::POST,
            &path,
            Some(Credential::Visitor(token)),
            Some(body),
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

    /// The visitor leaves an email for the replies they miss.
    pub async fn leave_email(&self, widget: &Widget, chat: &Chat, email: &str) -> (u16, Value) {
        self.visitor(
            widget,
            chat,
            Method::PUT,
            "/visitor",
            Some(json!({"email": email})),
        )
        .await
    }

    /// A visitor's record, as an operator reads it.
    pub async fn visitor_record(&self, op: &Op, id: i64) -> (u16, Value) {
        self.get(op, &paths::visitor(id)).await
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
