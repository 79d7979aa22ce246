//! Security properties seen from outside the API: how passwords are stored, and that no secret
//! reaches the log even at its most verbose.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sqlx::Connection;
use web_push_native::p256::SecretKey;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

use crate::common::{Db, Node, TestDb, TestServer, Widget, free_port, identity, paths, token_of};
use crate::on_both;

/// Every stored password is an argon2id PHC string with its own salt and at least OWASP's
/// minimum cost (19 MiB, two passes); the password itself is nowhere in it.
async fn passwords_are_stored_as_salted_argon2id(s: TestServer) {
    let owner = s.signup("Acme").await;
    s.add_operator(&owner, "Ben").await;
    s.add_operator(&owner, "Cleo").await;

    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(s.database_url())
        .await
        .unwrap();
    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT email, password_hash FROM operators ORDER BY id")
            .fetch_all(&mut db)
            .await
            .unwrap();
    db.close().await.unwrap();

    assert_eq!(stored.len(), 3);
    for (email, hash) in &stored {
        assert!(hash.starts_with("$argon2id$v=19$"), "{email}: {hash}");
        for password in ["correct horse", "password123"] {
            assert!(!hash.contains(password), "{email}: {hash}");
        }
        let cost = |name: &str| -> u32 {
            hash.split('$')
                .nth(3)
                .and_then(|params| params.split(',').find_map(|p| p.strip_prefix(name)))
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("{email}: no {name} in {hash}"))
        };
        assert!(cost("m=") >= 19 * 1024, "{email}: memory cost in {hash}");
        assert!(cost("t=") >= 2, "{email}: passes in {hash}");
    }
    // Ben and Cleo share a password; their own salts make the hashes differ.
    assert_ne!(stored[1].1, stored[2].1, "a salt per password");
}

on_both!(passwords_are_stored_as_salted_argon2id);

