//! The commands besides `serve`: `admin` (accounts, on the configured database), `migrate` and
//! `backup`. Each prints what it did on stdout; a refusal or failure is one line on stderr and
//! exit code 1 (`main`), a usage error exit code 2 (clap).

use std::io::BufRead;

use crate::config::DEFAULT_DATABASE_URL;
use crate::domain::Id;
use crate::service::{Admin, AdminSettings, ServiceError, Signup};
use crate::store::{Backend, Store, StoreError};
use crate::timefmt::rfc3339;

/// Two connections are plenty for one command.
const CONNECTIONS: u32 = 2;

/// The database a command works on, named as for `serve`.
#[derive(clap::Args)]
pub struct Database {
    /// `sqlite:PATH` (embedded, the default) or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

/// What the admin commands need of the servers' settings, named as for `serve`.
#[derive(clap::Args)]
pub struct ServerSettings {
    /// The URL people reach the server at: links start with it.
    #[arg(
        long,
        env = "SWITCHBOARD_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub public_url: String,
    /// The servers' SMTP URL. Only whether it is set matters here: then the teammates that a
    /// deactivated person's chats move to are emailed, as the servers would.
    #[arg(
        long,
        env = "SWITCHBOARD_SMTP_URL",
        hide_env_values = true,
        global = true
    )]
    pub smtp_url: Option<String>,
}

#[derive(clap::Subcommand)]
pub enum AdminCommand {
    /// Set an operator's password to the line read from stdin (their sessions end), or with
    /// `--link` print a one-time reset link instead (valid one hour, as the emailed ones).
    ResetPassword {
        email: String,
        /// The operator's workspace, when the email is in several.
        #[arg(long = "workspace")]
        workspace_id: Option<Id>,
        /// Print a reset link to hand to the operator instead of reading a password.
        #[arg(long)]
        link: bool,
    },
    /// Create a workspace and its owner (the password is read from stdin), even with signup
    /// closed; prints the new ids.
    CreateOwner {
        #[arg(long)]
        workspace_name: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
    },
    /// List the workspaces: id, name, operators, created (tab-separated).
    ListWorkspaces,
    /// Deactivate an operator, as in the inbox: they can no longer sign in, their sessions
    /// end, their open chats go back to the team. The last owner is refused.
    Deactivate {
        email: String,
        /// The operator's workspace, when the email is in several.
        #[arg(long = "workspace")]
        workspace_id: Option<Id>,
    },
}

/// Why a command did not do what it was asked; its message is the one line printed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Refused(String),
    #[error("reading stdin: {0}")]
    Stdin(#[from] std::io::Error),
}

impl From<ServiceError> for CommandError {
    fn from(e: ServiceError) -> CommandError {
        match e {
            ServiceError::Unavailable(e) | ServiceError::Internal(e) => CommandError::Store(e),
            refused => CommandError::Refused(refused.to_string()),
        }
    }
}

pub type CommandResult = Result<(), CommandError>;

/// Opens the database and applies pending migrations, as `serve` does.
async fn open(database: &Database) -> Result<Store, CommandError> {
    let store = Store::connect(&database.database_url, CONNECTIONS).await?;
    store.migrate().await?;
    Ok(store)
}

pub async fn migrate(database: Database) -> CommandResult {
    open(&database).await?.close().await;
    println!("the database is up to date");
    Ok(())
}

/// SQLite: a consistent copy while servers keep running; restore by starting a server on it.
/// PostgreSQL: refused, pointing to `pg_dump`.
pub async fn backup(database: Database, path: &str) -> CommandResult {
    let store = Store::connect(&database.database_url, CONNECTIONS).await?;
    if store.backend() == Backend::Postgres {
        return Err(CommandError::Refused(
            "on PostgreSQL, back up with pg_dump (e.g. pg_dump -Fc -f switchboard.dump DBNAME)"
                .into(),
        ));
    }
    if std::path::Path::new(path).exists() {
        return Err(CommandError::Refused(format!(
            "{path} exists; give a path that does not"
        )));
    }
    store.backup_sqlite_into(path).await?;
    store.close().await;
    println!("backed up to {path}; to restore, start a server with --database-url sqlite:{path}");
    Ok(())
}

pub async fn admin(
    database: Database,
    settings: ServerSettings,
    command: AdminCommand,
) -> CommandResult {
    let store = open(&database).await?;
    let settings = AdminSettings {
        public_url: settings.public_url,
        email_enabled: settings.smtp_url.is_some(),
    };
    let admin = Admin::new(store.clone(), settings);
    let done = run(&admin, command).await;
    store.close().await;
    done
}

async fn run(admin: &Admin, command: AdminCommand) -> CommandResult {
    match command {
        AdminCommand::ResetPassword {
            email,
            workspace_id,
            link: true,
        } => {
            let operator = admin.operator(&email, workspace_id).await?;
            println!("{}", admin.reset_link(&operator).await?);
        }
        AdminCommand::ResetPassword {
            email,
            workspace_id,
            link: false,
        } => {
            let operator = admin.operator(&email, workspace_id).await?;
            let ended = admin
                .reset_password(&operator, password_from_stdin()?)
                .await?;
            println!(
                "password set for {} (operator {}, workspace {}); sessions ended: {ended}",
                operator.email, operator.id, operator.workspace_id
            );
        }
        AdminCommand::CreateOwner {
            workspace_name,
            name,
            email,
        } => {
            let signup = Signup {
                workspace_name,
                name,
                email,
                password: password_from_stdin()?,
            };
            let (workspace, operator) = admin.create_owner(signup).await?;
            println!("workspace {} operator {}", workspace.id, operator.id);
        }
        AdminCommand::ListWorkspaces => {
            println!("id\tname\toperators\tcreated");
            for row in admin.list_workspaces().await? {
                let w = &row.workspace;
                let created = rfc3339::format(w.created_at);
                println!("{}\t{}\t{}\t{created}", w.id, w.name, row.operators);
            }
        }
        AdminCommand::Deactivate {
            email,
            workspace_id,
        } => {
            let operator = admin.operator(&email, workspace_id).await?;
            admin.deactivate(&operator).await?;
            println!(
                "deactivated {} (operator {}, workspace {}): sessions ended, open chats back to the team",
                operator.email, operator.id, operator.workspace_id
            );
        }
    }
    Ok(())
}

/// One line from stdin, without its line ending.
fn password_from_stdin() -> Result<String, CommandError> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
