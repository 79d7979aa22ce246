//! The deadlines that act later (SPEC 9): kept in the database so that they survive restarts
//! and fire once across nodes.

use super::{Millis, text_enum};

text_enum!(
    /// What a deadline does when it comes: `reassign` moves a routed chat its assignee has not
    /// answered to someone not yet given it, `auto_close` closes a chat nobody wrote in for the
    /// widget's time, `presence` turns Away an operator whose last inbox tab closed.
    TimerKind, "timer kind" {
        Reassign => "reassign",
        AutoClose => "auto_close",
        Presence => "presence",
    }
);

/// What an auto-close adds to the timeline: "Closed after 30 minutes without messages".
pub fn auto_close_note(after_secs: i64) -> String {
    let minutes = (after_secs + 59) / 60;
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!("Closed after {minutes} {unit} without messages")
}

/// When a silent chat closes: `after_secs` after its last message.
pub fn auto_close_due(last_message_at: Millis, after_secs: i64) -> Millis {
    last_message_at + after_secs * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_counts_whole_minutes() {
        assert_eq!(
            auto_close_note(60),
            "Closed after 1 minute without messages"
        );
        assert_eq!(
            auto_close_note(1800),
            "Closed after 30 minutes without messages"
        );
        assert_eq!(
            auto_close_note(90),
            "Closed after 2 minutes without messages"
        );
        assert_eq!(auto_close_note(1), "Closed after 1 minute without messages");
    }
}
