//! A server with one procedure of each kind (and a failing one) for the telemetry tests,
//! and a client that calls each of them once.

#![allow(dead_code)]

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use river_runtime::{
    AnyServiceError, Client, Codec, Failure, Requests, Responses, Router, Server, ServerHandle,
};

pub type E = AnyServiceError;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Num {
    pub n: i64,
}

/// What a handler reports about its call's trace context.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Seen {
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

/// Service `obs`: `add` (rpc), `fail` (rpc returning `TOO_BIG`), `sum` (upload), `echo`
/// (stream), `count` (subscription), `trace` (rpc reporting `Context::traceparent`).
pub fn router() -> Router {
    let mut r = Router::new();
    r.rpc("obs", "add", |_ctx, init: Num| async move {
        tracing::info!(n = init.n, "inside add");
        Ok::<_, Failure<E>>(Num { n: init.n + 1 })
    });
    r.rpc("obs", "fail", |_ctx, init: Num| async move {
        Err::<Num, _>(Failure::Service(AnyServiceError {
            code: "TOO_BIG".into(),
            message: format!("{} is too big", init.n),
            extras: None,
        }))
    });
    r.upload(
        "obs",
        "sum",
        |_ctx, init: Num, mut reqs: Requests<Num>| async move {
            let mut total = init.n;
            while let Some(Ok(item)) = reqs.next().await {
                total += item.n;
            }
            Ok::<_, Failure<E>>(Num { n: total })
        },
    );
    r.stream(
        "obs",
        "echo",
        |_ctx, _init: Num, mut reqs: Requests<Num>, resps: Responses<Num, E>| async move {
            while let Some(Ok(item)) = reqs.next().await {
                resps.ok(item).await.map_err(Failure::uncaught)?;
            }
            Ok::<(), Failure<E>>(())
        },
    );
    r.subscription(
        "obs",
        "count",
        |_ctx, init: Num, resps: Responses<Num, E>| async move {
            for n in 0..init.n {
                resps.ok(Num { n }).await.map_err(Failure::uncaught)?;
            }
            Ok::<(), Failure<E>>(())
        },
    );
    r.rpc("obs", "trace", |ctx, _init: Num| async move {
        Ok::<_, Failure<E>>(Seen {
            traceparent: ctx.traceparent().map(str::to_string),
            tracestate: ctx.tracestate().map(str::to_string),
        })
    });
    r
}

pub async fn start(codec: Codec) -> (ServerHandle, Client) {
    let server = Server::builder()
        .codec(codec)
        .bind("127.0.0.1:0", router())
        .await
        .expect("bind a loopback port");
    let client = Client::builder(format!("ws://{}", server.local_addr()))
        .codec(codec)
        .build();
    (server, client)
}

/// Calls each procedure once (and `fail`), checking the answers.
pub async fn call_every_kind(client: &Client) {
    let r: Num = client
        .rpc::<_, _, E>("obs", "add", &Num { n: 1 })
        .await
        .expect("add");
    assert_eq!(r, Num { n: 2 });

    let (mut w, resp) = client.upload::<_, Num, Num, E>("obs", "sum", &Num { n: 1 });
    w.send(Num { n: 2 }).await.expect("send");
    w.send(Num { n: 3 }).await.expect("send");
    w.close().await;
    assert_eq!(resp.await.expect("sum"), Num { n: 6 });

    let (mut w, mut rd) = client.stream::<_, Num, Num, E>("obs", "echo", &Num { n: 0 });
    w.send(Num { n: 7 }).await.expect("send");
    assert_eq!(rd.next().await.expect("an item").expect("ok"), Num { n: 7 });
    w.close().await;
    assert!(rd.next().await.is_none(), "the stream ends after the close");

    let mut rd = client.subscribe::<_, Num, E>("obs", "count", &Num { n: 2 });
    assert_eq!(rd.next().await.expect("an item").expect("ok"), Num { n: 0 });
    assert_eq!(rd.next().await.expect("an item").expect("ok"), Num { n: 1 });
    assert!(rd.next().await.is_none(), "the subscription ends");

    let err = client
        .rpc::<_, Num, E>("obs", "fail", &Num { n: 9 })
        .await
        .expect_err("fail fails");
    assert_eq!(err.to_string(), "TOO_BIG: 9 is too big");
}

