//! Start-up, the HTTP server, background tasks and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::ai::Greeter;
use crate::config::Config;
use crate::http::{AppState, router};
use crate::realtime::{Hub, pg_bridge};
use crate::service::{Service, Settings};
use crate::store::{Backend, Store, StoreError};

const PRUNE_EVERY: Duration = Duration::from_secs(600);

pub struct App {
    service: Service,
    config: Config,
}

impl App {
    /// Opens the database, applies pending migrations and starts the background tasks (on
    /// PostgreSQL: listening for other nodes' events, before any request is taken).
    pub async fn start(config: Config) -> Result<App, StoreError> {
        let store = Store::connect(&config.database_url, config.database_max_connections).await?;
        store.migrate().await?;
        tracing::info!(backend = ?store.backend(), "database ready");
        let hub = Hub::new(config.event_buffer.max(1));
        if store.backend() == Backend::Postgres {
            let (ready, listening) = oneshot::channel();
            let bridge = pg_bridge::run(
                config.database_url.clone(),
                store.clone(),
                hub.clone(),
                ready,
                hub.shutdown_signal(),
            );
            tokio::spawn(bridge);
            let _ = listening.await;
        }
        let settings = Settings {
            allow_signup: config.allow_signup,
        };
        let service = Service::new(store, hub, Arc::new(Greeter), settings);
        tokio::spawn(prune_events(service.clone()));
        Ok(App { service, config })
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Serves until `shutdown` resolves, then closes the open streams, finishes in-flight
    /// requests and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let public_url = self.config.public_url();
        let state = AppState::new(self.service.clone(), public_url.starts_with("https://"));
        tracing::info!(address = %listener.local_addr()?, %public_url, "serving");
        let hub = self.service.hub().clone();
        let shutdown = async move {
            shutdown.await;
            // Open streams are not requests that graceful shutdown waits for: close them now.
            hub.shutdown();
        };
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        self.service.hub().shutdown();
        self.service.store().close().await;
        Ok(())
    }
}

/// Keeps the event log to its retention window, until shutdown.
async fn prune_events(service: Service) {
    let mut shutdown = service.hub().shutdown_signal();
    loop {
        match service.prune_events().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(pruned = n, "event log pruned"),
            Err(e) => tracing::warn!(error = %e, "event log pruning failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = crate::realtime::stopped(&mut shutdown) => return,
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
