//! Stopping a server: at once, or gracefully with a deadline for calls in flight.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::commands::Cmd;
use super::session::SessionShared;
use super::ServerShared;

/// What a graceful shutdown found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShutdownReport {
    /// Whether every call in flight finished before the deadline.
    pub drained: bool,
    /// Calls still open at the deadline, ended with `UNEXPECTED_DISCONNECT`.
    pub cut_streams: usize,
}

/// Stops accepting: new sessions are refused and the accept loop drops the listener.
fn stop_accepting(server: &ServerShared) {
    server.shutting_down.store(true, Ordering::SeqCst);
    server.shutdown_tx.send_replace(true);
}

/// Destroys every session, then waits for every connection and session task.
async fn close_all(server: &ServerShared) {
    let sessions: Vec<Arc<SessionShared>> = server
        .lock_sessions()
        .values()
        .map(|e| e.shared.clone())
        .collect();
    for s in sessions {
        let _ = s.tx.send(Cmd::Destroy);
    }
    // Drop our own token, then wait until every task has dropped its clone.
    match server.done_tx.lock() {
        Ok(mut g) => drop(g.take()),
        Err(p) => drop(p.into_inner().take()),
    }
    let mut rx = server.done_rx.lock().await;
    if let Some(rx) = rx.as_mut() {
        while rx.recv().await.is_some() {}
    }
}

pub(super) async fn immediate(server: &ServerShared) {
    server.draining.store(true, Ordering::SeqCst);
    stop_accepting(server);
    close_all(server).await;
}

pub(super) async fn graceful(server: &ServerShared, deadline: Duration) -> ShutdownReport {
    let until = Instant::now() + deadline;
    server.draining.store(true, Ordering::SeqCst);
    stop_accepting(server);
    // Streams end in the session tasks; a short poll keeps this free of another
    // notification path on the hot path.
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    loop {
        if server.stream_count.load(Ordering::SeqCst) == 0 || Instant::now() >= until {
            break;
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::time::sleep_until(until) => {}
        }
    }
    let cut_streams = server.stream_count.load(Ordering::SeqCst);
    close_all(server).await;
    ShutdownReport {
        drained: cut_streams == 0,
        cut_streams,
    }
}
