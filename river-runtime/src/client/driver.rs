//! The client's driver task: owns the session (seq/ack, send buffer, stream table), the
//! WebSocket of the current connection, and every timer (connect and handshake timeouts,
//! backoff, watchdog, grace period, budget restoration).
//!
//! Over 600 lines on purpose: it is one task's state machine, one `select!` loop over
//! one struct's `&mut self`, and reading the loop and its handlers in order is the point.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::backoff::RetryBudget;
use super::queue::{EventTx, StreamEvent};
use super::{ClientEvent, Config, Shared, StreamShared};
use crate::codec::{Codec, FrameBody, FrameIn};
use crate::connect::ConnectRequest;
use crate::error::{Error, ProtocolError, ProtocolErrorCode};
use crate::ids::{generate_id, generate_session_id};
use crate::message::{
    Control, ControlFlags, ErrorPayload, ExpectedSessionState, HandshakeErrorCode,
    HandshakeRequest, HandshakeRequestTag, HandshakeResponse, HandshakeStatus, Payload, Tracing,
    TransportMessage, HEARTBEAT_STREAM_ID, PROTOCOL_VERSION, REHANDSHAKE_STREAM_ID,
};
use crate::session::{explicit_ack_threshold, Inbound, Outgoing, SessionState};
use crate::telemetry::{self, Side};
use crate::transport::{dial, WebSocket};

/// The four procedure kinds, as far as the client's framing is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProcKind {
    Rpc,
    Upload,
    Stream,
    Subscription,
}

impl ProcKind {
    /// Whether the call has a request writer (stream, upload).
    pub(crate) fn has_writer(self) -> bool {
        matches!(self, ProcKind::Upload | ProcKind::Stream)
    }
    /// The kind's name in the schema (and in spans and metrics).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ProcKind::Rpc => "rpc",
            ProcKind::Upload => "upload",
            ProcKind::Stream => "stream",
            ProcKind::Subscription => "subscription",
        }
    }
    /// Open flags: 10 (Open|Closed) for rpc and subscription, 2 for stream and upload.
    fn open_flags(self) -> ControlFlags {
        if self.has_writer() {
            ControlFlags::OPEN
        } else {
            ControlFlags::OPEN | ControlFlags::CLOSED
        }
    }
}

