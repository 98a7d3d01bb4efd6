//! The client: one driver task per client owns the WebSocket, the session bookkeeping
//! (`session::SessionState`: seq/ack, send buffer), the table of open streams and the
//! timers; cheap cloneable [`Client`] handles and per-call handles ([`Writer`],
//! [`Reader`], [`Response`]) talk to it over channels.
//!
//! Behaviour follows the reference client (`@replit/river` 0.220.1, see
//! `river-protocol-v2.md` §6.2, §7-§9, §14):
//!
//! - A call binds to the session that exists when it is made, creating one (and, with
//!   `connect_on_invoke`, connecting) when there is none. Frames sent while disconnected
//!   are stamped and buffered, and go out after the handshake.
//! - Payloads are encoded in the caller's task; the driver only stamps `seq`/`ack` and
//!   writes. Results are decoded in the task that polls the [`Reader`] / [`Response`].
//! - When the session is destroyed (grace period elapsed, handshake rejected, invalid
//!   frame, [`Client::close`]), every call in flight gets
//!   `Protocol(UNEXPECTED_DISCONNECT "<serverId> unexpectedly disconnected")`. A rejected
//!   handshake is reported the same way to calls (as the reference does);
//!   [`Client::connect`] and [`ClientEvent::HandshakeFailed`] carry the rejection code.
//! - Calls made after [`Client::close`] fail at once with
//!   `UNEXPECTED_DISCONNECT "transport is closed"`.
//! - Dropping an unfinished call handle cancels the call (flag 4, `CANCEL`), as if
//!   `cancel()` had been called; dropping an open [`Writer`] closes it (CLOSE). So
//!   `tokio::time::timeout(d, client.rpc(…))`, a `select!` that loses, or an aborted
//!   task cancels the call on the server too: the handler's
//!   [`Context::cancelled`](crate::Context::cancelled) resolves.
//! - Per-call deadlines: [`Response::timeout`] and [`Reader::timeout`]. When the
//!   deadline passes the call is cancelled as if dropped, and the caller gets an error
//!   for which [`RiverError::is_timeout`] is true (`deadline exceeded after 50ms`).
//! - Writers wait while the session's send buffer (plus requests queued for the driver)
//!   is at `send_buffer_high_water_mark`, and resume when acknowledgements trim it (the
//!   reference's `waitForWriteReady`; its `write` never blocks).
//! - Explicit acks: once the driver has accepted a quarter of the high-water mark of
//!   non-`ACK` frames without sending anything (every frame carries our ack), it sends an
//!   `ACK` frame (flag 1, stream `heartbeat`, seq-counted), so a server whose writers
//!   wait at their mark is not left waiting for the next heartbeat echo (in a stream
//!   echo where both sides reached the mark, that stalled both for up to a heartbeat
//!   interval). Servers do not echo client `ACK`s (the reference's uses them only for
//!   bookkeeping), and `ACK` frames never count towards the threshold, so acks cannot
//!   answer acks. A Rust server also sends an `ACK` when one of its writers starts
//!   waiting at its mark; the driver echoes it like any server `ACK` (see the `server`
//!   module docs). Against a reference server, which never waits and never acks on its
//!   own, a writer at the mark waits for the server's next frame or heartbeat.
//!
//! # Bounded reader queues
//!
//! Each call's [`Reader`] / [`Response`] has a queue of at most
//! [`SessionOptions::read_queue_capacity`](crate::SessionOptions::read_queue_capacity)
//! result items (default 1024; the reference's readables are unbounded). Final events
//! (cancel, disconnect, end of stream) never count against it. When a result arrives for
//! a full queue, the driver keeps that one frame and stops reading the connection until
//! the consumer takes an item (or drops the call). Nothing is dropped: the frame was
//! accepted (acked) and is delivered later, also across reconnects. The server then sees
//! no acknowledgements for what it sends next, its send buffer reaches its high-water
//! mark and its handlers' `send` waits: memory stays bounded end to end.
//!
//! While paused, the watchdog does not count the silence (we are not reading, so we
//! cannot see heartbeats) and instead of closing the connection it sends an `ACK`
//! keepalive every heartbeat interval, so the server's watchdog (ours, or the
//! reference's) keeps seeing a live peer. Once reading resumes, the liveness deadline
//! starts afresh.
//!
//! Limits: the pause is per session, so one slow reader holds up every other stream of
//! the session behind its frame (head-of-line blocking), and a phantom disconnect that
//! happens during a pause is only noticed once reading resumes (or when a keepalive
//! write fails). [`ClientStats::read_pauses`] and [`ClientStats::reader_queue_peak`]
//! count pauses and the largest queue seen. Unlike the server, a paused client does not
//! read ahead for acks: a single task that writes a stream and reads its results in
//! turn can wait at the high-water mark for acks that sit behind the frame it has not
//! read. Read results in another task, or bound the messages in flight.
//!
//! Deviations from the reference: the client never connects at `build()` (no
//! `eagerlyConnect`; the first call or [`Client::connect`] connects), and there is no
//! `isFatalConnectionError` hook.

mod backoff;
mod driver;
mod queue;

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot, Notify};

