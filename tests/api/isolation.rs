//! Tenant isolation: an operator of workspace B, or a visitor of B's widget, trying workspace
//! A's ids gets 404 everywhere (never 403, never data), and nothing of A reaches B's lists or
//! event streams.
//!
//! The matrix is driven by the OpenAPI document: every documented operation must have an entry
//! in `probes`, so a new endpoint fails here until someone decides how it is isolated.
//!
//! The visitor's rule: a visitor token is a credential. Where a request names a conversation,
//! a token that does not own it (another widget's, a made-up one, none) is a 404 exactly like an
//! unknown id, so nothing tells whether the conversation exists. Where the token is all the
//! request names (starting a chat as a returning visitor, opening the visitor stream), an
//! unknown token is a 401, the same for another widget's real token as for a made-up one.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};
use web_push_native::p256::SecretKey;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

use crate::common::{
    Chat, Credential, IfAssignee, Op, Socket, TestServer, Widget, identity, paths,
};
use crate::on_both;

/// One workspace with one of everything an id can name.
struct Tenant {
    /// Lower case; every name, email and text of the tenant contains it, so finding it in
    /// another tenant's answer is a leak.
    slug: String,
    workspace_id: i64,
    owner: Op,
    /// Not an admin: a 403 for their role must never come before the 404.
    teammate: Op,
    widget: Widget,
    article_id: i64,
    /// A pending invitation.
    invitation_id: i64,
    /// The owner's browser push subscription.
    push_endpoint: String,
    /// The widget's identity secret, which only the tenant's owners and admins may read.
    identity_secret: String,
}

impl Tenant {
    async fn create(s: &TestServer, name: &str) -> Tenant {
        let slug = name.to_lowercase();
        let (status, body) = s
            .signup_with(
                json!({"workspace_name": name, "name": format!("{name} Owner"),
                "email": format!("owner@{slug}.test"), "password": "correct horse"}),
            )
            .await;
        assert_eq!(status, 201, "signup: {body}");
        let workspace_id = body["workspace"]["id"].as_i64().unwrap();
        let owner = Op {
            id: body["operator"]["id"].as_i64().unwrap(),
            token: body["token"].as_str().unwrap().to_owned(),
        };
        let email = format!("agent@{slug}.test");
        let (status, body) = s
            .create_operator(
                &owner,
                json!({"name": format!("{name} Agent"), "email": email,
                    "password": "password123", "role": "operator"}),
            )
            .await;
        assert_eq!(status, 201, "add teammate: {body}");
        let teammate = s.login(&email, "password123").await;
        let widget = s.widget(&owner, "round_robin", &[teammate.id]).await;
        let (question, answer) = article_text(&slug);
        let (status, article) = s.add_article(&owner, widget.id, &question, &answer).await;
        assert_eq!(status, 201, "article: {article}");
        let (status, invitation) = s
            .invite(
                &owner,
                &format!("invitee@{slug}.test"),
                &format!("{name} Invitee"),
                "operator",
            )
            .await;
        assert_eq!(status, 201, "invitation: {invitation}");
        let push_endpoint = format!("http://127.0.0.1:9/push/{slug}-owner");
        let (status, subscribed) = s.subscribe_push(&owner, subscription(&push_endpoint)).await;
        assert_eq!(status, 201, "push subscription: {subscribed}");
        let identity_secret = s.identity_secret(&owner, &widget).await;
        Tenant {
            workspace_id,
            slug,
            owner,
            teammate,
            widget,
            article_id: article["id"].as_i64().unwrap(),
            invitation_id: invitation["id"].as_i64().unwrap(),
            push_endpoint,
            identity_secret,
        }
    }

    /// The embedding site's word that the chat's visitor is its customer, named after the
    /// tenant.
    fn identity(&self) -> Value {
        identity(
            &self.identity_secret,
            &format!("{}-customer", self.slug),
            Some(&format!("{} Customer", self.slug)),
            Some(&format!("customer@{}.test", self.slug)),
        )
    }

    /// A chat the team has: handed over and routed to the teammate.
    async fn handed_over_chat(&self, s: &TestServer) -> Chat {
        let chat = s
            .start_chat(&self.widget, &format!("{} visitor here", self.slug))
            .await;
        s.handover(&self.widget, &chat).await;
        chat
    }

