//! A PostgreSQL write transaction's unsent statements (`sql::Query::defer`) and the one
//! message that sends them with the statement that has to wait for its answer, or with the
//! COMMIT.
//!
//! Several statements share a message through PostgreSQL's simple protocol, which has no
//! parameters. Written out with their values as literals, each would be parsed and planned
//! again at every send: in the load bench, planning was 43 % of the statements' time, under
//! the workspace's lock. So a deferred statement is prepared once per connection (`PREPARE`,
//! in the message that first sends it there) and sent as `EXECUTE name(values)`, which
//! PostgreSQL plans once, as it does sqlx's own prepared statements.
//!
//! sqlx cannot tell its connections apart, so they are told apart by their server process's
//! id, which each transaction's first message asks for (`SELECT pg_backend_pid()`, with its
//! `BEGIN`). A process id can be reused: the pool forgets what it knew of one whenever a
//! connection opens with it (`Prepared::opened`). Only a bounded number of connections are
//! remembered, and names carry the generation they were made in, so a connection forgotten
//! while still open prepares its statements again under new names rather than clashing with
//! its old ones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt as _;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Either, PgConnection, Row as _};

use super::sql::{DbError, Value, inline, literal};

/// How many connections' prepared statements are remembered: more than a pool holds, so only
/// connections long gone are forgotten.
const CONNECTIONS: usize = 256;
/// The most statements prepared on one connection; others are sent as literals. Deferred
/// statements are a fixed set but for the event log's append, whose text has one row per
/// event of the transaction.
const STATEMENTS_PER_CONNECTION: usize = 200;

