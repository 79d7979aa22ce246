//! Switchboard's load generator (`cargo bench --bench load`).
//!
//! Builds and starts the release `switchboard` binary on fresh databases (temporary SQLite
//! files, or PostgreSQL databases created on the server named by
//! `SWITCHBOARD_BENCH_POSTGRES_URL`), sets up a workspace (operators, widgets, closed history)
//! and drives it over real HTTP and WebSockets:
//!
//! 1. handover throughput, round-robin and lightest-load, beside a bare floor: the same HTTP
//!    stack (axum on tokio) answering with one SQLite write transaction per request, through
//!    sqlx and, as one closure, on a rusqlite writer thread (one hop);
//! 2. handover → `conversation.assigned` at the assignee's socket at a fixed offered rate,
//!    beside the round trip of a bare `GET /healthz` and the one-hop floor's round trip, back
//!    to back and at the same offered rate;
//! 3. one event fanned out to 2,000 open inbox sockets;
//! 4. growth: the handover run again with a large closed history;
//! 5. memory: the server's RSS idle and with the sockets open;
//! 6. the queue draining (SPEC 9): `--queued` chats wait while everyone is Away, then
//!    `--drain-operators` teammates with capacity turn Available at once: the time until every
//!    chat has someone, and that nobody went over capacity;
//! 7. the routing report of the last 30 days over a year of routed, answered and closed chats
//!    (the target: under 200 ms).
//!
//! Options (after `--`): `--operators N` (8), `--handovers N` (2000), `--concurrency N` (16),
//! `--rate N` per second (100) for `--seconds N` (10), `--sockets N` (2000), `--fanouts N` (20),
//! `--small-history N` (1000), `--large-history N` (1000000), `--queued N` (2000),
//! `--drain-operators N` (20), `--report-history N` (1000000), `--json PATH`.
//!
//! Each phase's start goes to stderr with the server's pid, for a profiler to attach to
//! (`perf record -p PID`) while the phase it is after runs. Each closed-loop row also says
//! what CPU one request cost the server, PostgreSQL's backends and the bench (`CpuPerOp`).

// The test kit, shared with the integration tests (tests/api).
#[path = "../tests/kit/mod.rs"]
mod kit;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use kit::{Api, Node, Op, Socket, TestDb, Widget};
use rusqlite::OptionalExtension;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::mpsc;

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
    queued: usize,
    drain_operators: usize,
    report_history: u64,
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
        queued: 2000,
        drain_operators: 20,
        report_history: 1_000_000,
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
            "--queued" => o.queued = number() as usize,
            "--drain-operators" => o.drain_operators = number() as usize,
            "--report-history" => o.report_history = number(),
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

/// Names the PostgreSQL server the bench creates its databases on; SQLite without it.
const POSTGRES_URL: &str = "SWITCHBOARD_BENCH_POSTGRES_URL";

