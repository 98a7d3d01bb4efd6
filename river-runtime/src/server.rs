//! The server: a WebSocket listener, handshake validation, one task per session, and a
//! [`Router`] of procedures of the four kinds.
//!
//! API CONTRACT (kept stable for generated code): `Router::{new, rpc, upload, stream,
//! subscription}`, `Context`, `Requests`, `Responses`, `Failure`, `Server::builder`,
//! `ServerBuilder`, `ServerHandle`, `HandshakeValidator`, `HandshakeRejection`.
//!
//! # Architecture
//!
//! - An accept loop spawns one short-lived task per TCP connection. That task performs
//!   the WebSocket upgrade and the River handshake (§6.1 of the protocol reference) and
//!   then hands the WebSocket to the session task of the client (a new one, or the
//!   existing one on a transparent reconnect).
//! - One task per session owns the connection, the seq/ack bookkeeping and send buffer,
//!   the stream table, the tombstones and the timers (heartbeat, watchdog, grace).
//!   Inbound frames are decoded, checked and dispatched there; request payloads are
//!   decoded into the procedure's request type there (that decides `INVALID_REQUEST`).
//! - Handlers start in the session task and continue in their own tokio task (see
//!   "Handler start order"). Handlers encode their results themselves and pass the
//!   encoded payloads to the session task over one channel per session; the session task
//!   only stamps `seq`/`ack` and writes.
//!
//! # Handler start order
//!
//! As in the reference (where an async handler's synchronous part runs before the next
//! message is processed), handlers start in arrival order: when a frame opens a stream,
//! the session task polls the new handler future once, right there, before it handles
//! the next frame; only if that poll returns `Pending` is the future spawned (the
//! spawned task polls it again at once with its own waker). So everything a handler
//! does before its first `.await` that actually waits happens in the order the opens
//! arrived: two rpcs sent back to back have their side effects in that order, on any
//! runtime flavour. Request items reach a running handler in order through its queue.
//! A panic in that first poll is caught like any other (`UNCAUGHT_ERROR`). The cost:
//! a handler's synchronous prefix runs on the session task, so long blocking work
//! there delays that session's other frames (move it into `spawn_blocking`); a handler
//! that completes in its first poll is never spawned at all.
//!
//! # Differences from the reference server
//!
//! - Returning from a stream or subscription handler closes the response half if it is
//!   still open (the reference requires an explicit close). Dropping [`Responses`] before
//!   the handler returns does not close the half by itself; it is closed when the handler
//!   returns (or by [`Responses::close`]). Dropping it after the handler returned (it was
//!   moved elsewhere) closes it.
//! - A handler returning `Err(Failure::Service(e))` from a stream or subscription sends
//!   `e` as an `Err` item and then closes the response half.
//! - A handshake beyond [`ServerOptions::max_sessions`] is refused with
//!   `REJECTED_BY_CUSTOM_HANDLER` (reason `"server session limit reached"`): it is fatal
//!   for the client (no retry storm), unlike the retriable `SESSION_STATE_MISMATCH`.
//! - A stream open beyond [`ServerOptions::max_streams_per_session`] is answered with an
//!   `INVALID_REQUEST` cancel `"too many concurrent streams"`.
//! - `v1.1` handshakes are accepted (as the reference does) but the session then speaks
//!   v2.0 stream semantics.
//! - A result that cannot be encoded (serde error) is reported as `UNCAUGHT_ERROR`
//!   instead of destroying the session.
//! - [`Context::request_rehandshake`] only sends `REHANDSHAKE_REQ` when a
//!   [`HandshakeValidator`] is configured (a client without metadata ignores it, and the
//!   response deadline would then tear the session down).
//! - The request queue behind [`Requests`] is bounded (see below; the reference's
//!   readable is unbounded).
//! - [`Responses::send`] waits at the send buffer's high-water mark (the reference's
//!   `write` never blocks; its mark is advisory). It also counts results queued for the
//!   session task against the mark, so a handler cannot run ahead of it. See "Acks and
//!   the high-water mark" for the extra `ACK` frames this takes.
//!
//! # Bounded request queues and backpressure
//!
//! Each [`Requests`] queue holds at most
//! [`SessionOptions::read_queue_capacity`](crate::SessionOptions::read_queue_capacity)
//! requests (default 1024). When a request arrives for a full queue, the session task
//! keeps that one frame and stops reading the connection until the handler takes a
//! request (or drops its [`Requests`], or the stream is cancelled). Nothing is dropped:
//! the frame was accepted and is delivered later, also across reconnects. The client
//! then sees no acknowledgements for what it sends next, its send buffer reaches its
//! high-water mark and its writers wait: memory stays bounded end to end.
//!
//! While paused, the session keeps sending heartbeats (so the client's watchdog sees a
//! live server) and its own watchdog does not count the silence, since nothing is being
//! read; the liveness deadline starts afresh when reading resumes. Commands from
//! handlers, reconnects and timers are still handled.
//!
//! While paused, the session still reads ahead up to twice the high-water mark of
//! frames: it does not accept them (its ack stays put, so a client that honours its own
//! mark cannot send more than that; after a reconnect the client resends them), but it
//! applies their acks to the send buffer at once. Without that, a handler that both
//! reads and writes (an echo) could deadlock: its queue full, the session not reading,
//! and the handler itself waiting at the high-water mark for acks that sit in the
//! unread frames. Once the held frame is delivered, the frames read ahead are accepted
//! and dispatched in order. Beyond the read-ahead limit (a client ignoring the mark) the
//! connection is not read at all.
//!
//! Limits: the pause is per session, so one slow handler holds up every other stream of
//! the session behind its frame (head-of-line blocking), and a phantom disconnect during
//! a pause is only noticed when reading resumes or a write fails (the grace period then
//! applies as usual). [`ServerHandle::read_pauses`] counts pauses.
//!
//! # Acks and the high-water mark
//!
//! Acks only travel on frames, so a side that receives a lot and sends nothing would
//! leave the other side's writers waiting at the mark until the next heartbeat (1 s by
//! default; in a stream echo where both sides reached the mark, neither sent anything
//! until then). Two rules prevent that, on top of the reference's behaviour:
//!
//! - Explicit acks: once the session has accepted a quarter of its high-water mark of
//!   non-`ACK` frames without sending anything (any frame it sends carries its ack), it
//!   sends an `ACK` frame (flag 1, stream `heartbeat`, `{type:"ACK"}`, seq-counted like
//!   every frame). The client's driver does the same. `ACK` frames never count, so acks
//!   cannot answer acks: our server never echoes, our client echoes the server's `ACK`s
//!   once each, and an echo never triggers another `ACK`.
//! - Nudge: when a [`Responses::send`] starts waiting at the mark, the session sends one
//!   `ACK` (again only after the buffer was trimmed since the last one). Clients echo
//!   every `ACK` they receive (ours and the reference's), and the echo carries the
//!   client's ack. This matters for reference clients, which never ack on their own.
//!
//! On the wire, a reference client sees at most one extra `ACK` per 256 frames it sends
//! (default mark) while the server sends nothing, plus one per time a server writer
//! reaches the mark, and echoes each; the checks are one counter per frame.

