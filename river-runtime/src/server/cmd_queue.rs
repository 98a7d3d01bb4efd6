//! The queue of commands to one session task (handler results, cancels, reconnects).
//!
//! Many senders (handlers, connection tasks, the server handle), one receiver (the
//! session task), unbounded. It replaces a tokio unbounded channel, which allocates a
//! block of 32 slots (about 2 KiB of `Cmd`s) per session up front: most sessions are idle
//! most of the time, so memory per idle session counted it in full. This queue allocates
//! when a command is first queued and keeps only what the largest burst needed.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::Notify;

use super::session::Cmd;

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
    use std::sync::Arc;

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