/// A fresh database, removed when dropped.
async fn fresh_database() -> TestDb {
    match std::env::var(POSTGRES_URL) {
        Ok(admin_url) => TestDb::postgres(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {POSTGRES_URL}: {e}")),
        Err(_) => TestDb::sqlite(),
    }
}

fn backend_label() -> &'static str {
    if std::env::var(POSTGRES_URL).is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

/// Resident memory of the server process, in MiB.
fn rss_mib(server: &Node) -> f64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// A client of `base` without the tests' timeout per request: the bench times the server, and
/// that timeout's timer is client work its figures leave out.
fn untimed_api(base: String) -> Api {
    Api {
        base,
        client: reqwest::Client::new(),
    }
}

// ---------- event streams ----------

/// Reads a socket until it closes, reporting each JSON event with the time it arrived.
fn spawn_reader(mut socket: Socket, tag: i64, out: mpsc::UnboundedSender<(i64, Instant, Value)>) {
    tokio::spawn(async move {
        while let Some(event) = socket.recv().await {
            if out.send((tag, Instant::now(), event)).is_err() {
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

/// CPU time (user and system) one operation of a closed loop cost, in milliseconds, on each
/// side: the server process, the PostgreSQL backends (none on SQLite), and this process (the
/// load generator, and the floors' in-bench server). Summed over both cores, so at 2 cores a
/// rate of `2000 / total` per second is the most they could sustain.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
struct CpuPerOp {
    server_ms: f64,
    database_ms: f64,
    bench_ms: f64,
}

/// Clock ticks of CPU a set of processes used so far.
#[derive(Clone, Copy, Default)]
struct CpuTicks {
    server: u64,
    database: u64,
    bench: u64,
}

/// The kernel's `USER_HZ`, the unit of `/proc/PID/stat`'s times: 100 on every Linux ABI.
const TICKS_PER_SECOND: f64 = 100.0;

/// utime + stime of a process (all its threads), with its command name.
fn process_ticks(stat_path: &std::path::Path) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    let (name, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3 of stat(5), utime 14 and stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name.to_owned(), utime + stime))
}

fn cpu_ticks(server: Option<&Node>) -> CpuTicks {
    let pid = |pid: u32| {
        process_ticks(std::path::Path::new(&format!("/proc/{pid}/stat"))).map_or(0, |(_, t)| t)
    };
    let database = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| process_ticks(&entry.path().join("stat")))
        .filter(|(name, _)| name == "postgres")
        .map(|(_, ticks)| ticks)
        .sum();
    CpuTicks {
        server: server.map_or(0, |s| pid(s.pid())),
        database,
        bench: pid(std::process::id()),
    }
}

impl CpuTicks {
    fn per_op(self, before: CpuTicks, ops: usize) -> CpuPerOp {
        let ms = |after: u64, before: u64| {
            after.saturating_sub(before) as f64 / TICKS_PER_SECOND * 1000.0 / ops.max(1) as f64
        };
        CpuPerOp {
            server_ms: ms(self.server, before.server),
            database_ms: ms(self.database, before.database),
            bench_ms: ms(self.bench, before.bench),
        }
    }
}

#[derive(Debug, Clone, Copy, serde::Serialize)]
struct Throughput {
    per_second: f64,
    latency: Stats,
    cpu: CpuPerOp,
}

/// Says on stderr which phase starts, and on which server, so a profiler can be attached to
/// that process for the phase it is after (`perf record -p PID`).
fn phase(name: &str, server: Option<&Node>) {
    static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let started = STARTED.get_or_init(Instant::now);
    let pid = server.map_or_else(String::new, |s| format!(" (server pid {})", s.pid()));
    eprintln!("[{:>7.1} s] {name}{pid}", started.elapsed().as_secs_f64());
}

/// Runs `total` jobs over `concurrency` workers as fast as they go, against `server` (None: the
/// in-bench floor).
async fn closed_loop<F, Fut>(
    total: usize,
    concurrency: usize,
    server: Option<&Node>,
    job: F,
) -> Throughput
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_ticks(server);
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
        cpu: cpu_ticks(server).per_op(cpu_before, samples.len()),
        latency: stats(samples),
    }
}

// ---------- the floor ----------

/// The floor's one table, in both its databases.
const FLOOR_SCHEMA: &str = "CREATE TABLE hits (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)";

/// A whole transaction, run on the one-hop floor's writer thread.
type WriterJob = Box<dyn FnOnce(&mut rusqlite::Connection) + Send>;

/// The one-hop floor's writer: a thread owning the only connection to `path` (WAL,
/// `synchronous=NORMAL`, as the sqlx floor), running each job to its end before it takes the
/// next. Jobs are never batched into one commit, so each request pays for its own transaction,
/// as with sqlx, and only the hand-offs differ.
fn start_one_hop_writer(path: &std::path::Path) -> std::sync::mpsc::Sender<WriterJob> {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; {FLOOR_SCHEMA}"
    ))
    .unwrap();
    let (jobs, queue) = std::sync::mpsc::channel::<WriterJob>();
    std::thread::spawn(move || {
        for job in queue {
            job(&mut conn);
        }
    });
    jobs
}

