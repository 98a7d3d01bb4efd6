//! Guards two properties of a Rust client talking to a Rust server, with both codecs:
//!
//! - A stream echo in which both send buffers reach `send_buffer_high_water_mark`
//!   never stalls until a heartbeat (each side sends an explicit ACK when it has
//!   accepted many frames without sending anything; see the `server` and `client`
//!   module docs).
//! - The server starts handlers in arrival order: the synchronous prefix of each
//!   handler runs before the next frame is dispatched, so rpc side effects happen in the
//!   order the client sent the calls.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use river_runtime::{
    AnyServiceError, Client, ClientOptions, Codec, Failure, Router, Server, ServerHandle,
    ServerOptions, SessionOptions, Value,
};

const CODECS: [Codec; 2] = [Codec::Json, Codec::Msgpack];

async fn start(codec: Codec, router: Router) -> (ServerHandle, Client) {
    let server = Server::builder()
        .codec(codec)
        .bind("127.0.0.1:0", router)
        .await
        .expect("bind");
    let client = Client::builder(format!("ws://{}", server.local_addr()))
        .codec(codec)
        .build();
    (server, client)
}

fn echo_router() -> Router {
    let mut router = Router::new();
    router.stream::<Value, Value, Value, Value, _, _>(
        "streams",
        "echo",
        |_ctx, _init, mut requests, responses| async move {
            while let Some(Ok(req)) = requests.next().await {
                if responses.ok(req).await.is_err() {
                    break;
                }
            }
            Ok::<(), Failure<Value>>(())
        },
    );
    router
}

/// 10,000 messages echoed with default options (high-water mark 1024 on both sides,
/// 1 s heartbeat). Before explicit ACKs, both writers blocked at the mark and only the
/// next heartbeat (~1 s later) released them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn echo_10000_does_not_wait_for_a_heartbeat() {
    const N: i64 = 10_000;
    let defaults = SessionOptions::default();
    assert_eq!(defaults.send_buffer_high_water_mark, 1024);
    assert_eq!(defaults.heartbeat_interval, Duration::from_secs(1));
    for codec in CODECS {
        for round in 0..3 {
            let (server, client) = start(codec, echo_router()).await;
            let (mut w, mut r) = client.stream::<Value, Value, Value, AnyServiceError>(
                "streams",
                "echo",
                &Value::Null,
            );
            let start = Instant::now();
            let sender = tokio::spawn(async move {
                for i in 0..N {
                    let sent_at = start.elapsed().as_micros() as i64;
                    w.send(Value::from_iter([
                        ("msg", Value::from(i)),
                        ("t", Value::from(sent_at)),
                    ]))
                    .await
                    .expect("send");
                }
                w.close().await;
            });
            // A stall is a time with no progress at all: the longest gap between two
            // echoes shows it whichever side was blocked. (The longest round trip, from
            // just before `send` to the echo, also includes draining two full buffers,
            // which depends on the machine's load; it is only printed.)
            let mut longest = Duration::ZERO;
            let mut gap = Duration::ZERO;
            let mut last = Instant::now();
            for i in 0..N {
                let item = tokio::time::timeout(Duration::from_secs(10), r.next())
                    .await
                    .unwrap_or_else(|_| {
                        panic!(
                            "{codec:?} round {round}: item {i} never came (server read pauses {})",
                            server.read_pauses()
                        )
                    });
                let v = item.expect("item").expect("ok");
                assert_eq!(v.get("msg").and_then(Value::as_i64), Some(i));
                let sent_at = v.get("t").and_then(Value::as_i64).expect("t");
                let rtt = start
                    .elapsed()
                    .saturating_sub(Duration::from_micros(sent_at as u64));
                longest = longest.max(rtt);
                gap = gap.max(last.elapsed());
                last = Instant::now();
            }
            // `Value` requests also match the client's `{type:"CLOSE"}` payload, which is
            // then delivered (and echoed) as data, as the reference does (§13.2 quirk).
            let mut extra = 0;
            let tail = Instant::now();
            while let Some(item) = r.next().await {
                let v = item.expect("ok");
                assert_eq!(
                    v.get("type").and_then(Value::as_str),
                    Some("CLOSE"),
                    "{v:?}"
                );
                extra += 1;
            }
            assert!(extra <= 1, "the stream ends after the echo");
            let tail = tail.elapsed();
            sender.await.expect("sender");
            let total = start.elapsed();
            println!(
                "echo_10000 {codec:?} round {round}: {total:?} total, longest gap between echoes \
                 {gap:?}, longest round trip {longest:?}, end of stream after the last echo \
                 {tail:?}"
            );
            // A stall lasts until the next heartbeat (up to 1 s). Without one, echoes
            // never stop for anywhere near 500 ms, even in a debug build.
            assert!(
                gap < Duration::from_millis(500),
                "{codec:?} round {round}: no echo for {gap:?} (total {total:?}, longest \
                 round trip {longest:?})"
            );
            // The same stall, at the end: the server's buffer is full and the client has
            // nothing left to send that would carry its ack.
            assert!(
                tail < Duration::from_millis(500),
                "{codec:?} round {round}: the stream ended {tail:?} after the last echo"
            );
            client.close().await;
            server.shutdown().await;
        }
    }
}