use crate::codec::Codec;
use crate::connect::{BoxError, ConnectProvider, ConnectRequest};
use crate::error::{Error, ProtocolError, ProtocolErrorCode, RiverError, ServiceError};
use crate::ids::generate_id;
use crate::message::{ErrorPayload, HandshakeErrorCode, Payload};
use crate::options::ClientOptions;
use crate::tls::ClientTls;
use crate::validate::{ProcedureValidators, SchemaValidators, Validator};
use crate::value::Value;

use driver::{Command, ProcKind};
use queue::StreamEvent;
use queue::{EventQueue, EventTx};

/// Builds handshake metadata: encodes the user's value and re-reads it as a [`Value`].
type MetadataFn = Arc<dyn Fn(Codec) -> Result<Value, Error> + Send + Sync>;

/// Immutable client configuration shared with the driver.
pub(crate) struct Config {
    pub(crate) url: String,
    pub(crate) codec: Codec,
    pub(crate) client_id: String,
    pub(crate) server_id: String,
    pub(crate) options: ClientOptions,
    pub(crate) metadata: Option<MetadataFn>,
    /// Extra upgrade headers sent on every connect.
    pub(crate) headers: Vec<(String, String)>,
    /// Produces the URL and headers of each connect, when set.
    pub(crate) provider: Option<ConnectProvider>,
    /// Roots for `wss://`; `None`: the webpki roots, built on first use.
    pub(crate) tls: Option<ClientTls>,
    /// Schemas to check requests and responses against (off unless set).
    pub(crate) validators: Option<SchemaValidators>,
    /// [`ClientBuilder::skip_binary_codec_check`] was called.
    pub(crate) skip_binary_check: bool,
}

impl Config {
    /// The TLS settings for `wss://` connects.
    pub(crate) fn tls(&self) -> &ClientTls {
        static DEFAULT: std::sync::OnceLock<ClientTls> = std::sync::OnceLock::new();
        match &self.tls {
            Some(t) => t,
            None => DEFAULT.get_or_init(ClientTls::default),
        }
    }
}

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    url: String,
    codec: Codec,
    client_id: Option<String>,
    server_id: String,
    options: ClientOptions,
    metadata: Option<MetadataFn>,
    headers: Vec<(String, String)>,
    provider: Option<ConnectProvider>,
    tls: Option<ClientTls>,
    validators: Option<SchemaValidators>,
    /// Fields the JSON codec cannot carry ([`ClientBuilder::require_binary_codec`]).
    binary_fields: Vec<String>,
    skip_binary_check: bool,
}

impl ClientBuilder {
    /// Checks every request this client sends (inits and request data) and every `Ok`
    /// response it receives against the schema, with the server's semantics (TypeBox's
    /// `Value.Check`). A request that does not match fails locally without being sent;
    /// a response that does not match is reported instead of decoded. Both are
    /// [`Error::is_validation`] transport errors. Off by default: it costs an extra
    /// pass over each payload. Service error payloads are not checked (a code the
    /// schema does not know still reaches the caller as `Unknown`).
    ///
    /// ```no_run
    /// # fn f(schema_json: &str) -> Result<(), river_runtime::validate::SchemaError> {
    /// use river_runtime::validate::SchemaValidators;
    /// let client = river_runtime::Client::builder("ws://127.0.0.1:8080")
    ///     .validate(SchemaValidators::compile(schema_json)?)
    ///     .build();
    /// # Ok(()) }
    /// ```
    pub fn validate(mut self, validators: SchemaValidators) -> Self {
        self.validators = Some(validators);
        self
    }