/// What handles ask the driver to do.
pub(crate) enum Command {
    /// Boxed: the largest variant would otherwise size (and be copied with) every
    /// command, the many `Data` of an upload or stream included.
    Open(Box<OpenCommand>),
    Data {
        stream_id: Arc<str>,
        payload: Payload,
    },
    Close {
        stream_id: Arc<str>,
    },
    Cancel {
        stream_id: Arc<str>,
        /// From a dropped handle: a no-op once the response half has finished.
        from_drop: bool,
    },
    Connect {
        reply: oneshot::Sender<Result<(), Error>>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// A call to open (see [`Command::Open`]).
pub(crate) struct OpenCommand {
    pub(crate) kind: ProcKind,
    pub(crate) stream_id: Arc<str>,
    pub(crate) service: String,
    pub(crate) procedure: String,
    pub(crate) init: Payload,
    /// The call span's trace context for the stream-open frame.
    pub(crate) tracing: Tracing,
    pub(crate) events: EventTx,
    pub(crate) stream: Arc<StreamShared>,
}

struct StreamEntry {
    events: Option<EventTx>,
    shared: Arc<StreamShared>,
    write_open: bool,
}

impl StreamEntry {
    fn read_open(&self) -> bool {
        self.events.is_some()
    }
}

type WsSink = SplitSink<WebSocket, Message>;
type WsStream = SplitStream<WebSocket>;

struct Conn {
    sink: WsSink,
    stream: WsStream,
    last_inbound: Instant,
    next_check: Instant,
    dirty: bool,
}

/// Why a connection attempt did not produce a connected session.
enum AttemptError {
    /// Dial failure, timeout, connection closed: retry per the reconnect policy.
    Retry(Error),
    /// `SESSION_STATE_MISMATCH`: start over with a new session.
    Mismatch(String),
    /// Rejected, invalid response, wrong session id, metadata failure: destroy, no retry.
    Fatal(Error),
    /// A final dial failure (401/403, untrusted certificate, unusable URL or header):
    /// destroy, and refuse new calls until [`Command::Connect`].
    Refused(Error),
}

type Attempt = Pin<Box<dyn Future<Output = Result<WebSocket, AttemptError>> + Send>>;

enum Link {
    Idle,
    Attempting(Attempt),
    Connected(Box<Conn>),
}

struct Session {
    state: SessionState,
    streams: HashMap<Arc<str>, StreamEntry>,
    link: Link,
    grace_deadline: Option<Instant>,
    /// Whether this session has been connected before (for the reconnect counter).
    was_connected: bool,
    /// An accepted frame whose reader queue was full: while it is here, the connection
    /// is not read (see the module docs of `client`).
    held: Option<FrameIn<'static>>,
    /// A frame was held since the last watchdog check.
    paused_since_check: bool,
    /// The last failed connection attempt since the last successful one: the cause of
    /// the `UNEXPECTED_DISCONNECT` calls get if the grace period runs out.
    last_connect_error: Option<Error>,
}

// One value at a time, on the driver's stack: the new connection is not worth a box.
#[allow(clippy::large_enum_variant)]
enum Event {
    Cmd(Option<Command>),
    Attempt(Result<WebSocket, AttemptError>),
    Frame(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    Watchdog,
    GraceExpired,
    RestoreTick,
    ReaderSpace,
}

pub(crate) struct Driver {
    cfg: Arc<Config>,
    shared: Arc<Shared>,
    codec: Codec,
    budget: RetryBudget,
    session: Option<Session>,
    connect_waiters: Vec<oneshot::Sender<Result<(), Error>>>,
    shutdown: bool,
    /// A final connect failure: new calls fail at once with it until a
    /// [`Command::Connect`] clears it.
    refused: Option<Error>,
    ack_payload: Payload,
    close_payload: Payload,
    cancel_payload: Payload,
    /// See [`explicit_ack_threshold`].
    ack_threshold: u64,
    /// Frame and byte counters (feature `metrics`).
    wire: telemetry::Wire,
}

const BATCH: usize = 128;

impl Driver {
    pub(crate) fn new(cfg: Arc<Config>, shared: Arc<Shared>) -> Self {
        let codec = cfg.codec;
        let cancel = ErrorPayload {
            code: ProtocolErrorCode::Cancel.as_str().to_string(),
            message: "cancelled by client".to_string(),
            extras: None,
        };
        let cancel_payload = codec
            .encode(&cancel)
            .map(|inner| codec.encode_result(false, &inner))
            .unwrap_or_default();
        Driver {
            ack_threshold: explicit_ack_threshold(cfg.options.session.send_buffer_high_water_mark),
            budget: RetryBudget::new(cfg.options.backoff.clone()),
            ack_payload: codec.encode(&Control::Ack).unwrap_or_default(),
            close_payload: codec.encode(&Control::Close).unwrap_or_default(),
            cancel_payload,
            codec,
            cfg,
            shared,
            session: None,
            connect_waiters: Vec::new(),
            shutdown: false,
            refused: None,
            wire: telemetry::Wire::new(Side::Client),
        }
    }

    pub(crate) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        loop {
            let event = self.next_event(&mut rx).await;
            match event {
                Event::Cmd(None) => {
                    // Every handle is gone.
                    self.destroy_session(Error::closed("client dropped"));
                    return;
                }
                Event::Cmd(Some(cmd)) => {
                    self.handle_command(cmd).await;
                    self.take_queued_commands(&mut rx).await;
                    self.take_received_frames().await;
                }
                Event::Attempt(result) => self.on_attempt(result).await,
                Event::Frame(frame) => {
                    self.on_frame(frame).await;
                    self.take_received_frames().await;
                    self.take_queued_commands(&mut rx).await;
                }
                Event::Watchdog => self.on_watchdog().await,
                Event::GraceExpired => {
                    if let Some(session) = &self.session {
                        telemetry::grace_expired(
                            Side::Client,
                            &self.cfg.client_id,
                            &session.state.id,
                        );
                    }
                    self.destroy_session(Error::closed("session grace period elapsed"));
                }
                Event::RestoreTick => self.budget.restore_tick(Instant::now()),
                Event::ReaderSpace => {}
            }
            self.retry_held().await;
            self.maybe_ack().await;
            self.flush().await;
            if self.shutdown {
                break;
            }
        }
        // Closed: fail whatever is still queued, then stop.
        rx.close();
        while let Some(cmd) = rx.recv().await {
            self.reject_closed(cmd);
        }
    }

    /// Handles the commands already queued (up to [`BATCH`]), so that one flush carries
    /// the frames of all of them: with many callers, the responses just routed have
    /// woken callers whose next calls are already waiting here.
    async fn take_queued_commands(&mut self, rx: &mut mpsc::UnboundedReceiver<Command>) {
        let mut n = 0;
        while n < BATCH && !self.shutdown {
            match rx.try_recv() {
                Ok(cmd) => self.handle_command(cmd).await,
                Err(_) => break,
            }
            n += 1;
        }
    }

    /// Handles the frames that have already arrived (up to [`BATCH`]) without going
    /// back through `next_event`, whose `select!` arms a watchdog timer per call. Polling
    /// with this task's context never parks it: a pending socket ends the batch, and
    /// `next_event` polls it again.
    async fn take_received_frames(&mut self) {
        for _ in 0..BATCH {
            let Some(session) = self.session.as_mut().filter(|s| s.held.is_none()) else {
                return;
            };
            let Link::Connected(conn) = &mut session.link else {
                return;
            };
            let stream = &mut conn.stream;
            let polled = std::future::poll_fn(|cx| Poll::Ready(stream.poll_next_unpin(cx))).await;
            match polled {
                Poll::Ready(frame) => self.on_frame(frame).await,
                Poll::Pending => return,
            }
        }
    }

    async fn next_event(&mut self, rx: &mut mpsc::UnboundedReceiver<Command>) -> Event {
        let restore_at = self.budget.restore_at();
        let (link, grace, paused) = match self.session.as_mut() {
            Some(s) => (Some(&mut s.link), s.grace_deadline, s.held.is_some()),
            None => (None, None, false),
        };
        let space = &self.shared.reader_space;
        tokio::select! {
            cmd = rx.recv() => Event::Cmd(cmd),
            ev = link_event(link, paused) => ev,
            _ = sleep_opt(grace) => Event::GraceExpired,
            _ = sleep_opt(restore_at) => Event::RestoreTick,
            _ = async {
                if paused {
                    space.notified().await
                } else {
                    std::future::pending().await
                }
            } => Event::ReaderSpace,
        }
    }

    fn reject_closed(&mut self, cmd: Command) {
        match cmd {
            Command::Open(open) => {
                open.events.send(StreamEvent::Error(ProtocolError::new(
                    ProtocolErrorCode::UnexpectedDisconnect,
                    "transport is closed",
                )));
            }
            Command::Connect { reply } => {
                let _ = reply.send(Err(Error::closed("transport is closed")));
            }
            Command::Shutdown { reply } => {
                let _ = reply.send(());
            }
            Command::Data { .. } => self.data_taken(),
            Command::Close { .. } | Command::Cancel { .. } => {}
        }
    }

    async fn handle_command(&mut self, cmd: Command) {
        if self.shutdown {
            self.reject_closed(cmd);
            return;
        }
        match cmd {
            Command::Open(open) => {
                let OpenCommand {
                    kind,
                    stream_id,
                    service,
                    procedure,
                    init,
                    tracing,
                    events,
                    stream,
                } = *open;
                if self.session.is_none() {
                    if let Some(refused) = &self.refused {
                        let err = ProtocolError::unexpected_disconnect(&self.cfg.server_id)
                            .caused_by(Some(refused.clone()));
                        events.send(StreamEvent::Error(err));
                        return;
                    }
                    self.create_session();
                    if self.cfg.options.connect_on_invoke {
                        self.start_connect();
                    }
                }
                let Some(session) = self.session.as_mut() else {
                    return;
                };
                session.streams.insert(
                    stream_id.clone(),
                    StreamEntry {
                        events: Some(events),
                        shared: stream,
                        write_open: kind.has_writer(),
                    },
                );
                let out = FrameBody {
                    stream_id: &stream_id,
                    control_flags: kind.open_flags(),
                    payload: &init,
                    service_name: Some(&service),
                    procedure_name: Some(&procedure),
                    tracing: Some(&tracing),
                };
                self.send_frame(out, false).await;
            }
            Command::Data { stream_id, payload } => {
                let writable = self
                    .session
                    .as_ref()
                    .and_then(|s| s.streams.get(&*stream_id))
                    .is_some_and(|e| e.write_open);
                if writable {
                    let out = FrameBody::new(&stream_id, ControlFlags::NONE, &payload);
                    self.send_frame(out, true).await;
                } else {
                    self.data_taken();
                }
            }
            Command::Close { stream_id } => {
                let Some(session) = self.session.as_mut() else {
                    return;
                };
                let Some(entry) = session.streams.get_mut(&stream_id) else {
                    return;
                };
                if !entry.write_open {
                    return;
                }
                entry.write_open = false;
                entry.shared.write_closed.store(true, Ordering::Release);
                if !entry.read_open() {
                    session.streams.remove(&stream_id);
                }
                let payload = self.close_payload.clone();
                let out = FrameBody::new(&stream_id, ControlFlags::CLOSED, &payload);
                self.send_frame(out, false).await;
            }
            Command::Cancel {
                stream_id,
                from_drop,
            } => {
                let Some(session) = self.session.as_mut() else {
                    return;
                };
                let Some(entry) = session.streams.get(&stream_id) else {
                    return;
                };
                if (from_drop && !entry.read_open()) || (!entry.read_open() && !entry.write_open) {
                    return;
                }
                if let Some(entry) = session.streams.remove(&stream_id) {
                    entry.shared.write_closed.store(true, Ordering::Release);
                    if let Some(events) = entry.events {
                        events.send(StreamEvent::Error(ProtocolError::cancelled_by_client()));
                    }
                }
                let payload = self.cancel_payload.clone();
                let out = FrameBody::new(&stream_id, ControlFlags::CANCEL, &payload);
                self.send_frame(out, false).await;
            }
            Command::Connect { reply } => {
                self.refused = None;
                let connected = matches!(
                    self.session.as_ref().map(|s| &s.link),
                    Some(Link::Connected(_))
                );
                if connected {
                    let _ = reply.send(Ok(()));
                    return;
                }
                if self.session.is_none() {
                    self.create_session();
                }
                self.connect_waiters.push(reply);
                self.start_connect();
            }
            Command::Shutdown { reply } => {
                self.shutdown = true;
                self.destroy_session(Error::closed("transport is closed"));
                let _ = reply.send(());
            }
        }
    }

    fn create_session(&mut self) {
        let id = generate_session_id();
        let now = Instant::now();
        self.session = Some(Session {
            state: SessionState::new(
                id.clone(),
                self.cfg.client_id.clone(),
                self.cfg.server_id.clone(),
            ),
            streams: HashMap::new(),
            link: Link::Idle,
            grace_deadline: Some(now + self.cfg.options.session.session_disconnect_grace),
            was_connected: false,
            held: None,
            paused_since_check: false,
            last_connect_error: None,
        });
        self.shared.backpressure.len.store(0, Ordering::Release);
        self.shared.set_session_id(Some(id.clone()));
        self.shared
            .stats
            .sessions_created
            .fetch_add(1, Ordering::Relaxed);
        telemetry::session_started(Side::Client, &self.cfg.client_id, &id);
        self.shared
            .emit(ClientEvent::SessionCreated { session_id: id });
    }

    /// The reference's `connect()`: no-op unless idle; respects the retry budget.
    fn start_connect(&mut self) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        if !matches!(session.link, Link::Idle) {
            return;
        }
        if !self.budget.has_budget() {
            tracing::warn!("reconnect retry budget exhausted");
            self.shared.emit(ClientEvent::RetryBudgetExhausted);
            let last = session.last_connect_error.clone();
            for w in self.connect_waiters.drain(..) {
                let mut e = Error::connect("reconnect retry budget exhausted");
                if let Some(last) = &last {
                    e = e.with_source(last.clone());
                }
                let _ = w.send(Err(e));
            }
            return;
        }
        let delay = self.budget.backoff(rand::random::<f64>());
        self.budget.consume();
        if session.was_connected {
            telemetry::reconnecting(&self.cfg.client_id, &session.state.id);
        }
        let params = AttemptParams {
            cfg: self.cfg.clone(),
            codec: self.codec,
            client_id: self.cfg.client_id.clone(),
            server_id: self.cfg.server_id.clone(),
            session_id: session.state.id.clone(),
            expected: session.state.expected_state(),
            metadata: self.cfg.metadata.clone(),
            delay,
            connection_timeout: self.cfg.options.connection_timeout,
            handshake_timeout: self.cfg.options.session.handshake_timeout,
            shared: self.shared.clone(),
        };
        session.link = Link::Attempting(Box::pin(attempt(params)));
    }

    async fn on_attempt(&mut self, result: Result<WebSocket, AttemptError>) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        session.link = Link::Idle;
        match result {
            Ok(ws) => {
                let (sink, stream) = ws.split();
                let now = Instant::now();
                let reconnect = session.was_connected;
                session.was_connected = true;
                session.grace_deadline = None;
                session.last_connect_error = None;
                let frames: Vec<Bytes> = session.state.buffered_frames().cloned().collect();
                let mut conn = Box::new(Conn {
                    sink,
                    stream,
                    last_inbound: now,
                    next_check: now + self.cfg.options.session.heartbeat_interval,
                    dirty: !frames.is_empty(),
                });
                let mut failed = false;
                for frame in frames {
                    self.wire.frame_out(frame.len());
                    if conn.sink.feed(Message::Binary(frame)).await.is_err() {
                        failed = true;
                        break;
                    }
                }
                session.link = Link::Connected(conn);
                let id = session.state.id.clone();
                self.budget.start_restore(now);
                let stats = &self.shared.stats;
                stats.connections.fetch_add(1, Ordering::Relaxed);
                if reconnect {
                    stats.reconnects.fetch_add(1, Ordering::Relaxed);
                }
                telemetry::handshake_accepted(Side::Client, &self.cfg.client_id, &id, reconnect);
                self.shared.emit(ClientEvent::Connected {
                    session_id: id,
                    reconnect,
                });
                for w in self.connect_waiters.drain(..) {
                    let _ = w.send(Ok(()));
                }
                if failed {
                    self.connection_lost(false);
                }
            }
            Err(AttemptError::Retry(e)) => {
                tracing::debug!(error = %e, "connection attempt failed");
                self.shared.emit(ClientEvent::ConnectFailed {
                    message: e.to_string(),
                    is_final: false,
                });
                session.last_connect_error = Some(e.clone());
                if self.cfg.options.reconnect_on_connection_drop {
                    self.start_connect();
                } else {
                    for w in self.connect_waiters.drain(..) {
                        let _ = w.send(Err(e.clone()));
                    }
                }
            }
            Err(AttemptError::Refused(e)) => {
                tracing::warn!(error = %e, "connection refused; not retrying");
                self.shared.emit(ClientEvent::ConnectFailed {
                    message: e.to_string(),
                    is_final: true,
                });
                self.refused = Some(e.clone());
                self.destroy_session(e);
            }
            Err(AttemptError::Mismatch(reason)) => {
                let sid = self
                    .session
                    .as_ref()
                    .map(|s| s.state.id.clone())
                    .unwrap_or_default();
                telemetry::handshake_rejected(Side::Client, &self.cfg.client_id, &sid, &reason);
                self.shared.emit(ClientEvent::HandshakeFailed {
                    code: Some(HandshakeErrorCode::SessionStateMismatch),
                    message: reason,
                });
                let waiters = std::mem::take(&mut self.connect_waiters);
                self.destroy_session(Error::closed("session state mismatch"));
                self.connect_waiters = waiters;
                self.create_session();
                self.start_connect();
            }
            Err(AttemptError::Fatal(e)) => {
                let sid = self
                    .session
                    .as_ref()
                    .map(|s| s.state.id.clone())
                    .unwrap_or_default();
                telemetry::handshake_rejected(
                    Side::Client,
                    &self.cfg.client_id,
                    &sid,
                    &e.to_string(),
                );
                self.shared.emit(ClientEvent::HandshakeFailed {
                    code: e.handshake_code(),
                    message: e.to_string(),
                });
                self.destroy_session(e);
            }
        }
    }

