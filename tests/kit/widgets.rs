//! Widgets: routing, allowed origins and the knowledge base.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, Op, Widget, paths};

impl Api {
    /// A widget with the given routing mode (and everyone eligible unless `eligible` says).
    pub async fn widget(&self, admin: &Op, mode: &str, eligible: &[i64]) -> Widget {
        let (status, body) = self.create_widget(admin, "Website").await;
        assert_eq!(status, 201, "create widget: {body}");
        let id = body["id"].as_i64().unwrap();
        let (status, body) = self.set_routing(admin, id, mode, eligible).await;
        assert_eq!(status, 200, "routing: {body}");
        Widget {
            id,
            key: body["key"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn create_widget(&self, admin: &Op, name: &str) -> (u16, Value) {
        self.post(admin, paths::WIDGETS, json!({"name": name}))
            .await
    }

    pub async fn get_widget(&self, op: &Op, id: i64) -> (u16, Value) {
        self.get(op, &paths::widget(id)).await
    }

    /// Renames the widget or changes its greeting (`{name?, greeting?}`).
    pub async fn update_widget(&self, admin: &Op, id: i64, change: Value) -> (u16, Value) {
        self.call(
            Method::PATCH,
            &paths::widget(id),
            Some(&admin.token),
            Some(change),
        )
        .await
    }

    /// The widget's identity secret, as its owner or an admin reads it.
    pub async fn identity_secret(&self, admin: &Op, widget: &Widget) -> String {
        let (status, body) = self.get_widget(admin, widget.id).await;
        assert_eq!(status, 200, "get widget: {body}");
        body["identity_secret"]
            .as_str()
            .expect("an owner or admin sees the identity secret")
            .to_owned()
    }

    pub async fn set_routing(
        &self,
        admin: &Op,
        widget: i64,
        mode: &str,
        eligible: &[i64],
    ) -> (u16, Value) {
        let routing = json!({"mode": mode, "eligible_operator_ids": eligible});
        self.put(admin, &paths::routing(widget), routing).await
    }

    /// Puts the whole routing body (`{mode, eligible_operator_ids, reassign_after_secs?,
    /// auto_close_after_secs?}`).
    pub async fn set_routing_with(&self, admin: &Op, widget: i64, routing: Value) -> (u16, Value) {
        self.put(admin, &paths::routing(widget), routing).await
    }

    /// Who the widget's next chat would go to, and why.
    pub async fn routing_preview(&self, op: &Op, widget: i64) -> (u16, Value) {
        self.get(op, &paths::routing_preview(widget)).await
    }

    pub async fn set_allowed_origins(
        &self,
        admin: &Op,
        widget: i64,
        origins: &[&str],
    ) -> (u16, Value) {
        let origins = json!({"allowed_origins": origins});
        self.put(admin, &paths::allowed_origins(widget), origins)
            .await
    }

    /// The widget's knowledge base.
    pub async fn articles(&self, op: &Op, widget: i64) -> (u16, Value) {
        self.get(op, &paths::articles(widget)).await
    }

    pub async fn add_article(
        &self,
        admin: &Op,
        widget: i64,
        question: &str,
        answer: &str,
    ) -> (u16, Value) {
        let article = article(question, answer);
        self.post(admin, &paths::articles(widget), article).await
    }

    /// Rewrites article `id`.
    pub async fn update_article(
        &self,
        admin: &Op,
        widget: i64,
        id: i64,
        question: &str,
        answer: &str,
    ) -> (u16, Value) {
        let article = article(question, answer);
        self.put(admin, &paths::article(widget, id), article).await
    }

    pub async fn delete_article(&self, admin: &Op, widget: i64, article: i64) -> (u16, Value) {
        self.delete(admin, &paths::article(widget, article), None)
            .await
    }
}

/// An article's question and answer, as the API takes them.
fn article(question: &str, answer: &str) -> Value {
    json!({"question": question, "answer": answer})
}