    /// What to trust for `wss://` URLs (default: the webpki roots; see [`ClientTls`]).
    pub fn tls(mut self, tls: ClientTls) -> Self {
        self.tls = Some(tls);
        self
    }
    /// Adds a header to every WebSocket upgrade request, for example
    /// `.header("authorization", "Bearer …")`. Sent on every connect and reconnect,
    /// together with the headers of a [`connect_with`](ClientBuilder::connect_with)
    /// provider.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Calls `provider` before every connect and reconnect for the URL and headers to
    /// use (the URL given to [`Client::builder`] is then only a label in messages), so
    /// a short-lived token can be refreshed before a reconnect:
    ///
    /// ```no_run
    /// use river_runtime::{Client, ConnectRequest};
    ///
    /// async fn fetch_token() -> Result<String, std::io::Error> {
    ///     Ok("t0k3n".to_string())
    /// }
    ///
    /// let client = Client::builder("wss://river.example.com/river")
    ///     .connect_with(|| async {
    ///         let token = fetch_token().await?;
    ///         Ok::<_, std::io::Error>(
    ///             ConnectRequest::new("wss://river.example.com/river")
    ///                 .header("authorization", format!("Bearer {token}")),
    ///         )
    ///     })
    ///     .build();
    /// # let _ = client;
    /// ```
    ///
    /// A provider error fails that attempt like a refused connection (it is retried
    /// with the reconnect backoff and budget).
    pub fn connect_with<F, Fut, E>(mut self, provider: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ConnectRequest, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.provider = Some(crate::connect::provider(provider));
        self
    }
    /// The codec (default JSON, as the reference). A schema with `Date` fields needs
    /// [`Codec::Msgpack`] on both sides (see [`require_binary_codec`](Self::require_binary_codec)).
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }
    /// Declares fields of the schema that the JSON codec cannot carry (its `Date`s, as
    /// [`binary_codec_fields`](crate::codec::binary_codec_fields) lists them, or a
    /// generated crate's `BINARY_CODEC_FIELDS`). With [`Codec::Json`],
    /// [`try_build`](Self::try_build) then fails, and a client made by
    /// [`build`](Self::build) fails [`Client::connect`] and every call at once, without
    /// connecting, with an [`Error::is_config`] error naming the fields and the fix:
    ///
    /// ```
    /// use river_runtime::{Client, Codec};
    ///
    /// let err = Client::builder("ws://127.0.0.1:8080")
    ///     .require_binary_codec(&["chat.post init: sentAt"])
    ///     .try_build()
    ///     .unwrap_err();
    /// assert!(err.is_config());
    /// assert_eq!(
    ///     err.to_string(),
    ///     "the JSON codec cannot carry `chat.post init: sentAt` (a Date; the reference's \
    ///      JSON codec sends {}): use Codec::Msgpack on both sides (ClientBuilder::codec)"
    /// );
    ///
    /// let client = Client::builder("ws://127.0.0.1:8080")
    ///     .require_binary_codec(&["chat.post init: sentAt"])
    ///     .codec(Codec::Msgpack)
    ///     .try_build();
    /// assert!(client.is_ok());
    /// ```
    ///
    /// Calling it again adds fields. [`skip_binary_codec_check`](Self::skip_binary_codec_check)
    /// turns the check off.
    pub fn require_binary_codec<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for field in fields {
            let field = field.as_ref();
            if !self.binary_fields.iter().any(|f| f == field) {
                self.binary_fields.push(field.to_string());
            }
        }
        self
    }
    /// Turns off the check of [`require_binary_codec`](Self::require_binary_codec)
    /// (also the one generated clients make): the JSON codec is used even though the
    /// schema has fields it cannot carry, and calls that send or receive them fail
    /// one by one (the reference's JSON codec sends a `Date` as `{}`). For tests that
    /// exercise exactly that.
    pub fn skip_binary_codec_check(mut self) -> Self {
        self.skip_binary_check = true;
        self
    }
    /// This client's id (default: a random `client-…` id). The server keeps one session per client id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }
    /// The server's transport id (default `"SERVER"`).
    pub fn server_id(mut self, id: impl Into<String>) -> Self {
        self.server_id = id.into();
        self
    }
    /// Timing, backoff and reconnect options.
    pub fn options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }
    /// Handshake metadata, built afresh for every handshake and re-handshake.
    pub fn handshake_metadata<M, F>(mut self, construct: F) -> Self
    where
        M: Serialize,
        F: Fn() -> M + Send + Sync + 'static,
    {
        self.metadata = Some(Arc::new(move |codec: Codec| {
            let encoded = codec.encode(&construct())?;
            codec.decode::<Value>(&encoded)
        }));
        self
    }
    /// Builds the client, or fails with an [`Error::is_config`] error when the codec
    /// cannot carry fields declared with
    /// [`require_binary_codec`](Self::require_binary_codec). It does not connect yet.
    pub fn try_build(self) -> Result<Client, Error> {
        let client = self.build();
        match client.inner.config_error.get() {
            Some(e) => Err(e.clone()),
            None => Ok(client),
        }
    }

    /// Builds the client. It does not connect yet: the first call (with
    /// `connect_on_invoke`) or [`Client::connect`] does.
    ///
    /// When the codec cannot carry fields declared with
    /// [`require_binary_codec`](Self::require_binary_codec), the client is built
    /// failed: [`Client::connect`] and every call fail at once with the
    /// [`Error::is_config`] error that [`try_build`](Self::try_build) returns.
    pub fn build(self) -> Client {
        let check =
            Client::binary_codec_check(self.codec, self.skip_binary_check, &self.binary_fields);
        let config = Arc::new(Config {
            url: self.url,
            codec: self.codec,
            client_id: self
                .client_id
                .unwrap_or_else(|| format!("client-{}", generate_id())),
            server_id: self.server_id,
            options: self.options,
            metadata: self.metadata,
            headers: self.headers,
            provider: self.provider,
            tls: self.tls,
            validators: self.validators,
            skip_binary_check: self.skip_binary_check,
        });
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            session_id: Mutex::new(None),
            stats: StatsCounters::default(),
            events,
            backpressure: Backpressure {
                len: AtomicUsize::new(0),
                pending: AtomicUsize::new(0),
                notify: Notify::new(),
                high_water_mark: config.options.session.send_buffer_high_water_mark,
            },
            closed: AtomicBool::new(false),
            reader_space: Notify::new(),
        });
        let config_error = std::sync::OnceLock::new();
        if let Err(e) = check {
            let _ = config_error.set(e);
        }
        Client {
            inner: Arc::new(Inner {
                config,
                shared,
                cmd_tx,
                pending_rx: Mutex::new(Some(cmd_rx)),
                spawned: AtomicBool::new(false),
                config_error,
            }),
        }
    }
}

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

/// State shared between the handles and the driver.
pub(crate) struct Shared {
    pub(crate) session_id: Mutex<Option<String>>,
    pub(crate) stats: StatsCounters,
    pub(crate) events: broadcast::Sender<ClientEvent>,
    pub(crate) backpressure: Backpressure,
    pub(crate) closed: AtomicBool,
    /// Signalled when a reader takes an item from a queue the driver found full.
    pub(crate) reader_space: Notify,
}

