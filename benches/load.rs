//! Switchboard's load generator (`cargo bench --bench load`).
//!
//! Builds and starts the release `switchboard` binary on fresh databases (temporary SQLite
//! files, or PostgreSQL databases created on the server named by
//! `SWITCHBOARD_BENCH_POSTGRES_URL`), sets up a workspace (operators, widgets, closed history)
//! and drives it over real HTTP and WebSockets:
//!
//! 1. handover throughput, round-robin and lightest-load, beside a bare floor: the same HTTP
//!    stack (axum on tokio) answering with one SQLite write transaction per request;
//! 2. handover → `conversation.assigned` at the assignee's socket at a fixed offered rate,
//!    beside the round trip of a bare `GET /healthz`;
//! 3. one event fanned out to 2,000 open inbox sockets;
//! 4. growth: the handover run again with a large closed history;
//! 5. memory: the server's RSS idle and with the sockets open.
//!
//! Options (after `--`): `--operators N` (8), `--handovers N` (2000), `--concurrency N` (16),
//! `--rate N` per second (100) for `--seconds N` (10), `--sockets N` (2000), `--fanouts N` (20),
//! `--small-history N` (1000), `--large-history N` (1000000), `--json PATH`.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::future::join_all;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct Options {
    operators: usize,
    handovers: usize,
    concurrency: usize,
    rate: u64,
    seconds: u64,
    sockets: usize,
    fanouts: usize,
    small_history: u64,
    large_history: u64,
    json: Option<String>,
}

fn options() -> Options {
    let mut o = Options {
        operators: 8,
        handovers: 2000,
        concurrency: 16,
        rate: 100,
        seconds: 10,
        sockets: 2000,
        fanouts: 20,
        small_history: 1000,
        large_history: 1_000_000,
        json: None,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        let number = || {
            value
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{} takes a number", args[i]))
        };
        match args[i].as_str() {
            "--operators" => o.operators = number() as usize,
            "--handovers" => o.handovers = number() as usize,
            "--concurrency" => o.concurrency = number() as usize,
            "--rate" => o.rate = number(),
            "--seconds" => o.seconds = number(),
            "--sockets" => o.sockets = number() as usize,
            "--fanouts" => o.fanouts = number() as usize,
            "--small-history" => o.small_history = number(),
            "--large-history" => o.large_history = number(),
            "--json" => o.json = Some(value),
            // `cargo bench` passes `--bench`.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

// ---------- databases and the server under test ----------

/// A fresh database, removed when dropped.
struct Database {
    url: String,
    cleanup: Option<Box<dyn FnOnce() + Send>>,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(cleanup) = self.cleanup.take() {
            cleanup();
        }
    }
}

async fn fresh_database(label: &str) -> Database {
    match std::env::var("SWITCHBOARD_BENCH_POSTGRES_URL") {
        Ok(admin_url) => {
            let name = format!("sb_bench_{label}_{}", std::process::id());
            let mut admin = sqlx::PgConnection::connect(&admin_url)
                .await
                .expect("PostgreSQL");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await
            .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .unwrap();
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b.to_owned())
                .unwrap_or(admin_url.clone());
            let drop_sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            Database {
                url: format!("{base}/{name}"),
                cleanup: Some(Box::new(move || {
                    let _ = std::thread::spawn(move || {
                        let rt = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .unwrap();
                        rt.block_on(async {
                            if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                                let _ = sqlx::query(sqlx::AssertSqlSafe(drop_sql))
                                    .execute(&mut admin)
                                    .await;
                            }
                        });
                    })
                    .join();
                })),
            }
        }
        Err(_) => {
            let dir = std::env::temp_dir()
                .join(format!("switchboard-bench-{label}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite:{}", dir.join("bench.db").display());
            Database {
                url,
                cleanup: Some(Box::new(move || drop(std::fs::remove_dir_all(dir)))),
            }
        }
    }
}

fn backend_label() -> &'static str {
    if std::env::var("SWITCHBOARD_BENCH_POSTGRES_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

/// The server under test, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(database_url: &str) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                database_url,
            ])
            .args([
                "--allow-signup",
                "--widget-rate-limit",
                "0",
                "--event-buffer",
                "8192",
            ])
            .env("SWITCHBOARD_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the switchboard binary starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(Instant::now() < deadline, "server did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    /// Resident memory of the server process, in MiB.
    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }
}

// ---------- HTTP and WebSocket clients ----------