mod conn;
mod io;
mod session;
mod shutdown;
pub mod upgrade;
mod websocket;

pub use shutdown::ShutdownReport;
pub use upgrade::{UpgradeRejection, UpgradeRequest};

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use futures::future::lazy;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch, Notify};

use crate::codec::{Codec, PayloadMismatch};
use crate::error::{Error, ProtocolError, ProtocolErrorCode};
use crate::message::{HandshakeErrorCode, Payload};
use crate::options::ServerOptions;
use crate::validate::{SchemaError, ValidationErrors, ValidationIssue, Validator};
use crate::value::Value;

use session::{Cmd, SessionShared, StreamRef};

/// Parsed handshake metadata as the validator returned it.
pub(crate) type Meta = Arc<dyn Any + Send + Sync>;

/// How a handler failed.
#[derive(Debug)]
pub enum Failure<E> {
    /// A service error declared in the schema: sent as an `Err` result (flag 8 for
    /// rpc/upload; for stream/subscription an `Err` item, then CLOSE).
    Service(E),
    /// An unexpected failure: sent as `UNCAUGHT_ERROR` cancel (flag 4) with this message.
    Uncaught(String),
}

impl<E> Failure<E> {
    /// An uncaught failure with the error's `Display` text as its message.
    pub fn uncaught(err: impl std::fmt::Display) -> Self {
        Failure::Uncaught(err.to_string())
    }
}

impl<E> From<E> for Failure<E> {
    fn from(e: E) -> Self {
        Failure::Service(e)
    }
}

// Bits of `CtxInner::res_flags`.
const RES_CLOSED: u8 = 1;
const RES_DROPPED: u8 = 2;
const HANDLER_DONE: u8 = 4;
const CANCEL_SENT: u8 = 8;

/// Per-call state shared by the handler (through [`Context`] and [`Responses`]) and the
/// session task.
pub(crate) struct CtxInner {
    session: Arc<SessionShared>,
    stream: StreamRef,
    done: AtomicBool,
    notify: Notify,
    res_flags: AtomicU8,
}

impl CtxInner {
    /// Marks the call over and wakes every waiter (called by the session task).
    pub(crate) fn finish(&self) {
        self.done.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    fn is_done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }

    async fn wait_done(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_done() {
                return;
            }
            notified.await;
        }
    }

    fn send(&self, cmd: Cmd) -> Result<(), Error> {
        self.session
            .tx
            .send(cmd)
            .map_err(|_| Error::closed("session is closed"))
    }
}

/// What a handler knows about its call.
#[derive(Clone)]
pub struct Context {
    inner: Arc<CtxInner>,
}

impl Context {
    pub(crate) fn new(session: Arc<SessionShared>, stream: StreamRef) -> Self {
        Context {
            inner: Arc::new(CtxInner {
                session,
                stream,
                done: AtomicBool::new(false),
                notify: Notify::new(),
                res_flags: AtomicU8::new(0),
            }),
        }
    }

    pub(crate) fn inner(&self) -> &Arc<CtxInner> {
        &self.inner
    }

    fn codec(&self) -> Codec {
        self.inner.session.codec
    }

    /// The calling client's id.
    pub fn client_id(&self) -> &str {
        &self.inner.session.client_id
    }
    /// The session id.
    pub fn session_id(&self) -> &str {
        &self.inner.session.session_id
    }
    /// The stream id of this call.
    pub fn stream_id(&self) -> &str {
        &self.inner.stream.id
    }
    /// The parsed handshake metadata (as the validator returned it), if it is a `T`.
    /// Reflects re-handshakes.
    pub fn metadata<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let meta = match self.inner.session.metadata.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        meta.and_then(|m| m.downcast::<T>().ok())
    }
    /// Cancels the call from the server: sends `CANCEL` (flag 4) with `message` and
    /// closes both halves. Idempotent.
    pub fn cancel(&self, message: impl Into<String>) {
        if self.inner.is_done() {
            return;
        }
        if self.inner.res_flags.fetch_or(CANCEL_SENT, Ordering::SeqCst) & CANCEL_SENT != 0 {
            return;
        }
        let _ = self.inner.send(Cmd::Cancel {
            stream: self.inner.stream.clone(),
            error: ProtocolError::new(ProtocolErrorCode::Cancel, message),
        });
    }
    /// Whether the call is over (both halves closed, cancelled, or the session lost).
    pub fn is_cancelled(&self) -> bool {
        self.inner.is_done()
    }
    /// Resolves when the call is over (the reference's `ctx.signal`).
    pub fn cancelled(&self) -> impl Future<Output = ()> + Send + 'static {
        let inner = self.inner.clone();
        async move { inner.wait_done().await }
    }
    /// The HTTP upgrade request of the session's current connection: headers (for
    /// example `authorization`), path and the peer's address. After a transparent
    /// reconnect this is the request of the new connection.
    pub fn upgrade_request(&self) -> Arc<UpgradeRequest> {
        self.inner.session.current_request()
    }
    /// Asks the client to re-handshake (sends `REHANDSHAKE_REQ`). Does nothing when the
    /// server has no [`HandshakeValidator`].
    pub fn request_rehandshake(&self) {
        let _ = self.inner.send(Cmd::Rehandshake);
    }
}

/// The session task's view of a stream's request half: it decodes payloads into the
/// procedure's request type and queues them for the handler.
pub(crate) trait RequestSink: Send + Sync {
    /// Decodes and queues one request; the error says why it did not match.
    fn push_payload(&self, codec: Codec, payload: &Payload) -> Result<(), ValidationErrors>;
    /// Queues an error (cancel, invalid request, disconnect).
    fn push_err(&self, error: ProtocolError);
    /// Ends the request half.
    fn close(&self);
    /// Whether one more request fits (always true once the half is closed or dropped).
    /// When it does not, the queue wakes the session once the handler takes one.
    fn has_room(&self) -> bool;
}

