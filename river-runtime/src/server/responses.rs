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
    pub async fn send(&self, item: Result<O, E>) -> Result<(), Error> {
        if !self.is_open() {
            return Err(Error::closed("response stream is closed"));
        }
        let codec = self.ctx.codec();
        let payload = match &item {
            Ok(o) => encode_result(codec, true, o)?,
            Err(e) => {
                self.ctx.inner.record_service_error(e);
                encode_result(codec, false, e)?
            }
        };
        drop(item);
        let inner = &self.ctx.inner;
        inner.session.wait_writable(inner).await;
        if !self.is_open() {
            return Err(Error::closed("response stream is closed"));
        }
        inner.session.item_queued();
        let sent = inner.send(Cmd::Item {
            stream: inner.stream.clone(),
            payload,
        });
        if sent.is_err() {
            inner.session.item_taken();
        }
        sent
    }
    /// Sends an `Ok` item.
    pub async fn ok(&self, value: O) -> Result<(), Error> {
        self.send(Ok(value)).await
    }
    /// Sends an `Err` item (the stream stays open).
    pub async fn err(&self, error: E) -> Result<(), Error> {
        self.send(Err(error)).await
    }
    /// Closes the response half (sends CLOSE). Idempotent.
    pub async fn close(&self) {
        self.close_now();
    }
    /// Whether the half is still open.
    pub fn is_open(&self) -> bool {
        !self.ctx.inner.is_done()
            && self.ctx.inner.res_flags.load(Ordering::SeqCst) & RES_CLOSED == 0
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

/// Encodes `{ok, payload: value}`.
pub(super) fn encode_result<T: Serialize + ?Sized>(
    codec: Codec,
    ok: bool,
    value: &T,
) -> Result<Payload, Error> {
    let inner = codec.encode(value)?;
    Ok(codec.encode_result(ok, &inner))
}
