//! How a PostgreSQL write transaction sends its deferred statements: prepared once per
//! connection and executed by name afterwards, values intact, and a message that fails
//! halfway leaving the connection's statements usable.

use switchboard::store::{Store, WriteTx, sql, workspaces};

use crate::common::{Db, TestDb};

/// The statements this connection has prepared for deferred writes.
async fn prepared_here(tx: &mut WriteTx) -> i64 {
    sql::query_scalar("SELECT COUNT(*) FROM pg_prepared_statements WHERE name LIKE 'switchboard_%'")
        .fetch_one(tx.conn())
        .await
        .unwrap()
}

/// One transaction that reads first (its first message carries `BEGIN`), then renames the
/// workspace in a deferred write, then counts the prepared statements in the next message.
async fn rename(store: &Store, workspace_id: i64, name: &str) -> i64 {
    let mut tx = begun(store, workspace_id).await;
    sql::query("UPDATE workspaces SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(workspace_id)
        .defer(tx.conn())
        .await
        .unwrap();
    let prepared = prepared_here(&mut tx).await;
    tx.commit().await.unwrap();
    prepared
}

/// A write transaction of the workspace whose first message, carrying `BEGIN`, has gone: it
/// read the workspace.
async fn begun(store: &Store, workspace_id: i64) -> WriteTx {
    let mut tx = store.write().await.unwrap();
    tx.lock_workspace(workspace_id).await.unwrap();
    workspaces::get(tx.conn(), workspace_id)
        .await
        .unwrap()
        .unwrap();
    tx
}

/// A transaction that reads first, then sets the workspace's creation time in a deferred
/// write, and is left open.
async fn read_then_date(store: &Store, workspace_id: i64, created_at: i64) -> WriteTx {
    let mut tx = begun(store, workspace_id).await;
    sql::query("UPDATE workspaces SET created_at = $1 WHERE id = $2")
        .bind(created_at)
        .bind(workspace_id)
        .defer(tx.conn())
        .await
        .unwrap();
    tx
}

async fn name_of(store: &Store, workspace_id: i64) -> String {
    workspaces::get(&mut store.read().await.unwrap(), workspace_id)
        .await
        .unwrap()
        .unwrap()
        .name
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_writes_are_prepared_once_per_connection_on_postgres() {
    let Some(db) = TestDb::create(Db::Postgres).await else {
        return;
    };
    // One connection, so every transaction below runs on the same one.
    let store = Store::connect(&db.url, 1).await.unwrap();
    store.migrate().await.unwrap();
    let mut tx = store.write().await.unwrap();
    let workspace = workspaces::insert(tx.conn(), "Acme", 0).await.unwrap();
    tx.commit().await.unwrap();

    // The first rename prepares the UPDATE and the count; the later ones execute them.
    let mut counts = Vec::new();
    for name in [
        "it's",
        "back\\slash; DROP TABLE workspaces; --",
        "$1 and 'quotes'",
    ] {
        counts.push(rename(&store, workspace.id, name).await);
        assert_eq!(name_of(&store, workspace.id).await, name);
    }
    assert_eq!(counts, [2, 2, 2]);

    // A message that fails after preparing a statement: the transaction rolls back, and the
    // statements it prepared are there for the next one.
    let mut tx = read_then_date(&store, workspace.id, 7).await;
    let failed = sql::query_scalar::<i64>("SELECT 1 / ($1 - 1)")
        .bind(1_i64)
        .fetch_one(tx.conn())
        .await;
    assert!(failed.is_err(), "division by zero");
    drop(tx);
    let mut tx = read_then_date(&store, workspace.id, 9).await;
    assert_eq!(
        prepared_here(&mut tx).await,
        4,
        "the two UPDATEs, the division, the count"
    );
    tx.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let found = workspaces::get(&mut read, workspace.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.created_at, 9);
    assert_eq!(found.name, "$1 and 'quotes'");
}
