//! "Assigned to you" notifications against a real SMTP server on loopback (aiosmtpd) and a
//! loopback push service that decrypts what it receives with the subscription's private key.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde_json::{Value, json};
use switchboard::config::Config;
use web_push_native::jwt_simple::prelude::{
    ECDSAP256PublicKeyLike, ES256PublicKey, NoCustomClaims,
};
use web_push_native::p256::SecretKey;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

use crate::common::{Chat, Db, IfAssignee, Op, TestServer, Widget, free_port};

/// A real SMTP server (Python's aiosmtpd) writing what it receives to a Maildir.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl SmtpServer {
    /// Starts on `port`; `None` (with the reason printed) when Python's aiosmtpd is not
    /// installed outside CI. In CI a missing aiosmtpd fails the test.
    pub async fn start(port: u16) -> Option<SmtpServer> {
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI needs Python's aiosmtpd (pip install aiosmtpd)");
            }
            eprintln!("SKIPPED: Python's aiosmtpd is not installed (pip install aiosmtpd)");
            return None;
        }
        let dir =
            std::env::temp_dir().join(format!("switchboard-mail-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let child = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let deadline = Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "aiosmtpd did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(SmtpServer { child, port, dir })
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, decoded.
    pub fn messages(&self) -> Vec<Value> {
        if !self.dir.join("new").exists() {
            return Vec::new();
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/maildir.py");
        let out = Command::new("python3")
            .arg(script)
            .arg(&self.dir)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
    }

    /// Waits until `n` messages were received, and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} emails, got {}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One request the push service received: subscription name, headers, encrypted body, and
/// the status it was answered with.
type Received = (String, HeaderMap, Vec<u8>, u16);

/// A push service on loopback: records what it is sent, answers 201 or a status set per
/// subscription name.
#[derive(Clone, Default)]
struct PushService {
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<HashMap<String, u16>>>,
}

async fn receive_push(
    State(service): State<PushService>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let status = service
        .answers
        .lock()
        .unwrap()
        .get(&name)
        .copied()
        .unwrap_or(201);
    service
        .received
        .lock()
        .unwrap()
        .push((name, headers, body.to_vec(), status));
    StatusCode::from_u16(status).unwrap()
}

impl PushService {
    async fn start() -> (PushService, String) {
        let service = PushService::default();
        let app = axum::Router::new()
            .route("/push/{name}", axum::routing::post(receive_push))
            .with_state(service.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (service, base)
    }

    fn count(&self, name: &str) -> usize {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, ..)| n == name)
            .count()
    }

    async fn wait_for(&self, name: &str, n: usize) -> Vec<(HeaderMap, Vec<u8>)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.count(name) < n {
            assert!(
                Instant::now() < deadline,
                "expected {n} pushes to {name}, got {}",
                self.count(name)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, ..)| n == name)
            .map(|(_, h, b, _)| (h.clone(), b.clone()))
            .collect()
    }

    /// How many requests to `name` carried each Topic.
    fn topics(&self, name: &str) -> HashMap<String, usize> {
        let mut topics = HashMap::new();
        for (n, headers, ..) in self.received.lock().unwrap().iter() {
            if n == name {
                let topic = headers["topic"].to_str().unwrap().to_owned();
                *topics.entry(topic).or_default() += 1;
            }
        }
        topics
    }

    /// The requests to `name` that were answered 201, as (Topic, encrypted body).
    fn accepted(&self, name: &str) -> Vec<(String, Vec<u8>)> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _, _, status)| n == name && *status == 201)
            .map(|(_, h, b, _)| (h["topic"].to_str().unwrap().to_owned(), b.clone()))
            .collect()
    }
}

/// A browser's push subscription: its private key stays here to decrypt what arrives.
struct Browser {
    secret: SecretKey,
    auth: [u8; 16],
    endpoint: String,
}

impl Browser {
    fn new(push_base: &str, name: &str) -> Browser {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = SecretKey::from_slice(&bytes).expect("a valid P-256 scalar");
        let mut auth = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut auth);
        Browser {
            secret,
            auth,
            endpoint: format!("{push_base}/push/{name}"),
        }
    }

    fn subscription(&self) -> Value {
        let public = self.secret.public_key().to_encoded_point(false);
        json!({
            "endpoint": self.endpoint,
            "keys": {"p256dh": URL_SAFE_NO_PAD.encode(public.as_bytes()), "auth": URL_SAFE_NO_PAD.encode(self.auth)},
        })
    }

    async fn subscribe(&self, s: &TestServer, op: &Op) {
        let (status, body) = s.subscribe_push(op, self.subscription()).await;
        assert_eq!(status, 201, "{body}");
    }

    fn decrypt(&self, body: &[u8]) -> Value {
        let auth = web_push_native::Auth::clone_from_slice(&self.auth);
        let plain = web_push_native::decrypt(body.to_vec(), &self.secret, &auth)
            .expect("RFC 8291 payload decrypts");
        serde_json::from_slice(&plain).unwrap()
    }
}

