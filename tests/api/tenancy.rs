//! One email in several workspaces: each workspace's answers reveal nothing of the others, and
//! signing in finds the right one.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Op, TestServer, paths};
use crate::on_both;

async fn signup(s: &TestServer, workspace: &str, email: &str, password: &str) -> (u16, Value) {
    s.signup_with(
        json!({"workspace_name": workspace, "name": "Ana", "email": email, "password": password}),
    )
    .await
}

/// Signs in with a body of the test's making (`workspace_id` included).
async fn login(s: &TestServer, body: Value) -> (u16, Value) {
    s.call(Method::POST, paths::SESSION, None, Some(body)).await
}

fn token(session: &Value) -> Op {
    Op {
        id: session["operator"]["id"].as_i64().unwrap(),
        token: session["token"].as_str().unwrap().to_owned(),
    }
}

async fn an_email_used_elsewhere_reveals_nothing(s: TestServer) {
    let (status, acme) = signup(&s, "Acme", "ana@shared.test", "acme password").await;
    assert_eq!(status, 201, "{acme}");
    // The same person signs up a second workspace: allowed, and no hint of the first.
    let (status, beta) = signup(&s, "Beta", "Ana@Shared.test", "beta password").await;
    assert_eq!(status, 201, "same email, another workspace: {beta}");
    let beta_owner = token(&beta);
    // A third workspace adds them as a teammate: also allowed.
    let (status, gamma) = signup(&s, "Gamma", "owner@gamma.test", "gamma password").await;
    assert_eq!(status, 201);
    let (status, body) = s
        .create_operator(
            &token(&gamma),
            json!({"name": "Ana", "email": "ana@shared.test", "password": "acme password", "role": "operator"}),
        )
        .await;
    assert_eq!(status, 201, "teammate with an email used elsewhere: {body}");
    // Within one workspace an email is still taken.
    let (status, body) = s
        .create_operator(
            &beta_owner,
            json!({"name": "Ana again", "email": "ana@shared.test", "password": "password123", "role": "operator"}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "email_taken");

    // Each password opens its own workspace.
    let (status, body) = login(
        &s,
        json!({"email": "ana@shared.test", "password": "beta password"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["workspace"]["id"], beta["workspace"]["id"]);
    // The password that opens Acme and Gamma both asks which one, listing just those two.
    let (status, body) = login(
        &s,
        json!({"email": "ana@shared.test", "password": "acme password"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "workspace_required");
    let listed: Vec<&str> = body["error"]["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["Acme", "Gamma"]);
    let (status, body) = login(
        &s,
        json!({"email": "ana@shared.test", "password": "acme password", "workspace_id": gamma["workspace"]["id"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["workspace"]["name"], "Gamma");
    // Naming a workspace the password does not open is the same 401 as a wrong password.
    let (status, body) = login(
        &s,
        json!({"email": "ana@shared.test", "password": "acme password", "workspace_id": beta["workspace"]["id"]}),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = login(
        &s,
        json!({"email": "ana@shared.test", "password": "wrong password"}),
    )
    .await;
    assert_eq!(status, 401);
}

on_both!(an_email_used_elsewhere_reveals_nothing);
