//! The request stream of upload and stream handlers: [`Requests`], fed by the session through `RequestSink`.

use super::*;

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

pub(super) struct ReqState<R> {
    /// Errors are boxed: they are rare, and `ProtocolError` (72 bytes) would otherwise
    /// size every slot. The queue starts with room for one request (most handlers take
    /// each one as it comes), not the four a first `push_back` reserves.
    pub(super) items: VecDeque<Result<R, Box<ProtocolError>>>,
    pub(super) closed: bool,
    pub(super) dropped: bool,
    /// The session found the queue full and waits for room.
    pub(super) blocked: bool,
    pub(super) waker: Option<Waker>,
}

pub(super) struct ReqQueue<R> {
    pub(super) state: Mutex<ReqState<R>>,
    pub(super) session: Arc<SessionShared>,
    /// The request data schema, when the router has one.
    pub(super) schema: Option<Validator>,
}

impl<R> ReqQueue<R> {
    pub(super) fn new(session: Arc<SessionShared>, schema: Option<Validator>) -> Self {
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
    pub(super) fn unblock(&self, st: &mut ReqState<R>) {
        if std::mem::take(&mut st.blocked) {
            self.session.reader_space.notify_one();
        }
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, ReqState<R>> {
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub(super) fn push(&self, item: Result<R, Box<ProtocolError>>) {
        let waker = {
            let mut st = self.lock();
            if st.closed || st.dropped {
                return;
            }
            if st.items.capacity() == 0 {
                st.items.reserve_exact(1);
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
        self.push(Err(Box::new(error)));
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
    pub(super) queue: Arc<ReqQueue<R>>,
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
            return Poll::Ready(Some(item.map_err(|e| *e)));
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
