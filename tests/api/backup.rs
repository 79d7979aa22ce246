//! `switchboard backup PATH`: on SQLite a consistent copy taken while a server writes, which a
//! server starts on with every row acknowledged before the backup began; on PostgreSQL a
//! pointer to `pg_dump`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::{Connection, SqliteConnection};
use tokio::sync::Mutex;

use crate::admin::switchboard;
use crate::common::{Api, Db, Node, TestDb, Widget};

/// Chats started by visitors until `stop`, each id recorded once its 201 came back.
async fn write_load(api: Api, widget: Widget, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<i64>>>) {
    while !stop.load(Ordering::Relaxed) {
        let chat = api.start_chat(&widget, "hello").await;
        acked.lock().await.push(chat.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_opens_with_every_acknowledged_row() {
    let db = TestDb::sqlite();
    let node = Node::spawn(&db.url).await;
    let owner = node.api.signup("Acme").await;
    let widget = node.api.widget(&owner, "manual", &[]).await;
    let (stop, acked) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(Mutex::new(Vec::new())),
    );
    let writers: Vec<_> = (0..3)
        .map(|_| {
            let load = write_load(
                node.api.clone(),
                widget.clone(),
                stop.clone(),
                acked.clone(),
            );
            tokio::spawn(load)
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let dir = std::env::temp_dir().join(format!("switchboard-backup-{}", crate::kit::unique()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("backup.db").display().to_string();
    let before: Vec<i64> = acked.lock().await.clone();
    let url = db.url.clone();
    let backup_path = path.clone();
    let run = tokio::task::spawn_blocking(move || switchboard(&url, &["backup", &backup_path], ""))
        .await
        .unwrap();
    assert_eq!(run.code, 0, "{}", run.stderr);
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let total = acked.lock().await.len();
    assert!(
        before.len() > 10 && total > before.len(),
        "the load ran throughout: {} then {total}",
        before.len()
    );

    let again = switchboard(&db.url, &["backup", &path], "");
    assert_eq!(again.code, 1, "an existing file is never overwritten");
    assert!(again.stderr.contains("exists"), "{}", again.stderr);

    // Restore = start a server on the copy.
    let restored_url = format!("sqlite:{path}");
    let restored = Node::spawn(&restored_url).await;
    let (status, _) = restored.api.get(&owner, crate::common::paths::ME).await;
    assert_eq!(status, 200, "the owner's session is in the copy");
    let mut conn = SqliteConnection::connect(&restored_url).await.unwrap();
    let stored: Vec<(i64,)> = sqlx::query_as("SELECT id FROM conversations")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let stored: std::collections::HashSet<i64> = stored.into_iter().map(|(id,)| id).collect();
    let missing: Vec<&i64> = before.iter().filter(|id| !stored.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, missing from it: {missing:?}"
    );
    drop(restored);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_backup_points_to_pg_dump() {
    let Some(db) = TestDb::create(Db::Postgres).await else {
        return;
    };
    let run = switchboard(&db.url, &["backup", "/tmp/never-written.db"], "");
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("pg_dump"), "{}", run.stderr);
    assert!(!std::path::Path::new("/tmp/never-written.db").exists());
}
