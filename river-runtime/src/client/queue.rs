//! The bounded queue between the driver and one call's receiving half ([`Reader`] /
//! [`Response`]).
//!
//! Result items count against the capacity; the final event (an error, or the end of
//! the stream) never does, so a cancel or a disconnect always gets through. When an item
//! does not fit, the driver keeps the frame and stops reading its connection; the
//! receiver wakes the driver (through [`Shared::reader_space`]) once it has taken an
//! item from a queue that was full.
//!
//! [`Reader`]: super::Reader
//! [`Response`]: super::Response
//! [`Shared::reader_space`]: super::Shared

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::Shared;
use crate::error::ProtocolError;
use crate::message::Payload;

struct State {
    items: VecDeque<StreamEvent>,
    /// The driver dropped its sender: no more events.
    closed: bool,
    /// The receiving half is gone: events are discarded.
    rx_dropped: bool,
    /// The driver found the queue full and waits for room.
    blocked: bool,
    waker: Option<Waker>,
}

/// What the driver tells a call's receiving half. Channel closure ends the call.
pub(crate) enum StreamEvent {
    /// A response payload (decoded by the receiver; non-Result payloads are skipped).
    Item(Payload),
    /// A protocol error (cancel, disconnect); the last event.
    Error(ProtocolError),
}

/// A bounded queue of [`StreamEvent`]s.
pub(crate) struct EventQueue {
    state: Mutex<State>,
    capacity: usize,
    shared: Arc<Shared>,
}

impl EventQueue {
    /// A queue holding at most `capacity` items (at least one).
    pub(crate) fn new(capacity: usize, shared: Arc<Shared>) -> Arc<Self> {
        Arc::new(EventQueue {
            state: Mutex::new(State {
                items: VecDeque::new(),
                closed: false,
                rx_dropped: false,
                blocked: false,
                waker: None,
            }),
            capacity: capacity.max(1),
            shared,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, event: StreamEvent) {
        let waker = {
            let mut st = self.lock();
            if st.closed || st.rx_dropped {
                return;
            }
            st.items.push_back(event);
            let len = st.items.len();
            self.shared
                .stats
                .reader_queue_peak
                .fetch_max(len as u64, Ordering::Relaxed);
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Receives the next event; `None` once the sender is gone and the queue is empty.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        let mut st = self.lock();
        if let Some(ev) = st.items.pop_front() {
            if st.blocked && st.items.len() < self.capacity {
                st.blocked = false;
                drop(st);
                self.shared.reader_space.notify_one();
            }
            return Poll::Ready(Some(ev));
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

    /// The receiving half is gone: drop what is queued and unblock the driver.
    pub(crate) fn close_rx(&self) {
        let mut st = self.lock();
        st.rx_dropped = true;
        st.items.clear();
        st.waker = None;
        if std::mem::take(&mut st.blocked) {
            drop(st);
            self.shared.reader_space.notify_one();
        }
    }
}

/// The driver's end of an [`EventQueue`]. Dropping it ends the stream for the receiver.
pub(crate) struct EventTx(Arc<EventQueue>);

impl EventTx {
    pub(crate) fn new(queue: Arc<EventQueue>) -> Self {
        EventTx(queue)
    }

    /// Whether one more item fits (always true when the receiver is gone). When it does
    /// not, the queue remembers to wake the driver once the receiver takes an item.
    pub(crate) fn has_room(&self) -> bool {
        let mut st = self.0.lock();
        if st.rx_dropped || st.closed || st.items.len() < self.0.capacity {
            return true;
        }
        st.blocked = true;
        false
    }

    /// Queues a result item; the caller checked [`EventTx::has_room`].
    pub(crate) fn item(&self, payload: Payload) {
        self.0.push(StreamEvent::Item(payload));
    }

    /// Queues a final event (error): never refused for lack of room.
    pub(crate) fn send(&self, event: StreamEvent) {
        self.0.push(event);
    }
}

impl Drop for EventTx {
    fn drop(&mut self) {
        let waker = {
            let mut st = self.0.lock();
            st.closed = true;
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}
