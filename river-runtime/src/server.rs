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

mod commands;
mod conn;
mod io;
mod session;
mod shutdown;
pub mod upgrade;
mod websocket;

mod builder;
mod context;
mod failure;
mod handle;
mod handler_task;
mod handshake;
mod requests;
mod responses;
mod router;

pub use builder::*;
pub use context::*;
pub use failure::*;
pub use handle::*;
pub use handshake::*;
pub use requests::*;
pub use responses::*;
pub use router::*;

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

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch, Notify};

use crate::codec::{Codec, PayloadMismatch};
use crate::error::{Error, ProtocolError, ProtocolErrorCode};
use crate::message::{HandshakeErrorCode, Payload};
use crate::options::ServerOptions;
use crate::telemetry::{CallTelemetry, Outcome, Received};
use crate::validate::{SchemaError, ValidationErrors, ValidationIssue, Validator};
use crate::value::Value;

use commands::{Cmd, StreamRef};
use handler_task::{panic_message, spawn_streaming, spawn_unary};
use session::SessionShared;

/// Parsed handshake metadata as the validator returned it.
pub(crate) type Meta = Arc<dyn Any + Send + Sync>;