impl Shared {
    pub(crate) fn emit(&self, event: ClientEvent) {
        let _ = self.events.send(event);
    }
    pub(crate) fn set_session_id(&self, id: Option<String>) {
        if let Ok(mut g) = self.session_id.lock() {
            *g = id;
        }
    }
}

struct Inner {
    config: Arc<Config>,
    shared: Arc<Shared>,
    cmd_tx: mpsc::UnboundedSender<Command>,
    pending_rx: Mutex<Option<mpsc::UnboundedReceiver<Command>>>,
    spawned: AtomicBool,
    /// Why this client cannot work (the codec cannot carry the schema's fields):
    /// `connect` and every call fail with it, without connecting.
    config_error: std::sync::OnceLock<Error>,
}

impl Inner {
    /// The command channel, spawning the driver on first use. `None` when there is no
    /// tokio runtime to run it on.
    fn cmd(&self) -> Option<&mpsc::UnboundedSender<Command>> {
        if !self.spawned.load(Ordering::Acquire) {
            let handle = tokio::runtime::Handle::try_current().ok()?;
            let mut guard = self.pending_rx.lock().ok()?;
            if let Some(rx) = guard.take() {
                let driver = driver::Driver::new(self.config.clone(), self.shared.clone());
                handle.spawn(driver.run(rx));
                self.spawned.store(true, Ordering::Release);
            }
        }
        Some(&self.cmd_tx)
    }
}

