//! The one way a statement runs, on either backend: `query(SQL).bind(…).execute(db)` and its
//! `query_as` / `query_scalar` kin, over a `Db` (a read connection or a write transaction).
//!
//! On SQLite the statement runs synchronously, right here, on the connection the caller holds
//! (rusqlite, statements prepared once and cached): the `await` around it is ready at once, so
//! a use case's statements run one after another on the thread polling it, with no hop to
//! another thread and back per statement. On PostgreSQL it is sqlx's asynchronous round trip,
//! and a write transaction makes as few as it can: a write whose outcome the use case does not
//! read is `defer`red, held back and sent in one message with the transaction's next statement
//! or its COMMIT. Values are the types both backends share: 64-bit integers, text and NULL.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::Write as _;
use std::marker::PhantomData;

use rusqlite::types::{ToSqlOutput, ValueRef};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Column as _, PgConnection, Postgres, Row as _, TypeInfo as _};

use super::Db;
use super::pg_batch::{Batch, Deferred};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Postgres(#[from] sqlx::Error),
    #[error("column {column}: {message}")]
    Decode { column: String, message: String },
    #[error("the query returned no row")]
    NoRow,
}

/// A bound parameter. A NULL keeps its type: PostgreSQL infers each parameter's type from the
/// statement and refuses a NULL declared as another.
#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    Text(String),
    NullInt,
    NullText,
}

/// What can be bound to a `$n` placeholder.
pub trait Bind {
    fn into_value(self) -> Value;
}

impl Bind for Value {
    fn into_value(self) -> Value {
        self
    }
}

impl Bind for i64 {
    fn into_value(self) -> Value {
        Value::Int(self)
    }
}

impl Bind for &i64 {
    fn into_value(self) -> Value {
        Value::Int(*self)
    }
}

impl Bind for &str {
    fn into_value(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl Bind for String {
    fn into_value(self) -> Value {
        Value::Text(self)
    }
}

impl Bind for &String {
    fn into_value(self) -> Value {
        Value::Text(self.clone())
    }
}

impl Bind for Option<i64> {
    fn into_value(self) -> Value {
        self.map_or(Value::NullInt, Value::Int)
    }
}

impl Bind for Option<&str> {
    fn into_value(self) -> Value {
        self.map_or(Value::NullText, |s| Value::Text(s.to_owned()))
    }
}

impl Bind for Option<String> {
    fn into_value(self) -> Value {
        self.map_or(Value::NullText, Value::Text)
    }
}

impl Bind for &Option<String> {
    fn into_value(self) -> Value {
        self.as_deref().into_value()
    }
}

impl Value {
    /// The PostgreSQL type a bound parameter of this value has.
    pub(super) fn pg_type(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::NullInt => "int8",
            Value::Text(_) | Value::NullText => "text",
        }
    }
}

/// A value written as a literal of the type it would have bound, for PostgreSQL's simple
/// protocol, which has no parameters. Text is quoted with its quotes doubled (the connections
/// keep `standard_conforming_strings` on, so a backslash is only a backslash).
pub(super) fn literal(value: &Value) -> String {
    match value {
        Value::Int(i) => format!("({i})::int8"),
        Value::Text(s) => format!("'{}'::text", s.replace('\'', "''")),
        Value::NullInt => "NULL::int8".to_owned(),
        Value::NullText => "NULL::text".to_owned(),
    }
}

/// The statement with its values written in as literals (`$n` outside quotes replaced by the
/// `n`th), so it means what it means with them bound.
pub(super) fn inline(sql: &str, args: &[Value]) -> String {
    let mut out = String::with_capacity(sql.len() + 16 * args.len());
    let mut quoted = false;
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c == '\'' {
            quoted = !quoted;
        }
        if c != '$' || quoted {
            out.push(c);
            continue;
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let Ok(n) = rest[..digits].parse::<usize>() else {
            out.push(c);
            continue;
        };
        rest = &rest[digits..];
        out.push_str(&literal(
            args.get(n.wrapping_sub(1)).unwrap_or(&Value::NullText),
        ));
    }
    out
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::NullInt | Value::NullText => ValueRef::Null,
        }))
    }
}

/// One row of a result, of either backend.
pub struct Row<'r> {
    of: RowOf<'r>,
    /// Where the next column read by name is looked for first: records read their fields in
    /// the order their statements select them, so a SQLite column is found by comparing one
    /// name, not by searching them all (which took 3 % of the server's time in the load bench).
    next: Cell<usize>,
}