    async fn on_frame(
        &mut self,
        frame: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) {
        let bytes = match frame {
            Some(Ok(Message::Binary(b))) => b,
            Some(Ok(Message::Text(_))) => {
                self.invalid_message("text frame".to_string());
                return;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => return,
            Some(Ok(Message::Close(_))) | None => {
                self.connection_lost(false);
                return;
            }
            Some(Err(e)) => {
                tracing::debug!(error = %e, "websocket error");
                self.connection_lost(false);
                return;
            }
        };
        self.wire.frame_in(bytes.len());
        let msg = match self.codec.decode_frame(&bytes) {
            Ok(m) => m,
            Err(e) => {
                self.invalid_message(format!("undecodable frame: {e}"));
                return;
            }
        };
        let Some(session) = self.session.as_mut() else {
            return;
        };
        match session.state.check_frame(&msg) {
            Inbound::WrongFrom => {
                self.invalid_message(format!(
                    "frame from {:?}, expected {:?}",
                    msg.from, self.cfg.server_id
                ));
                return;
            }
            Inbound::Duplicate => return,
            Inbound::Gap { expected, got } => {
                tracing::warn!(expected, got, "seq gap; closing the connection");
                self.connection_lost(true);
                return;
            }
            Inbound::Accepted => {}
        }
        if let Link::Connected(conn) = &mut session.link {
            conn.last_inbound = Instant::now();
        }
        let len = session.state.buffer_len();
        self.update_backpressure(len);
        self.dispatch(msg).await;
    }

    fn update_backpressure(&self, len: usize) {
        let bp = &self.shared.backpressure;
        let prev = bp.len.swap(len, Ordering::AcqRel);
        if len < prev {
            bp.notify.notify_waiters();
        }
    }

    /// A writer's data command left the command queue (stamped or dropped). A stamped
    /// frame is counted in `len` before it leaves `pending`, so writers never see one
    /// frame too few; they are woken if this takes the sum below the mark.
    fn data_taken(&self) {
        let bp = &self.shared.backpressure;
        if let Ok(prev) = bp
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        {
            if bp.len.load(Ordering::Acquire) + prev == bp.high_water_mark {
                bp.notify.notify_waiters();
            }
        }
    }

    /// Delivers the held frame once its reader has room (or is gone).
    async fn retry_held(&mut self) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let Some(msg) = &session.held else {
            return;
        };
        let ready = match session.streams.get(&*msg.stream_id) {
            Some(entry) => entry.events.as_ref().is_none_or(|e| e.has_room()),
            None => true,
        };
        if !ready {
            return;
        }
        if let Some(msg) = session.held.take() {
            if let Link::Connected(conn) = &mut session.link {
                // Reading resumes: the liveness deadline starts afresh.
                conn.last_inbound = Instant::now();
            }
            self.dispatch(msg).await;
        }
    }

