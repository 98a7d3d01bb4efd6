//! One call's plumbing under the typed handles: its stream id, its receiving half (`CallRx`), deadlines, result decoding.

use super::*;

/// Why an rpc or upload failed whose stream ended without a result.
pub(super) const NO_RESULT: &str = "the stream closed without a result";

pub(super) fn transport_closed() -> ProtocolError {
    ProtocolError::new(
        ProtocolErrorCode::UnexpectedDisconnect,
        "transport is closed",
    )
}

/// Per-stream flags shared by the driver and the writer.
pub(crate) struct StreamShared {
    /// The request half is closed (by the writer, a cancel, or session loss).
    pub(crate) write_closed: AtomicBool,
}

pub(super) struct OpenCall {
    pub(super) handle: CallHandle,
    /// The call's span and metrics; taken by its [`CallRx`].
    pub(super) telemetry: Option<CallTelemetry>,
    pub(super) rx: Option<Arc<EventQueue>>,
    pub(super) stream: Arc<StreamShared>,
}

/// A way to reach the driver about one stream.
#[derive(Clone)]
pub(super) struct CallHandle {
    pub(super) cmd: Option<mpsc::UnboundedSender<Command>>,
    /// Shared with every command about the stream: no copy per frame.
    pub(super) stream_id: Arc<str>,
}

impl CallHandle {
    pub(super) fn send(&self, make: impl FnOnce(Arc<str>) -> Command) -> bool {
        match &self.cmd {
            Some(cmd) => cmd.send(make(self.stream_id.clone())).is_ok(),
            None => false,
        }
    }
}

/// The receiving half of a call, shared by [`Reader`] and [`Response`].
pub(super) struct CallRx<O, E> {
    pub(super) rx: Option<Arc<EventQueue>>,
    pub(super) failed: Option<RiverError<E>>,
    pub(super) handle: CallHandle,
    pub(super) codec: Codec,
    /// The `Ok` response schema, when the client validates.
    pub(super) output: Option<Validator>,
    pub(super) finished: bool,
    /// An rpc or upload: the stream ending without an item is a failure.
    pub(super) expects_result: bool,
    /// The call's span and metrics (`None` for a call that failed before it opened).
    pub(super) telemetry: Option<CallTelemetry>,
    /// The call's deadline, when one was set.
    pub(super) deadline: Option<Deadline>,
    pub(super) _p: PhantomData<fn() -> (O, E)>,
}

/// A call's deadline: when it passes, the call is cancelled as if dropped.
pub(super) struct Deadline {
    /// How long after it was set (for the error message).
    pub(super) after: Duration,
    pub(super) at: tokio::time::Instant,
    /// Made on the first poll (which runs in the runtime), not when the deadline is set.
    pub(super) sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Deadline {
    /// A deadline `after` from now; `None` when that is too far to represent.
    pub(super) fn new(after: Duration) -> Option<Self> {
        let at = tokio::time::Instant::now().checked_add(after)?;
        Some(Deadline {
            after,
            at,
            sleep: None,
        })
    }

    pub(super) fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let at = self.at;
        self.sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)))
            .as_mut()
            .poll(cx)
    }
}

