//! Sessions are stored by the SHA-256 of their token, so a copy of the database does not let
//! anyone sign in.

use super::Db;
use super::operators::operator_columns;
use super::sql;
use super::{Operator, StoreResult};
use crate::domain::{Id, Millis};

pub async fn insert(
    conn: &mut Db,
    token_hash: &str,
    operator_id: Id,
    now: Millis,
    expires_at: Millis,
) -> StoreResult<()> {
    sql::query(
        "INSERT INTO sessions (token_hash, operator_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(operator_id)
    .bind(now)
    .bind(expires_at)
    .defer(conn)
    .await?;
    Ok(())
}

/// The active operator holding an unexpired session with this token hash.
pub async fn operator(
    conn: &mut Db,
    token_hash: &str,
    now: Millis,
) -> StoreResult<Option<Operator>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        operator_columns!(),
        " FROM operators WHERE deactivated_at IS NULL AND id = \
         (SELECT operator_id FROM sessions WHERE token_hash = $1 AND expires_at > $2)"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

/// Ends the operator's sessions, all of them or all but the one with `keep` as its token
/// hash; returns how many ended.
pub async fn delete_for_operator(
    conn: &mut Db,
    operator_id: Id,
    keep: Option<&str>,
) -> StoreResult<u64> {
    let done = sql::query(
        "DELETE FROM sessions WHERE operator_id = $1 AND ($2 IS NULL OR token_hash <> $2)",
    )
    .bind(operator_id)
    .bind(keep)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

pub async fn delete(conn: &mut Db, token_hash: &str) -> StoreResult<()> {
    sql::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .defer(conn)
        .await?;
    Ok(())
}

pub async fn delete_expired(conn: &mut Db, now: Millis) -> StoreResult<u64> {
    let done = sql::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