/// A River client bound to one server. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let config = &self.inner.config;
        f.debug_struct("Client")
            .field("url", &config.url)
            .field("codec", &config.codec)
            .field("client_id", &config.client_id)
            .field("server_id", &config.server_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts building a client for a `ws://` or `wss://` URL. The client does not
    /// connect until the first call (or [`Client::connect`]); an unsupported scheme
    /// fails that first attempt at once, without retries ([`Error::is_config`]).
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            codec: Codec::default(),
            client_id: None,
            server_id: "SERVER".to_string(),
            options: ClientOptions::default(),
            metadata: None,
            headers: Vec::new(),
            provider: None,
            tls: None,
            validators: None,
            binary_fields: Vec::new(),
            skip_binary_check: false,
        }
    }

    /// The codec this client encodes and decodes with.
    pub fn codec(&self) -> Codec {
        self.inner.config.codec
    }

    /// Checks that this client's codec can carry `fields` (see
    /// [`ClientBuilder::require_binary_codec`]; generated clients call this with their
    /// schema's `BINARY_CODEC_FIELDS` when they wrap a runtime client). With
    /// [`Codec::Json`] and at least one field, and unless the builder's
    /// [`skip_binary_codec_check`](ClientBuilder::skip_binary_codec_check) was called,
    /// it returns an [`Error::is_config`] error naming the fields and the fix, and from
    /// then on [`Client::connect`] and every call of this client (and its clones) fail
    /// at once with that error.
    pub fn require_binary_codec<S: AsRef<str>>(&self, fields: &[S]) -> Result<(), Error> {
        if let Some(e) = self.inner.config_error.get() {
            return Err(e.clone());
        }
        let check =
            Client::binary_codec_check(self.codec(), self.inner.config.skip_binary_check, fields);
        if let Err(e) = check {
            let _ = self.inner.config_error.set(e);
            if let Some(e) = self.inner.config_error.get() {
                return Err(e.clone());
            }
        }
        Ok(())
    }

    fn binary_codec_check<S: AsRef<str>>(
        codec: Codec,
        skip: bool,
        fields: &[S],
    ) -> Result<(), Error> {
        if codec == Codec::Json && !skip && !fields.is_empty() {
            return Err(crate::codec::binary_codec_error(
                fields,
                "ClientBuilder::codec",
            ));
        }
        Ok(())
    }

    /// This client's id (`from` of every frame it sends).
    pub fn client_id(&self) -> &str {
        &self.inner.config.client_id
    }

    /// The server's id (`to` of every frame).
    pub fn server_id(&self) -> &str {
        &self.inner.config.server_id
    }

    /// The id of the current session, if one exists (connected or not).
    pub fn session_id(&self) -> Option<String> {
        self.inner
            .shared
            .session_id
            .lock()
            .ok()
            .and_then(|g| g.clone())
    }

    /// Connection counters.
    pub fn stats(&self) -> ClientStats {
        let s = &self.inner.shared.stats;
        ClientStats {
            connection_attempts: s.connection_attempts.load(Ordering::Relaxed),
            connections: s.connections.load(Ordering::Relaxed),
            reconnects: s.reconnects.load(Ordering::Relaxed),
            sessions_created: s.sessions_created.load(Ordering::Relaxed),
            sessions_closed: s.sessions_closed.load(Ordering::Relaxed),
            read_pauses: s.read_pauses.load(Ordering::Relaxed),
            reader_queue_peak: s.reader_queue_peak.load(Ordering::Relaxed),
        }
    }

    /// Subscribes to session and connection events from now on.
    pub fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.shared.events.subscribe()
    }

    /// Whether [`Client::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.shared.closed.load(Ordering::Acquire)
    }

    /// Connects now (otherwise the first call connects). Resolves once a handshake
    /// succeeds; fails when the handshake is rejected ([`Error::handshake_code`]), the
    /// server refuses the credentials ([`Error::is_unauthorized`]), the certificate is
    /// not trusted ([`Error::is_tls`]), the retry budget runs out (the error's
    /// `source()` is the last connect failure), or the session is destroyed first.
    /// Fails at once, without connecting, when the codec cannot carry the schema's
    /// fields ([`ClientBuilder::require_binary_codec`], [`Error::is_config`]).
    ///
    /// After a final connect failure (401/403, untrusted certificate, unsupported URL)
    /// the client stops: calls fail at once with that failure as their cause. Calling
    /// `connect` is the way to try again (for example after the credentials a
    /// [`connect_with`](ClientBuilder::connect_with) provider returns were fixed).
    pub async fn connect(&self) -> Result<(), Error> {
        if let Some(e) = self.inner.config_error.get() {
            return Err(e.clone());
        }
        if self.is_closed() {
            return Err(Error::closed("transport is closed"));
        }
        let cmd = self
            .inner
            .cmd()
            .ok_or_else(|| Error::closed("no tokio runtime to run the client on"))?;
        let (tx, rx) = oneshot::channel();
        cmd.send(Command::Connect { reply: tx })
            .map_err(|_| Error::closed("transport is closed"))?;
        rx.await
            .unwrap_or_else(|_| Err(Error::closed("transport is closed")))
    }

    /// Closes the client: every call in flight fails with `UNEXPECTED_DISCONNECT`, the
    /// connection is closed (code 1000), and later calls fail at once.
    pub async fn close(&self) {
        if self.inner.shared.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(cmd) = self.inner.cmd() else { return };
        let (tx, rx) = oneshot::channel();
        if cmd.send(Command::Shutdown { reply: tx }).is_ok() {
            let _ = rx.await;
        }
    }

    /// Encodes an init, first checking it against the procedure's schema when the
    /// client validates (see [`ClientBuilder::validate`]); also returns the procedure's
    /// validators for the requests and responses that follow.
    fn encode_init<I: Serialize + ?Sized>(
        &self,
        service: &str,
        procedure: &str,
        init: &I,
    ) -> (Result<Payload, Error>, ProcedureValidators) {
        let checks = self
            .inner
            .config
            .validators
            .as_ref()
            .and_then(|v| v.get(service, procedure))
            .cloned()
            .unwrap_or_default();
        if let Err(e) = check_payload(checks.init.as_ref(), init, || {
            format!("the init of {service}.{procedure} does not match its schema")
        }) {
            return (Err(e), checks);
        }
        (self.inner.config.codec.encode(init), checks)
    }

    /// Registers a call with the driver; `None` when the client is closed.
    fn open(
        &self,
        kind: ProcKind,
        service: &str,
        procedure: &str,
        init: Result<Payload, Error>,
    ) -> Result<OpenCall, RiverError<std::convert::Infallible>> {
        if let Some(e) = self.inner.config_error.get() {
            return Err(RiverError::Transport(e.clone()));
        }
        if self.is_closed() {
            return Err(RiverError::Protocol(transport_closed()));
        }
        let init = init.map_err(RiverError::Transport)?;
        let cmd = self.inner.cmd().ok_or_else(|| {
            RiverError::Transport(Error::closed("no tokio runtime to run the client on"))
        })?;
        let stream_id = generate_id();
        let rx = EventQueue::new(
            self.inner.config.options.session.read_queue_capacity,
            self.inner.shared.clone(),
        );
        let stream = Arc::new(StreamShared {
            write_closed: AtomicBool::new(!kind.has_writer()),
        });
        cmd.send(Command::Open {
            kind,
            stream_id: stream_id.clone(),
            service: service.to_string(),
            procedure: procedure.to_string(),
            init,
            events: EventTx::new(rx.clone()),
            stream: stream.clone(),
        })
        .map_err(|_| RiverError::Protocol(transport_closed()))?;
        Ok(OpenCall {
            handle: CallHandle {
                cmd: Some(cmd.clone()),
                stream_id,
            },
            rx: Some(rx),
            stream,
        })
    }

    fn writer<R>(&self, call: Option<&OpenCall>, schema: Option<Validator>) -> Writer<R> {
        match call {
            Some(c) => Writer {
                handle: c.handle.clone(),
                stream: c.stream.clone(),
                shared: Some(self.inner.shared.clone()),
                codec: self.inner.config.codec,
                open: true,
                schema,
                _p: PhantomData,
            },
            None => Writer {
                handle: CallHandle {
                    cmd: None,
                    stream_id: String::new(),
                },
                stream: Arc::new(StreamShared {
                    write_closed: AtomicBool::new(true),
                }),
                shared: None,
                codec: self.inner.config.codec,
                open: false,
                schema: None,
                _p: PhantomData,
            },
        }
    }

    fn call_parts<O, E>(
        &self,
        opened: Result<OpenCall, RiverError<std::convert::Infallible>>,
        output: Option<Validator>,
    ) -> (Option<OpenCall>, CallRx<O, E>) {
        let codec = self.inner.config.codec;
        match opened {
            Ok(mut call) => {
                let (rx, handle) = (call.rx.take(), call.handle.clone());
                let stub = OpenCall {
                    handle: call.handle,
                    rx: None,
                    stream: call.stream,
                };
                (
                    Some(stub),
                    CallRx {
                        rx,
                        failed: None,
                        handle,
                        codec,
                        output,
                        finished: false,
                        deadline: None,
                        _p: PhantomData,
                    },
                )
            }
            Err(e) => (
                None,
                CallRx {
                    rx: None,
                    failed: Some(match e {
                        RiverError::Protocol(p) => RiverError::Protocol(p),
                        RiverError::Transport(t) => RiverError::Transport(t),
                        RiverError::Service(never) => match never {},
                    }),
                    handle: CallHandle {
                        cmd: None,
                        stream_id: String::new(),
                    },
                    codec,
                    output: None,
                    finished: false,
                    deadline: None,
                    _p: PhantomData,
                },
            ),
        }
    }

    /// Calls an rpc: one init, one result. The [`Response`] is a future; dropping it
    /// before it resolves cancels the call on the server, and
    /// [`Response::timeout`] gives it a deadline.
    pub fn rpc<I, O, E>(&self, service: &str, procedure: &str, init: &I) -> Response<O, E>
    where
        I: Serialize + ?Sized,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        let (init, checks) = self.encode_init(service, procedure, init);
        let opened = self.open(ProcKind::Rpc, service, procedure, init);
        let (_, rx) = self.call_parts(opened, checks.output);
        Response { rx }
    }

    /// Opens an upload: a writer for requests and one result.
    pub fn upload<I, R, O, E>(
        &self,
        service: &str,
        procedure: &str,
        init: &I,
    ) -> (Writer<R>, Response<O, E>)
    where
        I: Serialize + ?Sized,
        R: Serialize,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        let (init, checks) = self.encode_init(service, procedure, init);
        let opened = self.open(ProcKind::Upload, service, procedure, init);
        let (call, rx) = self.call_parts(opened, checks.output);
        (self.writer(call.as_ref(), checks.input), Response { rx })
    }

    /// Opens a stream: a writer for requests and a reader of results.
    pub fn stream<I, R, O, E>(
        &self,
        service: &str,
        procedure: &str,
        init: &I,
    ) -> (Writer<R>, Reader<O, E>)
    where
        I: Serialize + ?Sized,
        R: Serialize,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        let (init, checks) = self.encode_init(service, procedure, init);
        let opened = self.open(ProcKind::Stream, service, procedure, init);
        let (call, rx) = self.call_parts(opened, checks.output);
        (self.writer(call.as_ref(), checks.input), Reader { rx })
    }

    /// Opens a subscription: a reader of results.
    pub fn subscribe<I, O, E>(&self, service: &str, procedure: &str, init: &I) -> Reader<O, E>
    where
        I: Serialize + ?Sized,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        let (init, checks) = self.encode_init(service, procedure, init);
        let opened = self.open(ProcKind::Subscription, service, procedure, init);
        let (_, rx) = self.call_parts(opened, checks.output);
        Reader { rx }
    }
}

