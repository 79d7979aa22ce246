//! Workspaces, operators and sessions.

use super::effects::Effects;
use super::sessions::start_session;
use super::tokens::hash_token;
use super::{Service, ServiceError, ServiceResult, validate};
use crate::domain::{Id, Millis, Role};
use crate::store::operators::NewOperator;
use crate::store::{
    Operator, OperatorWithLoad, StoreError, Workspace, WriteTx, operators, sessions, workspaces,
};
use crate::timefmt::now_millis;

pub struct Signup {
    pub workspace_name: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

pub struct Credentials {
    pub email: String,
    pub password: String,
    /// Which workspace to sign in to, when the same email and password open several.
    pub workspace_id: Option<Id>,
}

pub struct NewTeammate {
    pub name: String,
    pub email: String,
    pub password: String,
    pub role: Role,
}

/// A new session: the token is shown to the client once and stored only as a hash.
pub struct SignedIn {
    pub token: String,
    pub operator: Operator,
    pub workspace: Workspace,
}

impl Service {
    /// Creates a workspace and its owner, signed in. Allowed while the server has no workspace,
    /// or always when the server runs with signup enabled.
    pub async fn signup(&self, input: Signup) -> ServiceResult<SignedIn> {
        let owner = NewOwner::validate(&input)?;
        let password_hash = self.hash_password(input.password).await?;

        let now = now_millis();
        let mut tx = self.store.write().await?;
        if !self.settings.allow_signup && workspaces::any_exists(tx.conn()).await? {
            return Err(ServiceError::Forbidden {
                code: "signup_disabled",
                message:
                    "Signup is disabled on this server; ask an admin of your workspace to add you"
                        .into(),
            });
        }
        let (workspace, operator) = owner.insert(&mut tx, &password_hash, now).await?;
        let token = start_session(&mut tx, operator.id, now).await?;
        tx.commit().await?;
        Ok(SignedIn {
            token,
            operator,
            workspace,
        })
    }

    /// Whether `POST /signup` would be accepted now, and whether the server is still waiting
    /// for its first workspace.
    pub async fn signup_status(&self) -> ServiceResult<(bool, bool)> {
        let first_run = !workspaces::any_exists(&mut self.store.read().await?).await?;
        Ok((first_run || self.settings.allow_signup, first_run))
    }

    /// Signs in with email and password. Unknown email and wrong password are the same 401,
    /// and take about the same time.
    ///
    /// An email is unique within a workspace, not across the server. When the email and
    /// password open more than one workspace and `workspace_id` does not pick one, the answer
    /// is `WorkspaceRequired` listing them: only someone holding the password learns of them.
    pub async fn login(&self, input: Credentials) -> ServiceResult<SignedIn> {
        const REFUSED: ServiceError = ServiceError::Unauthenticated("Wrong email or password");
        let email = input.email.trim().to_lowercase();
        let found = operators::by_email_with_hash(&mut self.store.read().await?, &email).await?;
        if found.is_empty() {
            // Spend the same effort as a real check so timing does not reveal who has an account.
            let _ = self.passwords.hash(input.password).await;
            return Err(REFUSED);
        }
        let mut opened = Vec::new();
        for (operator, hash) in found {
            if input
                .workspace_id
                .is_some_and(|id| id != operator.workspace_id)
            {
                continue;
            }
            if self.passwords.verify(input.password.clone(), hash).await {
                opened.push(operator);
            }
        }
        let operator = match opened.len() {
            0 => return Err(REFUSED),
            1 => opened.remove(0),
            _ => {
                let mut workspaces = Vec::with_capacity(opened.len());
                let mut conn = self.store.read().await?;
                for operator in &opened {
                    if let Some(workspace) =
                        workspaces::get(&mut conn, operator.workspace_id).await?
                    {
                        workspaces.push(workspace);
                    }
                }
                return Err(ServiceError::WorkspaceRequired { workspaces });
            }
        };
        let now = now_millis();
        let mut tx = self.store.write().await?;
        let token = start_session(&mut tx, operator.id, now).await?;
        sessions::delete_expired(tx.conn(), now).await?;
        let workspace = workspaces::get(tx.conn(), operator.workspace_id)
            .await?
            .ok_or(ServiceError::NotFound("workspace"))?;
        tx.commit().await?;
        Ok(SignedIn {
            token,
            operator,
            workspace,
        })
    }

