//! What `switchboard admin` does on the database, for the things nobody can click: a lost
//! owner password, the first owner of a server whose signup is closed, a teammate to lock out.
//! The same rules as the API's (validation, hashing, unique emails), without a running server.

use super::accounts::NewOwner;
use super::own_account::RESET_LIFETIME_MS;
use super::passwords::Passwords;
use super::tokens::{hash_token, new_token};
use super::{ServiceError, ServiceResult, Signup, validate};
use crate::domain::Id;
use crate::store::{Operator, Store, Workspace, operators, password_resets, sessions, workspaces};
use crate::timefmt::now_millis;

pub struct Admin {
    store: Store,
    passwords: Passwords,
}

/// A workspace as listed: with how many operators it has.
pub struct WorkspaceSummary {
    pub workspace: Workspace,
    pub operators: i64,
}

impl Admin {
    pub fn new(store: Store) -> Admin {
        Admin {
            store,
            passwords: Passwords::start(),
        }
    }

    /// The operator with this email, in `workspace_id` when given. An email may belong to an
    /// operator in each of several workspaces; then the workspace must be named.
    pub async fn operator(&self, email: &str, workspace_id: Option<Id>) -> ServiceResult<Operator> {
        let email = email.trim().to_lowercase();
        let mut found: Vec<Operator> =
            operators::by_email_with_hash(&mut *self.store.read().await?, &email)
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
        let mut tx = self.store.write().await?;
        operators::set_password_hash(tx.conn(), operator.id, &hash).await?;
        let ended = sessions::delete_for_operator(tx.conn(), operator.id, None).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// A one-time link that lets the operator choose a new password, like the one a reset
    /// email carries: valid for an hour, once; stored only as its hash.
    pub async fn reset_link(&self, operator: &Operator, public_url: &str) -> ServiceResult<String> {
        let token = new_token();
        let now = now_millis();
        let mut tx = self.store.write().await?;
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
            public_url.trim_end_matches('/')
        ))
    }

    /// A new workspace and its owner, whether or not the server allows signup.
    pub async fn create_owner(&self, input: Signup) -> ServiceResult<(Workspace, Operator)> {
        let owner = NewOwner::validate(&input)?;
        let password_hash = self.hash(input.password).await?;
        let mut tx = self.store.write().await?;
        let (workspace, operator) = owner.insert(&mut tx, &password_hash, now_millis()).await?;
        tx.commit().await?;
        Ok((workspace, operator))
    }

    pub async fn list_workspaces(&self) -> ServiceResult<Vec<WorkspaceSummary>> {
        let rows = workspaces::list_with_operator_counts(&mut *self.store.read().await?).await?;
        Ok(rows
            .into_iter()
            .map(|(workspace, operators)| WorkspaceSummary {
                workspace,
                operators,
            })
            .collect())
    }

    /// Ends every session of the operator; returns how many there were.
    pub async fn end_sessions(&self, operator: &Operator) -> ServiceResult<u64> {
        let mut tx = self.store.write().await?;
        let ended = sessions::delete_for_operator(tx.conn(), operator.id, None).await?;
        tx.commit().await?;
        Ok(ended)
    }

    async fn hash(&self, password: String) -> ServiceResult<String> {
        self.passwords.hash(password).await.ok_or_else(|| {
            ServiceError::invalid("invalid_password", "password could not be hashed")
        })
    }
}
