//! The team (SPEC 11): invitations by email, changing teammates' names, roles and capacities,
//! and deactivating and reactivating them.

use serde_json::{Value, json};
use sqlx::Connection;
use switchboard::config::Config;

use crate::common::{Db, IfAssignee, Node, Op, TestDb, TestServer, token_of};
use crate::notifications::SmtpServer;
use crate::on_both;

const PUBLIC_URL: &str = "https://desk.example.test";

fn with_smtp(smtp: &SmtpServer) -> impl FnOnce(&mut Config) + '_ {
    move |c: &mut Config| {
        c.smtp_url = Some(smtp.url());
        c.public_url = Some(PUBLIC_URL.to_owned());
    }
}

/// Runs one statement on the server's database: how the tests move an expiry into the past.
pub async fn on_database(s: &TestServer, sql: &'static str, bind: &str) {
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(s.database_url())
        .await
        .unwrap();
    sqlx::query(sql).bind(bind).execute(&mut db).await.unwrap();
    db.close().await.unwrap();
}

/// The first column of a query's rows, read from the server's database.
async fn from_database(s: &TestServer, sql: &'static str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(s.database_url())
        .await
        .unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&mut db).await.unwrap();
    db.close().await.unwrap();
    rows.into_iter().map(|(v,)| v).collect()
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn an_invitation_is_mailed_accepted_once_and_signs_in(db: Db) {
    let Some(smtp) = SmtpServer::start(crate::common::free_port()).await else {
        return;
    };
    let Some(s) = TestServer::start_with(db, with_smtp(&smtp)).await else {
        return;
    };
    let owner = s.signup("Acme").await;
    let (status, created) = s.invite(&owner, " Bob@Acme.test ", "Bob", "admin").await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["email"], "bob@acme.test");
    assert_eq!(created["role"], "admin");
    assert_eq!(created["invited_by_id"], owner.id);
    assert_eq!(created["emailed"], true);
    let link = created["link"].as_str().unwrap();
    assert!(link.starts_with(&format!("{PUBLIC_URL}/invite/")), "{link}");
    let token = token_of(link);

    let (status, pending) = s.invitations(&owner).await;
    assert_eq!(status, 200, "{pending}");
    let items = pending["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{pending}");
    assert_eq!(items[0]["email"], "bob@acme.test");
    assert!(
        !pending.to_string().contains(&token),
        "the list never shows a link: {pending}"
    );

    let mails = smtp.wait_for(1).await;
    let mail = &mails[0];
    assert!(
        mail["to"].as_str().unwrap().contains("bob@acme.test"),
        "{mail}"
    );
    assert_eq!(mail["subject"], "Owner invited you to Acme on Switchboard");
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains(link), "the mail carries the link: {text}");
    assert!(text.contains("as an admin"), "{text}");
    assert_eq!(mail["html"], "", "plain text only");

    let (status, preview) = s.invitation_preview(&token).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["workspace_name"], "Acme");
    assert_eq!(preview["email"], "bob@acme.test");
    assert_eq!(preview["name"], "Bob");
    assert_eq!(preview["role"], "admin");
    assert_eq!(preview["expires_at"], created["expires_at"]);
    let created_at = created["created_at"].as_str().unwrap();
    let expires_at = created["expires_at"].as_str().unwrap();
    assert!(expires_at > created_at, "{created}");

    let (status, joined) = s
        .accept_invitation(
            &token,
            json!({"password": "bob-password", "name": "Bob Stone"}),
        )
        .await;
    assert_eq!(status, 201, "{joined}");
    assert_eq!(joined["operator"]["name"], "Bob Stone");
    assert_eq!(joined["operator"]["email"], "bob@acme.test");
    assert_eq!(joined["operator"]["role"], "admin");
    assert_eq!(joined["operator"]["availability"], "available");
    assert_eq!(joined["operator"]["active"], true);
    assert_eq!(joined["workspace"]["name"], "Acme");
    let bob = Op {
        id: joined["operator"]["id"].as_i64().unwrap(),
        token: joined["token"].as_str().unwrap().to_owned(),
    };
    let (status, me) = s.me(&bob).await;
    assert_eq!((status, &me["name"]), (200, &json!("Bob Stone")), "{me}");
    s.login("bob@acme.test", "bob-password").await;

    // Once: the link no longer opens anything, and the email is taken now.
    let (status, body) = s.invitation_preview(&token).await;
    assert_eq!((status, code(&body)), (404, "invalid_link"), "{body}");
    let (status, body) = s
        .accept_invitation(&token, json!({"password": "another-password"}))
        .await;
    assert_eq!((status, code(&body)), (404, "invalid_link"), "{body}");
    let (_, pending) = s.invitations(&owner).await;
    assert_eq!(pending["items"], json!([]));
    let (status, body) = s.invite(&owner, "bob@acme.test", "Bob", "operator").await;
    assert_eq!((status, code(&body)), (409, "email_taken"), "{body}");

    // The token is kept only as a hash, and the sent mail's payload is emptied.
    let hashes = from_database(&s, "SELECT token_hash FROM invitations").await;
    assert_eq!(hashes.len(), 1);
    assert_ne!(hashes[0], token);
    let payloads = from_database(
        &s,
        "SELECT payload FROM notification_outbox WHERE kind = 'invitation' AND sent_at IS NOT NULL",
    )
    .await;
    assert_eq!(
        payloads,
        vec![String::new()],
        "the link is not kept once sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_is_mailed_accepted_once_and_signs_in_on_sqlite() {
    an_invitation_is_mailed_accepted_once_and_signs_in(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_is_mailed_accepted_once_and_signs_in_on_postgres() {
    an_invitation_is_mailed_accepted_once_and_signs_in(Db::Postgres).await;
}

/// Revoked, replaced and expired links open nothing; who may invite whom; bad input.
async fn invitation_links_stop_working_when_revoked_replaced_or_expired(s: TestServer) {
    let owner = s.signup("Acme").await;
    let (status, created) = s.invite(&owner, "cleo@acme.test", "Cleo", "operator").await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["emailed"], false, "this server sends no email");
    let revoked = token_of(created["link"].as_str().unwrap());
    let id = created["id"].as_i64().unwrap();
    let (status, body) = s.revoke_invitation(&owner, id).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = s.revoke_invitation(&owner, id).await;
    assert_eq!(status, 404, "only pending ones are revoked: {body}");
    let (status, body) = s.invitation_preview(&revoked).await;
    assert_eq!((status, code(&body)), (404, "invalid_link"), "{body}");
    let (status, body) = s
        .accept_invitation(&revoked, json!({"password": "cleo-password"}))
        .await;
    assert_eq!((status, code(&body)), (404, "invalid_link"), "{body}");

    // Inviting again replaces the pending invitation: only the new link works.
    let first = s.invite_token(&owner, "dan@acme.test", "Dan").await;
    let second = s.invite_token(&owner, "dan@acme.test", "Dan").await;
    let (status, _) = s.invitation_preview(&first).await;
    assert_eq!(status, 404, "the replaced link");
    let (status, _) = s.invitation_preview(&second).await;
    assert_eq!(status, 200, "the new link");
    let (_, pending) = s.invitations(&owner).await;
    let emails: Vec<&Value> = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["email"])
        .collect();
    assert_eq!(emails, [&json!("dan@acme.test")], "{pending}");

    // Seven days later.
    let expired = s.invite_token(&owner, "eve@acme.test", "Eve").await;
    on_database(
        &s,
        "UPDATE invitations SET expires_at = created_at - 1 WHERE email = $1",
        "eve@acme.test",
    )
    .await;
    let (status, body) = s.invitation_preview(&expired).await;
    assert_eq!((status, code(&body)), (404, "invalid_link"), "{body}");
    let (status, body) = s
        .accept_invitation(&expired, json!({"password": "eve-password"}))
        .await;
    assert_eq!((status, code(&body)), (404, "invalid_link"), "{body}");
    let (_, pending) = s.invitations(&owner).await;
    assert!(
        !pending.to_string().contains("eve@acme.test"),
        "expired ones are not pending: {pending}"
    );

    // A refused acceptance leaves the link working.
    let (status, body) = s
        .accept_invitation(&second, json!({"password": "short"}))
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_password"), "{body}");
    let (status, body) = s
        .accept_invitation(&second, json!({"password": "dan-password", "name": "  "}))
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_name"), "{body}");
    let (status, body) = s
        .accept_invitation(&second, json!({"password": "dan-password"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["operator"]["name"], "Dan",
        "the invited name by default"
    );

    // Who invites whom.
    let admin = s.add_operator(&owner, "Ada").await;
    let (status, _) = s
        .update_operator(&owner, admin.id, json!({"role": "admin"}))
        .await;
    assert_eq!(status, 200);
    let plain = s.add_operator(&owner, "Pat").await;
    let (status, body) = s.invite(&admin, "own@acme.test", "Own", "owner").await;
    assert_eq!(status, 403, "only an owner invites an owner: {body}");
    let (status, body) = s.invite(&admin, "adm@acme.test", "Adm", "admin").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = s.invite(&owner, "own@acme.test", "Own", "owner").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = s.invite(&plain, "op@acme.test", "Op", "operator").await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = s.invitations(&plain).await;
    assert_eq!(status, 403, "{body}");
    let (_, pending) = s.invitations(&owner).await;
    let adm = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == "adm@acme.test")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, body) = s.revoke_invitation(&plain, adm).await;
    assert_eq!(status, 403, "{body}");

    // Bad input.
    for (body, expected) in [
        (
            json!({"email": "x@acme.test", "name": "X", "role": "superuser"}),
            "invalid_json",
        ),
        (
            json!({"email": "x@acme.test", "name": " \u{200B} "}),
            "invalid_name",
        ),
        (
            json!({"email": "x@acme.test", "name": "X\u{0}Y"}),
            "invalid_input",
        ),
        (
            json!({"email": "not an address", "name": "X"}),
            "invalid_email",
        ),
    ] {
        let (status, answer) = s
            .post(&owner, crate::common::paths::INVITATIONS, body.clone())
            .await;
        assert_eq!((status, code(&answer)), (400, expected), "{body}: {answer}");
    }
}

