//! Start-up, the HTTP server, background tasks and graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::ai::{KnowledgeBase, OpenAiCompatible, Responder};
use crate::config::Config;
use crate::http::connections::{self, LimitedListener, Peer};
use crate::http::{AppState, TrustedProxies, router};
use crate::metrics::Metrics;
use crate::notify::Worker;
use crate::notify::email::Mailer;
use crate::notify::push::{Pusher, Vapid};
use crate::realtime::{EventSink, Hub};
use crate::service::{Service, Settings, beat, new_node_id};
use crate::store::{Store, StoreError, notifications};

const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// Beyond the AI's timeout, how long an owed turn waits before another node takes it over.
const AI_TURN_TAKEOVER_MARGIN: Duration = Duration::from_secs(30);

pub struct App {
    service: Service,
    config: Config,
    /// The process's one shutdown signal. Everything that runs until the server stops watches
    /// it: the HTTP server's graceful shutdown, the open event streams (through the hub), the
    /// LISTEN bridge, the event-log pruner and the notification worker.
    shutdown: CancellationToken,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("resuming the AI's pending turns: {0}")]
    Resume(#[source] crate::service::ServiceError),
    #[error("closing the inbox tabs a stopped process left open: {0}")]
    Tabs(#[source] crate::service::ServiceError),
}

impl App {
    /// Opens the database, applies pending migrations and starts the background tasks: the
    /// notification worker, the event-log pruner and, on PostgreSQL, listening for every node's
    /// events (before any request is taken).
    pub async fn start(config: Config) -> Result<App, StartError> {
        // reqwest (web push) and lettre use rustls; ring is the one crypto provider we ship.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mailer = match &config.smtp_url {
            Some(url) => Some(Arc::new(
                Mailer::new(url, &config.smtp_from)
                    .map_err(|e| StartError::Config(e.to_string()))?,
            )),
            None => None,
        };
        if config.presence_grace_secs < crate::config::MIN_PRESENCE_GRACE_SECS
            && !config.allow_short_timers
        {
            return Err(StartError::Config(format!(
                "--presence-grace-secs must be {} to 3600 (shorter only with --allow-short-timers)",
                crate::config::MIN_PRESENCE_GRACE_SECS
            )));
        }
        let store = Store::connect(&config.database_url, config.database_max_connections).await?;
        store.migrate().await?;
        tracing::info!(backend = ?store.backend(), "database ready");
        let vapid = vapid(&config, &store).await?;
        let shutdown = CancellationToken::new();
        let hub = Hub::new(config.event_buffer.max(1), shutdown.clone());
        let events = EventSink::start(&store, &config.database_url, hub).await;
        let notify_wake = Arc::new(Notify::new());
        let metrics = Metrics::new();
        let settings = Settings {
            allow_signup: config.allow_signup,
            public_url: config.public_url(),
            email_enabled: mailer.is_some(),
            push_allow_http: config.push_allow_http,
            vapid_public_key: vapid.public_key(),
            notify_wake: notify_wake.clone(),
            ai_turn_takeover: Duration::from_secs(config.ai_timeout_secs.max(1))
                + AI_TURN_TAKEOVER_MARGIN,
            shutdown: shutdown.clone(),
            timer_wake: Arc::new(Notify::new()),
            presence_grace: Duration::from_secs(config.presence_grace_secs),
            allow_short_timers: config.allow_short_timers,
            streams: tokio_util::task::TaskTracker::new(),
            visitor_email_delay: Duration::from_secs(config.visitor_email_delay_secs),
            node_id: new_node_id(),
            unclosed_streams: Arc::default(),
        };
        // Alive before any visitor stream names this node.
        beat(&store, &settings.node_id).await?;
        let worker = Worker {
            store: store.clone(),
            mailer,
            pusher: Arc::new(Pusher::new(vapid)),
            wake: notify_wake,
            max_backoff: Duration::from_secs(config.notify_retry_max_secs.max(1)),
            lease: Duration::from_secs(config.notify_lease_secs),
            shutdown: shutdown.clone(),
            metrics: metrics.clone(),
        };
        let service = Service::new(store, events, responder(&config), settings, metrics);
        tokio::spawn(worker.run());
        tokio::spawn(prune_events(service.clone(), shutdown.clone()));
        tokio::spawn(service.clone().sweep_owed_ai_turns());
        service
            .forget_stale_tabs()
            .await
            .map_err(StartError::Tabs)?;
        // Deadlines that came due while no node ran fire now, before requests are taken.
        if let Err(e) = service.fire_due_timers().await {
            tracing::warn!(error = %e, "firing the deadlines due at start-up failed; retrying");
        }
        tokio::spawn(service.clone().run_timers());
        tokio::spawn(service.clone().keep_node_alive());
        let resumed = service
            .resume_ai_turns()
            .await
            .map_err(StartError::Resume)?;
        if resumed > 0 {
            tracing::info!(conversations = resumed, "resumed the AI's pending turns");
        }
        Ok(App {
            service,
            config,
            shutdown,
        })
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Serves until `shutdown` resolves, which raises the process's shutdown signal: the open
    /// streams close and the background tasks stop. Then finishes in-flight requests and
    /// closes the database. With `--metrics-listen`, `/metrics` is served there meanwhile.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let public_url = self.config.public_url();
        let state = AppState::new(
            self.service.clone(),
            public_url.starts_with("https://"),
            self.config.widget_rate_limit,
            TrustedProxies::new(self.config.trusted_proxies.clone()),
        );
        let max_connections = self
            .config
            .max_connections
            .map_or_else(connections::default_max_connections, |n| n as usize);
        let limits = connections::Limits {
            header_timeout: Duration::from_secs(self.config.header_timeout_secs),
            idle_timeout: Duration::from_secs(self.config.idle_timeout_secs),
        };
        tracing::info!(address = %listener.local_addr()?, %public_url, max_connections, "serving");
        if let Some(address) = self.config.metrics_listen {
            self.serve_metrics(address).await?;
        }
        let listener = LimitedListener::new(listener, max_connections, limits);
        let signal = self.shutdown.clone();
        // The server stops on the process's signal like everything else; `shutdown` raises
        // it. Open streams are not requests that graceful shutdown waits for: the same signal
        // closes them.
        let stopping = async move {
            tokio::select! {
                () = shutdown => signal.cancel(),
                () = signal.cancelled() => {}
            }
        };
        axum::serve(
            listener,
            router(state, self.config.metrics_listen.is_some())
                .into_make_service_with_connect_info::<Peer>(),
        )
        .with_graceful_shutdown(stopping)
        .await?;
        self.shutdown.cancel();
        self.service.settle_streams().await;
        self.service.store().close().await;
        Ok(())
    }
}

