//! Rows as the rest of the program sees them.

use super::sql::from_row;
use crate::domain::routing::JoinPosition;
use crate::domain::sighting::LastSeen;
use crate::domain::visitor;
use crate::domain::{
    AssignmentReason, Author, Availability, AvailabilityReason, Id, Millis, Role, RoutingMode,
    Status, WaitingReason,
};

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: Id,
    pub name: String,
    pub created_at: Millis,
}
from_row!(Workspace {
    id,
    name,
    created_at
});

#[derive(Debug, Clone)]
pub struct Operator {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub availability: Availability,
    pub last_assigned_at: Option<Millis>,
    pub created_at: Millis,
    /// The most open chats auto-routing may give them; None = no limit.
    pub capacity: Option<i64>,
    pub deactivated_at: Option<Millis>,
    pub availability_reason: AvailabilityReason,
    /// Inbox event streams open now, on every node.
    pub open_tabs: i64,
    /// 1 once they opened an inbox tab since they last turned Available: only then does
    /// closing their last tab turn them Away.
    pub had_tab: i64,
}
from_row!(Operator {
    id,
    workspace_id,
    name,
    email,
    role: parsed,
    availability: parsed,
    last_assigned_at,
    created_at,
    capacity,
    deactivated_at,
    availability_reason: parsed,
    open_tabs,
    had_tab
});

impl Operator {
    /// Deactivated teammates cannot sign in and are never routed to; they stay in history.
    pub fn is_active(&self) -> bool {
        self.deactivated_at.is_none()
    }

    pub fn position(&self) -> JoinPosition {
        JoinPosition {
            joined_at: self.created_at,
            id: self.id,
        }
    }
}

/// An operator with their current load (open conversations assigned to them).
#[derive(Debug, Clone)]
pub struct OperatorWithLoad {
    pub operator: Operator,
    pub load: u64,
    pub reach: super::notifications::Reach,
}

/// An invitation to join a workspace. Its link's token is stored only as a hash.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: Id,
    pub workspace_id: Id,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub invited_by: Option<Id>,
    pub created_at: Millis,
    pub expires_at: Millis,
}
from_row!(Invitation {
    id,
    workspace_id,
    email,
    name,
    role: parsed,
    invited_by,
    created_at,
    expires_at
});

#[derive(Debug, Clone)]
pub struct Widget {
    pub id: Id,
    pub workspace_id: Id,
    pub name: String,
    pub public_key: String,
    pub routing_mode: RoutingMode,
    pub rr_cursor_joined_at: Option<Millis>,
    pub rr_cursor_operator_id: Option<Id>,
    pub created_at: Millis,
    allowed_origins: String,
    /// Signs the embedding site's user ids (`domain::identity`). Owners and admins see it; no
    /// one else, visitors least of all.
    pub identity_secret: String,
    greeting: Option<String>,
    /// Route an unanswered routed chat again after this long; None = off.
    pub reassign_after_secs: Option<i64>,
    /// Close a chat without messages for this long; None = off.
    pub auto_close_after_secs: Option<i64>,
}
from_row!(Widget {
    id,
    workspace_id,
    name,
    public_key,
    routing_mode: parsed,
    rr_cursor_joined_at,
    rr_cursor_operator_id,
    created_at,
    allowed_origins,
    identity_secret,
    greeting,
    reassign_after_secs,
    auto_close_after_secs
});

/// What a widget says when it opens, until a manager writes their own.
pub const DEFAULT_GREETING: &str = "Hi there! Ask us anything. We're happy to help.";

impl Widget {
    /// Origins (`scheme://host[:port]`) pages embedding the widget may have; empty = any.
    pub fn allowed_origins(&self) -> Vec<String> {
        self.allowed_origins
            .lines()
            .map(str::to_owned)
            .filter(|o| !o.is_empty())
            .collect()
    }