/// Many rpcs fired at once over one session: each handler records its index in its
/// synchronous prefix; the record is in call order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rpc_handlers_start_in_arrival_order() {
    const N: i64 = 500;
    for codec in CODECS {
        let record: Arc<Mutex<Vec<i64>>> = Arc::default();
        let mut router = Router::new();
        let rec = record.clone();
        router.rpc::<i64, i64, Value, _, _>("test", "push", move |_ctx, n| {
            let rec = rec.clone();
            async move {
                rec.lock().unwrap_or_else(|e| e.into_inner()).push(n);
                // Some handlers finish at once, others later: neither affects the order
                // in which the next ones start.
                match n % 3 {
                    0 => {}
                    1 => tokio::task::yield_now().await,
                    _ => tokio::time::sleep(Duration::from_millis(1)).await,
                }
                Ok::<i64, Failure<Value>>(n)
            }
        });
        let (server, client) = start(codec, router).await;
        for round in 0..3 {
            record.lock().unwrap_or_else(|e| e.into_inner()).clear();
            // The calls are made (and their frames queued) in index order.
            let calls: Vec<_> = (0..N)
                .map(|n| client.rpc::<i64, i64, AnyServiceError>("test", "push", &n))
                .collect();
            let results = futures::future::join_all(calls).await;
            for (n, res) in results.into_iter().enumerate() {
                assert_eq!(res.expect("rpc"), n as i64);
            }
            let got = record.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let expected: Vec<i64> = (0..N).collect();
            if got != expected {
                let first = got
                    .iter()
                    .zip(&expected)
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                panic!(
                    "{codec:?} round {round}: handlers started out of order; first difference \
                     at {first}: {:?}",
                    &got[first..(first + 10).min(got.len())]
                );
            }
        }
        client.close().await;
        server.shutdown().await;
    }
}

fn long_heartbeat(mut session: SessionOptions, hwm: usize) -> SessionOptions {
    // No heartbeat within the test: a stall fails it instead of costing a second.
    session.heartbeat_interval = Duration::from_secs(30);
    session.send_buffer_high_water_mark = hwm;
    session
}

/// The session pauses reading on the echo handler's full request queue while that same
/// handler waits at the high-water mark for acks that are in the unread frames. Reading
/// ahead (frames kept unaccepted, their acks applied) breaks the cycle; before, this
/// hung for good, heartbeats or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paused_session_still_takes_acks() {
    const N: i64 = 5_000;
    for codec in CODECS {
        let mut sopts = ServerOptions::default();
        sopts.session = long_heartbeat(sopts.session, 64);
        sopts.session.read_queue_capacity = 8;
        let server = Server::builder()
            .codec(codec)
            .options(sopts)
            .bind("127.0.0.1:0", echo_router())
            .await
            .expect("bind");
        let mut copts = ClientOptions::default();
        copts.session = long_heartbeat(copts.session, 64);
        let client = Client::builder(format!("ws://{}", server.local_addr()))
            .codec(codec)
            .options(copts)
            .build();
        let (mut w, mut r) =
            client.stream::<Value, Value, Value, AnyServiceError>("streams", "echo", &Value::Null);
        let sender = tokio::spawn(async move {
            for i in 0..N {
                w.send(Value::from(i)).await.expect("send");
            }
            w.close().await;
        });
        for i in 0..N {
            let item = tokio::time::timeout(Duration::from_secs(10), r.next())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{codec:?}: item {i} never came (server read pauses {})",
                        server.read_pauses()
                    )
                });
            assert_eq!(item.expect("item").expect("ok").as_i64(), Some(i));
        }
        sender.await.expect("sender");
        println!(
            "paused_session_still_takes_acks {codec:?}: {N} echoed, server read pauses {}",
            server.read_pauses()
        );
        assert!(server.read_pauses() > 0, "the session never paused");
        client.close().await;
        server.shutdown().await;
    }
}

