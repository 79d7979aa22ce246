//! Sessions are stored by the SHA-256 of their token, so a copy of the database does not let
//! anyone sign in.

use sqlx::AnyConnection;

use super::{Operator, StoreResult};
use crate::domain::{Id, Millis};

pub async fn insert(
    conn: &mut AnyConnection,
    token_hash: &str,
    operator_id: Id,
    now: Millis,
    expires_at: Millis,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, operator_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(operator_id)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The operator holding an unexpired session with this token hash.
pub async fn operator(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: Millis,
) -> StoreResult<Option<Operator>> {
    Ok(sqlx::query_as(
        "SELECT o.id, o.workspace_id, o.name, o.email, o.role, o.availability, o.last_assigned_at, o.created_at \
         FROM sessions s JOIN operators o ON o.id = s.operator_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

pub async fn delete(conn: &mut AnyConnection, token_hash: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete_expired(conn: &mut AnyConnection, now: Millis) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Ends every session of the operator; returns how many there were.
pub async fn delete_for_operator(conn: &mut AnyConnection, operator_id: Id) -> StoreResult<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE operator_id = $1")
        .bind(operator_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