enum RowOf<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r PgRow),
}

impl<'r> Row<'r> {
    fn new(of: RowOf<'r>) -> Row<'r> {
        Row {
            of,
            next: Cell::new(0),
        }
    }

    /// The column called `name`.
    pub fn get<T: Column>(&self, name: &str) -> Result<T, DbError> {
        let decoded = match &self.of {
            RowOf::Sqlite(row) => {
                let next = self.next.get();
                let statement = row.as_ref();
                let index = match statement.column_name(next) {
                    Ok(found) if found == name => next,
                    _ => statement.column_index(name)?,
                };
                self.next.set(index + 1);
                T::from_sqlite(row.get_ref(index)?)
            }
            RowOf::Postgres(row) => T::from_postgres(row, row.try_column(name)?.ordinal())?,
        };
        decoded.map_err(|message| DbError::Decode {
            column: name.to_owned(),
            message,
        })
    }

    /// The column at `index` (from 0).
    pub fn get_at<T: Column>(&self, index: usize) -> Result<T, DbError> {
        let decoded = match &self.of {
            RowOf::Sqlite(row) => T::from_sqlite(row.get_ref(index)?),
            RowOf::Postgres(row) => T::from_postgres(row, index)?,
        };
        decoded.map_err(|message| DbError::Decode {
            column: index.to_string(),
            message,
        })
    }

    /// The text column called `name`, parsed into one of the domain's enums.
    pub fn parsed<T: TryFrom<String>>(&self, name: &str) -> Result<T, DbError>
    where
        T::Error: std::fmt::Display,
    {
        T::try_from(self.get::<String>(name)?).map_err(|e| DbError::Decode {
            column: name.to_owned(),
            message: e.to_string(),
        })
    }
}

/// A column's value as a Rust type. `Err` says why it could not be.
pub trait Column: Sized {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, String>;
    fn from_postgres(row: &PgRow, index: usize) -> Result<Result<Self, String>, sqlx::Error>;
}

impl Column for i64 {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Integer(i) => Ok(i),
            other => Err(format!(
                "expected an integer, found {:?}",
                other.data_type()
            )),
        }
    }

    fn from_postgres(row: &PgRow, index: usize) -> Result<Result<Self, String>, sqlx::Error> {
        // COUNT and the id columns are BIGINT; a few expressions (length(), a boolean test)
        // are narrower, and read as what they are.
        Ok(Ok(match row.column(index).type_info().name() {
            "INT8" => row.try_get::<i64, _>(index)?,
            "INT4" => i64::from(row.try_get::<i32, _>(index)?),
            "INT2" => i64::from(row.try_get::<i16, _>(index)?),
            "BOOL" => i64::from(row.try_get::<bool, _>(index)?),
            other => return Ok(Err(format!("expected an integer, found {other}"))),
        }))
    }
}

impl Column for String {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string()),
            other => Err(format!("expected text, found {:?}", other.data_type())),
        }
    }

    fn from_postgres(row: &PgRow, index: usize) -> Result<Result<Self, String>, sqlx::Error> {
        Ok(Ok(row.try_get::<String, _>(index)?))
    }
}

impl<T: Column> Column for Option<T> {
    fn from_sqlite(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Null => Ok(None),
            value => T::from_sqlite(value).map(Some),
        }
    }

    fn from_postgres(row: &PgRow, index: usize) -> Result<Result<Self, String>, sqlx::Error> {
        use sqlx::ValueRef as _;
        if row.try_get_raw(index)?.is_null() {
            return Ok(Ok(None));
        }
        Ok(T::from_postgres(row, index)?.map(Some))
    }
}

/// A result row as a Rust type: tuples by position, records by column name (`from_row!`).
pub trait FromRow: Sized {
    fn from_row(row: &Row<'_>) -> Result<Self, DbError>;
}

macro_rules! tuple_from_row {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Column),+> FromRow for ($($t,)+) {
            fn from_row(row: &Row<'_>) -> Result<Self, DbError> {
                Ok(($(row.get_at::<$t>($i)?,)+))
            }
        }
    };
}
tuple_from_row!(A 0);
tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);