/// The bare floor: axum on tokio, one SQLite write transaction per request, in a runtime of its
/// own. `POST /floor/{n}` runs a transaction of `n` statements (BEGIN, n − 3 point reads, one
/// INSERT, COMMIT) through sqlx: `n = 3` is the floor of the target, and `n` = the handover's
/// statement count shows what those statements alone cost. sqlx hands every statement to its
/// connection's thread and back; `POST /floor-one-hop/{n}` runs the same transaction, on a
/// database of its own, as one closure on a rusqlite writer thread: one hand-off there and one
/// back per request, whatever `n`. Returns its base URL.
fn start_floor() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let dir = floor_dir();
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
            sqlx::query(FLOOR_SCHEMA).execute(&pool).await.unwrap();
            let writer = start_one_hop_writer(&dir.join("floor-one-hop.db"));
            let app = axum::Router::new()
                .route(
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
                )
                .route(
                    "/floor-one-hop/{statements}",
                    axum::routing::post(
                        move |axum::extract::Path(statements): axum::extract::Path<usize>| {
                            let writer = writer.clone();
                            async move {
                                let (done, answer) = tokio::sync::oneshot::channel();
                                let job: WriterJob = Box::new(move |conn| {
                                    let tx = conn.transaction().unwrap();
                                    for id in 0..statements.saturating_sub(3) {
                                        tx.prepare_cached("SELECT at FROM hits WHERE id = ?1")
                                            .unwrap()
                                            .query_row([id as i64], |row| row.get::<_, i64>(0))
                                            .optional()
                                            .unwrap();
                                    }
                                    tx.prepare_cached("INSERT INTO hits (at) VALUES (1)")
                                        .unwrap()
                                        .execute([])
                                        .unwrap();
                                    tx.commit().unwrap();
                                    // The handler may be gone; the transaction stands anyway.
                                    let _ = done.send(());
                                });
                                writer.send(job).unwrap();
                                answer.await.unwrap();
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

/// Where the floor keeps its two databases; removed when the run ends.
fn floor_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("switchboard-floor-{}", std::process::id()))
}

/// Statements in a round-robin handover's transaction (BEGIN and COMMIT included), for the
/// floor runs of the same size.
const HANDOVER_STATEMENTS: usize = 17;

const GROWTH_ROUNDS: usize = 3;

/// The run with the median rate.
fn median(mut runs: Vec<Throughput>) -> Throughput {
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    runs[runs.len() / 2]
}

async fn floor_throughput(floor: &Api, path: &str, o: &Options) -> Throughput {
    let (api, path) = (floor.clone(), path.to_owned());
    closed_loop(o.handovers, o.concurrency, None, move |_| {
        let (api, path) = (api.clone(), path.clone());
        async move { round_trip(&api, reqwest::Method::POST, &path).await }
    })
    .await
}

// ---------- set-up ----------

struct Workspace {
    owner: Op,
    operators: Vec<Op>,
    round_robin: Widget,
    lightest_load: Widget,
}

async fn set_up(api: &Api, operators: usize) -> Workspace {
    let owner = api.signup("Bench").await;
    let mut ops = vec![owner.clone()];
    for i in 1..operators {
        ops.push(api.add_operator(&owner, &format!("Op {i}")).await);
    }
    // `seed_history` writes into widget 3, the first manual one: keep this order.
    let mut widgets = Vec::new();
    for mode in ["round_robin", "lightest_load", "manual", "manual"] {
        widgets.push(api.widget(&owner, mode, &[]).await);
    }
    Workspace {
        owner,
        operators: ops,
        round_robin: widgets[0].clone(),
        lightest_load: widgets[1].clone(),
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
    sqlx::query("INSERT INTO visitors (widget_id, first_seen_at, last_seen_at) VALUES (3, $1, $1)")
        .bind(now)
        .execute(&mut conn)
        .await
        .unwrap();
    let numbers = if postgres {
        format!("SELECT n FROM generate_series(1::bigint, {count}) AS n")
    } else {
        format!(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {count}) SELECT n FROM seq"
        )
    };
    let sql = format!(
        "INSERT INTO conversations (workspace_id, widget_id, visitor_id, status, assignee_id, last_message_preview, \
         created_at, last_message_at) \
         SELECT 1, 3, (SELECT MAX(id) FROM visitors WHERE widget_id = 3), 'closed', 1 + (n % 4), 'old chat', \
         {now} - n * 1000, {now} - n * 1000 FROM ({numbers}) AS numbers"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
    let messages = "INSERT INTO messages (conversation_id, author, body, created_at) \
                    SELECT id, 'visitor', 'an old question', created_at FROM conversations WHERE status = 'closed'";
    sqlx::query(messages).execute(&mut conn).await.unwrap();
    upkeep(database_url).await;
}

/// Gives rows just written, history or an untimed set-up, the upkeep a running server's
/// database would have given them by the time they are measured: SQLite's WAL copied back into
/// the file, PostgreSQL's autovacuum (the visibility map its index-only scans rely on, and the
/// planner's statistics, whose change also has every connection plan its statements again;
/// a plan made when a table was nearly empty goes on scanning it whole as it grows).
async fn upkeep(database_url: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(database_url)
        .await
        .expect("database");
    let upkeep = if database_url.starts_with("postgres") {
        "VACUUM ANALYZE"
    } else {
        "PRAGMA wal_checkpoint(TRUNCATE)"
    };
    sqlx::query(upkeep).execute(&mut conn).await.unwrap();
}

/// The instant the routed history ends at, and the report's window: its last 30 days.
const REPORT_NOW: i64 = 1_800_000_000_000;
const REPORT_FROM: &str = "2026-12-16T08:00:00Z";
const REPORT_TO: &str = "2027-01-15T08:00:00Z";

/// Writes `count` closed chats spread over the year before `REPORT_NOW` into the workspace's
/// round-robin widget, each routed to one of its `operators` after a wait of up to two
/// minutes and answered up to five minutes later (a visitor message, an assignment, a
/// reply), straight into the database.
async fn seed_routed_history(database_url: &str, count: u64, operators: usize) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(database_url)
        .await
        .expect("database");
    let postgres = database_url.starts_with("postgres");
    let numbers = if postgres {
        format!("SELECT n FROM generate_series(1::bigint, {count}) AS n")
    } else {
        format!(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {count}) SELECT n FROM seq"
        )
    };
    let year_ms: i64 = 365 * 24 * 60 * 60 * 1000;
    let step = year_ms / count.max(1) as i64;
    let statements = [
        format!("INSERT INTO visitors (widget_id, first_seen_at, last_seen_at) VALUES (1, {REPORT_NOW}, {REPORT_NOW})"),
        format!(
            "INSERT INTO conversations (workspace_id, widget_id, visitor_id, status, assignee_id, last_message_preview, \
             created_at, last_message_at, handed_off_at) \
             SELECT 1, 1, (SELECT MAX(id) FROM visitors WHERE widget_id = 1), 'closed', 1 + (n % {operators}), 'routed chat', \
             {REPORT_NOW} - n * {step}, {REPORT_NOW} - n * {step}, {REPORT_NOW} - n * {step} + 5000 FROM ({numbers}) AS numbers"
        ),
        "INSERT INTO assignment_events (conversation_id, from_operator_id, to_operator_id, reason, actor_id, at, \
         handed_off_at, first_reply_at) \
         SELECT id, NULL, assignee_id, 'round_robin', NULL, handed_off_at + (id % 120) * 1000, handed_off_at, \
         handed_off_at + (id % 120) * 1000 + (id % 300) * 1000 FROM conversations WHERE widget_id = 1 AND status = 'closed'"
            .to_owned(),
        "INSERT INTO messages (conversation_id, author, body, created_at) \
         SELECT id, 'visitor', 'a question', created_at FROM conversations WHERE widget_id = 1 AND status = 'closed'"
            .to_owned(),
        "INSERT INTO messages (conversation_id, author, operator_id, body, created_at) \
         SELECT conversation_id, 'operator', to_operator_id, 'an answer', first_reply_at FROM assignment_events"
            .to_owned(),
    ];
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    upkeep(database_url).await;
}

// ---------- measurements ----------

/// `n` sequential routing reports of the last 30 days, as the owner.
async fn report_latency(api: &Api, owner: &Op, n: usize) -> Stats {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        let (status, body) = api.routing_report(owner, REPORT_FROM, REPORT_TO).await;
        samples.push(t0.elapsed());
        assert_eq!(status, 200, "{body}");
    }
    stats(samples)
}

