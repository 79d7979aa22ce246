//! The AI stage: a responder reads the conversation and either answers or hands over to the
//! team. Two implementations sit behind the `Responder` trait: the built-in, offline
//! knowledge-base responder, and an OpenAI-compatible chat-completions provider.

mod knowledge;
mod openai;

use std::future::Future;
use std::pin::Pin;

pub use knowledge::KnowledgeBase;
pub use openai::OpenAiCompatible;

use crate::store::Message;
use crate::store::widgets::Article;

/// What the responder decided to do with the visitor's latest message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AiTurn {
    Reply(String),
    /// A human is needed: the visitor asked for one, or the responder cannot help.
    Handover,
}

/// What a responder sees: the conversation so far (oldest first; the last message is the
/// visitor's) and the widget's knowledge base.
#[derive(Debug, Clone, Copy)]
pub struct Turn<'a> {
    pub transcript: &'a [Message],
    pub articles: &'a [Article],
}

pub type TurnFuture<'a> = Pin<Box<dyn Future<Output = AiTurn> + Send + 'a>>;

pub trait Responder: Send + Sync {
    /// Decides the next turn. Never fails: a responder that cannot answer hands over.
    fn respond<'a>(&'a self, turn: Turn<'a>) -> TurnFuture<'a>;
}

/// Whether a visitor's words ask for a human, in any of the usual phrasings ("talk to a
/// person", "human please", "can I speak to someone", "get me an agent", …).
pub fn asks_for_human(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "human",
        "humans",
        "person",
        "people",
        "agent",
        "agents",
        "operator",
        "representative",
        "rep",
        "staff",
        "someone",
        "somebody",
        "anyone",
        "anybody",
    ];
    const PHRASES: &[&str] = &[
        "real person",
        "live chat",
        "customer service",
        "not a bot",
        "not a robot",
    ];
    let lower = text.to_lowercase();
    PHRASES.iter().any(|p| lower.contains(p))
        || lower
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| WORDS.contains(&word))
}

#[cfg(test)]
mod tests {
    use super::asks_for_human;

    #[test]
    fn recognises_requests_for_a_human() {
        for text in [
            "Can I talk to a human?",
            "I want a real PERSON please",
            "agent",
            "Let me speak to someone",
            "get me a representative!",
            "is anyone there?",
            "I need customer service",
            "are you a bot? I want live chat",
        ] {
            assert!(asks_for_human(text), "{text}");
        }
        for text in [
            "What are your opening hours?",
            "personal data export",
            "humanity",
            "how do refunds work",
            "do you support PayPal?",
        ] {
            assert!(!asks_for_human(text), "{text}");
        }
    }
}