struct ReqState<R> {
    items: VecDeque<Result<R, ProtocolError>>,
    closed: bool,
    dropped: bool,
    /// The session found the queue full and waits for room.
    blocked: bool,
    waker: Option<Waker>,
}

struct ReqQueue<R> {
    state: Mutex<ReqState<R>>,
    session: Arc<SessionShared>,
    /// The request data schema, when the router has one.
    schema: Option<Validator>,
}

impl<R> ReqQueue<R> {
    fn new(session: Arc<SessionShared>, schema: Option<Validator>) -> Self {
        ReqQueue {
            schema,
            state: Mutex::new(ReqState {
                items: VecDeque::new(),
                closed: false,
                dropped: false,
                blocked: false,
                waker: None,
            }),
            session,
        }
    }

    /// Wakes the session if it waits for room.
    fn unblock(&self, st: &mut ReqState<R>) {
        if std::mem::take(&mut st.blocked) {
            self.session.reader_space.notify_one();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ReqState<R>> {
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn push(&self, item: Result<R, ProtocolError>) {
        let waker = {
            let mut st = self.lock();
            if st.closed || st.dropped {
                return;
            }
            st.items.push_back(item);
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<R: DeserializeOwned + Send> RequestSink for ReqQueue<R> {
    fn push_payload(&self, codec: Codec, payload: &Payload) -> Result<(), ValidationErrors> {
        let value: R = decode_validated(codec, payload, self.schema.as_ref())?;
        self.push(Ok(value));
        Ok(())
    }

    fn push_err(&self, error: ProtocolError) {
        self.push(Err(error));
    }

    fn close(&self) {
        let waker = {
            let mut st = self.lock();
            st.closed = true;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn has_room(&self) -> bool {
        let mut st = self.lock();
        if st.closed || st.dropped || st.items.len() < self.session.read_queue_capacity {
            return true;
        }
        st.blocked = true;
        false
    }
}

/// The request half as the handler sees it: `Ok` per request; `Err` for a client
/// cancel, an invalid request, or the session lost.
///
/// The queue behind it holds at most `read_queue_capacity` requests; beyond that the
/// session stops reading the connection until the handler catches up (see the module
/// docs), so nothing is lost and memory stays bounded.
pub struct Requests<R> {
    queue: Arc<ReqQueue<R>>,
}

impl<R> futures::Stream for Requests<R> {
    type Item = Result<R, ProtocolError>;
    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Option<Self::Item>> {
        let mut st = self.queue.lock();
        if let Some(item) = st.items.pop_front() {
            if st.items.len() < self.queue.session.read_queue_capacity {
                self.queue.unblock(&mut st);
            }
            return Poll::Ready(Some(item));
        }
        if st.closed {
            return Poll::Ready(None);
        }
        match &st.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => st.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<R> Drop for Requests<R> {
    fn drop(&mut self) {
        let mut st = self.queue.lock();
        st.dropped = true;
        st.items.clear();
        st.waker = None;
        self.queue.unblock(&mut st);
    }
}

/// The response half of a stream or subscription.
///
/// It is closed (CLOSE, flag 8) by [`Responses::close`], or when the handler returns.
/// Dropping it before the handler returns does not close it; dropping it after the
/// handler returned (it was moved into another task) does.
pub struct Responses<O, E> {
    ctx: Context,
    _p: PhantomData<fn(O, E)>,
}

impl<O: Serialize, E: Serialize> Responses<O, E> {
    /// Sends one result item (flag 0); waits while the send buffer is at its high-water mark.
    pub async fn send(&self, item: Result<O, E>) -> Result<(), Error> {
        if !self.is_open() {
            return Err(Error::closed("response stream is closed"));
        }
        let codec = self.ctx.codec();
        let payload = match &item {
            Ok(o) => encode_result(codec, true, o)?,
            Err(e) => encode_result(codec, false, e)?,
        };
        drop(item);
        let inner = &self.ctx.inner;
        inner.session.wait_writable(inner).await;
        if !self.is_open() {
            return Err(Error::closed("response stream is closed"));
        }
        inner.session.item_queued();
        let sent = inner.send(Cmd::Item {
            stream: inner.stream.clone(),
            payload,
        });
        if sent.is_err() {
            inner.session.item_taken();
        }
        sent
    }
    /// Sends an `Ok` item.
    pub async fn ok(&self, value: O) -> Result<(), Error> {
        self.send(Ok(value)).await
    }
    /// Sends an `Err` item (the stream stays open).
    pub async fn err(&self, error: E) -> Result<(), Error> {
        self.send(Err(error)).await
    }
    /// Closes the response half (sends CLOSE). Idempotent.
    pub async fn close(&self) {
        self.close_now();
    }
    /// Whether the half is still open.
    pub fn is_open(&self) -> bool {
        !self.ctx.inner.is_done()
            && self.ctx.inner.res_flags.load(Ordering::SeqCst) & RES_CLOSED == 0
    }
}

impl<O, E> Responses<O, E> {
    fn close_now(&self) {
        let inner = &self.ctx.inner;
        if inner.res_flags.fetch_or(RES_CLOSED, Ordering::SeqCst) & RES_CLOSED == 0
            && !inner.is_done()
        {
            let _ = inner.send(Cmd::CloseRes {
                stream: inner.stream.clone(),
            });
        }
    }
}

impl<O, E> Drop for Responses<O, E> {
    fn drop(&mut self) {
        let prev = self
            .ctx
            .inner
            .res_flags
            .fetch_or(RES_DROPPED, Ordering::SeqCst);
        if prev & HANDLER_DONE != 0 {
            self.close_now();
        }
    }
}

/// Encodes `{ok, payload: value}`.
fn encode_result<T: Serialize + ?Sized>(
    codec: Codec,
    ok: bool,
    value: &T,
) -> Result<Payload, Error> {
    let inner = codec.encode(value)?;
    Ok(codec.encode_result(ok, &inner))
}

/// The text of a caught panic.
fn panic_message(panic: Box<dyn Any + Send>) -> String {
    let msg = if let Some(s) = panic.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        String::new()
    };
    if msg.is_empty() {
        "unknown reason".to_string()
    } else {
        msg
    }
}

/// The four procedure kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProcKind {
    Rpc,
    Upload,
    Stream,
    Subscription,
}

impl ProcKind {
    /// Whether the procedure has a request stream (`requestData`).
    pub(crate) fn has_requests(self) -> bool {
        matches!(self, ProcKind::Upload | ProcKind::Stream)
    }
    /// Whether the response half is a stream of items closed by CLOSE.
    pub(crate) fn streams_responses(self) -> bool {
        matches!(self, ProcKind::Stream | ProcKind::Subscription)
    }
}

type StartFn = dyn Fn(
        Context,
        Codec,
        &Payload,
        &ProcedureSchemas,
    ) -> Result<Option<Arc<dyn RequestSink>>, ValidationErrors>
    + Send
    + Sync;

/// The schemas a procedure's requests are validated against (see [`Router::schema`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct ProcedureSchemas {
    /// The init.
    pub(crate) init: Option<Validator>,
    /// Each request data item (upload, stream).
    pub(crate) input: Option<Validator>,
}

/// One registered procedure, type-erased.
pub(crate) struct Procedure {
    pub(crate) kind: ProcKind,
    /// Decodes the init and, on success, spawns the handler; returns the request sink
    /// for upload/stream.
    pub(crate) start: Box<StartFn>,
    /// What requests are validated against.
    pub(crate) schemas: ProcedureSchemas,
}

impl From<PayloadMismatch> for ValidationErrors {
    fn from(m: PayloadMismatch) -> Self {
        ValidationErrors {
            total: 1,
            first: vec![ValidationIssue {
                path: m.path,
                message: m.message,
            }],
        }
    }
}

/// Decodes a request payload; with a schema, checks it first (TypeBox's `Value.Check`
/// semantics) and decodes from the checked value.
fn decode_validated<T: DeserializeOwned>(
    codec: Codec,
    payload: &Payload,
    schema: Option<&Validator>,
) -> Result<T, ValidationErrors> {
    let Some(schema) = schema else {
        return Ok(codec.decode_checked(payload)?);
    };
    // A valid payload is checked while parsing and decoded as without a schema; the
    // decoded `Value` is only needed to report why one is not.
    if schema.check_encoded(codec, payload) == Some(true) {
        return Ok(codec.decode_checked(payload)?);
    }
    let value: Value = codec.decode_checked(payload)?;
    schema.validate(&value)?;
    value.deserialize_into::<T>().map_err(|e| {
        ValidationErrors::from(PayloadMismatch {
            path: String::new(),
            message: e.to_string(),
        })
    })
}

/// Starts a handler task: polls it once right here, in the session task, and spawns
/// it only if it is still pending. The handler's synchronous prefix therefore runs
/// before the session dispatches the next frame (see "Handler start order" in the
/// module docs). `fut` catches panics itself; the first poll used a no-op waker, which
/// is fine because the spawned task polls it again at once with its own.
fn start_task(mut fut: Pin<Box<dyn Future<Output = ()> + Send + 'static>>) {
    let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    if fut.as_mut().poll(&mut cx).is_pending() {
        tokio::spawn(fut);
    }
}

/// Runs an rpc/upload handler and reports its outcome to the session task.
///
/// Built from combinators rather than `async` blocks: an `async move { fut.await }`
/// layer keeps its captured `fut` and the awaited `fut` in separate slots, so each
/// layer doubled the handler future (a 784-byte `streams.echo` handler became a
/// 2,376-byte task). `Map`/`CatchUnwind` hold it once. The registrations pass
/// `lazy(|_| h(..)).flatten()` for the same reason: the handler is still called inside
/// the catch, at the first poll, and the `Flatten` holds either its arguments or its
/// future, never both.
fn spawn_unary<O, E, Fut>(ctx: Context, fut: Fut)
where
    O: Serialize + Send + 'static,
    E: Serialize + Send + 'static,
    Fut: Future<Output = Result<O, Failure<E>>> + Send + 'static,
{
    let codec = ctx.codec();
    // Encoding runs user `Serialize` code: inside the catch too.
    let run = AssertUnwindSafe(fut.map(move |res| match res {
        Ok(o) => encode_result(codec, true, &o).map_err(|e| e.to_string()),
        Err(Failure::Service(e)) => encode_result(codec, false, &e).map_err(|e| e.to_string()),
        Err(Failure::Uncaught(m)) => Err(m),
    }))
    .catch_unwind();
    start_task(Box::pin(run.map(move |res| {
        let outcome = res.unwrap_or_else(|p| Err(panic_message(p)));
        let inner = &ctx.inner;
        let _ = inner.send(Cmd::Finish {
            stream: inner.stream.clone(),
            outcome,
        });
    })));
}

/// Runs a stream/subscription handler and reports its outcome to the session task
/// (combinators for the same reason as [`spawn_unary`]).
fn spawn_streaming<E, Fut>(ctx: Context, fut: Fut)
where
    E: Serialize + Send + 'static,
    Fut: Future<Output = Result<(), Failure<E>>> + Send + 'static,
{
    let codec = ctx.codec();
    let run = AssertUnwindSafe(fut.map(move |res| {
        match res {
            Ok(()) => Ok(None),
            Err(Failure::Service(e)) => encode_result(codec, false, &e)
                .map(Some)
                .map_err(|e| e.to_string()),
            Err(Failure::Uncaught(m)) => Err(m),
        }
    }))
    .catch_unwind();
    let outer = run.map(move |res| {
        let inner = &ctx.inner;
        let err_item = res.unwrap_or_else(|p| Err(panic_message(p)));
        match err_item {
            Ok(err_item) => {
                let prev = inner.res_flags.fetch_or(HANDLER_DONE, Ordering::SeqCst);
                let close = prev & RES_DROPPED != 0;
                let _ = inner.send(Cmd::StreamDone {
                    stream: inner.stream.clone(),
                    err_item,
                    close,
                });
            }
            Err(message) => {
                inner.res_flags.fetch_or(HANDLER_DONE, Ordering::SeqCst);
                let _ = inner.send(Cmd::Cancel {
                    stream: inner.stream.clone(),
                    error: ProtocolError::new(ProtocolErrorCode::UncaughtError, message),
                });
            }
        }
    });
    start_task(Box::pin(outer));
}

/// A table of services and their procedures.
#[derive(Default)]
pub struct Router {
    services: HashMap<String, HashMap<String, Procedure>>,
    /// Schemas given (by [`Router::schema`]) before their handler was registered.
    pending_schemas: HashMap<(String, String), ProcedureSchemas>,
    /// Fields of the given schemas that the JSON codec cannot carry.
    binary_fields: Vec<String>,
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Router::default()
    }

    fn insert(&mut self, service: &str, procedure: &str, mut proc: Procedure) -> &mut Self {
        let key = (service.to_string(), procedure.to_string());
        if let Some(schemas) = self.pending_schemas.remove(&key) {
            proc.schemas = schemas;
        }
        let procs = self.services.entry(service.to_string()).or_default();
        if let Some(old) = procs.get(procedure) {
            if proc.schemas.init.is_none() && proc.schemas.input.is_none() {
                proc.schemas = old.schemas.clone();
            }
        }
        procs.insert(procedure.to_string(), proc);
        self
    }

    /// Validates the requests of every procedure of `service` against `schema_json`
    /// (a River schema document, as `serializeSchema` writes it; generated code passes
    /// its `SCHEMA_JSON`), the way the reference server does with TypeBox's
    /// `Value.Check`: an init that does not match is answered with `INVALID_REQUEST`
    /// "procedure init failed validation", a request data item with `INVALID_REQUEST`
    /// "message in requestData position did not match schema" and `extras`
    /// (`totalErrors`, the first five `{path, message}`). Call it before or after
    /// registering the handlers.
    ///
    /// It also records the service's fields that the JSON codec cannot carry (its
    /// `Date`s and the handshake metadata's, see
    /// [`binary_codec_fields`](crate::codec::binary_codec_fields)): a server for this
    /// router then refuses [`Codec::Json`] before it serves anything
    /// ([`ServerBuilder::bind`] and [`ServerBuilder::try_build`] fail with an
    /// [`Error::is_config`] error naming the fields and the fix) unless
    /// [`ServerBuilder::skip_binary_codec_check`] was called.
    ///
    /// # Panics
    ///
    /// When the schema does not compile (for example a `pattern` the runtime cannot
    /// evaluate). river-codegen compiles every schema when it generates code, so the
    /// `SCHEMA_JSON` of generated code always does; use [`Router::try_schema`] for
    /// schemas from elsewhere.
    pub fn schema(&mut self, schema_json: &str, service: &str) -> &mut Self {
        if let Err(e) = self.try_schema(schema_json, service) {
            panic!("the schema of service `{service}` does not compile: {e}");
        }
        self
    }

    /// [`Router::schema`] that reports a schema it cannot use instead of panicking.
    pub fn try_schema(
        &mut self,
        schema_json: &str,
        service: &str,
    ) -> Result<&mut Self, SchemaError> {
        let doc = crate::validate::parse_document(schema_json)?;
        let validators = crate::validate::service_validators(&doc, service)?;
        let binary = crate::codec::service_binary_codec_fields(&doc, service)
            .into_iter()
            .chain(crate::codec::handshake_binary_codec_fields(&doc));
        for field in binary {
            if !self.binary_fields.contains(&field) {
                self.binary_fields.push(field);
            }
        }
        for (name, v) in validators {
            let schemas = ProcedureSchemas {
                init: v.init,
                input: v.input,
            };
            let procs = self.services.entry(service.to_string()).or_default();
            match procs.get_mut(&name) {
                Some(p) => p.schemas = schemas,
                None => {
                    // Remembered for when the handler is registered.
                    self.pending_schemas
                        .insert((service.to_string(), name), schemas);
                }
            }
        }
        Ok(self)
    }

    /// The fields of the schemas given to [`Router::schema`] that the JSON codec cannot
    /// carry (`chat.post init: sentAt`); empty when there are none.
    pub fn binary_codec_fields(&self) -> &[String] {
        &self.binary_fields
    }

    /// Looks up a service; `None` when it does not exist.
    pub(crate) fn service(&self, service: &str) -> Option<&HashMap<String, Procedure>> {
        self.services.get(service)
    }

    /// Registers an rpc handler.
    pub fn rpc<I, O, E, F, Fut>(&mut self, service: &str, procedure: &str, handler: F) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, Failure<E>>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let start =
            move |ctx: Context, codec: Codec, init: &Payload, schemas: &ProcedureSchemas| {
                let init: I = decode_validated(codec, init, schemas.init.as_ref())?;
                let h = handler.clone();
                let c = ctx.clone();
                spawn_unary(ctx, lazy(move |_| h(c, init)).flatten());
                Ok(None)
            };
        self.insert(
            service,
            procedure,
            Procedure {
                kind: ProcKind::Rpc,
                start: Box::new(start),
                schemas: ProcedureSchemas::default(),
            },
        )
    }

    /// Registers an upload handler.
    pub fn upload<I, R, O, E, F, Fut>(
        &mut self,
        service: &str,
        procedure: &str,
        handler: F,
    ) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        R: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I, Requests<R>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, Failure<E>>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let start =
            move |ctx: Context, codec: Codec, init: &Payload, schemas: &ProcedureSchemas| {
                let init: I = decode_validated(codec, init, schemas.init.as_ref())?;
                let queue = Arc::new(ReqQueue::<R>::new(
                    ctx.inner().session.clone(),
                    schemas.input.clone(),
                ));
                let reqs = Requests {
                    queue: queue.clone(),
                };
                let h = handler.clone();
                let c = ctx.clone();
                spawn_unary(ctx, lazy(move |_| h(c, init, reqs)).flatten());
                Ok(Some(queue as Arc<dyn RequestSink>))
            };
        self.insert(
            service,
            procedure,
            Procedure {
                kind: ProcKind::Upload,
                start: Box::new(start),
                schemas: ProcedureSchemas::default(),
            },
        )
    }

    /// Registers a stream handler. Returning closes the response half if still open.
    pub fn stream<I, R, O, E, F, Fut>(
        &mut self,
        service: &str,
        procedure: &str,
        handler: F,
    ) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        R: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I, Requests<R>, Responses<O, E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Failure<E>>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let start =
            move |ctx: Context, codec: Codec, init: &Payload, schemas: &ProcedureSchemas| {
                let init: I = decode_validated(codec, init, schemas.init.as_ref())?;
                let queue = Arc::new(ReqQueue::<R>::new(
                    ctx.inner().session.clone(),
                    schemas.input.clone(),
                ));
                let reqs = Requests {
                    queue: queue.clone(),
                };
                let resps = Responses {
                    ctx: ctx.clone(),
                    _p: PhantomData,
                };
                let h = handler.clone();
                let c = ctx.clone();
                spawn_streaming(ctx, lazy(move |_| h(c, init, reqs, resps)).flatten());
                Ok(Some(queue as Arc<dyn RequestSink>))
            };
        self.insert(
            service,
            procedure,
            Procedure {
                kind: ProcKind::Stream,
                start: Box::new(start),
                schemas: ProcedureSchemas::default(),
            },
        )
    }

    /// Registers a subscription handler. Returning closes the response half if still open.
    pub fn subscription<I, O, E, F, Fut>(
        &mut self,
        service: &str,
        procedure: &str,
        handler: F,
    ) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I, Responses<O, E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Failure<E>>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let start =
            move |ctx: Context, codec: Codec, init: &Payload, schemas: &ProcedureSchemas| {
                let init: I = decode_validated(codec, init, schemas.init.as_ref())?;
                let resps = Responses {
                    ctx: ctx.clone(),
                    _p: PhantomData,
                };
                let h = handler.clone();
                let c = ctx.clone();
                spawn_streaming(ctx, lazy(move |_| h(c, init, resps)).flatten());
                Ok(None)
            };
        self.insert(
            service,
            procedure,
            Procedure {
                kind: ProcKind::Subscription,
                start: Box::new(start),
                schemas: ProcedureSchemas::default(),
            },
        )
    }
}

/// Why a handshake validator refused a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeRejection {
    /// `REJECTED_BY_CUSTOM_HANDLER`
    RejectedByCustomHandler,
    /// `REJECTED_UNSUPPORTED_CLIENT`
    RejectedUnsupportedClient,
}

/// `{metadata?}` of a `HANDSHAKE_REQ` or `REHANDSHAKE_RESP` payload.
#[derive(Deserialize)]
struct MetaHolder<M> {
    metadata: Option<M>,
}

type ValidateFn = dyn Fn(
        Codec,
        &Payload,
        Option<&Meta>,
        &str,
        &UpgradeRequest,
    ) -> Result<Meta, (HandshakeErrorCode, String)>
    + Send
    + Sync;

/// Validates handshake metadata: decodes it as `M` (failure → `MALFORMED_HANDSHAKE_META`)
/// and calls the function with the previous parsed metadata of the session (on a
/// transparent reconnect or re-handshake) and the client id.
#[derive(Clone)]
pub struct HandshakeValidator {
    validate: Arc<ValidateFn>,
}

impl HandshakeValidator {
    /// Wraps a validation function of the metadata `M`, the session's previous parsed
    /// metadata (on a transparent reconnect or re-handshake) and the client id. The
    /// parsed value `P` is what [`Context::metadata`] returns.
    pub fn new<M, P, F>(validate: F) -> Self
    where
        M: DeserializeOwned + Send + 'static,
        P: Any + Send + Sync + 'static,
        F: Fn(M, Option<&P>, &str) -> Result<P, HandshakeRejection> + Send + Sync + 'static,
    {
        Self::with_request(
            move |meta: M, prev: Option<&P>, from: &str, _: &UpgradeRequest| {
                validate(meta, prev, from)
            },
        )
    }

