//! The task that runs one handler call: [`spawn_unary`] (rpc, upload) and
//! [`spawn_streaming`] (stream, subscription) build a [`HandlerTask`] and start it.

use super::*;
use pin_project_lite::pin_project;
use std::task::Context as TaskContext;

/// The text of a caught panic.
pub(super) fn panic_message(panic: Box<dyn Any + Send>) -> String {
    let msg = if let Some(s) = panic.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        String::new()
    };
    if msg.is_empty() {
        "unknown reason".to_string()
    } else {
        msg
    }
}

pin_project! {
    /// One handler call as a task. Its first poll calls the handler (`start`), every
    /// poll runs inside the call's span with panics caught, and when the handler's
    /// future ends (or panics) `finish` reports the outcome to the session task.
    ///
    /// One hand-written future rather than `lazy`, `flatten`, `instrument`, `map` and
    /// `catch_unwind`: each of those kept its own span, context handle or state in the
    /// task, and a waiting handler's task is most of what an open stream costs.
    pub(super) struct HandlerTask<S, F, O> {
        #[pin]
        stage: Stage<S, F>,
        inner: Arc<CtxInner>,
        finish: fn(&CtxInner, Result<O, String>),
    }
}

pin_project! {
    #[project = StageProj]
    enum Stage<S, F> {
        // The handler is not called yet: its closure and arguments.
        Start { start: Option<S> },
        // The handler's future.
        Running { #[pin] fut: F },
        // The outcome was reported.
        Done,
    }
}

impl<S, F, O> Future for HandlerTask<S, F, O>
where
    S: FnOnce() -> F,
    F: Future<Output = O>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let mut this = self.project();
        let inner: &CtxInner = this.inner;
        let _entered = inner.telemetry.span().enter();
        let polled = std::panic::catch_unwind(AssertUnwindSafe(|| loop {
            match this.stage.as_mut().project() {
                StageProj::Start { start } => match start.take() {
                    Some(start) => {
                        let fut = start();
                        this.stage.set(Stage::Running { fut });
                    }
                    None => return None,
                },
                StageProj::Running { fut } => return Some(fut.poll(cx)),
                StageProj::Done => return None,
            }
        }));
        let outcome = match polled {
            Ok(Some(Poll::Pending)) => return Poll::Pending,
            Ok(None) => return Poll::Ready(()),
            Ok(Some(Poll::Ready(out))) => Ok(out),
            Err(panic) => Err(panic_message(panic)),
        };
        // The handler's future is dropped inside the span, and a panic in its drop
        // changes nothing: the outcome is already decided.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Done)));
        (this.finish)(inner, outcome);
        Poll::Ready(())
    }
}

/// Starts a handler task: polls it once right here, in the session task, and spawns
/// it only if it is still pending. The handler's synchronous prefix therefore runs
/// before the session dispatches the next frame (see "Handler start order" in the
/// module docs). The first poll uses a no-op waker, which is fine because the spawned
/// task polls it again at once with its own.
fn start_task(mut fut: Pin<Box<dyn Future<Output = ()> + Send + 'static>>) {
    let mut cx = TaskContext::from_waker(futures::task::noop_waker_ref());
    if fut.as_mut().poll(&mut cx).is_pending() {
        tokio::spawn(fut);
    }
}

/// Runs an rpc/upload handler (`start` calls it) and reports its outcome to the session
/// task.
pub(super) fn spawn_unary<O, E, S, F>(ctx: Context, start: S)
where
    O: Serialize + Send + 'static,
    E: Serialize + Send + 'static,
    S: FnOnce() -> F + Send + 'static,
    F: Future<Output = Result<O, Failure<E>>> + Send + 'static,
{
    start_task(Box::pin(HandlerTask {
        stage: Stage::Start { start: Some(start) },
        inner: ctx.inner,
        finish: finish_unary::<O, E>,
    }));
}

/// Runs a stream/subscription handler (`start` calls it) and reports its outcome to
/// the session task.
pub(super) fn spawn_streaming<E, S, F>(ctx: Context, start: S)
where
    E: Serialize + Send + 'static,
    S: FnOnce() -> F + Send + 'static,
    F: Future<Output = Result<(), Failure<E>>> + Send + 'static,
{
    start_task(Box::pin(HandlerTask {
        stage: Stage::Start { start: Some(start) },
        inner: ctx.inner,
        finish: finish_streaming::<E>,
    }));
}

/// Runs `f` (user `Serialize` code) with its panic caught as an uncaught error.
fn caught<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panic_message(p)))
}

/// The end of an rpc/upload handler: its encoded result, or the uncaught error.
fn finish_unary<O: Serialize, E: Serialize>(
    inner: &CtxInner,
    out: Result<Result<O, Failure<E>>, String>,
) {
    let codec = inner.session.codec;
    let outcome = out.and_then(|res| {
        caught(|| match res {
            Ok(o) => encode_result(codec, true, &o).map_err(|e| e.to_string()),
            Err(Failure::Service(e)) => {
                inner.record_service_error(&e);
                encode_result(codec, false, &e).map_err(|e| e.to_string())
            }
            Err(Failure::Uncaught(m)) => Err(m),
        })
    });
    let _ = inner.send(Cmd::Finish {
        stream: inner.stream.clone(),
        outcome,
    });
}

/// The end of a stream/subscription handler: its error item if it returned one, then
/// the close; or the uncaught error.
fn finish_streaming<E: Serialize>(inner: &CtxInner, out: Result<Result<(), Failure<E>>, String>) {
    let codec = inner.session.codec;
    let err_item = out.and_then(|res| {
        caught(|| match res {
            Ok(()) => Ok(None),
            Err(Failure::Service(e)) => {
                inner.record_service_error(&e);
                encode_result(codec, false, &e)
                    .map(Some)
                    .map_err(|e| e.to_string())
            }
            Err(Failure::Uncaught(m)) => Err(m),
        })
    });
    match err_item {
        Ok(err_item) => {
            let prev = inner.res_flags.fetch_or(HANDLER_DONE, Ordering::SeqCst);
            let close = prev & RES_DROPPED != 0;
            let _ = inner.send(Cmd::StreamDone {
                stream: inner.stream.clone(),
                err_item,
                close,
            });
        }
        Err(message) => {
            inner.res_flags.fetch_or(HANDLER_DONE, Ordering::SeqCst);
            let _ = inner.send(Cmd::Cancel {
                stream: inner.stream.clone(),
                error: Box::new(ProtocolError::new(
                    ProtocolErrorCode::UncaughtError,
                    message,
                )),
            });
        }
    }
}