/// The real binary at `trace`, configured with an SMTP password, an AI key and a VAPID key,
/// and used the way people use it: sign-up, sign-in (and a wrong guess), a teammate, a visitor
/// chat that the (unreachable) AI hands over, the event streams with their credentials, a push
/// subscription, and the notifications that then fail to go out. None of the secrets involved
/// may appear in what it logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_log() {
    let db = TestDb::create(Db::Sqlite)
        .await
        .expect("SQLite needs no server");
    let smtp_password = "hunter2secret";
    let ai_key = "sk-test-4f9c2d7e1b0a";
    let vapid_key = switchboard::notify::push::Vapid::generate_private_key();
    // Nothing listens on these: the AI call, the email and the push all fail, and get logged.
    let smtp_url = format!("smtp://mailer:{smtp_password}@127.0.0.1:{}", free_port());
    let ai_base_url = format!("http://127.0.0.1:{}/v1", free_port());
    // A push endpoint's path is a capability: whoever has it can push to the browser.
    let push_capability = "cap-7d1e9a3f5b2c";
    let push_endpoint = format!("https://127.0.0.1:{}/push/{push_capability}", free_port());
    let node = Node::spawn_logging(
        &db.url,
        &[
            "--smtp-url",
            &smtp_url,
            "--ai",
            "openai",
            "--ai-base-url",
            &ai_base_url,
            "--ai-api-key",
            ai_key,
            "--vapid-private-key",
            &vapid_key,
            "--notify-retry-max-secs",
            "1",
        ],
        "trace",
    )
    .await;
    let s = &node.api;

    let owner_password = "correct horse";
    let owner = s.signup("Acme").await;
    let (status, me) = s.me(&owner).await;
    assert_eq!(status, 200, "{me}");
    let owner_email = me["email"].as_str().unwrap().to_owned();
    let signed_in = s.login(&owner_email, owner_password).await;
    let wrong_guess = "not-the-password-9x7";
    let (status, _) = s.try_login(&owner_email, wrong_guess).await;
    assert_eq!(status, 401);
    let by_cookie = s
        .client
        .get(s.url(paths::ME))
        .header("cookie", format!("switchboard_session={}", signed_in.token))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 200);

    let teammate_password = "teammate-pass-5521";
    let (status, body) = s
        .create_operator(
            &owner,
            json!({"name": "Ben", "email": "ben@acme.test", "password": teammate_password}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let ben = s.login("ben@acme.test", teammate_password).await;
    let ben_id = body["id"].as_i64().unwrap();

    // A browser of Ben's: a valid P-256 public key and a 16-byte auth secret.
    let browser_key = SecretKey::from_slice(&[7u8; 32]).unwrap();
    let auth_secret = URL_SAFE_NO_PAD.encode([9u8; 16]);
    let (status, body) = s
        .subscribe_push(
            &ben,
            json!({"endpoint": push_endpoint, "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(browser_key.public_key().to_encoded_point(false).as_bytes()),
                "auth": auth_secret,
            }}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let mut inbox = s.inbox_stream(&ben).await;
    let widget: Widget = s.widget(&owner, "round_robin", &[ben_id]).await;
    let chat = s.start_chat(&widget, "my order never arrived").await;
    let mut visitor_stream = s.visitor_stream(&widget, &chat).await;
    let (status, body) = s.visitor_says(&widget, &chat, "hello?").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = s
        .reply(&ben, chat.id, "Sorry about that, let me look")
        .await;
    assert_eq!(status, 201, "{body}");
    inbox.next_of("message.created").await;
    visitor_stream.next_of("message.created").await;

    // One-time links: an invitation (its page, what it is for, joining by it) and a password
    // reset, whose link only the (failing) email and the outbox row hold.
    let (status, invited) = s.invite(&owner, "cleo@acme.test", "Cleo", "operator").await;
    assert_eq!(status, 201, "{invited}");
    let invitation_token = token_of(invited["link"].as_str().unwrap());
    let invitee_password = "cleo-chosen-7731";
    let page = s
        .client
        .get(s.url(&format!("/invite/{invitation_token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let (status, body) = s.invitation_preview(&invitation_token).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s
        .accept_invitation(&invitation_token, json!({"password": invitee_password}))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = s.request_password_reset("ben@acme.test").await;
    assert_eq!(status, 202);
    let reset_token = queued_reset_token(&db.url).await;
    let reset_password = "ben-reset-4410";
    let page = s
        .client
        .get(s.url(&format!("/reset/{reset_token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let (status, body) = s.reset_password(&reset_token, reset_password).await;
    assert_eq!(status, 200, "{body}");
    // The site identifies the visitor; a forged identity is refused.
    let identity_secret = s.identity_secret(&owner, &widget).await;
    let signed = identity(&identity_secret, "customer-1", None, None);
    let (status, body) = s.identify(&widget, &chat.token, signed.clone()).await;
    assert_eq!(status, 200, "{body}");
    let forged = json!({"user_id": "customer-2", "user_hash": signed["user_hash"]});
    let (status, body) = s.identify(&widget, &chat.token, forged).await;
    assert_eq!(status, 403, "{body}");

    // The AI's failed call hands the chat to Ben; his email and push then fail and are retried.
    let deadline = Instant::now() + Duration::from_secs(20);
    let log = loop {
        let log = without_colours(&node.log());
        let done = ["AI provider failed", "channel=email", "channel=push"]
            .iter()
            .all(|line| log.contains(line));
        if done {
            break log;
        }
        assert!(
            Instant::now() < deadline,
            "the AI call, the email and the push were not all attempted:\n{}",
            tail(&log)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        log.contains("TRACE"),
        "the log is at trace level:\n{}",
        tail(&log)
    );

    let secrets = [
        ("the owner's password", owner_password.to_owned()),
        ("the teammate's password", teammate_password.to_owned()),
        ("a wrong password guess", wrong_guess.to_owned()),
        ("the owner's sign-up session token", owner.token.clone()),
        ("the owner's sign-in session token", signed_in.token.clone()),
        ("the teammate's session token", ben.token.clone()),
        ("the visitor's token", chat.token.clone()),
        ("the SMTP password", smtp_password.to_owned()),
        ("the AI API key", ai_key.to_owned()),
        ("the VAPID private key", vapid_key.clone()),
        ("the push subscription's auth secret", auth_secret),
        ("the push endpoint's capability", push_capability.to_owned()),
        ("the invitation link's token", invitation_token),
        ("the invited person's password", invitee_password.to_owned()),
        ("the reset link's token", reset_token),
        (
            "the password set by the reset link",
            reset_password.to_owned(),
        ),
        ("the widget's identity secret", identity_secret),
        (
            "the site's signature of its user",
            signed["user_hash"].as_str().unwrap().to_owned(),
        ),
    ];
    for (what, secret) in &secrets {
        if let Some(at) = log.find(secret.as_str()) {
            let line_start = log[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = log[at..].find('\n').map_or(log.len(), |i| at + i);
            panic!("{what} is in the log: {}", &log[line_start..line_end]);
        }
    }
}

/// The token of the password reset link queued in the outbox (its email cannot be sent).
async fn queued_reset_token(database_url: &str) -> String {
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(database_url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let payload = loop {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT payload FROM notification_outbox WHERE kind = 'password_reset'")
                .fetch_optional(&mut db)
                .await
                .unwrap();
        if let Some((payload,)) = row {
            break payload;
        }
        assert!(Instant::now() < deadline, "no reset link was queued");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    db.close().await.unwrap();
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    token_of(payload["link"].as_str().unwrap())
}

/// The log as text: the server colours its fields even when writing to a file.
fn without_colours(log: &str) -> String {
    let mut text = String::with_capacity(log.len());
    let mut rest = log;
    while let Some(at) = rest.find("\x1b[") {
        text.push_str(&rest[..at]);
        rest = &rest[at..];
        rest = rest.find('m').map_or("", |end| &rest[end + 1..]);
    }
    text.push_str(rest);
    text
}

/// The last lines of a log, for failure messages.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