    /// Like [`HandshakeValidator::new`], and the function also sees the HTTP upgrade
    /// request of the connection (headers, path, peer address), so a decision can
    /// combine the metadata with, say, a header a proxy added:
    ///
    /// ```
    /// use river_runtime::server::{HandshakeRejection, HandshakeValidator, UpgradeRequest};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Meta { user: String }
    ///
    /// let validator = HandshakeValidator::with_request(
    ///     |meta: Meta, _prev: Option<&String>, _client_id: &str, req: &UpgradeRequest| {
    ///         match req.bearer_token() {
    ///             Some("s3cret") => Ok(meta.user),
    ///             _ => Err(HandshakeRejection::RejectedByCustomHandler),
    ///         }
    ///     },
    /// );
    /// # let _ = validator;
    /// ```
    pub fn with_request<M, P, F>(validate: F) -> Self
    where
        M: DeserializeOwned + Send + 'static,
        P: Any + Send + Sync + 'static,
        F: Fn(M, Option<&P>, &str, &UpgradeRequest) -> Result<P, HandshakeRejection>
            + Send
            + Sync
            + 'static,
    {
        let f = move |codec: Codec,
                      payload: &Payload,
                      prev: Option<&Meta>,
                      from: &str,
                      request: &UpgradeRequest| {
            let malformed = || {
                (
                    HandshakeErrorCode::MalformedHandshakeMeta,
                    "received malformed handshake metadata".to_string(),
                )
            };
            let holder: MetaHolder<M> = codec.decode_checked(payload).map_err(|_| malformed())?;
            let meta = holder.metadata.ok_or_else(malformed)?;
            let prev = prev.and_then(|p| p.downcast_ref::<P>());
            match std::panic::catch_unwind(AssertUnwindSafe(|| validate(meta, prev, from, request)))
            {
                Ok(Ok(parsed)) => Ok(Arc::new(parsed) as Meta),
                Ok(Err(rejection)) => {
                    let code = match rejection {
                        HandshakeRejection::RejectedByCustomHandler => {
                            HandshakeErrorCode::RejectedByCustomHandler
                        }
                        HandshakeRejection::RejectedUnsupportedClient => {
                            HandshakeErrorCode::RejectedUnsupportedClient
                        }
                    };
                    Err((code, "rejected by handshake handler".to_string()))
                }
                Err(p) => Err((
                    HandshakeErrorCode::RejectedByCustomHandler,
                    format!("handshake validation threw: {}", panic_message(p)),
                )),
            }
        };
        HandshakeValidator {
            validate: Arc::new(f),
        }
    }

