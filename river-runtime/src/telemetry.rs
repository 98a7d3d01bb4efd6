//! Observability (reference only: nothing here needs calling): a `tracing` span for every call on each side, lifecycle events for
//! sessions and connections, W3C trace context on stream-open frames (feature
//! `opentelemetry`) and metrics (feature `metrics`).
//!
//! # Spans
//!
//! Every call gets one span on each side, open for the whole call: from the client's
//! stream open until its result, last item or cancel (or until its handle is dropped);
//! on the server from the stream open until the handler finished and the stream closed.
//! The span's `tracing` name is `river.client` or `river.server`; its `otel.name` field
//! carries the reference's span name, `river.client.<service>.<procedure>` and
//! `river.server.<service>.<procedure>`, which `tracing-opentelemetry` uses as the
//! OpenTelemetry span name. Fields, as the reference names its attributes:
//!
//! | field | value |
//! |---|---|
//! | `component` | `"river"` |
//! | `river.method.kind` | `rpc`, `upload`, `stream` or `subscription` |
//! | `river.method.service`, `river.method.name` | the service and procedure |
//! | `river.streamId` | the stream id |
//! | `span.kind`, `otel.kind` | `client` or `server` |
//! | `river.error_code`, `river.error_message` | set when the call fails (a service error, a cancel, a protocol error); `otel.status_code` is then `ERROR` and `otel.status_description` the message |
//!
//! The server span is a handler's current span ([`Context::span`](crate::server::Context::span)), so its own events and spans nest under
//! it. A client span's parent is the span current where the call was made.
//!
//! # Lifecycle events
//!
//! At `INFO` (`DEBUG` for the frequent ones), target `river_runtime::telemetry`, each
//! with `client_id` and `session_id` fields: `session started`, `handshake accepted`
//! (`reconnect` says whether an existing session was resumed), `handshake rejected`
//! (with the `reason`), `connection lost`, `reconnecting`,
//! `session grace period expired` and `session ended`. The `side` field is `client` or
//! `server`.
//!
//! # Trace context
//!
//! Stream-open frames carry `tracing: {traceparent, tracestate}`, as the reference's
//! do. Without the `opentelemetry` feature both are empty strings (what the reference
//! sends without OpenTelemetry), and a received `traceparent` reaches handlers through
//! [`Context::traceparent`](crate::server::Context::traceparent). With it, the client
//! writes the W3C trace context of its call span (through `tracing-opentelemetry`),
//! and the server makes the received context the parent of its span, so one trace runs
//! from the caller through the handler.
//!
//! # Metrics
//!
//! With the `metrics` feature, through the [`metrics`](https://docs.rs/metrics) facade
//! (install any recorder: Prometheus, OpenTelemetry, …). Every series has a `side`
//! label (`client` or `server`):
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `river_calls_started_total` | counter | `service`, `procedure`, `kind` |
//! | `river_calls_finished_total` | counter | `service`, `procedure`, `kind`, `outcome` (`ok`, `service_error`, `protocol_error`, `cancelled`) |
//! | `river_call_duration_seconds` | histogram | as `river_calls_finished_total` |
//! | `river_sessions_open` | gauge | |
//! | `river_streams_open` | gauge | |
//! | `river_reconnects_total` | counter | |
//! | `river_frames_total`, `river_bytes_total` | counter | `direction` (`in`, `out`) |

mod call;
mod events;
mod labels;
mod metrics;
mod propagation;

pub(crate) use call::CallTelemetry;
pub(crate) use events::*;
pub(crate) use labels::{Outcome, Side};
pub(crate) use metrics::Wire;
pub(crate) use propagation::{inject, Received};
