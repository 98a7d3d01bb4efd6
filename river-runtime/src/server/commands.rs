//! What handlers and connection tasks ask of a session task ([`Cmd`]), and the queue
//! that carries it to the task ([`CmdQueue`]).
//!
//! The queue has many senders (handlers, connection tasks, the server handle), one receiver (the
//! session task), unbounded. It replaces a tokio unbounded channel, which allocates a
//! block of 32 slots (about 2 KiB of `Cmd`s) per session up front: most sessions are idle
//! most of the time, so memory per idle session counted it in full. This queue allocates
//! when a command is first queued and keeps only what the largest burst needed.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, Notify};

use super::upgrade::UpgradeRequest;
use super::websocket::Ws;
use super::Meta;
use crate::error::ProtocolError;
use crate::message::ExpectedSessionState;
use crate::Payload;

/// Identifies one stream of a session: its id and a generation number, so that a late
/// command for a finished stream never touches a newer stream with the same id.
#[derive(Clone, Debug)]
pub(crate) struct StreamRef {
    pub(crate) id: Arc<str>,
    pub(crate) gen: u64,
}

/// What handlers and connection tasks ask of a session task.
pub(crate) enum Cmd {
    /// A result item (flag 0) of a stream/subscription.
    Item { stream: StreamRef, payload: Payload },
    /// Close the response half of a stream/subscription (CLOSE, flag 8).
    CloseRes { stream: StreamRef },
    /// An rpc/upload handler finished: the encoded result, or an uncaught failure.
    Finish {
        stream: StreamRef,
        outcome: Result<Payload, String>,
    },
    /// A stream/subscription handler returned normally or with a service error.
    StreamDone {
        stream: StreamRef,
        err_item: Option<Payload>,
        close: bool,
    },
    /// A server cancel (`ctx.cancel`, uncaught failure). Boxed: the rare variant would
    /// otherwise size every slot of the session's command channel (96 → 64 bytes).
    Cancel {
        stream: StreamRef,
        error: Box<ProtocolError>,
    },
    /// A handler started waiting at the high-water mark: send an `ACK` so that the
    /// client echoes it with its current ack (see the `server` module docs).
    Nudge,
    /// Send `REHANDSHAKE_REQ`.
    Rehandshake,
    /// A transparent reconnect: adopt this connection if the states agree.
    Attach(Box<Attach>),
    /// Destroy the session (hard reconnect, shutdown).
    Destroy,
}

/// A new connection for an existing session.
pub(crate) struct Attach {
    pub(crate) ws: Ws,
    pub(crate) expected: ExpectedSessionState,
    pub(crate) metadata: Option<Meta>,
    /// The upgrade request of the new connection.
    pub(crate) request: Arc<UpgradeRequest>,
    pub(crate) reply: oneshot::Sender<AttachReply>,
}

/// The session task's answer to [`Attach`].
pub(crate) enum AttachReply {
    /// The session adopted the connection (and answered the handshake).
    Accepted,
    /// The states disagree: reject with `SESSION_STATE_MISMATCH` and this reason.
    Rejected { ws: Ws, reason: String },
    /// The session is being destroyed: decide again as if it did not exist.
    Gone { ws: Ws },
}

/// The receiving session task is gone: the command comes back.
pub(crate) struct Closed(pub(crate) Cmd);

/// A multi-producer, single-consumer command queue (see the module docs).
pub(crate) struct CmdQueue {
    inner: Mutex<Inner>,
    /// Wakes the session task; `notify_one` keeps a permit when it is not waiting.
    queued: Notify,
}

#[derive(Default)]
struct Inner {
    items: VecDeque<Cmd>,
    closed: bool,
}

impl CmdQueue {
    pub(crate) fn new() -> Self {
        CmdQueue {
            inner: Mutex::new(Inner::default()),
            queued: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; recover the data if something did.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `cmd`, or hands it back when the session task has closed the queue.
    pub(crate) fn send(&self, cmd: Cmd) -> Result<(), Closed> {
        {
            let mut inner = self.lock();
            if inner.closed {
                return Err(Closed(cmd));
            }
            inner.items.push_back(cmd);
        }
        self.queued.notify_one();
        Ok(())
    }

    /// The next command, if one is queued.
    pub(crate) fn try_recv(&self) -> Option<Cmd> {
        self.lock().items.pop_front()
    }

    /// Waits for the next command; `None` once the queue is closed and empty.
    /// Cancel-safe: a dropped wait loses no command (they stay queued, and a consumed
    /// notification without a command only costs a spurious loop).
    pub(crate) async fn recv(&self) -> Option<Cmd> {
        loop {
            {
                let mut inner = self.lock();
                if let Some(cmd) = inner.items.pop_front() {
                    return Some(cmd);
                }
                if inner.closed {
                    return None;
                }
            }
            self.queued.notified().await;
        }
    }

    /// Refuses further commands; those already queued can still be taken.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn commands_arrive_in_order_and_come_back_after_close() {
        let q = Arc::new(CmdQueue::new());
        assert!(q.try_recv().is_none());
        let waiter = {
            let q = q.clone();
            tokio::spawn(async move { q.recv().await.is_some() })
        };
        tokio::task::yield_now().await;
        assert!(q.send(Cmd::Nudge).is_ok());
        assert!(waiter.await.unwrap_or(false), "a waiting receiver is woken");
        assert!(q.send(Cmd::Rehandshake).is_ok());
        assert!(q.send(Cmd::Destroy).is_ok());
        assert!(matches!(q.recv().await, Some(Cmd::Rehandshake)));
        q.close();
        assert!(matches!(q.send(Cmd::Nudge), Err(Closed(Cmd::Nudge))));
        assert!(
            matches!(q.try_recv(), Some(Cmd::Destroy)),
            "queued before close"
        );
        assert!(q.recv().await.is_none());
    }
}