async fn handover_throughput(
    database_url: &str,
    server: &Node,
    api: &Api,
    widget: &Widget,
    total: usize,
    concurrency: usize,
) -> Throughput {
    let mut created = Vec::with_capacity(total);
    for batch in (0..total).collect::<Vec<_>>().chunks(concurrency) {
        let starts = batch.iter().map(|_| api.open_chat(widget, "hello"));
        created.extend(join_all(starts).await);
    }
    upkeep(database_url).await;
    let created = Arc::new(created);
    phase(&format!("handovers on widget {} start", widget.id), None);
    let (api, widget) = (api.clone(), widget.clone());
    closed_loop(total, concurrency, Some(server), move |i| {
        let (api, widget, created) = (api.clone(), widget.clone(), created.clone());
        async move {
            api.handover(&widget, &created[i]).await;
        }
    })
    .await
}

/// One request without a body, its answer read but not parsed.
async fn round_trip(api: &Api, method: reqwest::Method, path: &str) {
    let request = api.client.request(method, api.url(path));
    request.send().await.unwrap().bytes().await.unwrap();
}

/// `n` sequential round trips of one request on a kept-alive connection.
async fn round_trips(api: &Api, method: reqwest::Method, path: &str, n: usize) -> Stats {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        round_trip(api, method.clone(), path).await;
        samples.push(t0.elapsed());
    }
    stats(samples)
}

