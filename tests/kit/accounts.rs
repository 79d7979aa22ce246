//! Sign-up, sessions, the team and one's own presence.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Api, Op, paths, unique};

impl Api {
    /// Signs up a new workspace; returns its owner.
    pub async fn signup(&self, workspace: &str) -> Op {
        let email = format!(
            "owner-{}@{}.test",
            unique(),
            workspace.to_lowercase().replace(' ', "-")
        );
        let (status, body) = self
            .signup_with(json!({"workspace_name": workspace, "name": "Owner", "email": email, "password": "correct horse"}))
            .await;
        assert_eq!(status, 201, "signup: {body}");
        op_from_session(&body)
    }

    /// Signs up with these details (`workspace_name`, `name`, `email`, `password`).
    pub async fn signup_with(&self, details: Value) -> (u16, Value) {
        self.call(Method::POST, paths::SIGNUP, None, Some(details))
            .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Op {
        let (status, body) = self.try_login(email, password).await;
        assert_eq!(status, 200, "login: {body}");
        op_from_session(&body)
    }

    /// Signs in, which may be refused.
    pub async fn try_login(&self, email: &str, password: &str) -> (u16, Value) {
        self.call(
            Method::POST,
            paths::SESSION,
            None,
            Some(json!({"email": email, "password": password})),
        )
        .await
    }

    pub async fn me(&self, op: &Op) -> (u16, Value) {
        self.get(op, paths::ME).await
    }

    pub async fn set_availability(&self, op: &Op, availability: &str) {
        let (status, body) = self
            .put(
                op,
                paths::AVAILABILITY,
                json!({"availability": availability}),
            )
            .await;
        assert_eq!(status, 200, "availability: {body}");
    }

    /// Sets presence with the whole body (`{availability, hand_back?}`).
    pub async fn set_availability_with(&self, op: &Op, body: Value) -> (u16, Value) {
        self.put(op, paths::AVAILABILITY, body).await
    }

    /// The team, with each one's presence and load.
    pub async fn operators(&self, op: &Op) -> (u16, Value) {
        self.get(op, paths::OPERATORS).await
    }

    /// Adds a teammate with these details (`name`, `email`, `password`, `role`).
    pub async fn create_operator(&self, admin: &Op, details: Value) -> (u16, Value) {
        self.post(admin, paths::OPERATORS, details).await
    }

    /// Adds a teammate through `admin` and signs them in.
    pub async fn add_operator(&self, admin: &Op, name: &str) -> Op {
        let email = format!(
            "{}-{}@team.test",
            name.to_lowercase().replace(' ', "-"),
            unique()
        );
        let (status, body) = self
            .create_operator(
                admin,
                json!({"name": name, "email": email, "password": "password123"}),
            )
            .await;
        assert_eq!(status, 201, "add operator: {body}");
        self.login(&email, "password123").await
    }
}

fn op_from_session(body: &Value) -> Op {
    Op {
        id: body["operator"]["id"].as_i64().unwrap(),
        token: body["token"].as_str().unwrap().to_owned(),
    }
}
