//! The `tracing` field of stream-open frames: W3C trace context
//! (`traceparent`/`tracestate`), as the reference writes it with OpenTelemetry's
//! `W3CTraceContextPropagator`.

use crate::message::Tracing;

/// The trace context a stream-open frame carried (empty strings count as absent, as the
/// reference sends them without OpenTelemetry).
#[derive(Clone, Debug, Default)]
pub(crate) struct Received {
    pub(crate) traceparent: Option<String>,
    pub(crate) tracestate: Option<String>,
}

impl Received {
    pub(crate) fn from_frame(tracing: Option<&Tracing>) -> Received {
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        match tracing {
            Some(t) => Received {
                traceparent: non_empty(&t.traceparent),
                tracestate: non_empty(&t.tracestate),
            },
            None => Received::default(),
        }
    }

    /// Makes the received context the parent of `span` (feature `opentelemetry`; a
    /// missing or malformed `traceparent` leaves the span a root).
    pub(crate) fn set_parent_of(&self, span: &tracing::Span) {
        #[cfg(feature = "opentelemetry")]
        {
            use opentelemetry::trace::TraceContextExt;
            use tracing_opentelemetry::OpenTelemetrySpanExt;
            let Some(parent) = self
                .traceparent
                .as_deref()
                .and_then(|tp| w3c::parse(tp, self.tracestate.as_deref().unwrap_or("")))
            else {
                return;
            };
            let cx = opentelemetry::Context::new().with_remote_span_context(parent);
            // Fails only when the span is disabled or has no OpenTelemetry layer.
            let _ = span.set_parent(cx);
        }
        #[cfg(not(feature = "opentelemetry"))]
        let _ = span;
    }
}

/// The `tracing` field for a stream-open frame of the call whose span is `span`: its
/// W3C trace context with the `opentelemetry` feature and an OpenTelemetry layer, empty
/// strings otherwise (exactly what the reference sends without OpenTelemetry).
pub(crate) fn inject(span: &tracing::Span) -> Tracing {
    #[cfg(feature = "opentelemetry")]
    {
        use opentelemetry::trace::TraceContextExt;
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        if !span.is_disabled() {
            let cx = span.context();
            let otel_span = cx.span();
            let sc = otel_span.span_context();
            if sc.is_valid() {
                return Tracing {
                    traceparent: w3c::format(sc),
                    tracestate: sc.trace_state().header(),
                };
            }
        }
    }
    #[cfg(not(feature = "opentelemetry"))]
    let _ = span;
    Tracing::default()
}

/// The W3C Trace Context header formats (version `00`).
#[cfg(feature = "opentelemetry")]
pub(crate) mod w3c {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    /// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`.
    pub(crate) fn format(sc: &SpanContext) -> String {
        format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().to_u8() & TraceFlags::SAMPLED.to_u8()
        )
    }

    /// Parses a `traceparent` (and its `tracestate`) as the W3C rules say: lowercase
    /// hex, non-zero ids, version `ff` invalid, a later version may append fields. A
    /// malformed `tracestate` is dropped, not the parent.
    pub(crate) fn parse(traceparent: &str, tracestate: &str) -> Option<SpanContext> {
        let parts: Vec<&str> = traceparent.trim().split('-').collect();
        if parts.len() < 4 {
            return None;
        }
        let (version, trace, span, flags) = (parts[0], parts[1], parts[2], parts[3]);
        let hex = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if !hex(version, 2) || version == "ff" || (version == "00" && parts.len() != 4) {
            return None;
        }
        if !hex(trace, 32) || !hex(span, 16) || !hex(flags, 2) {
            return None;
        }
        let trace_id = TraceId::from_hex(trace).ok()?;
        let span_id = SpanId::from_hex(span).ok()?;
        if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()? & TraceFlags::SAMPLED.to_u8();
        let state = tracestate.parse::<TraceState>().unwrap_or_default();
        Some(SpanContext::new(
            trace_id,
            span_id,
            TraceFlags::new(flags),
            true,
            state,
        ))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trips_a_w3c_traceparent() {
            let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
            let sc = parse(tp, "congo=t61rcWkgMzE").expect("a valid traceparent");
            assert!(sc.is_remote());
            assert!(sc.is_sampled());
            assert_eq!(format(&sc), tp);
            assert_eq!(sc.trace_state().header(), "congo=t61rcWkgMzE");
        }

        #[test]
        fn rejects_what_the_w3c_rules_reject() {
            for bad in [
                "",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ] {
                assert!(parse(bad, "").is_none(), "{bad:?} parsed");
            }
            // A later version may carry more fields.
            let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra";
            let sc = parse(later, "not a valid state").expect("a later version");
            assert!(!sc.is_sampled());
            assert_eq!(sc.trace_state().header(), "");
        }
    }
}
