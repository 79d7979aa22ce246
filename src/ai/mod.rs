//! The AI stage: a responder reads the conversation and either answers or hands over to the
//! team. Responders are behind a small trait so the built-in one can be swapped for a hosted
//! model without touching the conversation flow.

mod greeter;

use std::future::Future;
use std::pin::Pin;

pub use greeter::Greeter;

use crate::store::Message;

/// What the responder decided to do with the visitor's latest message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AiTurn {
    Reply(String),
    /// A human is needed: the visitor asked for one, or the responder cannot help.
    Handover,
}

pub type TurnFuture<'a> = Pin<Box<dyn Future<Output = AiTurn> + Send + 'a>>;

pub trait Responder: Send + Sync {
    /// Decides the next turn from the transcript so far (oldest first; the last message is the
    /// visitor's). Never fails: a responder that cannot answer hands over.
    fn respond<'a>(&'a self, transcript: &'a [Message]) -> TurnFuture<'a>;
}

/// Whether a visitor's words ask for a human, in any of the usual phrasings.
pub fn asks_for_human(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "human",
        "humans",
        "person",
        "agent",
        "operator",
        "representative",
        "staff",
        "someone",
        "somebody",
    ];
    let lower = text.to_lowercase();
    lower
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
        ] {
            assert!(asks_for_human(text), "{text}");
        }
        for text in [
            "What are your opening hours?",
            "personal data export",
            "humanity",
        ] {
            assert!(!asks_for_human(text), "{text}");
        }
    }
}
