//! Invitations to join a workspace. Each link's token is stored only as its SHA-256, like a
//! session's. An invitation is pending while it is neither accepted, nor revoked, nor expired.

use super::Db;
use super::sql;
use super::{Invitation, StoreResult};
use crate::domain::{Id, Millis, Role};

/// Neither accepted nor revoked (an open invitation may still have expired).
macro_rules! open {
    () => {
        "accepted_at IS NULL AND revoked_at IS NULL"
    };
}

macro_rules! invitation_columns {
    () => {
        "id, workspace_id, email, name, role, invited_by, created_at, expires_at"
    };
}

pub struct NewInvitation<'a> {
    pub workspace_id: Id,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub token_hash: &'a str,
    pub invited_by: Id,
    pub expires_at: Millis,
}

pub async fn insert(
    conn: &mut Db,
    new: &NewInvitation<'_>,
    now: Millis,
) -> StoreResult<Invitation> {
    Ok(sql::query_as(concat!(
        "INSERT INTO invitations (workspace_id, email, name, role, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
        invitation_columns!()
    ))
    .bind(new.workspace_id)
    .bind(new.email)
    .bind(new.name)
    .bind(new.role.as_str())
    .bind(new.token_hash)
    .bind(new.invited_by)
    .bind(now)
    .bind(new.expires_at)
    .fetch_one(conn)
    .await?)
}

/// The workspace's pending invitations, oldest first.
pub async fn pending(conn: &mut Db, workspace_id: Id, now: Millis) -> StoreResult<Vec<Invitation>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        invitation_columns!(),
        " FROM invitations WHERE workspace_id = $1 AND ",
        open!(),
        " AND expires_at > $2 ORDER BY id"
    ))
    .bind(workspace_id)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// The pending invitation with this id, only if it belongs to `workspace_id`.
pub async fn pending_by_id(
    conn: &mut Db,
    workspace_id: Id,
    id: Id,
    now: Millis,
) -> StoreResult<Option<Invitation>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        invitation_columns!(),
        " FROM invitations WHERE id = $1 AND workspace_id = $2 AND ",
        open!(),
        " AND expires_at > $3"
    ))
    .bind(id)
    .bind(workspace_id)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

/// The pending invitation whose link's token has this hash.
pub async fn pending_by_token(
    conn: &mut Db,
    token_hash: &str,
    now: Millis,
) -> StoreResult<Option<Invitation>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        invitation_columns!(),
        " FROM invitations WHERE token_hash = $1 AND ",
        open!(),
        " AND expires_at > $2"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

/// Revokes the invitation; false when it was no longer open.
pub async fn revoke(conn: &mut Db, id: Id, now: Millis) -> StoreResult<bool> {
    let done = sql::query(concat!(
        "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND ",
        open!()
    ))
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes the open (not accepted, not revoked; perhaps expired) invitation of this email in
/// the workspace, if there is one; returns its id.
pub async fn revoke_open_for_email(
    conn: &mut Db,
    workspace_id: Id,
    email: &str,
    now: Millis,
) -> StoreResult<Option<Id>> {
    let row: Option<(i64,)> = sql::query_as(concat!(
        "UPDATE invitations SET revoked_at = $1 WHERE workspace_id = $2 AND email = $3 AND ",
        open!(),
        " RETURNING id"
    ))
    .bind(now)
    .bind(workspace_id)
    .bind(email)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

pub async fn mark_accepted(conn: &mut Db, id: Id, now: Millis) -> StoreResult<()> {
    sql::query("UPDATE invitations SET accepted_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}
