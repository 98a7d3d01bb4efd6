//! What a client reports about itself: [`ClientEvent`], [`ClientStats`].

use super::*;

/// Something that happened to the client's sessions or connections; see
/// [`Client::events`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A new session was created (not yet connected).
    SessionCreated {
        /// Its id.
        session_id: String,
    },
    /// A handshake succeeded.
    Connected {
        /// The session id.
        session_id: String,
        /// Whether this resumed an existing session after a connection loss.
        reconnect: bool,
    },
    /// The connection was lost (or closed by the watchdog); the session survives for the
    /// grace period.
    ConnectionLost {
        /// The session id.
        session_id: String,
    },
    /// A session was destroyed; its calls failed with `UNEXPECTED_DISCONNECT`.
    SessionClosed {
        /// The session id.
        session_id: String,
    },
    /// The handshake failed (rejected, invalid response, or metadata construction failed).
    HandshakeFailed {
        /// The server's rejection code, if it sent one.
        code: Option<HandshakeErrorCode>,
        /// What happened.
        message: String,
    },
    /// A connection attempt failed before the handshake: DNS, refused connection,
    /// timeout, TLS, or an HTTP status instead of the WebSocket upgrade.
    ConnectFailed {
        /// What happened (the full error text).
        message: String,
        /// Whether the client stopped after it (401/403, untrusted certificate,
        /// unsupported URL); otherwise the reconnect policy applies.
        is_final: bool,
    },
    /// No reconnect attempts are left (`conn_retry_exceeded` in the reference).
    RetryBudgetExhausted,
    /// An inbound frame was invalid (undecodable, wrong `from`); the session was destroyed.
    InvalidMessage {
        /// What was wrong.
        message: String,
    },
}

/// Counters describing the client's connection history; see [`Client::stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientStats {
    /// Dial attempts started.
    pub connection_attempts: u64,
    /// Successful handshakes (connections established).
    pub connections: u64,
    /// Successful handshakes that resumed an existing session.
    pub reconnects: u64,
    /// Sessions created.
    pub sessions_created: u64,
    /// Sessions destroyed.
    pub sessions_closed: u64,
    /// Times the driver stopped reading the connection because a reader queue was full.
    pub read_pauses: u64,
    /// The most items seen in any one reader queue (never above the capacity).
    pub reader_queue_peak: u64,
}

#[derive(Default)]
pub(crate) struct StatsCounters {
    pub(crate) connection_attempts: AtomicU64,
    pub(crate) connections: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) sessions_created: AtomicU64,
    pub(crate) sessions_closed: AtomicU64,
    pub(crate) read_pauses: AtomicU64,
    pub(crate) reader_queue_peak: AtomicU64,
}

/// The send-buffer length of the current session, for writer backpressure.
pub(crate) struct Backpressure {
    pub(crate) len: AtomicUsize,
    /// Data frames handed to the driver but not stamped yet.
    pub(crate) pending: AtomicUsize,
    pub(crate) notify: Notify,
    pub(crate) high_water_mark: usize,
}
