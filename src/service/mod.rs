//! The use cases. Each one that changes state is one transaction: lock the workspace → read →
//! decide (domain rules) → write, collecting its `Effects` (events, notifications) → commit,
//! which queues the notifications, appends the events and delivers them after the commit.

mod accounts;
mod admin;
mod ai_turns;
mod assignment;
mod chat_links;
mod effects;
mod identity;
mod inbox;
mod invitations;
mod missed_replies;
mod notifications;
mod own_account;
mod passwords;
mod presence;
mod queue;
mod reports;
mod sessions;
mod streams;
mod teammates;
mod timers;
mod tokens;
mod validate;
mod visitor_presence;
mod visitor_records;
mod visitors;
mod widgets;

use std::sync::Arc;

use tokio::sync::Notify;

pub use accounts::{Credentials, NewTeammate, SignedIn, Signup};
pub use admin::{Admin, AdminSettings, WorkspaceSummary};
pub use chat_links::LinkedChat;
pub use identity::{Identified, Identity};
pub use inbox::{
    ConversationDetail, ConversationPage, ConversationView, InboxQuery, InboxRow, View,
};
pub use invitations::{CreatedInvitation, InvitationPreview, NewInvitation};
pub use reports::{OperatorReport, RoutingReport, report_window};
pub use sessions::SESSION_LIFETIME_MS;
pub use teammates::TeammateChange;
pub use tokens::hash_token;
pub use visitor_presence::{VisitorPresence, beat, new_node_id};
pub use visitor_records::VisitorDetail;
pub use visitors::{NewChat, StartedConversation, VisitorConversation, VisitorMessage, sighting};
pub use widgets::{RoutingChange, WidgetChange};

use self::effects::Effects;
use self::passwords::Passwords;
use crate::ai::Responder;
use crate::domain::Id;
use crate::metrics::Metrics;
use crate::realtime::EventSink;
use crate::store::{Operator, Store, StoreError, WriteTx};

/// Why a use case refused or failed. The HTTP layer maps each to a status and a JSON error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// 400: the input is malformed or outside what is allowed.
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// 401: no valid credentials.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// 403: authenticated, but not allowed.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: no such thing in the caller's reach (another workspace's ids included).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 404: a one-time link (an invitation, a password reset) that is unknown, used, expired
    /// or revoked; the message says what to do instead.
    #[error("{0}")]
    InvalidLink(&'static str),
    /// 409: the state does not allow it.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 409: an `if_assignee_id` precondition failed; carries who has the conversation now
    /// (boxed: errors travel through every use case's `Result`, which should stay small).
    #[error("{}", assignee_changed_message(current.as_deref()))]
    AssigneeChanged { current: Option<Box<Operator>> },
    /// 409: the email and password open several workspaces; sign in naming one of them.
    #[error("This email and password open several workspaces: choose one")]
    WorkspaceRequired {
        workspaces: Vec<crate::store::Workspace>,
    },
    /// 503: the database cannot be reached right now.
    #[error("the database is unavailable, try again shortly")]
    Unavailable(#[source] StoreError),
    /// 500: a bug or a broken database.
    #[error("internal error")]
    Internal(#[source] StoreError),
}

fn assignee_changed_message(current: Option<&Operator>) -> String {
    match current {
        Some(op) => format!("{} has this conversation", op.name),
        None => "This conversation is unassigned".to_owned(),
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> ServiceError {
        if e.is_unavailable() {
            ServiceError::Unavailable(e)
        } else {
            ServiceError::Internal(e)
        }
    }
}

impl ServiceError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError::Invalid {
            code,
            message: message.into(),
        }
    }

    fn forbidden(message: impl Into<String>) -> ServiceError {
        ServiceError::Forbidden {
            code: "forbidden",
            message: message.into(),
        }
    }

    fn conflict(code: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError::Conflict {
            code,
            message: message.into(),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

#[derive(Debug, Clone)]
pub struct Settings {
    /// Allow `POST /signup` even when workspaces exist.
    pub allow_signup: bool,
    /// Where people reach the server; deep links start with it.
    pub public_url: String,
    /// Whether SMTP is configured: without it no email is queued.
    pub email_enabled: bool,
    /// Accept `http://` push endpoints (only for testing against a local push service).
    pub push_allow_http: bool,
    pub vapid_public_key: String,
    /// Woken when notifications were queued, so the worker delivers them at once.
    pub notify_wake: Arc<Notify>,
    /// How long a chat may owe the AI a turn before another node takes the turn over: longer
    /// than a turn can take.
    pub ai_turn_takeover: std::time::Duration,
    /// The process's shutdown signal, for work that retries until it is done.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Woken when a deadline was armed, so the timer task looks at the next one again.
    pub timer_wake: Arc<Notify>,
    /// How long after an operator's last inbox tab closed they turn Away (SPEC 9).
    pub presence_grace: std::time::Duration,
    /// Widget timers may be as short as 1 s (`--allow-short-timers`, for tests).
    pub allow_short_timers: bool,
    /// The open inbox streams: a graceful stop waits for them to count their tabs closed.
    pub streams: tokio_util::task::TaskTracker,
    /// How long a reply to a visitor with no widget open waits before it is emailed.
    pub visitor_email_delay: std::time::Duration,
    /// This process's id among the nodes holding visitor streams (`visitor_presence`).
    pub node_id: String,
    /// Ended visitor streams not yet forgotten in the database (it was unreachable).
    pub unclosed_streams: Arc<std::sync::Mutex<Vec<Id>>>,
}

/// Everything the use cases need; cheap to clone.
#[derive(Clone)]
pub struct Service {
    store: Store,
    events: EventSink,
    responder: Arc<dyn Responder>,
    passwords: Passwords,
    settings: Settings,
    metrics: Arc<Metrics>,
}

impl Service {
    pub fn new(
        store: Store,
        events: EventSink,
        responder: Arc<dyn Responder>,
        settings: Settings,
        metrics: Arc<Metrics>,
    ) -> Service {
        Service {
            store,
            events,
            responder,
            passwords: Passwords::start(),
            settings,
            metrics,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Starts a transaction serialised with every other change in the workspace.
    async fn lock_workspace(&self, workspace_id: Id) -> ServiceResult<WriteTx> {
        let mut tx = self.store.write().await?;
        tx.lock_workspace(workspace_id).await?;
        Ok(tx)
    }

    /// Commits the transaction with its effects: the notifications and emails are queued and the events
    /// appended in it, and the events are delivered after the commit, never before
    /// (`EventSink::commit`), so an assignment, its events and its notifications commit or roll
    /// back together. Then the notification worker is woken.
    async fn commit(&self, mut tx: WriteTx, mut effects: Effects) -> ServiceResult<()> {
        queue::settle(&mut tx, &mut effects).await?;
        let queued = self
            .queue_notices(&mut tx, &effects.notices, effects.now)
            .await?
            + self
                .queue_mails(&mut tx, &effects.mails, effects.now)
                .await?;
        self.events.commit(tx, effects.events, effects.now).await?;
        for (mode, outcome) in effects.decisions {
            self.metrics.routing_decision(mode, outcome);
        }
        if queued > 0 {
            self.settings.notify_wake.notify_one();
        }
        if effects.timers_armed {
            self.settings.timer_wake.notify_one();
        }
        Ok(())
    }
}
