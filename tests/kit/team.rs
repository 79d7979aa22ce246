//! The team: invitations, changing and deactivating teammates, and one's own name and password.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, Op, paths};

impl Api {
    /// Invites `email` as `role`; the answer carries the invitation and its `link`.
    pub async fn invite(&self, admin: &Op, email: &str, name: &str, role: &str) -> (u16, Value) {
        self.post(
            admin,
            paths::INVITATIONS,
            json!({"email": email, "name": name, "role": role}),
        )
        .await
    }

    /// Invites `email` as an operator, which must work; returns the link's token.
    pub async fn invite_token(&self, admin: &Op, email: &str, name: &str) -> String {
        let (status, body) = self.invite(admin, email, name, "operator").await;
        assert_eq!(status, 201, "invite: {body}");
        token_of(body["link"].as_str().unwrap())
    }

    /// The pending invitations.
    pub async fn invitations(&self, admin: &Op) -> (u16, Value) {
        self.get(admin, paths::INVITATIONS).await
    }

    pub async fn revoke_invitation(&self, admin: &Op, id: i64) -> (u16, Value) {
        self.delete(admin, &paths::invitation(&id.to_string()), None)
            .await
    }

    /// What the link with this token is for (no sign-in).
    pub async fn invitation_preview(&self, token: &str) -> (u16, Value) {
        self.call(Method::GET, &paths::invitation(token), None, None)
            .await
    }

    /// Joins with the link's token: `{password, name?}`.
    pub async fn accept_invitation(&self, token: &str, body: Value) -> (u16, Value) {
        self.call(
            Method::POST,
            &paths::accept_invitation(token),
            None,
            Some(body),
        )
        .await
    }

    /// Changes a teammate: `{name?, role?, capacity?}`.
    pub async fn update_operator(&self, admin: &Op, id: i64, change: Value) -> (u16, Value) {
        self.call(
            Method::PATCH,
            &paths::operator(id),
            Some(&admin.token),
            Some(change),
        )
        .await
    }

    pub async fn deactivate(&self, admin: &Op, id: i64) -> (u16, Value) {
        self.post(admin, &paths::operator_action(id, "deactivate"), json!({}))
            .await
    }

    pub async fn reactivate(&self, admin: &Op, id: i64) -> (u16, Value) {
        self.post(admin, &paths::operator_action(id, "reactivate"), json!({}))
            .await
    }

    /// Changes one's own profile: `{name?}`.
    pub async fn update_me(&self, op: &Op, change: Value) -> (u16, Value) {
        self.call(Method::PATCH, paths::ME, Some(&op.token), Some(change))
            .await
    }

    pub async fn change_password(&self, op: &Op, current: &str, new: &str) -> (u16, Value) {
        self.put(
            op,
            paths::PASSWORD,
            json!({"current_password": current, "new_password": new}),
        )
        .await
    }

    /// Asks for a reset link for `email` (no sign-in).
    pub async fn request_password_reset(&self, email: &str) -> (u16, Value) {
        self.call(
            Method::POST,
            paths::PASSWORD_RESET,
            None,
            Some(json!({"email": email})),
        )
        .await
    }

    /// Sets a new password with a reset link's token (no sign-in).
    pub async fn reset_password(&self, token: &str, password: &str) -> (u16, Value) {
        self.call(
            Method::POST,
            &paths::password_reset(token),
            None,
            Some(json!({"password": password})),
        )
        .await
    }
}

/// The token at the end of a one-time link (`…/invite/{token}`, `…/reset/{token}`).
pub fn token_of(link: &str) -> String {
    link.rsplit('/').next().unwrap().to_owned()
}