fn transport_closed() -> ProtocolError {
    ProtocolError::new(
        ProtocolErrorCode::UnexpectedDisconnect,
        "transport is closed",
    )
}

/// Per-stream flags shared by the driver and the writer.
pub(crate) struct StreamShared {
    /// The request half is closed (by the writer, a cancel, or session loss).
    pub(crate) write_closed: AtomicBool,
}

struct OpenCall {
    handle: CallHandle,
    rx: Option<Arc<EventQueue>>,
    stream: Arc<StreamShared>,
}

/// A way to reach the driver about one stream.
#[derive(Clone)]
struct CallHandle {
    cmd: Option<mpsc::UnboundedSender<Command>>,
    stream_id: String,
}

impl CallHandle {
    fn send(&self, make: impl FnOnce(String) -> Command) -> bool {
        match &self.cmd {
            Some(cmd) => cmd.send(make(self.stream_id.clone())).is_ok(),
            None => false,
        }
    }
}

/// The receiving half of a call, shared by [`Reader`] and [`Response`].
struct CallRx<O, E> {
    rx: Option<Arc<EventQueue>>,
    failed: Option<RiverError<E>>,
    handle: CallHandle,
    codec: Codec,
    /// The `Ok` response schema, when the client validates.
    output: Option<Validator>,
    finished: bool,
    /// The call's deadline, when one was set.
    deadline: Option<Deadline>,
    _p: PhantomData<fn() -> (O, E)>,
}

/// A call's deadline: when it passes, the call is cancelled as if dropped.
struct Deadline {
    /// How long after it was set (for the error message).
    after: Duration,
    at: tokio::time::Instant,
    /// Made on the first poll (which runs in the runtime), not when the deadline is set.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Deadline {
    /// A deadline `after` from now; `None` when that is too far to represent.
    fn new(after: Duration) -> Option<Self> {
        let at = tokio::time::Instant::now().checked_add(after)?;
        Some(Deadline {
            after,
            at,
            sleep: None,
        })
    }

    fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let at = self.at;
        self.sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)))
            .as_mut()
            .poll(cx)
    }
}

