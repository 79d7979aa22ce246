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
/// person", "human please", "can I speak to someone", "get me an agent", …). A word like
/// "person" or "anyone" counts only in a request ("speak to", "I need", …) or in a message
/// made of nothing else ("anyone there?"), so "how much per person?" and "does anyone ship to
/// Spain?" are questions for the knowledge base.
pub fn asks_for_human(text: &str) -> bool {
    const HUMANS: &[&str] = &[
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
    const REQUESTS: &[&str] = &[
        "talk", "speak", "connect", "transfer", "want", "need", "reach", "contact",
    ];
    const FILLER: &[&str] = &[
        "a", "an", "the", "is", "are", "there", "here", "please", "pls", "now", "i", "me", "can",
        "could", "you", "get", "real", "live", "to", "with", "hello", "hi", "hey",
    ];
    const PHRASES: &[&str] = &[
        "real person",
        "live chat",
        "customer service",
        "not a bot",
        "not a robot",
        "get me a",
        "get me an",
    ];
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let names_a_human = words.iter().any(|w| HUMANS.contains(w));
    PHRASES.iter().any(|p| lower.contains(p))
        || names_a_human
            && (words.iter().any(|w| REQUESTS.contains(w))
                || words
                    .iter()
                    .all(|w| HUMANS.contains(w) || FILLER.contains(w)))
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
            "human please",
            "I need an agent now",
            "could you connect me with your staff",
        ] {
            assert!(asks_for_human(text), "{text}");
        }
        for text in [
            "What are your opening hours?",
            "personal data export",
            "humanity",
            "how do refunds work",
            "do you support PayPal?",
            "How much per person?",
            "Does anyone ship to Spain?",
            "staff discount?",
            "is the operator fee refundable",
        ] {
            assert!(!asks_for_human(text), "{text}");
        }
    }
}