/// Reads a record from the columns named like its fields; a field marked `parsed` is text
/// parsed into a domain enum (`TryFrom<String>`), one marked `flattened` a record read from
/// the same row.
macro_rules! from_row {
    ($ty:ident { $($field:ident $(: $how:ident)?),* $(,)? }) => {
        impl $crate::store::sql::FromRow for $ty {
            fn from_row(
                row: &$crate::store::sql::Row<'_>,
            ) -> Result<Self, $crate::store::sql::DbError> {
                Ok($ty { $($field: from_row!(@field row $field $($how)?)),* })
            }
        }
    };
    (@field $row:ident $field:ident) => { $row.get(stringify!($field))? };
    (@field $row:ident $field:ident parsed) => { $row.parsed(stringify!($field))? };
    (@field $row:ident $field:ident flattened) => {
        $crate::store::sql::FromRow::from_row($row)?
    };
}
pub(crate) use from_row;

/// What a statement that returns no rows did.
pub struct Done {
    rows_affected: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }
}

/// A statement with its parameters, `$1`, `$2`, … in the order bound.
pub struct Query<'q> {
    sql: Cow<'q, str>,
    args: Vec<Value>,
}

pub fn query<'q>(sql: impl Into<Cow<'q, str>>) -> Query<'q> {
    Query {
        sql: sql.into(),
        args: Vec::new(),
    }
}

/// A query whose rows are read as `T`.
pub struct QueryAs<'q, T> {
    query: Query<'q>,
    row: PhantomData<fn() -> T>,
}

pub fn query_as<'q, T: FromRow>(sql: impl Into<Cow<'q, str>>) -> QueryAs<'q, T> {
    QueryAs {
        query: query(sql),
        row: PhantomData,
    }
}

/// A query whose rows' first column is read as `T`.
pub struct QueryScalar<'q, T> {
    query: Query<'q>,
    column: PhantomData<fn() -> T>,
}

pub fn query_scalar<'q, T: Column>(sql: impl Into<Cow<'q, str>>) -> QueryScalar<'q, T> {
    QueryScalar {
        query: query(sql),
        column: PhantomData,
    }
}

impl<'q> Query<'q> {
    pub fn bind(mut self, value: impl Bind) -> Self {
        self.args.push(value.into_value());
        self
    }

    pub async fn execute(self, db: &mut Db) -> Result<Done, DbError> {
        match db.connection() {
            Connection::Sqlite(conn) => {
                let mut statement = self.prepare(conn)?;
                let mut rows = statement.raw_query();
                while rows.next()?.is_some() {}
                Ok(Done {
                    rows_affected: conn.changes(),
                })
            }
            Connection::Postgres(conn) => {
                let done = self.postgres().execute(conn).await?;
                Ok(Done {
                    rows_affected: done.rows_affected(),
                })
            }
            Connection::PostgresTx { conn, batch } => {
                if batch.is_empty() {
                    let done = self.postgres().execute(conn).await?;
                    return Ok(Done {
                        rows_affected: done.rows_affected(),
                    });
                }
                let (_, rows_affected) = batch.send(conn, self.deferred()).await?;
                Ok(Done { rows_affected })
            }
        }
    }

    /// A write whose outcome the caller does not need. On SQLite, or outside a transaction,
    /// it runs now; in a PostgreSQL transaction it waits to go with the next statement (or
    /// the COMMIT), and if it fails, that statement fails and the transaction rolls back.
    pub async fn defer(self, db: &mut Db) -> Result<(), DbError> {
        match db.connection() {
            Connection::PostgresTx { batch, .. } => {
                batch.push(self.deferred());
                Ok(())
            }
            _ => self.execute(db).await.map(drop),
        }
    }

