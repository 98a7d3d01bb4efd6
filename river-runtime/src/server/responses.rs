//! The response half of subscription and stream handlers: [`Responses`].

use super::*;

/// The response half of a stream or subscription.
///
/// It is closed (CLOSE, flag 8) by [`Responses::close`], or when the handler returns.
/// Dropping it before the handler returns does not close it; dropping it after the
/// handler returned (it was moved into another task) does.
pub struct Responses<O, E> {
    pub(super) ctx: Context,
    pub(super) _p: PhantomData<fn(O, E)>,
}

impl<O: Serialize, E: Serialize> Responses<O, E> {
    /// Sends one result item (flag 0); waits while the send buffer is at its high-water mark.
    ///
    /// The item is encoded when this is called, and the returned future holds only the
    /// encoded payload (plus a boxed wait if the buffer is full when it is polled): a
    /// handler waiting on it stays small, and a waiting handler is most of the memory
    /// of an open stream.
    pub fn send(&self, item: Result<O, E>) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        SendItem {
            inner: &self.ctx.inner,
            state: match self.encode(item) {
                Ok(payload) => SendState::Encoded(payload),
                Err(e) => SendState::Failed(Box::new(e)),
            },
        }
    }
    /// Sends an `Ok` item.
    pub fn ok(&self, value: O) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        self.send(Ok(value))
    }
    /// Sends an `Err` item (the stream stays open).
    pub fn err(&self, error: E) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        self.send(Err(error))
    }
    /// Closes the response half (sends CLOSE). Idempotent.
    pub async fn close(&self) {
        self.close_now();
    }
    /// Whether the half is still open.
    pub fn is_open(&self) -> bool {
        self.ctx.inner.res_open()
    }
    /// Checks that the half is open and encodes one item as `{ok, payload}`.
    fn encode(&self, item: Result<O, E>) -> Result<Payload, Error> {
        if !self.is_open() {
            return Err(Error::closed("response stream is closed"));
        }
        let codec = self.ctx.codec();
        match &item {
            Ok(o) => encode_result(codec, true, o),
            Err(e) => {
                self.ctx.inner.record_service_error(e);
                encode_result(codec, false, e)
            }
        }
    }
}

impl<O, E> Responses<O, E> {
    pub(super) fn close_now(&self) {
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

/// The future of [`Responses::send`].
struct SendItem<'a> {
    inner: &'a CtxInner,
    state: SendState<'a>,
}

enum SendState<'a> {
    /// Encoded, not yet queued.
    Encoded(Payload),
    /// Waiting for the send buffer to drain below its high-water mark.
    Waiting(Payload, Pin<Box<dyn Future<Output = ()> + Send + 'a>>),
    /// The half was closed or the item could not be encoded.
    Failed(Box<Error>),
    /// The outcome was returned.
    Done,
}

impl Future for SendItem<'_> {
    type Output = Result<(), Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        let inner = self.inner;
        let payload = match std::mem::replace(&mut self.state, SendState::Done) {
            SendState::Encoded(payload) if inner.session.has_room() => payload,
            SendState::Encoded(payload) => {
                // Rare: backpressure. Boxed, so that the future has no room for the wait
                // on the common path.
                let mut wait: Pin<Box<dyn Future<Output = ()> + Send + '_>> =
                    Box::pin(inner.session.wait_writable(inner));
                if wait.as_mut().poll(cx).is_pending() {
                    self.state = SendState::Waiting(payload, wait);
                    return Poll::Pending;
                }
                payload
            }
            SendState::Waiting(payload, mut wait) => {
                if wait.as_mut().poll(cx).is_pending() {
                    self.state = SendState::Waiting(payload, wait);
                    return Poll::Pending;
                }
                payload
            }
            SendState::Failed(e) => return Poll::Ready(Err(*e)),
            SendState::Done => {
                return Poll::Ready(Err(Error::closed("the send was already completed")))
            }
        };
        if !inner.res_open() {
            return Poll::Ready(Err(Error::closed("response stream is closed")));
        }
        inner.session.item_queued();
        let sent = inner.send(Cmd::Item {
            stream: inner.stream.clone(),
            payload,
        });
        if sent.is_err() {
            inner.session.item_taken();
        }
        Poll::Ready(sent)
    }
}

/// Encodes `{ok, payload: value}`.
pub(super) fn encode_result<T: Serialize + ?Sized>(
    codec: Codec,
    ok: bool,
    value: &T,
) -> Result<Payload, Error> {
    let inner = codec.encode(value)?;
    Ok(codec.encode_result(ok, &inner))
}