impl<O: DeserializeOwned, E: ServiceError> CallRx<O, E> {
    pub(super) fn poll_item(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<O, RiverError<E>>>> {
        if let Some(e) = self.failed.take() {
            self.mark_finished();
            return Poll::Ready(Some(Err(e)));
        }
        if self.rx.is_none() {
            self.mark_finished();
            return Poll::Ready(None);
        }
        if let Some(deadline) = self.deadline.as_mut() {
            if deadline.poll_elapsed(cx).is_ready() {
                let after = deadline.after;
                self.deadline = None;
                // Exactly what dropping the handle does: CANCEL unless finished.
                self.cancel(true);
                let err = Error::deadline_exceeded(after);
                if let Some(t) = &self.telemetry {
                    t.fail(Outcome::Cancelled, None, &err.to_string());
                }
                self.mark_finished();
                if let Some(rx) = self.rx.take() {
                    rx.close_rx();
                }
                return Poll::Ready(Some(Err(RiverError::Transport(err))));
            }
        }
        let Some(rx) = self.rx.as_mut() else {
            return Poll::Ready(None);
        };
        loop {
            match rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    if self.expects_result {
                        if let Some(t) = &self.telemetry {
                            t.fail(Outcome::ProtocolError, None, NO_RESULT);
                        }
                    }
                    self.mark_finished();
                    if let Some(rx) = self.rx.take() {
                        rx.close_rx();
                    }
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(StreamEvent::Error(p))) => {
                    if let Some(t) = &self.telemetry {
                        t.fail(Outcome::ProtocolError, Some(p.code.as_str()), &p.message);
                    }
                    return Poll::Ready(Some(Err(RiverError::Protocol(p))));
                }
                Poll::Ready(Some(StreamEvent::Item(payload))) => {
                    let telemetry = self.telemetry.as_ref();
                    match decode_result::<O, E>(
                        self.codec,
                        &payload,
                        self.output.as_ref(),
                        telemetry,
                    ) {
                        Some(item) => return Poll::Ready(Some(item)),
                        None => {
                            tracing::warn!(?payload, "ignoring a response that is not a Result");
                        }
                    }
                }
            }
        }
    }
}

impl<O, E> CallRx<O, E> {
    /// The call is over for its caller: its result arrived, or its stream ended.
    pub(super) fn mark_finished(&mut self) {
        self.finished = true;
        if let Some(t) = &self.telemetry {
            t.finish();
        }
    }

    pub(super) fn set_timeout(&mut self, after: Duration) {
        self.deadline = Deadline::new(after);
    }

    pub(super) fn cancel(&mut self, from_drop: bool) {
        if self.finished {
            return;
        }
        if let Some(t) = &self.telemetry {
            t.set_outcome(Outcome::Cancelled);
        }
        self.handle.send(|stream_id| Command::Cancel {
            stream_id,
            from_drop,
        });
    }
}

// Nothing is ever pinned structurally: the error slot is moved out, never pinned.
impl<O, E> Unpin for CallRx<O, E> {}

impl<O, E> Drop for CallRx<O, E> {
    fn drop(&mut self) {
        self.cancel(true);
        if let Some(rx) = self.rx.take() {
            rx.close_rx();
        }
    }
}

/// Decodes a `Result` payload; `None` when the payload is not a Result at all. An `Err`
/// is recorded on the call's telemetry with its code and message.
pub(super) fn decode_result<O: DeserializeOwned, E: ServiceError>(
    codec: Codec,
    payload: &Payload,
    output: Option<&Validator>,
    telemetry: Option<&CallTelemetry>,
) -> Option<Result<O, RiverError<E>>> {
    let (ok, inner) = codec.decode_result(payload).ok()?;
    if ok {
        let Some(schema) = output else {
            return Some(codec.decode::<O>(&inner).map_err(RiverError::Transport));
        };
        let checked = codec.decode::<Value>(&inner).and_then(|value| {
            schema
                .validate(&value)
                .map_err(|e| Error::validation("the response does not match its schema", e))?;
            value.deserialize_into::<O>()
        });
        return Some(checked.map_err(RiverError::Transport));
    }
    let err: ErrorPayload = codec.decode(&inner).ok()?;
    let protocol = ProtocolError::from_payload(&err);
    if let Some(t) = telemetry {
        let outcome = match protocol {
            Some(_) => Outcome::ProtocolError,
            None => Outcome::ServiceError,
        };
        t.fail(outcome, Some(&err.code), &err.message);
    }
    if let Some(p) = protocol {
        return Some(Err(RiverError::Protocol(p)));
    }
    Some(Err(RiverError::Service(match codec.decode::<E>(&inner) {
        Ok(e) => e,
        Err(_) => E::unknown(err.code, err.message, err.extras),
    })))
}

/// Checks a payload against a schema, when there is one.
pub(super) fn check_payload<T: Serialize + ?Sized>(
    schema: Option<&Validator>,
    value: &T,
    what: impl FnOnce() -> String,
) -> Result<(), Error> {
    let Some(schema) = schema else {
        return Ok(());
    };
    let value = Value::from_serialize(value)?;
    schema
        .validate(&value)
        .map_err(|e| Error::validation(what(), e))
}
