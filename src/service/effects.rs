//! What a use case's transaction causes beyond its own rows, collected while it runs and acted
//! on by `Service::commit`.

use crate::domain::event::Event;
use crate::domain::notification::OutboxKind;
use crate::domain::{AssignmentReason, Id, Millis, RoutingMode};
use crate::metrics::RoutingOutcome;
use crate::store::Operator;
use crate::store::notifications::Reach;

/// The effects of one transaction: the live events it will append and deliver, and the
/// personal notifications and emails it will queue, with the clock reading they all carry.
/// They commit with the transaction or not at all.
pub(super) struct Effects {
    pub now: Millis,
    pub events: Vec<Event>,
    pub notices: Vec<PendingNotice>,
    pub mails: Vec<PendingMail>,
    /// The routing decisions made, counted in the metrics once the transaction commits.
    pub decisions: Vec<(RoutingMode, RoutingOutcome)>,
    /// A candidate may have appeared (SPEC 9): the workspace's queue drains before commit.
    pub drain: bool,
    /// The queue may have changed: visitors whose place in line moved are told before commit.
    pub queue_changed: bool,
    /// A deadline was armed: the timer task is woken after commit to look again.
    pub timers_armed: bool,
}

/// An "assigned to you" notification to queue with the transaction.
pub(super) struct PendingNotice {
    pub recipient: Operator,
    pub conversation_id: Id,
    /// When the assignment was made: with the chat and the recipient, what tells this
    /// assignment's notifications from any other's (their idempotency key).
    pub at: Millis,
    pub reason: AssignmentReason,
    /// How the recipient can be reached, when routing read it with the team under this
    /// transaction's lock: a recipient with nowhere to be told costs no further read.
    pub reach: Option<Reach>,
}

/// An email about someone's account (an invitation, a reset link) to queue with the
/// transaction.
pub(super) struct PendingMail {
    pub kind: OutboxKind,
    /// The operator it concerns, when it is for one.
    pub operator_id: Option<Id>,
    pub to: String,
    /// Unique per email: a second queueing of the same key is ignored, and it names the row
    /// to cancel.
    pub idempotency_key: String,
    /// The email's content (`notify::account_email`), as JSON.
    pub payload: String,
}

impl Effects {
    pub fn new(now: Millis) -> Effects {
        Effects {
            now,
            events: Vec::new(),
            notices: Vec::new(),
            mails: Vec::new(),
            decisions: Vec::new(),
            drain: false,
            queue_changed: false,
            timers_armed: false,
        }
    }
}
