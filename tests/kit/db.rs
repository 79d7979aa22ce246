//! A database made for one test (or one bench run) and dropped after it.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor, PgConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh database, removed when dropped.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Nothing,
    SqliteDir(std::path::PathBuf),
    PostgresDb { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh database of the given kind, PostgreSQL on the test server
    /// (`SWITCHBOARD_TEST_POSTGRES_URL`); `None` (with the reason printed) when that is not
    /// reachable outside CI. In CI (`CI=true`) a missing PostgreSQL fails the test.
    pub async fn create(db: Db) -> Option<TestDb> {
        match db {
            Db::Sqlite => Some(TestDb::sqlite()),
            Db::Postgres => {
                let admin_url = postgres_admin_url();
                match TestDb::postgres(&admin_url).await {
                    Ok(db) => Some(db),
                    Err(e) => {
                        if std::env::var("CI").is_ok_and(|v| v == "true") {
                            panic!(
                                "PostgreSQL is required in CI but {admin_url} is unreachable: {e}"
                            );
                        }
                        eprintln!(
                            "SKIPPED: PostgreSQL at {admin_url} is unreachable ({e}); set SWITCHBOARD_TEST_POSTGRES_URL"
                        );
                        None
                    }
                }
            }
        }
    }

    /// A SQLite file in a temporary directory of its own.
    pub fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("switchboard-test-{}", stamp()));
        std::fs::create_dir_all(&dir).unwrap();
        TestDb {
            url: format!("sqlite:{}", dir.join("test.db").display()),
            cleanup: Cleanup::SqliteDir(dir),
        }
    }

    /// A new database on the PostgreSQL server that `admin_url` signs in to; the error when
    /// that server cannot be reached.
    pub async fn postgres(admin_url: &str) -> Result<TestDb, sqlx::Error> {
        let mut admin = PgConnection::connect(admin_url).await?;
        drop_stale_databases(&mut admin).await;
        let name = format!("sbt_{}", stamp());
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        // The new database's URL is the admin one's with the database name replaced, its
        // parameters (`?sslmode=…`) kept.
        let (path, query) = match admin_url.split_once('?') {
            Some((path, query)) => (path, format!("?{query}")),
            None => (admin_url, String::new()),
        };
        let base = path.rsplit_once('/').map(|(b, _)| b).unwrap_or(path);
        Ok(TestDb {
            url: format!("{base}/{name}{query}"),
            cleanup: Cleanup::PostgresDb {
                admin_url: admin_url.to_owned(),
                name,
            },
        })
    }

    /// Stands in for a database handed on to a restarted server; cleans nothing up.
    pub fn placeholder() -> TestDb {
        TestDb {
            url: String::new(),
            cleanup: Cleanup::Nothing,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Nothing => {}
            Cleanup::SqliteDir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PostgresDb { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop may run inside the test's runtime, so the cleanup gets a thread of its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(mut admin) = PgConnection::connect(&admin_url).await {
                            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = admin.execute(sqlx::AssertSqlSafe(sql)).await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

pub fn postgres_admin_url() -> String {
    std::env::var("SWITCHBOARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// The creation time in seconds, first, so `drop_stale_databases` can read a database's age
/// from its name; then what makes it unique.
fn stamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("{secs}_{}", super::unique())
}

/// Databases left by runs that were killed: older than an hour.
async fn drop_stale_databases(admin: &mut PgConnection) {
    let cutoff = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 3600;
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'sbt\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for (name,) in names {
        let created: Option<u64> = name.split('_').nth(1).and_then(|s| s.parse().ok());
        if created.is_some_and(|t| t < cutoff) {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }
}
