//! Configuration with the reference implementation's defaults
//! (`transport/options.ts` of `@replit/river` 0.220.1).

use std::time::Duration;

/// Session timing shared by clients and servers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SessionOptions {
    /// How often the server sends a heartbeat, and how often the watchdog checks.
    /// Default: 1000 ms.
    pub heartbeat_interval: Duration,
    /// The connection is closed after `heartbeats_until_dead × heartbeat_interval`
    /// without an in-order inbound frame. Default: 2.
    pub heartbeats_until_dead: u32,
    /// How long a disconnected session survives before it is destroyed. Default: 5000 ms.
    pub session_disconnect_grace: Duration,
    /// How long the handshake may take. Default: 1000 ms.
    pub handshake_timeout: Duration,
    /// Whether a reconnect may resume the same session. Default: true.
    pub enable_transparent_session_reconnects: bool,
    /// Writers wait while this many messages are unacknowledged (or queued for
    /// sending). Default: 1024.
    pub send_buffer_high_water_mark: usize,
    /// Capacity, in messages, of each receiving queue: a client call's [`Reader`] /
    /// [`Response`] and a server handler's [`Requests`]. When the consumer falls this far
    /// behind, the session stops reading its connection (TCP backpressure; nothing is
    /// dropped) until the consumer takes an item; see the client and server module docs.
    /// Not in the reference (its readables are unbounded). Default: 1024; at least 1.
    ///
    /// [`Reader`]: crate::Reader
    /// [`Response`]: crate::Response
    /// [`Requests`]: crate::Requests
    pub read_queue_capacity: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            heartbeat_interval: Duration::from_millis(1000),
            heartbeats_until_dead: 2,
            session_disconnect_grace: Duration::from_millis(5000),
            handshake_timeout: Duration::from_millis(1000),
            enable_transparent_session_reconnects: true,
            send_buffer_high_water_mark: 1024,
            read_queue_capacity: 1024,
        }
    }
}

impl SessionOptions {
    /// The watchdog deadline: `heartbeats_until_dead × heartbeat_interval`.
    pub fn liveness_deadline(&self) -> Duration {
        self.heartbeat_interval * self.heartbeats_until_dead
    }
}

/// Reconnect backoff and retry budget of a client
/// (`transport/rateLimit.ts` of the reference).
///
/// Attempt `n` (counting from 0 consumed) waits `0` when nothing is consumed, else
/// `min(base_interval × 2^(consumed−1), max_backoff) + random(0..max_jitter)`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BackoffOptions {
    /// Default: 150 ms.
    pub base_interval: Duration,
    /// Default: 200 ms.
    pub max_jitter: Duration,
    /// Default: 32000 ms.
    pub max_backoff: Duration,
    /// Attempts allowed before giving up. Default: 5.
    pub attempt_budget_capacity: u32,
    /// After a successful handshake, one consumed attempt is restored per interval
    /// (never below one). Default: 200 ms.
    pub budget_restore_interval: Duration,
}

impl Default for BackoffOptions {
    fn default() -> Self {
        BackoffOptions {
            base_interval: Duration::from_millis(150),
            max_jitter: Duration::from_millis(200),
            max_backoff: Duration::from_millis(32000),
            attempt_budget_capacity: 5,
            budget_restore_interval: Duration::from_millis(200),
        }
    }
}

/// Client configuration. Start from `default()` and use the setters:
///
/// ```
/// use std::time::Duration;
/// use river_runtime::{ClientOptions, SessionOptions};
///
/// let options = ClientOptions::default()
///     .connection_timeout(Duration::from_secs(2))
///     .session(SessionOptions::default().heartbeat_interval(Duration::from_millis(500)));
/// assert_eq!(options.connection_timeout, Duration::from_secs(2));
/// assert_eq!(options.session.heartbeat_interval, Duration::from_millis(500));
/// let client = river_runtime::Client::builder("ws://127.0.0.1:8080").options(options);
/// # drop(client);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Session timing.
    pub session: SessionOptions,
    /// Reconnect policy.
    pub backoff: BackoffOptions,
    /// How long dialing may take. Default: 2000 ms.
    pub connection_timeout: Duration,
    /// Whether a call made with no session connects. Default: true.
    pub connect_on_invoke: bool,
    /// Whether a dropped connection is re-established automatically. Default: true.
    pub reconnect_on_connection_drop: bool,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            session: SessionOptions::default(),
            backoff: BackoffOptions::default(),
            connection_timeout: Duration::from_millis(2000),
            connect_on_invoke: true,
            reconnect_on_connection_drop: true,
        }
    }
}

/// Server configuration. Start from `default()` and use the setters:
///
/// ```
/// use river_runtime::ServerOptions;
///
/// let options = ServerOptions::default().max_sessions(100).max_streams_per_session(32);
/// assert_eq!(options.max_sessions, 100);
/// let builder = river_runtime::Server::builder().options(options);
/// # drop(builder);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Session timing.
    pub session: SessionOptions,
    /// Cancelled stream ids remembered per session, so late frames on them are ignored.
    /// Default: 200.
    pub max_cancelled_stream_tombstones_per_session: usize,
    /// Largest accepted WebSocket message. Default: 100 MiB (the `ws` library's default).
    pub max_frame_size: usize,
    /// Most concurrently open streams per session; beyond it new streams are rejected
    /// with `INVALID_REQUEST`. Default: 10,000.
    pub max_streams_per_session: usize,
    /// Most concurrent sessions; beyond it handshakes are refused. Default: 100,000.
    pub max_sessions: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            session: SessionOptions::default(),
            max_cancelled_stream_tombstones_per_session: 200,
            max_frame_size: 100 * 1024 * 1024,
            max_streams_per_session: 10_000,
            max_sessions: 100_000,
        }
    }
}

/// `pub fn field(mut self, value) -> Self` for each listed field: the structs are
/// `#[non_exhaustive]`, so outside this crate they are built from `default()` and
/// these setters.
macro_rules! setters {
    ($ty:ident { $($field:ident: $t:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](", stringify!($ty), "::", stringify!($field), ").")]
                pub fn $field(mut self, value: $t) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

setters!(SessionOptions {
    heartbeat_interval: Duration,
    heartbeats_until_dead: u32,
    session_disconnect_grace: Duration,
    handshake_timeout: Duration,
    enable_transparent_session_reconnects: bool,
    send_buffer_high_water_mark: usize,
    read_queue_capacity: usize,
});

setters!(BackoffOptions {
    base_interval: Duration,
    max_jitter: Duration,
    max_backoff: Duration,
    attempt_budget_capacity: u32,
    budget_restore_interval: Duration,
});

setters!(ClientOptions {
    session: SessionOptions,
    backoff: BackoffOptions,
    connection_timeout: Duration,
    connect_on_invoke: bool,
    reconnect_on_connection_drop: bool,
});

setters!(ServerOptions {
    session: SessionOptions,
    max_cancelled_stream_tombstones_per_session: usize,
    max_frame_size: usize,
    max_streams_per_session: usize,
    max_sessions: usize,
});
