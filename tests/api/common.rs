//! Boots the real server in the test's own process, on a random port against a fresh
//! database; the client it is talked to with is the kit's (`tests/kit`).

use std::net::SocketAddr;
use std::time::Duration;

use switchboard::app::App;
use switchboard::config::Config;
use tokio::sync::oneshot;

// The kit's pieces, so that test modules import from one place.
pub use crate::kit::{
    Api, Chat, Credential, Db, IfAssignee, Node, Op, Socket, TestDb, Widget, client, free_port,
    identity, paths, token_of, user_hash,
};

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

pub fn config(database_url: &str, listen: SocketAddr) -> Config {
    Config {
        listen,
        database_url: database_url.to_owned(),
        metrics_listen: None,
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
        visitor_email_delay_secs: 300,
        public_url: None,
        allow_signup: true,
        trusted_proxies: Vec::new(),
        header_timeout_secs: 10,
        idle_timeout_secs: 60,
        max_connections: None,
        presence_grace_secs: 120,
        allow_short_timers: true,
    }
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
            api: Api::new(format!("http://{addr}")),
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

    /// Stops the server, waits `pause` with nothing listening, then starts it again on the
    /// same address and database.
    pub async fn restart_after(mut self, pause: Duration) -> TestServer {
        self.halt().await;
        tokio::time::sleep(pause).await;
        self.restart(|_| {}).await
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

impl std::ops::Deref for TestServer {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}