    /// Whether a browser request from `origin` may use the widget.
    pub fn allows_origin(&self, origin: &str) -> bool {
        let allowed = self.allowed_origins();
        allowed.is_empty() || allowed.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    /// The first thing the widget says to a visitor.
    pub fn greeting(&self) -> &str {
        self.greeting.as_deref().unwrap_or(DEFAULT_GREETING)
    }

    pub fn rr_cursor(&self) -> Option<JoinPosition> {
        JoinPosition::of(self.rr_cursor_joined_at, self.rr_cursor_operator_id)
    }
}

/// A widget with its eligible operators (empty = everyone).
#[derive(Debug, Clone)]
pub struct WidgetWithRouting {
    pub widget: Widget,
    pub eligible_operator_ids: Vec<Id>,
}

/// A widget's visitor: one person, who may hold several visitor tokens (one per browser) once
/// the embedding site has identified them on each.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub id: Id,
    pub widget_id: Id,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The embedding site's user id, once the site identified them.
    pub external_id: Option<String>,
    verified: i64,
    pub current_url: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    pub first_seen_at: Millis,
    pub last_seen_at: Millis,
}
from_row!(Visitor {
    id,
    widget_id,
    name,
    email,
    external_id,
    verified,
    current_url,
    referrer,
    user_agent,
    first_seen_at,
    last_seen_at
});

impl Visitor {
    /// Whether the embedding site vouched for `external_id` with a valid hash.
    pub fn verified(&self) -> bool {
        self.verified != 0
    }

    /// Their name or email, else their generated name.
    pub fn display_name(&self) -> String {
        visitor::display_name(self.id, self.name.as_deref(), self.email.as_deref())
    }

    pub fn last_seen(&self) -> LastSeen<'_> {
        LastSeen {
            at: self.last_seen_at,
            url: self.current_url.as_deref(),
            referrer: self.referrer.as_deref(),
            user_agent: self.user_agent.as_deref(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: Id,
    pub workspace_id: Id,
    pub widget_id: Id,
    pub visitor_id: Id,
    pub status: Status,
    pub assignee_id: Option<Id>,
    waiting_reason: Option<String>,
    pub last_message_preview: String,
    pub created_at: Millis,
    pub last_message_at: Millis,
    /// When it last became unassigned while needing a human (SPEC 9); None otherwise.
    pub queued_at: Option<Millis>,
}
from_row!(Conversation {
    id,
    workspace_id,
    widget_id,
    visitor_id,
    status: parsed,
    assignee_id,
    waiting_reason,
    last_message_preview,
    created_at,
    last_message_at,
    queued_at
});

impl Conversation {
    /// Why a conversation that needs a human has nobody yet; `None` once someone has it or
    /// while the AI handles it.
    pub fn waiting_reason(&self) -> Option<WaitingReason> {
        if self.assignee_id.is_some() || self.status != Status::HandedOff {
            return None;
        }
        self.waiting_reason.as_deref().and_then(|r| r.parse().ok())
    }
}

#[derive(Debug, Clone)]
pub struct Message {
    pub id: Id,
    pub conversation_id: Id,
    pub author: Author,
    pub operator_id: Option<Id>,
    pub body: String,
    pub created_at: Millis,
}
from_row!(Message {
    id,
    conversation_id,
    author: parsed,
    operator_id,
    body,
    created_at
});

#[derive(Debug, Clone)]
pub struct AssignmentEvent {
    pub id: Id,
    pub conversation_id: Id,
    pub from_operator_id: Option<Id>,
    pub to_operator_id: Option<Id>,
    pub reason: AssignmentReason,
    pub actor_id: Option<Id>,
    pub at: Millis,
    /// The routing decision behind it, as stored (JSON); None when no routing made it.
    decision: Option<String>,
    /// Set when routing took the chat from the queue: when it had been queued since.
    pub queued_at: Option<Millis>,
}
from_row!(AssignmentEvent {
    id,
    conversation_id,
    from_operator_id,
    to_operator_id,
    reason: parsed,
    actor_id,
    at,
    decision,
    queued_at
});

impl AssignmentEvent {
    pub fn decision(&self) -> Option<crate::domain::routing::Decision> {
        serde_json::from_str(self.decision.as_deref()?).ok()
    }
}