    /// A chat through its whole life: created, handed over (routed to the teammate), its
    /// visitor identified by the site, messaged, claimed by the owner, assigned back to the
    /// teammate, answered and closed; then the teammate goes Away and comes back.
    async fn chat_through_its_life(&self, s: &TestServer) -> Chat {
        let chat = self.handed_over_chat(s).await;
        let (status, body) = s.identify(&self.widget, &chat.token, self.identity()).await;
        assert_eq!(status, 200, "identify: {body}");
        let (status, body) = s
            .visitor_says(
                &self.widget,
                &chat,
                &format!("{} order 7731 never arrived", self.slug),
            )
            .await;
        assert_eq!(status, 201, "visitor message: {body}");
        let refund = format!("{} refund issued", self.slug);
        let to_teammate = Some(self.teammate.id);
        for (suffix, (status, answer)) in [
            ("/claim", s.claim(&self.owner, chat.id).await),
            (
                "/assignee",
                s.set_assignee(&self.owner, chat.id, to_teammate, IfAssignee::Any)
                    .await,
            ),
            ("/messages", s.reply(&self.teammate, chat.id, &refund).await),
            ("/close", s.close(&self.owner, chat.id).await),
        ] {
            assert!(status < 300, "{suffix}: {answer}");
        }
        s.set_availability(&self.teammate, "away").await;
        s.set_availability(&self.teammate, "available").await;
        chat
    }

    /// The ids of one of the tenant's chats and what it belongs to.
    async fn ids<'a>(&'a self, s: &TestServer, chat: &Chat) -> Ids<'a> {
        let conversation = s.conversation(&self.owner, chat.id).await;
        Ids {
            widget: self.widget.id,
            key: &self.widget.key,
            article: self.article_id,
            conversation: chat.id,
            operator: self.teammate.id,
            invitation: self.invitation_id,
            visitor: conversation["visitor_id"].as_i64().unwrap(),
        }
    }

    /// What must never appear in another tenant's answers: the slug (in every name, email,
    /// message and article), the widget key and identity secret, the push endpoint and the
    /// visitors' tokens.
    fn secrets(&self, chats: &[Chat]) -> Vec<String> {
        let mut secrets = vec![
            self.slug.clone(),
            self.widget.key.to_lowercase(),
            self.identity_secret.clone(),
            self.push_endpoint.clone(),
        ];
        secrets.extend(chats.iter().map(|c| c.token.to_lowercase()));
        secrets
    }
}

/// The question and answer of the tenant's knowledge-base article.
fn article_text(slug: &str) -> (String, String) {
    (
        format!("What is the {slug} refund policy?"),
        format!("{slug} refunds within 30 days."),
    )
}

fn article(slug: &str) -> Value {
    let (question, answer) = article_text(slug);
    json!({"question": question, "answer": answer})
}

/// A browser's push subscription with a valid P-256 key; nothing is ever delivered to it.
fn subscription(endpoint: &str) -> Value {
    let key = SecretKey::from_slice(&[7; 32]).unwrap().public_key();
    json!({"endpoint": endpoint, "keys": {
        "p256dh": URL_SAFE_NO_PAD.encode(key.to_encoded_point(false).as_bytes()),
        "auth": URL_SAFE_NO_PAD.encode([1u8; 16]),
    }})
}

/// The ids a path template is filled with.
#[derive(Clone, Copy)]
struct Ids<'a> {
    widget: i64,
    key: &'a str,
    article: i64,
    conversation: i64,
    operator: i64,
    invitation: i64,
    visitor: i64,
}

/// Puts `ids` into a documented path template; a parameter it does not know fails the test.
fn fill(template: &str, ids: &Ids) -> String {
    let mut previous = "";
    let segments: Vec<String> = template
        .split('/')
        .map(|segment| {
            let value = match (previous, segment) {
                ("conversations", "{id}") => ids.conversation.to_string(),
                ("widgets", "{id}") => ids.widget.to_string(),
                ("operators", "{id}") => ids.operator.to_string(),
                // The id, for the operations it names an invitation by; the public ones take a
                // link's token there, and are `Untenanted`.
                ("invitations", "{invitation}") => ids.invitation.to_string(),
                ("password-reset", "{token}") | ("chat", "{token}") => MADE_UP_TOKEN.to_owned(),
                ("visitors", "{id}") => ids.visitor.to_string(),
                (_, "{key}") => ids.key.to_owned(),
                (_, "{article_id}") => ids.article.to_string(),
                (_, s) if s.starts_with('{') => {
                    panic!("no id to put in {s} of {template}: teach `fill` about it")
                }
                (_, s) => s.to_owned(),
            };
            previous = segment;
            value
        })
        .collect();
    segments.join("/")
}