const PUBLIC_URL: &str = "https://desk.example.test";

fn with_smtp(smtp: &SmtpServer) -> impl FnOnce(&mut Config) + '_ {
    move |c: &mut Config| {
        c.smtp_url = Some(smtp.url());
        c.public_url = Some(PUBLIC_URL.to_owned());
    }
}

async fn routed_chat(s: &TestServer, widget: &Widget, text: &str) -> Chat {
    let chat = s.start_chat(widget, text).await;
    s.handover(widget, &chat).await;
    chat
}

async fn notifies_the_assignee_by_email_and_push_but_never_for_their_own_claims(db: Db) {
    let Some(smtp) = SmtpServer::start(free_port()).await else {
        return;
    };
    let Some(s) = TestServer::start_with(db, with_smtp(&smtp)).await else {
        return;
    };
    let (push, push_base) = PushService::start().await;
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let browser = Browser::new(&push_base, "bob");
    browser.subscribe(&s, &bob).await;
    let mut bobs_tab = s.inbox_stream(&bob).await;
    let mut anas_tab = s.inbox_stream(&ana).await;

    let widget = s.widget(&ana, "round_robin", &[bob.id]).await;
    let chat = routed_chat(&s, &widget, "<script>alert(1)</script> where is my order?").await;
    let link = format!("{PUBLIC_URL}/inbox/conversations/{}", chat.id);

    let mails = smtp.wait_for(1).await;
    let mail = &mails[0];
    let (_, me) = s.me(&bob).await;
    assert!(
        mail["to"]
            .as_str()
            .unwrap()
            .contains(me["email"].as_str().unwrap()),
        "{mail}"
    );
    assert!(
        mail["subject"]
            .as_str()
            .unwrap()
            .contains("assigned to you"),
        "{mail}"
    );
    assert!(
        mail["subject"].as_str().unwrap().contains("Website"),
        "the widget is named: {mail}"
    );
    let visitor = s.conversation(&ana, chat.id).await["visitor"]["display_name"].clone();
    assert!(
        mail["subject"]
            .as_str()
            .unwrap()
            .contains(visitor.as_str().unwrap()),
        "the visitor is named as the inbox shows them ({visitor}): {mail}"
    );
    assert!(
        mail["text"]
            .as_str()
            .unwrap()
            .contains("where is my order?"),
        "the visitor's latest message: {mail}"
    );
    assert!(mail["text"].as_str().unwrap().contains(&link), "{mail}");
    let html = mail["html"].as_str().unwrap();
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>"),
        "{html}"
    );

    let pushes = push.wait_for("bob", 1).await;
    let (headers, body) = &pushes[0];
    assert_eq!(headers["content-encoding"], "aes128gcm");
    let payload = browser.decrypt(body);
    assert_eq!(payload["url"], link.as_str());
    assert_eq!(payload["conversation_id"], chat.id);
    assert!(
        payload["title"]
            .as_str()
            .unwrap()
            .contains("assigned to you")
    );
    let (_, key) = s.vapid_public_key().await;
    let authorization = headers["authorization"].to_str().unwrap();
    let (token, k) = authorization
        .strip_prefix("vapid t=")
        .unwrap()
        .split_once(", k=")
        .unwrap();
    assert_eq!(
        k,
        key["public_key"].as_str().unwrap(),
        "signed with the published VAPID key"
    );
    let public = ES256PublicKey::from_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
    public
        .verify_token::<NoCustomClaims>(token, None)
        .expect("a valid VAPID JWT");

    // Only Bob hears the personal event.
    let personal = bobs_tab.next_of("widget.conversation_assigned").await;
    assert_eq!(personal["conversation_id"], chat.id);
    assert_eq!(personal["reason"], "round_robin");

    // Own claims and replies notify nobody; a teammate's pick does.
    let manual = s.widget(&ana, "manual", &[]).await;
    let claimed = s.start_chat(&manual, "one").await;
    s.claim(&bob, claimed.id).await;
    let replied = s.start_chat(&manual, "two").await;
    s.reply(&bob, replied.id, "on it").await;
    let picked_self = s.start_chat(&manual, "three").await;
    s.set_assignee(&bob, picked_self.id, Some(bob.id), IfAssignee::Any)
        .await;
    let picked = s.start_chat(&manual, "four").await;
    s.set_assignee(&ana, picked.id, Some(bob.id), IfAssignee::Any)
        .await;
    let mails = smtp.wait_for(2).await;
    let picked_link = format!("/inbox/conversations/{}", picked.id);
    assert!(
        mails
            .iter()
            .any(|m| m["text"].as_str().unwrap().contains(&picked_link)),
        "{mails:?}"
    );
    push.wait_for("bob", 2).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        smtp.messages().len(),
        2,
        "claim, reply and picking oneself sent nothing"
    );
    assert_eq!(push.count("bob"), 2);

    // Ana heard every assignment but none of Bob's personal events.
    let mut seen = Vec::new();
    while seen
        .iter()
        .filter(|e: &&Value| e["type"] == "conversation.assigned")
        .count()
        < 5
    {
        seen.push(anas_tab.next().await);
    }
    assert!(
        seen.iter()
            .all(|e| e["type"] != "widget.conversation_assigned")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifies_the_assignee_on_sqlite() {
    notifies_the_assignee_by_email_and_push_but_never_for_their_own_claims(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifies_the_assignee_on_postgres() {
    notifies_the_assignee_by_email_and_push_but_never_for_their_own_claims(Db::Postgres).await;
}

/// An SMTP server that is down for a while gets the mail once it is back, and only once;
/// and a queued notification survives a restart of Switchboard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_is_delivered_once_after_an_outage_and_a_restart() {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let Some(s) = TestServer::start_with(Db::Sqlite, |c| c.smtp_url = Some(url.clone())).await
    else {
        return;
    };
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let widget = s.widget(&ana, "round_robin", &[bob.id]).await;
    routed_chat(&s, &widget, "first, while mail is down").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let s = s.restart(|c| c.smtp_url = Some(url.clone())).await;
    routed_chat(&s, &widget, "second, after the restart").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let Some(smtp) = SmtpServer::start(port).await else {
        return;
    };
    let mails = smtp.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mails_after = smtp.messages();
    assert_eq!(mails_after.len(), 2, "each exactly once: {mails:?}");
    let mut ids: Vec<&str> = mails_after
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 2);
    drop(s);
}

/// A push service that fails (5xx, then 429) is retried until it accepts: the API answers
/// throughout, every notification arrives once, and the subscription is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_push_service_gets_every_notification_once_it_recovers() {
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    let (push, push_base) = PushService::start().await;
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let browser = Browser::new(&push_base, "flaky");
    browser.subscribe(&s, &bob).await;
    let widget = s.widget(&ana, "round_robin", &[bob.id]).await;

    push.answers.lock().unwrap().insert("flaky".into(), 503);
    let mut chats = Vec::new();
    for i in 0..3 {
        chats.push(routed_chat(&s, &widget, &format!("chat {i}")).await.id);
    }
    // Each was tried and refused, then tried again.
    push.wait_for("flaky", 6).await;
    push.answers.lock().unwrap().insert("flaky".into(), 429);
    let refused = push.count("flaky");
    push.wait_for("flaky", refused + 3).await;
    assert!(push.accepted("flaky").is_empty());
    let topics = push.topics("flaky");
    assert_eq!(topics.len(), 3, "one Topic per notification: {topics:?}");
    assert!(
        topics.values().all(|tries| *tries >= 2),
        "each retried: {topics:?}"
    );
    push.answers.lock().unwrap().remove("flaky");

    let deadline = Instant::now() + Duration::from_secs(20);
    while push.accepted("flaky").len() < 3 {
        assert!(Instant::now() < deadline, "the pushes did not arrive");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let accepted = push.accepted("flaky");
    assert_eq!(accepted.len(), 3, "each once");
    let mut delivered: Vec<i64> = accepted
        .iter()
        .map(|(_, body)| browser.decrypt(body)["conversation_id"].as_i64().unwrap())
        .collect();
    delivered.sort();
    assert_eq!(delivered, chats);
    let (_, subs) = s.push_subscriptions(&bob).await;
    assert_eq!(subs["items"].as_array().unwrap().len(), 1, "kept: {subs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_the_push_service_calls_gone_is_deleted() {
    let Some(s) = TestServer::start(Db::Sqlite).await else {
        return;
    };
    let (push, push_base) = PushService::start().await;
    push.answers.lock().unwrap().insert("gone".into(), 410);
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let gone = Browser::new(&push_base, "gone");
    let alive = Browser::new(&push_base, "alive");
    gone.subscribe(&s, &bob).await;
    alive.subscribe(&s, &bob).await;
    let widget = s.widget(&ana, "round_robin", &[bob.id]).await;
    routed_chat(&s, &widget, "hello").await;
    push.wait_for("alive", 1).await;
    push.wait_for("gone", 1).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, subs) = s.push_subscriptions(&bob).await;
        let endpoints: Vec<&str> = subs["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["endpoint"].as_str().unwrap())
            .collect();
        if endpoints == vec![alive.endpoint.as_str()] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the 410 subscription is still there: {endpoints:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A second assignment goes only to the live browser.
    routed_chat(&s, &widget, "again").await;
    push.wait_for("alive", 2).await;
    assert_eq!(push.count("gone"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_can_be_switched_off_and_subscriptions_are_validated() {
    let Some(smtp) = SmtpServer::start(free_port()).await else {
        return;
    };
    let Some(s) = TestServer::start_with(Db::Sqlite, with_smtp(&smtp)).await else {
        return;
    };
    let (push, push_base) = PushService::start().await;
    let ana = s.signup("Acme").await;
    let bob = s.add_operator(&ana, "Bob").await;
    let (_, channels) = s.notification_channels(&bob).await;
    assert_eq!(
        channels,
        json!({"push": true, "email": true, "email_delay_secs": 0}),
        "both on by default, email at once"
    );
    let (status, channels) = s
        .set_notification_channels(&bob, json!({"email": false}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        channels,
        json!({"push": true, "email": false, "email_delay_secs": 0})
    );
    let browser = Browser::new(&push_base, "bob");
    browser.subscribe(&s, &bob).await;
    browser.subscribe(&s, &bob).await;
    let (_, subs) = s.push_subscriptions(&bob).await;
    assert_eq!(
        subs["items"].as_array().unwrap().len(),
        1,
        "re-subscribing keeps one row"
    );

    let widget = s.widget(&ana, "round_robin", &[bob.id]).await;
    routed_chat(&s, &widget, "hello").await;
    push.wait_for("bob", 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.messages().len(), 0, "email is off for Bob");

    let mut bad = browser.subscription();
    bad["endpoint"] = json!("ftp://push.example/x");
    assert_eq!(s.subscribe_push(&bob, bad).await.0, 400);
    let mut bad = browser.subscription();
    bad["keys"]["p256dh"] = json!("AAAA");
    assert_eq!(s.subscribe_push(&bob, bad).await.0, 400);
    let mut bad = browser.subscription();
    bad["keys"]["auth"] = json!(URL_SAFE_NO_PAD.encode([1u8; 8]));
    assert_eq!(s.subscribe_push(&bob, bad).await.0, 400);
    let (status, _) = s.unsubscribe_push(&ana, &browser.endpoint).await;
    assert_eq!(status, 404, "Ana cannot remove Bob's browser");
    let (status, _) = s.unsubscribe_push(&bob, &browser.endpoint).await;
    assert_eq!(status, 204);
    let (_, key) = s.vapid_public_key().await;
    let key = URL_SAFE_NO_PAD
        .decode(key["public_key"].as_str().unwrap())
        .unwrap();
    assert_eq!((key.len(), key[0]), (65, 4), "an uncompressed P-256 point");
    let resp = s
        .client
        .get(format!("{}/sw.js", s.base))
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(resp.text().await.unwrap().contains("notificationclick"));
}

/// An operator of another workspace who posts a browser's endpoint (even with its keys) does
/// not take that browser's subscription: it stays where it was and keeps getting its owner's
/// notifications, and none of the poster's.
async fn a_push_endpoint_never_changes_hands(db: Db) {
    let Some(s) = TestServer::start(db).await else {
        return;
    };
    let (push, push_base) = PushService::start().await;
    let owner_b = s.signup("Beta").await;
    let bob = s.add_operator(&owner_b, "Bob").await;
    let bobs_browser = Browser::new(&push_base, "bob");
    bobs_browser.subscribe(&s, &bob).await;

    let owner_a = s.signup("Acme").await;
    let ana = s.add_operator(&owner_a, "Ana").await;
    let (status, body) = s.subscribe_push(&ana, bobs_browser.subscription()).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "push_endpoint_in_use");
    let (_, subs) = s.push_subscriptions(&ana).await;
    assert_eq!(subs["items"], json!([]), "nothing of Bob's shows for Ana");
    let (_, subs) = s.push_subscriptions(&bob).await;
    assert_eq!(subs["items"].as_array().unwrap().len(), 1, "{subs}");

    // Routed to Ana: nothing reaches Bob's browser. Routed to Bob: it does.
    let widget_a = s.widget(&owner_a, "round_robin", &[ana.id]).await;
    routed_chat(&s, &widget_a, "for Ana").await;
    let widget_b = s.widget(&owner_b, "round_robin", &[bob.id]).await;
    routed_chat(&s, &widget_b, "for Bob").await;
    let pushes = push.wait_for("bob", 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(push.count("bob"), 1, "only Bob's own notification");
    let payload = bobs_browser.decrypt(&pushes[0].1);
    assert!(
        payload.to_string().contains("for Bob"),
        "Bob's browser got Bob's chat: {payload}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_endpoint_never_changes_hands_on_sqlite() {
    a_push_endpoint_never_changes_hands(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_endpoint_never_changes_hands_on_postgres() {
    a_push_endpoint_never_changes_hands(Db::Postgres).await;
}
