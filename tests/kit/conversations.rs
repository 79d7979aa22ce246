//! The inbox: listing conversations and what an operator does in one.

use serde_json::{Value, json};

use super::{Api, IfAssignee, Op, paths};

impl Api {
    /// The inbox list, with a query string such as `?view=mine&status=open` (or `""`).
    pub async fn conversations(&self, op: &Op, query: &str) -> (u16, Value) {
        self.get(op, &format!("{}{query}", paths::CONVERSATIONS))
            .await
    }

    /// One conversation in full (messages, assignment log), which must be found.
    pub async fn conversation(&self, op: &Op, id: i64) -> Value {
        let (status, body) = self.get(op, &paths::conversation(id)).await;
        assert_eq!(status, 200, "get conversation: {body}");
        body
    }

    /// How many conversations each view holds, with a query string such as `?status=open`.
    pub async fn conversation_counts(&self, op: &Op, query: &str) -> Value {
        let (status, body) = self
            .get(op, &format!("{}{query}", paths::CONVERSATION_COUNTS))
            .await;
        assert_eq!(status, 200, "counts: {body}");
        body
    }

    /// Marks the conversation read by `op` up to its newest message.
    pub async fn mark_read(&self, op: &Op, conversation: i64) -> (u16, Value) {
        self.action(op, conversation, "read", json!({})).await
    }

    /// An operator's reply.
    pub async fn reply(&self, op: &Op, conversation: i64, text: &str) -> (u16, Value) {
        self.action(op, conversation, "messages", json!({"body": text}))
            .await
    }

    /// "Take over" an AI-handled chat.
    pub async fn takeover(&self, op: &Op, conversation: i64) -> (u16, Value) {
        self.action(op, conversation, "takeover", json!({})).await
    }

    /// Claims without a precondition.
    pub async fn claim(&self, op: &Op, conversation: i64) -> (u16, Value) {
        self.claim_if(op, conversation, IfAssignee::Any).await
    }

    pub async fn claim_if(&self, op: &Op, conversation: i64, assignee: IfAssignee) -> (u16, Value) {
        let mut body = json!({});
        assignee.add_to(&mut body);
        self.action(op, conversation, "claim", body).await
    }

    /// Picks a teammate (`Some`) or unassigns (`None`).
    pub async fn set_assignee(
        &self,
        op: &Op,
        conversation: i64,
        operator: Option<i64>,
        assignee: IfAssignee,
    ) -> (u16, Value) {
        let mut body = json!({"operator_id": operator});
        assignee.add_to(&mut body);
        let path = paths::conversation_action(conversation, "assignee");
        self.put(op, &path, body).await
    }

    pub async fn close(&self, op: &Op, conversation: i64) -> (u16, Value) {
        self.action(op, conversation, "close", json!({})).await
    }

    pub async fn reopen(&self, op: &Op, conversation: i64) -> (u16, Value) {
        self.action(op, conversation, "reopen", json!({})).await
    }

    async fn action(&self, op: &Op, conversation: i64, action: &str, body: Value) -> (u16, Value) {
        self.post(op, &paths::conversation_action(conversation, action), body)
            .await
    }
}
