//! The per-session task of the server: connection, bookkeeping, stream table,
//! tombstones, timers.
//!
//! Over 600 lines on purpose: it is one task's state machine (the dispatch of §13 of the
//! reference over one struct's `&mut self`), best read in order in one place.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::task::Poll;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use indexmap::IndexSet;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, Notify};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use super::commands::{Attach, AttachReply, Cmd, CmdQueue, StreamRef};
use super::upgrade::UpgradeRequest;
use super::websocket::{close_ws, close_ws_with, handshake_frame, Ws};
use super::{Context, CtxInner, Meta, ProcKind, RequestSink, ServerShared};
use crate::codec::{Codec, FrameBody, FrameIn, PayloadMismatch};
use crate::error::{InvalidRequestExtras, ProtocolError, ProtocolErrorCode, ValidationErrorEntry};
use crate::message::{
    Control, ControlFlags, False, HandshakeStatus, Payload, HEARTBEAT_STREAM_ID,
    REHANDSHAKE_STREAM_ID,
};
use crate::session::{explicit_ack_threshold, Inbound, SessionState};
use crate::telemetry::{self, CallTelemetry, Outcome, Received, Side};
use crate::validate::ValidationErrors;

/// What the server map holds per client id.
pub(crate) struct SessionEntry {
    pub(crate) session_id: Arc<str>,
    pub(crate) instance: u64,
    pub(crate) shared: Arc<SessionShared>,
}

/// Session state shared with handlers.
pub(crate) struct SessionShared {
    pub(crate) client_id: Arc<str>,
    pub(crate) session_id: Arc<str>,
    pub(crate) codec: Codec,
    /// Commands to the session task.
    pub(crate) tx: CmdQueue,
    /// Current parsed handshake metadata (replaced by re-handshakes).
    pub(crate) metadata: RwLock<Option<Meta>>,
    /// The upgrade request of the current (latest) connection.
    pub(crate) request: RwLock<Arc<UpgradeRequest>>,
    /// Frames in the send buffer (for backpressure).
    buffered: AtomicUsize,
    /// Result items handed to the session task but not stamped yet.
    pending: AtomicUsize,
    high_water_mark: usize,
    closed: AtomicBool,
    drained: Notify,
    /// A [`Cmd::Nudge`] was sent and the send buffer has not been trimmed since.
    nudged: AtomicBool,
    /// Capacity of each [`Requests`](super::Requests) queue of this session.
    pub(crate) read_queue_capacity: usize,
    /// Signalled when a handler takes a request from a queue the session found full.
    pub(crate) reader_space: Notify,
}

impl SessionShared {
    /// The upgrade request of the session's current connection.
    pub(crate) fn current_request(&self) -> Arc<UpgradeRequest> {
        match self.request.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Whether an item can be queued without waiting: the send buffer is below the
    /// high-water mark, or the session is closed (sending then fails at once).
    pub(crate) fn has_room(&self) -> bool {
        let used = self.buffered.load(Ordering::SeqCst) + self.pending.load(Ordering::SeqCst);
        used < self.high_water_mark || self.closed.load(Ordering::SeqCst)
    }

    /// Waits while the send buffer is at or above the high-water mark (and the session
    /// and the call are alive).
    pub(crate) async fn wait_writable(&self, ctx: &CtxInner) {
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if self.has_room() || ctx.is_done() {
                return;
            }
            if !self.nudged.swap(true, Ordering::SeqCst) {
                let _ = self.tx.send(Cmd::Nudge);
            }
            tokio::select! {
                _ = drained => {}
                _ = ctx.wait_done() => return,
            }
        }
    }

    /// A result item is on its way to the session task (counts against the mark).
    pub(crate) fn item_queued(&self) {
        self.pending.fetch_add(1, Ordering::SeqCst);
    }

    /// A result item reached the session task (or will never reach it).
    pub(crate) fn item_taken(&self) {
        let _ = self
            .pending
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }
}

/// One open stream, as the session task tracks it.
struct StreamEntry {
    gen: u64,
    kind: ProcKind,
    req_open: bool,
    res_open: bool,
    sink: Option<Arc<dyn RequestSink>>,
    ctx: Arc<CtxInner>,
}

/// `{ok:false, payload:{code:"CANCEL", message}}` from a client.
#[derive(Deserialize)]
struct ClientCancel {
    #[allow(dead_code)]
    ok: False,
    payload: ClientCancelPayload,
}

#[derive(Deserialize)]
struct ClientCancelPayload {
    code: String,
    message: String,
}

