//! The SQLite writer: this process's one write connection, lent to one write transaction at a
//! time in the order they asked for it, and the group commit that lets transactions queued
//! behind each other share one COMMIT.
//!
//! The first transaction of a group begins an outer transaction (`BEGIN IMMEDIATE`), which
//! stays open while others wait for the writer; each one after it runs in a savepoint of its
//! own inside it. A transaction that is done (releasing its savepoint, if it has one) joins
//! the group and lends the writer to the next one. When nobody waits (or the
//! group is full), the one releasing the writer COMMITs for the whole group, runs each
//! member's after-commit work in the order they committed (`Member::after`: publishing their
//! events), and tells each its outcome. So a group costs one COMMIT and one write of each page
//! it changed to the WAL, where each transaction paid for its own: hot pages (the newest rows
//! of the event log, the messages and the assignments; the widget's cursor; the team's loads)
//! were written once per transaction.
//!
//! What each transaction sees and gets is what it had alone:
//! - its outcome is its own: none is told it committed before the COMMIT that holds it is
//!   done, and a failing one undoes only itself: the first rolls back the outer transaction,
//!   which holds nothing else yet, any later one rolls back to its savepoint;
//! - transactions commit, and run their after-commit work, in the order they took the
//!   writer, so each workspace's decisions keep their order;
//! - if SQLite gives up the outer transaction (an I/O error, a full disk), or its COMMIT fails,
//!   every member of the group is told it failed, and nothing of theirs was acknowledged.

use std::collections::VecDeque;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::oneshot;

/// The most transactions one COMMIT carries: a bound on how long the first of them waits.
const MAX_GROUP: usize = 32;

/// What is done after a transaction's COMMIT, in commit order, only if it succeeded.
pub type AfterCommit = Box<dyn FnOnce() + Send>;

/// How a group's COMMIT went, as each of its members is told.
pub type GroupOutcome = Result<(), rusqlite::Error>;

pub struct Writer {
    state: Mutex<State>,
}

struct State {
    /// The connection, while no transaction holds it (and no outer transaction is open).
    idle: Option<Connection>,
    /// Transactions waiting for the writer, first come first served.
    waiting: VecDeque<oneshot::Sender<WriterGuard>>,
}

/// A transaction that is done and waits for the group's COMMIT.
struct Member {
    after: AfterCommit,
    outcome: oneshot::Sender<GroupOutcome>,
}

impl Writer {
    pub fn new(conn: Connection) -> Arc<Writer> {
        Arc::new(Writer {
            state: Mutex::new(State {
                idle: Some(conn),
                waiting: VecDeque::new(),
            }),
        })
    }

    /// The writer, once every transaction that asked for it before is done with it.
    pub async fn take(self: &Arc<Writer>) -> WriterGuard {
        let handed = {
            let mut state = self.state.lock().expect("writer lock");
            if let Some(conn) = state.idle.take() {
                return WriterGuard::new(self.clone(), conn, Vec::new());
            }
            let (hand, handed) = oneshot::channel();
            state.waiting.push_back(hand);
            handed
        };
        handed
            .await
            .expect("a waiting transaction is handed the writer or its sender is kept")
    }

    /// Whether a transaction holds the writer now.
    pub fn busy(&self) -> bool {
        self.state.lock().expect("writer lock").idle.is_none()
    }
}

/// The writer connection, held by one transaction. Dropped, it rolls back what that
/// transaction left open and passes the writer on (`WriterGuard::pass_on`).
pub struct WriterGuard {
    writer: Arc<Writer>,
    conn: Option<Connection>,
    /// The transactions done in the open outer transaction, waiting for its COMMIT.
    group: Vec<Member>,
    /// How this holder's transaction is open, if it is.
    open: Option<Scope>,
}

/// What a holder's transaction is, to undo it alone.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// It began the outer transaction, which holds nobody else's work: undone by rolling
    /// that back.
    Outer,
    /// A savepoint inside the group's open outer transaction: undone by rolling back to it.
    Savepoint,
}

impl Deref for WriterGuard {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("a guard holds the connection")
    }
}

impl WriterGuard {
    fn new(writer: Arc<Writer>, conn: Connection, group: Vec<Member>) -> WriterGuard {
        WriterGuard {
            writer,
            conn: Some(conn),
            group,
            open: None,
        }
    }

    /// Starts this holder's transaction. With no group's outer transaction open, it begins
    /// one, taking the database's write lock at once (`BEGIN IMMEDIATE`), and needs no
    /// savepoint: nothing else is in it to keep. A savepoint copies every page it changes
    /// to its sub-journal first, so a transaction that runs alone (any that finds nobody
    /// ahead of it) is spared that.
    pub fn begin(&mut self) -> rusqlite::Result<()> {
        let scope = if self.is_autocommit() {
            debug_assert!(
                self.group.is_empty(),
                "a group's work is in its open transaction"
            );
            self.execute_batch("BEGIN IMMEDIATE")?;
            Scope::Outer
        } else {
            self.execute_batch("SAVEPOINT tx")?;
            Scope::Savepoint
        };
        self.open = Some(scope);
        Ok(())
    }