/// What the matrix does with one documented operation.
enum Probe {
    /// Names one of the target's resources, in the path or in the body: B's operators get a
    /// 404 with the error model and nothing of A.
    Foreign(Option<Value>),
    /// A public widget endpoint about one conversation: tried with mismatched keys and tokens.
    VisitorChat(Option<Value>),
    /// Starts a chat as a returning visitor, whose token is in the body.
    VisitorStart,
    /// A public widget endpoint about the visitor themself, whose token (in the header) is
    /// all it names; the body as the caller's own visitor would send it.
    VisitorSelf(Value),
    /// Public through the widget's key, which every page embedding it shows: the greeting.
    PublicWidget,
    /// Reads the caller's own workspace, with each of these query strings.
    Read(&'static [&'static str]),
    /// Reads the caller's own workspace (with this query string), as only owners and admins
    /// may: a plain operator gets a 403.
    ManagersRead(&'static str),
    /// Changes the caller's own things; the answer holds nothing of A.
    Write(Value),
    /// A WebSocket stream: see `event_streams_stay_in_their_workspace`.
    Stream,
    /// Holds no workspace's data (or only the caller's own sign-in).
    Untenanted,
    /// A chat's emailed link, whose token is all it names: see `missed_replies`, where a wrong
    /// token is a 404 and the right one reaches only its chat.
    ChatLink,
}

