//! Start-up, the HTTP server and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::ai::Greeter;
use crate::config::Config;
use crate::http::{AppState, router};
use crate::realtime::Hub;
use crate::service::{Service, Settings};
use crate::store::{Store, StoreError};

/// Events buffered for listeners that fall behind, per process.
const HUB_CAPACITY: usize = 4096;

pub struct App {
    service: Service,
    config: Config,
}

impl App {
    /// Opens the database and applies pending migrations.
    pub async fn start(config: Config) -> Result<App, StoreError> {
        let store = Store::connect(&config.database_url, config.database_max_connections).await?;
        store.migrate().await?;
        tracing::info!(backend = ?store.backend(), "database ready");
        let service = Service::new(
            store,
            Hub::new(HUB_CAPACITY),
            Arc::new(Greeter),
            Settings {
                allow_signup: config.allow_signup,
            },
        );
        Ok(App { service, config })
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and closes the
    /// database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let public_url = self.config.public_url();
        let state = AppState::new(self.service.clone(), public_url.starts_with("https://"));
        tracing::info!(address = %listener.local_addr()?, %public_url, "serving");
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        self.service.store().close().await;
        Ok(())
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
