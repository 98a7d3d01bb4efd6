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

mod builder;
mod call;
mod events;
mod handle;
mod handles;

pub use builder::*;
use call::*;
pub use events::*;
pub use handle::*;
pub use handles::*;

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
use crate::telemetry::{self, CallTelemetry, Outcome};
use crate::tls::ClientTls;
use crate::validate::{ProcedureValidators, SchemaValidators, Validator};
use crate::value::Value;

use driver::{Command, OpenCommand, ProcKind};
use queue::StreamEvent;
use queue::{EventQueue, EventTx};
