//! Replays the reference server's side of each conformance transcript against the Rust
//! client and checks that the client puts the same frames on the wire as the reference
//! client did (see `client_support`).

mod client_support;
mod shared_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use client_support::*;
use river_runtime::options::ClientOptions;
use river_runtime::{AnyServiceError, Client, Codec, ProtocolErrorCode, RiverError, Value};

type R = Result<Value, RiverError<AnyServiceError>>;

struct Ctx {
    codec: Codec,
    client: Client,
    calls: Vec<Call>,
    peer: Peer,
}

impl Ctx {
    /// The payload of server frame `k` on call `i` (ids rewritten).
    fn server(&self, i: usize, k: usize) -> Value {
        server_payload(self.codec, &self.peer.ids, &self.calls[i].server[k].1)
    }

    /// Checks a result item against the recorded server Result payload.
    fn check(&self, what: &str, got: &R, expected: &Value) {
        let ok = matches!(field(expected, "ok"), Some(Value::Bool(true)));
        let inner = field(expected, "payload").cloned().unwrap_or_default();
        match (got, ok) {
            (Ok(v), true) => assert_eq!(v, &inner, "{what}: ok payload"),
            (Err(RiverError::Service(e)), false) => {
                assert_eq!(Some(e.code.clone()), str_field(&inner, "code"), "{what}");
                assert_eq!(
                    Some(e.message.clone()),
                    str_field(&inner, "message"),
                    "{what}"
                );
                assert_eq!(e.extras.as_ref(), field(&inner, "extras"), "{what}: extras");
            }
            (Err(RiverError::Protocol(p)), false) => {
                assert_eq!(
                    Some(p.code.as_str().to_string()),
                    str_field(&inner, "code"),
                    "{what}"
                );
                assert_eq!(
                    Some(p.message.clone()),
                    str_field(&inner, "message"),
                    "{what}"
                );
            }
            _ => panic!("{what}: got {got:?}, expected {expected:?}"),
        }
    }
}

async fn setup(
    codec: Codec,
    family: &str,
    opts: PeerOptions,
    client_opts: ClientOptions,
) -> Option<Ctx> {
    let frames = load(codec, family)?;
    let client_id = frames[0].msg["from"].as_str().expect("from").to_string();
    let metadata = metadata_sequence(&frames);
    let calls = calls(codec, &frames);
    let peer = start_peer(codec, frames, opts).await;
    let mut b = Client::builder(peer.url.clone())
        .codec(codec)
        .client_id(client_id)
        .server_id("SERVER")
        .options(client_opts);
    if !metadata.is_empty() {
        let n = AtomicUsize::new(0);
        b = b.handshake_metadata(move || {
            let i = n.fetch_add(1, Ordering::SeqCst).min(metadata.len() - 1);
            metadata[i].clone()
        });
    }
    Some(Ctx {
        codec,
        client: b.build(),
        calls,
        peer,
    })
}

async fn finish(ctx: Ctx) {
    let Ctx { client, peer, .. } = ctx;
    let result = tokio::time::timeout(Duration::from_secs(10), peer.task)
        .await
        .expect("peer finished")
        .expect("peer task");
    if let Err(e) = result {
        panic!("wire mismatch: {e}");
    }
    drop(client);
}

/// Every open in the transcript is an rpc: call them in order and check each result.
async fn rpcs(ctx: &Ctx) {
    for (i, call) in ctx.calls.iter().enumerate() {
        let got: R = ctx
            .client
            .rpc(&call.service, &call.procedure, &call.init)
            .await;
        ctx.check(
            &format!("rpc #{i} {}.{}", call.service, call.procedure),
            &got,
            &ctx.server(i, 0),
        );
    }
}

async fn family(codec: Codec, name: &str) {
    family_with(
        codec,
        name,
        PeerOptions::default(),
        ClientOptions::default(),
    )
    .await
}