/// Names, roles and capacities: who may change what, the last owner, and bad input.
async fn teammates_change_by_the_role_rules(s: TestServer) {
    let owner = s.signup("Acme").await;
    let admin = s.add_operator(&owner, "Ada").await;
    let plain = s.add_operator(&owner, "Pat").await;
    let (status, body) = s
        .update_operator(&owner, admin.id, json!({"role": "admin"}))
        .await;
    assert_eq!((status, &body["role"]), (200, &json!("admin")), "{body}");

    // An admin changes operators and admins, never owners' roles.
    let (status, body) = s
        .update_operator(&admin, plain.id, json!({"name": "Pat Lee", "capacity": 3}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["name"], &body["capacity"]),
        (&json!("Pat Lee"), &json!(3))
    );
    assert_eq!(body["role"], "operator", "left out, left as it was");
    let (status, body) = s
        .update_operator(&admin, plain.id, json!({"role": "owner"}))
        .await;
    assert_eq!(status, 403, "an admin makes no owner: {body}");
    let (status, body) = s
        .update_operator(&admin, owner.id, json!({"role": "admin"}))
        .await;
    assert_eq!(status, 403, "an admin unmakes no owner: {body}");
    let (status, body) = s
        .update_operator(&admin, owner.id, json!({"capacity": 10}))
        .await;
    assert_eq!(status, 200, "but may set an owner's capacity: {body}");
    let (status, body) = s
        .update_operator(&plain, admin.id, json!({"name": "X"}))
        .await;
    assert_eq!(status, 403, "{body}");

    // The last owner stays one.
    let (status, body) = s
        .update_operator(&owner, owner.id, json!({"role": "admin"}))
        .await;
    assert_eq!((status, code(&body)), (409, "last_owner"), "{body}");
    let (status, _) = s
        .update_operator(&owner, admin.id, json!({"role": "owner"}))
        .await;
    assert_eq!(status, 200, "an owner makes an owner");
    let (status, body) = s
        .update_operator(&owner, owner.id, json!({"role": "admin"}))
        .await;
    assert_eq!(status, 200, "with another owner, one may step down: {body}");
    let (status, body) = s
        .update_operator(&admin, admin.id, json!({"role": "operator"}))
        .await;
    assert_eq!((status, code(&body)), (409, "last_owner"), "{body}");

    // Capacity: 1 to 1000, null for no limit; shown on the team.
    let (status, body) = s
        .update_operator(&admin, plain.id, json!({"capacity": null}))
        .await;
    assert_eq!((status, &body["capacity"]), (200, &Value::Null), "{body}");
    let (status, body) = s
        .update_operator(&admin, plain.id, json!({"capacity": 1000}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, team) = s.operators(&plain).await;
    let pat = team["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == plain.id)
        .unwrap()
        .clone();
    assert_eq!(
        (&pat["capacity"], &pat["active"]),
        (&json!(1000), &json!(true))
    );
    assert_eq!(pat["name"], "Pat Lee");

    for (change, expected) in [
        (json!({"capacity": 0}), "invalid_capacity"),
        (json!({"capacity": 1001}), "invalid_capacity"),
        (json!({"capacity": -5}), "invalid_capacity"),
        (json!({"capacity": "five"}), "invalid_json"),
        (json!({"role": "superuser"}), "invalid_json"),
        (json!({"name": "   "}), "invalid_name"),
        (json!({"name": "Pat\u{0}"}), "invalid_input"),
    ] {
        let (status, body) = s.update_operator(&admin, plain.id, change.clone()).await;
        assert_eq!((status, code(&body)), (400, expected), "{change}: {body}");
    }
    let (status, body) = s
        .update_operator(&admin, plain.id + 1000, json!({"name": "Nobody"}))
        .await;
    assert_eq!(status, 404, "{body}");

    // Deactivation's rules: not oneself, not an owner by an admin, not by an operator.
    let (status, body) = s.deactivate(&admin, admin.id).await;
    assert_eq!(
        (status, code(&body)),
        (409, "cannot_deactivate_self"),
        "{body}"
    );
    let (status, body) = s.deactivate(&owner, admin.id).await;
    assert_eq!(
        status, 403,
        "the first owner is an admin now, and an admin deactivates no owner: {body}"
    );
    let (status, body) = s.deactivate(&plain, owner.id).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = s.reactivate(&plain, owner.id).await;
    assert_eq!(status, 403, "{body}");

    // Oneself: the name only.
    let (status, body) = s.update_me(&plain, json!({"name": " Patricia "})).await;
    assert_eq!((status, &body["name"]), (200, &json!("Patricia")), "{body}");
    let (status, body) = s.update_me(&plain, json!({"name": ""})).await;
    assert_eq!((status, code(&body)), (400, "invalid_name"), "{body}");
    let (_, me) = s.me(&plain).await;
    assert_eq!(me["name"], "Patricia");
}

/// Deactivating Ana, whose open chats are routed away (and one waits), whose sessions end and
/// whose open stream closes; then reactivating her.
async fn a_deactivated_teammate_loses_chats_sessions_and_streams(s: TestServer) {
    let owner = s.signup("Acme").await;
    let ana = s.add_operator(&owner, "Ana").await;
    let ben = s.add_operator(&owner, "Ben").await;
    let (_, me) = s.me(&ana).await;
    let ana_email = me["email"].as_str().unwrap().to_owned();
    let ana_elsewhere = s.login(&ana_email, "password123").await;
    let widget = s.widget(&owner, "round_robin", &[ana.id, ben.id]).await;
    let manual = s.widget(&owner, "manual", &[]).await;

    // Ana has two routed chats and one she claimed from the manual queue.
    s.set_availability(&ben, "away").await;
    let mut routed = Vec::new();
    for text in ["first parcel", "second parcel"] {
        let chat = s.start_chat(&widget, text).await;
        let view = s.handover(&widget, &chat).await;
        assert_eq!(view["assignee_name"], "Ana", "{view}");
        routed.push(chat);
    }
    let claimed = s.start_chat(&manual, "a question").await;
    s.handover(&manual, &claimed).await;
    let (status, _) = s.claim(&ana, claimed.id).await;
    assert_eq!(status, 200);
    let (status, _) = s.reply(&ana, claimed.id, "Ana here, one moment").await;
    assert_eq!(status, 201);
    s.set_availability(&ben, "available").await;

    let mut ana_tab = s.inbox_stream(&ana).await;
    let mut ana_other_tab = s.inbox_stream(&ana_elsewhere).await;
    let mut owner_tab = s.inbox_stream(&owner).await;

    let (status, body) = s.deactivate(&owner, ana.id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["active"], &body["availability"]),
        (&json!(false), &json!("away"))
    );

    assert_eq!(
        ana_tab.closed().await,
        Some(4003),
        "her stream closes at once"
    );
    assert_eq!(ana_other_tab.closed().await, Some(4003), "on every device");
    for session in [&ana, &ana_elsewhere] {
        let (status, _) = s.me(session).await;
        assert_eq!(status, 401, "her sessions ended");
    }
    let (status, refused) = s.try_login(&ana_email, "password123").await;
    let (_, wrong) = s.try_login(&ana_email, "not-her-password").await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused, wrong, "like a wrong password");

    // Her routed chats went to Ben in one event each; the manual one waits, unassigned.
    for chat in &routed {
        let detail = s.conversation(&owner, chat.id).await;
        assert_eq!(detail["assignee_id"], ben.id, "{detail}");
        let events = detail["assignment_events"].as_array().unwrap();
        let last = events.last().unwrap();
        assert_eq!(
            (
                &last["from_operator_id"],
                &last["to_operator_id"],
                &last["reason"],
                &last["actor_id"]
            ),
            (
                &json!(ana.id),
                &json!(ben.id),
                &json!("assignee_removed"),
                &json!(owner.id)
            ),
            "{detail}"
        );
        assert_eq!(
            events.len(),
            2,
            "routed to Ana, then moved to Ben: {detail}"
        );
    }
    let detail = s.conversation(&owner, claimed.id).await;
    let last = detail["assignment_events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            &last["from_operator_id"],
            &last["to_operator_id"],
            &last["reason"]
        ),
        (&json!(ana.id), &Value::Null, &json!("assignee_removed")),
        "{detail}"
    );
    assert_eq!(detail["waiting_reason"], "manual_mode", "{detail}");
    let ana_reply = &detail["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(ana_reply["operator_id"], ana.id, "her messages stay hers");

    let mut moved = Vec::new();
    while moved.len() < 3 {
        let event = owner_tab.next_of("conversation.assigned").await;
        assert_eq!(event["reason"], "assignee_removed", "{event}");
        assert_eq!(event["previous_assignee_id"], ana.id, "{event}");
        moved.push(event["conversation_id"].as_i64().unwrap());
    }
    moved.sort();
    let mut expected = vec![routed[0].id, routed[1].id, claimed.id];
    expected.sort();
    assert_eq!(moved, expected);

    // She stays on the team, deactivated, and nothing is given to her.
    let (_, team) = s.operators(&owner).await;
    let listed = team["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == ana.id)
        .unwrap()
        .clone();
    assert_eq!(
        (&listed["name"], &listed["active"]),
        (&json!("Ana"), &json!(false))
    );
    let (status, body) = s
        .set_assignee(&owner, claimed.id, Some(ana.id), IfAssignee::Any)
        .await;
    assert_eq!(
        (status, code(&body)),
        (409, "operator_deactivated"),
        "{body}"
    );
    let next = s.start_chat(&widget, "third parcel").await;
    let view = s.handover(&widget, &next).await;
    assert_eq!(view["assignee_name"], "Ben", "{view}");

    // Reactivated, she signs in again and starts Away.
    let (status, body) = s.reactivate(&owner, ana.id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["active"], &body["availability"]),
        (&json!(true), &json!("away"))
    );
    let back = s.login(&ana_email, "password123").await;
    let (status, me) = s.me(&back).await;
    assert_eq!((status, &me["active"]), (200, &json!(true)), "{me}");
    let (status, body) = s.deactivate(&owner, ana.id).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s.deactivate(&owner, ana.id).await;
    assert_eq!(
        (status, &body["active"]),
        (200, &json!(false)),
        "twice is once: {body}"
    );
}

