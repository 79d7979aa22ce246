use super::Db;
use super::sql::{self, from_row};
use super::{StoreResult, Workspace};
use crate::domain::{Id, Millis};

pub async fn insert(conn: &mut Db, name: &str, now: Millis) -> StoreResult<Workspace> {
    Ok(sql::query_as(
        "INSERT INTO workspaces (name, created_at) VALUES ($1, $2) RETURNING id, name, created_at",
    )
    .bind(name)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

pub async fn get(conn: &mut Db, id: Id) -> StoreResult<Option<Workspace>> {
    Ok(
        sql::query_as("SELECT id, name, created_at FROM workspaces WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn any_exists(conn: &mut Db) -> StoreResult<bool> {
    let row: Option<(i64,)> = sql::query_as("SELECT id FROM workspaces LIMIT 1")
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Every workspace, oldest first, with how many operators it has.
pub async fn list_with_operator_counts(conn: &mut Db) -> StoreResult<Vec<(Workspace, i64)>> {
    struct Row {
        workspace: Workspace,
        operators: i64,
    }
    from_row!(Row {
        workspace: flattened,
        operators
    });
    let rows: Vec<Row> = sql::query_as(
        "SELECT w.id, w.name, w.created_at, \
         (SELECT COUNT(*) FROM operators o WHERE o.workspace_id = w.id) AS operators \
         FROM workspaces w ORDER BY w.id",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.workspace, r.operators))
        .collect())
}
