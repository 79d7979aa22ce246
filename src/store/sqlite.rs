//! The embedded SQLite database: one writer connection, which this process's write
//! transactions hold one at a time and commit in groups (`writer.rs`), and read connections
//! beside it (WAL lets reads run while a write does). Statements run synchronously on the
//! connection held (`sql.rs`), so a write transaction runs from start to end on the thread
//! that polls its use case.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha384};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::writer::{Writer, WriterGuard};
use super::{Migration, NO_TRANSACTION, PoolConnections, StoreError, StoreResult};

/// How long a statement waits for another process's write lock (an admin command, a backup)
/// before it fails as busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Statements kept prepared per connection: more than the store has, so none is prepared twice.
const STATEMENT_CACHE: usize = 512;
/// How often the WAL is copied back into the database file (`checkpoints`).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

pub struct Sqlite {
    writer: Arc<Writer>,
    readers: Arc<Readers>,
    /// Dropped with the store, which ends the checkpoint thread.
    _checkpoints: std::sync::mpsc::Sender<()>,
}

struct Readers {
    path: PathBuf,
    flags: OpenFlags,
    idle: std::sync::Mutex<Vec<Connection>>,
    slots: Arc<Semaphore>,
    max: u32,
}

impl Sqlite {
    /// Opens `sqlite:PATH` (or `sqlite://PATH`), creating the file unless `?mode=rw` or
    /// `?mode=ro` says not to.
    pub fn open(url: &str, max_readers: u32) -> StoreResult<Sqlite> {
        let (path, flags) = parse_url(url)?;
        let writer = open_connection(&path, flags)?;
        // The writer never checkpoints: a checkpoint writes the database file and waits for
        // the disk, and on the writer it would hold up every write transaction meanwhile.
        // Its sub-journal (the pages a savepoint or a statement may have to put back, a
        // transaction's worth of pages under group commit) stays in memory: spilled to a
        // temporary file past 64 KiB, its writes were a fifth of the server's time.
        writer
            .execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY")
            .map_err(super::sql::DbError::from)?;
        let checkpointer = open_connection(&path, flags)?;
        let (stop, stopped) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-checkpoints".into())
            .spawn(move || checkpoints(&checkpointer, &stopped))
            .map_err(|e| StoreError::Migrate(format!("cannot start the checkpoint thread: {e}")))?;
        let max = max_readers.max(1);
        Ok(Sqlite {
            writer: Writer::new(writer),
            readers: Arc::new(Readers {
                path,
                flags,
                idle: std::sync::Mutex::default(),
                slots: Arc::new(Semaphore::new(max as usize)),
                max,
            }),
            _checkpoints: stop,
        })
    }

    /// The writer connection, once every earlier write transaction of this process is done.
    pub async fn writer(&self) -> WriterGuard {
        self.writer.take().await
    }

    /// A read connection, opened when none is idle (up to the limit, then waited for).
    pub async fn reader(&self) -> StoreResult<ReaderLease> {
        let slot = self
            .readers
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the reader semaphore is never closed");
        let idle = self.readers.idle.lock().expect("readers lock").pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_connection(&self.readers.path, self.readers.flags)?,
        };
        Ok(ReaderLease {
            conn: Some(conn),
            readers: self.readers.clone(),
            _slot: slot,
        })
    }

    /// Applies the migrations not yet applied, each in a transaction of its own unless it
    /// manages its own. The record of them is the `_sqlx_migrations` table that earlier
    /// versions (which migrated through sqlx) kept, in the same form, so their files carry on.
    pub async fn migrate(&self, migrations: &[Migration]) -> StoreResult<()> {
        let writer = self.writer().await;
        let conn: &Connection = &writer;
        let failed = |e: rusqlite::Error| StoreError::Migrate(e.to_string());
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations ( \
                 version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
                 installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
                 success BOOLEAN NOT NULL, checksum BLOB NOT NULL, \
                 execution_time BIGINT NOT NULL)",
        )
        .map_err(failed)?;
        let applied: Vec<(i64, bool)> = conn
            .prepare("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()
            })
            .map_err(failed)?;
        for (version, success) in &applied {
            if !migrations.iter().any(|m| m.version == *version) {
                return Err(StoreError::Migrate(format!(
                    "the database was migrated to version {version} by a newer Switchboard"
                )));
            }
            if !success {
                return Err(StoreError::Migrate(format!(
                    "migration {version} was left half-applied; restore a backup"
                )));
            }
        }
        for migration in migrations {
            if applied.iter().any(|(v, _)| *v == migration.version) {
                continue;
            }
            let started = Instant::now();
            let own_transaction = migration.sql.starts_with(NO_TRANSACTION);
            let run = || -> rusqlite::Result<()> {
                conn.execute_batch(migration.sql)?;
                conn.execute(
                    "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                     VALUES (?1, ?2, TRUE, ?3, ?4)",
                    rusqlite::params![
                        migration.version,
                        migration.description,
                        Sha384::digest(migration.sql.as_bytes()).to_vec(),
                        i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX),
                    ],
                )?;
                Ok(())
            };
            if own_transaction {
                run()
            } else {
                conn.execute_batch("BEGIN IMMEDIATE")
                    .and_then(|()| run())
                    .and_then(|()| conn.execute_batch("COMMIT"))
            }
            .map_err(|e| {
                StoreError::Migrate(format!("migration {} failed: {e}", migration.version))
            })?;
        }
        Ok(())
    }

    pub fn connections(&self) -> PoolConnections {
        let idle_readers = self.readers.idle.lock().expect("readers lock").len() as u32;
        let leased = self.readers.max - self.readers.slots.available_permits() as u32;
        let writing = u32::from(self.writer.busy());
        PoolConnections {
            in_use: leased + writing,
            idle: idle_readers + 1 - writing,
        }
    }
}

