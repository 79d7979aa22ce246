//! A `switchboard serve` child process: the real binary (the release build under
//! `cargo bench`), for tests that run several nodes on one database, kill one with SIGKILL or
//! read what it logs, and for the load bench.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::{Api, free_port, paths, unique};

/// How long a node may take to answer `/healthz`: a debug build on a loaded machine.
const STARTUP: Duration = Duration::from_secs(60);

pub struct Node {
    child: Child,
    pub api: Api,
    log: PathBuf,
}

impl Node {
    pub async fn spawn(database_url: &str) -> Node {
        Node::spawn_with(database_url, &[]).await
    }

    /// Starts a node with extra command-line flags, logging at `warn`.
    pub async fn spawn_with(database_url: &str, extra_args: &[&str]) -> Node {
        Node::spawn_logging(database_url, extra_args, "warn").await
    }

    /// Starts a node whose log (at `log_level`, stdout and stderr) is kept for `log()`.
    pub async fn spawn_logging(database_url: &str, extra_args: &[&str], log_level: &str) -> Node {
        Node::spawn_command(database_url, extra_args, log_level, None).await
    }

    /// Starts a node that may hold at most `open_files` descriptors (its `RLIMIT_NOFILE`).
    pub async fn spawn_with_open_files(
        database_url: &str,
        extra_args: &[&str],
        open_files: u64,
    ) -> Node {
        Node::spawn_command(database_url, extra_args, "warn", Some(open_files)).await
    }

    async fn spawn_command(
        database_url: &str,
        extra_args: &[&str],
        log_level: &str,
        open_files: Option<u64>,
    ) -> Node {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("switchboard-node-{port}-{}.log", unique()));
        let log_file = std::fs::File::create(&log).expect("node log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        if let Some(limit) = open_files {
            use std::os::unix::process::CommandExt;
            let limit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            // SAFETY: setrlimit is async-signal-safe, and this closure only calls it.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        command
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                database_url,
                "--allow-signup",
            ])
            .args(extra_args);
        // No widget rate limit unless the test sets one.
        if !extra_args.contains(&"--widget-rate-limit") {
            command.args(["--widget-rate-limit", "0"]);
        }
        let child = command
            .env("SWITCHBOARD_LOG", log_level)
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("switchboard binary starts");
        let mut node = Node {
            child,
            api: Api::new(format!("http://127.0.0.1:{port}")),
            log,
        };
        node.wait_until_healthy(port).await;
        node
    }

    async fn wait_until_healthy(&mut self, port: u16) {
        let deadline = Instant::now() + STARTUP;
        loop {
            let health = self
                .api
                .client
                .get(self.api.url(paths::HEALTHZ))
                .send()
                .await;
            if health.is_ok_and(|resp| resp.status() == 200) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("node on port {port} exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "node on port {port} did not come up: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the node has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The node's process id, to read what it uses (`/proc/{pid}`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process gets no chance to finish anything.
    pub fn kill_9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
