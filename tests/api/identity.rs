//! Identity from the embedding site: a visitor identified with a valid HMAC of their user id
//! under the widget's identity secret is verified and is one record across browsers; a wrong
//! hash is a 403 that changes nothing; the secret is for owners and admins only.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{Chat, TestServer, identity, paths, user_hash};
use crate::on_both;

/// The visitor record behind a conversation, as its operator sees it.
async fn visitor_of(s: &TestServer, op: &crate::common::Op, conversation: i64) -> Value {
    let conv = s.conversation(op, conversation).await;
    assert_eq!(conv["visitor_id"], conv["visitor"]["id"], "{conv}");
    let (status, record) = s
        .visitor_record(op, conv["visitor_id"].as_i64().unwrap())
        .await;
    assert_eq!(status, 200, "{record}");
    record
}

fn chat_ids(record: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = record["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

async fn a_good_hash_verifies_and_joins_every_device(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let secret = s.identity_secret(&ana, &widget).await;
    let laptop = s.start_chat(&widget, "from my laptop").await;
    let phone = s.start_chat(&widget, "from my phone").await;
    let phone_visitor = visitor_of(&s, &ana, phone.id).await["id"].clone();
    assert_ne!(
        visitor_of(&s, &ana, laptop.id).await["id"],
        phone_visitor,
        "two anonymous browsers are two visitors"
    );

    let mut inbox = s.inbox_stream(&ana).await;
    let who = identity(
        &secret,
        "user-42",
        Some("Dana Customer"),
        Some("Dana@Example.com"),
    );
    let (status, identified) = s.identify(&widget, &laptop.token, who.clone()).await;
    assert_eq!(status, 200, "{identified}");
    assert_eq!(identified["verified"], true);
    assert_eq!(identified["name"], "Dana Customer");
    assert_eq!(identified["email"], "dana@example.com");
    let updated = inbox.next_of("visitor.updated").await;
    assert_eq!(updated["merged_visitor_id"], Value::Null, "{updated}");

    // The same person signs in on their phone: one record with both chats.
    let (status, identified) = s
        .identify(
            &widget,
            &phone.token,
            identity(&secret, "user-42", None, None),
        )
        .await;
    assert_eq!(status, 200, "{identified}");
    let listed: Vec<i64> = identified["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec![phone.id, laptop.id],
        "newest first: {identified}"
    );
    assert_eq!(
        identified["name"], "Dana Customer",
        "kept when not sent again"
    );
    let updated = inbox.next_of("visitor.updated").await;
    assert_eq!(updated["merged_visitor_id"], phone_visitor, "{updated}");

    let record = visitor_of(&s, &ana, laptop.id).await;
    assert_eq!(record, visitor_of(&s, &ana, phone.id).await, "one record");
    assert_eq!(record["verified"], true);
    assert_eq!(record["external_id"], "user-42");
    assert_eq!(record["display_name"], "Dana Customer");
    assert_eq!(chat_ids(&record), vec![laptop.id, phone.id]);
    let (status, _) = s
        .visitor_record(&ana, phone_visitor.as_i64().unwrap())
        .await;
    assert_eq!(status, 404, "the phone's anonymous record was merged away");

    // Each browser reads both chats with its own token.
    for (token, chat) in [(&phone.token, laptop.id), (&laptop.token, phone.id)] {
        let crossed = Chat {
            id: chat,
            token: token.clone(),
        };
        let (status, view) = s.visitor_view(&widget, &crossed).await;
        assert_eq!(status, 200, "{view}");
    }

    // A third browser that starts identified lands on the same record.
    let (status, started) = s
        .visitor_start(
            &widget,
            json!({"body": "from the office", "visitor": identity(&secret, "user-42", None, None)}),
        )
        .await;
    assert_eq!(status, 201, "{started}");
    let office = started["conversation_id"].as_i64().unwrap();
    let record = visitor_of(&s, &ana, office).await;
    assert_eq!(chat_ids(&record).len(), 3, "{record}");

    let (_, rows) = s.conversations(&ana, "").await;
    for row in rows["items"].as_array().unwrap() {
        assert_eq!(row["visitor"]["display_name"], "Dana Customer", "{row}");
        assert_eq!(row["visitor"]["verified"], true, "{row}");
        assert_eq!(row["visitor_id"], record["id"], "{row}");
    }
}

async fn a_wrong_hash_is_refused_and_changes_nothing(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let other_widget = s.widget(&ana, "manual", &[]).await;
    let secret = s.identity_secret(&ana, &widget).await;
    let other_secret = s.identity_secret(&ana, &other_widget).await;
    let known = s.start_chat(&widget, "I am user 7").await;
    let (status, _) = s
        .identify(
            &widget,
            &known.token,
            identity(&secret, "user-7", Some("Seven"), None),
        )
        .await;
    assert_eq!(status, 200);
    let stranger = s.start_chat(&widget, "I say I am user 7").await;
    let known_before = visitor_of(&s, &ana, known.id).await;
    let stranger_before = visitor_of(&s, &ana, stranger.id).await;
    let (_, rows_before) = s.conversations(&ana, "").await;

    let forged = [
        json!({"user_id": "user-7", "user_hash": user_hash(&other_secret, "user-7")}),
        json!({"user_id": "user-7", "user_hash": user_hash(&secret, "user-8")}),
        json!({"user_id": "user-7", "user_hash": "00".repeat(32), "name": "Mallory"}),
        json!({"user_id": "user-7", "user_hash": ""}),
        json!({"user_id": "user-7", "user_hash": "not hex"}),
    ];
    for claim in &forged {
        let (status, answer) = s.identify(&widget, &stranger.token, claim.clone()).await;
        assert_eq!(status, 403, "{claim}: {answer}");
        assert_eq!(answer["error"]["code"], "identity_rejected", "{answer}");
        let mut start = json!({"body": "let me in", "visitor": claim});
        let (status, _) = s.visitor_start(&widget, start.clone()).await;
        assert_eq!(status, 403, "start as a new visitor: {claim}");
        start["visitor_token"] = stranger.token.clone().into();
        let (status, _) = s.visitor_start(&widget, start).await;
        assert_eq!(status, 403, "start as the stranger: {claim}");
    }

    assert_eq!(visitor_of(&s, &ana, known.id).await, known_before);
    assert_eq!(visitor_of(&s, &ana, stranger.id).await, stranger_before);
    assert_eq!(stranger_before["verified"], false);
    let (_, rows_after) = s.conversations(&ana, "").await;
    assert_eq!(rows_after, rows_before, "no chat was created or moved");
    let (status, _) = s
        .visitor_view(
            &widget,
            &Chat {
                id: known.id,
                token: stranger.token.clone(),
            },
        )
        .await;
    assert_eq!(status, 404, "the stranger still cannot read user 7's chat");
}

/// Another person signing in on a browser someone else used: only the token moves, each
/// person's chats stay theirs.
async fn a_shared_browser_changes_hands_without_the_chats(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let secret = s.identity_secret(&ana, &widget).await;
    let first = s.start_chat(&widget, "first person's question").await;
    let (status, _) = s
        .identify(
            &widget,
            &first.token,
            identity(&secret, "user-1", Some("First"), None),
        )
        .await;
    assert_eq!(status, 200);
    let first_record = visitor_of(&s, &ana, first.id).await;

    let (status, identified) = s
        .identify(
            &widget,
            &first.token,
            identity(&secret, "user-2", Some("Second"), None),
        )
        .await;
    assert_eq!(status, 200, "{identified}");
    assert_eq!(identified["conversations"], json!([]), "{identified}");
    assert_eq!(visitor_of(&s, &ana, first.id).await, first_record);
    let (status, _) = s.visitor_view(&widget, &first).await;
    assert_eq!(status, 404, "the browser now belongs to the second person");

    let (status, started) = s
        .visitor_start(
            &widget,
            json!({"body": "second person's question", "visitor_token": first.token}),
        )
        .await;
    assert_eq!(status, 201, "{started}");
    let second = visitor_of(&s, &ana, started["conversation_id"].as_i64().unwrap()).await;
    assert_eq!(second["external_id"], "user-2");
    assert_eq!(second["name"], "Second");
    assert_ne!(second["id"], first_record["id"]);
}

async fn the_identity_secret_is_for_owners_and_admins(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let other = s.widget(&ana, "manual", &[]).await;
    let secret = s.identity_secret(&ana, &widget).await;
    assert_eq!(secret.len(), 64, "{secret}");
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
    assert_ne!(
        secret,
        s.identity_secret(&ana, &other).await,
        "one per widget"
    );

    let (status, admin) = s
        .create_operator(
            &ana,
            json!({"name": "Ada", "email": "ada@acme.test", "password": "password123", "role": "admin"}),
        )
        .await;
    assert_eq!(status, 201, "{admin}");
    let admin = s.login("ada@acme.test", "password123").await;
    assert_eq!(s.identity_secret(&admin, &widget).await, secret);

    let bob = s.add_operator(&ana, "Bob").await;
    let (status, seen) = s.get_widget(&bob, widget.id).await;
    assert_eq!(status, 200);
    assert!(seen.get("identity_secret").is_none(), "{seen}");
    let chat = s.start_chat(&widget, "hello").await;
    let answers = [
        ("the owner's widget list", s.get(&ana, paths::WIDGETS).await),
        (
            "an operator's widget list",
            s.get(&bob, paths::WIDGETS).await,
        ),
        (
            "a routing change",
            s.set_routing(&ana, widget.id, "manual", &[]).await,
        ),
        ("the public widget", s.public_widget(&widget).await),
        ("the visitor's chat", s.visitor_view(&widget, &chat).await),
    ];
    for (what, (status, answer)) in answers {
        assert_eq!(status, 200, "{what}: {answer}");
        assert!(!answer.to_string().contains(&secret), "{what}: {answer}");
    }
}

async fn visitor_records_stay_in_their_workspace(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    let id = visitor_of(&s, &ana, chat.id).await["id"].as_i64().unwrap();
    let bob = s.add_operator(&ana, "Bob").await;
    let (status, _) = s.visitor_record(&bob, id).await;
    assert_eq!(status, 200, "any operator of the workspace");

    let other = s.signup("Other").await;
    let (status, body) = s.visitor_record(&other, id).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
    for path in [
        paths::visitor(id + 1000),
        format!("{}/{id:03}", paths::VISITORS),
        format!("{}/x", paths::VISITORS),
    ] {
        let (status, _) = s.get(&ana, &path).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = s.call(Method::GET, &paths::visitor(id), None, None).await;
    assert_eq!(status, 401);
}

async fn identities_are_text_within_bounds(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let secret = s.identity_secret(&ana, &widget).await;
    let chat = s.start_chat(&widget, "hello").await;
    let markup = "<img src=x onerror=alert(1)> Bobby</b>";
    let (status, identified) = s
        .identify(
            &widget,
            &chat.token,
            identity(&secret, "<u>1</u>", Some(markup), None),
        )
        .await;
    assert_eq!(status, 200, "{identified}");
    let record = visitor_of(&s, &ana, chat.id).await;
    assert_eq!(
        record["name"], markup,
        "kept as written, for the inbox to show as text"
    );
    assert_eq!(record["display_name"], markup);
    assert_eq!(record["external_id"], "<u>1</u>");

    let long_name = "n".repeat(101);
    let long_id = "u".repeat(256);
    for (what, body) in [
        ("blank user id", identity(&secret, " ", None, None)),
        ("user id too long", identity(&secret, &long_id, None, None)),
        (
            "control character",
            identity(&secret, "a\u{7}b", None, None),
        ),
        (
            "name too long",
            identity(&secret, "u-1", Some(&long_name), None),
        ),
        ("blank name", identity(&secret, "u-1", Some("  "), None)),
        (
            "bad email",
            identity(&secret, "u-1", None, Some("not an email")),
        ),
        (
            "no user id",
            json!({"user_hash": user_hash(&secret, "u-1")}),
        ),
        ("no hash", json!({"user_id": "u-1"})),
    ] {
        let (status, answer) = s.identify(&widget, &chat.token, body).await;
        assert_eq!(status, 400, "{what}: {answer}");
    }
    assert_eq!(
        visitor_of(&s, &ana, chat.id).await,
        record,
        "nothing changed"
    );

    for token in [None, Some("made-up")] {
        let body = identity(&secret, "u-1", None, None);
        let path = paths::identify(&widget.key);
        let token = token.map(crate::common::Credential::Visitor);
        let (status, _) = s.send(Method::POST, &path, token, Some(body)).await;
        assert_eq!(status, 401, "{token:?}");
    }
}

/// The generated name is a function of the visitor alone: the same in the list, the
/// conversation, the record and after a restart.
async fn an_anonymous_visitor_keeps_their_generated_name(s: TestServer) {
    let ana = s.signup("Acme").await;
    let widget = s.widget(&ana, "manual", &[]).await;
    let chat = s.start_chat(&widget, "hello").await;
    let second = s.start_chat(&widget, "hi").await;
    let name = visitor_of(&s, &ana, chat.id).await["display_name"].clone();
    let words: Vec<&str> = name.as_str().unwrap().split(' ').collect();
    assert_eq!(words.len(), 2, "{name}");
    assert!(
        words
            .iter()
            .all(|w| w.chars().next().unwrap().is_ascii_uppercase())
    );
    assert_ne!(name, visitor_of(&s, &ana, second.id).await["display_name"]);
    let (_, rows) = s.conversations(&ana, "").await;
    let row = rows["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == chat.id)
        .unwrap()
        .clone();
    assert_eq!(row["visitor"]["display_name"], name);
    assert_eq!(row["visitor"]["name"], Value::Null);

    let s = s.restart(|_| {}).await;
    assert_eq!(visitor_of(&s, &ana, chat.id).await["display_name"], name);
}

on_both!(
    a_good_hash_verifies_and_joins_every_device,
    a_wrong_hash_is_refused_and_changes_nothing,
    a_shared_browser_changes_hands_without_the_chats,
    the_identity_secret_is_for_owners_and_admins,
    visitor_records_stay_in_their_workspace,
    identities_are_text_within_bounds,
    an_anonymous_visitor_keeps_their_generated_name,
);
