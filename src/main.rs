use std::io::IsTerminal;

use anyhow::Context;
use clap::{Parser, Subcommand};
use switchboard::admin::{self, AdminCommand, CommandResult, Database, ServerSettings};
use switchboard::config::Config;

/// Switchboard: a self-hosted live-chat help desk.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the API, the inbox and the widget.
    Serve(Box<Config>),
    /// Accounts on the database, for what cannot be done in the inbox.
    Admin {
        #[command(flatten)]
        database: Database,
        #[command(flatten)]
        settings: ServerSettings,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Apply pending migrations and exit.
    Migrate(Database),
    /// Copy the SQLite database to PATH (a new file) while servers run; on PostgreSQL use
    /// pg_dump.
    Backup {
        #[command(flatten)]
        database: Database,
        path: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    return_large_allocations_to_the_system();
    tracing_subscriber::fmt()
        // Colours only on a terminal: under systemd the log goes to the journal as plain text.
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
                // sqlx warns about each broken pooled connection; an outage is reported by the
                // store once instead (store/outage.rs).
                .unwrap_or_else(|_| "info,sqlx=warn,sqlx_core::pool=error".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(config) => {
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            let app = switchboard::app::App::start(*config).await?;
            app.serve(listener, switchboard::app::shutdown_signal())
                .await?;
        }
        Command::Admin {
            database,
            settings,
            command,
        } => exit_on_error(admin::admin(database, settings, command).await),
        Command::Migrate(database) => exit_on_error(admin::migrate(database).await),
        Command::Backup { database, path } => exit_on_error(admin::backup(database, &path).await),
    }
    Ok(())
}

/// A command that was refused or failed says why in one line and exits with 1.
fn exit_on_error(result: CommandResult) {
    if let Err(e) = result {
        eprintln!("switchboard: {e}");
        std::process::exit(1);
    }
}

/// glibc's malloc raises its mmap threshold to the size of the largest block freed, so after
/// the first argon2id check (19 MiB) every later one is carved from an arena heap and kept:
/// six sign-ins took the server from 15 MiB to 130 MiB resident. A fixed threshold sends
/// every block of 1 MiB or more straight back to the system when it is freed.
fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is thread-safe and has no
    // preconditions.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