impl App {
    /// Binds the metrics listener and serves `/metrics` on it until the shutdown signal.
    async fn serve_metrics(&self, address: std::net::SocketAddr) -> std::io::Result<()> {
        let listener = TcpListener::bind(address).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("cannot listen for metrics on {address}: {e}"),
            )
        })?;
        tracing::info!(%address, "serving metrics");
        let router = crate::http::metrics::router(self.service.clone());
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
        Ok(())
    }
}

fn responder(config: &Config) -> Arc<dyn Responder> {
    match config.ai.as_str() {
        "openai" => Arc::new(OpenAiCompatible::new(
            &config.ai_base_url,
            &config.ai_model,
            config.ai_api_key.clone(),
            Duration::from_secs(config.ai_timeout_secs.max(1)),
        )),
        _ => Arc::new(KnowledgeBase),
    }
}

/// The VAPID key: from the configuration, else the one stored on first start (generated then;
/// nodes starting together agree on the first one stored).
async fn vapid(config: &Config, store: &Store) -> Result<Vapid, StartError> {
    let encoded = match &config.vapid_private_key {
        Some(key) => key.clone(),
        None => {
            let mut tx = store.write().await?;
            let key = notifications::setting_or_insert(
                tx.conn(),
                "vapid_private_key",
                &Vapid::generate_private_key(),
            )
            .await?;
            tx.commit().await?;
            key
        }
    };
    Vapid::from_private_key(&encoded, config.vapid_subject()).map_err(StartError::Config)
}

/// Keeps the event log to its retention window, until shutdown.
async fn prune_events(service: Service, shutdown: CancellationToken) {
    loop {
        match service.prune_events().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(pruned = n, "event log pruned"),
            Err(e) => tracing::warn!(error = %e, "event log pruning failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