    pub async fn logout(&self, token: &str) -> ServiceResult<()> {
        let mut tx = self.store.write().await?;
        sessions::delete(tx.conn(), &hash_token(token)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The operator holding this session token, if it is valid.
    pub async fn authenticate(&self, token: &str) -> ServiceResult<Operator> {
        sessions::operator(
            &mut self.store.read().await?,
            &hash_token(token),
            now_millis(),
        )
        .await?
        .ok_or(ServiceError::Unauthenticated(
            "Sign in first: the session is missing, expired or ended",
        ))
    }

    pub async fn workspace(&self, caller: &Operator) -> ServiceResult<Workspace> {
        workspaces::get(&mut self.store.read().await?, caller.workspace_id)
            .await?
            .ok_or(ServiceError::NotFound("workspace"))
    }

    /// The caller's teammates (themselves included) in join order, with availability and load.
    pub async fn list_operators(&self, caller: &Operator) -> ServiceResult<Vec<OperatorWithLoad>> {
        Ok(operators::list_with_loads(&mut self.store.read().await?, caller.workspace_id).await?)
    }

    /// An owner or admin adds a teammate; only an owner can add another owner.
    pub async fn add_operator(
        &self,
        caller: &Operator,
        input: NewTeammate,
    ) -> ServiceResult<Operator> {
        if !caller.role.may_grant(input.role) {
            return Err(ServiceError::forbidden(if caller.role.can_manage() {
                "Only an owner can add another owner"
            } else {
                "Only an owner or admin can add teammates"
            }));
        }
        let name = validate::name("name", &input.name)?;
        let email = validate::email(&input.email)?;
        validate::password(&input.password)?;
        let password_hash = self.hash_password(input.password).await?;
        let mut tx = self.lock_workspace(caller.workspace_id).await?;
        let new = NewOperator {
            workspace_id: caller.workspace_id,
            name: &name,
            email: &email,
            password_hash: &password_hash,
            role: input.role,
        };
        let mut effects = Effects::new(now_millis());
        let operator = operators::insert(tx.conn(), new, effects.now)
            .await
            .map_err(email_taken)?;
        // A new teammate starts Available: queued chats may go to them.
        effects.drain = true;
        self.commit(tx, effects).await?;
        Ok(operator)
    }

    /// argon2id with the crate's default parameters, on the hashing thread.
    pub(super) async fn hash_password(&self, password: String) -> ServiceResult<String> {
        self.passwords.hash(password).await.ok_or_else(|| {
            ServiceError::invalid("invalid_password", "password could not be hashed")
        })
    }
}

pub(super) fn email_taken(e: StoreError) -> ServiceError {
    if e.is_unique_violation() {
        ServiceError::conflict(
            "email_taken",
            "A teammate in this workspace already has this email",
        )
    } else {
        e.into()
    }
}

/// A new workspace and its owner, checked: what signup and `switchboard admin create-owner`
/// both create.
pub(super) struct NewOwner {
    workspace_name: String,
    name: String,
    email: String,
}

impl NewOwner {
    /// Checks the names, the email and the password (which the caller then hashes).
    pub(super) fn validate(input: &Signup) -> ServiceResult<NewOwner> {
        let owner = NewOwner {
            workspace_name: validate::name("workspace_name", &input.workspace_name)?,
            name: validate::name("name", &input.name)?,
            email: validate::email(&input.email)?,
        };
        validate::password(&input.password)?;
        Ok(owner)
    }

    pub(super) async fn insert(
        &self,
        tx: &mut WriteTx,
        password_hash: &str,
        now: Millis,
    ) -> ServiceResult<(Workspace, Operator)> {
        let workspace = workspaces::insert(tx.conn(), &self.workspace_name, now).await?;
        let new = NewOperator {
            workspace_id: workspace.id,
            name: &self.name,
            email: &self.email,
            password_hash,
            role: Role::Owner,
        };
        let operator = operators::insert(tx.conn(), new, now)
            .await
            .map_err(email_taken)?;
        Ok((workspace, operator))
    }
}
