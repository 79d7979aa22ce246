//! One's own password: changing it ends one's other sessions; a forgotten one is reset with a
//! link sent by email (aiosmtpd), which works once, for an hour.

use std::time::Duration;

use serde_json::Value;
use switchboard::config::Config;

use crate::common::{Db, Op, TestServer, free_port, token_of};
use crate::notifications::SmtpServer;
use crate::on_both;
use crate::team::on_database;

const PUBLIC_URL: &str = "https://desk.example.test";

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn a_password_change_ends_the_other_sessions(s: TestServer) {
    let owner = s.signup("Acme").await;
    let ana = s.add_operator(&owner, "Ana").await;
    let (_, me) = s.me(&ana).await;
    let email = me["email"].as_str().unwrap().to_owned();
    let elsewhere = s.login(&email, "password123").await;
    let mut here_tab = s.inbox_stream(&ana).await;
    let mut elsewhere_tab = s.inbox_stream(&elsewhere).await;

    let (status, body) = s
        .change_password(&ana, "not-it-at-all", "new-password-1")
        .await;
    assert_eq!((status, code(&body)), (403, "wrong_password"), "{body}");
    let (status, body) = s.change_password(&ana, "password123", "short").await;
    assert_eq!((status, code(&body)), (400, "invalid_password"), "{body}");
    let (status, body) = s.me(&elsewhere).await;
    assert_eq!(status, 200, "nothing changed yet: {body}");

    let (status, body) = s
        .change_password(&ana, "password123", "new-password-1")
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(elsewhere_tab.closed().await, Some(4003));
    let (status, _) = s.me(&elsewhere).await;
    assert_eq!(status, 401, "the other session ended");
    let (status, _) = s.me(&ana).await;
    assert_eq!(status, 200, "this one stays");
    s.set_availability(&ana, "away").await;
    let event = here_tab.next_of("operator.availability_changed").await;
    assert_eq!(
        event["operator_id"], ana.id,
        "and so does its stream: {event}"
    );

    let (status, _) = s.try_login(&email, "password123").await;
    assert_eq!(status, 401, "the old password is gone");
    s.login(&email, "new-password-1").await;
}

on_both!(a_password_change_ends_the_other_sessions);

async fn a_reset_link_is_mailed_and_works_once_within_the_hour(db: Db) {
    let Some(smtp) = SmtpServer::start(free_port()).await else {
        return;
    };
    let url = smtp.url();
    let Some(s) = TestServer::start_with(db, |c: &mut Config| {
        c.smtp_url = Some(url);
        c.public_url = Some(PUBLIC_URL.to_owned());
    })
    .await
    else {
        return;
    };
    let owner = s.signup("Acme").await;
    let ana = s.add_operator(&owner, "Ana").await;
    let (_, me) = s.me(&ana).await;
    let email = me["email"].as_str().unwrap().to_owned();
    let mut ana_tab = s.inbox_stream(&ana).await;

    // Nobody has this address: the same 202, and no mail.
    let (status, body) = s.request_password_reset("nobody@nowhere.test").await;
    assert_eq!((status, &body), (202, &Value::Null));
    let (status, body) = s.request_password_reset("not an address").await;
    assert_eq!((status, code(&body)), (400, "invalid_email"), "{body}");
    let (status, _) = s.request_password_reset(&email.to_uppercase()).await;
    assert_eq!(status, 202);
    let mails = smtp.wait_for(1).await;
    let mail = &mails[0];
    assert!(mail["to"].as_str().unwrap().contains(&email), "{mail}");
    assert_eq!(mail["subject"], "Reset your Switchboard password for Acme");
    let text = mail["text"].as_str().unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{PUBLIC_URL}/reset/")))
        .unwrap_or_else(|| panic!("no reset link in {text}"));
    let token = token_of(link);

    let (status, body) = s.reset_password(&token, "short").await;
    assert_eq!((status, code(&body)), (400, "invalid_password"), "{body}");
    let (status, body) = s.reset_password(&token, "brand-new-password").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["operator"]["id"], ana.id);
    let fresh = Op {
        id: ana.id,
        token: body["token"].as_str().unwrap().to_owned(),
    };
    assert_eq!(ana_tab.closed().await, Some(4003), "her old sessions ended");
    let (status, _) = s.me(&ana).await;
    assert_eq!(status, 401);
    let (status, _) = s.me(&fresh).await;
    assert_eq!(status, 200, "signed in afresh");
    s.login(&email, "brand-new-password").await;

    // Once.
    let (status, body) = s.reset_password(&token, "another-password").await;
    assert_eq!((status, code(&body)), (404, "invalid_link"), "{body}");

    // An hour later.
    let (status, _) = s.request_password_reset(&email).await;
    assert_eq!(status, 202);
    let mails = smtp.wait_for(2).await;
    let late = mails
        .iter()
        .filter_map(|m| m["text"].as_str())
        .flat_map(str::split_whitespace)
        .filter(|w| w.starts_with(&format!("{PUBLIC_URL}/reset/")))
        .map(token_of)
        .find(|t| *t != token)
        .expect("a second link");
    on_database(
        &s,
        "UPDATE password_resets SET expires_at = created_at - 1 WHERE operator_id = (SELECT id FROM operators WHERE email = $1)",
        &email,
    )
    .await;
    let (status, body) = s.reset_password(&late, "another-password").await;
    assert_eq!((status, code(&body)), (404, "invalid_link"), "{body}");

    // A deactivated teammate gets no link; the unknown address never got one either.
    let (status, _) = s.deactivate(&owner, ana.id).await;
    assert_eq!(status, 200);
    let (status, _) = s.request_password_reset(&email).await;
    assert_eq!(status, 202);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(smtp.messages().len(), 2, "{:?}", smtp.messages());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_is_mailed_and_works_once_on_sqlite() {
    a_reset_link_is_mailed_and_works_once_within_the_hour(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_is_mailed_and_works_once_on_postgres() {
    a_reset_link_is_mailed_and_works_once_within_the_hour(Db::Postgres).await;
}