pub mod capture {
    //! A `tracing` layer that records every span (name, fields, parent, whether it
    //! closed) and every event (fields, current span), for assertions.

    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Subscriber};
    use tracing_subscriber::layer::Context;
    use tracing_subscriber::registry::LookupSpan;
    use tracing_subscriber::Layer;

    #[derive(Clone, Debug, Default)]
    pub struct SpanRec {
        pub id: u64,
        pub name: String,
        pub fields: HashMap<String, String>,
        pub parent: Option<u64>,
        pub closed: bool,
    }

    #[derive(Clone, Debug, Default)]
    pub struct EventRec {
        pub target: String,
        pub fields: HashMap<String, String>,
        pub span: Option<u64>,
    }

    impl EventRec {
        pub fn message(&self) -> &str {
            self.fields.get("message").map(String::as_str).unwrap_or("")
        }
        pub fn field(&self, name: &str) -> &str {
            self.fields.get(name).map(String::as_str).unwrap_or("")
        }
    }

    #[derive(Default)]
    struct State {
        spans: Vec<SpanRec>,
        events: Vec<EventRec>,
    }

    /// The recorded spans and events (cheap to clone; shared with the layer).
    #[derive(Clone, Default)]
    pub struct Captured(Arc<Mutex<State>>);

    impl Captured {
        pub fn spans(&self) -> Vec<SpanRec> {
            self.0.lock().unwrap().spans.clone()
        }
        pub fn events(&self) -> Vec<EventRec> {
            self.0.lock().unwrap().events.clone()
        }
        /// The `river.client`/`river.server` span whose `otel.name` is `otel_name`.
        pub fn span(&self, otel_name: &str) -> SpanRec {
            let spans = self.spans();
            let found: Vec<SpanRec> = spans
                .into_iter()
                .filter(|s| s.fields.get("otel.name").map(String::as_str) == Some(otel_name))
                .collect();
            assert_eq!(
                found.len(),
                1,
                "one span named {otel_name}: {:#?}",
                self.spans()
            );
            found.into_iter().next().unwrap()
        }
    }

    struct Fields<'a>(&'a mut HashMap<String, String>);

    impl Visit for Fields<'_> {
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_string(), value.to_string());
        }
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0
                .insert(field.name().to_string(), format!("{value:?}"));
        }
    }

    /// A layer that records into `captured`.
    pub struct CaptureLayer(pub Captured);

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CaptureLayer {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
            let mut rec = SpanRec {
                id: id.into_u64(),
                name: attrs.metadata().name().to_string(),
                ..SpanRec::default()
            };
            attrs.record(&mut Fields(&mut rec.fields));
            rec.parent = ctx
                .span(id)
                .and_then(|s| s.parent().map(|p| p.id().into_u64()));
            self.0 .0.lock().unwrap().spans.push(rec);
        }

        fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
            let mut state = self.0 .0.lock().unwrap();
            if let Some(rec) = state.spans.iter_mut().rev().find(|s| s.id == id.into_u64()) {
                values.record(&mut Fields(&mut rec.fields));
            }
        }

        fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
            let mut rec = EventRec {
                target: event.metadata().target().to_string(),
                ..EventRec::default()
            };
            event.record(&mut Fields(&mut rec.fields));
            rec.span = ctx.event_span(event).map(|s| s.id().into_u64());
            self.0 .0.lock().unwrap().events.push(rec);
        }

        fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
            let mut state = self.0 .0.lock().unwrap();
            if let Some(rec) = state.spans.iter_mut().rev().find(|s| s.id == id.into_u64()) {
                rec.closed = true;
            }
        }
    }
}

pub mod raw {
    //! A raw WebSocket peer that plays a River server far enough to see a client's
    //! stream-open frame as bytes.

    use bytes::Bytes;
    use futures::{SinkExt, StreamExt};
    use river_runtime::message::{
        ControlFlags, HandshakeRequest, HandshakeResponse, HandshakeResponseTag, HandshakeStatus,
        TransportMessage,
    };
    use river_runtime::Codec;
    use tokio_tungstenite::tungstenite::Message;

    /// Accepts one connection on `listener`, answers its handshake and returns the first
    /// frame after it, undecoded.
    pub async fn first_frame_after_handshake(
        listener: tokio::net::TcpListener,
        codec: Codec,
    ) -> Bytes {
        let (tcp, _) = listener.accept().await.expect("accept");
        let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("upgrade");
        let hs = next_binary(&mut ws).await;
        let req = codec.decode_message(hs).expect("a handshake frame");
        let body: HandshakeRequest = codec.decode(&req.payload).expect("a handshake request");
        let payload = codec
            .encode(&HandshakeResponse {
                kind: HandshakeResponseTag::HandshakeResp,
                status: HandshakeStatus::Ok {
                    ok: river_runtime::message::True,
                    session_id: body.session_id.clone(),
                },
            })
            .expect("encode");
        let resp = TransportMessage {
            id: "handshake-1".into(),
            from: "SERVER".into(),
            to: req.from.clone(),
            seq: 0,
            ack: 0,
            service_name: None,
            procedure_name: None,
            stream_id: "hs".into(),
            control_flags: ControlFlags::NONE,
            tracing: None,
            payload,
        };
        let frame = codec.encode_message(&resp).expect("encode");
        ws.send(Message::Binary(frame.into())).await.expect("send");
        next_binary(&mut ws).await
    }