on_both!(
    invitation_links_stop_working_when_revoked_replaced_or_expired,
    teammates_change_by_the_role_rules,
    a_deactivated_teammate_loses_chats_sessions_and_streams,
);

/// Two nodes on one PostgreSQL: deactivating through one closes the streams open on the other,
/// and a password changed through one closes the other sessions' streams there too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_sessions_close_streams_on_every_node() {
    let Some(db) = TestDb::create(Db::Postgres).await else {
        return;
    };
    let (a, b) = tokio::join!(Node::spawn(&db.url), Node::spawn(&db.url));
    let owner = a.api.signup("Acme").await;
    let ana = a.api.add_operator(&owner, "Ana").await;
    let ben = a.api.add_operator(&owner, "Ben").await;
    let (_, me) = a.api.me(&ben).await;
    let ben_email = me["email"].as_str().unwrap().to_owned();
    let ben_on_b = b.api.login(&ben_email, "password123").await;

    let mut ana_on_b = b.api.inbox_stream(&ana).await;
    let (status, body) = a.api.deactivate(&owner, ana.id).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ana_on_b.closed().await, Some(4003));

    let mut ben_kept = a.api.inbox_stream(&ben).await;
    let mut ben_other = b.api.inbox_stream(&ben_on_b).await;
    let (status, body) = a
        .api
        .change_password(&ben, "password123", "new-password-1")
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(ben_other.closed().await, Some(4003));
    still_hears(&a.api, &owner, &mut ben_kept).await;
}

/// The stream is still open: it receives the next event of the workspace.
async fn still_hears(api: &crate::common::Api, owner: &Op, stream: &mut crate::common::Socket) {
    api.set_availability(owner, "away").await;
    let event = stream.next_of("operator.availability_changed").await;
    assert_eq!(event["operator_id"], owner.id, "{event}");
}