/// Every documented operation, with the request that tries it. `target` is whose resources the
/// `Foreign` requests name; `caller` is the workspace asking.
fn probes(target: &Tenant, caller: &Tenant) -> Vec<(Method, &'static str, Probe)> {
    use Probe::*;
    let new_article = || Foreign(Some(article(&caller.slug)));
    vec![
        (Method::GET, "/healthz", Untenanted),
        (Method::GET, "/api/v1/openapi.json", Untenanted),
        (Method::GET, "/api/v1/signup", Untenanted),
        (Method::POST, "/api/v1/signup", Untenanted),
        (Method::POST, "/api/v1/session", Untenanted),
        (Method::DELETE, "/api/v1/session", Untenanted),
        (Method::GET, "/api/v1/push/vapid-public-key", Untenanted),
        (Method::GET, "/api/v1/me", Read(&[""])),
        (
            Method::PUT,
            "/api/v1/me/availability",
            Write(json!({"availability": "available"})),
        ),
        (Method::GET, "/api/v1/operators", Read(&[""])),
        (
            Method::POST,
            "/api/v1/operators",
            Write(
                json!({"name": "New Hire", "email": format!("hire@{}.test", caller.slug),
                "password": "password123", "role": "operator"}),
            ),
        ),
        (Method::GET, "/api/v1/widgets", Read(&[""])),
        (
            Method::POST,
            "/api/v1/widgets",
            Write(json!({"name": "Help"})),
        ),
        (Method::GET, "/api/v1/widgets/{id}", Foreign(None)),
        (
            Method::PATCH,
            "/api/v1/widgets/{id}",
            Foreign(Some(
                json!({"greeting": format!("{} says hi", caller.slug)}),
            )),
        ),
        (
            Method::PUT,
            "/api/v1/widgets/{id}/routing",
            Foreign(Some(
                json!({"mode": "manual", "eligible_operator_ids": [caller.teammate.id]}),
            )),
        ),
        (
            Method::GET,
            "/api/v1/widgets/{id}/routing/preview",
            Foreign(None),
        ),
        (
            Method::PUT,
            "/api/v1/widgets/{id}/allowed-origins",
            Foreign(Some(json!({"allowed_origins": ["https://shop.example"]}))),
        ),
        (Method::GET, "/api/v1/widgets/{id}/articles", Foreign(None)),
        (Method::POST, "/api/v1/widgets/{id}/articles", new_article()),
        (
            Method::PUT,
            "/api/v1/widgets/{id}/articles/{article_id}",
            new_article(),
        ),
        (
            Method::DELETE,
            "/api/v1/widgets/{id}/articles/{article_id}",
            Foreign(None),
        ),
        (
            Method::GET,
            "/api/v1/conversations",
            Read(&[
                "",
                "?view=mine",
                "?view=unassigned",
                "?view=ai",
                "?view=all",
                "?status=open",
                "?status=active",
                "?status=handed_off",
                "?status=closed",
                "?view=mine&status=closed",
                "?view=unassigned&status=open",
            ]),
        ),
        (
            Method::GET,
            "/api/v1/conversations/counts",
            Read(&[
                "",
                "?status=open",
                "?status=active",
                "?status=handed_off",
                "?status=closed",
            ]),
        ),
        (Method::GET, "/api/v1/conversations/{id}", Foreign(None)),
        (
            Method::POST,
            "/api/v1/conversations/{id}/read",
            Foreign(None),
        ),
        (
            Method::POST,
            "/api/v1/conversations/{id}/messages",
            Foreign(Some(json!({"body": "hello"}))),
        ),
        (
            Method::POST,
            "/api/v1/conversations/{id}/takeover",
            Foreign(None),
        ),
        (
            Method::POST,
            "/api/v1/conversations/{id}/claim",
            Foreign(Some(json!({}))),
        ),
        (
            Method::PUT,
            "/api/v1/conversations/{id}/assignee",
            Foreign(Some(json!({"operator_id": caller.teammate.id}))),
        ),
        (
            Method::POST,
            "/api/v1/conversations/{id}/close",
            Foreign(None),
        ),
        (
            Method::POST,
            "/api/v1/conversations/{id}/reopen",
            Foreign(None),
        ),
        (Method::GET, "/api/v1/visitors/{id}", Foreign(None)),
        (Method::GET, "/api/v1/events", Stream),
        (Method::GET, "/api/v1/widget/{key}/events", Stream),
        (Method::GET, "/api/v1/widget/{key}", PublicWidget),
        (
            Method::POST,
            "/api/v1/widget/{key}/conversations",
            VisitorStart,
        ),
        (
            Method::PUT,
            "/api/v1/widget/{key}/visitor",
            VisitorSelf(json!({"page": {"url": format!("https://{}.test/", caller.slug)}})),
        ),
        (
            Method::POST,
            "/api/v1/widget/{key}/identify",
            VisitorSelf(caller.identity()),
        ),
        (
            Method::GET,
            "/api/v1/widget/{key}/conversations/{id}",
            VisitorChat(None),
        ),
        (
            Method::POST,
            "/api/v1/widget/{key}/conversations/{id}/messages",
            VisitorChat(Some(json!({"body": "hello"}))),
        ),
        (
            Method::POST,
            "/api/v1/widget/{key}/conversations/{id}/handover",
            VisitorChat(None),
        ),
        (
            Method::PUT,
            "/api/v1/widget/{key}/conversations/{id}/visitor",
            VisitorChat(Some(
                json!({"email": format!("visitor@{}.test", caller.slug)}),
            )),
        ),
        (Method::GET, "/api/v1/me/notifications", Read(&[""])),
        (
            Method::PUT,
            "/api/v1/me/notifications",
            Write(json!({"push": true, "email": true})),
        ),
        (Method::GET, "/api/v1/me/push-subscriptions", Read(&[""])),
        (
            Method::POST,
            "/api/v1/me/push-subscriptions",
            Write(subscription(&caller.push_endpoint)),
        ),
        (
            Method::DELETE,
            "/api/v1/me/push-subscriptions",
            Foreign(Some(json!({"endpoint": target.push_endpoint}))),
        ),
        (
            Method::PATCH,
            "/api/v1/me",
            Write(json!({"name": format!("{} Owner", caller.slug)})),
        ),
        (
            Method::PUT,
            "/api/v1/me/password",
            Write(json!({"current_password": "correct horse", "new_password": "correct horse"})),
        ),
        (
            Method::PATCH,
            "/api/v1/operators/{id}",
            Foreign(Some(json!({"capacity": 5}))),
        ),
        (
            Method::POST,
            "/api/v1/operators/{id}/deactivate",
            Foreign(None),
        ),
        (
            Method::POST,
            "/api/v1/operators/{id}/reactivate",
            Foreign(None),
        ),
        (Method::GET, "/api/v1/invitations", ManagersRead("")),
        (
            Method::GET,
            "/api/v1/reports/routing",
            ManagersRead("?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z"),
        ),
        (Method::GET, "/api/v1/chat/{token}", ChatLink),
        (Method::POST, "/api/v1/chat/{token}/messages", ChatLink),
        (Method::GET, "/api/v1/chat/{token}/events", ChatLink),
        (
            Method::POST,
            "/api/v1/invitations",
            Write(
                json!({"email": format!("new@{}.test", caller.slug), "name": "New", "role": "operator"}),
            ),
        ),
        (
            Method::DELETE,
            "/api/v1/invitations/{invitation}",
            Foreign(None),
        ),
        // A link's token is all these name; tokens are unguessable, and no id opens anything.
        (Method::GET, "/api/v1/invitations/{invitation}", Untenanted),
        (
            Method::POST,
            "/api/v1/invitations/{invitation}/accept",
            Untenanted,
        ),
        (Method::POST, "/api/v1/password-reset", Untenanted),
        (Method::POST, "/api/v1/password-reset/{token}", Untenanted),
    ]
}

