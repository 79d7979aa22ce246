//! All SQL lives here: one `Store` over sqlx's `Any` driver, so the same statements run on the
//! embedded SQLite file and on PostgreSQL. Statements use `$n` placeholders, which both accept,
//! and only types both share: 64-bit integers, text and NULL. Times are epoch milliseconds.
//! Where the backends must differ, this file says so: the migrations, the connection setup,
//! the errors that mean "unavailable", and the SQL clauses on `Backend`.

pub mod chat_links;
pub mod conversations;
pub mod events;
pub mod gauges;
pub mod invitations;
pub mod notifications;
pub mod operators;
mod outage;
pub mod password_resets;
pub mod reads;
pub mod records;
pub mod reports;
pub mod sessions;
pub mod timers;
pub mod visitor_streams;
pub mod visitors;
pub mod widgets;
pub mod workspaces;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Connection, Executor, SqlSafeStr, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use records::*;

use crate::domain::Id;

/// How long a request may wait for a pooled connection (and the server, at start-up, for the
/// database).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// While waiting, how often the wait checks that others are getting connections: if nobody
/// got one during this long, the database cannot be reached and the request gets its 503.
const PROGRESS_CHECK: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://...")]
    UnsupportedUrl(String),
}

impl StoreError {
    /// The database could not be reached, went away mid-request (PostgreSQL shutting down or
    /// restarting, a dropped connection) or is too busy: worth trying again shortly, unlike a
    /// refused statement.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(e) => StoreError::is_unavailable_sqlx(e),
            _ => false,
        }
    }

    fn is_unavailable_sqlx(e: &sqlx::Error) -> bool {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => true,
            sqlx::Error::Database(e) => e.code().is_some_and(|code| {
                // PostgreSQL: class 08 (connection exception), 57P01-03 (admin shutdown,
                // crash shutdown, cannot connect now). SQLite: 5 and 6 (busy, locked).
                code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "5" | "6")
            }),
            _ => false,
        }
    }

    /// A UNIQUE constraint refused the write (e.g. an email already in use).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The statements' dialect differences, each stated once.
impl Backend {
    /// Ends a `SELECT` of rows a worker is about to lease. On PostgreSQL, rows another node's
    /// transaction is leasing right now are skipped rather than waited for, so no two nodes
    /// take the same row; SQLite needs nothing, as its single writer already serialises leases.
    fn lease_clause(self) -> &'static str {
        match self {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }
}

/// Embeds each migration for both backends: `version "description" "file name"`.
macro_rules! migrations {
    ($($version:literal $name:literal $file:literal),* $(,)?) => {
        &[$((
            $version,
            $name,
            include_str!(concat!("../../migrations/sqlite/", $file)),
            include_str!(concat!("../../migrations/postgres/", $file)),
        )),*]
    };
}

/// (version, description, SQLite SQL, PostgreSQL SQL).
const MIGRATIONS: &[(i64, &str, &str, &str)] = migrations![
    1 "core" "0001_core.sql",
    2 "events" "0002_events.sql",
    3 "notifications" "0003_notifications.sql",
    4 "widget and AI" "0004_widget_ai.sql",
    5 "email per workspace" "0005_email_per_workspace.sql",
    6 "AI turn lease" "0006_ai_turn_lease.sql",
    7 "team" "0007_team.sql",
    8 "visitors" "0008_visitors.sql",
    9 "workload" "0009_workload.sql",
    10 "inbox: read markers, email delay" "0010_inbox.sql",
    11 "reaching visitors, routing report" "0011_reach.sql",
];

/// A migration that manages its own transaction (SQLite's table rebuilds turn foreign keys off,
/// which cannot be done inside one) starts with this line, as in sqlx's migration files.
const NO_TRANSACTION: &str = "-- no-transaction";

fn migrator(backend: Backend) -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|(version, description, sqlite, postgres)| {
                let sql = match backend {
                    Backend::Sqlite => sqlite,
                    Backend::Postgres => postgres,
                };
                Migration::new(
                    *version,
                    (*description).into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    sql.starts_with(NO_TRANSACTION),
                )
            })
            .collect(),
    )
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time. Queueing writers here, in order, is fairer and far
    /// cheaper than letting them collide on the file lock and sleep in SQLite's busy handler.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    acquired: Arc<LastAcquired>,
    outage: Arc<outage::Outage>,
}

/// When a connection was last handed out, in milliseconds since the store opened.
struct LastAcquired {
    opened: Instant,
    at: AtomicU64,
}

impl LastAcquired {
    fn elapsed_millis(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64
    }

    fn mark(&self) {
        self.at.fetch_max(self.elapsed_millis(), Ordering::Relaxed);
    }

    fn last(&self) -> u64 {
        self.at.load(Ordering::Relaxed)
    }
}

