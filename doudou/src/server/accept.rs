//! The accept loop: one task per connection (at most `GDD_MAX_CONNECTIONS`), and the drain
//! when the server stops.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::conn;
use super::shutdown::shutdown_signal;
use super::stack::Stack;
use crate::config::Config;
use crate::manage::ServerState;

/// The gossip node that announces this server, when there is one.
#[cfg(feature = "gossip")]
pub(super) type Announced = Option<Arc<crate::registry::Gossip>>;
/// Without the `gossip` feature nothing announces a server.
#[cfg(not(feature = "gossip"))]
pub(super) type Announced = ();

pub(super) async fn accept_loop(
    listener: TcpListener,
    stack: Stack,
    config: Arc<Config>,
    state: Arc<ServerState>,
    stop: CancellationToken,
    announced: Announced,
) {
    let (drain_tx, mut drain_rx) = mpsc::channel::<()>(1);
    let shutdown = shutdown_signal(stop.clone());
    tokio::pin!(shutdown);
    let shutdown_delay = config.shutdown_delay;
    let mut shutdown_delay_ends: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    // When the signal came: the last spans get what is left of the grace period from there.
    let mut stopping = None;
    // One permit per connection served: past GDD_MAX_CONNECTIONS, new connections wait in the
    // kernel's listen backlog until one closes.
    let connections = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    let mut limit_logged: Option<Instant> = None;
    loop {
        let next = async {
            let permit = match connections.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    if !matches!(limit_logged, Some(at) if at.elapsed() < Duration::from_secs(1)) {
                        tracing::warn!(
                            limit = config.max_connections,
                            "GDD_MAX_CONNECTIONS reached: new connections wait until one closes"
                        );
                        limit_logged = Some(Instant::now());
                    }
                    match connections.clone().acquire_owned().await {
                        Ok(permit) => permit,
                        Err(_) => std::future::pending().await,
                    }
                }
            };
            (permit, listener.accept().await)
        };
        let (permit, stream, remote) = tokio::select! {
            (permit, accepted) = next => match accepted {
                Ok((stream, remote)) => (permit, stream, remote),
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown, if shutdown_delay_ends.is_none() => {
                stopping = Some(std::time::Instant::now());
                state.ready.store(false, Ordering::Release);
                // Peers stop routing here before the listener closes.
                #[cfg(feature = "gossip")]
                if let Some(gossip) = &announced {
                    gossip.leave(config.grace_timeout.min(Duration::from_secs(3))).await;
                }
                if shutdown_delay.is_zero() {
                    break;
                }
                tracing::info!(delay = ?shutdown_delay, "not ready; still serving for GDD_SHUTDOWN_DELAY");
                shutdown_delay_ends = Some(Box::pin(tokio::time::sleep(shutdown_delay)));
                continue;
            }
            () = async {
                match shutdown_delay_ends.as_mut() {
                    Some(delay) => delay.await,
                    None => std::future::pending().await,
                }
            } => break,
        };
        conn::serve(stream, remote, stack.clone(), config.idle_timeout, &stop, (drain_tx.clone(), permit));
    }
    state.ready.store(false, Ordering::Release);
    drop(listener);
    stop.cancel();
    drop(drain_tx);
    let grace = config.grace_timeout;
    tracing::info!(grace = ?grace, "shutting down: draining in-flight requests");
    match tokio::time::timeout(grace, drain_rx.recv()).await {
        Ok(_) => tracing::info!("drained; bye"),
        Err(_) => tracing::warn!("GDD_GRACE_TIMEOUT ({grace:?}) elapsed with requests still in flight"),
    }
    // The last spans go out within what is left of the grace period, counted from the signal.
    let stopping = stopping.unwrap_or_else(std::time::Instant::now);
    crate::trace::flush(grace.saturating_sub(stopping.elapsed())).await;
    #[cfg(feature = "gossip")]
    if let Some(gossip) = announced {
        gossip.shutdown().await;
        crate::registry::uninstall(&gossip);
    }
    #[cfg(not(feature = "gossip"))]
    let () = announced;
}
