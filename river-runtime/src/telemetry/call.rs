//! One call's telemetry on one side: its span, its outcome and, with the `metrics`
//! feature, its start time and labels.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use super::labels::{Outcome, Side, NO_OUTCOME, TARGET};
use super::metrics;
use super::propagation::Received;

/// The span of one call: `tracing` needs its name and fields as literals, so both sides'
/// spans come from this one list ([`CallTelemetry::client`], [`CallTelemetry::server`]).
macro_rules! call_span {
    ($name:literal, $otel:literal, $side:literal, [$($parent:tt)*], $kind:expr, $service:expr, $procedure:expr, $stream_id:expr) => {
        tracing::info_span!(
            target: TARGET,
            $($parent)*
            $name,
            otel.name = %format_args!(concat!($otel, ".{}.{}"), $service, $procedure),
            otel.kind = $side,
            span.kind = $side,
            component = "river",
            river.method.kind = $kind,
            river.method.service = $service,
            river.method.name = $procedure,
            river.streamId = $stream_id,
            river.error_code = tracing::field::Empty,
            river.error_message = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            otel.status_description = tracing::field::Empty,
        )
    };
}

/// A call's span and outcome; [`CallTelemetry::finish`] reports it once.
pub(crate) struct CallTelemetry {
    span: tracing::Span,
    outcome: AtomicU8,
    finished: AtomicBool,
    metrics: metrics::Call,
}

impl CallTelemetry {
    /// The client's span for a call it opens (its parent is the current span).
    pub(crate) fn client(
        kind: &'static str,
        service: &str,
        procedure: &str,
        stream_id: &str,
    ) -> Self {
        let span = call_span!(
            "river.client",
            "river.client",
            "client",
            [],
            kind,
            service,
            procedure,
            stream_id
        );
        Self::new(span, Side::Client, kind, service, procedure)
    }

    /// The server's span for a call it accepted. It has no contextual parent; with the
    /// `opentelemetry` feature the received trace context becomes its parent.
    pub(crate) fn server(
        kind: &'static str,
        service: &str,
        procedure: &str,
        stream_id: &str,
        received: &Received,
    ) -> Self {
        let span = call_span!(
            "river.server",
            "river.server",
            "server",
            [parent: None,],
            kind,
            service,
            procedure,
            stream_id
        );
        received.set_parent_of(&span);
        Self::new(span, Side::Server, kind, service, procedure)
    }

    fn new(
        span: tracing::Span,
        side: Side,
        kind: &'static str,
        service: &str,
        procedure: &str,
    ) -> Self {
        CallTelemetry {
            span,
            outcome: AtomicU8::new(NO_OUTCOME),
            finished: AtomicBool::new(false),
            metrics: metrics::Call::started(side, kind, service, procedure),
        }
    }

    /// The call's span.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Records a failure on the span (error code and message, error status) and as the
    /// outcome. The first failure of a call wins.
    pub(crate) fn fail(&self, outcome: Outcome, code: Option<&str>, message: &str) {
        if self
            .outcome
            .compare_exchange(
                NO_OUTCOME,
                outcome as u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return;
        }
        if let Some(code) = code {
            self.span.record("river.error_code", code);
        }
        self.span.record("river.error_message", message);
        self.span.record("otel.status_code", "ERROR");
        self.span.record("otel.status_description", message);
    }

    /// Sets the outcome without marking the span as failed (a cancel by this side);
    /// does nothing when an outcome is already set.
    pub(crate) fn set_outcome(&self, outcome: Outcome) {
        let _ = self.outcome.compare_exchange(
            NO_OUTCOME,
            outcome as u8,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Reports the call as over (metrics); later calls do nothing.
    pub(crate) fn finish(&self) {
        if self.finished.swap(true, Ordering::AcqRel) {
            return;
        }
        let outcome = Outcome::from_u8(self.outcome.load(Ordering::Acquire));
        self.metrics.finished(outcome);
    }
}

impl Drop for CallTelemetry {
    fn drop(&mut self) {
        // A call whose end nobody reported was abandoned: a dropped handle, a lost session.
        self.set_outcome(Outcome::Cancelled);
        self.finish();
    }
}