impl<O: DeserializeOwned, E: ServiceError> CallRx<O, E> {
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<O, RiverError<E>>>> {
        if let Some(e) = self.failed.take() {
            self.finished = true;
            return Poll::Ready(Some(Err(e)));
        }
        if self.rx.is_none() {
            self.finished = true;
            return Poll::Ready(None);
        }
        if let Some(deadline) = self.deadline.as_mut() {
            if deadline.poll_elapsed(cx).is_ready() {
                let after = deadline.after;
                self.deadline = None;
                // Exactly what dropping the handle does: CANCEL unless finished.
                self.cancel(true);
                self.finished = true;
                if let Some(rx) = self.rx.take() {
                    rx.close_rx();
                }
                return Poll::Ready(Some(Err(RiverError::Transport(Error::deadline_exceeded(
                    after,
                )))));
            }
        }
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(None);
        };
        loop {
            match rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    self.finished = true;
                    if let Some(rx) = self.rx.take() {
                        rx.close_rx();
                    }
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(StreamEvent::Error(p))) => {
                    return Poll::Ready(Some(Err(RiverError::Protocol(p))));
                }
                Poll::Ready(Some(StreamEvent::Item(payload))) => {
                    match decode_result::<O, E>(self.codec, &payload, self.output.as_ref()) {
                        Some(item) => return Poll::Ready(Some(item)),
                        None => {
                            tracing::warn!(?payload, "ignoring a response that is not a Result");
                        }
                    }
                }
            }
        }
    }
}

impl<O, E> CallRx<O, E> {
    fn set_timeout(&mut self, after: Duration) {
        self.deadline = Deadline::new(after);
    }

    fn cancel(&mut self, from_drop: bool) {
        if self.finished {
            return;
        }
        self.handle.send(|stream_id| Command::Cancel {
            stream_id,
            from_drop,
        });
    }
}

// Nothing is ever pinned structurally: the error slot is moved out, never pinned.
impl<O, E> Unpin for CallRx<O, E> {}

impl<O, E> Drop for CallRx<O, E> {
    fn drop(&mut self) {
        self.cancel(true);
        if let Some(rx) = self.rx.take() {
            rx.close_rx();
        }
    }
}

/// Decodes a `Result` payload; `None` when the payload is not a Result at all.
fn decode_result<O: DeserializeOwned, E: ServiceError>(
    codec: Codec,
    payload: &Payload,
    output: Option<&Validator>,
) -> Option<Result<O, RiverError<E>>> {
    let (ok, inner) = codec.decode_result(payload).ok()?;
    if ok {
        let Some(schema) = output else {
            return Some(codec.decode::<O>(&inner).map_err(RiverError::Transport));
        };
        let checked = codec.decode::<Value>(&inner).and_then(|value| {
            schema
                .validate(&value)
                .map_err(|e| Error::validation("the response does not match its schema", e))?;
            value.deserialize_into::<O>()
        });
        return Some(checked.map_err(RiverError::Transport));
    }
    let err: ErrorPayload = codec.decode(&inner).ok()?;
    if let Some(p) = ProtocolError::from_payload(&err) {
        return Some(Err(RiverError::Protocol(p)));
    }
    Some(Err(RiverError::Service(match codec.decode::<E>(&inner) {
        Ok(e) => e,
        Err(_) => E::unknown(err.code, err.message, err.extras),
    })))
}

/// Checks a payload against a schema, when there is one.
fn check_payload<T: Serialize + ?Sized>(
    schema: Option<&Validator>,
    value: &T,
    what: impl FnOnce() -> String,
) -> Result<(), Error> {
    let Some(schema) = schema else {
        return Ok(());
    };
    let value = Value::from_serialize(value)?;
    schema
        .validate(&value)
        .map_err(|e| Error::validation(what(), e))
}

/// The request half of a stream or upload. Dropping it closes the half (sends CLOSE).
pub struct Writer<T> {
    handle: CallHandle,
    stream: Arc<StreamShared>,
    shared: Option<Arc<Shared>>,
    codec: Codec,
    open: bool,
    /// The request data schema, when the client validates.
    schema: Option<Validator>,
    _p: PhantomData<fn(T)>,
}

impl<T: Serialize> Writer<T> {
    /// Sends one request; waits while the session's send buffer is at its high-water
    /// mark. Fails when the half is closed (by [`Writer::close`], a cancel from either
    /// side, or the loss of the session).
    pub async fn send(&mut self, value: T) -> Result<(), Error> {
        if !self.is_open() {
            return Err(Error::closed("the request stream is closed"));
        }
        check_payload(self.schema.as_ref(), &value, || {
            "the request does not match its schema".to_string()
        })?;
        let payload = self.codec.encode(&value)?;
        if let Some(shared) = &self.shared {
            let bp = &shared.backpressure;
            let below = || {
                bp.len.load(Ordering::Acquire) + bp.pending.load(Ordering::Acquire)
                    < bp.high_water_mark
            };
            loop {
                if below() {
                    break;
                }
                let notified = bp.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.stream.write_closed.load(Ordering::Acquire) {
                    return Err(Error::closed("the request stream is closed"));
                }
                if below() {
                    break;
                }
                notified.await;
            }
        }
        if self.stream.write_closed.load(Ordering::Acquire) {
            return Err(Error::closed("the request stream is closed"));
        }
        if let Some(shared) = &self.shared {
            shared.backpressure.pending.fetch_add(1, Ordering::AcqRel);
        }
        if self
            .handle
            .send(|stream_id| Command::Data { stream_id, payload })
        {
            Ok(())
        } else {
            if let Some(shared) = &self.shared {
                shared.backpressure.pending.fetch_sub(1, Ordering::AcqRel);
            }
            Err(Error::closed("transport is closed"))
        }
    }
}

