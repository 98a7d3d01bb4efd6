//! Rust client against Rust server over loopback WebSocket, with both codecs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};

use fault_proxy::FaultProxy;
use river_runtime::server::HandshakeRejection;
use river_runtime::{
    AnyServiceError, Bytes, Client, Codec, Failure, HandshakeValidator, ProtocolErrorCode,
    RiverError, Router, Server, ServerHandle, Value,
};

const CODECS: [Codec; 2] = [Codec::Json, Codec::Msgpack];

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Num {
    n: i64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Key {
    key: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Msg {
    msg: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Blob {
    data: Bytes,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Empty {}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Token {
    token: String,
}

/// What handlers record, by key, so tests can observe cancellation server-side.
#[derive(Clone, Default)]
struct Records(Arc<Mutex<HashMap<String, Vec<String>>>>);

impl Records {
    fn push(&self, key: &str, event: impl Into<String>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key.to_string()).or_default().push(event.into());
    }
    fn get(&self, key: &str) -> Vec<String> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).cloned().unwrap_or_default()
    }
    async fn wait_for(&self, key: &str, event: &str) -> Vec<String> {
        for _ in 0..200 {
            let events = self.get(key);
            if events.iter().any(|e| e == event) {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{key}: never saw {event:?}; events: {:?}", self.get(key));
    }
}

fn service_error(code: &str, message: String, extras: serde_json::Value) -> AnyServiceError {
    AnyServiceError {
        code: code.to_string(),
        message,
        extras: Some(Value::from_serialize(&extras).expect("extras to Value")),
    }
}

fn router(records: Records) -> Router {
    let mut r = Router::new();
    let counter = Arc::new(AtomicI64::new(0));
    r.rpc("test", "add", move |_ctx, init: Num| {
        let counter = counter.clone();
        async move {
            let total = counter.fetch_add(init.n, Ordering::SeqCst) + init.n;
            Ok::<_, Failure<AnyServiceError>>(Num { n: total })
        }
    });
    r.rpc("test", "checkRange", |_ctx, init: Num| async move {
        if init.n < 0 {
            return Err(Failure::Service(service_error(
                "TOO_SMALL",
                format!("{} is below 0", init.n),
                serde_json::json!({"min": 0}),
            )));
        }
        if init.n > 100 {
            return Err(Failure::Service(service_error(
                "TOO_BIG",
                format!("{} is above 100", init.n),
                serde_json::json!({"max": 100, "got": init.n}),
            )));
        }
        Ok(init)
    });
    r.rpc("test", "throwError", |_ctx, init: Msg| async move {
        Err::<Empty, _>(Failure::<AnyServiceError>::Uncaught(init.msg))
    });
    r.rpc("test", "panics", |_ctx, _init: Empty| async move {
        if true {
            panic!("handler exploded");
        }
        Ok::<Empty, Failure<AnyServiceError>>(Empty {})
    });
    r.rpc("test", "echoBytes", |_ctx, init: Blob| async move {
        Ok::<_, Failure<AnyServiceError>>(init)
    });
    r.rpc("test", "echoString", |_ctx, init: Msg| async move {
        Ok::<_, Failure<AnyServiceError>>(init)
    });
    r.rpc("meta", "whoami", |ctx, _init: Empty| async move {
        let user = ctx
            .metadata::<String>()
            .map(|u| (*u).clone())
            .unwrap_or_default();
        Ok::<_, Failure<AnyServiceError>>(Msg { msg: user })
    });
    let rec = records.clone();
    r.rpc("cancel", "blockRpc", move |ctx, init: Key| {
        let rec = rec.clone();
        async move {
            rec.push(&init.key, "started");
            ctx.cancelled().await;
            rec.push(&init.key, "aborted");
            Ok::<Empty, Failure<AnyServiceError>>(Empty {})
        }
    });
    r.stream(
        "streams",
        "echo",
        |_ctx, _init: Empty, mut reqs, resps| async move {
            while let Some(item) = reqs.next().await {
                match item {
                    Ok(Msg { msg }) => {
                        if resps.ok(Msg { msg }).await.is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
            resps.close().await;
            Ok::<(), Failure<AnyServiceError>>(())
        },
    );
    let rec = records.clone();
    r.stream(
        "streams",
        "serverClosesFirst",
        move |_ctx, init: Key, mut reqs, resps| {
            let rec = rec.clone();
            async move {
                for i in 0..3 {
                    resps.ok(Num { n: i }).await.map_err(Failure::uncaught)?;
                }
                resps.close().await;
                rec.push(&init.key, "serverClosed");
                let mut count = 0;
                while let Some(Ok(Msg { .. })) = reqs.next().await {
                    count += 1;
                }
                rec.push(&init.key, format!("received:{count}"));
                Ok::<(), Failure<AnyServiceError>>(())
            }
        },
    );
    let rec = records.clone();
    r.stream(
        "cancel",
        "blockStream",
        move |ctx,
              init: Key,
              mut reqs,
              _resps: river_runtime::Responses<Empty, AnyServiceError>| {
            let rec = rec.clone();
            async move {
                rec.push(&init.key, "started");
                while let Some(item) = reqs.next().await {
                    match item {
                        Ok(Msg { msg }) => rec.push(&init.key, format!("msg:{msg}")),
                        Err(e) => {
                            rec.push(&init.key, format!("readErr:{}", e.code.as_str()));
                            break;
                        }
                    }
                }
                ctx.cancelled().await;
                rec.push(&init.key, "aborted");
                Ok::<(), Failure<AnyServiceError>>(())
            }
        },
    );
    r.upload(
        "uploads",
        "sum",
        |_ctx, _init: Empty, mut reqs| async move {
            let mut total = 0;
            while let Some(item) = reqs.next().await {
                match item {
                    Ok(Num { n }) => total += n,
                    Err(e) => return Err(Failure::uncaught(e)),
                }
            }
            Ok::<_, Failure<AnyServiceError>>(Num { n: total })
        },
    );
    let rec = records.clone();
    r.upload(
        "cancel",
        "blockUpload",
        move |ctx, init: Key, mut reqs: river_runtime::Requests<Msg>| {
            let rec = rec.clone();
            async move {
                rec.push(&init.key, "started");
                while let Some(item) = reqs.next().await {
                    match item {
                        Ok(Msg { msg }) => rec.push(&init.key, format!("msg:{msg}")),
                        Err(e) => {
                            rec.push(&init.key, format!("readErr:{}", e.code.as_str()));
                            break;
                        }
                    }
                }
                ctx.cancelled().await;
                rec.push(&init.key, "aborted");
                Ok::<Empty, Failure<AnyServiceError>>(Empty {})
            }
        },
    );
    r.subscription("subs", "ticker", |_ctx, init: Num, resps| async move {
        for i in 0..init.n {
            resps.ok(Num { n: i }).await.map_err(Failure::uncaught)?;
        }
        Ok::<(), Failure<AnyServiceError>>(())
    });
    let rec = records;
    r.subscription(
        "cancel",
        "blockSubscription",
        move |ctx, init: Key, _resps: river_runtime::Responses<Empty, AnyServiceError>| {
            let rec = rec.clone();
            async move {
                rec.push(&init.key, "started");
                ctx.cancelled().await;
                rec.push(&init.key, "aborted");
                Ok::<(), Failure<AnyServiceError>>(())
            }
        },
    );
    r
}

struct Fixture {
    server: ServerHandle,
    records: Records,
}

async fn start(codec: Codec, handshake: bool) -> Fixture {
    let records = Records::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let mut builder = Server::builder().codec(codec);
    if handshake {
        builder = builder.handshake(HandshakeValidator::new(
            |meta: Token, _prev: Option<&String>, _from: &str| match meta
                .token
                .strip_prefix("valid-")
            {
                Some(user) => Ok(user.to_string()),
                None if meta.token == "unsupported" => {
                    Err(HandshakeRejection::RejectedUnsupportedClient)
                }
                None => Err(HandshakeRejection::RejectedByCustomHandler),
            },
        ));
    }
    let server = builder.serve(listener, router(records.clone()));
    Fixture { server, records }
}

fn client(codec: Codec, addr: std::net::SocketAddr) -> Client {
    Client::builder(format!("ws://{addr}")).codec(codec).build()
}

type E = AnyServiceError;

#[tokio::test]
async fn all_four_kinds() {
    for codec in CODECS {
        let fx = start(codec, false).await;
        let c = client(codec, fx.server.local_addr());

        let out: Num = c
            .rpc::<_, _, E>("test", "add", &Num { n: 3 })
            .await
            .expect("rpc");
        assert_eq!(out, Num { n: 3 });
        let out: Num = c
            .rpc::<_, _, E>("test", "add", &Num { n: 4 })
            .await
            .expect("rpc");
        assert_eq!(out, Num { n: 7 }, "{codec:?}");

        let (mut w, mut r) = c.stream::<_, Msg, Msg, E>("streams", "echo", &Empty {});
        for m in ["a", "b", "c"] {
            w.send(Msg { msg: m.into() }).await.expect("send");
        }
        w.close().await;
        let got: Vec<String> = (&mut r).map(|i| i.expect("item").msg).collect().await;
        assert_eq!(got, ["a", "b", "c"]);

        let (mut w, resp) = c.upload::<_, Num, Num, E>("uploads", "sum", &Empty {});
        for n in 1..=10 {
            w.send(Num { n }).await.expect("send");
        }
        w.close().await;
        assert_eq!(resp.await.expect("upload"), Num { n: 55 });

        let r = c.subscribe::<_, Num, E>("subs", "ticker", &Num { n: 4 });
        let got: Vec<i64> = r.map(|i| i.expect("item").n).collect().await;
        assert_eq!(got, [0, 1, 2, 3]);
        fx.server.shutdown().await;
    }
}

#[tokio::test]
async fn errors_service_uncaught_invalid_unknown() {
    for codec in CODECS {
        let fx = start(codec, false).await;
        let c = client(codec, fx.server.local_addr());

        let err = c
            .rpc::<_, Num, E>("test", "checkRange", &Num { n: 500 })
            .await
            .expect_err("too big");
        let svc = err.service().expect("service error");
        assert_eq!(svc.code, "TOO_BIG");
        assert_eq!(svc.message, "500 is above 100");
        let extras = svc.extras.as_ref().expect("extras");
        assert_eq!(extras.get("max").and_then(Value::as_i64), Some(100));
        assert_eq!(extras.get("got").and_then(Value::as_i64), Some(500));

        let err = c
            .rpc::<_, Empty, E>("test", "throwError", &Msg { msg: "boom".into() })
            .await
            .expect_err("uncaught");
        let p = err.protocol().expect("protocol error");
        assert_eq!(p.code, ProtocolErrorCode::UncaughtError);
        assert!(p.message.contains("boom"), "{p}");

        let err = c
            .rpc::<_, Empty, E>("test", "panics", &Empty {})
            .await
            .expect_err("panic");
        assert!(err.is_uncaught(), "{err}");

        let err = c
            .rpc::<_, Num, E>(
                "test",
                "add",
                &Msg {
                    msg: "not a number".into(),
                },
            )
            .await
            .expect_err("invalid");
        let p = err.protocol().expect("protocol");
        assert_eq!(p.code, ProtocolErrorCode::InvalidRequest);
        assert_eq!(p.message, "procedure init failed validation");

        let err = c
            .rpc::<_, Num, E>("test", "doesNotExist", &Empty {})
            .await
            .expect_err("unknown proc");
        assert_eq!(
            err.protocol().map(|p| p.message.as_str()),
            Some("couldn't find a matching procedure for test.doesNotExist")
        );
        let err = c
            .rpc::<_, Num, E>("noSuchService", "add", &Num { n: 1 })
            .await
            .expect_err("unknown svc");
        assert_eq!(
            err.protocol().map(|p| p.message.as_str()),
            Some("couldn't find service noSuchService")
        );

        // The session survives all of that.
        assert_eq!(
            c.rpc::<_, Num, E>("test", "add", &Num { n: 1 })
                .await
                .expect("rpc"),
            Num { n: 1 }
        );
        fx.server.shutdown().await;
    }
}

#[tokio::test]
async fn client_cancel_of_each_kind_is_observed_by_the_handler() {
    for codec in CODECS {
        let fx = start(codec, false).await;
        let c = client(codec, fx.server.local_addr());
        let rec = &fx.records;

        // rpc: dropping the unfinished call cancels it.
        let key = format!("rpc-{codec:?}");
        let call = c.rpc::<_, Empty, E>("cancel", "blockRpc", &Key { key: key.clone() });
        let timed = tokio::time::timeout(Duration::from_millis(100), call).await;
        assert!(timed.is_err(), "blockRpc must not resolve");
        let events = rec.wait_for(&key, "aborted").await;
        assert_eq!(events, ["started", "aborted"]);

        // stream: explicit cancel.
        let key = format!("stream-{codec:?}");
        let (mut w, mut r) =
            c.stream::<_, Msg, Empty, E>("cancel", "blockStream", &Key { key: key.clone() });
        w.send(Msg { msg: "one".into() }).await.expect("send");
        rec.wait_for(&key, "msg:one").await;
        r.cancel();
        let events = rec.wait_for(&key, "aborted").await;
        assert_eq!(events, ["started", "msg:one", "readErr:CANCEL", "aborted"]);
        let last = r.next().await;
        assert!(
            matches!(last, Some(Err(ref e)) if e.is_cancel()) || last.is_none(),
            "{last:?}"
        );

        // upload: explicit cancel of the response.
        let key = format!("upload-{codec:?}");
        let (mut w, mut resp) =
            c.upload::<_, Msg, Empty, E>("cancel", "blockUpload", &Key { key: key.clone() });
        w.send(Msg { msg: "one".into() }).await.expect("send");
        rec.wait_for(&key, "msg:one").await;
        resp.cancel();
        let events = rec.wait_for(&key, "aborted").await;
        assert_eq!(events, ["started", "msg:one", "readErr:CANCEL", "aborted"]);
        assert!(resp.await.expect_err("cancelled").is_cancel());

        // subscription: dropping the reader cancels it.
        let key = format!("sub-{codec:?}");
        let r =
            c.subscribe::<_, Empty, E>("cancel", "blockSubscription", &Key { key: key.clone() });
        rec.wait_for(&key, "started").await;
        drop(r);
        let events = rec.wait_for(&key, "aborted").await;
        assert_eq!(events, ["started", "aborted"]);

        // The session still works.
        assert_eq!(
            c.rpc::<_, Num, E>("test", "add", &Num { n: 2 })
                .await
                .expect("rpc"),
            Num { n: 2 }
        );
        fx.server.shutdown().await;
    }
}

#[tokio::test]
async fn server_closes_first_and_keeps_reading() {
    for codec in CODECS {
        let fx = start(codec, false).await;
        let c = client(codec, fx.server.local_addr());
        let key = format!("scf-{codec:?}");
        let (mut w, mut r) =
            c.stream::<_, Msg, Num, E>("streams", "serverClosesFirst", &Key { key: key.clone() });
        let mut got = Vec::new();
        while let Some(item) = r.next().await {
            got.push(item.expect("item").n);
        }
        assert_eq!(got, [0, 1, 2]);
        fx.records.wait_for(&key, "serverClosed").await;
        for _ in 0..2 {
            w.send(Msg { msg: "late".into() })
                .await
                .expect("half-open write");
        }
        w.close().await;
        let events = fx.records.wait_for(&key, "received:2").await;
        assert_eq!(events, ["serverClosed", "received:2"]);
        fx.server.shutdown().await;
    }
}

#[tokio::test]
async fn volume_concurrency_and_large_payloads() {
    for codec in CODECS {
        let fx = start(codec, false).await;
        let c = client(codec, fx.server.local_addr());

        // 200 concurrent rpcs.
        let calls = (0..200).map(|_| c.rpc::<_, Num, E>("test", "add", &Num { n: 1 }));
        let results = futures::future::join_all(calls).await;
        let mut totals: Vec<i64> = results.into_iter().map(|r| r.expect("rpc").n).collect();
        totals.sort_unstable();
        assert_eq!(totals, (1..=200).collect::<Vec<_>>());

        // 1 MiB of bytes and 1 MiB of string.
        let data: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
        let out: Blob = c
            .rpc::<_, _, E>(
                "test",
                "echoBytes",
                &Blob {
                    data: Bytes::from(data.clone()),
                },
            )
            .await
            .expect("bytes");
        assert_eq!(out.data.as_ref(), &data[..]);
        let s: String = "é".repeat(512 * 1024);
        let out: Msg = c
            .rpc::<_, _, E>("test", "echoString", &Msg { msg: s.clone() })
            .await
            .expect("string");
        assert_eq!(out.msg, s);

        // 10,000 ordered stream messages.
        let (mut w, r) = c.stream::<_, Msg, Msg, E>("streams", "echo", &Empty {});
        let writer = tokio::spawn(async move {
            for i in 0..10_000 {
                w.send(Msg { msg: i.to_string() }).await.expect("send");
            }
            w.close().await;
        });
        let got: Vec<String> = r.map(|i| i.expect("item").msg).collect().await;
        writer.await.expect("writer");
        assert_eq!(got.len(), 10_000);
        assert!(
            got.iter().enumerate().all(|(i, m)| *m == i.to_string()),
            "out of order"
        );
        fx.server.shutdown().await;
    }
}

#[tokio::test]
async fn handshake_metadata_accepted_and_rejected() {
    for codec in CODECS {
        let fx = start(codec, true).await;
        let addr = fx.server.local_addr();
        let ok = Client::builder(format!("ws://{addr}"))
            .codec(codec)
            .handshake_metadata(|| Token {
                token: "valid-alice".into(),
            })
            .build();
        let who: Msg = ok
            .rpc::<_, _, E>("meta", "whoami", &Empty {})
            .await
            .expect("whoami");
        assert_eq!(who.msg, "alice");

        for (token, code) in [
            (
                "nope",
                river_runtime::message::HandshakeErrorCode::RejectedByCustomHandler,
            ),
            (
                "unsupported",
                river_runtime::message::HandshakeErrorCode::RejectedUnsupportedClient,
            ),
        ] {
            let bad = Client::builder(format!("ws://{addr}"))
                .codec(codec)
                .handshake_metadata(move || Token {
                    token: token.into(),
                })
                .build();
            let err = bad
                .rpc::<_, Msg, E>("meta", "whoami", &Empty {})
                .await
                .expect_err("rejected");
            match &err {
                RiverError::Transport(t) => assert_eq!(t.handshake_code(), Some(code), "{err}"),
                RiverError::Protocol(p) => {
                    assert_eq!(p.code, ProtocolErrorCode::UnexpectedDisconnect, "{err}")
                }
                other => panic!("unexpected {other}"),
            }
        }
        fx.server.shutdown().await;
    }
}

#[tokio::test]
async fn transparent_reconnect_mid_stream_delivers_everything_once_in_order() {
    for codec in CODECS {
        let fx = start(codec, false).await;
        let proxy = FaultProxy::start(fx.server.local_addr())
            .await
            .expect("proxy");
        let c = client(codec, proxy.addr());
        c.connect().await.expect("connect");
        let session_before = c.session_id();

        let (mut w, r) = c.stream::<_, Msg, Msg, E>("streams", "echo", &Empty {});
        let total = 2_000;
        let writer = tokio::spawn(async move {
            for i in 0..total {
                w.send(Msg { msg: i.to_string() })
                    .await
                    .expect("send survives reconnects");
                if i % 50 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            w.close().await;
        });
        let cutter = {
            let proxy_cut = Arc::new(proxy);
            let p = proxy_cut.clone();
            let handle = tokio::spawn(async move {
                for _ in 0..3 {
                    tokio::time::sleep(Duration::from_millis(40)).await;
                    p.cut();
                }
            });
            (proxy_cut, handle)
        };
        let got: Vec<String> = r.map(|i| i.expect("item").msg).collect().await;
        writer.await.expect("writer");
        cutter.1.await.expect("cutter");
        assert_eq!(got.len(), total, "every message exactly once");
        assert!(
            got.iter().enumerate().all(|(i, m)| *m == i.to_string()),
            "in order"
        );
        assert!(
            cutter.0.stats().connections >= 2,
            "the connection was really cut"
        );
        assert_eq!(c.session_id(), session_before, "same session");
        fx.server.shutdown().await;
    }
}
