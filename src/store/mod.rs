//! All SQL lives here: one `Store` over the embedded SQLite file (rusqlite) or PostgreSQL
//! (sqlx), and one way to run a statement on either (`sql.rs`), so the same statements serve
//! both. Statements use `$n` placeholders, which both accept, and only types both share:
//! 64-bit integers, text and NULL. Times are epoch milliseconds. Where the backends must
//! differ, this file says so: the migrations, the connections, the errors that mean
//! "unavailable", and the SQL clauses on `Backend`.

pub mod chat_links;
pub mod conversations;
pub mod events;
pub mod gauges;
pub mod invitations;
pub mod notifications;
pub mod operators;
mod outage;
pub mod password_resets;
mod pg_batch;
pub mod reads;
pub mod records;
pub mod reports;
pub mod sessions;
pub mod sql;
mod sqlite;
pub mod timers;
pub mod visitor_streams;
pub mod visitors;
pub mod widgets;
pub mod workspaces;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Connection as _, Executor as _, Postgres, SqlSafeStr};

pub use records::*;
pub use sql::DbError;

use self::pg_batch::{Batch, Deferred, Prepared};
use self::sql::Connection;
use self::sqlite::{ReaderLease, Sqlite};
use self::writer::WriterGuard;
use crate::domain::Id;

/// How long a request may wait for a pooled connection (and the server, at start-up, for the
/// database).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// A pooled PostgreSQL connection idle this long is pinged before it is lent: busy ones are
/// in use every few milliseconds, and a request that meets a connection lost since fails
/// with a 503 the client retries.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);
/// While waiting, how often the wait checks that others are getting connections: if nobody
/// got one during this long, the database cannot be reached and the request gets its 503.
const PROGRESS_CHECK: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] DbError),
    /// No connection could be had: PostgreSQL refused, dropped or garbled the handshake (while
    /// it shuts down it can answer the TLS request with bytes sqlx cannot read), or the pool
    /// gave up waiting. Whatever the cause, the database cannot be reached now.
    #[error("no database connection could be had: {0}")]
    Unreachable(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(String),
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://...")]
    UnsupportedUrl(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Database(DbError::Postgres(e))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Database(DbError::Sqlite(e))
    }
}

impl StoreError {
    /// The database could not be reached, went away mid-request (PostgreSQL shutting down or
    /// restarting, a dropped connection) or is too busy: worth trying again shortly, unlike a
    /// refused statement.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unreachable(_) => true,
            StoreError::Database(DbError::Postgres(e)) => is_unavailable_postgres(e),
            StoreError::Database(DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _))) => {
                matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                )
            }
            _ => false,
        }
    }

    /// A UNIQUE constraint refused the write (e.g. an email already in use).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(DbError::Postgres(sqlx::Error::Database(e))) => {
                e.is_unique_violation()
            }
            StoreError::Database(DbError::Sqlite(rusqlite::Error::SqliteFailure(e, _))) => {
                matches!(
                    e.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                )
            }
            _ => false,
        }
    }
}

fn is_unavailable_postgres(e: &sqlx::Error) -> bool {
    match e {
        // (A connection that could not be had at all is `StoreError::Unreachable`.)
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            // Class 08 (connection exception), 57P01-03 (admin shutdown, crash shutdown,
            // cannot connect now).
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
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

    /// The statement that takes the workspace's lock, if the backend needs one. On PostgreSQL
    /// it is a transaction-scoped advisory lock, queued in the lock manager, which grants it
    /// to the next waiter at commit; a lock on the workspace's row (an `UPDATE` of it) woke
    /// every waiter at each commit to race for the row's new version, which tripled the p99 of
    /// 16 concurrent handovers on one workspace (BENCHMARKS.md). Its key is the pair
    /// (1937204322, an arbitrary constant meaning "a workspace", and the id): advisory locks
    /// keyed by a pair never meet those keyed by one number, such as the migrator's. On SQLite
    /// the transaction already holds the database's write lock (`BEGIN IMMEDIATE`), which
    /// serialises it with every other write.
    fn lock_workspace_sql(self) -> Option<&'static str> {
        match self {
            Backend::Postgres => Some("SELECT pg_advisory_xact_lock(1937204322, ($1)::int4)"),
            Backend::Sqlite => None,
        }
    }
}

/// One migration, in the SQL of the backend it is for.
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
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
    12 "operators' load kept by the database" "0012_open_load.sql",
];

