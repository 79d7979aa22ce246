//! What an operator changes of their own account: their name and their password, and getting
//! back in with a reset link when they forgot it.

use super::effects::{Effects, PendingMail};
use super::sessions::{end_sessions, start_session};
use super::tokens::{hash_token, new_token};
use super::{Service, ServiceError, ServiceResult, SignedIn, validate};
use crate::domain::Millis;
use crate::domain::event::Event;
use crate::domain::notification::OutboxKind;
use crate::notify::account_email::PasswordResetEmail;
use crate::store::{Operator, operators, password_resets, workspaces};
use crate::timefmt::now_millis;

/// How long a password reset link works.
pub const RESET_LIFETIME_MS: Millis = 60 * 60 * 1000;

const INVALID_LINK: &str = "This password reset link no longer works: it was already used, or \
     it expired (links last one hour). Ask for a new one from the sign-in page.";

impl Service {
    /// Changes the caller's own name; `None` leaves it.
    pub async fn update_me(
        &self,
        caller: &Operator,
        name: Option<String>,
    ) -> ServiceResult<Operator> {
        let Some(name) = name else {
            return Ok(caller.clone());
        };
        let name = validate::name("name", &name)?;
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        let before = operators::get(tx.conn(), caller.workspace_id, caller.id)
            .await?
            .ok_or(ServiceError::NotFound("operator"))?;
        operators::set_profile(tx.conn(), caller.id, &name, before.role, before.capacity).await?;
        let after = Operator { name, ..before };
        let mut effects = Effects::new(now_millis());
        effects
            .events
            .push(Event::operator_updated(&after, effects.now));
        self.commit(tx, effects).await?;
        Ok(after)
    }

    /// Changes the caller's password, given the current one (else 403). Their other sessions
    /// end, on every device; the one making the change (`session_token`) stays signed in.
    pub async fn change_password(
        &self,
        caller: &Operator,
        session_token: &str,
        current: String,
        new: String,
    ) -> ServiceResult<()> {
        validate::password(&new)?;
        let stored = operators::password_hash(&mut self.store.read().await?, caller.id).await?;
        if !self.passwords.verify(current, stored).await {
            return Err(ServiceError::Forbidden {
                code: "wrong_password",
                message: "The current password is not right".into(),
            });
        }
        let hash = self.hash_password(new).await?;
        let mut effects = Effects::new(now_millis());
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        operators::set_password_hash(tx.conn(), caller.id, &hash).await?;
        password_resets::void_for_operator(tx.conn(), caller.id, effects.now).await?;
        end_sessions(&mut tx, caller, Some(session_token), &mut effects).await?;
        self.commit(tx, effects).await?;
        Ok(())
    }

    /// Someone forgot their password: every active operator with this email (one per
    /// workspace) is mailed a link to set a new one, valid for an hour and once. Returns at
    /// once, before anything is looked up, so the answer and its timing are the same whether
    /// the address belongs to anyone or not; the links are queued in the background. Without
    /// SMTP nothing can be sent, and nothing is done.
    pub fn request_password_reset(&self, email: &str) -> ServiceResult<()> {
        let email = validate::email(email)?;
        if self.settings.email_enabled {
            let service = self.clone();
            tokio::spawn(async move {
                if let Err(e) = service.queue_reset_links(&email).await {
                    tracing::warn!(error = %e, "could not queue password reset links");
                }
            });
        }
        Ok(())
    }

    async fn queue_reset_links(&self, email: &str) -> ServiceResult<()> {
        let found = operators::active_by_email(&mut self.store.read().await?, email).await?;
        for operator in found {
            let token = new_token();
            let mut effects = Effects::new(now_millis());
            let expires_at = effects.now + RESET_LIFETIME_MS;
            let mut tx = self.store.write().await?;
            let id = password_resets::insert(
                tx.conn(),
                operator.id,
                &hash_token(&token),
                effects.now,
                expires_at,
            )
            .await?;
            let workspace = workspaces::get(tx.conn(), operator.workspace_id)
                .await?
                .ok_or(ServiceError::NotFound("workspace"))?;
            let content = PasswordResetEmail {
                name: operator.name.clone(),
                workspace_name: workspace.name,
                link: format!("{}/reset/{token}", self.settings.public_url),
                expires_at,
            };
            effects.mails.push(PendingMail {
                kind: OutboxKind::PasswordReset,
                operator_id: Some(operator.id),
                to: operator.email,
                idempotency_key: format!("password-reset-{id}-email"),
                payload: serde_json::to_string(&content).unwrap_or_default(),
            });
            self.commit(tx, effects).await?;
        }
        Ok(())
    }

    /// Sets a new password with a reset link, which then stops working (as do the operator's
    /// other links); every session of theirs ends and they are signed in afresh.
    pub async fn reset_password(&self, token: &str, password: String) -> ServiceResult<SignedIn> {
        let token_hash = hash_token(token);
        let operator_id =
            password_resets::pending(&mut self.store.read().await?, &token_hash, now_millis())
                .await?
                .ok_or(ServiceError::InvalidLink(INVALID_LINK))?;
        validate::password(&password)?;
        let hash = self.hash_password(password).await?;
        let mut effects = Effects::new(now_millis());
        let workspace_id = operators::workspace_of(&mut self.store.read().await?, operator_id)
            .await?
            .ok_or(ServiceError::InvalidLink(INVALID_LINK))?;
        let mut tx = self.lock_workspace(workspace_id).await?;
        password_resets::take(tx.conn(), &token_hash, effects.now)
            .await?
            .ok_or(ServiceError::InvalidLink(INVALID_LINK))?;
        let operator = operators::get(tx.conn(), workspace_id, operator_id)
            .await?
            .filter(Operator::is_active)
            .ok_or(ServiceError::InvalidLink(INVALID_LINK))?;
        operators::set_password_hash(tx.conn(), operator.id, &hash).await?;
        password_resets::void_for_operator(tx.conn(), operator.id, effects.now).await?;
        end_sessions(&mut tx, &operator, None, &mut effects).await?;
        let session = start_session(&mut tx, operator.id, effects.now).await?;
        let workspace = workspaces::get(tx.conn(), workspace_id)
            .await?
            .ok_or(ServiceError::NotFound("workspace"))?;
        self.commit(tx, effects).await?;
        Ok(SignedIn {
            token: session,
            operator,
            workspace,
        })
    }
}