/// Round trips of one request at `rate` per second for `seconds`, each sent on time whether
/// or not the one before has been answered, and timed from its own start. Beside the handover
/// at the same rate, it shows what an offered rate costs a request on its own: between
/// requests the machine goes idle, and each one starts by waking it up, which back-to-back
/// round trips never pay.
async fn round_trips_at_rate(
    api: &Api,
    method: reqwest::Method,
    path: &str,
    rate: u64,
    seconds: u64,
) -> Stats {
    let (api, path) = (api.clone(), path.to_owned());
    let requests = at_rate(rate, (rate * seconds) as usize, move |_, _| {
        let (api, method, path) = (api.clone(), method.clone(), path.clone());
        async move { round_trip(&api, method, &path).await }
    })
    .await;
    stats(
        join_all(requests)
            .await
            .into_iter()
            .map(|timed| timed.unwrap().1)
            .collect(),
    )
}

/// Starts `count` tasks at `rate` per second, each on time whether or not the ones before are
/// done. `task(i, start)` is the i-th, given the moment it started; each answers with its
/// output and its own time from that start (the bench's scheduling before it is not counted).
async fn at_rate<T, F, Fut>(
    rate: u64,
    count: usize,
    task: F,
) -> Vec<tokio::task::JoinHandle<(T, Duration)>>
where
    F: Fn(usize, Instant) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = T> + Send,
    T: Send + 'static,
{
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now();
    let mut started = Vec::with_capacity(count);
    for i in 0..count {
        tokio::time::sleep_until((start + interval * i as u32).into()).await;
        let task = task.clone();
        started.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let output = task(i, t0).await;
            (output, t0.elapsed())
        }));
    }
    started
}

/// What a handover at a steady rate costs: from sending its request to the
/// `conversation.assigned` event arriving on the assignee's own socket, and to its own answer.
struct HandoverLatency {
    to_event: Stats,
    to_answer: Stats,
}

