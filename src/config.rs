//! One `Config` from flags and `SWITCHBOARD_*` environment variables.

use std::net::SocketAddr;

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "SWITCHBOARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// `sqlite:PATH` (embedded, the default) or `postgres://USER@HOST:PORT/DB`.
    #[arg(
        long,
        env = "SWITCHBOARD_DATABASE_URL",
        default_value = "sqlite:switchboard.db"
    )]
    pub database_url: String,

    /// Most database connections this process opens.
    #[arg(
        long,
        env = "SWITCHBOARD_DATABASE_MAX_CONNECTIONS",
        default_value_t = 16
    )]
    pub database_max_connections: u32,

    /// The URL people reach this server at, used in links; defaults to http://LISTEN.
    #[arg(long, env = "SWITCHBOARD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Events a live stream may fall behind before it is disconnected (it can resume with
    /// `?since=`).
    #[arg(long, env = "SWITCHBOARD_EVENT_BUFFER", default_value_t = 1024)]
    pub event_buffer: usize,

    /// Allow `POST /api/v1/signup` even when workspaces exist (it is always allowed while the
    /// server has none).
    #[arg(long, env = "SWITCHBOARD_ALLOW_SIGNUP", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub allow_signup: bool,
}

impl Config {
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}