/// Fails if `answer` shows any of another tenant's `secrets`.
fn assert_nothing_of(secrets: &[String], what: &str, answer: &Value) {
    let text = answer.to_string().to_lowercase();
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{what} shows {secret:?} of another workspace: {answer}"
        );
    }
}

fn assert_not_found(secrets: &[String], what: &str, (status, body): (u16, Value)) {
    assert_eq!(status, 404, "{what}: {body}");
    assert_eq!(body["error"]["code"], "not_found", "{what}: {body}");
    assert!(body["error"]["message"].is_string(), "{what}: {body}");
    assert_nothing_of(secrets, what, &body);
}

/// What A can see of its own data; nothing B tries may change it.
async fn snapshot(s: &TestServer, a: &Tenant, chats: &[Chat]) -> Vec<(String, Value)> {
    let mut reads = vec![
        paths::CONVERSATIONS.to_owned(),
        paths::OPERATORS.to_owned(),
        paths::widget(a.widget.id),
        paths::articles(a.widget.id),
        paths::PUSH_SUBSCRIPTIONS.to_owned(),
        paths::INVITATIONS.to_owned(),
    ];
    reads.extend(chats.iter().map(|c| paths::conversation(c.id)));
    let mut seen = Vec::new();
    for path in reads {
        let (status, body) = s.get(&a.owner, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        if let Some(visitor) = body["visitor_id"].as_i64() {
            let record = paths::visitor(visitor);
            let (status, body) = s.get(&a.owner, &record).await;
            assert_eq!(status, 200, "{record}: {body}");
            seen.push((record, body));
        }
        seen.push((path, body));
    }
    seen
}

async fn every_endpoint_is_404_across_workspaces(s: TestServer) {
    let a = Tenant::create(&s, "Acme").await;
    let b = Tenant::create(&s, "Bolt").await;
    let a_chats = [
        a.chat_through_its_life(&s).await,
        s.start_chat(&a.widget, "acme parcel is late").await,
    ];
    let mut a_ids = Vec::new();
    for chat in &a_chats {
        a_ids.push(a.ids(&s, chat).await);
    }
    let m = Matrix {
        s: &s,
        secrets: a.secrets(&a_chats),
        b_chat: b.handed_over_chat(&s).await,
        a: &a,
        b,
        a_chats: a_chats.clone(),
        a_ids,
    };
    let before = snapshot(&s, m.a, &m.a_chats).await;

    let table = probes(m.a, &m.b);
    let listed: BTreeSet<(String, String)> = table
        .iter()
        .map(|(method, path, _)| (method.to_string(), (*path).to_owned()))
        .collect();
    let documented = s.documented_operations().await;
    let untried: Vec<_> = documented.difference(&listed).collect();
    assert!(
        untried.is_empty(),
        "the OpenAPI document has operations the isolation matrix does not try; add them to `probes`: {untried:?}"
    );
    let stale: Vec<_> = listed.difference(&documented).collect();
    assert!(
        stale.is_empty(),
        "`probes` lists operations the document no longer has: {stale:?}"
    );

    for (method, template, probe) in table {
        match probe {
            Probe::Foreign(body) => m.foreign(method, template, body).await,
            Probe::VisitorChat(body) => m.visitor_chat(method, template, body).await,
            Probe::VisitorStart => m.visitor_start(method, template).await,
            Probe::VisitorSelf(body) => m.visitor_self(method, template, body).await,
            Probe::PublicWidget => m.public_widget(template).await,
            Probe::Read(queries) => m.read(template, queries).await,
            Probe::ManagersRead(query) => m.managers_read(&format!("{template}{query}")).await,
            Probe::Write(body) => m.write(method, template, body).await,
            Probe::Stream | Probe::Untenanted | Probe::ChatLink => {}
        }
    }
    m.own_ids_reach_the_handlers().await;
    m.ids_in_bodies().await;

    for ((path, was), (_, is)) in before.iter().zip(snapshot(&s, m.a, &m.a_chats).await) {
        assert_eq!(was, &is, "{path} changed");
    }
}

const MADE_UP_TOKEN: &str = "vt_made_up_token";

/// Workspace A's ids, tried by workspace B.
struct Matrix<'s> {
    s: &'s TestServer,
    a: &'s Tenant,
    /// One chat the team had and closed, one the AI still handles (takeover's case).
    a_chats: [Chat; 2],
    /// The ids each of A's chats fills a path template with.
    a_ids: Vec<Ids<'s>>,
    b: Tenant,
    /// Handed over and routed to B's teammate.
    b_chat: Chat,
    secrets: Vec<String>,
}

