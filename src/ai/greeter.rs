use super::{AiTurn, Responder, TurnFuture, asks_for_human};
use crate::domain::Author;
use crate::store::Message;

/// The minimal built-in responder: it welcomes the visitor and hands over as soon as they ask
/// for a person.
pub struct Greeter;

const WELCOME: &str = "Hi! I'm the AI assistant. Tell me what you need, or ask for a person \
                       and I'll bring in someone from the team.";
const FOLLOW_UP: &str = "Thanks, noted. If you'd rather talk to a person, just say so.";

impl Responder for Greeter {
    fn respond<'a>(&'a self, transcript: &'a [Message]) -> TurnFuture<'a> {
        let visitor_messages: Vec<&Message> = transcript
            .iter()
            .filter(|m| m.author == Author::Visitor)
            .collect();
        let turn = match visitor_messages.last() {
            Some(last) if asks_for_human(&last.body) => AiTurn::Handover,
            _ if visitor_messages.len() <= 1 => AiTurn::Reply(WELCOME.to_owned()),
            _ => AiTurn::Reply(FOLLOW_UP.to_owned()),
        };
        Box::pin(std::future::ready(turn))
    }
}
