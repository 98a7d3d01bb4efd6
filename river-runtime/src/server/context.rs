//! A handler's view of its call: [`Context`] (ids, metadata, cancellation).

use super::*;

pub(super) const RES_CLOSED: u8 = 1;
pub(super) const RES_DROPPED: u8 = 2;
pub(super) const HANDLER_DONE: u8 = 4;
pub(super) const CANCEL_SENT: u8 = 8;

/// Per-call state shared by the handler (through [`Context`] and [`Responses`]) and the
/// session task.
pub(crate) struct CtxInner {
    pub(super) session: Arc<SessionShared>,
    pub(super) stream: StreamRef,
    pub(super) done: AtomicBool,
    pub(super) notify: Notify,
    pub(super) res_flags: AtomicU8,
    /// The call's span and metrics.
    pub(crate) telemetry: CallTelemetry,
    /// The trace context the stream-open frame carried; boxed, and only when it was not
    /// empty (as it is without OpenTelemetry), to keep each open call small.
    pub(super) trace: Option<Box<Received>>,
}

impl CtxInner {
    /// Marks the call over and wakes every waiter (called by the session task).
    pub(crate) fn finish(&self) {
        self.done.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
        self.telemetry.finish();
    }

    /// Records a service error the handler returned or sent on the call's span.
    pub(super) fn record_service_error<E: Serialize>(&self, error: &E) {
        // Only on the error path: the error's `code` and `message` as the wire has them.
        let value = Value::from_serialize(error).unwrap_or_default();
        let field = |name: &str| match &value {
            Value::Object(m) => m.get(name).and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            }),
            _ => None,
        };
        let message = field("message").unwrap_or_default();
        self.telemetry
            .fail(Outcome::ServiceError, field("code").as_deref(), &message);
    }

    /// Whether the call's response half is still open (the call is not over and the
    /// handler did not close it).
    pub(super) fn res_open(&self) -> bool {
        !self.is_done() && self.res_flags.load(Ordering::SeqCst) & RES_CLOSED == 0
    }

    pub(super) fn is_done(&self) -> bool {
        self.done.load(Ordering::SeqCst)
    }

    pub(super) async fn wait_done(&self) {
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

    pub(super) fn send(&self, cmd: Cmd) -> Result<(), Error> {
        self.session
            .tx
            .send(cmd)
            .map_err(|_| Error::closed("session is closed"))
    }
}

/// What a handler knows about its call.
#[derive(Clone)]
pub struct Context {
    pub(super) inner: Arc<CtxInner>,
}

impl Context {
    pub(crate) fn new(
        session: Arc<SessionShared>,
        stream: StreamRef,
        telemetry: CallTelemetry,
        trace: Received,
    ) -> Self {
        Context {
            inner: Arc::new(CtxInner {
                session,
                stream,
                done: AtomicBool::new(false),
                notify: Notify::new(),
                res_flags: AtomicU8::new(0),
                telemetry,
                trace: (trace.traceparent.is_some() || trace.tracestate.is_some())
                    .then(|| Box::new(trace)),
            }),
        }
    }

    pub(crate) fn inner(&self) -> &Arc<CtxInner> {
        &self.inner
    }

    pub(super) fn codec(&self) -> Codec {
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
    /// The W3C `traceparent` the caller sent with the call, if any (the reference's
    /// client sends an empty one without OpenTelemetry: that is `None`). With the
    /// `opentelemetry` feature the call's span already continues this trace.
    pub fn traceparent(&self) -> Option<&str> {
        self.inner.trace.as_ref()?.traceparent.as_deref()
    }
    /// The W3C `tracestate` the caller sent with the call, if any.
    pub fn tracestate(&self) -> Option<&str> {
        self.inner.trace.as_ref()?.tracestate.as_deref()
    }
    /// The call's span (`river.server`, see the crate's telemetry docs). Handlers run
    /// inside it; tasks a handler spawns can `instrument` themselves with it.
    pub fn span(&self) -> &tracing::Span {
        self.inner.telemetry.span()
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
            error: Box::new(ProtocolError::new(ProtocolErrorCode::Cancel, message)),
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
