//! What the notification outbox carries, who gets an "assigned to you" notification, and how
//! retries back off.

use std::time::Duration;

use super::{Id, Millis, text_enum};

text_enum!(
    /// What an outbox row's payload is: an "assigned to you" notice (email or push, to an
    /// operator), an invitation to join a workspace (email, to an address), a password reset
    /// link (email, to an operator's address) or the replies a visitor missed (email, to the
    /// address they left, with a link to the chat).
    OutboxKind, "outbox kind" {
        Assignment => "assignment",
        Invitation => "invitation",
        PasswordReset => "password_reset",
        VisitorReplies => "visitor_replies",
    }
);

impl OutboxKind {
    /// Its payload holds a one-time link: the link's token is in the database in the clear
    /// only until the row is done with (sent, or given up), then the payload is emptied.
    pub fn holds_a_link(self) -> bool {
        self != OutboxKind::Assignment
    }
}

/// The operator to notify of an assignment change, if any: the new assignee, unless they made
/// the change themselves (their own claim or reply, or picking themselves). Unassigning
/// notifies nobody.
pub fn recipient_of_assignment(to: Option<Id>, actor_id: Option<Id>) -> Option<Id> {
    to.filter(|to| Some(*to) != actor_id)
}

/// Delay before retry number `attempts` (1 = the first retry): doubling from one second, never
/// more than `max`.
pub fn retry_delay(attempts: u32, max: Duration) -> Duration {
    let doubled = Duration::from_secs(1).saturating_mul(
        1u32.checked_shl(attempts.saturating_sub(1))
            .unwrap_or(u32::MAX),
    );
    doubled.min(max)
}

/// A notification still failing this long after it was queued is given up (and logged).
pub const GIVE_UP_AFTER_MS: Millis = 3 * 24 * 60 * 60 * 1000;

pub fn gives_up(queued_at: Millis, now: Millis) -> bool {
    now - queued_at > GIVE_UP_AFTER_MS
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn own_claims_and_replies_notify_nobody() {
        assert_eq!(recipient_of_assignment(Some(2), None), Some(2), "routing");
        assert_eq!(
            recipient_of_assignment(Some(2), Some(1)),
            Some(2),
            "a teammate's pick"
        );
        assert_eq!(
            recipient_of_assignment(Some(2), Some(2)),
            None,
            "own claim or reply"
        );
        assert_eq!(recipient_of_assignment(None, Some(1)), None, "unassign");
    }

    proptest! {
        #[test]
        fn retries_back_off_monotonically_up_to_the_cap(attempts in 1u32..200, max_secs in 1u64..10_000) {
            let max = Duration::from_secs(max_secs);
            let delay = retry_delay(attempts, max);
            prop_assert!(delay <= max);
            prop_assert!(delay >= Duration::from_secs(1).min(max));
            prop_assert!(retry_delay(attempts + 1, max) >= delay);
        }
    }
}