/// A read connection, back to the idle ones when dropped.
pub struct ReaderLease {
    conn: Option<Connection>,
    readers: Arc<Readers>,
    _slot: OwnedSemaphorePermit,
}

impl Deref for ReaderLease {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("a lease holds its connection")
    }
}

impl Drop for ReaderLease {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.readers.idle.lock().expect("readers lock").push(conn);
        }
    }
}

/// Copies committed pages from the WAL back into the database file every `CHECKPOINT_EVERY`,
/// on a connection and thread of its own, until the store is dropped. A passive checkpoint
/// never waits for the writer or readers; the WAL starts over once it has all been copied.
fn checkpoints(conn: &Connection, stopped: &std::sync::mpsc::Receiver<()>) {
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
        stopped.recv_timeout(CHECKPOINT_EVERY)
    {
        if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)") {
            tracing::debug!(error = %e, "SQLite checkpoint failed; trying again shortly");
        }
    }
}

fn open_connection(path: &PathBuf, flags: OpenFlags) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(path, flags).map_err(super::sql::DbError::from)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
    )
    .map_err(super::sql::DbError::from)?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(super::sql::DbError::from)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// `sqlite:PATH`, `sqlite://PATH` or `sqlite:///ABSOLUTE`, with an optional `?mode=rwc|rw|ro`
/// (rwc, create the file if missing, by default).
fn parse_url(url: &str) -> StoreResult<(PathBuf, OpenFlags)> {
    let unsupported = || StoreError::UnsupportedUrl(url.to_owned());
    let rest = url.strip_prefix("sqlite:").ok_or_else(unsupported)?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path.contains(":memory:") {
        return Err(unsupported());
    }
    let base = OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut flags = base | OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
    for option in options.split('&').filter(|o| !o.is_empty()) {
        flags = match option {
            "mode=rwc" => base | OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
            "mode=rw" => base | OpenFlags::SQLITE_OPEN_READ_WRITE,
            "mode=ro" => base | OpenFlags::SQLITE_OPEN_READ_ONLY,
            _ => return Err(unsupported()),
        };
    }
    Ok((PathBuf::from(path), flags))
}

#[cfg(test)]
mod tests {
    use rusqlite::OpenFlags;

    use super::parse_url;

    #[test]
    fn urls_name_the_file_and_create_it_unless_told_otherwise() {
        let (path, flags) = parse_url("sqlite:a.db").unwrap();
        assert_eq!(path.to_str(), Some("a.db"));
        assert!(flags.contains(OpenFlags::SQLITE_OPEN_CREATE));
        let (path, _) = parse_url("sqlite:///var/lib/sb.db").unwrap();
        assert_eq!(path.to_str(), Some("/var/lib/sb.db"));
        let (path, _) = parse_url("sqlite://data/sb.db").unwrap();
        assert_eq!(path.to_str(), Some("data/sb.db"));
        let (_, flags) = parse_url("sqlite:a.db?mode=ro").unwrap();
        assert!(flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY));
        assert!(!flags.contains(OpenFlags::SQLITE_OPEN_CREATE));
        assert!(parse_url("sqlite::memory:").is_err());
        assert!(parse_url("sqlite:a.db?cache=shared").is_err());
    }
}
