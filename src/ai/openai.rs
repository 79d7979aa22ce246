//! A responder backed by any OpenAI-compatible chat-completions API (`POST
//! {base_url}/chat/completions`). The model answers in text, or hands over by calling the
//! `hand_over_to_human` tool. Whatever goes wrong — a timeout, an error status, an unreadable
//! answer — the chat is handed over: a visitor is never left without an answer.

use std::time::Duration;

use serde_json::{Value, json};

use super::{AiTurn, Responder, Turn, TurnFuture};
use crate::domain::Author;

const HANDOVER_TOOL: &str = "hand_over_to_human";
/// Most knowledge-base text put in the prompt, in characters.
const MAX_KNOWLEDGE_CHARS: usize = 12_000;

pub struct OpenAiCompatible {
    client: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
}

impl OpenAiCompatible {
    pub fn new(
        base_url: &str,
        model: &str,
        api_key: Option<String>,
        timeout: Duration,
    ) -> OpenAiCompatible {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        OpenAiCompatible {
            client,
            url: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            model: model.to_owned(),
            api_key,
        }
    }

    fn request_body(&self, turn: Turn<'_>) -> Value {
        let mut knowledge = String::new();
        for article in turn.articles {
            let entry = format!("Q: {}\nA: {}\n\n", article.question, article.answer);
            if knowledge.len() + entry.len() > MAX_KNOWLEDGE_CHARS {
                break;
            }
            knowledge.push_str(&entry);
        }
        let system = format!(
            "You are the support assistant on a company's website chat. Answer briefly and only from \
             the knowledge base below. If the visitor asks for a person, or the knowledge base does \
             not answer the question, call the {HANDOVER_TOOL} tool instead of answering.\n\n\
             Knowledge base:\n{knowledge}"
        );
        let mut messages = vec![json!({"role": "system", "content": system})];
        for message in turn.transcript {
            let role = match message.author {
                Author::Visitor => "user",
                Author::Ai | Author::Operator => "assistant",
                Author::System => continue,
            };
            messages.push(json!({"role": role, "content": message.body}));
        }
        json!({
            "model": self.model,
            "messages": messages,
            "tools": [{
                "type": "function",
                "function": {
                    "name": HANDOVER_TOOL,
                    "description": "Hand the conversation to a human teammate.",
                    "parameters": {"type": "object", "properties": {"reason": {"type": "string"}}},
                },
            }],
        })
    }

    async fn ask(&self, turn: Turn<'_>) -> Result<AiTurn, String> {
        let mut request = self.client.post(&self.url).json(&self.request_body(turn));
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("provider answered {}", response.status()));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| format!("unreadable answer: {e}"))?;
        interpret(&body)
    }
}

/// Reads a chat-completions answer: a call of the handover tool hands over, text replies.
fn interpret(body: &Value) -> Result<AiTurn, String> {
    let message = &body["choices"][0]["message"];
    let wants_human = message["tool_calls"]
        .as_array()
        .is_some_and(|calls| calls.iter().any(|c| c["function"]["name"] == HANDOVER_TOOL));
    if wants_human {
        return Ok(AiTurn::Handover);
    }
    match message["content"].as_str().map(str::trim) {
        Some(text) if !text.is_empty() => Ok(AiTurn::Reply(text.to_owned())),
        _ => Err("the answer had neither text nor a handover".to_owned()),
    }
}

impl Responder for OpenAiCompatible {
    fn respond<'a>(&'a self, turn: Turn<'a>) -> TurnFuture<'a> {
        Box::pin(async move {
            self.ask(turn).await.unwrap_or_else(|error| {
                tracing::warn!(%error, "AI provider failed; handing the chat over");
                AiTurn::Handover
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_replies_and_tool_calls_hand_over() {
        let text =
            json!({"choices": [{"message": {"role": "assistant", "content": " We open at 9. "}}]});
        assert_eq!(interpret(&text), Ok(AiTurn::Reply("We open at 9.".into())));
        let tool = json!({"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "hand_over_to_human", "arguments": "{}"}}
        ]}}]});
        assert_eq!(interpret(&tool), Ok(AiTurn::Handover));
        assert!(interpret(&json!({"choices": []})).is_err());
    }
}
