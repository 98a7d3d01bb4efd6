//! `tracing` spans and lifecycle events over a real socket, with default features: one
//! span per call on each side, named and attributed as the reference names its
//! OpenTelemetry spans; error fields on failures; session and connection events with
//! their ids; a received `traceparent` reaches the handler; stream-open frames carry the
//! reference's empty trace context when OpenTelemetry is not in use.

mod telemetry_support;

use std::time::Duration;

use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

use river_runtime::message::Tracing;
use river_runtime::{Client, Codec, Server};
use telemetry_support::capture::{CaptureLayer, Captured};
use telemetry_support::{call_every_kind, raw, router, Num, Seen, E};

fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::registry().with(CaptureLayer(captured.clone()));
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}

const CALLS: [(&str, &str); 5] = [
    ("rpc", "add"),
    ("upload", "sum"),
    ("stream", "echo"),
    ("subscription", "count"),
    ("rpc", "fail"),
];

// One thread: the server, the client's driver and the test share the thread-local
// subscriber.
#[tokio::test(flavor = "current_thread")]
async fn every_call_has_a_span_on_each_side_named_as_the_reference_names_them() {
    let (captured, _guard) = capture();
    let (server, client) = telemetry_support::start(Codec::Msgpack).await;
    call_every_kind(&client)
        .instrument(tracing::info_span!("caller"))
        .await;
    // The server side finishes its bookkeeping after the client saw the result.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let caller = captured
        .spans()
        .into_iter()
        .find(|s| s.name == "caller")
        .expect("the caller span");

    for (kind, proc_) in CALLS {
        let c = captured.span(&format!("river.client.obs.{proc_}"));
        let s = captured.span(&format!("river.server.obs.{proc_}"));
        assert_eq!(c.name, "river.client");
        assert_eq!(s.name, "river.server");
        for (span, side) in [(&c, "client"), (&s, "server")] {
            let f = &span.fields;
            assert_eq!(f["component"], "river", "{span:#?}");
            assert_eq!(f["river.method.kind"], kind, "{span:#?}");
            assert_eq!(f["river.method.service"], "obs", "{span:#?}");
            assert_eq!(f["river.method.name"], proc_, "{span:#?}");
            assert_eq!(f["span.kind"], side, "{span:#?}");
            assert_eq!(f["otel.kind"], side, "{span:#?}");
            assert!(span.closed, "the {side} span of {proc_} outlived its call");
        }
        assert_eq!(
            c.fields["river.streamId"], s.fields["river.streamId"],
            "both sides name the same stream"
        );
        // The client span is a child of the span the call was made in; the server span
        // has no contextual parent (its parent comes from the wire, with OpenTelemetry).
        assert_eq!(c.parent, Some(caller.id));
        assert_eq!(s.parent, None);
        if proc_ == "fail" {
            for span in [&c, &s] {
                assert_eq!(span.fields["river.error_code"], "TOO_BIG", "{span:#?}");
                assert_eq!(span.fields["river.error_message"], "9 is too big");
                assert_eq!(span.fields["otel.status_code"], "ERROR");
                assert_eq!(span.fields["otel.status_description"], "9 is too big");
            }
        } else {
            for span in [&c, &s] {
                assert!(!span.fields.contains_key("river.error_code"), "{span:#?}");
            }
        }
    }

    // A handler runs inside its server span.
    let add = captured.span("river.server.obs.add");
    let inside = captured
        .events()
        .into_iter()
        .find(|e| e.message() == "inside add")
        .expect("the handler's event");
    assert_eq!(inside.span, Some(add.id));
    server.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_cancel_and_an_invalid_request_are_recorded_on_the_server_span() {
    let (captured, _guard) = capture();
    let (server, client) = telemetry_support::start(Codec::Json).await;
    // An init that does not decode: the server cancels with INVALID_REQUEST.
    let err = client
        .rpc::<_, Num, E>("obs", "add", &serde_json::json!({"n": "one"}))
        .await
        .expect_err("a bad init");
    assert!(err.is_invalid_request(), "{err:?}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    for side in ["client", "server"] {
        let span = captured.span(&format!("river.{side}.obs.add"));
        assert_eq!(
            span.fields["river.error_code"], "INVALID_REQUEST",
            "{span:#?}"
        );
        assert_eq!(span.fields["otel.status_code"], "ERROR");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn sessions_and_connections_emit_lifecycle_events_with_their_ids() {
    let (captured, _guard) = capture();
    let mut options = river_runtime::ServerOptions::default();
    // Long enough for the client's backoff (150 ms plus jitter) on a loaded machine.
    options.session.session_disconnect_grace = Duration::from_millis(1500);
    let server = Server::builder()
        .codec(Codec::Json)
        .options(options)
        .bind("127.0.0.1:0", router())
        .await
        .expect("bind");
    let proxy = fault_proxy::FaultProxy::start(server.local_addr())
        .await
        .expect("proxy");
    let client = Client::builder(format!("ws://{}", proxy.addr()))
        .codec(Codec::Json)
        .build();
    let _: Num = client
        .rpc::<_, _, E>("obs", "add", &Num { n: 1 })
        .await
        .expect("add");
    let session_id = client.session_id().expect("a session");
    // Cut the connection: both sides lose it, the client reconnects transparently.
    proxy.cut();
    let _: Num = client
        .rpc::<_, _, E>("obs", "add", &Num { n: 2 })
        .await
        .expect("add after the cut");
    client.close().await;
    // The server ends the session when its grace period passes.
    tokio::time::sleep(Duration::from_millis(2000)).await;

    let events: Vec<_> = captured
        .events()
        .into_iter()
        .filter(|e| e.target == "river_runtime::telemetry")
        .collect();
    let seen = |side: &str, message: &str, extra: Option<(&str, &str)>| {
        events.iter().any(|e| {
            e.message() == message
                && e.field("side") == side
                && e.field("client_id") == client.client_id()
                && e.field("session_id") == session_id
                && extra.is_none_or(|(k, v)| e.field(k) == v)
        })
    };
    for side in ["client", "server"] {
        assert!(seen(side, "session started", None), "{side}: {events:#?}");
        assert!(
            seen(side, "handshake accepted", Some(("reconnect", "false"))),
            "{side}"
        );
        assert!(seen(side, "connection lost", None), "{side}: {events:#?}");
        assert!(
            seen(side, "handshake accepted", Some(("reconnect", "true"))),
            "{side}"
        );
        assert!(seen(side, "session ended", None), "{side}: {events:#?}");
    }
    assert!(seen("client", "reconnecting", None), "{events:#?}");
    assert!(
        seen("server", "session grace period expired", None),
        "{events:#?}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_rejected_handshake_is_an_event() {
    let (captured, _guard) = capture();
    let server = Server::builder()
        .codec(Codec::Json)
        .handshake(river_runtime::HandshakeValidator::new(
            |_meta: serde_json::Value, _prev: Option<&()>, _from: &str| {
                Err::<(), _>(river_runtime::HandshakeRejection::RejectedByCustomHandler)
            },
        ))
        .bind("127.0.0.1:0", router())
        .await
        .expect("bind");
    let client = Client::builder(format!("ws://{}", server.local_addr()))
        .codec(Codec::Json)
        .handshake_metadata(|| serde_json::json!({}))
        .build();
    let err = client.connect().await.expect_err("rejected");
    assert!(!err.to_string().is_empty());
    let events = captured.events();
    for side in ["client", "server"] {
        assert!(
            events.iter().any(|e| e.message() == "handshake rejected"
                && e.field("side") == side
                && e.field("client_id") == client.client_id()
                && !e.field("reason").is_empty()),
            "{side}: {events:#?}"
        );
    }
    server.shutdown().await;
}

// Every test here installs the capturing subscriber: a test without one could make
// tracing cache "never interested" for a callsite while another test's subscriber waits.
#[tokio::test(flavor = "current_thread")]
async fn a_received_traceparent_reaches_the_handler() {
    let (_captured, _guard) = capture();
    use telemetry_support::peer::Peer;
    let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    for codec in [Codec::Json, Codec::Msgpack] {
        let (server, _client) = telemetry_support::start(codec).await;
        let mut peer = Peer::handshake(server.local_addr(), codec, "peer").await;
        let seen: Seen = peer
            .rpc(
                "trace",
                Some(Tracing {
                    traceparent: tp.into(),
                    tracestate: "rojo=00f067aa0ba902b7".into(),
                }),
            )
            .await;
        assert_eq!(seen.traceparent.as_deref(), Some(tp));
        assert_eq!(seen.tracestate.as_deref(), Some("rojo=00f067aa0ba902b7"));
        // The reference client without OpenTelemetry sends empty strings: no context.
        let seen: Seen = peer.rpc("trace", Some(Tracing::default())).await;
        assert_eq!(
            seen,
            Seen {
                traceparent: None,
                tracestate: None
            }
        );
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn stream_open_frames_carry_the_references_empty_trace_context_without_opentelemetry() {
    let (_captured, _guard) = capture();
    for codec in [Codec::Json, Codec::Msgpack] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let client = Client::builder(format!("ws://{}", listener.local_addr().expect("addr")))
            .codec(codec)
            .build();
        let capture = tokio::spawn(raw::first_frame_after_handshake(listener, codec));
        let call = client.rpc::<_, Num, E>("obs", "add", &Num { n: 1 });
        let pending = tokio::spawn(call);
        let frame = capture.await.expect("the capture task");
        pending.abort();
        let msg = codec.decode_message(frame.clone()).expect("a frame");
        assert!(msg.control_flags.is_open());
        assert_eq!(msg.tracing, Some(Tracing::default()));
        if codec == Codec::Json {
            let text = String::from_utf8(frame.to_vec()).expect("JSON text");
            assert!(
                text.contains(r#""tracing":{"traceparent":"","tracestate":""}"#),
                "{text}"
            );
        }
    }
}