impl Store {
    /// Opens the database named by `url`: `postgres://…` / `postgresql://…`, or `sqlite:PATH`
    /// (the file is created when missing). SQLite runs in WAL mode with foreign keys on.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let options = AnyPoolOptions::new()
            .max_connections(max_connections)
            // A slow acquire is what an outage or a busy database looks like; the store says
            // so itself, once (outage.rs).
            .acquire_slow_level(log::LevelFilter::Debug)
            .acquire_timeout(ACQUIRE_TIMEOUT);
        let pool = match backend {
            Backend::Postgres => options.connect(url).await?,
            Backend::Sqlite => {
                // A SQLite connection is a file handle on this machine: there is no link to
                // test, and the test is one more round trip to the connection's thread.
                options
                    .test_before_acquire(false)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                                 PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&sqlite_url_creating_file(url))
                    .await?
            }
        };
        Ok(Store {
            pool,
            backend,
            sqlite_writer: (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(()))),
            acquired: Arc::new(LastAcquired {
                opened: Instant::now(),
                at: AtomicU64::new(0),
            }),
            outage: Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations. Safe to run from several processes at once on PostgreSQL
    /// (sqlx takes an advisory lock).
    pub async fn migrate(&self) -> StoreResult<()> {
        let migrator = migrator(self.backend);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// A connection for reads.
    pub async fn read(&self) -> StoreResult<PoolConnection<Any>> {
        Ok(self.patiently(self.pool.acquire()).await?)
    }

    /// Waits for `acquire` (which takes a pooled connection) while the database is up, for as
    /// long as the pool allows; but once nobody has got a connection for `PROGRESS_CHECK`, the
    /// database cannot be reached and this gives up at once. The one pending acquire keeps the
    /// request's place in the pool's queue.
    async fn patiently<T>(
        &self,
        acquire: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, sqlx::Error> {
        let mut acquire = std::pin::pin!(acquire);
        let mut checks = tokio::time::interval(PROGRESS_CHECK);
        checks.tick().await;
        loop {
            let since = self.acquired.elapsed_millis();
            tokio::select! {
                result = &mut acquire => {
                    match &result {
                        Ok(_) => {
                            self.acquired.mark();
                            self.outage.succeeded();
                        }
                        Err(e) if StoreError::is_unavailable_sqlx(e) => self.outage.failed(e),
                        Err(_) => {}
                    }
                    return result;
                }
                _ = checks.tick() => {
                    if self.acquired.last() <= since {
                        self.outage.failed(&"no connection could be had");
                        return Err(sqlx::Error::PoolTimedOut);
                    }
                }
            }
        }
    }

    /// Starts a write transaction. Every write goes through here.
    pub async fn write(&self) -> StoreResult<WriteTx> {
        let guard = match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let tx = self.patiently(self.pool.begin()).await?;
        Ok(WriteTx {
            tx,
            backend: self.backend,
            guard,
            locked: None,
        })
    }

    /// Resolves when the database, having been unreachable, can be reached again: work that
    /// retries through an outage waits for this as well as for its backoff.
    pub async fn reachable_again(&self) {
        self.outage.reachable_again().await;
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        self.read().await?.ping().await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Writes a consistent, self-contained copy of the SQLite database to `path` (a new file),
    /// while other processes keep using it: `VACUUM INTO` reads one snapshot. Not for
    /// PostgreSQL, which has `pg_dump`.
    pub async fn backup_sqlite_into(&self, path: &str) -> StoreResult<()> {
        sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(&mut *self.read().await?)
            .await?;
        Ok(())
    }

    /// How many of this process's database connections are lent out and how many are idle.
    pub fn pool_connections(&self) -> PoolConnections {
        let size = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle())
            .unwrap_or(u32::MAX)
            .min(size);
        PoolConnections {
            in_use: size - idle,
            idle,
        }
    }
}

pub struct PoolConnections {
    pub in_use: u32,
    pub idle: u32,
}

/// Lets sqlx create a missing SQLite file, as a new user running `serve` expects.
fn sqlite_url_creating_file(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// A write transaction; rolled back when dropped without `commit`.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    guard: Option<OwnedMutexGuard<()>>,
    /// The workspace `lock_workspace` locked, if it did.
    locked: Option<Id>,
}

/// A committed write. On SQLite it keeps this process's writer slot until dropped, so what the
/// caller does with it (publishing the transaction's events) happens in commit order.
pub struct Committed {
    _guard: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Serialises this transaction with every other one that locks the same workspace, on
    /// this process and on any other process sharing the database, until commit or rollback.
    /// It must be the transaction's first statement: on PostgreSQL it takes the workspace
    /// row's lock; on SQLite, as the first statement, a write takes the database's write lock
    /// before anything was read, so no decision is made on a stale snapshot.
    ///
    /// Returns false when the workspace does not exist.
    pub async fn lock_workspace(&mut self, workspace_id: Id) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE workspaces SET lock_seq = lock_seq + 1 WHERE id = $1")
            .bind(workspace_id)
            .execute(&mut *self.tx)
            .await?;
        let locked = done.rows_affected() == 1;
        if locked {
            self.locked = Some(workspace_id);
        }
        Ok(locked)
    }

    /// The workspace this transaction holds the lock of, if any.
    pub fn locked_workspace(&self) -> Option<Id> {
        self.locked
    }

    pub async fn commit(self) -> StoreResult<Committed> {
        self.tx.commit().await?;
        Ok(Committed { _guard: self.guard })
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_url_creating_file;

    #[test]
    fn sqlite_urls_create_the_file_unless_told_otherwise() {
        assert_eq!(
            sqlite_url_creating_file("sqlite:a.db"),
            "sqlite:a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating_file("sqlite:a.db?cache=shared"),
            "sqlite:a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating_file("sqlite:a.db?mode=ro"),
            "sqlite:a.db?mode=ro"
        );
    }
}