/// `{code, message, extras?}` as the server sends it.
#[derive(Serialize)]
struct WireError<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    extras: Option<&'a InvalidRequestExtras>,
}

fn invalid_request(message: &str) -> ProtocolError {
    ProtocolError::new(ProtocolErrorCode::InvalidRequest, message)
}

fn invalid_with_extras(message: &str, errors: ValidationErrors) -> ProtocolError {
    ProtocolError::with_extras(
        ProtocolErrorCode::InvalidRequest,
        message,
        Some(InvalidRequestExtras {
            first_validation_errors: errors
                .first
                .into_iter()
                .map(|i| ValidationErrorEntry {
                    path: i.path,
                    message: i.message,
                })
                .collect(),
            total_errors: errors.total as u64,
        }),
    )
}

enum Event {
    Cmd(Option<Cmd>),
    Frame(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    Tick,
    Grace,
    RehandshakeTimeout,
    ReaderSpace,
}

/// How many queued commands are handled before the outbox is flushed.
const BATCH: usize = 256;

/// The task that owns one session.
pub(crate) struct SessionTask {
    server: Arc<ServerShared>,
    shared: Arc<SessionShared>,
    instance: u64,
    state: SessionState,
    conn: Option<Ws>,
    streams: HashMap<Arc<str>, StreamEntry>,
    tombstones: IndexSet<Box<str>>,
    next_gen: u64,
    last_inbound: Instant,
    /// A frame was accepted since `last_inbound` was last set: the clock is read once
    /// per batch of frames, not per frame.
    inbound_seen: bool,
    heartbeat: Option<Interval>,
    grace_deadline: Option<Instant>,
    rehandshake_deadline: Option<Instant>,
    outbox: Vec<Bytes>,
    /// An accepted frame whose request queue was full: while it is here, frames are
    /// read into `backlog` only (see the module docs of `server`).
    /// Boxed: a frame is about 250 bytes, inline in every idle session's task.
    held: Option<Box<FrameIn<'static>>>,
    /// In-order frames read while `held` waits: not accepted yet (the client resends
    /// them after a reconnect), but their acks already trimmed the send buffer.
    backlog: VecDeque<FrameIn<'static>>,
    /// At most this many frames in `backlog`; beyond it the connection is not read.
    backlog_cap: usize,
    /// Send an explicit `ACK` once this many non-ACK frames were accepted without
    /// sending anything.
    ack_threshold: u64,
    finished: bool,
    /// Frame and byte counters (feature `metrics`).
    wire: telemetry::Wire,
    _done: mpsc::Sender<()>,
}

/// Creates a session (shared part and map entry data) without starting it.
pub(crate) fn new_session(
    server: &Arc<ServerShared>,
    client_id: &str,
    session_id: &str,
    metadata: Option<Meta>,
    request: Arc<UpgradeRequest>,
) -> (Arc<SessionShared>, u64) {
    let shared = Arc::new(SessionShared {
        client_id: Arc::from(client_id),
        session_id: Arc::from(session_id),
        codec: server.codec,
        tx: CmdQueue::new(),
        metadata: RwLock::new(metadata),
        request: RwLock::new(request),
        buffered: AtomicUsize::new(0),
        pending: AtomicUsize::new(0),
        high_water_mark: server.options.session.send_buffer_high_water_mark,
        closed: AtomicBool::new(false),
        drained: Notify::new(),
        nudged: AtomicBool::new(false),
        read_queue_capacity: server.options.session.read_queue_capacity.max(1),
        reader_space: Notify::new(),
    });
    let instance = server.next_instance.fetch_add(1, Ordering::Relaxed);
    (shared, instance)
}

/// However the task ends (a panic included), nothing waits on its queue afterwards.
impl Drop for SessionTask {
    fn drop(&mut self) {
        self.close_queue();
    }
}

impl SessionTask {
    pub(crate) fn new(
        server: Arc<ServerShared>,
        shared: Arc<SessionShared>,
        instance: u64,
        done: mpsc::Sender<()>,
    ) -> Self {
        let state = SessionState::new(
            shared.session_id.to_string(),
            server.server_id.to_string(),
            shared.client_id.to_string(),
        );
        let mark = server.options.session.send_buffer_high_water_mark;
        SessionTask {
            backlog: VecDeque::new(),
            backlog_cap: mark.saturating_mul(2).max(64),
            ack_threshold: explicit_ack_threshold(mark),
            server,
            shared,
            instance,
            state,
            conn: None,
            streams: HashMap::new(),
            tombstones: IndexSet::new(),
            next_gen: 0,
            last_inbound: Instant::now(),
            inbound_seen: false,
            heartbeat: None,
            grace_deadline: None,
            rehandshake_deadline: None,
            outbox: Vec::new(),
            held: None,
            finished: false,
            wire: telemetry::Wire::new(Side::Server),
            _done: done,
        }
    }

