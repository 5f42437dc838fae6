//! What stops a server: SIGINT, SIGTERM, or [`Running::shutdown`](super::Running::shutdown).

use tokio_util::sync::CancellationToken;

/// Resolves on SIGINT, SIGTERM or a programmatic stop; then tells every connection to close.
pub(super) async fn shutdown_signal(stop: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
        () = stop.cancelled() => {}
    }
}