    async fn next_binary(
        ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    ) -> Bytes {
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) => return b,
                Some(Ok(_)) => continue,
                other => panic!("the client went away: {other:?}"),
            }
        }
    }
}

pub mod peer {
    //! A raw client: handshake, then rpc calls whose stream-open frames carry a chosen
    //! `tracing` field.

    use std::time::Duration;

    use futures::{SinkExt, StreamExt};
    use river_runtime::message::{ControlFlags, Tracing, TransportMessage};
    use river_runtime::Codec;
    use serde::de::DeserializeOwned;
    use tokio_tungstenite::tungstenite::Message;

    pub struct Peer {
        ws: tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        codec: Codec,
        client: String,
        seq: u64,
        ack: u64,
    }

    impl Peer {
        /// Connects and completes a handshake for a new session.
        pub async fn handshake(addr: std::net::SocketAddr, codec: Codec, client: &str) -> Peer {
            let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}"))
                .await
                .expect("connect");
            let mut peer = Peer {
                ws,
                codec,
                client: client.to_string(),
                seq: 0,
                ack: 0,
            };
            let payload = codec
                .encode(&serde_json::json!({
                    "type": "HANDSHAKE_REQ",
                    "protocolVersion": "v2.0",
                    "sessionId": format!("session-{client}"),
                    "expectedSessionState": {"nextExpectedSeq": 0, "nextSentSeq": 0},
                }))
                .expect("encode");
            peer.send(peer.frame(
                "hs",
                ControlFlags::NONE,
                None,
                Some(Tracing::default()),
                payload,
            ))
            .await;
            let resp = peer.recv().await;
            let v: serde_json::Value = codec.decode(&resp.payload).expect("a handshake response");
            assert_eq!(v["status"]["ok"], true, "{v}");
            peer
        }

        fn frame(
            &self,
            stream: &str,
            flags: ControlFlags,
            names: Option<(&str, &str)>,
            tracing: Option<Tracing>,
            payload: river_runtime::message::Payload,
        ) -> TransportMessage {
            TransportMessage {
                id: river_runtime::ids::generate_id(),
                from: self.client.clone(),
                to: "SERVER".into(),
                seq: 0,
                ack: 0,
                service_name: names.map(|n| n.0.to_string()),
                procedure_name: names.map(|n| n.1.to_string()),
                stream_id: stream.to_string(),
                control_flags: flags,
                tracing,
                payload,
            }
        }

        async fn send(&mut self, mut msg: TransportMessage) {
            if msg.stream_id != "hs" {
                msg.seq = self.seq;
                msg.ack = self.ack;
                self.seq += 1;
            }
            let bytes = self.codec.encode_message(&msg).expect("encode");
            self.ws
                .send(Message::Binary(bytes.into()))
                .await
                .expect("send");
        }

        async fn recv(&mut self) -> TransportMessage {
            loop {
                let next = tokio::time::timeout(Duration::from_secs(5), self.ws.next())
                    .await
                    .expect("a frame within 5 s");
                match next {
                    Some(Ok(Message::Binary(b))) => {
                        let msg = self.codec.decode_message(b).expect("a frame");
                        if msg.stream_id != "hs" && !msg.control_flags.is_ack() {
                            self.ack = msg.seq + 1;
                        }
                        if msg.control_flags.is_ack() {
                            continue;
                        }
                        return msg;
                    }
                    Some(Ok(_)) => continue,
                    other => panic!("the server went away: {other:?}"),
                }
            }
        }

        /// Calls `obs.<procedure>` with `{n: 0}` and the given `tracing` field; returns
        /// the `Ok` payload.
        pub async fn rpc<T: DeserializeOwned>(
            &mut self,
            procedure: &str,
            tracing: Option<Tracing>,
        ) -> T {
            let stream = river_runtime::ids::generate_id();
            let payload = self
                .codec
                .encode(&serde_json::json!({"n": 0}))
                .expect("encode");
            let open = self.frame(
                &stream,
                ControlFlags::OPEN | ControlFlags::CLOSED,
                Some(("obs", procedure)),
                tracing,
                payload,
            );
            self.send(open).await;
            loop {
                let msg = self.recv().await;
                if msg.stream_id != stream {
                    continue;
                }
                let v: serde_json::Value = self.codec.decode(&msg.payload).expect("a result");
                assert_eq!(v["ok"], true, "{v}");
                return serde_json::from_value(v["payload"].clone()).expect("the Ok payload");
            }
        }
    }
}
