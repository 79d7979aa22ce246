//! Visitor records and the tokens that name them: one record per person, one token per
//! browser that holds it.

use super::Db;
use super::sql;
use super::{StoreResult, Visitor};
use crate::domain::sighting::Sighting;
use crate::domain::{Id, Millis};

macro_rules! visitor_columns {
    () => {
        "id, widget_id, name, email, external_id, verified, current_url, referrer, user_agent, \
         first_seen_at, last_seen_at"
    };
}

/// A new, anonymous visitor of the widget, seen now.
pub async fn insert(
    conn: &mut Db,
    widget_id: Id,
    sighting: &Sighting,
    now: Millis,
) -> StoreResult<Visitor> {
    let page = sighting.page.as_ref();
    Ok(sql::query_as(concat!(
        "INSERT INTO visitors (widget_id, current_url, referrer, user_agent, first_seen_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING ",
        visitor_columns!()
    ))
    .bind(widget_id)
    .bind(page.map(|p| p.url.as_str()))
    .bind(page.and_then(|p| p.referrer.as_deref()))
    .bind(sighting.user_agent.as_deref())
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// The visitor of `widget_id` holding the token with this hash.
pub async fn by_token(
    conn: &mut Db,
    widget_id: Id,
    token_hash: &str,
) -> StoreResult<Option<Visitor>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        visitor_columns!(),
        " FROM visitors WHERE id = (SELECT visitor_id FROM visitor_tokens WHERE token_hash = $1) \
         AND widget_id = $2"
    ))
    .bind(token_hash)
    .bind(widget_id)
    .fetch_optional(conn)
    .await?)
}

/// The visitor with this id, only if they are a visitor of `workspace_id`'s widgets.
pub async fn get(conn: &mut Db, workspace_id: Id, id: Id) -> StoreResult<Option<Visitor>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        visitor_columns!(),
        " FROM visitors WHERE id = $1 \
         AND widget_id IN (SELECT id FROM widgets WHERE workspace_id = $2)"
    ))
    .bind(id)
    .bind(workspace_id)
    .fetch_optional(conn)
    .await?)
}

/// The visitors with these ids (those that exist), in id order.
pub async fn by_ids(conn: &mut Db, ids: &[Id]) -> StoreResult<Vec<Visitor>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = ids.iter().map(Id::to_string).collect();
    // Only integers went into the list.
    let sql = format!(
        concat!(
            "SELECT ",
            visitor_columns!(),
            " FROM visitors WHERE id IN ({}) ORDER BY id"
        ),
        list.join(",")
    );
    Ok(sql::query_as(sql).fetch_all(conn).await?)
}

/// The widget's visitor the embedding site knows as `external_id`.
pub async fn by_external_id(
    conn: &mut Db,
    widget_id: Id,
    external_id: &str,
) -> StoreResult<Option<Visitor>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        visitor_columns!(),
        " FROM visitors WHERE widget_id = $1 AND external_id = $2"
    ))
    .bind(widget_id)
    .bind(external_id)
    .fetch_optional(conn)
    .await?)
}

/// Gives the token with this hash to `visitor_id`: a new token, or one another record held.
pub async fn assign_token(
    conn: &mut Db,
    token_hash: &str,
    visitor_id: Id,
    now: Millis,
) -> StoreResult<()> {
    sql::query(
        "INSERT INTO visitor_tokens (token_hash, visitor_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (token_hash) DO UPDATE SET visitor_id = excluded.visitor_id",
    )
    .bind(token_hash)
    .bind(visitor_id)
    .bind(now)
    .defer(conn)
    .await?;
    Ok(())
}

/// Records a sighting: the last-seen time moves to `now` (never back), and each detail the
/// sighting tells replaces the stored one.
pub async fn record_sighting(
    conn: &mut Db,
    id: Id,
    sighting: &Sighting,
    now: Millis,
) -> StoreResult<()> {
    let page = sighting.page.as_ref();
    sql::query(
        "UPDATE visitors SET last_seen_at = CASE WHEN last_seen_at > $1 THEN last_seen_at ELSE $1 END, \
         current_url = COALESCE($2, current_url), referrer = COALESCE($3, referrer), \
         user_agent = COALESCE($4, user_agent) WHERE id = $5",
    )
    .bind(now)
    .bind(page.map(|p| p.url.as_str()))
    .bind(page.and_then(|p| p.referrer.as_deref()))
    .bind(sighting.user_agent.as_deref())
    .bind(id)
    .defer(conn)
    .await?;
    Ok(())
}

/// Marks the visitor as the embedding site's user `external_id`, verified; a name or email
/// given replaces the stored one.
pub async fn set_identity(
    conn: &mut Db,
    id: Id,
    external_id: &str,
    name: Option<&str>,
    email: Option<&str>,
) -> StoreResult<()> {
    sql::query(
        "UPDATE visitors SET external_id = $1, verified = 1, name = COALESCE($2, name), \
         email = COALESCE($3, email) WHERE id = $4",
    )
    .bind(external_id)
    .bind(name)
    .bind(email)
    .bind(id)
    .defer(conn)
    .await?;
    Ok(())
}

/// The email the visitor left in the widget, to be told of replies they miss.
pub async fn set_email(conn: &mut Db, id: Id, email: &str) -> StoreResult<()> {
    sql::query("UPDATE visitors SET email = $1 WHERE id = $2")
        .bind(email)
        .bind(id)
        .defer(conn)
        .await?;
    Ok(())
}

/// Folds visitor `from` into `into`: their conversations and tokens move over and `from` is
/// gone. `into` keeps the earlier first sighting of the two.
pub async fn merge(conn: &mut Db, from: Id, into: Id) -> StoreResult<()> {
    sql::query("UPDATE conversations SET visitor_id = $1 WHERE visitor_id = $2")
        .bind(into)
        .bind(from)
        .defer(&mut *conn)
        .await?;
    sql::query("UPDATE visitor_tokens SET visitor_id = $1 WHERE visitor_id = $2")
        .bind(into)
        .bind(from)
        .defer(&mut *conn)
        .await?;
    sql::query(
        "UPDATE visitors SET first_seen_at = \
         (SELECT MIN(first_seen_at) FROM visitors WHERE id IN ($1, $2)) WHERE id = $1",
    )
    .bind(into)
    .bind(from)
    .defer(&mut *conn)
    .await?;
    sql::query("DELETE FROM visitors WHERE id = $1")
        .bind(from)
        .defer(conn)
        .await?;
    Ok(())
}

/// The visitor whose conversation this is, read in one statement so it is the conversation's
/// visitor at that moment even while records merge.
pub async fn of_conversation(conn: &mut Db, conversation_id: Id) -> StoreResult<Option<Visitor>> {
    Ok(sql::query_as(concat!(
        "SELECT ",
        visitor_columns!(),
        " FROM visitors WHERE id = (SELECT visitor_id FROM conversations WHERE id = $1)"
    ))
    .bind(conversation_id)
    .fetch_optional(conn)
    .await?)
}