/// Handovers at `rate` per second for `seconds`, each timed from sending its request.
async fn handover_to_event(
    database_url: &str,
    api: &Api,
    ws: &Workspace,
    rate: u64,
    seconds: u64,
) -> HandoverLatency {
    let (tx, mut events) = mpsc::unbounded_channel();
    for op in &ws.operators {
        spawn_reader(api.inbox_stream(op).await, op.id, tx.clone());
    }
    drop(tx);
    let total = (rate * seconds) as usize;
    let mut chats = Vec::with_capacity(total);
    for _ in 0..total {
        chats.push(api.open_chat(&ws.round_robin, "hello").await);
    }
    upkeep(database_url).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    while events.try_recv().is_ok() {}
    let sent: Arc<std::sync::Mutex<std::collections::HashMap<i64, Instant>>> = Arc::default();
    let chats = Arc::new(chats);
    let senders = at_rate(rate, total, {
        let (api, widget, sent) = (api.clone(), ws.round_robin.clone(), sent.clone());
        move |i, t0| {
            let (api, widget, sent, chats) =
                (api.clone(), widget.clone(), sent.clone(), chats.clone());
            async move {
                let chat = &chats[i];
                sent.lock().unwrap().insert(chat.id, t0);
                api.handover(&widget, chat).await;
            }
        }
    })
    .await;
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
    let answers = join_all(senders)
        .await
        .into_iter()
        .map(|timed| timed.unwrap().1);
    HandoverLatency {
        to_event: stats(samples),
        to_answer: stats(answers.collect()),
    }
}

