//! Session and connection lifecycle events, the same on both sides: `tracing` events
//! with `side`, `client_id` and `session_id`, and the session and reconnect metrics.

use super::labels::{Side, TARGET};
use super::metrics;

/// A session was created (client: before its first connect; server: on the first
/// handshake of a session id).
pub(crate) fn session_started(side: Side, client_id: &str, session_id: &str) {
    metrics::session_opened(side);
    tracing::info!(target: TARGET, side = side.as_str(), client_id, session_id, "session started");
}

/// A handshake succeeded; `reconnect` when it resumed an existing session.
pub(crate) fn handshake_accepted(side: Side, client_id: &str, session_id: &str, reconnect: bool) {
    if reconnect {
        metrics::reconnected(side);
    }
    tracing::info!(
        target: TARGET,
        side = side.as_str(),
        client_id,
        session_id,
        reconnect,
        "handshake accepted"
    );
}

/// A handshake was refused (by the server, or as the client saw it).
pub(crate) fn handshake_rejected(side: Side, client_id: &str, session_id: &str, reason: &str) {
    tracing::warn!(
        target: TARGET,
        side = side.as_str(),
        client_id,
        session_id,
        reason,
        "handshake rejected"
    );
}

/// The session lost its connection and waits for a reconnect within its grace period.
pub(crate) fn connection_lost(side: Side, client_id: &str, session_id: &str) {
    tracing::info!(target: TARGET, side = side.as_str(), client_id, session_id, "connection lost");
}

/// The client starts a connection attempt for a session that was connected before.
pub(crate) fn reconnecting(client_id: &str, session_id: &str) {
    tracing::debug!(target: TARGET, side = "client", client_id, session_id, "reconnecting");
}

/// The grace period passed without a reconnect; the session ends.
pub(crate) fn grace_expired(side: Side, client_id: &str, session_id: &str) {
    tracing::info!(
        target: TARGET,
        side = side.as_str(),
        client_id,
        session_id,
        "session grace period expired"
    );
}

/// The session is gone (closed, expired, replaced or destroyed after an error).
pub(crate) fn session_ended(side: Side, client_id: &str, session_id: &str) {
    metrics::session_closed(side);
    tracing::info!(target: TARGET, side = side.as_str(), client_id, session_id, "session ended");
}
