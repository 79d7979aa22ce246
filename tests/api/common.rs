//! Boots the real server on a random port against a fresh database, and talks HTTP to it.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::{Connection, Executor, PgConnection};
use switchboard::app::App;
use switchboard::config::Config;
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs a test body once on SQLite and once on PostgreSQL:
/// `on_both!(name)` expects `async fn name(server: TestServer)` in scope.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(server) = $crate::common::TestServer::start($crate::common::Db::Sqlite).await {
                    super::$name(server).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(server) = $crate::common::TestServer::start($crate::common::Db::Postgres).await {
                    super::$name(server).await;
                }
            }
        }
    )*};
}

/// A database made for one test and dropped after it.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Nothing,
    SqliteDir(std::path::PathBuf),
    PostgresDb { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh database of the given kind; `None` (with the reason printed) when PostgreSQL is
    /// not reachable outside CI. In CI (`CI=true`) a missing PostgreSQL fails the test.
    pub async fn create(db: Db) -> Option<TestDb> {
        let unique = format!(
            "{}_{}",
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            rand_suffix()
        );
        match db {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(format!("switchboard-test-{unique}"));
                std::fs::create_dir_all(&dir).unwrap();
                Some(TestDb {
                    url: format!("sqlite:{}", dir.join("test.db").display()),
                    cleanup: Cleanup::SqliteDir(dir),
                })
            }
            Db::Postgres => {
                let admin_url = postgres_admin_url();
                let mut admin = match PgConnection::connect(&admin_url).await {
                    Ok(conn) => conn,
                    Err(e) => {
                        if std::env::var("CI").is_ok_and(|v| v == "true") {
                            panic!(
                                "PostgreSQL is required in CI but {admin_url} is unreachable: {e}"
                            );
                        }
                        eprintln!(
                            "SKIPPED: PostgreSQL at {admin_url} is unreachable ({e}); set SWITCHBOARD_TEST_POSTGRES_URL"
                        );
                        return None;
                    }
                };
                drop_stale_databases(&mut admin).await;
                let name = format!("sbt_{unique}");
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .unwrap();
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(&admin_url);
                Some(TestDb {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::PostgresDb { admin_url, name },
                })
            }
        }
    }
}

