//! Invitations: an owner or admin invites someone by email, and the link in that email lets
//! them choose a password and join, signed in. A link works once, for 7 days; inviting the
//! same address again replaces it.

use super::accounts::email_taken;
use super::effects::{Effects, PendingMail};
use super::sessions::start_session;
use super::tokens::{hash_token, new_token};
use super::{Service, ServiceError, ServiceResult, SignedIn, validate};
use crate::domain::event::Event;
use crate::domain::notification::OutboxKind;
use crate::domain::{Id, Millis, Role};
use crate::notify::account_email::InvitationEmail;
use crate::store::invitations::{self, NewInvitation as NewRow};
use crate::store::operators::{self, NewOperator};
use crate::store::{Invitation, Operator, Workspace, WriteTx, notifications, workspaces};
use crate::timefmt::now_millis;

/// How long an invitation's link works.
pub const INVITATION_LIFETIME_MS: Millis = 7 * 24 * 60 * 60 * 1000;

const INVALID_LINK: &str = "This invitation link no longer works: it was already used, revoked \
     or replaced, or it expired (links last 7 days). Ask an owner or admin of the workspace to \
     invite you again.";

pub struct NewInvitation {
    pub email: String,
    pub name: String,
    pub role: Role,
}

/// A new invitation, with its link: shown to the inviter this once (to pass on by hand when
/// the server sends no email), stored only as a hash.
pub struct CreatedInvitation {
    pub invitation: Invitation,
    pub link: String,
    /// Whether the link was queued to be emailed (SMTP is configured).
    pub emailed: bool,
}

/// What the invitation page shows before the invited person joins.
pub struct InvitationPreview {
    pub invitation: Invitation,
    pub workspace: Workspace,
}

impl Service {
    /// An owner or admin invites someone; only an owner invites an owner. An email already in
    /// the workspace is a 409; an email with an open invitation gets a new one, and the old
    /// link stops working.
    pub async fn invite(
        &self,
        caller: &Operator,
        input: NewInvitation,
    ) -> ServiceResult<CreatedInvitation> {
        if !caller.role.may_grant(input.role) {
            return Err(ServiceError::forbidden(if caller.role.can_manage() {
                "Only an owner can invite another owner"
            } else {
                "Only an owner or admin can invite teammates"
            }));
        }
        let name = validate::name("name", &input.name)?;
        let email = validate::email(&input.email)?;
        let mut effects = Effects::new(now_millis());
        let now = effects.now;
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        refuse_member(&mut tx, caller.workspace_id, &email).await?;
        if let Some(replaced) =
            invitations::revoke_open_for_email(tx.conn(), caller.workspace_id, &email, now).await?
        {
            notifications::cancel(tx.conn(), &mail_key(replaced)).await?;
        }
        let token = new_token();
        let row = NewRow {
            workspace_id: caller.workspace_id,
            email: &email,
            name: &name,
            role: input.role,
            token_hash: &hash_token(&token),
            invited_by: caller.id,
            expires_at: now + INVITATION_LIFETIME_MS,
        };
        let invitation = invitations::insert(tx.conn(), &row, now).await?;
        let link = format!("{}/invite/{token}", self.settings.public_url);
        let emailed = self.settings.email_enabled;
        if emailed {
            let workspace = workspaces::get(tx.conn(), caller.workspace_id)
                .await?
                .ok_or(ServiceError::NotFound("workspace"))?;
            let content = InvitationEmail {
                invitee_name: name,
                inviter_name: caller.name.clone(),
                workspace_name: workspace.name,
                role: input.role,
                link: link.clone(),
                expires_at: invitation.expires_at,
            };
            effects.mails.push(PendingMail {
                kind: OutboxKind::Invitation,
                operator_id: None,
                to: email,
                idempotency_key: mail_key(invitation.id),
                payload: serde_json::to_string(&content).unwrap_or_default(),
            });
        }
        self.commit(tx, effects).await?;
        Ok(CreatedInvitation {
            invitation,
            link,
            emailed,
        })
    }

    /// The workspace's pending invitations (owners and admins).
    pub async fn invitations(&self, caller: &Operator) -> ServiceResult<Vec<Invitation>> {
        if !caller.role.can_manage() {
            return Err(ServiceError::forbidden(
                "Only an owner or admin can see invitations",
            ));
        }
        let mut conn = self.store.read().await?;
        Ok(invitations::pending(&mut conn, caller.workspace_id, now_millis()).await?)
    }

