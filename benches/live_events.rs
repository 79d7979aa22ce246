//! Live-event latency benchmark (`cargo bench --bench live_events`).
//!
//! Starts the release `switchboard` binary on a fresh database (a temporary SQLite file, or
//! the PostgreSQL database named by `SWITCHBOARD_BENCH_DATABASE_URL`), then measures over real
//! HTTP and WebSockets, in one run:
//! 1. the round trip of a bare `GET /healthz` (the floor);
//! 2. handover request → `conversation.assigned` at the assignee's socket;
//! 3. one event fanned out to 2,000 open inbox sockets.
//!
//! Options (after `--`): `--handovers N` (default 500), `--sockets N` (2000), `--fanouts N`
//! (20), `--json PATH` to also write the figures as JSON.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct Options {
    handovers: usize,
    sockets: usize,
    fanouts: usize,
    json: Option<String>,
}

fn options() -> Options {
    let mut o = Options {
        handovers: 500,
        sockets: 2000,
        fanouts: 20,
        json: None,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--handovers" => o.handovers = value.parse().expect("--handovers N"),
            "--sockets" => o.sockets = value.parse().expect("--sockets N"),
            "--fanouts" => o.fanouts = value.parse().expect("--fanouts N"),
            "--json" => o.json = Some(value),
            // `cargo bench` passes `--bench`; anything else unknown is ignored the same way.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

/// The server under test, killed when dropped.
struct Server {
    child: Child,
    base: String,
    _dir: Option<TempDir>,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_server() -> (Server, String) {
    let (database_url, dir, label) = match std::env::var("SWITCHBOARD_BENCH_DATABASE_URL") {
        Ok(url) => (url, None, "PostgreSQL"),
        Err(_) => {
            let dir =
                std::env::temp_dir().join(format!("switchboard-bench-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            (
                format!("sqlite:{}", dir.join("bench.db").display()),
                Some(TempDir(dir)),
                "SQLite",
            )
        }
    };
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
            &database_url,
            "--allow-signup",
            "--widget-rate-limit",
            "0",
        ])
        .env("SWITCHBOARD_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("the switchboard binary starts");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (server, label.to_owned())
}

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
            if let Message::Text(text) = message {
                let at = Instant::now();
                if let Ok(event) = serde_json::from_str::<Value>(&text)
                    && out.send((tag, at, event)).is_err()
                {
                    return;
                }
            }
        }
    });
}

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

async fn healthz_round_trips(api: &Api, n: usize) -> Stats {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        let resp = api
            .http
            .get(format!("{}/healthz", api.base))
            .send()
            .await
            .unwrap();
        resp.bytes().await.unwrap();
        samples.push(t0.elapsed());
    }
    stats(samples)
}