    async fn fetch_with<T>(
        self,
        db: &mut Db,
        limit: Option<usize>,
        read: impl Fn(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<Vec<T>, DbError> {
        match db.connection() {
            Connection::Sqlite(conn) => {
                let mut statement = self.prepare(conn)?;
                let mut rows = statement.raw_query();
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(read(&Row::new(RowOf::Sqlite(row)))?);
                    if limit.is_some_and(|n| out.len() >= n) {
                        break;
                    }
                }
                Ok(out)
            }
            Connection::Postgres(conn) => {
                let rows = self.fetch_postgres(conn, limit).await?;
                rows.iter()
                    .map(|row| read(&Row::new(RowOf::Postgres(row))))
                    .collect()
            }
            Connection::PostgresTx { conn, batch } => {
                let rows = if batch.is_empty() {
                    self.fetch_postgres(conn, limit).await?
                } else {
                    batch.send(conn, self.deferred()).await?.0
                };
                rows.iter()
                    .take(limit.unwrap_or(usize::MAX))
                    .map(|row| read(&Row::new(RowOf::Postgres(row))))
                    .collect()
            }
        }
    }

    async fn fetch_postgres(
        &self,
        conn: &mut PgConnection,
        limit: Option<usize>,
    ) -> Result<Vec<PgRow>, DbError> {
        Ok(match limit {
            Some(_) => self
                .postgres()
                .fetch_optional(conn)
                .await?
                .into_iter()
                .collect(),
            None => self.postgres().fetch_all(conn).await?,
        })
    }

    /// The statement to send later, in a PostgreSQL transaction's batch.
    fn deferred(self) -> Deferred {
        Deferred::Query {
            sql: self.sql.into_owned(),
            args: self.args,
        }
    }

    /// The statement from the connection's cache, with this query's values bound. SQLite
    /// numbers `$n` parameters by their first appearance, so each is bound by its name.
    fn prepare<'c>(
        &self,
        conn: &'c rusqlite::Connection,
    ) -> Result<rusqlite::CachedStatement<'c>, DbError> {
        let mut statement = conn.prepare_cached(&self.sql)?;
        let mut name = String::with_capacity(4);
        for (i, value) in self.args.iter().enumerate() {
            name.clear();
            // Writing to a String cannot fail.
            let _ = write!(name, "${}", i + 1);
            if let Some(index) = statement.parameter_index(&name)? {
                statement.raw_bind_parameter(index, value)?;
            }
        }
        Ok(statement)
    }

    fn postgres(&self) -> sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments> {
        let mut query = sqlx::query(AssertSqlSafe(&*self.sql));
        for value in &self.args {
            query = match value {
                Value::Int(i) => query.bind(*i),
                Value::Text(s) => query.bind(s.as_str()),
                Value::NullInt => query.bind(None::<i64>),
                Value::NullText => query.bind(None::<&str>),
            };
        }
        query
    }
}

impl<'q, T: FromRow> QueryAs<'q, T> {
    pub fn bind(mut self, value: impl Bind) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub async fn fetch_all(self, db: &mut Db) -> Result<Vec<T>, DbError> {
        self.query.fetch_with(db, None, T::from_row).await
    }

    pub async fn fetch_optional(self, db: &mut Db) -> Result<Option<T>, DbError> {
        Ok(self.query.fetch_with(db, Some(1), T::from_row).await?.pop())
    }

    pub async fn fetch_one(self, db: &mut Db) -> Result<T, DbError> {
        self.fetch_optional(db).await?.ok_or(DbError::NoRow)
    }
}

impl<'q, T: Column> QueryScalar<'q, T> {
    pub fn bind(mut self, value: impl Bind) -> Self {
        self.query = self.query.bind(value);
        self
    }

    pub async fn fetch_all(self, db: &mut Db) -> Result<Vec<T>, DbError> {
        self.query.fetch_with(db, None, |row| row.get_at(0)).await
    }

    pub async fn fetch_optional(self, db: &mut Db) -> Result<Option<T>, DbError> {
        Ok(self
            .query
            .fetch_with(db, Some(1), |row| row.get_at(0))
            .await?
            .pop())
    }

    pub async fn fetch_one(self, db: &mut Db) -> Result<T, DbError> {
        self.fetch_optional(db).await?.ok_or(DbError::NoRow)
    }
}

/// The connection a `Db` lends a statement.
pub(super) enum Connection<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(&'c mut PgConnection),
    /// A PostgreSQL write transaction, with the statements it has yet to send.
    PostgresTx {
        conn: &'c mut PgConnection,
        batch: &'c mut Batch,
    },
}

#[cfg(test)]
mod tests {
    use super::{inline, query};

    #[test]
    fn inlined_values_are_literals_of_the_bound_types_and_quotes_stay_quotes() {
        let q = query("UPDATE t SET a = $2, b = $1, c = '$1 stays', d = $3 WHERE e = $4")
            .bind(-7_i64)
            .bind("it's")
            .bind(None::<i64>)
            .bind(None::<&str>);
        assert_eq!(
            inline(&q.sql, &q.args),
            "UPDATE t SET a = 'it''s'::text, b = (-7)::int8, c = '$1 stays', d = NULL::int8 \
             WHERE e = NULL::text"
        );
    }

    #[test]
    fn a_backslash_or_a_quote_cannot_end_an_inlined_text() {
        let q = query("SELECT $1").bind("\\'; DROP TABLE t; --");
        assert_eq!(
            inline(&q.sql, &q.args),
            "SELECT '\\''; DROP TABLE t; --'::text"
        );
    }
}