async fn family_with(codec: Codec, name: &str, opts: PeerOptions, client_opts: ClientOptions) {
    let Some(ctx) = setup(codec, name, opts, client_opts).await else {
        return;
    };
    match name {
        "handshake" => {
            ctx.client.connect().await.expect("connect");
            assert!(ctx.client.session_id().is_some());
        }
        "heartbeat" => {
            ctx.client.connect().await.expect("connect");
            // The peer sends three ACKs; the client echoes each exactly once.
            tokio::time::sleep(Duration::from_millis(400)).await;
            assert_eq!(ctx.client.stats().connections, 1);
        }
        "handshake_rejected" | "handshake_malformed_metadata" => {
            let err = ctx.client.connect().await.expect_err("rejected");
            assert!(err.is_handshake(), "{err:?}");
            let code = str_field(
                &server_payload(codec, &ctx.peer.ids, &load(codec, name).unwrap()[1].raw),
                "type",
            );
            assert_eq!(code.as_deref(), Some("HANDSHAKE_RESP"));
            assert!(err.handshake_code().is_some());
            assert!(ctx.client.session_id().is_none(), "session destroyed");
        }
        "rpc_ok" | "rpc_err" | "uncaught" | "invalid_request" | "unknown_procedure"
        | "rpc_bytes" | "rpc_bigint" | "rpc_all_kinds" | "rpc_date" | "handshake_metadata"
        | "rehandshake" => rpcs(&ctx).await,
        "stream_client_close" => {
            let c = &ctx.calls[0];
            let (mut w, mut r) = ctx.client.stream::<_, Value, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            for (k, d) in c.data.iter().enumerate() {
                w.send(d.clone()).await.expect("send");
                let got = r.next().await.expect("item");
                ctx.check("echo", &got, &ctx.server(0, k));
            }
            w.close().await;
            assert!(r.next().await.is_none(), "server CLOSE ends the reader");
        }
        "stream_with_init" => {
            let c = &ctx.calls[0];
            let (mut w, mut r) = ctx.client.stream::<_, Value, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            for d in &c.data {
                w.send(d.clone()).await.expect("send");
            }
            w.close().await;
            assert!(!w.is_open());
            let got = r.next().await.expect("item");
            ctx.check("echoWithPrefix", &got, &ctx.server(0, 0));
            assert!(r.next().await.is_none());
        }
        "stream_server_close" => {
            let c = &ctx.calls[0];
            let (mut w, mut r) = ctx.client.stream::<_, Value, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            let mut k = 0;
            while let Some(got) = r.next().await {
                ctx.check("item", &got, &ctx.server(0, k));
                k += 1;
            }
            assert_eq!(k, 2);
            // The request half stays open after the server closed its half.
            assert!(w.is_open());
            w.send(c.data[0].clone()).await.expect("late send");
            drop(r);
            drop(w); // closes the request half: CLOSE
        }
        "stream_service_err_midway" => {
            let c = &ctx.calls[0];
            let (mut w, mut r) = ctx.client.stream::<_, Value, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            for k in 0..3 {
                let got = r.next().await.expect("item");
                ctx.check("item", &got, &ctx.server(0, k));
            }
            w.close().await;
            assert!(r.next().await.is_none());
        }
        "stream_uncaught_midway" | "stream_server_cancel" | "stream_invalid_request_data" => {
            let c = &ctx.calls[0];
            let (mut w, mut r) = ctx.client.stream::<_, Value, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            for d in &c.data {
                w.send(d.clone()).await.expect("send");
            }
            let n = c.server.len();
            for k in 0..n {
                let got = r.next().await.expect("item");
                ctx.check("item", &got, &ctx.server(0, k));
            }
            assert!(r.next().await.is_none(), "a server cancel ends the reader");
            assert!(!w.is_open(), "a server cancel closes the writer");
            assert!(w.send(Value::Null).await.is_err());
            drop(w); // sends nothing
        }
        "upload" => {
            let c = &ctx.calls[0];
            let (mut w, resp) = ctx.client.upload::<_, Value, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            for d in &c.data {
                w.send(d.clone()).await.expect("send");
            }
            w.close().await;
            let got = resp.await;
            ctx.check("upload", &got, &ctx.server(0, 0));
        }
        "upload_err" => {
            let c = &ctx.calls[0];
            let (mut w, resp) = ctx.client.upload::<_, Value, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            for d in &c.data {
                w.send(d.clone()).await.expect("send");
            }
            let got = resp.await;
            ctx.check("upload", &got, &ctx.server(0, 0));
            // The server answered before our CLOSE; closing afterwards is still sent.
            w.close().await;
        }
        "subscription" => {
            let c = &ctx.calls[0];
            let mut r = ctx.client.subscribe::<_, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            let mut k = 0;
            while let Some(got) = r.next().await {
                ctx.check("tick", &got, &ctx.server(0, k));
                k += 1;
            }
            assert_eq!(k, 3);
        }
        "subscription_client_cancel" => {
            let c = &ctx.calls[0];
            let mut r = ctx.client.subscribe::<_, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            for k in 0..2 {
                let got = r.next().await.expect("item");
                ctx.check("watch", &got, &ctx.server(0, k));
            }
            r.cancel();
            let got = r.next().await.expect("local cancel");
            assert!(got.as_ref().err().is_some_and(|e| e.is_cancel()), "{got:?}");
            assert!(r.next().await.is_none());
        }
        "cancel_rpc" => {
            let c = &ctx.calls[0];
            let fut =
                ctx.client
                    .rpc::<_, Value, AnyServiceError>(&c.service, &c.procedure, &c.init);
            ctx.client.connect().await.expect("connect");
            tokio::time::sleep(Duration::from_millis(30)).await;
            drop(fut); // cancel on drop
        }
        "cancel_stream" => {
            let c = &ctx.calls[0];
            let (mut w, mut r) = ctx.client.stream::<_, Value, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            w.send(c.data[0].clone()).await.expect("send");
            ctx.client.connect().await.expect("connect");
            tokio::time::sleep(Duration::from_millis(30)).await;
            r.cancel();
            let got = r.next().await.expect("local cancel");
            let p = got.expect_err("cancelled");
            assert_eq!(
                p.protocol().map(|p| p.code),
                Some(ProtocolErrorCode::Cancel)
            );
            assert_eq!(
                p.protocol().map(|p| p.message.as_str()),
                Some("cancelled by client")
            );
            assert!(r.next().await.is_none());
            assert!(!w.is_open());
            assert!(w.send(Value::Null).await.is_err());
            // The server's CLOSE after our cancel is ignored.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        "cancel_upload" => {
            let c = &ctx.calls[0];
            let (mut w, mut resp) = ctx.client.upload::<_, Value, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            w.send(c.data[0].clone()).await.expect("send");
            ctx.client.connect().await.expect("connect");
            tokio::time::sleep(Duration::from_millis(30)).await;
            resp.cancel();
            let got = resp.await;
            assert!(got.as_ref().err().is_some_and(|e| e.is_cancel()), "{got:?}");
            assert!(!w.is_open());
            drop(w); // sends nothing after the cancel
        }
        "cancel_subscription" => {
            let c = &ctx.calls[0];
            let r = ctx.client.subscribe::<_, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            ctx.client.connect().await.expect("connect");
            tokio::time::sleep(Duration::from_millis(30)).await;
            drop(r); // cancel on drop
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        "reconnect_transparent" => {
            let c = &ctx.calls[0];
            let mut events = ctx.client.events();
            let (mut w, mut r) = ctx.client.stream::<_, Value, Value, AnyServiceError>(
                &c.service,
                &c.procedure,
                &c.init,
            );
            w.send(c.data[0].clone()).await.expect("send");
            let got = r.next().await.expect("item");
            ctx.check("before-cut", &got, &ctx.server(0, 0));
            let first = ctx.client.session_id();
            // The peer drops the connection; wait for the transparent reconnect.
            tokio::time::timeout(Duration::from_secs(3), async {
                loop {
                    if let Ok(river_runtime::client::ClientEvent::Connected {
                        reconnect: true,
                        ..
                    }) = events.recv().await
                    {
                        break;
                    }
                }
            })
            .await
            .expect("reconnected");
            assert_eq!(
                ctx.client.session_id(),
                first,
                "same session after reconnect"
            );
            assert_eq!(ctx.client.stats().reconnects, 1);
            w.send(c.data[1].clone()).await.expect("send");
            let got = r.next().await.expect("item");
            ctx.check("during-cut", &got, &ctx.server(0, 2));
            w.close().await;
            assert!(r.next().await.is_none());
        }
        other => panic!("no driver for family {other}"),
    }
    finish(ctx).await;
}

macro_rules! families {
    ($($name:ident),* $(,)?) => {
        mod json {
            $(
                #[tokio::test]
                async fn $name() {
                    super::family(river_runtime::Codec::Json, stringify!($name)).await;
                }
            )*
        }
        mod binary {
            $(
                #[tokio::test]
                async fn $name() {
                    super::family(river_runtime::Codec::Msgpack, stringify!($name)).await;
                }
            )*
        }
    };
}

families!(
    handshake,
    handshake_metadata,
    rpc_ok,
    rpc_err,
    uncaught,
    invalid_request,
    unknown_procedure,
    rpc_bytes,
    rpc_bigint,
    rpc_all_kinds,
    rpc_date,
    rehandshake,
    stream_client_close,
    stream_with_init,
    stream_server_close,
    stream_service_err_midway,
    stream_uncaught_midway,
    stream_server_cancel,
    stream_invalid_request_data,
    upload,
    upload_err,
    subscription,
    subscription_client_cancel,
    cancel_rpc,
    cancel_stream,
    cancel_upload,
    cancel_subscription,
    reconnect_transparent,
);

async fn rejected(codec: Codec, name: &str) {
    let opts = PeerOptions {
        expect_no_reconnect: true,
        ..PeerOptions::default()
    };
    family_with(codec, name, opts, ClientOptions::default()).await;
}

#[tokio::test]
async fn json_handshake_rejected() {
    rejected(Codec::Json, "handshake_rejected").await;
}
#[tokio::test]
async fn binary_handshake_rejected() {
    rejected(Codec::Msgpack, "handshake_rejected").await;
}
#[tokio::test]
async fn json_handshake_malformed_metadata() {
    rejected(Codec::Json, "handshake_malformed_metadata").await;
}
#[tokio::test]
async fn binary_handshake_malformed_metadata() {
    rejected(Codec::Msgpack, "handshake_malformed_metadata").await;
}

fn heartbeat_options() -> ClientOptions {
    let mut o = ClientOptions::default();
    o.session.heartbeat_interval = Duration::from_millis(100);
    o.session.heartbeats_until_dead = 6;
    o
}

async fn heartbeat(codec: Codec) {
    // Pace the server's ACKs at 1/20 of the recorded time (1000 ms → 50 ms).
    let opts = PeerOptions {
        time_scale: 0.05,
        ..PeerOptions::default()
    };
    family_with(codec, "heartbeat", opts, heartbeat_options()).await;
}

#[tokio::test]
async fn json_heartbeat() {
    heartbeat(Codec::Json).await;
}
#[tokio::test]
async fn binary_heartbeat() {
    heartbeat(Codec::Msgpack).await;
}