    async fn dispatch(&mut self, msg: FrameIn<'_>) {
        let flags = msg.control_flags;
        if flags.is_ack() {
            let payload = self.ack_payload.clone();
            self.send(Outgoing::new(
                HEARTBEAT_STREAM_ID,
                ControlFlags::ACK,
                payload,
            ))
            .await;
            return;
        }
        if msg.stream_id == REHANDSHAKE_STREAM_ID {
            self.on_rehandshake(&msg.payload).await;
            return;
        }
        if msg.to != self.cfg.client_id {
            tracing::error!(to = %msg.to, "ignoring a frame addressed to someone else");
            return;
        }
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let Some(entry) = session.streams.get_mut(&*msg.stream_id) else {
            tracing::debug!(stream_id = %msg.stream_id, "frame for an unknown stream ignored");
            return;
        };
        if flags.is_cancel() {
            let err = validate_cancel(self.codec, &msg.payload);
            if let Some(entry) = session.streams.remove(&*msg.stream_id) {
                entry.shared.write_closed.store(true, Ordering::Release);
                if let Some(events) = entry.events {
                    events.send(StreamEvent::Error(err));
                }
            }
            return;
        }
        let is_close = flags.is_closed() && msg.payload == self.close_payload;
        if !is_close {
            if let Some(events) = &entry.events {
                if !events.has_room() {
                    tracing::debug!(stream_id = %msg.stream_id, "reader queue full; pausing reads");
                    self.shared
                        .stats
                        .read_pauses
                        .fetch_add(1, Ordering::Relaxed);
                    session.held = Some(msg.into_static());
                    session.paused_since_check = true;
                    return;
                }
                events.item(msg.payload);
            }
        }
        if flags.is_closed() {
            entry.events = None;
            if !entry.write_open {
                session.streams.remove(&*msg.stream_id);
            }
        }
    }