    /// Validates the metadata carried by `payload`.
    pub(crate) fn check(
        &self,
        codec: Codec,
        payload: &Payload,
        prev: Option<&Meta>,
        from: &str,
        request: &UpgradeRequest,
    ) -> Result<Meta, (HandshakeErrorCode, String)> {
        (self.validate)(codec, payload, prev, from, request)
    }
}

/// State shared by the accept loop, the connection tasks and the session tasks.
pub(crate) struct ServerShared {
    pub(crate) codec: Codec,
    pub(crate) server_id: Arc<str>,
    pub(crate) options: ServerOptions,
    pub(crate) validator: Option<HandshakeValidator>,
    pub(crate) authorizer: Option<upgrade::Authorizer>,
    pub(crate) router: Router,
    /// Live sessions keyed by client id.
    pub(crate) sessions: Mutex<HashMap<String, session::SessionEntry>>,
    pub(crate) stream_count: AtomicUsize,
    /// Times a session stopped reading because a request queue was full.
    pub(crate) read_pauses: std::sync::atomic::AtomicU64,
    pub(crate) next_instance: std::sync::atomic::AtomicU64,
    /// No new sessions (set by both kinds of shutdown).
    pub(crate) shutting_down: AtomicBool,
    /// No new streams on existing sessions (graceful shutdown).
    pub(crate) draining: AtomicBool,
    /// `true` once shutdown starts: the accept loop stops (dropping the listener) and
    /// connections still in their handshake give up.
    pub(crate) shutdown_tx: watch::Sender<bool>,
    /// Cloned into every connection and session task; shutdown drops this one and
    /// waits until `done_rx` sees every clone gone.
    done_tx: Mutex<Option<mpsc::Sender<()>>>,
    done_rx: tokio::sync::Mutex<Option<mpsc::Receiver<()>>>,
    /// `{type:"CLOSE"}`, encoded once.
    pub(crate) close_payload: Payload,
    /// `{type:"ACK"}`, encoded once.
    pub(crate) ack_payload: Payload,
}

impl ServerShared {
    pub(crate) fn lock_sessions(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, session::SessionEntry>> {
        match self.sessions.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A token for a new connection task; `None` once shutdown started.
    pub(crate) fn task_guard(&self) -> Option<mpsc::Sender<()>> {
        match self.done_tx.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

/// Builds a [`Server`].
#[must_use]
pub struct ServerBuilder {
    codec: Codec,
    server_id: String,
    options: ServerOptions,
    validator: Option<HandshakeValidator>,
    authorizer: Option<upgrade::Authorizer>,
    tls: Option<crate::tls::ServerTls>,
    skip_binary_check: bool,
}

impl ServerBuilder {
    /// The codec (default JSON). A schema with `Date` fields needs [`Codec::Msgpack`]
    /// on both sides (see [`Router::schema`]).
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }
    /// Serves [`Codec::Json`] even when the router's schema has fields the JSON codec
    /// cannot carry (see [`Router::schema`]); calls that send or receive them fail one
    /// by one. For tests that exercise exactly that.
    pub fn skip_binary_codec_check(mut self) -> Self {
        self.skip_binary_check = true;
        self
    }

    /// The error for a codec that cannot carry the router's fields, if it cannot.
    fn check_codec(&self, router: &Router) -> Result<(), Error> {
        if self.codec == Codec::Json && !self.skip_binary_check && !router.binary_fields.is_empty()
        {
            return Err(crate::codec::binary_codec_error(
                &router.binary_fields,
                "ServerBuilder::codec",
            ));
        }
        Ok(())
    }

    /// [`build`](ServerBuilder::build), or an [`Error::is_config`] error when the
    /// codec cannot carry the router's fields (see [`Router::schema`]).
    pub fn try_build(self, router: Router) -> Result<Server, Error> {
        self.check_codec(&router)?;
        Ok(self.build_unchecked(router))
    }
    /// The server's transport id (default `"SERVER"`).
    pub fn server_id(mut self, id: impl Into<String>) -> Self {
        self.server_id = id.into();
        self
    }
    /// Options.
    pub fn options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }
    /// Requires and validates handshake metadata.
    pub fn handshake(mut self, validator: HandshakeValidator) -> Self {
        self.validator = Some(validator);
        self
    }
    /// Decides on each WebSocket upgrade request before the upgrade: return an
    /// [`UpgradeRejection`] to answer with its HTTP status instead (401 and 403 make
    /// clients stop retrying). Applies to the built-in listener and to the `axum`
    /// integration; a caller of [`Server::accept_upgraded`] calls
    /// [`Server::authorize_upgrade`] itself.
    ///
    /// ```
    /// use river_runtime::server::UpgradeRejection;
    ///
    /// let builder = river_runtime::Server::builder().authorize_upgrade(|req| {
    ///     match req.bearer_token() {
    ///         Some("s3cret") => Ok(()),
    ///         _ => Err(UpgradeRejection::unauthorized("missing or wrong token")),
    ///     }
    /// });
    /// # let _ = builder;
    /// ```
    pub fn authorize_upgrade<F>(mut self, authorize: F) -> Self
    where
        F: Fn(&UpgradeRequest) -> Result<(), UpgradeRejection> + Send + Sync + 'static,
    {
        self.authorizer = Some(Arc::new(authorize));
        self
    }
    /// Serves `wss://` on the built-in listener ([`serve`](ServerBuilder::serve),
    /// [`bind`](ServerBuilder::bind)) with this certificate and key. Not used by
    /// [`build`](ServerBuilder::build): there TLS belongs to the HTTP server.
    pub fn tls(mut self, tls: crate::tls::ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Builds a server without a listener, to be fed connections that another HTTP
    /// stack accepted and upgraded ([`Server::accept_upgraded`], or the `axum`
    /// integration). Must be called inside a tokio runtime only when connections
    /// arrive.
    ///
    /// # Panics
    ///
    /// When the codec cannot carry the router's fields (see [`Router::schema`]), with
    /// the message [`try_build`](ServerBuilder::try_build) returns.
    pub fn build(self, router: Router) -> Server {
        match self.check_codec(&router) {
            Ok(()) => self.build_unchecked(router),
            Err(e) => panic!("{e}"),
        }
    }

    fn build_unchecked(self, router: Router) -> Server {
        let codec = self.codec;
        let close_payload = codec
            .encode(&crate::message::Control::Close)
            .unwrap_or_else(|_| Payload::from_encoded(&b"{\"type\":\"CLOSE\"}"[..]));
        let ack_payload = codec
            .encode(&crate::message::Control::Ack)
            .unwrap_or_else(|_| Payload::from_encoded(&b"{\"type\":\"ACK\"}"[..]));
        let (shutdown_tx, _) = watch::channel(false);
        let (done_tx, done_rx) = mpsc::channel(1);
        let shared = Arc::new(ServerShared {
            codec,
            server_id: Arc::from(self.server_id.as_str()),
            options: self.options,
            validator: self.validator,
            authorizer: self.authorizer,
            router,
            sessions: Mutex::new(HashMap::new()),
            stream_count: AtomicUsize::new(0),
            read_pauses: std::sync::atomic::AtomicU64::new(0),
            next_instance: std::sync::atomic::AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            shutdown_tx,
            done_tx: Mutex::new(Some(done_tx)),
            done_rx: tokio::sync::Mutex::new(Some(done_rx)),
            close_payload,
            ack_payload,
        });
        Server { shared }
    }

    /// Serves `router` on an already bound listener (over TLS when
    /// [`tls`](ServerBuilder::tls) was given). Must be called inside a tokio runtime.
    ///
    /// # Panics
    ///
    /// When the codec cannot carry the router's fields (see [`Router::schema`]); use
    /// [`try_serve`](ServerBuilder::try_serve) or [`bind`](ServerBuilder::bind) to get
    /// that as an error.
    pub fn serve(self, listener: tokio::net::TcpListener, router: Router) -> ServerHandle {
        match self.try_serve(listener, router) {
            Ok(handle) => handle,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`serve`](ServerBuilder::serve), or an [`Error::is_config`] error when the codec
    /// cannot carry the router's fields (see [`Router::schema`]).
    pub fn try_serve(
        mut self,
        listener: tokio::net::TcpListener,
        router: Router,
    ) -> Result<ServerHandle, Error> {
        self.check_codec(&router)?;
        let tls = self.tls.take().map(|t| t.acceptor());
        let server = self.build_unchecked(router);
        let local_addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        if let Some(done) = server.shared.task_guard() {
            tokio::spawn(conn::accept_loop(
                server.shared.clone(),
                listener,
                tls,
                done,
            ));
        }
        Ok(ServerHandle { server, local_addr })
    }
    /// Binds `addr` and serves `router`. Fails before binding, with an
    /// [`Error::is_config`] error naming the fields and the fix, when the codec cannot
    /// carry the router's fields (see [`Router::schema`]).
    pub async fn bind(
        self,
        addr: impl tokio::net::ToSocketAddrs,
        router: Router,
    ) -> Result<ServerHandle, Error> {
        self.check_codec(&router)?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::io("could not bind the listener").with_source(e))?;
        self.try_serve(listener, router)
    }
}

/// A River server: its sessions, router and options, independent of how connections
/// arrive. Cheap to clone. Made by [`ServerBuilder::build`] (connections come from
/// another HTTP stack) or inside a [`ServerHandle`] (the built-in listener).
#[derive(Clone)]
pub struct Server {
    shared: Arc<ServerShared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("server_id", &self.shared.server_id)
            .field("codec", &self.shared.codec)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts building a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            codec: Codec::default(),
            server_id: "SERVER".to_string(),
            options: ServerOptions::default(),
            validator: None,
            authorizer: None,
            tls: None,
            skip_binary_check: false,
        }
    }

    /// Decides on an upgrade request with the configured
    /// [`authorize_upgrade`](ServerBuilder::authorize_upgrade) function; refuses with
    /// 503 once the server is shutting down. Call it before answering 101 when feeding
    /// [`Server::accept_upgraded`].
    pub fn authorize_upgrade(&self, request: &UpgradeRequest) -> Result<(), UpgradeRejection> {
        if self.is_shutting_down() {
            return Err(UpgradeRejection::new(503, "server is shutting down"));
        }
        match &self.shared.authorizer {
            Some(authorize) => authorize(request),
            None => Ok(()),
        }
    }

    /// Serves River on a connection that an HTTP server has already upgraded to a
    /// WebSocket (the bytes after its `101 Switching Protocols`, for example hyper's
    /// `Upgraded` wrapped in `hyper_util::rt::TokioIo`), with the parts of the upgrade
    /// request. Spawns a task for it and returns at once; must be called inside a
    /// tokio runtime. Does nothing once the server is shutting down.
    ///
    /// The caller does the HTTP side: check the request is a WebSocket upgrade, call
    /// [`Server::authorize_upgrade`], answer 101 with `Sec-WebSocket-Accept`. The
    /// `axum` feature's `river_runtime::axum` does all of that.
    pub fn accept_upgraded<I>(&self, io: I, request: UpgradeRequest)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        conn::accept_upgraded(self.shared.clone(), Box::new(io), request);
    }

