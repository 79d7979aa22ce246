//! One `Config` from flags and `SWITCHBOARD_*` environment variables.

use std::net::SocketAddr;

/// The embedded SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite:switchboard.db";

/// No `Debug`: it holds secrets (SMTP password, AI key, VAPID key) that must never reach a
/// log.
#[derive(Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "SWITCHBOARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// `sqlite:PATH` (embedded, the default) or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Serve Prometheus metrics at `/metrics` on this address (e.g. `127.0.0.1:9090`), a
    /// listener of its own. Default: off.
    #[arg(long, env = "SWITCHBOARD_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

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

    /// SMTP server for "assigned to you" emails, e.g. `smtp://user:pass@host:587?tls=required`
    /// or `smtps://user:pass@host:465`. Without it, email is off.
    #[arg(long, env = "SWITCHBOARD_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The From of notification emails.
    #[arg(
        long,
        env = "SWITCHBOARD_SMTP_FROM",
        default_value = "Switchboard <switchboard@localhost>"
    )]
    pub smtp_from: String,

    /// The VAPID private key for Web Push (32 bytes, base64url). Without it, one is generated
    /// on first start and kept in the database.
    #[arg(long, env = "SWITCHBOARD_VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<String>,

    /// The VAPID contact (`mailto:` or `https:` URL) push services may use to reach you;
    /// defaults to the public URL when it is https, else mailto: the --smtp-from address.
    #[arg(long, env = "SWITCHBOARD_VAPID_SUBJECT")]
    pub vapid_subject: Option<String>,

    /// Accept `http://` push endpoints. Only for testing against a local push service.
    #[arg(long, env = "SWITCHBOARD_PUSH_ALLOW_HTTP", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub push_allow_http: bool,

    /// Longest wait between two delivery attempts of a failing notification, in seconds.
    #[arg(long, env = "SWITCHBOARD_NOTIFY_RETRY_MAX_SECS", default_value_t = 300)]
    pub notify_retry_max_secs: u64,

    /// How long a node may hold a notification it is delivering, in seconds. If the node dies
    /// mid-delivery, the notification is tried again (by any node) once this has passed; each
    /// delivery attempt is cut off well before it.
    #[arg(long, env = "SWITCHBOARD_NOTIFY_LEASE_SECS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(3..=86_400))]
    pub notify_lease_secs: u64,

    /// The AI responder: `builtin` (offline, answers from each widget's knowledge base) or
    /// `openai` (any OpenAI-compatible chat-completions API, see --ai-base-url).
    #[arg(long, env = "SWITCHBOARD_AI", default_value = "builtin", value_parser = ["builtin", "openai"])]
    pub ai: String,

    /// Base URL of the OpenAI-compatible API, e.g. `https://api.openai.com/v1`.
    #[arg(
        long,
        env = "SWITCHBOARD_AI_BASE_URL",
        default_value = "https://api.openai.com/v1"
    )]
    pub ai_base_url: String,

    /// The model to ask.
    #[arg(long, env = "SWITCHBOARD_AI_MODEL", default_value = "gpt-4o-mini")]
    pub ai_model: String,

    /// The API key, sent as a bearer token.
    #[arg(long, env = "SWITCHBOARD_AI_API_KEY", hide_env_values = true)]
    pub ai_api_key: Option<String>,

    /// How long to wait for the provider before handing the chat over, in seconds.
    #[arg(long, env = "SWITCHBOARD_AI_TIMEOUT_SECS", default_value_t = 20)]
    pub ai_timeout_secs: u64,

    /// Requests per minute the public widget endpoints accept from one client address and from
    /// one visitor (429 beyond); 0 turns the limit off.
    #[arg(long, env = "SWITCHBOARD_WIDGET_RATE_LIMIT", default_value_t = 60)]
    pub widget_rate_limit: u32,

    /// Seconds an operator's reply to a visitor who has no widget open waits before it is
    /// emailed to them (with every reply written meanwhile), unless they come back first.
    #[arg(long, env = "SWITCHBOARD_VISITOR_EMAIL_DELAY_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub visitor_email_delay_secs: u64,

    /// Allow `POST /api/v1/signup` even when workspaces exist (it is always allowed while the
    /// server has none).
    #[arg(long, env = "SWITCHBOARD_ALLOW_SIGNUP", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub allow_signup: bool,

    /// Proxies whose `Forwarded` / `X-Forwarded-For` headers name the client, as a comma-separated
    /// list of addresses or CIDR blocks (e.g. `127.0.0.1,10.0.0.0/8`). From any other peer those
    /// headers are ignored. Default: none.
    #[arg(long, env = "SWITCHBOARD_TRUSTED_PROXIES", value_delimiter = ',', value_parser = crate::http::parse_network)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Seconds a client has to send a request's head, from connecting or from its first byte.
    #[arg(long, env = "SWITCHBOARD_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub header_timeout_secs: u64,

    /// Seconds a kept-alive connection may wait for its next request before it is closed.
    #[arg(long, env = "SWITCHBOARD_IDLE_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub idle_timeout_secs: u64,

    /// Seconds after an Available operator's last inbox tab closed (on every node) before they
    /// turn Away (reason `no_open_tab`), unless a tab opens again meanwhile (5 to 3,600).
    #[arg(long, env = "SWITCHBOARD_PRESENCE_GRACE_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub presence_grace_secs: u64,

    /// For tests only: widget timers (`reassign_after_secs`, `auto_close_after_secs`) and
    /// `--presence-grace-secs` accept 1 second and up instead of their stated minimums.
    #[arg(long, env = "SWITCHBOARD_ALLOW_SHORT_TIMERS", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub allow_short_timers: bool,

    /// Most open connections (WebSocket streams included); beyond it new clients wait to be
    /// accepted. Default: the descriptor limit less 64.
    #[arg(long, env = "SWITCHBOARD_MAX_CONNECTIONS", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: Option<u64>,
}

/// The shortest `--presence-grace-secs` without `--allow-short-timers`.
pub const MIN_PRESENCE_GRACE_SECS: u64 = 5;

impl Config {
    pub fn vapid_subject(&self) -> String {
        if let Some(subject) = &self.vapid_subject {
            return subject.clone();
        }
        let public_url = self.public_url();
        if public_url.starts_with("https://") {
            return public_url;
        }
        let address = match self.smtp_from.split_once('<') {
            Some((_, rest)) => rest.trim_end_matches('>').trim(),
            None => self.smtp_from.trim(),
        };
        format!("mailto:{address}")
    }

    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}