#[derive(Clone)]
struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("request");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    async fn start_chat(&self, key: &str) -> (i64, String) {
        let chat = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/widget/{key}/conversations"),
                None,
                json!({"body": "hello"}),
            )
            .await;
        (
            chat["conversation_id"].as_i64().unwrap(),
            chat["visitor_token"].as_str().unwrap().to_owned(),
        )
    }

    /// Sends a handover; returns once the response is read.
    async fn handover(&self, key: &str, chat: &(i64, String)) {
        let resp = self
            .http
            .post(format!(
                "{}/api/v1/widget/{key}/conversations/{}/handover",
                self.base, chat.0
            ))
            .header("x-visitor-token", &chat.1)
            .send()
            .await
            .expect("handover");
        assert!(resp.status().is_success(), "handover: {}", resp.status());
        resp.bytes().await.unwrap();
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_socket(base: &str, token: &str) -> Socket {
    let mut request = format!("{}/api/v1/events", base.replacen("http", "ws", 1))
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket")
        .0
}

/// Reads a socket until it closes, reporting each JSON event with the time it arrived.
fn spawn_reader(mut socket: Socket, tag: i64, out: mpsc::UnboundedSender<(i64, Instant, Value)>) {
    tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message
                && let Ok(event) = serde_json::from_str::<Value>(&text)
                && out.send((tag, Instant::now(), event)).is_err()
            {
                return;
            }
        }
    });
}

// ---------- figures ----------

#[derive(Debug, Clone, Copy, serde::Serialize)]
struct Stats {
    n: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    Stats {
        n: samples.len(),
        p50_ms: ms(at(0.50)),
        p99_ms: ms(at(0.99)),
        max_ms: ms(*samples.last().unwrap()),
    }
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
struct Throughput {
    per_second: f64,
    latency: Stats,
}

/// Runs `total` jobs over `concurrency` workers as fast as they go.
async fn closed_loop<F, Fut>(total: usize, concurrency: usize, job: F) -> Throughput
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers = (0..concurrency).map(|_| {
        let (next, job) = (next.clone(), job.clone());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return samples;
                }
                let t0 = Instant::now();
                job(i).await;
                samples.push(t0.elapsed());
            }
        })
    });
    let samples: Vec<Duration> = join_all(workers)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    Throughput {
        per_second: samples.len() as f64 / elapsed,
        latency: stats(samples),
    }
}

// ---------- the floor ----------

