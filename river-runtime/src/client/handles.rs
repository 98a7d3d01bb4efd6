//! The typed per-call handles: [`Writer`], [`Reader`], [`Response`].

use super::*;

/// The request half of a stream or upload. Dropping it closes the half (sends CLOSE).
pub struct Writer<T> {
    pub(super) handle: CallHandle,
    pub(super) stream: Arc<StreamShared>,
    pub(super) shared: Option<Arc<Shared>>,
    pub(super) codec: Codec,
    pub(super) open: bool,
    /// The request data schema, when the client validates.
    pub(super) schema: Option<Validator>,
    pub(super) _p: PhantomData<fn(T)>,
}

impl<T: Serialize> Writer<T> {
    /// Sends one request; waits while the session's send buffer is at its high-water
    /// mark. Fails when the half is closed (by [`Writer::close`], a cancel from either
    /// side, or the loss of the session).
    pub async fn send(&mut self, value: T) -> Result<(), Error> {
        if !self.is_open() {
            return Err(Error::closed("the request stream is closed"));
        }
        check_payload(self.schema.as_ref(), &value, || {
            "the request does not match its schema".to_string()
        })?;
        let payload = self.codec.encode(&value)?;
        if let Some(shared) = &self.shared {
            let bp = &shared.backpressure;
            let below = || {
                bp.len.load(Ordering::Acquire) + bp.pending.load(Ordering::Acquire)
                    < bp.high_water_mark
            };
            loop {
                if below() {
                    break;
                }
                let notified = bp.notify.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.stream.write_closed.load(Ordering::Acquire) {
                    return Err(Error::closed("the request stream is closed"));
                }
                if below() {
                    break;
                }
                notified.await;
            }
        }
        if self.stream.write_closed.load(Ordering::Acquire) {
            return Err(Error::closed("the request stream is closed"));
        }
        if let Some(shared) = &self.shared {
            shared.backpressure.pending.fetch_add(1, Ordering::AcqRel);
        }
        if self
            .handle
            .send(|stream_id| Command::Data { stream_id, payload })
        {
            Ok(())
        } else {
            if let Some(shared) = &self.shared {
                shared.backpressure.pending.fetch_sub(1, Ordering::AcqRel);
            }
            Err(Error::closed("transport is closed"))
        }
    }
}

impl<T> Writer<T> {
    /// Closes the request half (sends CLOSE). Idempotent; does nothing after a cancel.
    pub async fn close(&mut self) {
        self.close_now();
    }

    pub(super) fn close_now(&mut self) {
        if !self.open {
            return;
        }
        self.open = false;
        if self.stream.write_closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.handle.send(|stream_id| Command::Close { stream_id });
    }

    /// Whether the half is still open.
    pub fn is_open(&self) -> bool {
        self.open && !self.stream.write_closed.load(Ordering::Acquire)
    }
}

impl<T> Drop for Writer<T> {
    fn drop(&mut self) {
        self.close_now();
    }
}

/// The response half of a stream or subscription: a `Stream` of results. Dropping it
/// before the stream finished cancels the call.
pub struct Reader<O, E> {
    pub(super) rx: CallRx<O, E>,
}

impl<O, E> Reader<O, E> {
    /// Gives the whole call a deadline, `after` from now (replacing any earlier one).
    /// When it passes before the server ended the stream, the call is cancelled as if
    /// the reader had been dropped (the server's handler sees `CANCEL`, an open
    /// [`Writer`] is closed), and the reader yields one error for which
    /// [`RiverError::is_timeout`] is true (`deadline exceeded after 50ms`), then
    /// `None`. Results still queued when the deadline passes are discarded.
    ///
    /// ```no_run
    /// # async fn f(client: river_runtime::Client) {
    /// use std::time::Duration;
    /// use river_runtime::{AnyServiceError, Reader};
    ///
    /// let mut ticks: Reader<u64, AnyServiceError> = client
    ///     .subscribe("clock", "ticks", &())
    ///     .timeout(Duration::from_secs(30));
    /// while let Some(tick) = ticks.next().await {
    ///     match tick {
    ///         Ok(n) => println!("tick {n}"),
    ///         Err(e) if e.is_timeout() => break, // 30 s are over
    ///         Err(e) => panic!("{e}"),
    ///     }
    /// }
    /// # }
    /// ```
    #[must_use = "a Reader does nothing unless polled, and dropping it cancels the call"]
    pub fn timeout(mut self, after: Duration) -> Self {
        self.rx.set_timeout(after);
        self
    }

    /// Cancels the call (sends CANCEL); the reader then yields `Err(CANCEL)` after what
    /// it already received. Does nothing when both halves are already closed.
    pub fn cancel(&mut self) {
        self.rx.cancel(false);
    }
}

impl<O: DeserializeOwned, E: ServiceError> Reader<O, E> {
    /// The next result; `None` once the server closed the stream. The same as
    /// `futures::StreamExt::next`, without importing it.
    pub async fn next(&mut self) -> Option<Result<O, RiverError<E>>> {
        futures::StreamExt::next(self).await
    }
}

impl<O: DeserializeOwned, E: ServiceError> futures::Stream for Reader<O, E> {
    type Item = Result<O, RiverError<E>>;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().rx.poll_item(cx)
    }
}

/// The single result of an rpc or upload: a future. Dropping it before it resolved
/// cancels the call; [`Response::timeout`] sets a deadline.
#[must_use = "a Response does nothing unless awaited, and dropping it cancels the call"]
pub struct Response<O, E> {
    pub(super) rx: CallRx<O, E>,
}

impl<O, E> Response<O, E> {
    /// Gives the call a deadline, `after` from now (replacing any earlier one). When it
    /// passes before the result arrived, the call is cancelled exactly as dropping the
    /// response does (the client sends `CANCEL`; the server's handler sees
    /// [`Context::cancelled`](crate::Context::cancelled) resolve), and the response
    /// resolves to an error for which [`RiverError::is_timeout`] is true, displayed as
    /// `deadline exceeded after 50ms`.
    ///
    /// The deadline counts from this call, not from the first poll.
    ///
    /// ```no_run
    /// # async fn f(client: river_runtime::Client) {
    /// use std::time::Duration;
    /// use river_runtime::{AnyServiceError, RiverError};
    ///
    /// let answer: Result<u64, RiverError<AnyServiceError>> = client
    ///     .rpc("math", "slowSquare", &7)
    ///     .timeout(Duration::from_millis(50))
    ///     .await;
    /// if let Err(e) = answer {
    ///     assert!(e.is_timeout());
    ///     assert_eq!(e.to_string(), "deadline exceeded after 50ms");
    /// }
    /// # }
    /// ```
    pub fn timeout(mut self, after: Duration) -> Self {
        self.rx.set_timeout(after);
        self
    }

    /// Cancels the call (sends CANCEL); the response resolves to `Err(CANCEL)`. Does
    /// nothing when both halves are already closed.
    pub fn cancel(&mut self) {
        self.rx.cancel(false);
    }
}

impl<O: DeserializeOwned, E: ServiceError> Future for Response<O, E> {
    type Output = Result<O, RiverError<E>>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.rx.poll_item(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(item)) => {
                this.rx.mark_finished();
                Poll::Ready(item)
            }
            Poll::Ready(None) => Poll::Ready(Err(RiverError::Transport(Error::closed(NO_RESULT)))),
        }
    }
}