    /// Whether shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.shutting_down.load(Ordering::SeqCst)
    }

    /// Stops at once: stops accepting, closes every connection and waits for the
    /// connection and session tasks to finish. Handlers still running see
    /// `UNEXPECTED_DISCONNECT` and a cancelled context; they are not awaited.
    pub async fn shutdown(&self) {
        shutdown::immediate(&self.shared).await;
    }

    /// Stops gracefully: stops accepting (the built-in listener is closed, so new
    /// connections are refused; upgrades through [`Server::authorize_upgrade`] get
    /// 503), answers new calls on existing sessions with `CANCEL "server is shutting
    /// down"`, lets calls in flight finish until `deadline` has passed, then closes
    /// every session as the protocol does (WebSocket close 1000; handlers still running
    /// see `UNEXPECTED_DISCONNECT` and a cancelled context). Resolves when every
    /// connection and session task has ended.
    pub async fn graceful_shutdown(&self, deadline: std::time::Duration) -> ShutdownReport {
        shutdown::graceful(&self.shared, deadline).await
    }

    /// Asks a connected client to re-handshake.
    pub fn request_rehandshake(&self, client_id: &str) {
        let session = self
            .shared
            .lock_sessions()
            .get(client_id)
            .map(|e| e.shared.clone());
        if let Some(s) = session {
            let _ = s.tx.send(Cmd::Rehandshake);
        }
    }
    /// Number of live sessions (for tests and metrics).
    pub fn session_count(&self) -> usize {
        self.shared.lock_sessions().len()
    }
    /// Number of open streams across sessions (for tests and metrics).
    pub fn stream_count(&self) -> usize {
        self.shared.stream_count.load(Ordering::SeqCst)
    }
    /// Times a session stopped reading its connection because a handler's request
    /// queue was full (see the module docs).
    pub fn read_pauses(&self) -> u64 {
        self.shared.read_pauses.load(Ordering::Relaxed)
    }
}