#[tokio::main]
async fn main() {
    // reqwest is built without a bundled crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let o = options();
    let (server, database) = start_server().await;
    let api = Api {
        base: server.base.clone(),
        http: reqwest::Client::new(),
    };

    let owner = api
        .call(
            reqwest::Method::POST,
            "/api/v1/signup",
            None,
            json!({"workspace_name": "Bench", "name": "Owner", "email": "owner@bench.test", "password": "benchmark"}),
        )
        .await;
    let owner_token = owner["token"].as_str().unwrap().to_owned();
    let mut operators: Vec<(i64, String)> = vec![(
        owner["operator"]["id"].as_i64().unwrap(),
        owner_token.clone(),
    )];
    for i in 1..4 {
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
        operators.push((
            session["operator"]["id"].as_i64().unwrap(),
            session["token"].as_str().unwrap().to_owned(),
        ));
    }
    let widget = api
        .call(
            reqwest::Method::POST,
            "/api/v1/widgets",
            Some(&owner_token),
            json!({"name": "Bench"}),
        )
        .await;
    let widget_id = widget["id"].as_i64().unwrap();
    let key = widget["key"].as_str().unwrap().to_owned();
    api.call(
        reqwest::Method::PUT,
        &format!("/api/v1/widgets/{widget_id}/routing"),
        Some(&owner_token),
        json!({"mode": "round_robin", "eligible_operator_ids": []}),
    )
    .await;

    // Warm up the server's and the client's connections.
    healthz_round_trips(&api, 200).await;
    let healthz = healthz_round_trips(&api, 2000).await;

    // Handover → conversation.assigned at the assignee's own socket.
    let (tx, mut events) = mpsc::unbounded_channel();
    for (id, token) in &operators {
        spawn_reader(open_socket(&api.base, token).await, *id, tx.clone());
    }
    let mut handover_to_event = Vec::with_capacity(o.handovers);
    let mut handover_response = Vec::with_capacity(o.handovers);
    for _ in 0..o.handovers {
        let chat = api
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/widget/{key}/conversations"),
                None,
                json!({"body": "hello"}),
            )
            .await;
        let conversation_id = chat["conversation_id"].as_i64().unwrap();
        let visitor_token = chat["visitor_token"].as_str().unwrap();
        while events.try_recv().is_ok() {}
        let t0 = Instant::now();
        let resp = api
            .http
            .post(format!(
                "{}/api/v1/widget/{key}/conversations/{conversation_id}/handover",
                api.base
            ))
            .header("x-visitor-token", visitor_token)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
        resp.bytes().await.unwrap();
        handover_response.push(t0.elapsed());
        loop {
            let (socket_of, at, event) =
                tokio::time::timeout(Duration::from_secs(10), events.recv())
                    .await
                    .expect("event in time")
                    .unwrap();
            if event["type"] == "conversation.assigned"
                && event["conversation_id"] == conversation_id
                && event["assignee_id"] == socket_of
            {
                handover_to_event.push(at - t0);
                break;
            }
        }
    }
    drop(events);
    let handover_event = stats(handover_to_event);
    let handover_http = stats(handover_response);

    // One event to many open sockets: the owner toggles presence; every tab hears it.
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let mut opened = 0;
    while opened < o.sockets {
        let batch: Vec<_> = (opened..(opened + 100).min(o.sockets))
            .map(|_| open_socket(&api.base, &owner_token))
            .collect();
        for socket in futures_util::future::join_all(batch).await {
            spawn_reader(socket, 0, tx.clone());
        }
        opened = (opened + 100).min(o.sockets);
    }
    drop(tx);
    let mut fanout = Vec::with_capacity(o.sockets * o.fanouts);
    for round in 0..o.fanouts {
        let availability = if round % 2 == 0 { "away" } else { "available" };
        let t0 = Instant::now();
        api.call(
            reqwest::Method::PUT,
            "/api/v1/me/availability",
            Some(&owner_token),
            json!({"availability": availability}),
        )
        .await;
        let mut got = 0;
        while got < o.sockets {
            let (_, at, event) = tokio::time::timeout(Duration::from_secs(30), arrivals.recv())
                .await
                .expect("fan-out in time")
                .unwrap();
            if event["type"] == "operator.availability_changed"
                && event["availability"] == availability
            {
                fanout.push(at - t0);
                got += 1;
            }
        }
    }
    let fanout = stats(fanout);

    let ratio = handover_event.p99_ms / healthz.p99_ms;
    println!(
        "Switchboard live events on {database}, one run ({} handovers, {} sockets × {} events)",
        o.handovers, o.sockets, o.fanouts
    );
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "measure", "p50 ms", "p99 ms", "max ms"
    );
    for (name, s) in [
        ("GET /healthz round trip", healthz),
        ("handover HTTP response", handover_http),
        ("handover → conversation.assigned at socket", handover_event),
        ("one event → each of the open sockets", fanout),
    ] {
        println!(
            "{name:<44} {:>10.2} {:>10.2} {:>10.2}",
            s.p50_ms, s.p99_ms, s.max_ms
        );
    }
    println!("handover→event p99 / healthz p99 = {ratio:.2}×");
    if let Some(path) = o.json {
        let doc = json!({
            "database": database,
            "healthz": healthz,
            "handover_http": handover_http,
            "handover_to_event": handover_event,
            "fanout": fanout,
            "sockets": o.sockets,
            "handover_event_p99_over_healthz_p99": ratio,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).expect("write JSON");
    }
    drop(server);
}