    async fn on_rehandshake(&mut self, payload: &Payload) {
        match self.codec.decode::<Control>(payload) {
            Ok(Control::RehandshakeReq) => {}
            _ => {
                tracing::warn!("ignoring an invalid rehandshake request");
                return;
            }
        }
        let Some(make) = self.cfg.metadata.clone() else {
            return;
        };
        let metadata = match make(self.codec) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "could not build rehandshake metadata");
                return;
            }
        };
        match self.codec.encode(&Control::RehandshakeResp { metadata }) {
            Ok(payload) => {
                self.send(Outgoing::new(
                    REHANDSHAKE_STREAM_ID,
                    ControlFlags::NONE,
                    payload,
                ))
                .await
            }
            Err(e) => tracing::warn!(error = %e, "could not encode rehandshake response"),
        }
    }

    /// Stamps a frame into the session and writes it when connected.
    async fn send(&mut self, out: Outgoing) {
        self.send_frame(out.as_body(), false).await;
    }

    /// [`Self::send`]; `data`: the frame comes from a writer's [`Command::Data`], which
    /// leaves `pending` once the frame is in `len` ([`Self::data_taken`]).
    async fn send_frame(&mut self, out: FrameBody<'_>, data: bool) {
        let Some(session) = self.session.as_mut() else {
            if data {
                self.data_taken();
            }
            return;
        };
        let frame = match session.state.stamp_ref(self.codec, out) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "could not encode a frame; destroying the session");
                if data {
                    self.data_taken();
                }
                self.destroy_session(e);
                return;
            }
        };
        let len = session.state.buffer_len();
        self.shared.backpressure.len.store(len, Ordering::Release);
        if data {
            self.data_taken();
        }
        let Some(session) = self.session.as_mut() else {
            return;
        };
        if let Link::Connected(conn) = &mut session.link {
            conn.dirty = true;
            self.wire.frame_out(frame.len());
            if conn.sink.feed(Message::Binary(frame)).await.is_err() {
                self.connection_lost(false);
            }
        }
    }

    /// Sends an explicit `ACK` when many frames were accepted since the last frame we
    /// sent (which carried our ack): the server's handlers may be waiting for it.
    async fn maybe_ack(&mut self) {
        let due = self.session.as_ref().is_some_and(|s| {
            matches!(s.link, Link::Connected(_)) && s.state.unacked_inbound() >= self.ack_threshold
        });
        if due {
            let payload = self.ack_payload.clone();
            self.send(Outgoing::new(
                HEARTBEAT_STREAM_ID,
                ControlFlags::ACK,
                payload,
            ))
            .await;
        }
    }

    async fn flush(&mut self) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        if let Link::Connected(conn) = &mut session.link {
            if conn.dirty {
                conn.dirty = false;
                if conn.sink.flush().await.is_err() {
                    self.connection_lost(false);
                }
            }
        }
    }

    async fn on_watchdog(&mut self) {
        let deadline = self.cfg.options.session.liveness_deadline();
        let interval = self.cfg.options.session.heartbeat_interval;
        let Some(session) = self.session.as_mut() else {
            return;
        };
        // Paused now, or at some point since the last check: a reader that takes items
        // one at a time lets the driver read a few frames at a time, and whether that
        // happens to coincide with the check must not decide the keepalive.
        let paused_meanwhile = std::mem::take(&mut session.paused_since_check);
        let paused = session.held.is_some() || paused_meanwhile;
        if let Link::Connected(conn) = &mut session.link {
            let now = Instant::now();
            if paused {
                // We are not reading, so silence proves nothing; keep the peer's
                // watchdog fed instead.
                conn.last_inbound = now;
                conn.next_check = now + interval;
                let payload = self.ack_payload.clone();
                self.send(Outgoing::new(
                    HEARTBEAT_STREAM_ID,
                    ControlFlags::ACK,
                    payload,
                ))
                .await;
                return;
            }
            if now.duration_since(conn.last_inbound) >= deadline {
                tracing::debug!(
                    "no inbound frame within the liveness deadline; closing the connection"
                );
                self.connection_lost(true);
            } else {
                conn.next_check = now + interval;
            }
        }
    }

    /// An invalid inbound frame while connected: destroy the session, close the socket.
    fn invalid_message(&mut self, message: String) {
        tracing::error!(%message, "invalid message; destroying the session");
        self.shared.emit(ClientEvent::InvalidMessage {
            message: message.clone(),
        });
        self.destroy_session(Error::decode(message));
    }

    /// The connection is gone (or we close it); the session survives for the grace period.
    fn connection_lost(&mut self, close: bool) {
        let Some(session) = self.session.as_mut() else {
            return;
        };
        let link = std::mem::replace(&mut session.link, Link::Idle);
        let Link::Connected(conn) = link else {
            return;
        };
        if close {
            close_conn(*conn);
        }
        session.grace_deadline =
            Some(Instant::now() + self.cfg.options.session.session_disconnect_grace);
        let id = session.state.id.clone();
        telemetry::connection_lost(Side::Client, &self.cfg.client_id, &id);
        self.shared
            .emit(ClientEvent::ConnectionLost { session_id: id });
        if !self
            .cfg
            .options
            .session
            .enable_transparent_session_reconnects
        {
            self.destroy_session(Error::closed("connection lost"));
            if self.cfg.options.reconnect_on_connection_drop {
                self.create_session();
                self.start_connect();
            }
        } else if self.cfg.options.reconnect_on_connection_drop {
            self.start_connect();
        }
    }

    /// Destroys the session: calls fail with UNEXPECTED_DISCONNECT, writers close,
    /// the socket is closed, connect waiters get `reason`.
    fn destroy_session(&mut self, reason: Error) {
        let Some(mut session) = self.session.take() else {
            for w in self.connect_waiters.drain(..) {
                let _ = w.send(Err(Error::closed(reason.to_string())));
            }
            return;
        };
        // The cause calls see: the failure that destroyed the session when it is a
        // connect or handshake failure, else the last failed connect attempt (grace
        // period elapsed while reconnecting).
        let cause = if reason.is_connect()
            || reason.is_handshake()
            || reason.is_config()
            || reason.is_timeout()
        {
            Some(reason.clone())
        } else {
            session.last_connect_error.take()
        };
        let err =
            ProtocolError::unexpected_disconnect(&self.cfg.server_id).caused_by(cause.clone());
        for (_, entry) in session.streams.drain() {
            entry.shared.write_closed.store(true, Ordering::Release);
            if let Some(events) = entry.events {
                events.send(StreamEvent::Error(err.clone()));
            }
        }
        session.state.clear();
        if let Link::Connected(conn) = std::mem::replace(&mut session.link, Link::Idle) {
            close_conn(*conn);
        }
        self.shared.backpressure.len.store(0, Ordering::Release);
        self.shared.backpressure.notify.notify_waiters();
        self.shared.set_session_id(None);
        self.shared
            .stats
            .sessions_closed
            .fetch_add(1, Ordering::Relaxed);
        let id = session.state.id.clone();
        telemetry::session_ended(Side::Client, &self.cfg.client_id, &id);
        self.shared
            .emit(ClientEvent::SessionClosed { session_id: id });
        let code = reason.handshake_code();
        let message = reason.to_string();
        for w in self.connect_waiters.drain(..) {
            let e = if reason.is_handshake() {
                Error::handshake(code, message.clone())
            } else if let Some(cause) = &cause {
                cause.clone()
            } else {
                Error::closed(message.clone())
            };
            let _ = w.send(Err(e));
        }
    }
}