impl<T> Writer<T> {
    /// Closes the request half (sends CLOSE). Idempotent; does nothing after a cancel.
    pub async fn close(&mut self) {
        self.close_now();
    }

    fn close_now(&mut self) {
        if !self.open {
            return;
        }
        self.open = false;
        if self.stream.write_closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.handle.send(|stream_id| Command::Close { stream_id });
    }

    /// Whether the half is still open.
    pub fn is_open(&self) -> bool {
        self.open && !self.stream.write_closed.load(Ordering::Acquire)
    }
}

impl<T> Drop for Writer<T> {
    fn drop(&mut self) {
        self.close_now();
    }
}

/// The response half of a stream or subscription: a `Stream` of results. Dropping it
/// before the stream finished cancels the call.
pub struct Reader<O, E> {
    rx: CallRx<O, E>,
}

impl<O, E> Reader<O, E> {
    /// Gives the whole call a deadline, `after` from now (replacing any earlier one).
    /// When it passes before the server ended the stream, the call is cancelled as if
    /// the reader had been dropped (the server's handler sees `CANCEL`, an open
    /// [`Writer`] is closed), and the reader yields one error for which
    /// [`RiverError::is_timeout`] is true (`deadline exceeded after 50ms`), then
    /// `None`. Results still queued when the deadline passes are discarded.
    ///
    /// ```no_run
    /// # async fn f(client: river_runtime::Client) {
    /// use std::time::Duration;
    /// use river_runtime::{AnyServiceError, Reader};
    ///
    /// let mut ticks: Reader<u64, AnyServiceError> = client
    ///     .subscribe("clock", "ticks", &())
    ///     .timeout(Duration::from_secs(30));
    /// while let Some(tick) = ticks.next().await {
    ///     match tick {
    ///         Ok(n) => println!("tick {n}"),
    ///         Err(e) if e.is_timeout() => break, // 30 s are over
    ///         Err(e) => panic!("{e}"),
    ///     }
    /// }
    /// # }
    /// ```
    #[must_use = "a Reader does nothing unless polled, and dropping it cancels the call"]
    pub fn timeout(mut self, after: Duration) -> Self {
        self.rx.set_timeout(after);
        self
    }

    /// Cancels the call (sends CANCEL); the reader then yields `Err(CANCEL)` after what
    /// it already received. Does nothing when both halves are already closed.
    pub fn cancel(&mut self) {
        self.rx.cancel(false);
    }
}

impl<O: DeserializeOwned, E: ServiceError> Reader<O, E> {
    /// The next result; `None` once the server closed the stream. The same as
    /// `futures::StreamExt::next`, without importing it.
    pub async fn next(&mut self) -> Option<Result<O, RiverError<E>>> {
        futures::StreamExt::next(self).await
    }
}

impl<O: DeserializeOwned, E: ServiceError> futures::Stream for Reader<O, E> {
    type Item = Result<O, RiverError<E>>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().rx.poll_item(cx)
    }
}

/// The single result of an rpc or upload: a future. Dropping it before it resolved
/// cancels the call; [`Response::timeout`] sets a deadline.
#[must_use = "a Response does nothing unless awaited, and dropping it cancels the call"]
pub struct Response<O, E> {
    rx: CallRx<O, E>,
}

impl<O, E> Response<O, E> {
    /// Gives the call a deadline, `after` from now (replacing any earlier one). When it
    /// passes before the result arrived, the call is cancelled exactly as dropping the
    /// response does (the client sends `CANCEL`; the server's handler sees
    /// [`Context::cancelled`](crate::Context::cancelled) resolve), and the response
    /// resolves to an error for which [`RiverError::is_timeout`] is true, displayed as
    /// `deadline exceeded after 50ms`.
    ///
    /// The deadline counts from this call, not from the first poll.
    ///
    /// ```no_run
    /// # async fn f(client: river_runtime::Client) {
    /// use std::time::Duration;
    /// use river_runtime::{AnyServiceError, RiverError};
    ///
    /// let answer: Result<u64, RiverError<AnyServiceError>> = client
    ///     .rpc("math", "slowSquare", &7)
    ///     .timeout(Duration::from_millis(50))
    ///     .await;
    /// if let Err(e) = answer {
    ///     assert!(e.is_timeout());
    ///     assert_eq!(e.to_string(), "deadline exceeded after 50ms");
    /// }
    /// # }
    /// ```
    pub fn timeout(mut self, after: Duration) -> Self {
        self.rx.set_timeout(after);
        self
    }

    /// Cancels the call (sends CANCEL); the response resolves to `Err(CANCEL)`. Does
    /// nothing when both halves are already closed.
    pub fn cancel(&mut self) {
        self.rx.cancel(false);
    }
}

impl<O: DeserializeOwned, E: ServiceError> Future for Response<O, E> {
    type Output = Result<O, RiverError<E>>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.rx.poll_item(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(item)) => {
                this.rx.finished = true;
                Poll::Ready(item)
            }
            Poll::Ready(None) => Poll::Ready(Err(RiverError::Transport(Error::closed(
                "the stream closed without a result",
            )))),
        }
    }
}
