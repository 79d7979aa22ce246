//! Conversation statuses and the transitions between them.

use super::{Availability, text_enum};

text_enum!(
    /// `active`: the AI handles it. `handed_off`: a human is needed or already on it; the AI is
    /// silent. `closed`: done until the visitor writes again.
    Status, "status" {
        Active => "active",
        HandedOff => "handed_off",
        Closed => "closed",
    }
);

text_enum!(
    /// Who wrote a message.
    Author, "author" {
        Visitor => "visitor",
        Ai => "ai",
        Operator => "operator",
        System => "system",
    }
);

impl Status {
    /// Open conversations count towards their assignee's load.
    pub fn is_open(self) -> bool {
        self != Status::Closed
    }

    /// The status after an operator replies, claims or is assigned: any human involvement stops
    /// the AI, and nothing reopens a closed chat but the visitor or an explicit reopen.
    pub fn after_operator_action(self) -> Status {
        match self {
            Status::Active => Status::HandedOff,
            other => other,
        }
    }
}

/// What happens to the assignee when a closed conversation is reopened by its visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeOnReopen {
    /// The assignee is available: they keep the chat.
    Keep,
    /// The assignee is away: the chat is unassigned, then routed by the widget's mode, so a
    /// returning customer never waits on someone who is off shift.
    UnassignThenRoute,
    /// Nobody had it: route it like any handover.
    Route,
}

pub fn assignee_on_reopen(assignee: Option<Availability>) -> AssigneeOnReopen {
    match assignee {
        Some(Availability::Available) => AssigneeOnReopen::Keep,
        Some(Availability::Away) => AssigneeOnReopen::UnassignThenRoute,
        None => AssigneeOnReopen::Route,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_action_stops_the_ai_but_does_not_reopen() {
        assert_eq!(Status::Active.after_operator_action(), Status::HandedOff);
        assert_eq!(Status::HandedOff.after_operator_action(), Status::HandedOff);
        assert_eq!(Status::Closed.after_operator_action(), Status::Closed);
    }

    #[test]
    fn reopen_keeps_only_an_available_assignee() {
        assert_eq!(
            assignee_on_reopen(Some(Availability::Available)),
            AssigneeOnReopen::Keep
        );
        assert_eq!(
            assignee_on_reopen(Some(Availability::Away)),
            AssigneeOnReopen::UnassignThenRoute
        );
        assert_eq!(assignee_on_reopen(None), AssigneeOnReopen::Route);
    }
}