impl Matrix<'_> {
    /// B's owner and B's plain operator get a 404 for each of A's conversations, and for A's
    /// article under B's own widget.
    async fn foreign(&self, method: Method, template: &str, body: Option<Value>) {
        let b = &self.b;
        let mut paths: Vec<String> = self.a_ids.iter().map(|ids| fill(template, ids)).collect();
        if template.contains("{article_id}") {
            let ids = Ids {
                widget: b.widget.id,
                ..self.a_ids[0]
            };
            paths.push(fill(template, &ids));
        }
        paths.dedup();
        for path in paths {
            for (who, op) in [("B's owner", &b.owner), ("B's operator", &b.teammate)] {
                let answer = self
                    .s
                    .call(method.clone(), &path, Some(&op.token), body.clone())
                    .await;
                assert_not_found(&self.secrets, &format!("{method} {path} as {who}"), answer);
            }
        }
    }

    async fn visitor_chat(&self, method: Method, template: &str, body: Option<Value>) {
        let (a, b, b_token) = (&self.a, &self.b, self.b_chat.token.as_str());
        for ids in &self.a_ids {
            for (who, key, token) in [
                ("B's widget and visitor", &b.widget.key, Some(b_token)),
                ("A's widget, B's visitor", &a.widget.key, Some(b_token)),
                (
                    "A's widget, a made-up token",
                    &a.widget.key,
                    Some(MADE_UP_TOKEN),
                ),
                ("A's widget, no token", &a.widget.key, None),
            ] {
                let path = fill(template, &Ids { key, ..*ids });
                let token = token.map(Credential::Visitor);
                let answer = self
                    .s
                    .send(method.clone(), &path, token, body.clone())
                    .await;
                assert_not_found(
                    &self.secrets,
                    &format!("{method} {path} with {who}"),
                    answer,
                );
            }
        }
    }

    /// A returning visitor's token names no conversation: another widget's is a 401 exactly
    /// like a made-up one.
    async fn visitor_start(&self, method: Method, template: &str) {
        let (a, b) = (&self.a, &self.b);
        let mut answers = Vec::new();
        for (who, key, token) in [
            (
                "A's widget, B's visitor",
                &a.widget.key,
                self.b_chat.token.as_str(),
            ),
            ("A's widget, a made-up token", &a.widget.key, MADE_UP_TOKEN),
            (
                "B's widget, A's visitor",
                &b.widget.key,
                self.a_chats[0].token.as_str(),
            ),
        ] {
            let path = fill(
                template,
                &Ids {
                    key,
                    ..self.a_ids[0]
                },
            );
            let body = json!({"body": "hello", "visitor_token": token});
            let (status, answer) = self.s.call(method.clone(), &path, None, Some(body)).await;
            assert_eq!(status, 401, "{method} {path} with {who}: {answer}");
            assert_nothing_of(&self.secrets, who, &answer);
            answers.push(answer);
        }
        assert!(
            answers.windows(2).all(|w| w[0] == w[1]),
            "every unknown token gets the same answer: {answers:?}"
        );
    }

    /// The visitor's own token is all these requests name: A's widget with B's visitor's
    /// token, a made-up one or none, and B's widget with A's visitor's, are each a 401, all
    /// alike.
    async fn visitor_self(&self, method: Method, template: &str, body: Value) {
        let (a, b) = (&self.a, &self.b);
        let mut answers = Vec::new();
        for (who, key, token) in [
            (
                "A's widget, B's visitor",
                &a.widget.key,
                Some(self.b_chat.token.as_str()),
            ),
            (
                "A's widget, a made-up token",
                &a.widget.key,
                Some(MADE_UP_TOKEN),
            ),
            ("A's widget, no token", &a.widget.key, None),
            (
                "B's widget, A's visitor",
                &b.widget.key,
                Some(self.a_chats[0].token.as_str()),
            ),
        ] {
            let path = fill(
                template,
                &Ids {
                    key,
                    ..self.a_ids[0]
                },
            );
            let token = token.map(Credential::Visitor);
            let (status, answer) = self
                .s
                .send(method.clone(), &path, token, Some(body.clone()))
                .await;
            assert_eq!(status, 401, "{method} {path} with {who}: {answer}");
            assert_nothing_of(&self.secrets, who, &answer);
            answers.push(answer);
        }
        assert!(
            answers.windows(2).all(|w| w[0] == w[1]),
            "every unknown token gets the same answer: {answers:?}"
        );
    }

    /// B's widget key shows B's greeting and nothing of A.
    async fn public_widget(&self, template: &str) {
        let path = fill(
            template,
            &Ids {
                key: &self.b.widget.key,
                ..self.a_ids[0]
            },
        );
        let (status, answer) = self.s.call(Method::GET, &path, None, None).await;
        assert_eq!(status, 200, "{path}: {answer}");
        assert_nothing_of(&self.secrets, &path, &answer);
    }

    async fn read(&self, template: &str, queries: &[&str]) {
        for query in queries {
            for op in [&self.b.owner, &self.b.teammate] {
                let path = format!("{template}{query}");
                let (status, answer) = self.s.get(op, &path).await;
                assert_eq!(status, 200, "{path}: {answer}");
                assert_nothing_of(&self.secrets, &path, &answer);
                holds_only_own_conversations(self.s, op, &path, &answer, &self.b_chat).await;
            }
        }
    }

    async fn managers_read(&self, template: &str) {
        let (status, answer) = self.s.get(&self.b.owner, template).await;
        assert_eq!(status, 200, "{template}: {answer}");
        assert_nothing_of(&self.secrets, template, &answer);
        let (status, answer) = self.s.get(&self.b.teammate, template).await;
        assert_eq!(status, 403, "{template} as a plain operator: {answer}");
        assert_nothing_of(&self.secrets, template, &answer);
    }

    async fn write(&self, method: Method, template: &str, body: Value) {
        let (status, answer) = self
            .s
            .call(
                method.clone(),
                template,
                Some(&self.b.owner.token),
                Some(body),
            )
            .await;
        assert!(status < 300, "{method} {template}: {answer}");
        assert_nothing_of(&self.secrets, template, &answer);
    }

    /// The same requests with B's own ids do reach the handlers: the 404s were the ownership
    /// check, not a mistyped path or a refused body.
    async fn own_ids_reach_the_handlers(&self) {
        let ids = self.b.ids(self.s, &self.b_chat).await;
        for (method, template, probe) in probes(&self.b, &self.b) {
            let path = fill(template, &ids);
            let (status, answer) = match probe {
                Probe::Foreign(body) => {
                    let token = Some(self.b.owner.token.as_str());
                    self.s.call(method.clone(), &path, token, body).await
                }
                Probe::VisitorChat(body) => {
                    let token = Some(Credential::Visitor(&self.b_chat.token));
                    self.s.send(method.clone(), &path, token, body).await
                }
                Probe::VisitorSelf(body) => {
                    let token = Some(Credential::Visitor(&self.b_chat.token));
                    self.s.send(method.clone(), &path, token, Some(body)).await
                }
                _ => continue,
            };
            assert!(
                status < 300 || status == 409,
                "{method} {path} on B's own ids: {status} {answer}"
            );
        }
    }

    /// A's ids inside the body of B's requests about B's own resources.
    async fn ids_in_bodies(&self) {
        let (a, b) = (&self.a, &self.b);
        let answer = self
            .s
            .set_assignee(
                &b.owner,
                self.b_chat.id,
                Some(a.teammate.id),
                IfAssignee::Any,
            )
            .await;
        assert_not_found(&self.secrets, "B's chat assigned to A's operator", answer);
        let (status, answer) = self
            .s
            .set_routing(&b.owner, b.widget.id, "round_robin", &[a.teammate.id])
            .await;
        // The spec makes this one a 400 (invalid settings), not a 404: the widget addressed is
        // B's own.
        assert_eq!(
            status, 400,
            "A's operator eligible for B's widget: {answer}"
        );
        assert_nothing_of(&self.secrets, "B's routing with A's operator", &answer);
    }
}

