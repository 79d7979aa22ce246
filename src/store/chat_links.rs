//! The links that open one conversation from an email (`{public_url}/chat/{token}`). Only the
//! SHA-256 of each token is stored.

use super::Db;
use super::conversations::conversation_columns;
use super::sql;
use super::{Conversation, StoreResult};
use crate::domain::{Id, Millis};

pub async fn insert(
    conn: &mut Db,
    token_hash: &str,
    conversation_id: Id,
    now: Millis,
    expires_at: Millis,
) -> StoreResult<()> {
    sql::query(
        "INSERT INTO chat_links (token_hash, conversation_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(conversation_id)
    .bind(now)
    .bind(expires_at)
    .defer(conn)
    .await?;
    Ok(())
}

/// The conversation a link that has not expired opens.
pub async fn conversation(
    conn: &mut Db,
    token_hash: &str,
    now: Millis,
) -> StoreResult<Option<Conversation>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        conversation_columns!(),
        " FROM conversations WHERE id = \
         (SELECT conversation_id FROM chat_links WHERE token_hash = $1 AND expires_at > $2)"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}