    /// Revokes a pending invitation: its link stops working, and its email is not sent if it
    /// has not gone yet.
    pub async fn revoke_invitation(&self, caller: &Operator, id: Id) -> ServiceResult<()> {
        let now = now_millis();
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        invitations::pending_by_id(tx.conn(), caller.workspace_id, id, now)
            .await?
            .ok_or(ServiceError::NotFound("invitation"))?;
        if !caller.role.can_manage() {
            return Err(ServiceError::forbidden(
                "Only an owner or admin can revoke invitations",
            ));
        }
        invitations::revoke(tx.conn(), id, now).await?;
        notifications::cancel(tx.conn(), &mail_key(id)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What a pending invitation's link is for; anything else is `InvalidLink`.
    pub async fn invitation_preview(&self, token: &str) -> ServiceResult<InvitationPreview> {
        let mut conn = self.store.read().await?;
        let invitation = invitations::pending_by_token(&mut conn, &hash_token(token), now_millis())
            .await?
            .ok_or(ServiceError::InvalidLink(INVALID_LINK))?;
        let workspace = workspaces::get(&mut conn, invitation.workspace_id)
            .await?
            .ok_or(ServiceError::InvalidLink(INVALID_LINK))?;
        Ok(InvitationPreview {
            invitation,
            workspace,
        })
    }

    /// The invited person joins with the password they chose (and the name they prefer, else
    /// the one they were invited under), signed in. The link works once: of two acceptances at
    /// the same moment, the second finds it used.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: String,
        name: Option<String>,
    ) -> ServiceResult<SignedIn> {
        let token_hash = hash_token(token);
        let found = self.invitation_preview(token).await?.invitation;
        let name = name.map(|name| validate::name("name", &name)).transpose()?;
        validate::password(&password)?;
        let password_hash = self.hash_password(password).await?;
        let mut effects = Effects::new(now_millis());
        let mut tx = self.lock_workspace(found.workspace_id).await?;
        let invitation = invitations::pending_by_token(tx.conn(), &token_hash, effects.now)
            .await?
            .ok_or(ServiceError::InvalidLink(INVALID_LINK))?;
        refuse_member(&mut tx, invitation.workspace_id, &invitation.email).await?;
        let new = NewOperator {
            workspace_id: invitation.workspace_id,
            name: name.as_deref().unwrap_or(&invitation.name),
            email: &invitation.email,
            password_hash: &password_hash,
            role: invitation.role,
        };
        let operator = operators::insert(tx.conn(), new, effects.now)
            .await
            .map_err(email_taken)?;
        invitations::mark_accepted(tx.conn(), invitation.id, effects.now).await?;
        notifications::cancel(tx.conn(), &mail_key(invitation.id)).await?;
        let token = start_session(&mut tx, operator.id, effects.now).await?;
        let workspace = workspaces::get(tx.conn(), invitation.workspace_id)
            .await?
            .ok_or(ServiceError::NotFound("workspace"))?;
        effects
            .events
            .push(Event::operator_updated(&operator, effects.now));
        // A new teammate starts Available: queued chats may go to them.
        effects.drain = true;
        self.commit(tx, effects).await?;
        Ok(SignedIn {
            token,
            operator,
            workspace,
        })
    }
}

/// An email that already belongs to someone of the workspace, deactivated or not, cannot be
/// invited: 409.
async fn refuse_member(tx: &mut WriteTx, workspace_id: Id, email: &str) -> ServiceResult<()> {
    match operators::by_email_in_workspace(tx.conn(), workspace_id, email).await? {
        None => Ok(()),
        Some(member) if member.is_active() => Err(ServiceError::conflict(
            "email_taken",
            format!(
                "{} is already in this workspace with this email",
                member.name
            ),
        )),
        Some(member) => Err(ServiceError::conflict(
            "email_taken",
            format!(
                "{} is a deactivated teammate with this email: reactivate them under Teammates instead",
                member.name
            ),
        )),
    }
}

/// The outbox key of an invitation's email.
fn mail_key(invitation_id: Id) -> String {
    format!("invitation-{invitation_id}-email")
}
