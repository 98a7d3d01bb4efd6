//! W3C trace context through a real socket with the `opentelemetry` feature and a real
//! OpenTelemetry SDK (in-memory exporter): the client's call span is the parent of the
//! server's for every kind; failures carry the error attributes; stream-open frames
//! carry `tracing: {traceparent, tracestate}` in the reference's format; a server given
//! a reference-format `traceparent` continues that trace.
#![cfg(feature = "opentelemetry")]

mod telemetry_support;

use std::time::Duration;

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

use river_runtime::message::Tracing;
use river_runtime::{Client, Codec};
use telemetry_support::peer::Peer;
use telemetry_support::{call_every_kind, raw, Num, E};

struct Otel {
    exporter: InMemorySpanExporter,
    provider: SdkTracerProvider,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Otel {
    /// An SDK with an in-memory exporter behind `tracing-opentelemetry`, as this
    /// thread's subscriber (the tests run on one thread, server included).
    fn install() -> Otel {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
        let subscriber = tracing_subscriber::registry().with(layer);
        let guard = tracing::subscriber::set_default(subscriber);
        Otel {
            exporter,
            provider,
            _guard: guard,
        }
    }

    fn spans(&self) -> Vec<SpanData> {
        let _ = self.provider.force_flush();
        self.exporter.get_finished_spans().expect("finished spans")
    }

    fn span(&self, name: &str) -> SpanData {
        let found: Vec<SpanData> = self
            .spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect();
        assert_eq!(found.len(), 1, "one span named {name}");
        found.into_iter().next().unwrap()
    }
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn attr_str(span: &SpanData, key: &str) -> String {
    attr(span, key)
        .map(|v| v.as_str().into_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "current_thread")]
async fn the_client_span_is_the_parent_of_the_server_span_for_every_kind() {
    for codec in [Codec::Json, Codec::Msgpack] {
        let otel = Otel::install();
        let (server, client) = telemetry_support::start(codec).await;
        call_every_kind(&client)
            .instrument(tracing::info_span!("caller"))
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let caller = otel.span("caller");
        for (kind, proc_) in [
            ("rpc", "add"),
            ("upload", "sum"),
            ("stream", "echo"),
            ("subscription", "count"),
            ("rpc", "fail"),
        ] {
            let c = otel.span(&format!("river.client.obs.{proc_}"));
            let s = otel.span(&format!("river.server.obs.{proc_}"));
            assert_eq!(c.span_kind, SpanKind::Client);
            assert_eq!(s.span_kind, SpanKind::Server);
            let trace = caller.span_context.trace_id();
            assert_eq!(c.span_context.trace_id(), trace, "{proc_}: one trace");
            assert_eq!(s.span_context.trace_id(), trace, "{proc_}: one trace");
            assert_eq!(c.parent_span_id, caller.span_context.span_id());
            assert_eq!(
                s.parent_span_id,
                c.span_context.span_id(),
                "{proc_}: parent"
            );
            assert!(
                s.parent_span_is_remote,
                "the server's parent came over the wire"
            );
            for span in [&c, &s] {
                assert_eq!(attr_str(span, "component"), "river");
                assert_eq!(attr_str(span, "river.method.kind"), kind);
                assert_eq!(attr_str(span, "river.method.service"), "obs");
                assert_eq!(attr_str(span, "river.method.name"), proc_);
                assert!(!attr_str(span, "river.streamId").is_empty());
            }
            if proc_ == "fail" {
                for span in [&c, &s] {
                    assert_eq!(attr_str(span, "river.error_code"), "TOO_BIG");
                    assert_eq!(attr_str(span, "river.error_message"), "9 is too big");
                    assert_eq!(span.status, Status::error("9 is too big"));
                }
            } else {
                for span in [&c, &s] {
                    assert!(attr(span, "river.error_code").is_none(), "{proc_}");
                    assert_ne!(span.status, Status::error(""), "{proc_}");
                }
            }
        }
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn stream_open_frames_carry_the_call_spans_trace_context_in_the_references_format() {
    let otel = Otel::install();
    for codec in [Codec::Json, Codec::Msgpack] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let client = Client::builder(format!("ws://{}", listener.local_addr().expect("addr")))
            .codec(codec)
            .build();
        let capture = tokio::spawn(raw::first_frame_after_handshake(listener, codec));
        let call = tokio::spawn(
            client
                .rpc::<_, Num, E>("obs", "add", &Num { n: 1 })
                .instrument(tracing::info_span!("caller")),
        );
        let frame = capture.await.expect("the capture task");
        call.abort();
        let _ = call.await;
        let msg = codec.decode_message(frame.clone()).expect("a frame");
        let tracing = msg.tracing.expect("a tracing field");
        let parts: Vec<&str> = tracing.traceparent.split('-').collect();
        assert_eq!(parts.len(), 4, "{}", tracing.traceparent);
        assert_eq!(parts[0], "00");
        assert!(
            parts[1].len() == 32
                && parts[1]
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(
            parts[2].len() == 16
                && parts[2]
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_eq!(parts[3], "01", "sampled");
        assert_eq!(tracing.tracestate, "");
        // It names the client's call span.
        let spans = otel.spans();
        let c = spans
            .iter()
            .rev()
            .find(|s| s.name == "river.client.obs.add")
            .expect("the client span ended with its call");
        assert_eq!(parts[1], c.span_context.trace_id().to_string());
        assert_eq!(parts[2], c.span_context.span_id().to_string());
        if codec == Codec::Json {
            let text = String::from_utf8(frame.to_vec()).expect("JSON text");
            assert!(
                text.contains(&format!(
                    r#""tracing":{{"traceparent":"{}","tracestate":""}}"#,
                    tracing.traceparent
                )),
                "{text}"
            );
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_server_given_a_reference_traceparent_continues_that_trace() {
    let otel = Otel::install();
    let (server, _client) = telemetry_support::start(Codec::Json).await;
    let mut peer = Peer::handshake(server.local_addr(), Codec::Json, "ts-client").await;
    // What the reference's client sends with W3CTraceContextPropagator.
    let _: Num = peer
        .rpc(
            "add",
            Some(Tracing {
                traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
                tracestate: "rojo=00f067aa0ba902b7".into(),
            }),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let s = otel.span("river.server.obs.add");
    assert_eq!(
        s.span_context.trace_id(),
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").expect("hex")
    );
    assert_eq!(
        s.parent_span_id,
        SpanId::from_hex("00f067aa0ba902b7").expect("hex")
    );
    assert!(s.parent_span_is_remote);
    assert!(s.span_context.is_sampled());
    assert_eq!(
        s.span_context.trace_state().header(),
        "rojo=00f067aa0ba902b7"
    );

    // Without OpenTelemetry the reference sends empty strings; a malformed traceparent
    // is ignored the same way: the server span starts a trace of its own.
    for tp in ["", "00-zz-00f067aa0ba902b7-01"] {
        let _: Num = peer
            .rpc(
                "add",
                Some(Tracing {
                    traceparent: tp.into(),
                    tracestate: String::new(),
                }),
            )
            .await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let roots: Vec<SpanData> = otel
        .spans()
        .into_iter()
        .filter(|s| s.name == "river.server.obs.add" && s.parent_span_id == SpanId::INVALID)
        .collect();
    assert_eq!(roots.len(), 2, "two new traces");
    server.shutdown().await;
}
