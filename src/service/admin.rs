//! What `switchboard admin` does on the database, for the things nobody can click: a lost
//! owner password, the first owner of a server whose signup is closed, a teammate to lock out.
//! The same rules as the API's (validation, hashing, unique emails), without a running server:
//! the same use cases where there is one (deactivation), over a `Service` of the command's own.

use super::accounts::NewOwner;
use super::own_account::RESET_LIFETIME_MS;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::tokens::{hash_token, new_token};
use super::visitor_presence::new_node_id;
use super::{Service, ServiceError, ServiceResult, Settings, Signup, validate};
use crate::ai::KnowledgeBase;
use crate::domain::Id;
use crate::metrics::Metrics;
use crate::realtime::{EventSink, Hub};
use crate::store::{Operator, Store, Workspace, operators, password_resets, sessions, workspaces};
use crate::timefmt::now_millis;

pub struct Admin {
    service: Service,
}

/// What the commands need to know of the servers' settings besides the database.
pub struct AdminSettings {
    /// Where people reach the server: links start with it.
    pub public_url: String,
    /// Whether the servers send email: then the teammates a deactivated person's chats move to
    /// are emailed, as when it is done in the inbox.
    pub email_enabled: bool,
}

/// A workspace as listed: with how many operators it has.
pub struct WorkspaceSummary {
    pub workspace: Workspace,
    pub operators: i64,
}

impl Admin {
    /// Its events go to the event log (and, on PostgreSQL, to the running servers); the
    /// notifications it queues are delivered by a server's worker, which polls the outbox.
    pub fn new(store: Store, settings: AdminSettings) -> Admin {
        // Nothing a command starts runs past it, so nothing ever needs this signal.
        let never = CancellationToken::new();
        let events = EventSink::publisher(&store, Hub::new(1, never.clone()));
        let settings = Settings {
            allow_signup: false,
            public_url: settings.public_url.trim_end_matches('/').to_owned(),
            email_enabled: settings.email_enabled,
            push_allow_http: false,
            // The key is only shown to browsers subscribing to push, which a command never
            // answers.
            vapid_public_key: String::new(),
            notify_wake: Arc::new(Notify::new()),
            ai_turn_takeover: Duration::ZERO,
            shutdown: never,
            // The deadlines a command arms are in the database: the servers' timer tasks find
            // them within their safety re-check (service/timers.rs).
            timer_wake: Arc::new(Notify::new()),
            // A command opens no inbox tabs, so no grace period ever starts here.
            presence_grace: Duration::ZERO,
            allow_short_timers: false,
            streams: tokio_util::task::TaskTracker::new(),
            // Nor visitor streams, or replies to email.
            visitor_email_delay: Duration::ZERO,
            node_id: new_node_id(),
            unclosed_streams: Arc::default(),
        };
        let service = Service::new(
            store,
            events,
            Arc::new(KnowledgeBase),
            settings,
            Metrics::new(),
        );
        Admin { service }
    }

    fn store(&self) -> &Store {
        &self.service.store
    }

    /// The operator with this email, in `workspace_id` when given. An email may belong to an
    /// operator in each of several workspaces; then the workspace must be named.
    pub async fn operator(&self, email: &str, workspace_id: Option<Id>) -> ServiceResult<Operator> {
        let email = email.trim().to_lowercase();
        let mut found: Vec<Operator> =
            operators::by_email_with_hash(&mut self.store().read().await?, &email)
                .await?
                .into_iter()
                .map(|(operator, _)| operator)
                .filter(|o| workspace_id.is_none_or(|id| id == o.workspace_id))
                .collect();
        match found.len() {
            0 => Err(ServiceError::invalid(
                "not_found",
                format!("no operator has the email {email}"),
            )),
            1 => Ok(found.remove(0)),
            _ => {
                let ids: Vec<String> = found.iter().map(|o| o.workspace_id.to_string()).collect();
                Err(ServiceError::invalid(
                    "workspace_required",
                    format!(
                        "{email} is in workspaces {}: name one with --workspace ID",
                        ids.join(", ")
                    ),
                ))
            }
        }
    }

    /// Sets a new password and ends the operator's sessions: whoever knew the old one is
    /// signed out.
    pub async fn reset_password(
        &self,
        operator: &Operator,
        password: String,
    ) -> ServiceResult<u64> {
        validate::password(&password)?;
        let hash = self.hash(password).await?;
        let mut tx = self.store().write().await?;
        operators::set_password_hash(tx.conn(), operator.id, &hash).await?;
        let ended = sessions::delete_for_operator(tx.conn(), operator.id, None).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// A one-time link that lets the operator choose a new password, like the one a reset
    /// email carries: valid for an hour, once; stored only as its hash.
    pub async fn reset_link(&self, operator: &Operator) -> ServiceResult<String> {
        let token = new_token();
        let now = now_millis();
        let mut tx = self.store().write().await?;
        password_resets::insert(
            tx.conn(),
            operator.id,
            &hash_token(&token),
            now,
            now + RESET_LIFETIME_MS,
        )
        .await?;
        tx.commit().await?;
        Ok(format!(
            "{}/reset/{token}",
            self.service.settings.public_url
        ))
    }

    /// A new workspace and its owner, whether or not the server allows signup.
    pub async fn create_owner(&self, input: Signup) -> ServiceResult<(Workspace, Operator)> {
        let owner = NewOwner::validate(&input)?;
        let password_hash = self.hash(input.password).await?;
        let mut tx = self.store().write().await?;
        let (workspace, operator) = owner.insert(&mut tx, &password_hash, now_millis()).await?;
        tx.commit().await?;
        Ok((workspace, operator))
    }

    pub async fn list_workspaces(&self) -> ServiceResult<Vec<WorkspaceSummary>> {
        let rows = workspaces::list_with_operator_counts(&mut self.store().read().await?).await?;
        Ok(rows
            .into_iter()
            .map(|(workspace, operators)| WorkspaceSummary {
                workspace,
                operators,
            })
            .collect())
    }

    /// Ends every session of the operator; returns how many there were.
    /// Deactivates the operator as the inbox does (SPEC 11): no more sign-ins, their sessions
    /// end, their open chats move to the team; the last active owner is refused.
    pub async fn deactivate(&self, operator: &Operator) -> ServiceResult<Operator> {
        let mut tx = self.service.lock_workspace(operator.workspace_id).await?;
        let before = operators::get(tx.conn(), operator.workspace_id, operator.id)
            .await?
            .ok_or(ServiceError::NotFound("operator"))?;
        self.service.deactivate_locked(tx, before, None).await
    }

    async fn hash(&self, password: String) -> ServiceResult<String> {
        self.service.passwords.hash(password).await.ok_or_else(|| {
            ServiceError::invalid("invalid_password", "password could not be hashed")
        })
    }
}