/// Opens `sockets` inbox tabs; `fanouts` times a presence toggle is sent and its arrival on
/// every tab timed. Returns the figures and the server's RSS with the tabs open.
async fn fan_out(
    api: &Api,
    server: &Node,
    owner: &Op,
    sockets: usize,
    fanouts: usize,
) -> (Stats, f64) {
    let (tx, mut arrivals) = mpsc::unbounded_channel();
    let mut opened = 0;
    while opened < sockets {
        let batch: Vec<_> = (opened..(opened + 100).min(sockets))
            .map(|_| api.inbox_stream(owner))
            .collect();
        for socket in join_all(batch).await {
            spawn_reader(socket, 0, tx.clone());
        }
        opened = (opened + 100).min(sockets);
    }
    drop(tx);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = rss_mib(server);
    let mut samples = Vec::with_capacity(sockets * fanouts);
    for round in 0..fanouts {
        let availability = if round % 2 == 0 { "away" } else { "available" };
        let t0 = Instant::now();
        api.set_availability(owner, availability).await;
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

#[derive(serde::Serialize)]
struct DrainRun {
    queued: usize,
    operators: usize,
    capacity: usize,
    /// From the first toggle to Available until every chat had someone.
    drain_ms: f64,
    /// Teammates holding more open chats than their capacity at the end: must be 0.
    over_capacity: usize,
}

/// `queued` chats wait while the whole team is Away; then `operators` teammates, whose
/// capacities add up to exactly `queued`, turn Available at once and the queue drains.
async fn drain_queue(o: &Options) -> DrainRun {
    let database = fresh_database().await;
    let server = Node::spawn_with(&database.url, &["--event-buffer", "8192"]).await;
    let api = untimed_api(server.api.base.clone());
    let owner = api.signup("Drain").await;
    api.set_availability(&owner, "away").await;
    let capacity = o.queued.div_ceil(o.drain_operators.max(1));
    let mut team = Vec::new();
    for i in 0..o.drain_operators {
        let op = api.add_operator(&owner, &format!("Drain {i}")).await;
        api.set_availability(&op, "away").await;
        let (status, body) = api
            .update_operator(&owner, op.id, json!({"capacity": capacity}))
            .await;
        assert_eq!(status, 200, "capacity: {body}");
        team.push(op);
    }
    let widget = api.widget(&owner, "lightest_load", &[]).await;
    for batch in (0..o.queued)
        .collect::<Vec<_>>()
        .chunks(o.concurrency.max(1))
    {
        let chats = join_all(batch.iter().map(|_| api.open_chat(&widget, "hello"))).await;
        join_all(chats.iter().map(|chat| api.handover(&widget, chat))).await;
    }
    upkeep(&database.url).await;
    let started = Instant::now();
    join_all(team.iter().map(|op| api.set_availability(op, "available"))).await;
    let loads = loop {
        let (_, listed) = api.operators(&owner).await;
        let items = listed["items"].as_array().cloned().unwrap_or_default();
        let held: u64 = items.iter().filter_map(|op| op["load"].as_u64()).sum();
        if held as usize >= o.queued || started.elapsed() > Duration::from_secs(600) {
            break items;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let drain_ms = started.elapsed().as_secs_f64() * 1000.0;
    let over_capacity = loads
        .iter()
        .filter(|op| match (op["load"].as_u64(), op["capacity"].as_u64()) {
            (Some(load), Some(capacity)) => load > capacity,
            _ => false,
        })
        .count();
    drop(server);
    DrainRun {
        queued: o.queued,
        operators: o.drain_operators,
        capacity,
        drain_ms,
        over_capacity,
    }
}

/// A server on a fresh database with `history` closed conversations, set up for the runs.
async fn prepared(o: &Options, history: u64) -> (TestDb, Node, Api, Workspace) {
    let database = fresh_database().await;
    let server = Node::spawn_with(&database.url, &["--event-buffer", "8192"]).await;
    let api = untimed_api(server.api.base.clone());
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

    phase("floors", None);
    let floor = untimed_api(start_floor());
    let floor_sized = format!("/floor/{HANDOVER_STATEMENTS}");
    let floor_one_hop_sized = format!("/floor-one-hop/{HANDOVER_STATEMENTS}");
    let floor_run = floor_throughput(&floor, "/floor/3", &o).await;
    let floor_handover_sized = floor_throughput(&floor, &floor_sized, &o).await;
    let floor_one_hop = floor_throughput(&floor, &floor_one_hop_sized, &o).await;

    let (db, server, api, ws) = prepared(&o, o.small_history).await;
    phase("server with the small history ready", Some(&server));
    let rss_idle = rss_mib(&server);
    // Growth: the same round-robin run on both servers, alternating, three times each; the
    // median of each side is compared, so a slow moment of the machine does not decide it.
    let (db_large, server_large, api_large, ws_large) = prepared(&o, o.large_history).await;
    phase("server with the large history ready", Some(&server_large));
    let (mut small_runs, mut large_runs) = (Vec::new(), Vec::new());
    for _ in 0..GROWTH_ROUNDS {
        small_runs.push(
            handover_throughput(
                &db.url,
                &server,
                &api,
                &ws.round_robin,
                o.handovers,
                o.concurrency,
            )
            .await,
        );
        large_runs.push(
            handover_throughput(
                &db_large.url,
                &server_large,
                &api_large,
                &ws_large.round_robin,
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
    let lightest_load = handover_throughput(
        &db.url,
        &server,
        &api,
        &ws.lightest_load,
        o.handovers,
        o.concurrency,
    )
    .await;
    round_trips(&api, reqwest::Method::GET, "/healthz", 200).await;
    let healthz = round_trips(&api, reqwest::Method::GET, "/healthz", 2000).await;
    let floor_write = round_trips(&floor, reqwest::Method::POST, "/floor/3", 2000).await;
    let floor_write_sized = round_trips(&floor, reqwest::Method::POST, &floor_sized, 2000).await;
    let floor_one_hop_write =
        round_trips(&floor, reqwest::Method::POST, &floor_one_hop_sized, 2000).await;
    let floor_one_hop_at_rate = round_trips_at_rate(
        &floor,
        reqwest::Method::POST,
        &floor_one_hop_sized,
        o.rate,
        o.seconds,
    )
    .await;
    phase("handover → assigned at a steady rate", None);
    let handover_latency = handover_to_event(&db.url, &api, &ws, o.rate, o.seconds).await;
    let event_latency = handover_latency.to_event;
    let (fanout, rss_sockets) = fan_out(&api, &server, &ws.owner, o.sockets, o.fanouts).await;
    drop(server);
    let drain = drain_queue(&o).await;
    let (db_report, server_report, api_report, ws_report) = prepared(&o, 0).await;
    seed_routed_history(&db_report.url, o.report_history, o.operators).await;
    report_latency(&api_report, &ws_report.owner, 3).await;
    let report = report_latency(&api_report, &ws_report.owner, 20).await;
    drop(server_report);
    drop(db_report);

    let row = |name: &str, t: &Throughput| {
        println!(
            "{name:<78} {:>9.0}/s {:>9.2} {:>9.2} {:>9.2} {:>9.3} {:>9.3} {:>9.3}",
            t.per_second,
            t.latency.p50_ms,
            t.latency.p99_ms,
            t.latency.max_ms,
            t.cpu.server_ms,
            t.cpu.database_ms,
            t.cpu.bench_ms
        )
    };
    println!(
        "{:<78} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "throughput (CPU ms per request: server, database, bench)",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "server",
        "database",
        "bench"
    );
    row("floor: one SQLite write transaction", &floor_run);
    row(
        &format!("floor, {HANDOVER_STATEMENTS} statements per transaction"),
        &floor_handover_sized,
    );
    row(
        &format!(
            "floor: {HANDOVER_STATEMENTS} statements as one closure on a rusqlite writer (one hop)"
        ),
        &floor_one_hop,
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
        "{:<78} {:>9} {:>9} {:>9}",
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
            &format!(
                "floor: {HANDOVER_STATEMENTS} statements as one closure on a rusqlite writer (one hop), round trip"
            )[..],
            floor_one_hop_write,
        ),
        (
            &format!(
                "floor: {HANDOVER_STATEMENTS} statements as one closure (one hop), round trip at {}/s",
                o.rate
            )[..],
            floor_one_hop_at_rate,
        ),
        (
            &format!("handover → assigned at socket ({}/s)", o.rate)[..],
            event_latency,
        ),
        (
            &format!("handover → its answer ({}/s)", o.rate)[..],
            handover_latency.to_answer,
        ),
        (
            &format!("one event → each of {} sockets", o.sockets)[..],
            fanout,
        ),
        (
            &format!("routing report, 30 of 365 days, {} chats", o.report_history)[..],
            report,
        ),
    ] {
        println!(
            "{name:<78} {:>9.2} {:>9.2} {:>9.2}",
            s.p50_ms, s.p99_ms, s.max_ms
        );
    }
    let ratios = json!({
        "round_robin_over_floor": round_robin.per_second / floor_run.per_second,
        "lightest_load_over_floor": lightest_load.per_second / floor_run.per_second,
        "round_robin_over_same_size_floor": round_robin.per_second / floor_handover_sized.per_second,
        "event_p99_over_healthz_p99": event_latency.p99_ms / healthz.p99_ms,
        "large_history_over_small": large.per_second / round_robin.per_second,
        "round_robin_over_one_hop_floor": round_robin.per_second / floor_one_hop.per_second,
        "lightest_load_over_round_robin": lightest_load.per_second / round_robin.per_second,
        "handover_to_assigned_p99_over_one_hop_round_trip_p99": event_latency.p99_ms / floor_one_hop_write.p99_ms,
        "handover_to_assigned_p99_over_one_hop_round_trip_p99_at_the_same_rate": event_latency.p99_ms / floor_one_hop_at_rate.p99_ms,
    });
    println!(
        "memory: RSS idle {rss_idle:.1} MiB, with {} sockets {rss_sockets:.1} MiB",
        o.sockets
    );
    println!(
        "queue: {} chats drained to {} teammates (capacity {} each) in {:.0} ms; over capacity: {}",
        drain.queued, drain.operators, drain.capacity, drain.drain_ms, drain.over_capacity
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
            "floor_one_hop": floor_one_hop,
            "floor_one_hop_round_trip": floor_one_hop_write,
            "floor_one_hop_round_trip_at_rate": floor_one_hop_at_rate,
            "handover_to_event": event_latency,
            "handover_to_answer": handover_latency.to_answer,
            "fanout": fanout,
            "routing_report_30_days": report,
            "rss_idle_mib": rss_idle,
            "rss_with_sockets_mib": rss_sockets,
            "queue_drain": drain,
            "ratios": ratios,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).expect("write JSON");
    }
    // The floor's server thread still has its databases open; unlinking them is fine.
    let _ = std::fs::remove_dir_all(floor_dir());
}