/// Sends a close frame (code 1000) and lets the socket finish in the background.
fn close_conn(conn: Conn) {
    let Conn {
        mut sink,
        mut stream,
        ..
    } = conn;
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
    });
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The next event of the link; while `paused` (a frame is held for a full reader
/// queue), the connection is not read.
async fn link_event(link: Option<&mut Link>, paused: bool) -> Event {
    match link {
        Some(Link::Attempting(fut)) => Event::Attempt(fut.as_mut().await),
        Some(Link::Connected(conn)) => {
            let check = conn.next_check;
            let stream = &mut conn.stream;
            tokio::select! {
                frame = async {
                    if paused {
                        std::future::pending().await
                    } else {
                        stream.next().await
                    }
                } => Event::Frame(frame),
                _ = sleep_until(check) => Event::Watchdog,
            }
        }
        Some(Link::Idle) | None => std::future::pending().await,
    }
}

/// Validates a server cancel payload (reference §5.3): it must be `Err` with one of the
/// four reserved codes (and well-formed INVALID_REQUEST extras); otherwise it becomes
/// `CANCEL "stream cancelled with invalid payload"`.
fn validate_cancel(codec: Codec, payload: &Payload) -> ProtocolError {
    let invalid = || {
        ProtocolError::new(
            ProtocolErrorCode::Cancel,
            "stream cancelled with invalid payload",
        )
    };
    let Ok((false, inner)) = codec.decode_result(payload) else {
        return invalid();
    };
    let Ok(err) = codec.decode::<ErrorPayload>(&inner) else {
        return invalid();
    };
    let Some(p) = ProtocolError::from_payload(&err) else {
        return invalid();
    };
    if p.code == ProtocolErrorCode::InvalidRequest && err.extras.is_some() && p.extras.is_none() {
        return invalid();
    }
    p
}

struct AttemptParams {
    cfg: Arc<super::Config>,
    codec: Codec,
    client_id: String,
    server_id: String,
    session_id: String,
    expected: ExpectedSessionState,
    metadata: Option<super::MetadataFn>,
    delay: Duration,
    connection_timeout: Duration,
    handshake_timeout: Duration,
    shared: Arc<Shared>,
}

/// One connection attempt: backoff, dial, handshake request, handshake response.
async fn attempt(p: AttemptParams) -> Result<WebSocket, AttemptError> {
    if !p.delay.is_zero() {
        tokio::time::sleep(p.delay).await;
    }
    p.shared
        .stats
        .connection_attempts
        .fetch_add(1, Ordering::Relaxed);
    let request = match &p.cfg.provider {
        Some(provider) => provider().await.map_err(|e| {
            AttemptError::Retry(Error::connect("the connect provider failed").with_source(e))
        })?,
        None => ConnectRequest::new(p.cfg.url.clone()),
    };
    let request = if p.cfg.headers.is_empty() {
        request
    } else {
        let mut r = request;
        r.extend_headers(&p.cfg.headers);
        r
    };
    let mut ws = dial(&request, p.cfg.tls(), p.connection_timeout)
        .await
        .map_err(|e| {
            if e.is_final {
                AttemptError::Refused(e.error)
            } else {
                AttemptError::Retry(e.error)
            }
        })?;
    let handshake_deadline = Instant::now() + p.handshake_timeout;
    let metadata = match &p.metadata {
        Some(make) => Some(make(p.codec).map_err(|e| {
            AttemptError::Fatal(Error::handshake(
                None,
                format!("could not build handshake metadata: {e}"),
            ))
        })?),
        None => None,
    };
    let request = HandshakeRequest {
        kind: HandshakeRequestTag::HandshakeReq,
        protocol_version: PROTOCOL_VERSION.to_string(),
        session_id: p.session_id.clone(),
        expected_session_state: p.expected,
        metadata,
    };
    let payload = p.codec.encode(&request).map_err(AttemptError::Fatal)?;
    let msg = TransportMessage {
        id: generate_id(),
        from: p.client_id.clone(),
        to: p.server_id.clone(),
        seq: 0,
        ack: 0,
        service_name: None,
        procedure_name: None,
        stream_id: generate_id(),
        control_flags: ControlFlags::NONE,
        tracing: Some(Tracing::default()),
        payload,
    };
    let frame = p.codec.encode_message(&msg).map_err(AttemptError::Fatal)?;
    let handshake = async {
        ws.send(Message::Binary(Bytes::from(frame)))
            .await
            .map_err(|e| {
                AttemptError::Retry(Error::io("could not send the handshake").with_source(e))
            })?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) => return Ok(b),
                Some(Ok(Message::Text(_))) => {
                    return Err(AttemptError::Fatal(Error::handshake(
                        None,
                        "malformed handshake response (text frame)",
                    )))
                }
                Some(Ok(Message::Close(_))) | None => {
                    return Err(AttemptError::Retry(Error::io(
                        "connection closed during the handshake",
                    )))
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    return Err(AttemptError::Retry(
                        Error::io("connection failed during the handshake").with_source(e),
                    ))
                }
            }
        }
    };
    let bytes = match tokio::time::timeout_at(handshake_deadline, handshake).await {
        Ok(r) => r?,
        Err(_) => {
            return Err(AttemptError::Retry(Error::timeout(
                "no handshake response in time",
            )))
        }
    };
    let response = p.codec.decode_message(bytes).map_err(|e| {
        AttemptError::Fatal(Error::handshake(
            None,
            format!("malformed handshake response: {e}"),
        ))
    })?;
    let response: HandshakeResponse = p.codec.decode(&response.payload).map_err(|e| {
        AttemptError::Fatal(Error::handshake(
            None,
            format!("invalid handshake response: {e}"),
        ))
    })?;
    match response.status {
        HandshakeStatus::Ok { session_id, .. } if session_id == p.session_id => Ok(ws),
        HandshakeStatus::Ok { session_id, .. } => Err(AttemptError::Fatal(Error::handshake(
            None,
            format!(
                "handshake response for session {session_id}, expected {}",
                p.session_id
            ),
        ))),
        HandshakeStatus::Err { code, reason, .. } => {
            if code == HandshakeErrorCode::SessionStateMismatch {
                Err(AttemptError::Mismatch(reason))
            } else {
                Err(AttemptError::Fatal(Error::handshake(
                    Some(code),
                    format!("handshake rejected ({}): {reason}", code.as_str()),
                )))
            }
        }
    }
}