    fn codec(&self) -> Codec {
        self.server.codec
    }

    /// Takes the session's first connection (the handshake was accepted) and returns the
    /// session's task. The connection is adopted here, outside the task's future, whose
    /// state would otherwise keep a (moved-from) slot for it for the session's life.
    pub(crate) fn start(mut self, ws: Ws) -> impl std::future::Future<Output = ()> + Send {
        let (cid, sid) = (&self.shared.client_id, &self.shared.session_id);
        telemetry::session_started(Side::Server, cid, sid);
        telemetry::handshake_accepted(Side::Server, cid, sid, false);
        self.adopt(ws);
        self.run()
    }

    async fn run(mut self) {
        self.flush().await;
        while !self.finished {
            let event = self.next_event().await;
            self.handle(event);
            self.take_received_frames().await;
            if std::mem::take(&mut self.inbound_seen) {
                self.last_inbound = Instant::now();
            }
            if !self.finished {
                let mut n = 0;
                while n < BATCH && !self.finished {
                    match self.shared.tx.try_recv() {
                        Some(cmd) => self.on_cmd(cmd),
                        None => break,
                    }
                    n += 1;
                }
            }
            if !self.finished {
                self.retry_held();
                self.maybe_ack();
            }
            self.flush().await;
        }
    }

    /// Handles the frames that have already arrived (up to [`BATCH`]) before the flush,
    /// so that one write answers all of them: with many callers on one connection a
    /// write per inbound frame cost more kernel time (a TCP segment each) than all the
    /// session's own work. Polling with this task's context never parks it: a pending
    /// socket just ends the batch, and `next_event` polls it again.
    async fn take_received_frames(&mut self) {
        let mut n = 0;
        while n < BATCH && !self.finished {
            let readable = self.held.is_none() || self.backlog.len() < self.backlog_cap;
            let Some(ws) = self.conn.as_mut().filter(|_| readable) else {
                return;
            };
            let polled = std::future::poll_fn(|cx| Poll::Ready(ws.poll_next_unpin(cx))).await;
            match polled {
                Poll::Ready(frame) => self.handle(Event::Frame(frame)),
                Poll::Pending => return,
            }
            n += 1;
        }
    }

    /// Sends an explicit `ACK` when many frames were accepted since the last frame we
    /// sent (which carried our ack): the client's writers may be waiting for it.
    fn maybe_ack(&mut self) {
        if self.state.unacked_inbound() >= self.ack_threshold && self.conn.is_some() {
            let ack = self.server.ack_payload.clone();
            self.send(HEARTBEAT_STREAM_ID, ControlFlags::ACK, ack);
        }
    }

