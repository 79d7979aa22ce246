//! Signup, sessions (bearer and cookie), roles.

use reqwest::Method;
use serde_json::json;

use crate::common::{Db, TestServer, paths};
use crate::on_both;

async fn signup_login_cookie_and_logout(s: TestServer) {
    let (status, body) = s
        .signup_with(json!({"workspace_name": "Acme", "name": "Ana", "email": " Ana@Acme.TEST ", "password": "correct horse"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["operator"]["role"], "owner");
    assert_eq!(body["operator"]["email"], "ana@acme.test");
    assert_eq!(body["workspace"]["name"], "Acme");

    let resp = s
        .client
        .post(s.url(paths::SESSION))
        .json(&json!({"email": "ANA@acme.test", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session: serde_json::Value = resp.json().await.unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    let cookie_pair = cookie.split(';').next().unwrap().to_owned();

    let me = |header: (&'static str, String)| {
        let s = &s;
        async move {
            s.client
                .get(s.url(paths::ME))
                .header(header.0, header.1)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        me(("cookie", cookie_pair.clone())).await.status(),
        200,
        "the cookie signs in"
    );
    assert_eq!(
        me(("authorization", format!("Bearer {token}")))
            .await
            .status(),
        200
    );

    // A cookie-authenticated change from another site is refused; from our own origin it works.
    let cross = s
        .client
        .put(s.url(paths::AVAILABILITY))
        .header("cookie", &cookie_pair)
        .header("origin", "https://evil.example")
        .json(&json!({"availability": "away"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let host = s.base.trim_start_matches("http://").to_owned();
    let same = s
        .client
        .put(s.url(paths::AVAILABILITY))
        .header("cookie", &cookie_pair)
        .header("origin", format!("http://{host}"))
        .json(&json!({"availability": "away"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);

    let (status, _) = s
        .call(Method::DELETE, paths::SESSION, Some(&token), None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        me(("authorization", format!("Bearer {token}")))
            .await
            .status(),
        401,
        "signed out"
    );
    assert_eq!(
        me(("cookie", cookie_pair)).await.status(),
        401,
        "the cookie's session ended too"
    );
}

async fn wrong_credentials_are_401_and_brute_force_is_429(s: TestServer) {
    let ana = s.signup("Acme").await;
    let (_, me) = s.me(&ana).await;
    let email = me["email"].as_str().unwrap().to_owned();
    let (status, body) = s.try_login(&email, "wrong password").await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = s.try_login("nobody@x.test", "whatever1").await;
    assert_eq!(status, 401);
    let mut limited = None;
    for _ in 0..15 {
        let resp = s
            .client
            .post(s.url(paths::SESSION))
            .json(&json!({"email": email, "password": "guess-guess"}))
            .send()
            .await
            .unwrap();
        if resp.status() == 429 {
            limited = Some(resp);
            break;
        }
        assert_eq!(resp.status(), 401);
    }
    let resp = limited.expect("guessing is rate limited");
    assert!(resp.headers().get("retry-after").is_some());
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");

    for token in ["", "nonsense", "Bearer"] {
        let (status, body) = s.call(Method::GET, paths::ME, Some(token), None).await;
        assert_eq!(status, 401, "{token:?}: {body}");
    }
    let (status, _) = s.call(Method::GET, paths::ME, None, None).await;
    assert_eq!(status, 401);
}

async fn roles_decide_who_manages_the_team(s: TestServer) {
    let owner = s.signup("Acme").await;
    let op = s.add_operator(&owner, "Bob").await;
    let new = |role: &str| json!({"name": "New", "email": format!("new-{role}@acme.test"), "password": "password123", "role": role});
    let (status, _) = s.create_operator(&op, new("operator")).await;
    assert_eq!(status, 403, "operators cannot add teammates");
    let (status, _) = s.create_widget(&op, "w").await;
    assert_eq!(status, 403);
    let (status, admin) = s.create_operator(&owner, new("admin")).await;
    assert_eq!(status, 201, "{admin}");
    let admin = s.login("new-admin@acme.test", "password123").await;
    let (status, _) = s.create_operator(&admin, new("owner")).await;
    assert_eq!(status, 403, "only owners make owners");
    let (status, created) = s.create_operator(&admin, new("operator")).await;
    assert_eq!(status, 201);
    assert_eq!(created["availability"], "available");
    let (status, body) = s.create_operator(&owner, new("operator")).await;
    assert_eq!(status, 409, "email taken: {body}");
    assert_eq!(body["error"]["code"], "email_taken");
    let (status, _) = s
        .create_operator(
            &owner,
            json!({"name": "X", "email": "bad", "password": "password123"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = s
        .create_operator(
            &owner,
            json!({"name": "X", "email": "x@acme.test", "password": "short"}),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = s
        .create_operator(
            &owner,
            json!({"name": "X", "email": "y@acme.test", "password": "password123", "role": "god"}),
        )
        .await;
    assert_eq!(status, 400);
}

on_both!(
    signup_login_cookie_and_logout,
    wrong_credentials_are_401_and_brute_force_is_429,
    roles_decide_who_manages_the_team
);

/// Signup is open while the server has no workspace, then closed unless `--allow-signup`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_closes_after_the_first_workspace_unless_allowed() {
    let Some(s) = TestServer::start_with(Db::Sqlite, |c| c.allow_signup = false).await else {
        return;
    };
    s.signup("First").await;
    let (status, body) = s
        .signup_with(json!({"workspace_name": "Second", "name": "Eve", "email": "eve@x.test", "password": "password123"}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "signup_disabled");
}