/// A statement waiting to be sent.
pub(super) enum Deferred {
    /// SQL without parameters (`BEGIN`, `COMMIT`).
    Fixed(&'static str),
    Query {
        sql: String,
        args: Vec<Value>,
    },
}

/// What the process's PostgreSQL connections have prepared, by server process id.
#[derive(Default)]
pub(super) struct Prepared {
    known: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    generation: u64,
    /// Counts uses, to forget the connection used least recently.
    clock: u64,
    connections: HashMap<u32, Connection>,
}

struct Connection {
    generation: u64,
    last_used: u64,
    /// Each prepared statement's name suffix, by its SQL and parameter types.
    statements: HashMap<String, usize>,
    /// The next name suffix: names reserved for a message that failed are not reused.
    next: usize,
}

/// A statement to be prepared by a message, and the name it gets if the message gets that far.
struct Preparing {
    /// Its `PREPARE`'s place in the message.
    position: usize,
    key: String,
    generation: u64,
    suffix: usize,
}

impl Prepared {
    /// A connection has opened with this server process id: anything known under that id was
    /// another connection's.
    pub(super) fn opened(&self, pid: u32) {
        self.lock().connections.remove(&pid);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A write transaction's unsent statements, and which connection it has.
pub(super) struct Batch {
    statements: Vec<Deferred>,
    /// The connection's server process id, once the first message has told it.
    pid: Option<u32>,
    prepared: Arc<Prepared>,
}

/// Asks the connection who it is, with the transaction's `BEGIN`.
const WHO: &str = "SELECT pg_backend_pid()";

impl Batch {
    /// A transaction yet to begin: its `BEGIN` waits to go with its first statement.
    pub(super) fn begin(prepared: Arc<Prepared>) -> Batch {
        Batch {
            statements: vec![Deferred::Fixed("BEGIN"), Deferred::Fixed(WHO)],
            pid: None,
            prepared,
        }
    }

    /// Nothing has been sent yet: there is no transaction on the connection to roll back.
    pub(super) fn unsent(&self) -> bool {
        matches!(self.statements.first(), Some(Deferred::Fixed("BEGIN")))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    pub(super) fn push(&mut self, statement: Deferred) {
        self.statements.push(statement);
    }

    /// Sends the waiting statements and then `last` as one message (one round trip), and
    /// returns `last`'s rows and the count of rows it affected. If one fails, the rest of the
    /// message is skipped and the transaction is aborted.
    pub(super) async fn send(
        &mut self,
        conn: &mut PgConnection,
        last: Deferred,
    ) -> Result<(Vec<PgRow>, u64), DbError> {
        self.statements.push(last);
        let statements = std::mem::take(&mut self.statements);
        let who_at = statements
            .iter()
            .position(|s| matches!(s, Deferred::Fixed(WHO)));
        let (text, preparing) = self.message(statements);
        let mut results = sqlx::raw_sql(AssertSqlSafe(text)).fetch_many(conn);
        let (mut rows, mut done) = (Vec::new(), Vec::new());
        let outcome = loop {
            match results.try_next().await {
                Ok(Some(Either::Left(result))) => {
                    done.push((std::mem::take(&mut rows), result.rows_affected()));
                }
                Ok(Some(Either::Right(row))) => rows.push(row),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        if let Some(pid) = who_at
            .and_then(|at| done.get(at))
            .and_then(|(rows, _)| rows.first())
            .and_then(|row| row.try_get::<i32, _>(0).ok())
        {
            self.pid = u32::try_from(pid).ok();
        }
        self.confirm(&preparing, done.len());
        outcome?;
        Ok(done.pop().unwrap_or_default())
    }

    /// The message's text: each statement prepared on this connection is an `EXECUTE`, one
    /// seen here for the first time is prepared just before, and until the connection is
    /// known (in the first message) statements are written out with their values.
    fn message(&self, statements: Vec<Deferred>) -> (String, Vec<Preparing>) {
        let mut parts = Vec::with_capacity(statements.len() + 2);
        let mut preparing = Vec::new();
        let mut known = self.prepared.lock();
        let known = &mut *known;
        known.clock += 1;
        let connection = self.pid.map(|pid| {
            let generation = &mut known.generation;
            let connection = known.connections.entry(pid).or_insert_with(|| {
                *generation += 1;
                Connection {
                    generation: *generation,
                    last_used: 0,
                    statements: HashMap::new(),
                    next: 0,
                }
            });
            connection.last_used = known.clock;
            connection
        });
        let mut connection = connection;
        for statement in statements {
            let (sql, args) = match statement {
                Deferred::Fixed(sql) => {
                    parts.push(sql.to_owned());
                    continue;
                }
                Deferred::Query { sql, args } => (sql, args),
            };
            let Some(connection) = connection.as_deref_mut() else {
                parts.push(inline(&sql, &args));
                continue;
            };
            let types: Vec<&str> = args.iter().map(Value::pg_type).collect();
            let key = format!("{}\n{sql}", types.join(","));
            let suffix = match connection.statements.get(&key) {
                Some(suffix) => *suffix,
                None if connection.statements.len() < STATEMENTS_PER_CONNECTION => {
                    let suffix = connection.next;
                    connection.next += 1;
                    preparing.push(Preparing {
                        position: parts.len(),
                        key,
                        generation: connection.generation,
                        suffix,
                    });
                    let name = name(connection.generation, suffix);
                    parts.push(if types.is_empty() {
                        format!("PREPARE {name} AS {sql}")
                    } else {
                        format!("PREPARE {name} ({}) AS {sql}", types.join(", "))
                    });
                    suffix
                }
                None => {
                    parts.push(inline(&sql, &args));
                    continue;
                }
            };
            let values: Vec<String> = args.iter().map(literal).collect();
            parts.push(if values.is_empty() {
                format!("EXECUTE {}", name(connection.generation, suffix))
            } else {
                format!(
                    "EXECUTE {}({})",
                    name(connection.generation, suffix),
                    values.join(", ")
                )
            });
        }
        if known.connections.len() > CONNECTIONS {
            let oldest = known
                .connections
                .iter()
                .min_by_key(|(_, c)| c.last_used)
                .map(|(pid, _)| *pid);
            if let Some(pid) = oldest {
                known.connections.remove(&pid);
            }
        }
        (parts.join(";\n"), preparing)
    }

    /// Remembers the statements the message prepared before it stopped: the first
    /// `completed` statements ran (PREPAREs outlive a rollback).
    fn confirm(&self, preparing: &[Preparing], completed: usize) {
        let Some(pid) = self.pid else {
            return;
        };
        let mut known = self.prepared.lock();
        let Some(connection) = known.connections.get_mut(&pid) else {
            return;
        };
        // A connection forgotten and met again meanwhile has new names.
        for p in preparing
            .iter()
            .filter(|p| p.position < completed && p.generation == connection.generation)
        {
            connection.statements.insert(p.key.clone(), p.suffix);
        }
    }
}

fn name(generation: u64, suffix: usize) -> String {
    format!("switchboard_{generation}_{suffix}")
}