    async fn next_event(&mut self) -> Event {
        let conn = &mut self.conn;
        let rx = &self.shared.tx;
        let heartbeat = &mut self.heartbeat;
        let grace = self.grace_deadline;
        let rehandshake = self.rehandshake_deadline;
        let paused = self.held.is_some();
        let readable = !paused || self.backlog.len() < self.backlog_cap;
        let space = &self.shared.reader_space;
        tokio::select! {
            cmd = rx.recv() => Event::Cmd(cmd),
            frame = async {
                match conn.as_mut() {
                    Some(ws) if readable => ws.next().await,
                    _ => std::future::pending().await,
                }
            } => Event::Frame(frame),
            _ = async {
                if paused {
                    space.notified().await
                } else {
                    std::future::pending().await
                }
            } => Event::ReaderSpace,
            _ = async {
                match heartbeat.as_mut() {
                    Some(i) => { i.tick().await; }
                    None => std::future::pending::<()>().await,
                }
            } => Event::Tick,
            _ = async {
                match grace {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => Event::Grace,
            _ = async {
                match rehandshake {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => Event::RehandshakeTimeout,
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Cmd(Some(cmd)) => self.on_cmd(cmd),
            Event::Cmd(None) => self.destroy(),
            Event::Frame(Some(Ok(Message::Binary(b)))) => self.on_frame(b),
            Event::Frame(Some(Ok(Message::Text(_)))) => self.destroy(),
            Event::Frame(Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(e)))) => {
                self.too_big(&e.to_string())
            }
            Event::Frame(Some(Ok(Message::Close(_))))
            | Event::Frame(Some(Err(_)))
            | Event::Frame(None) => self.connection_lost(),
            Event::Frame(Some(Ok(_))) => {}
            Event::Tick => self.on_tick(),
            Event::Grace => {
                telemetry::grace_expired(
                    Side::Server,
                    &self.shared.client_id,
                    &self.shared.session_id,
                );
                self.destroy()
            }
            Event::RehandshakeTimeout => self.destroy(),
            Event::ReaderSpace => {}
        }
    }

    /// Delivers the held frame once its request queue has room (or is gone), then the
    /// frames read meanwhile, until one of them is held again.
    fn retry_held(&mut self) {
        let Some(msg) = &self.held else {
            return;
        };
        let ready = match self.streams.get(&*msg.stream_id) {
            Some(entry) => entry.sink.as_ref().is_none_or(|s| s.has_room()),
            None => true,
        };
        if !ready {
            return;
        }
        if let Some(msg) = self.held.take() {
            // Reading resumes: the liveness deadline starts afresh.
            self.last_inbound = Instant::now();
            self.dispatch(*msg);
        }
        while self.held.is_none() && !self.finished {
            let Some(msg) = self.backlog.pop_front() else {
                break;
            };
            self.on_message(msg);
        }
    }

    /// Writes the outbox to the connection.
    async fn flush(&mut self) {
        if self.outbox.is_empty() {
            return;
        }
        let Some(ws) = self.conn.as_mut() else {
            self.outbox.clear();
            return;
        };
        let mut failed = false;
        for frame in self.outbox.drain(..) {
            self.wire.frame_out(frame.len());
            if ws.feed(Message::Binary(frame)).await.is_err() {
                failed = true;
                break;
            }
        }
        if !failed && ws.flush().await.is_err() {
            failed = true;
        }
        self.outbox.clear();
        if self.outbox.capacity() > 1024 {
            self.outbox.shrink_to(64);
        }
        if failed {
            self.connection_lost();
        }
    }

    /// Takes a new connection: handshake response, retransmission, heartbeat, watchdog.
    fn adopt(&mut self, ws: Ws) {
        if let Some(old) = self.conn.take() {
            close_ws(old);
        }
        self.outbox.clear();
        // Not accepted: the client resends them after the handshake.
        self.backlog.clear();
        self.shared.nudged.store(false, Ordering::SeqCst);
        let status = HandshakeStatus::Ok {
            ok: crate::message::True,
            session_id: self.shared.session_id.to_string(),
        };
        match handshake_frame(&self.server, &self.shared.client_id, status) {
            Ok(frame) => self.outbox.push(frame),
            Err(_) => {
                close_ws(ws);
                self.destroy();
                return;
            }
        }
        self.outbox.extend(self.state.buffered_frames().cloned());
        self.conn = Some(ws);
        self.grace_deadline = None;
        self.last_inbound = Instant::now();
        let period = self.server.options.session.heartbeat_interval;
        let mut interval = tokio::time::interval_at(Instant::now() + period, period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        self.heartbeat = Some(interval);
    }

    /// The connection is gone; the session waits for a reconnect until the grace period ends.
    fn connection_lost(&mut self) {
        if let Some(ws) = self.conn.take() {
            telemetry::connection_lost(
                Side::Server,
                &self.shared.client_id,
                &self.shared.session_id,
            );
            close_ws(ws);
        }
        self.outbox.clear();
        self.backlog.clear();
        self.heartbeat = None;
        if self.grace_deadline.is_none() {
            self.grace_deadline =
                Some(Instant::now() + self.server.options.session.session_disconnect_grace);
        }
    }

    fn on_tick(&mut self) {
        if self.conn.is_none() {
            self.heartbeat = None;
            return;
        }
        if self.held.is_some() || std::mem::take(&mut self.inbound_seen) {
            // We are not reading (so silence proves nothing), or a frame was accepted
            // since the run loop last read the clock.
            self.last_inbound = Instant::now();
        }
        if self.last_inbound.elapsed() >= self.server.options.session.liveness_deadline() {
            self.connection_lost();
            return;
        }
        let ack = self.server.ack_payload.clone();
        self.send(HEARTBEAT_STREAM_ID, ControlFlags::ACK, ack);
    }

    /// An inbound message above `max_frame_size`: it can never be delivered (the client
    /// would resend it on every reconnect), so the session is destroyed and the
    /// connection closed with 1009 (message too big) and the limit in the reason.
    fn too_big(&mut self, detail: &str) {
        tracing::warn!(%detail, "inbound message above max_frame_size; destroying the session");
        if let Some(ws) = self.conn.take() {
            let reason = format!(
                "message too big (limit {} bytes)",
                self.server.options.max_frame_size
            );
            close_ws_with(ws, CloseCode::Size, reason);
        }
        self.destroy();
    }

    /// Destroys the session: every stream sees `UNEXPECTED_DISCONNECT`, nothing is sent.
    fn destroy(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        telemetry::session_ended(
            Side::Server,
            &self.shared.client_id,
            &self.shared.session_id,
        );
        {
            let mut map = self.server.lock_sessions();
            if map
                .get(&*self.shared.client_id)
                .is_some_and(|e| e.instance == self.instance)
            {
                map.remove(&*self.shared.client_id);
            }
        }
        let disconnect = ProtocolError::new(
            ProtocolErrorCode::UnexpectedDisconnect,
            "client unexpectedly disconnected",
        );
        for (_, entry) in self.streams.drain() {
            entry.ctx.telemetry.set_outcome(Outcome::ProtocolError);
            if let Some(sink) = &entry.sink {
                if entry.req_open {
                    sink.push_err(disconnect.clone());
                }
                sink.close();
            }
            entry.ctx.finish();
            self.server.stream_count.fetch_sub(1, Ordering::SeqCst);
        }
        self.tombstones.clear();
        self.held = None;
        self.backlog.clear();
        self.state.clear();
        self.shared.buffered.store(0, Ordering::SeqCst);
        self.shared.closed.store(true, Ordering::SeqCst);
        self.shared.drained.notify_waiters();
        self.outbox.clear();
        self.heartbeat = None;
        if let Some(ws) = self.conn.take() {
            close_ws(ws);
        }
        self.close_queue();
    }

    /// Refuses further commands and hands pending reconnects back to their connection
    /// tasks (which then start a new session).
    fn close_queue(&self) {
        self.shared.tx.close();
        while let Some(cmd) = self.shared.tx.try_recv() {
            if let Cmd::Attach(a) = cmd {
                let a = *a;
                let _ = a.reply.send(AttachReply::Gone { ws: a.ws });
            }
        }
    }

    fn update_buffered(&self) {
        let len = self.state.buffer_len();
        let prev = self.shared.buffered.swap(len, Ordering::SeqCst);
        if len < prev {
            self.shared.nudged.store(false, Ordering::SeqCst);
            self.shared.drained.notify_waiters();
        }
    }

    /// Stamps and queues one frame (buffered even while disconnected).
    fn send(&mut self, stream_id: &str, flags: ControlFlags, payload: Payload) {
        let codec = self.codec();
        match self
            .state
            .stamp_ref(codec, FrameBody::new(stream_id, flags, &payload))
        {
            Ok(frame) => {
                if self.conn.is_some() {
                    self.outbox.push(frame);
                }
                self.update_buffered();
            }
            Err(_) => self.destroy(),
        }
    }

    fn error_payload(&self, error: &ProtocolError) -> Payload {
        let codec = self.codec();
        let wire = WireError {
            code: error.code.as_str(),
            message: &error.message,
            extras: error.extras.as_ref(),
        };
        match codec.encode(&wire) {
            Ok(inner) => codec.encode_result(false, &inner),
            Err(_) => Payload::default(),
        }
    }

    fn tombstone(&mut self, id: &str) {
        let cap = self
            .server
            .options
            .max_cancelled_stream_tombstones_per_session;
        if cap == 0 {
            return;
        }
        self.tombstones.shift_remove(id);
        self.tombstones.insert(Box::from(id));
        while self.tombstones.len() > cap {
            self.tombstones.shift_remove_index(0);
        }
    }

    /// Sends a server cancel (flag 4) and tombstones the id.
    fn send_cancel(&mut self, id: &str, error: &ProtocolError) {
        let payload = self.error_payload(error);
        self.send(id, ControlFlags::CANCEL, payload);
        self.tombstone(id);
    }

    /// Cancels an open stream from the server side.
    fn server_cancel(&mut self, id: &str, error: ProtocolError) {
        if let Some(entry) = self.streams.get_mut(id) {
            entry.ctx.telemetry.fail(
                Outcome::ProtocolError,
                Some(error.code.as_str()),
                &error.message,
            );
            if let Some(sink) = &entry.sink {
                if entry.req_open {
                    sink.push_err(error.clone());
                }
                sink.close();
            }
            entry.req_open = false;
            entry.res_open = false;
        }
        self.send_cancel(id, &error);
        self.remove_stream(id);
    }

    fn remove_stream(&mut self, id: &str) {
        if let Some(entry) = self.streams.remove(id) {
            if let Some(sink) = &entry.sink {
                sink.close();
            }
            entry.ctx.finish();
            self.server.stream_count.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn maybe_cleanup(&mut self, id: &str) {
        if self
            .streams
            .get(id)
            .is_some_and(|e| !e.req_open && !e.res_open)
        {
            self.remove_stream(id);
        }
    }

    /// Looks up the live stream a command refers to.
    fn live(&mut self, stream: &StreamRef) -> Option<&mut StreamEntry> {
        self.streams
            .get_mut(&*stream.id)
            .filter(|e| e.gen == stream.gen)
    }

    fn close_response(&mut self, stream: &StreamRef) {
        let Some(entry) = self.live(stream) else {
            return;
        };
        if !entry.res_open {
            return;
        }
        entry.res_open = false;
        let close = self.server.close_payload.clone();
        self.send(&stream.id, ControlFlags::CLOSED, close);
        self.maybe_cleanup(&stream.id);
    }

    fn on_cmd(&mut self, cmd: Cmd) {
        if self.finished {
            if let Cmd::Attach(a) = cmd {
                let a = *a;
                let _ = a.reply.send(AttachReply::Gone { ws: a.ws });
            }
            return;
        }
        match cmd {
            Cmd::Item { stream, payload } => {
                self.shared.item_taken();
                if self.live(&stream).is_some_and(|e| e.res_open) {
                    self.send(&stream.id, ControlFlags::NONE, payload);
                }
            }
            Cmd::CloseRes { stream } => self.close_response(&stream),
            Cmd::Finish { stream, outcome } => {
                let Some(entry) = self.live(&stream) else {
                    return;
                };
                match outcome {
                    Ok(payload) => {
                        if entry.res_open {
                            entry.res_open = false;
                            self.send(&stream.id, ControlFlags::CLOSED, payload);
                            self.maybe_cleanup(&stream.id);
                        }
                    }
                    Err(message) => {
                        self.server_cancel(
                            &stream.id,
                            ProtocolError::new(ProtocolErrorCode::UncaughtError, message),
                        );
                    }
                }
            }
            Cmd::StreamDone {
                stream,
                err_item,
                close,
            } => {
                let Some(entry) = self.live(&stream) else {
                    return;
                };
                if !entry.res_open {
                    return;
                }
                if let Some(p) = err_item {
                    self.send(&stream.id, ControlFlags::NONE, p);
                }
                if close {
                    self.close_response(&stream);
                }
            }
            Cmd::Cancel { stream, error } => {
                if self.live(&stream).is_some() {
                    self.server_cancel(&stream.id, *error);
                }
            }
            Cmd::Nudge => {
                if self.conn.is_some() {
                    let ack = self.server.ack_payload.clone();
                    self.send(HEARTBEAT_STREAM_ID, ControlFlags::ACK, ack);
                }
            }
            Cmd::Rehandshake => {
                if self.server.validator.is_some() {
                    let payload = match self.codec().encode(&Control::RehandshakeReq) {
                        Ok(p) => p,
                        Err(_) => return,
                    };
                    self.send(REHANDSHAKE_STREAM_ID, ControlFlags::NONE, payload);
                    if self.rehandshake_deadline.is_none() {
                        self.rehandshake_deadline =
                            Some(Instant::now() + self.server.options.session.handshake_timeout);
                    }
                }
            }
            Cmd::Attach(a) => self.on_attach(*a),
            Cmd::Destroy => self.destroy(),
        }
    }

    fn on_attach(&mut self, a: Attach) {
        let next_sent = a.expected.next_sent_seq;
        let next_expected = a.expected.next_expected_seq;
        let ack = self.state.ack();
        let our_next = self.state.next_seq();
        let rejection = if next_sent > ack {
            Some(format!(
                "client is in the future: server wanted next message to be {ack} but client would have sent {next_sent}"
            ))
        } else if our_next > next_expected {
            Some(format!(
                "server is in the future: client wanted next message to be {next_expected} but server would have sent {our_next}"
            ))
        } else {
            None
        };
        if let Some(reason) = rejection {
            let _ = a.reply.send(AttachReply::Rejected { ws: a.ws, reason });
            return;
        }
        {
            let mut meta = match self.shared.metadata.write() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            *meta = a.metadata;
        }
        {
            let mut req = match self.shared.request.write() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            *req = a.request;
        }
        self.adopt(a.ws);
        telemetry::handshake_accepted(
            Side::Server,
            &self.shared.client_id,
            &self.shared.session_id,
            true,
        );
        let _ = a.reply.send(AttachReply::Accepted);
    }

    fn on_frame(&mut self, frame: Bytes) {
        self.wire.frame_in(frame.len());
        let codec = self.codec();
        let msg = match codec.decode_frame(&frame) {
            Ok(m) => m,
            Err(_) => {
                self.destroy();
                return;
            }
        };
        if self.held.is_some() || !self.backlog.is_empty() {
            // Paused: keep the frame for later, but take its ack now, so that a handler
            // waiting at the high-water mark (perhaps the one we wait for) can go on.
            match self.state.peek_frame(&msg, self.backlog.len() as u64) {
                Inbound::WrongFrom => self.destroy(),
                Inbound::Duplicate => {}
                Inbound::Gap { .. } => self.connection_lost(),
                Inbound::Accepted => {
                    self.inbound_seen = true;
                    self.update_buffered();
                    self.backlog.push_back(msg.into_static());
                }
            }
            return;
        }
        self.on_message(msg);
    }

    /// Accepts (or drops) one decoded frame and acts on it.
    fn on_message(&mut self, msg: FrameIn<'_>) {
        match self.state.check_frame(&msg) {
            Inbound::WrongFrom => self.destroy(),
            Inbound::Duplicate => {}
            Inbound::Gap { .. } => self.connection_lost(),
            Inbound::Accepted => {
                self.inbound_seen = true;
                self.update_buffered();
                if msg.control_flags.is_ack() {
                    return;
                }
                if msg.stream_id == REHANDSHAKE_STREAM_ID {
                    self.on_rehandshake(&msg);
                    return;
                }
                self.dispatch(msg);
            }
        }
    }

    fn on_rehandshake(&mut self, msg: &FrameIn<'_>) {
        let codec = self.codec();
        match codec.decode_checked::<Control>(&msg.payload) {
            Ok(Control::RehandshakeResp { .. }) => {}
            _ => {
                self.destroy();
                return;
            }
        }
        let Some(validator) = self.server.validator.clone() else {
            return;
        };
        let prev = match self.shared.metadata.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        let request = self.shared.current_request();
        match validator.check(
            codec,
            &msg.payload,
            prev.as_ref(),
            &self.shared.client_id,
            &request,
        ) {
            Ok(meta) => {
                let mut guard = match self.shared.metadata.write() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                *guard = Some(meta);
                drop(guard);
                self.rehandshake_deadline = None;
            }
            Err(_) => self.destroy(),
        }
    }

    /// Routes a frame to its stream, or opens a new one (§13.1).
    fn dispatch(&mut self, msg: FrameIn<'_>) {
        if *msg.to != *self.server.server_id {
            return;
        }
        if self.streams.contains_key(&*msg.stream_id) {
            self.on_stream_message(msg);
            return;
        }
        if self.tombstones.contains(&*msg.stream_id) {
            return;
        }
        let id = &*msg.stream_id;
        if !msg.control_flags.is_open() {
            let e = invalid_request(
                "can't create a new procedure stream from a message that doesn't have the stream open bit set",
            );
            self.send_cancel(id, &e);
            return;
        }
        let Some(service) = msg.service_name.as_deref() else {
            self.send_cancel(
                id,
                &invalid_request("missing service name in stream open message"),
            );
            return;
        };
        let Some(procedure) = msg.procedure_name.as_deref() else {
            self.send_cancel(
                id,
                &invalid_request("missing procedure name in stream open message"),
            );
            return;
        };
        let server = self.server.clone();
        let Some(svc) = server.router.service(service) else {
            self.send_cancel(
                id,
                &invalid_request(&format!("couldn't find service {service}")),
            );
            return;
        };
        let Some(proc) = svc.get(procedure) else {
            self.send_cancel(
                id,
                &invalid_request(&format!(
                    "couldn't find a matching procedure for {service}.{procedure}"
                )),
            );
            return;
        };
        if server.draining.load(Ordering::SeqCst) {
            // Graceful shutdown: in-flight calls finish, new ones are turned away.
            let error = ProtocolError::new(ProtocolErrorCode::Cancel, "server is shutting down");
            self.send_cancel(id, &error);
            return;
        }
        if self.streams.len() >= server.options.max_streams_per_session {
            self.send_cancel(id, &invalid_request("too many concurrent streams"));
            return;
        }
        self.next_gen += 1;
        let stream = StreamRef {
            id: Arc::from(id),
            gen: self.next_gen,
        };
        let trace = Received::from_frame(msg.tracing.as_ref());
        let telemetry = CallTelemetry::server(proc.kind.as_str(), service, procedure, id, &trace);
        let ctx = Context::new(self.shared.clone(), stream.clone(), telemetry, trace);
        let inner = ctx.inner().clone();
        match (proc.start)(ctx, self.codec(), &msg.payload, &proc.schemas) {
            Err(_) => {
                let error = invalid_request("procedure init failed validation");
                inner.telemetry.fail(
                    Outcome::ProtocolError,
                    Some(error.code.as_str()),
                    &error.message,
                );
                inner.finish();
                self.send_cancel(id, &error);
            }
            Ok(sink) => {
                let closed = msg.control_flags.is_closed();
                if closed {
                    if let Some(s) = &sink {
                        s.close();
                    }
                }
                self.streams.insert(
                    stream.id.clone(),
                    StreamEntry {
                        gen: stream.gen,
                        kind: proc.kind,
                        req_open: !closed,
                        res_open: true,
                        sink,
                        ctx: inner,
                    },
                );
                server.stream_count.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// A frame for an open stream (§13.2).
    fn on_stream_message(&mut self, msg: FrameIn<'_>) {
        let codec = self.codec();
        let id = &*msg.stream_id;
        let Some(entry) = self.streams.get_mut(id) else {
            return;
        };
        let flags = msg.control_flags;
        if flags.is_cancel() {
            let error = match codec.decode_checked::<ClientCancel>(&msg.payload) {
                Ok(c) if c.payload.code == "CANCEL" => {
                    ProtocolError::new(ProtocolErrorCode::Cancel, c.payload.message)
                }
                _ => ProtocolError::new(
                    ProtocolErrorCode::Cancel,
                    "stream cancelled, client sent invalid payload",
                ),
            };
            entry.ctx.telemetry.set_outcome(Outcome::Cancelled);
            if let Some(sink) = &entry.sink {
                if entry.req_open {
                    sink.push_err(error);
                }
                sink.close();
            }
            entry.req_open = false;
            let res_was_open = entry.res_open;
            entry.res_open = false;
            if res_was_open && entry.kind.streams_responses() {
                let close = self.server.close_payload.clone();
                self.send(id, ControlFlags::CLOSED, close);
            }
            self.remove_stream(id);
            return;
        }
        if !entry.req_open {
            self.server_cancel(
                id,
                invalid_request("received message after request stream is closed"),
            );
            return;
        }
        if entry.kind.has_requests() && entry.sink.as_ref().is_some_and(|s| !s.has_room()) {
            tracing::debug!(stream_id = %id, "request queue full; pausing reads");
            self.server.read_pauses.fetch_add(1, Ordering::Relaxed);
            self.held = Some(Box::new(msg.into_static()));
            return;
        }
        let closed = flags.is_closed();
        let data_mismatch = match &entry.sink {
            Some(sink) if entry.kind.has_requests() => sink.push_payload(codec, &msg.payload).err(),
            _ => match codec.decode_checked::<Control>(&msg.payload) {
                Ok(_) if closed => {
                    self.close_request(id);
                    return;
                }
                Ok(_) => Some(ValidationErrors::from(PayloadMismatch {
                    path: String::new(),
                    message: "control payload without the closed bit".to_string(),
                })),
                Err(m) => Some(m.into()),
            },
        };
        let Some(entry) = self.streams.get_mut(id) else {
            return;
        };
        match data_mismatch {
            None => {
                if closed {
                    self.close_request(id);
                }
            }
            Some(mismatch) => {
                let is_control_close =
                    closed && codec.decode_checked::<Control>(&msg.payload).is_ok();
                if is_control_close && entry.kind.has_requests() {
                    self.close_request(id);
                    return;
                }
                let message = if entry.kind.has_requests() {
                    "message in requestData position did not match schema"
                } else {
                    "message in control payload position did not match schema"
                };
                self.server_cancel(id, invalid_with_extras(message, mismatch));
            }
        }
    }

    fn close_request(&mut self, id: &str) {
        if let Some(entry) = self.streams.get_mut(id) {
            entry.req_open = false;
            if let Some(sink) = &entry.sink {
                sink.close();
            }
        }
        self.maybe_cleanup(id);
    }
}