    /// Ends this holder's transaction as part of the group, passes the writer on, and resolves
    /// when the COMMIT that carries it is done; `after` has run by then, if it succeeded.
    pub async fn commit(mut self, after: AfterCommit) -> rusqlite::Result<()> {
        match self.open {
            Some(Scope::Savepoint) => self.execute_batch("RELEASE tx")?,
            // SQLite gave the transaction up (an I/O error, a full disk): nothing of it is left
            // to commit, and joining the group would be told it committed.
            Some(Scope::Outer) if self.is_autocommit() => {
                return Err(aborted(Some("SQLite rolled the transaction back".into())));
            }
            Some(Scope::Outer) | None => {}
        }
        self.open = None;
        let (outcome, committed) = oneshot::channel();
        self.group.push(Member { after, outcome });
        drop(self);
        committed
            .await
            .unwrap_or_else(|_| Err(aborted(Some("the group commit was abandoned".into()))))
    }

    /// Commits the group now if nobody waits for the writer or the group is full, then hands
    /// the writer to the first transaction still waiting for it, or leaves it idle.
    fn pass_on(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let mut group = std::mem::take(&mut self.group);
        loop {
            let mut state = self.writer.state.lock().expect("writer lock");
            if state.waiting.is_empty() || group.len() >= MAX_GROUP {
                drop(state);
                finish(&conn, std::mem::take(&mut group));
                state = self.writer.state.lock().expect("writer lock");
            }
            let Some(hand) = state.waiting.pop_front() else {
                state.idle = Some(conn);
                return;
            };
            drop(state);
            match hand.send(WriterGuard::new(self.writer.clone(), conn, group)) {
                Ok(()) => return,
                // That transaction stopped waiting: the next one gets the writer.
                Err(mut back) => {
                    conn = back
                        .conn
                        .take()
                        .expect("an unsent guard holds the connection");
                    group = std::mem::take(&mut back.group);
                }
            }
        }
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        let Some(conn) = &self.conn else { return };
        match self.open.take() {
            // Nobody else's work is in the outer transaction it began: the group is empty.
            Some(Scope::Outer) => fail(conn, std::mem::take(&mut self.group), None),
            Some(Scope::Savepoint) => {
                // Undoes this transaction only; the group's earlier work stays.
                let undone = conn.execute_batch("ROLLBACK TO tx; RELEASE tx");
                if undone.is_err() || conn.is_autocommit() {
                    // SQLite gave up the whole outer transaction (or could not undo this
                    // one): the group's work is gone with it.
                    fail(conn, std::mem::take(&mut self.group), undone.err());
                }
            }
            None => {}
        }
        self.pass_on();
    }
}

/// COMMITs the group's outer transaction, runs the members' after-commit work in order and
/// tells each its outcome. With nobody in the group there is nothing to commit: an outer
/// transaction still open holds no one's finished work, and is rolled back.
fn finish(conn: &Connection, group: Vec<Member>) {
    if group.is_empty() {
        roll_back_outer(conn);
        return;
    }
    if let Err(e) = conn.execute_batch("COMMIT") {
        fail(conn, group, Some(e));
        return;
    }
    for member in group {
        (member.after)();
        let _ = member.outcome.send(Ok(()));
    }
}

/// Rolls back what is left of the outer transaction and tells every member it failed.
fn fail(conn: &Connection, group: Vec<Member>, error: Option<rusqlite::Error>) {
    roll_back_outer(conn);
    for member in group {
        let told = match &error {
            Some(rusqlite::Error::SqliteFailure(code, message)) => {
                rusqlite::Error::SqliteFailure(*code, message.clone())
            }
            other => aborted(other.as_ref().map(ToString::to_string)),
        };
        let _ = member.outcome.send(Err(told));
    }
}