/// A running server with its own listener. Dropping the handle leaves the server
/// running; call [`ServerHandle::shutdown`] or [`ServerHandle::graceful_shutdown`] to
/// stop it.
pub struct ServerHandle {
    server: Server,
    local_addr: SocketAddr,
}

impl ServerHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
    /// The server behind the listener (cheap to clone; for example to shut it down
    /// from a signal handler while the handle is elsewhere).
    pub fn server(&self) -> &Server {
        &self.server
    }
    /// See [`Server::shutdown`].
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
    /// See [`Server::graceful_shutdown`].
    pub async fn graceful_shutdown(self, deadline: std::time::Duration) -> ShutdownReport {
        self.server.graceful_shutdown(deadline).await
    }
    /// Asks a connected client to re-handshake.
    pub fn request_rehandshake(&self, client_id: &str) {
        self.server.request_rehandshake(client_id);
    }
    /// Number of live sessions (for tests and metrics).
    pub fn session_count(&self) -> usize {
        self.server.session_count()
    }
    /// Number of open streams across sessions (for tests and metrics).
    pub fn stream_count(&self) -> usize {
        self.server.stream_count()
    }
    /// Times a session stopped reading its connection because a handler's request
    /// queue was full (see the module docs).
    pub fn read_pauses(&self) -> u64 {
        self.server.read_pauses()
    }
}