/// A client like the reference's never acks on its own: it only echoes the server's
/// ACKs. A subscription that reaches the high-water mark sends one ACK (a nudge) so
/// that the echo trims the buffer, instead of waiting for the next heartbeat.
#[tokio::test]
async fn writer_at_the_mark_nudges_a_passive_client() {
    use futures::SinkExt;
    use river_runtime::message::{ControlFlags, Tracing, TransportMessage};
    use tokio_tungstenite::tungstenite::Message;

    const N: i64 = 2_000;
    for codec in CODECS {
        let mut router = Router::new();
        router.subscription::<Value, i64, Value, _, _>(
            "subs",
            "count",
            |_ctx, _init, resps| async move {
                for i in 0..N {
                    if resps.ok(i).await.is_err() {
                        break;
                    }
                }
                Ok::<(), Failure<Value>>(())
            },
        );
        let mut sopts = ServerOptions::default();
        sopts.session = long_heartbeat(sopts.session, 64);
        let server = Server::builder()
            .codec(codec)
            .options(sopts)
            .bind("127.0.0.1:0", router)
            .await
            .expect("bind");
        let (mut ws, _) =
            tokio_tungstenite::connect_async(format!("ws://{}/", server.local_addr()))
                .await
                .expect("connect");
        let frame = |seq: u64, ack: u64, stream: &str, flags: ControlFlags, payload| {
            let msg = TransportMessage {
                id: river_runtime::ids::generate_id(),
                from: "client-passive".to_string(),
                to: "SERVER".to_string(),
                seq,
                ack,
                service_name: None,
                procedure_name: None,
                stream_id: stream.to_string(),
                control_flags: flags,
                tracing: None,
                payload: codec.encode(&payload).expect("encode"),
            };
            Message::Binary(codec.encode_message(&msg).expect("encode").into())
        };
        let mut hs = serde_json::json!({
            "type": "HANDSHAKE_REQ",
            "protocolVersion": "v2.0",
            "sessionId": "session-passive",
            "expectedSessionState": {"nextExpectedSeq": 0, "nextSentSeq": 0},
        });
        ws.send(frame(0, 0, "hs", ControlFlags::NONE, hs.take()))
            .await
            .expect("handshake");
        let mut open = match frame(0, 0, "sub", ControlFlags(10), serde_json::json!({})) {
            Message::Binary(b) => codec.decode_message(b).expect("decode"),
            _ => unreachable!(),
        };
        open.service_name = Some("subs".to_string());
        open.procedure_name = Some("count".to_string());
        open.tracing = Some(Tracing::default());
        let (mut seq, mut ack, mut next) = (1u64, 0u64, 0i64);
        let mut handshaken = false;
        ws.send(Message::Binary(
            codec.encode_message(&open).expect("encode").into(),
        ))
        .await
        .expect("open");
        let started = Instant::now();
        loop {
            let read = tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .unwrap_or_else(|_| panic!("{codec:?}: stalled after {next} items"));
            let Some(Ok(Message::Binary(b))) = read else {
                panic!("{codec:?}: connection ended: {read:?}");
            };
            let msg = codec.decode_message(b).expect("decode");
            if !handshaken {
                handshaken = true;
                continue;
            }
            assert_eq!(msg.seq, ack, "in order");
            ack = msg.seq + 1;
            if msg.control_flags.is_ack() {
                // What the reference client does for every ACK it receives.
                let echo = serde_json::json!({"type": "ACK"});
                ws.send(frame(seq, ack, "heartbeat", ControlFlags::ACK, echo))
                    .await
                    .expect("echo");
                seq += 1;
                continue;
            }
            if msg.control_flags.is_closed() {
                break;
            }
            let (ok, inner) = codec.decode_result(&msg.payload).expect("result");
            assert!(ok);
            assert_eq!(codec.decode::<i64>(&inner).expect("i64"), next);
            next += 1;
        }
        assert_eq!(next, N);
        println!(
            "writer_at_the_mark_nudges_a_passive_client {codec:?}: {N} items in {:?}",
            started.elapsed()
        );
        let _ = ws.close(None).await;
        server.shutdown().await;
    }
}