/// A migration that manages its own transaction (SQLite's table rebuilds turn foreign keys off,
/// which cannot be done inside one) starts with this line, as in sqlx's migration files.
const NO_TRANSACTION: &str = "-- no-transaction";

fn migrations(backend: Backend) -> Vec<Migration> {
    MIGRATIONS
        .iter()
        .map(|(version, description, sqlite, postgres)| Migration {
            version: *version,
            description,
            sql: match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            },
        })
        .collect()
}

#[derive(Clone)]
pub struct Store {
    database: Database,
    acquired: Arc<LastAcquired>,
    outage: Arc<outage::Outage>,
}

#[derive(Clone)]
enum Database {
    Sqlite(Arc<Sqlite>),
    /// The pool, and what its connections have prepared for write transactions (`pg_batch.rs`).
    Postgres(PgPool, Arc<Prepared>),
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
    /// (the file is created when missing). SQLite runs in WAL mode with foreign keys on;
    /// `max_connections` bounds PostgreSQL's pool, or SQLite's read connections.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Store> {
        let database = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let prepared = Arc::new(Prepared::default());
            let opened = prepared.clone();
            Database::Postgres(
                PgPoolOptions::new()
                    .max_connections(max_connections)
                    // A slow acquire is what an outage or a busy database looks like; the
                    // store says so itself, once (outage.rs).
                    .acquire_slow_level(log::LevelFilter::Debug)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    // sqlx pings every connection it lends, a round trip per request (three
                    // of a visitor's handover); only one that sat idle is pinged, which is
                    // one that can have died unnoticed (PostgreSQL restarted meanwhile).
                    .test_before_acquire(false)
                    .before_acquire(|conn, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= PING_IF_IDLE_FOR {
                                conn.ping().await?;
                            }
                            Ok(true)
                        })
                    })
                    // Deferred writes are sent with their values as literals (`sql.rs`), which
                    // relies on this (PostgreSQL's default, but a setting all the same); and
                    // whatever was prepared on a connection with this one's process id is not
                    // prepared on this one.
                    .after_connect(move |conn, _meta| {
                        let opened = opened.clone();
                        Box::pin(async move {
                            conn.execute("SET standard_conforming_strings = on").await?;
                            let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
                                .fetch_one(&mut *conn)
                                .await?;
                            if let Ok(pid) = u32::try_from(pid) {
                                opened.opened(pid);
                            }
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?,
                prepared,
            )
        } else if url.starts_with("sqlite:") {
            Database::Sqlite(Arc::new(Sqlite::open(url, max_connections)?))
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        Ok(Store::over(database))
    }

    fn over(database: Database) -> Store {
        Store {
            database,
            acquired: Arc::new(LastAcquired {
                opened: Instant::now(),
                at: AtomicU64::new(0),
            }),
            outage: Arc::default(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.database {
            Database::Sqlite(_) => Backend::Sqlite,
            Database::Postgres(..) => Backend::Postgres,
        }
    }

    /// Applies pending migrations. Safe to run from several processes at once on PostgreSQL
    /// (sqlx takes an advisory lock).
    pub async fn migrate(&self) -> StoreResult<()> {
        let migrations = migrations(self.backend());
        match &self.database {
            Database::Sqlite(sqlite) => sqlite.migrate(&migrations).await,
            Database::Postgres(pool, _) => {
                let migrator = sqlx::migrate::Migrator::with_migrations(
                    migrations
                        .iter()
                        .map(|m| {
                            sqlx::migrate::Migration::new(
                                m.version,
                                m.description.into(),
                                sqlx::migrate::MigrationType::Simple,
                                m.sql.into_sql_str(),
                                m.sql.starts_with(NO_TRANSACTION),
                            )
                        })
                        .collect(),
                );
                migrator
                    .run(pool)
                    .await
                    .map_err(|e| StoreError::Migrate(e.to_string()))
            }
        }
    }

    /// A connection for reads.
    pub async fn read(&self) -> StoreResult<Db> {
        Ok(Db(match &self.database {
            Database::Sqlite(sqlite) => Handle::SqliteReader(sqlite.reader().await?),
            Database::Postgres(pool, _) => Handle::Postgres(self.patiently(pool.acquire()).await?),
        }))
    }

    /// Runs `read` on a read connection. On SQLite its statements run on the thread polling
    /// it, and a long read (a report over a year of history) would hold up the other tasks
    /// queued on that thread: the runtime hands those to another thread first.
    pub async fn long_read<T>(
        &self,
        read: impl AsyncFnOnce(&mut Db) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut db = self.read().await?;
        let runtime = tokio::runtime::Handle::current();
        match (&self.database, runtime.runtime_flavor()) {
            (Database::Sqlite(_), tokio::runtime::RuntimeFlavor::MultiThread) => {
                tokio::task::block_in_place(|| runtime.block_on(read(&mut db)))
            }
            _ => read(&mut db).await,
        }
    }

    /// Waits for `acquire` (which takes a pooled connection) while the database is up, for as
    /// long as the pool allows; but once nobody has got a connection for `PROGRESS_CHECK`, the
    /// database cannot be reached and this gives up at once. The one pending acquire keeps the
    /// request's place in the pool's queue.
    async fn patiently<T>(
        &self,
        acquire: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> StoreResult<T> {
        let mut acquire = std::pin::pin!(acquire);
        // The first check is one period away. (An interval's first tick is "at once", but it
        // is a timer all the same, which fires on the runtime's next millisecond: awaiting it
        // cost every acquire up to a millisecond's sleep.)
        let mut checks =
            tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_CHECK, PROGRESS_CHECK);
        loop {
            let since = self.acquired.elapsed_millis();
            tokio::select! {
                result = &mut acquire => {
                    return match result {
                        Ok(conn) => {
                            self.acquired.mark();
                            self.outage.succeeded();
                            Ok(conn)
                        }
                        Err(e) => {
                            self.outage.failed(&e);
                            Err(StoreError::Unreachable(e))
                        }
                    };
                }
                _ = checks.tick() => {
                    if self.acquired.last() <= since {
                        self.outage.failed(&"no connection could be had");
                        return Err(StoreError::Unreachable(sqlx::Error::PoolTimedOut));
                    }
                }
            }
        }
    }

    /// Starts a write transaction. Every write goes through here. On SQLite it waits for this
    /// process's one writer connection and takes the database's write lock at once
    /// (`BEGIN IMMEDIATE`), so nothing it reads can be stale by the time it writes. On
    /// PostgreSQL its `BEGIN` waits to go with its first statement.
    pub async fn write(&self) -> StoreResult<WriteTx> {
        let db = match &self.database {
            Database::Sqlite(sqlite) => {
                let mut writer = sqlite.writer().await;
                writer.begin()?;
                Handle::SqliteWriter(writer)
            }
            Database::Postgres(pool, prepared) => Handle::PostgresTx(PgTx {
                conn: Some(self.patiently(pool.acquire()).await?),
                // Sent with the first statement (the workspace lock), not on its own.
                batch: Batch::begin(prepared.clone()),
            }),
        };
        Ok(WriteTx {
            db: Db(db),
            backend: self.backend(),
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
        let mut db = self.read().await?;
        match db.connection() {
            Connection::Sqlite(conn) => conn.execute_batch("SELECT 1")?,
            Connection::Postgres(conn) | Connection::PostgresTx { conn, .. } => conn.ping().await?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        if let Database::Postgres(pool, _) = &self.database {
            pool.close().await;
        }
    }

    /// Writes a consistent, self-contained copy of the SQLite database to `path` (a new file),
    /// while other processes keep using it: `VACUUM INTO` reads one snapshot. Not for
    /// PostgreSQL, which has `pg_dump`.
    pub async fn backup_sqlite_into(&self, path: &str) -> StoreResult<()> {
        sql::query("VACUUM INTO $1")
            .bind(path)
            .execute(&mut self.read().await?)
            .await?;
        Ok(())
    }

    /// How many of this process's database connections are lent out and how many are idle.
    pub fn pool_connections(&self) -> PoolConnections {
        match &self.database {
            Database::Sqlite(sqlite) => sqlite.connections(),
            Database::Postgres(pool, _) => {
                let size = pool.size();
                let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(size);
                PoolConnections {
                    in_use: size - idle,
                    idle,
                }
            }
        }
    }
}

pub struct PoolConnections {
    pub in_use: u32,
    pub idle: u32,
}

/// A database connection lent to statements: a read connection or a write transaction's.
pub struct Db(Handle);

enum Handle {
    SqliteReader(ReaderLease),
    SqliteWriter(WriterGuard),
    Postgres(PoolConnection<Postgres>),
    PostgresTx(PgTx),
}

/// A PostgreSQL write transaction: its connection, and the statements it has yet to send
/// (`sql::Query::defer`). Dropped before it committed, it is rolled back on the connection
/// before the connection goes back to the pool.
struct PgTx {
    conn: Option<PoolConnection<Postgres>>,
    batch: Batch,
}

impl Drop for PgTx {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        if self.batch.unsent() {
            // There is no transaction to roll back.
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if conn.execute("ROLLBACK").await.is_err() {
                        conn.close_on_drop();
                    }
                });
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

impl Db {
    fn connection(&mut self) -> Connection<'_> {
        match &mut self.0 {
            Handle::SqliteReader(conn) => Connection::Sqlite(conn),
            Handle::SqliteWriter(conn) => Connection::Sqlite(conn),
            Handle::Postgres(conn) => Connection::Postgres(conn),
            Handle::PostgresTx(tx) => Connection::PostgresTx {
                conn: tx
                    .conn
                    .as_mut()
                    .expect("an open transaction has its connection"),
                batch: &mut tx.batch,
            },
        }
    }
}

/// A write transaction; rolled back when dropped without `commit`.
pub struct WriteTx {
    db: Db,
    backend: Backend,
    /// The workspace `lock_workspace` locked, if it did.
    locked: Option<Id>,
}

impl WriteTx {
    pub fn conn(&mut self) -> &mut Db {
        &mut self.db
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Serialises this transaction with every other one that locks the same workspace, on
    /// this process and on any other process sharing the database, until commit or rollback.
    /// It must come before the transaction's first statement (`Backend::lock_workspace_sql`).
    /// On PostgreSQL the lock is deferred: it travels in one message with that first statement,
    /// which runs as soon as the lock is granted, saving the round trip that used to follow the
    /// grant under the lock. Nothing checks that the workspace exists: the id comes from a
    /// record just read (a session, a widget, a deadline), and workspaces are never deleted.
    pub async fn lock_workspace(&mut self, workspace_id: Id) -> StoreResult<()> {
        if let Some(lock) = self.backend.lock_workspace_sql() {
            sql::query(lock)
                .bind(workspace_id)
                .defer(&mut self.db)
                .await?;
        }
        self.locked = Some(workspace_id);
        Ok(())
    }

    /// The workspace this transaction holds the lock of, if any.
    pub fn locked_workspace(&self) -> Option<Id> {
        self.locked
    }

    /// Commits.
    pub async fn commit(self) -> StoreResult<()> {
        self.commit_then(|| {}).await
    }

    /// Commits, then runs `after` (publishing the transaction's events), only if the commit
    /// succeeded. On SQLite, `after` runs in commit order: before that of any transaction that
    /// commits later in this process. The transaction may share its COMMIT with those queued
    /// behind it (`writer.rs`); it resolves when that COMMIT is done.
    pub async fn commit_then(self, after: impl FnOnce() + Send + 'static) -> StoreResult<()> {
        match self.db.0 {
            Handle::SqliteWriter(writer) => {
                writer.commit(Box::new(after)).await?;
                // The next transaction may have been woken onto this thread, where it would
                // wait for the rest of this request, which never yields (SQLite reads complete
                // at once) while the writer sits idle.
                tokio::task::yield_now().await;
                Ok(())
            }
            Handle::PostgresTx(mut tx) => {
                // The deferred statements and the COMMIT, in one message: if one fails, the
                // rest are skipped and dropping `tx` rolls back.
                let conn = tx
                    .conn
                    .as_mut()
                    .expect("an open transaction has its connection");
                tx.batch
                    .send(conn, Deferred::Fixed("COMMIT"))
                    .await
                    .map_err(StoreError::from)?;
                drop(tx.conn.take());
                after();
                Ok(())
            }
            Handle::SqliteReader(_) | Handle::Postgres(_) => {
                unreachable!("a write transaction holds a writer")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::postgres::PgPoolOptions;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::{Database, Store};

    /// A PostgreSQL that is shutting down can answer a new connection's TLS request with a
    /// byte sqlx cannot read (seen in the outage test as a 500): that is the database being
    /// unreachable, a 503, like a refused or dropped connection.
    #[tokio::test]
    async fn a_garbled_handshake_is_the_database_being_unreachable() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut ssl_request = [0_u8; 8];
                if socket.read_exact(&mut ssl_request).await.is_ok() {
                    let _ = socket.write_all(&[0]).await;
                }
            }
        });
        let pool = PgPoolOptions::new()
            .acquire_timeout(Duration::from_secs(3))
            .connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/test"))
            .unwrap();
        let store = Store::over(Database::Postgres(pool, std::sync::Arc::default()));
        let read = store.read().await.err().expect("no connection");
        assert!(read.is_unavailable(), "{read}");
        let write = store.write().await.err().expect("no connection");
        assert!(write.is_unavailable(), "{write}");
    }
}
