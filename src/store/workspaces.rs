use sqlx::AnyConnection;

use super::{StoreResult, Workspace};
use crate::domain::{Id, Millis};

pub async fn insert(conn: &mut AnyConnection, name: &str, now: Millis) -> StoreResult<Workspace> {
    Ok(sqlx::query_as(
        "INSERT INTO workspaces (name, created_at) VALUES ($1, $2) RETURNING id, name, created_at",
    )
    .bind(name)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

pub async fn get(conn: &mut AnyConnection, id: Id) -> StoreResult<Option<Workspace>> {
    Ok(
        sqlx::query_as("SELECT id, name, created_at FROM workspaces WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn any_exists(conn: &mut AnyConnection) -> StoreResult<bool> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM workspaces LIMIT 1")
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}