impl TestDb {
    /// Stands in for a database handed on to a restarted server; cleans nothing up.
    fn placeholder() -> TestDb {
        TestDb {
            url: String::new(),
            cleanup: Cleanup::Nothing,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Nothing => {}
            Cleanup::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PostgresDb { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop may run inside the test's runtime, so the cleanup gets a thread of its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = admin.execute(sqlx::AssertSqlSafe(sql)).await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("SWITCHBOARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Databases left by test runs that were killed: older than an hour.
async fn drop_stale_databases(admin: &mut PgConnection) {
    let cutoff = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3600;
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'sbt\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for (name,) in names {
        let created: Option<u64> = name.split('_').nth(1).and_then(|s| s.parse().ok());
        if created.is_some_and(|t| t < cutoff) {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn config(database_url: &str, listen: SocketAddr) -> Config {
    Config {
        listen,
        database_url: database_url.to_owned(),
        database_max_connections: 8,
        event_buffer: 1024,
        smtp_url: None,
        smtp_from: "Switchboard <switchboard@test.example>".to_owned(),
        vapid_private_key: None,
        vapid_subject: None,
        push_allow_http: true,
        notify_retry_max_secs: 1,
        notify_lease_secs: 90,
        ai: "builtin".to_owned(),
        ai_base_url: String::new(),
        ai_model: String::new(),
        ai_api_key: None,
        ai_timeout_secs: 5,
        widget_rate_limit: 0,
        public_url: None,
        allow_signup: true,
        trusted_proxies: Vec::new(),
        header_timeout_secs: 10,
        idle_timeout_secs: 60,
        max_connections: None,
    }
}

/// A signed-in operator as tests hold them.
#[derive(Debug, Clone)]
pub struct Op {
    pub id: i64,
    pub token: String,
}

#[derive(Debug, Clone)]
pub struct Widget {
    pub id: i64,
    pub key: String,
}

/// A visitor's conversation.
#[derive(Debug, Clone)]
pub struct Chat {
    pub id: i64,
    pub token: String,
}

pub struct TestServer {
    api: Api,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    // Dropped last: the server must stop before its database goes.
    _database: TestDb,
}

impl TestServer {
    pub async fn start(db: Db) -> Option<TestServer> {
        TestServer::start_with(db, |_| {}).await
    }

    pub async fn start_with(db: Db, adjust: impl FnOnce(&mut Config)) -> Option<TestServer> {
        let database = TestDb::create(db).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = config(&database.url, addr);
        adjust(&mut config);
        Some(TestServer::serve(listener, config, database).await)
    }

    async fn serve(
        listener: tokio::net::TcpListener,
        config: Config,
        database: TestDb,
    ) -> TestServer {
        let addr = listener.local_addr().unwrap();
        let app = App::start(config).await.expect("server starts");
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.serve(listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            api: Api {
                base: format!("http://{addr}"),
                client: client(),
            },
            shutdown: Some(tx),
            task: Some(task),
            _database: database,
        }
    }
}

impl TestServer {
    /// Stops the server gracefully and starts a new one on the same database (and port).
    pub async fn restart(mut self, adjust: impl FnOnce(&mut Config)) -> TestServer {
        self.halt().await;
        let database = std::mem::replace(&mut self._database, TestDb::placeholder());
        let addr: SocketAddr = self.api.base.trim_start_matches("http://").parse().unwrap();
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let mut config = config(&database.url, addr);
        adjust(&mut config);
        TestServer::serve(listener, config, database).await
    }

    /// The URL of the server's database, for tests that play a crash by writing to it.
    pub fn database_url(&self) -> &str {
        &self._database.url
    }

    /// Stops the server gracefully and waits until it has.
    pub async fn stop(mut self) {
        self.halt().await;
    }

    async fn halt(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// How many times over the reliability tests run their load: `SWITCHBOARD_SOAK=N` for a soak
/// run (docs/reliability.md); 1 by default, as in CI.
pub fn soak() -> usize {
    std::env::var("SWITCHBOARD_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1)
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn client() -> reqwest::Client {
    // reqwest is built without a bundled crypto provider (the server installs ring at start).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Raw HTTP helpers plus the few multi-step set-ups most tests share.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
}

impl std::ops::Deref for TestServer {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Api {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, op: &Op, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, Some(&op.token), None).await
    }

    pub async fn post(&self, op: &Op, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(&op.token), Some(body))
            .await
    }

    pub async fn put(&self, op: &Op, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Some(&op.token), Some(body))
            .await
    }

    /// Signs up a new workspace; returns its owner.
    pub async fn signup(&self, workspace: &str) -> Op {
        let email = format!(
            "owner-{}@{}.test",
            rand_suffix(),
            workspace.to_lowercase().replace(' ', "-")
        );
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/signup",
                None,
                Some(json!({"workspace_name": workspace, "name": "Owner", "email": email, "password": "correct horse"})),
            )
            .await;
        assert_eq!(status, 201, "signup: {body}");
        op_from_session(&body)
    }

    /// Adds a teammate through `admin` and signs them in.
    pub async fn add_operator(&self, admin: &Op, name: &str) -> Op {
        let email = format!("{}-{}@team.test", name.to_lowercase(), rand_suffix());
        let (status, body) = self
            .post(
                admin,
                "/api/v1/operators",
                json!({"name": name, "email": email, "password": "password123"}),
            )
            .await;
        assert_eq!(status, 201, "add operator: {body}");
        self.login(&email, "password123").await
    }

    pub async fn login(&self, email: &str, password: &str) -> Op {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/session",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(status, 200, "login: {body}");
        op_from_session(&body)
    }

    /// A widget with the given routing mode (and everyone eligible unless `eligible` says).
    pub async fn widget(&self, admin: &Op, mode: &str, eligible: &[i64]) -> Widget {
        let (status, body) = self
            .post(admin, "/api/v1/widgets", json!({"name": "Website"}))
            .await;
        assert_eq!(status, 201, "create widget: {body}");
        let id = body["id"].as_i64().unwrap();
        let (status, body) = self
            .put(
                admin,
                &format!("/api/v1/widgets/{id}/routing"),
                json!({"mode": mode, "eligible_operator_ids": eligible}),
            )
            .await;
        assert_eq!(status, 200, "routing: {body}");
        Widget {
            id,
            key: body["key"].as_str().unwrap().to_owned(),
        }
    }

    /// A visitor starts a chat, and this waits until the AI has taken its turn (it answers in
    /// the background), so tests see a settled conversation.
    pub async fn start_chat(&self, widget: &Widget, body: &str) -> Chat {
        let chat = self.open_chat(widget, body).await;
        self.visitor_view_until(widget, &chat, "the AI's turn", |view| {
            view["status"] != "active" || view["messages"].as_array().is_some_and(|m| m.len() >= 2)
        })
        .await;
        chat
    }

    /// A visitor starts a chat; the AI may still be taking its turn.
    pub async fn open_chat(&self, widget: &Widget, body: &str) -> Chat {
        let (status, resp) = self
            .call(
                Method::POST,
                &format!("/api/v1/widget/{}/conversations", widget.key),
                None,
                Some(json!({"body": body})),
            )
            .await;
        assert_eq!(status, 201, "start chat: {resp}");
        Chat {
            id: resp["conversation_id"].as_i64().unwrap(),
            token: resp["visitor_token"].as_str().unwrap().to_owned(),
        }
    }

    /// Polls the visitor's view of the chat until `done` holds; returns that view.
    pub async fn visitor_view_until(
        &self,
        widget: &Widget,
        chat: &Chat,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, view) = self.visitor(widget, chat, Method::GET, "", None).await;
            assert_eq!(status, 200, "{view}");
            if done(&view) {
                return view;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}: {view}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn visitor(
        &self,
        widget: &Widget,
        chat: &Chat,
        method: Method,
        suffix: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .request(
                method,
                format!(
                    "{}/api/v1/widget/{}/conversations/{}{}",
                    self.base, widget.key, chat.id, suffix
                ),
            )
            .header("X-Visitor-Token", &chat.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// "Talk to a person".
    pub async fn handover(&self, widget: &Widget, chat: &Chat) -> Value {
        let (status, body) = self
            .visitor(widget, chat, Method::POST, "/handover", None)
            .await;
        assert_eq!(status, 200, "handover: {body}");
        body
    }

    pub async fn visitor_says(&self, widget: &Widget, chat: &Chat, text: &str) -> (u16, Value) {
        self.visitor(
            widget,
            chat,
            Method::POST,
            "/messages",
            Some(json!({"body": text})),
        )
        .await
    }

    pub async fn conversation(&self, op: &Op, id: i64) -> Value {
        let (status, body) = self.get(op, &format!("/api/v1/conversations/{id}")).await;
        assert_eq!(status, 200, "get conversation: {body}");
        body
    }

    pub async fn set_availability(&self, op: &Op, availability: &str) {
        let (status, body) = self
            .put(
                op,
                "/api/v1/me/availability",
                json!({"availability": availability}),
            )
            .await;
        assert_eq!(status, 200, "availability: {body}");
    }
}

fn op_from_session(body: &Value) -> Op {
    Op {
        id: body["operator"]["id"].as_i64().unwrap(),
        token: body["token"].as_str().unwrap().to_owned(),
    }
}

/// A WebSocket client of the event streams.
pub struct Socket {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Socket {
    /// Opens `path` (e.g. `/api/v1/events`) with an optional bearer token; `Err(status)` when
    /// the server refuses the upgrade.
    pub async fn connect(base: &str, path: &str, token: Option<&str>) -> Result<Socket, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!("{}{path}", base.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().unwrap();
        if let Some(token) = token {
            request
                .headers_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((ws, _)) => Ok(Socket { ws }),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("websocket connect failed: {e}"),
        }
    }

    /// Like `connect`, with a 4 KiB receive buffer: a client that stops reading blocks the
    /// server's writes after little data.
    pub async fn connect_with_small_buffer(base: &str, path: &str, token: &str) -> Socket {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr).await.unwrap();
        let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (ws, _) = tokio_tungstenite::client_async(
            request,
            tokio_tungstenite::MaybeTlsStream::Plain(stream),
        )
        .await
        .unwrap();
        Socket { ws }
    }

    /// The next JSON event, or `None` when the server closed the stream (with its close
    /// code). Panics after `wait` of silence.
    pub async fn next_within(&mut self, wait: Duration) -> Result<Value, Option<u16>> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let next = tokio::time::timeout(wait, self.ws.next())
                .await
                .expect("an event in time");
            match next {
                Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
            }
        }
    }

    /// Every event that arrives until the stream has been quiet for `quiet`.
    pub async fn until_quiet(&mut self, quiet: Duration) -> Vec<Value> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let mut events = Vec::new();
        while let Ok(Some(Ok(message))) = tokio::time::timeout(quiet, self.ws.next()).await {
            if let Message::Text(text) = message {
                events.push(serde_json::from_str(&text).unwrap());
            }
        }
        events
    }

    pub async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("stream open")
    }

    /// Skips events until one of type `kind`.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        loop {
            let event = self.next().await;
            if event["type"] == kind {
                return event;
            }
        }
    }
}
