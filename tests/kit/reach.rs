//! The routing report, and the page a chat's emailed link opens.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, Op, paths};

impl Api {
    /// `GET /reports/routing` with `from` and `to` as given (already query-safe).
    pub async fn routing_report(&self, op: &Op, from: &str, to: &str) -> (u16, Value) {
        self.get(op, &paths::routing_report(from, to)).await
    }

    /// The chat a link's token opens.
    pub async fn linked_chat(&self, link_token: &str) -> (u16, Value) {
        self.call(Method::GET, &paths::chat_link(link_token), None, None)
            .await
    }

    /// The visitor writes from the link's page.
    pub async fn linked_chat_says(&self, link_token: &str, text: &str) -> (u16, Value) {
        let path = format!("{}/messages", paths::chat_link(link_token));
        self.call(Method::POST, &path, None, Some(json!({"body": text})))
            .await
    }
}
