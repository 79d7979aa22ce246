//! Password reset links. Each token is stored only as its SHA-256; a link works once, until it
//! expires.

use super::Db;
use super::StoreResult;
use super::sql;
use crate::domain::{Id, Millis};

/// Stores a new link; returns its id.
pub async fn insert(
    conn: &mut Db,
    operator_id: Id,
    token_hash: &str,
    now: Millis,
    expires_at: Millis,
) -> StoreResult<Id> {
    let (id,): (i64,) = sql::query_as(
        "INSERT INTO password_resets (operator_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(operator_id)
    .bind(token_hash)
    .bind(now)
    .bind(expires_at)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// The operator of the unexpired, unused link whose token has this hash.
pub async fn pending(conn: &mut Db, token_hash: &str, now: Millis) -> StoreResult<Option<Id>> {
    let row: Option<(i64,)> = sql::query_as(
        "SELECT operator_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Uses up the unexpired, unused link whose token has this hash; returns its operator. A
/// second use, even at the same moment, finds it used.
pub async fn take(conn: &mut Db, token_hash: &str, now: Millis) -> StoreResult<Option<Id>> {
    let row: Option<(i64,)> = sql::query_as(
        "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
         AND expires_at > $1 RETURNING operator_id",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Voids the operator's unused links: their password was just set another way.
pub async fn void_for_operator(conn: &mut Db, operator_id: Id, now: Millis) -> StoreResult<()> {
    sql::query(
        "UPDATE password_resets SET used_at = $1 WHERE operator_id = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(operator_id)
    .defer(conn)
    .await?;
    Ok(())
}