/// The bare floor: axum on tokio, one SQLite write transaction per request, in a runtime of its
/// own. `POST /floor/{n}` runs a transaction of `n` statements (BEGIN, n − 3 point reads, one
/// INSERT, COMMIT): `n = 3` is the floor of the target, and `n` = the handover's statement
/// count shows what those statements alone cost. Returns its base URL.
fn start_floor() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let dir =
                std::env::temp_dir().join(format!("switchboard-floor-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let options = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(dir.join("floor.db"))
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .unwrap();
            sqlx::query("CREATE TABLE hits (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)")
                .execute(&pool)
                .await
                .unwrap();
            let app = axum::Router::new().route(
                "/floor/{statements}",
                axum::routing::post(
                    move |axum::extract::Path(statements): axum::extract::Path<usize>| {
                        let pool = pool.clone();
                        async move {
                            let mut tx = pool.begin().await.unwrap();
                            for id in 0..statements.saturating_sub(3) {
                                sqlx::query("SELECT at FROM hits WHERE id = $1")
                                    .bind(id as i64)
                                    .fetch_optional(&mut *tx)
                                    .await
                                    .unwrap();
                            }
                            sqlx::query("INSERT INTO hits (at) VALUES (1)")
                                .execute(&mut *tx)
                                .await
                                .unwrap();
                            tx.commit().await.unwrap();
                            axum::Json(json!({"ok": true}))
                        }
                    },
                ),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(format!("http://{}", listener.local_addr().unwrap()))
                .unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

/// Statements in a round-robin handover's transaction (BEGIN and COMMIT included), for the
/// floor run of the same size.
const HANDOVER_STATEMENTS: usize = 17;

const GROWTH_ROUNDS: usize = 3;

/// The run with the median rate.
fn median(mut runs: Vec<Throughput>) -> Throughput {
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    runs[runs.len() / 2]
}

async fn floor_throughput(floor: &Api, statements: usize, o: &Options) -> Throughput {
    let api = floor.clone();
    closed_loop(o.handovers, o.concurrency, move |_| {
        let api = api.clone();
        async move {
            let resp = api
                .http
                .post(format!("{}/floor/{statements}", api.base))
                .send()
                .await
                .unwrap();
            resp.bytes().await.unwrap();
        }
    })
    .await
}

// ---------- set-up ----------

struct Workspace {
    owner_token: String,
    operators: Vec<(i64, String)>,
    round_robin_key: String,
    lightest_load_key: String,
}

async fn set_up(api: &Api, operators: usize) -> Workspace {
    let owner = api
        .call(
            reqwest::Method::POST,
            "/api/v1/signup",
            None,
            json!({"workspace_name": "Bench", "name": "Owner", "email": "owner@bench.test", "password": "benchmark"}),
        )
        .await;
    let owner_token = owner["token"].as_str().unwrap().to_owned();
    let mut ops = vec![(
        owner["operator"]["id"].as_i64().unwrap(),
        owner_token.clone(),
    )];
    for i in 1..operators {
        let email = format!("op{i}@bench.test");
        api.call(
            reqwest::Method::POST,
            "/api/v1/operators",
            Some(&owner_token),
            json!({"name": format!("Op {i}"), "email": email, "password": "benchmark"}),
        )
        .await;
        let session = api
            .call(
                reqwest::Method::POST,
                "/api/v1/session",
                None,
                json!({"email": email, "password": "benchmark"}),
            )
            .await;
        ops.push((
            session["operator"]["id"].as_i64().unwrap(),
            session["token"].as_str().unwrap().to_owned(),
        ));
    }
    let mut keys = Vec::new();
    for (name, mode) in [
        ("Round robin", "round_robin"),
        ("Lightest load", "lightest_load"),
        ("Help", "manual"),
        ("Docs", "manual"),
    ] {
        let widget = api
            .call(
                reqwest::Method::POST,
                "/api/v1/widgets",
                Some(&owner_token),
                json!({"name": name}),
            )
            .await;
        let id = widget["id"].as_i64().unwrap();
        api.call(
            reqwest::Method::PUT,
            &format!("/api/v1/widgets/{id}/routing"),
            Some(&owner_token),
            json!({"mode": mode, "eligible_operator_ids": []}),
        )
        .await;
        keys.push(widget["key"].as_str().unwrap().to_owned());
    }
    Workspace {
        owner_token,
        operators: ops,
        round_robin_key: keys[0].clone(),
        lightest_load_key: keys[1].clone(),
    }
}

/// Writes `count` closed conversations (each with one message) into the workspace's first
/// widget, straight into the database: history at a scale HTTP would take hours to build.
async fn seed_history(database_url: &str, count: u64) {
    if count == 0 {
        return;
    }
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(database_url)
        .await
        .expect("database");
    let postgres = database_url.starts_with("postgres");
    let now = 1_700_000_000_000i64;
    sqlx::query(
        "INSERT INTO visitors (widget_id, token_hash, created_at) VALUES (3, 'bench-history', $1)",
    )
    .bind(now)
    .execute(&mut conn)
    .await
    .unwrap();
    let numbers = if postgres {
        format!("SELECT n FROM generate_series(1, {count}) AS n")
    } else {
        format!(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {count}) SELECT n FROM seq"
        )
    };
    let sql = format!(
        "INSERT INTO conversations (workspace_id, widget_id, visitor_id, status, assignee_id, last_message_preview, \
         created_at, last_message_at) \
         SELECT 1, 3, (SELECT id FROM visitors WHERE token_hash = 'bench-history'), 'closed', 1 + (n % 4), 'old chat', \
         {now} - n * 1000, {now} - n * 1000 FROM ({numbers}) AS numbers"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    let messages = "INSERT INTO messages (conversation_id, author, body, created_at) \
                    SELECT id, 'visitor', 'an old question', created_at FROM conversations WHERE status = 'closed'";
    sqlx::query(messages).execute(&mut conn).await.unwrap();
    if !postgres {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

// ---------- measurements ----------

async fn handover_throughput(api: &Api, key: &str, total: usize, concurrency: usize) -> Throughput {
    let mut created = Vec::with_capacity(total);
    for batch in (0..total).collect::<Vec<_>>().chunks(concurrency) {
        let starts = batch.iter().map(|_| api.start_chat(key));
        created.extend(join_all(starts).await);
    }
    let created = Arc::new(created);
    let (api, key) = (api.clone(), key.to_owned());
    closed_loop(total, concurrency, move |i| {
        let (api, key, created) = (api.clone(), key.clone(), created.clone());
        async move { api.handover(&key, &created[i]).await }
    })
    .await
}

/// `n` sequential round trips of one request on a kept-alive connection.
async fn round_trips(api: &Api, method: reqwest::Method, path: &str, n: usize) -> Stats {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        let resp = api
            .http
            .request(method.clone(), format!("{}{path}", api.base))
            .send()
            .await
            .unwrap();
        resp.bytes().await.unwrap();
        samples.push(t0.elapsed());
    }
    stats(samples)
}

/// Handovers at `rate` per second for `seconds`, each timed from sending the request to the
/// `conversation.assigned` event arriving on the assignee's own socket.
async fn handover_to_event(api: &Api, ws: &Workspace, rate: u64, seconds: u64) -> Stats {
    let (tx, mut events) = mpsc::unbounded_channel();
    for (id, token) in &ws.operators {
        spawn_reader(open_socket(&api.base, token).await, *id, tx.clone());
    }
    drop(tx);
    let total = (rate * seconds) as usize;
    let mut chats = Vec::with_capacity(total);
    for _ in 0..total {
        chats.push(api.start_chat(&ws.round_robin_key).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    while events.try_recv().is_ok() {}
    let sent: Arc<std::sync::Mutex<std::collections::HashMap<i64, Instant>>> = Arc::default();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now();
    let mut senders = Vec::with_capacity(total);
    for (i, chat) in chats.into_iter().enumerate() {
        tokio::time::sleep_until((start + interval * i as u32).into()).await;
        sent.lock().unwrap().insert(chat.0, Instant::now());
        let (api, key) = (api.clone(), ws.round_robin_key.clone());
        senders.push(tokio::spawn(async move { api.handover(&key, &chat).await }));
    }
    let mut samples = Vec::with_capacity(total);
    while samples.len() < total {
        let (socket_of, at, event) = tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("events in time")
            .unwrap();
        if event["type"] == "conversation.assigned" && event["assignee_id"] == socket_of {
            let conversation = event["conversation_id"].as_i64().unwrap();
            if let Some(t0) = sent.lock().unwrap().get(&conversation) {
                samples.push(at - *t0);
            }
        }
    }
    join_all(senders).await;
    stats(samples)
}

/// Opens `sockets` inbox tabs; `fanouts` times a presence toggle is sent and its arrival on
/// every tab timed. Returns the figures and the server's RSS with the tabs open.
async fn fan_out(
    api: &Api,
    server: &Server,
    owner_token: &str,
    sockets: usize,
    fanouts: usize,
) -> (Stats, f64) {
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let mut opened = 0;
    while opened < sockets {
        let batch: Vec<_> = (opened..(opened + 100).min(sockets))
            .map(|_| open_socket(&api.base, owner_token))
            .collect();
        for socket in join_all(batch).await {
            spawn_reader(socket, 0, tx.clone());
        }
        opened = (opened + 100).min(sockets);
    }
    drop(tx);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = server.rss_mib();
    let mut samples = Vec::with_capacity(sockets * fanouts);
    for round in 0..fanouts {
        let availability = if round % 2 == 0 { "away" } else { "available" };
        let t0 = Instant::now();
        api.call(
            reqwest::Method::PUT,
            "/api/v1/me/availability",
            Some(owner_token),
            json!({"availability": availability}),
        )
        .await;
        let mut got = 0;
        while got < sockets {
            let (_, at, event) = tokio::time::timeout(Duration::from_secs(30), arrivals.recv())
                .await
                .expect("fan-out in time")
                .unwrap();
            if event["type"] == "operator.availability_changed"
                && event["availability"] == availability
            {
                samples.push(at - t0);
                got += 1;
            }
        }
    }
    (stats(samples), rss)
}

/// A server on a fresh database with `history` closed conversations, set up for the runs.
async fn prepared(label: &str, o: &Options, history: u64) -> (Database, Server, Api, Workspace) {
    let database = fresh_database(label).await;
    let server = Server::start(&database.url).await;
    let api = Api {
        base: server.base.clone(),
        http: reqwest::Client::new(),
    };
    let ws = set_up(&api, o.operators).await;
    seed_history(&database.url, history).await;
    (database, server, api, ws)
}

#[tokio::main]
async fn main() {
    // reqwest is built without a bundled crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let o = options();
    let database = backend_label();
    println!(
        "Switchboard load run on {database}: {} operators, {} handovers × {} clients",
        o.operators, o.handovers, o.concurrency
    );

    let floor = Api {
        base: start_floor(),
        http: reqwest::Client::new(),
    };
    let floor_run = floor_throughput(&floor, 3, &o).await;
    let floor_handover_sized = floor_throughput(&floor, HANDOVER_STATEMENTS, &o).await;

    let (_db, server, api, ws) = prepared("small", &o, o.small_history).await;
    let rss_idle = server.rss_mib();
    // Growth: the same round-robin run on both servers, alternating, three times each; the
    // median of each side is compared, so a slow moment of the machine does not decide it.
    let (db_large, server_large, api_large, ws_large) =
        prepared("large", &o, o.large_history).await;
    let (mut small_runs, mut large_runs) = (Vec::new(), Vec::new());
    for _ in 0..GROWTH_ROUNDS {
        small_runs
            .push(handover_throughput(&api, &ws.round_robin_key, o.handovers, o.concurrency).await);
        large_runs.push(
            handover_throughput(
                &api_large,
                &ws_large.round_robin_key,
                o.handovers,
                o.concurrency,
            )
            .await,
        );
    }
    drop(server_large);
    drop(db_large);
    let round_robin = median(small_runs);
    let large = median(large_runs);
    let lightest_load =
        handover_throughput(&api, &ws.lightest_load_key, o.handovers, o.concurrency).await;
    round_trips(&api, reqwest::Method::GET, "/healthz", 200).await;
    let healthz = round_trips(&api, reqwest::Method::GET, "/healthz", 2000).await;
    let floor_write = round_trips(&floor, reqwest::Method::POST, "/floor/3", 2000).await;
    let floor_write_sized = round_trips(
        &floor,
        reqwest::Method::POST,
        &format!("/floor/{HANDOVER_STATEMENTS}"),
        2000,
    )
    .await;
    let event_latency = handover_to_event(&api, &ws, o.rate, o.seconds).await;
    let (fanout, rss_sockets) = fan_out(&api, &server, &ws.owner_token, o.sockets, o.fanouts).await;
    drop(server);

    let row = |name: &str, t: &Throughput| {
        println!(
            "{name:<52} {:>9.0}/s {:>9.2} {:>9.2} {:>9.2}",
            t.per_second, t.latency.p50_ms, t.latency.p99_ms, t.latency.max_ms
        )
    };
    println!(
        "{:<52} {:>11} {:>9} {:>9} {:>9}",
        "throughput", "req/s", "p50 ms", "p99 ms", "max ms"
    );
    row("floor: one SQLite write transaction", &floor_run);
    row(
        &format!("floor, {HANDOVER_STATEMENTS} statements per transaction"),
        &floor_handover_sized,
    );
    row(
        &format!("handover, round-robin ({} closed), median", o.small_history),
        &round_robin,
    );
    row(
        &format!("handover, lightest-load ({} closed)", o.small_history),
        &lightest_load,
    );
    row(
        &format!("handover, round-robin ({} closed), median", o.large_history),
        &large,
    );
    println!(
        "{:<52} {:>9} {:>9} {:>9}",
        "latency", "p50 ms", "p99 ms", "max ms"
    );
    for (name, s) in [
        ("GET /healthz round trip", healthz),
        ("floor: one write transaction, round trip", floor_write),
        (
            &format!("floor: {HANDOVER_STATEMENTS}-statement transaction, round trip")[..],
            floor_write_sized,
        ),
        (
            &format!("handover → assigned at socket ({}/s)", o.rate)[..],
            event_latency,
        ),
        (
            &format!("one event → each of {} sockets", o.sockets)[..],
            fanout,
        ),
    ] {
        println!(
            "{name:<52} {:>9.2} {:>9.2} {:>9.2}",
            s.p50_ms, s.p99_ms, s.max_ms
        );
    }
    let ratios = json!({
        "round_robin_over_floor": round_robin.per_second / floor_run.per_second,
        "lightest_load_over_floor": lightest_load.per_second / floor_run.per_second,
        "round_robin_over_same_size_floor": round_robin.per_second / floor_handover_sized.per_second,
        "event_p99_over_healthz_p99": event_latency.p99_ms / healthz.p99_ms,
        "large_history_over_small": large.per_second / round_robin.per_second,
    });
    println!(
        "memory: RSS idle {rss_idle:.1} MiB, with {} sockets {rss_sockets:.1} MiB",
        o.sockets
    );
    println!("ratios: {ratios}");
    if let Some(path) = &o.json {
        let doc = json!({
            "database": database,
            "floor": floor_run,
            "floor_handover_sized": floor_handover_sized,
            "handover_round_robin": round_robin,
            "handover_lightest_load": lightest_load,
            "handover_round_robin_large_history": large,
            "healthz": healthz,
            "floor_write_round_trip": floor_write,
            "floor_write_sized_round_trip": floor_write_sized,
            "handover_to_event": event_latency,
            "fanout": fanout,
            "rss_idle_mib": rss_idle,
            "rss_with_sockets_mib": rss_sockets,
            "ratios": ratios,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).expect("write JSON");
    }
}
