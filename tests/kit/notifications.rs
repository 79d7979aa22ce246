//! One's own notification channels and browser push subscriptions.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, Op, paths};

impl Api {
    /// Which channels (`push`, `email`) are on.
    pub async fn notification_channels(&self, op: &Op) -> (u16, Value) {
        self.get(op, paths::NOTIFICATIONS).await
    }

    /// Switches channels, e.g. `{"email": false}`.
    pub async fn set_notification_channels(&self, op: &Op, channels: Value) -> (u16, Value) {
        self.put(op, paths::NOTIFICATIONS, channels).await
    }

    /// Registers a browser's subscription (`endpoint`, `keys.p256dh`, `keys.auth`).
    pub async fn subscribe_push(&self, op: &Op, subscription: Value) -> (u16, Value) {
        self.post(op, paths::PUSH_SUBSCRIPTIONS, subscription).await
    }

    pub async fn push_subscriptions(&self, op: &Op) -> (u16, Value) {
        self.get(op, paths::PUSH_SUBSCRIPTIONS).await
    }

    pub async fn unsubscribe_push(&self, op: &Op, endpoint: &str) -> (u16, Value) {
        self.delete(
            op,
            paths::PUSH_SUBSCRIPTIONS,
            Some(json!({"endpoint": endpoint})),
        )
        .await
    }

    /// The server's VAPID public key, which needs no sign-in.
    pub async fn vapid_public_key(&self) -> (u16, Value) {
        self.call(Method::GET, paths::VAPID_PUBLIC_KEY, None, None)
            .await
    }
}