/// Conversation lists show only `own` (B's one chat); counts agree with the lists.
async fn holds_only_own_conversations(
    s: &TestServer,
    op: &Op,
    path: &str,
    answer: &Value,
    own: &Chat,
) {
    if let Some(statuses) = path.strip_prefix("/api/v1/conversations/counts") {
        for view in ["mine", "unassigned", "ai", "all"] {
            let list = format!(
                "{}?view={view}&{}",
                paths::CONVERSATIONS,
                statuses.trim_start_matches('?')
            );
            let (_, rows) = s.get(op, &list).await;
            assert_eq!(
                answer[view].as_u64(),
                Some(rows["items"].as_array().unwrap().len() as u64),
                "{path} against {list}: {answer}"
            );
        }
    } else if path.starts_with("/api/v1/conversations") {
        for row in answer["items"].as_array().unwrap() {
            assert_eq!(row["id"], own.id, "{path}: {answer}");
        }
    }
}

fn visitor_stream(widget: &Widget, token: Option<&str>) -> String {
    match token {
        Some(token) => paths::visitor_events(&widget.key, token),
        None => paths::widget_events(&widget.key),
    }
}

async fn event_streams_stay_in_their_workspace(s: TestServer) {
    const QUIET: Duration = Duration::from_millis(300);
    let a = Tenant::create(&s, "Acme").await;
    let b = Tenant::create(&s, "Bolt").await;
    let b_chat = b.handed_over_chat(&s).await;
    let open = async |path: &str, token: Option<&str>| {
        Socket::connect(&s.base, path, token).await.unwrap()
    };
    let mut b_inbox = s.inbox_stream(&b.owner).await;
    let mut b_visitor = s.visitor_stream(&b.widget, &b_chat).await;
    let mut a_inbox = s.inbox_stream(&a.owner).await;

    let a_chat = a.chat_through_its_life(&s).await;
    // A's own tab saw it all, up to the teammate's return: A's events were out while B listened.
    let a_first = a_inbox.next().await;
    assert_eq!(a_first["type"], "conversation.created");
    loop {
        let event = a_inbox.next().await;
        if event["type"] == "operator.availability_changed" && event["availability"] == "available"
        {
            break;
        }
    }

    // B's own marker is the first and only thing B's tab gets.
    s.set_availability(&b.teammate, "away").await;
    let first = b_inbox.next().await;
    assert_eq!(first["type"], "operator.availability_changed", "{first}");
    assert_eq!(first["operator_id"], b.teammate.id, "{first}");
    assert_eq!(b_inbox.until_quiet(QUIET).await, Vec::<Value>::new());
    // And a reply in B's chat is the first thing B's visitor hears.
    let (status, body) = s.reply(&b.owner, b_chat.id, "bolt marker").await;
    assert_eq!(status, 201, "{body}");
    let first = b_visitor.next().await;
    assert_eq!(first["message"]["body"], "bolt marker", "{first}");
    assert_eq!(b_visitor.until_quiet(QUIET).await, Vec::<Value>::new());

    // Replays: the whole log, and from a position in A's log.
    let secrets = a.secrets(std::slice::from_ref(&a_chat));
    let since_a = paths::events_since(a_first["id"].as_i64().unwrap());
    for path in [paths::events_since(0), since_a] {
        let mut replay = open(&path, Some(&b.owner.token)).await;
        // A replay's frames come at once; the longer wait is for a loaded machine.
        let events = replay.until_quiet(Duration::from_secs(2)).await;
        for event in &events {
            assert!(
                event["type"] == "resync" || event["workspace_id"] == b.workspace_id,
                "{path}: {event}"
            );
            assert_nothing_of(&secrets, &path, event);
        }
        if path.ends_with("=0") {
            assert!(
                events.iter().any(|e| e["operator_id"] == b.teammate.id),
                "the replay holds B's own events: {events:?}"
            );
        }
    }

    // Visitor streams take only their own widget's tokens; see the rule at the top.
    for (who, widget, token) in [
        (
            "A's widget, B's visitor",
            &a.widget,
            Some(b_chat.token.as_str()),
        ),
        (
            "B's widget, A's visitor",
            &b.widget,
            Some(a_chat.token.as_str()),
        ),
        (
            "A's widget, a made-up token",
            &a.widget,
            Some("vt_made_up_token"),
        ),
        ("A's widget, no token", &a.widget, None),
    ] {
        let refused = Socket::connect(&s.base, &visitor_stream(widget, token), None).await;
        assert_eq!(refused.err(), Some(401), "{who}");
    }
    assert!(
        Socket::connect(
            &s.base,
            &visitor_stream(&a.widget, Some(&a_chat.token)),
            None
        )
        .await
        .is_ok(),
        "A's visitor opens A's stream"
    );
}

on_both!(
    every_endpoint_is_404_across_workspaces,
    event_streams_stay_in_their_workspace
);