/// Rolls back the outer transaction, if one is open. It can only fail when there is nothing
/// left to roll back.
fn roll_back_outer(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// The error a member is told when its group's work was lost for a reason SQLite did not name.
fn aborted(message: Option<String>) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
        message,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use rusqlite::Connection;

    use super::Writer;

    fn database() -> (std::path::PathBuf, Connection) {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "switchboard-writer-{}-{}.db",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; \
             CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL UNIQUE)",
        )
        .unwrap();
        (path, conn)
    }

    /// The values committed to the database, in ascending order, as another connection reads
    /// them.
    fn stored(path: &std::path::Path) -> Vec<i64> {
        Connection::open(path)
            .unwrap()
            .prepare("SELECT v FROM t ORDER BY v")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Every seventh transaction writes the value of the one before it: of each such pair, the
    /// one that comes second fails.
    fn value_of(i: i64) -> i64 {
        if i % 7 == 6 { i - 1 } else { i }
    }

    /// Transactions queued behind each other share COMMITs: each one's work and after-commit
    /// step survive or not by its own outcome, and the after-commit steps run in the order
    /// the transactions took the writer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_transactions_keep_their_own_outcomes_and_their_order() {
        let (path, conn) = database();
        let writer = Writer::new(conn);
        let took = Arc::new(Mutex::new(Vec::new()));
        let published = Arc::new(Mutex::new(Vec::new()));
        let tasks = (0..40_i64).map(|i| {
            let (writer, took, published) = (writer.clone(), took.clone(), published.clone());
            tokio::spawn(async move {
                let mut guard = writer.take().await;
                guard.begin().unwrap();
                took.lock().unwrap().push(i);
                let v = value_of(i);
                let inserted = guard.execute("INSERT INTO t (v) VALUES (?1)", [v]);
                // Others queue up behind this one meanwhile.
                tokio::task::yield_now().await;
                if inserted.is_err() {
                    return false;
                }
                guard
                    .commit(Box::new(move || published.lock().unwrap().push(i)))
                    .await
                    .unwrap();
                true
            })
        });
        let outcomes: Vec<bool> = futures_util::future::join_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let committed: Vec<i64> = (0..40).filter(|i| outcomes[*i as usize]).collect();
        assert_eq!(committed.len(), 40 - 5);
        let mut committed_values: Vec<i64> = committed.iter().map(|i| value_of(*i)).collect();
        committed_values.sort_unstable();
        let in_commit_order: Vec<i64> = took
            .lock()
            .unwrap()
            .iter()
            .copied()
            .filter(|i| outcomes[*i as usize])
            .collect();
        assert_eq!(*published.lock().unwrap(), in_commit_order);
        assert_eq!(stored(&path), committed_values);
        let reader = Connection::open(&path).unwrap();
        // Committed one by one, each transaction would have written at least the table's page
        // and the index's to the WAL: in groups, the pages they share were written once.
        let wal_pages: i64 = reader
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap();
        assert!(
            wal_pages < committed.len() as i64,
            "{wal_pages} WAL pages for {} transactions",
            committed.len()
        );
        assert!(!writer.busy(), "the writer is idle once all are done");
    }

    /// Waits until `n` transactions wait for the writer.
    async fn until_waiting(writer: &Writer, n: usize) {
        while writer.state.lock().unwrap().waiting.len() < n {
            tokio::task::yield_now().await;
        }
    }

    /// A transaction that waits for the writer, writes `v`, then commits or (`fail`) is
    /// dropped; true if it committed.
    fn behind(writer: &Arc<Writer>, v: i64, fail: bool) -> tokio::task::JoinHandle<bool> {
        let writer = writer.clone();
        tokio::spawn(async move {
            let mut guard = writer.take().await;
            guard.begin().unwrap();
            guard.execute("INSERT INTO t (v) VALUES (?1)", [v]).unwrap();
            if fail {
                return false;
            }
            guard.commit(Box::new(|| {})).await.unwrap();
            true
        })
    }

    /// The first transaction of a group has no savepoint of its own: failing, it rolls back
    /// the outer transaction it began, and only its own work goes, whether or not others
    /// wait. One that fails after others joined the group undoes only itself, and the group's
    /// COMMIT carries the rest.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_transaction_undoes_only_itself_first_or_later_in_a_group() {
        let (path, conn) = database();
        let writer = Writer::new(conn);

        let mut alone = writer.take().await;
        alone.begin().unwrap();
        alone.execute("INSERT INTO t (v) VALUES (1)", []).unwrap();
        drop(alone);
        assert!(!writer.busy());

        let mut first = writer.take().await;
        first.begin().unwrap();
        first.execute("INSERT INTO t (v) VALUES (2)", []).unwrap();
        let next = behind(&writer, 3, false);
        until_waiting(&writer, 1).await;
        drop(first);
        assert!(next.await.unwrap());

        let mut first = writer.take().await;
        first.begin().unwrap();
        first.execute("INSERT INTO t (v) VALUES (4)", []).unwrap();
        let failing = behind(&writer, 5, true);
        until_waiting(&writer, 1).await;
        let last = behind(&writer, 6, false);
        until_waiting(&writer, 2).await;
        first.commit(Box::new(|| {})).await.unwrap();
        assert!(!failing.await.unwrap());
        assert!(last.await.unwrap());

        assert_eq!(stored(&path), vec![3, 4, 6]);
        assert!(!writer.busy());
    }

    /// A transaction that stops waiting for the writer (its request went away) is skipped: the
    /// writer goes to the next one, with the group it carries.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transaction_that_stopped_waiting_is_passed_over() {
        let (path, conn) = database();
        let writer = Writer::new(conn);
        let mut first = writer.take().await;
        first.begin().unwrap();
        first.execute("INSERT INTO t (v) VALUES (1)", []).unwrap();
        let gone = tokio::spawn({
            let writer = writer.clone();
            async move { drop(writer.take().await) }
        });
        let next = tokio::spawn({
            let writer = writer.clone();
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                let mut guard = writer.take().await;
                guard.begin().unwrap();
                guard.execute("INSERT INTO t (v) VALUES (2)", []).unwrap();
                guard.commit(Box::new(|| {})).await.unwrap();
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        gone.abort();
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        first.commit(Box::new(|| {})).await.unwrap();
        next.await.unwrap();
        assert_eq!(stored(&path), vec![1, 2]);
    }
}
