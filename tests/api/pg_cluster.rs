//! A PostgreSQL server of the test's own (initdb in a temporary directory), so a test can stop
//! and restart it without disturbing the shared server the other tests use.

use std::path::PathBuf;
use std::process::Command;

use crate::common::free_port;

pub struct PgCluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    /// initdb refuses to run as root: as root, every command runs as the `postgres` user.
    as_postgres: bool,
}

impl PgCluster {
    /// Creates and starts a cluster; `None` (with the reason printed) when PostgreSQL's server
    /// binaries are not installed outside CI. In CI their absence fails the test.
    pub fn start() -> Option<PgCluster> {
        let Some(bin) = server_binaries() else {
            let reason = "PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are missing";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI needs them: {reason}");
            }
            eprintln!("SKIPPED: {reason}");
            return None;
        };
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("switchboard-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // SAFETY: getuid has no preconditions.
        let as_postgres = unsafe { libc::getuid() } == 0;
        let cluster = PgCluster {
            bin,
            dir,
            port,
            as_postgres,
        };
        if as_postgres {
            let mut chown = Command::new("chown");
            chown.arg("postgres:postgres").arg(&cluster.dir);
            cluster.check(chown);
        }
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-A", "trust", "-U", "postgres", "--no-sync", "-D", &data],
        );
        cluster.pg_ctl("start");
        Some(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn stop(&self) {
        self.pg_ctl("stop");
    }

    pub fn start_again(&self) {
        self.pg_ctl("start");
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn pg_ctl(&self, action: &str) {
        let data = self.data();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                action, "-w", "-m", "fast", "-D", &data, "-l", &log, "-o", &options,
            ],
        );
    }

    fn run(&self, program: &str, args: &[&str]) {
        let mut command = self.command(program);
        command.args(args);
        self.check(command);
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn check(&self, mut command: Command) {
        let output = command.output().expect("command runs");
        assert!(
            output.status.success(),
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-m", "immediate", "-D", &data])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest installed PostgreSQL's `bin` directory.
fn server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}
