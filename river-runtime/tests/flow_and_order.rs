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
    AnyServiceError, Client, Codec, Failure, Router, Server, ServerHandle, SessionOptions, Value,
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
            // The longest round trip of one message (from just before `send` to its
            // echo): a stall shows up here whichever side was blocked.
            let mut longest = Duration::ZERO;
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
                let rtt = start.elapsed().saturating_sub(Duration::from_micros(sent_at as u64));
                longest = longest.max(rtt);
            }
            // `Value` requests also match the client's `{type:"CLOSE"}` payload, which is
            // then delivered (and echoed) as data, as the reference does (§13.2 quirk).
            let mut extra = 0;
            let tail = Instant::now();
            while let Some(item) = r.next().await {
                let v = item.expect("ok");
                assert_eq!(v.get("type").and_then(Value::as_str), Some("CLOSE"), "{v:?}");
                extra += 1;
            }
            assert!(extra <= 1, "the stream ends after the echo");
            let tail = tail.elapsed();
            sender.await.expect("sender");
            let total = start.elapsed();
            println!(
                "echo_10000 {codec:?} round {round}: {total:?} total, longest round trip of one \
                 message {longest:?}, end of stream after the last echo {tail:?}"
            );
            // A stall lasts until the next heartbeat (up to 1 s). Without one, no message
            // takes anywhere near 500 ms to come back, even in a debug build.
            let measure_only = std::env::var_os("MEASURE_ONLY").is_some();
            assert!(
                longest < Duration::from_millis(500) || measure_only,
                "{codec:?} round {round}: a message took {longest:?} to come back (total {total:?})"
            );
            // The same stall, at the end: the server's buffer is full and the client has
            // nothing left to send that would carry its ack.
            assert!(
                tail < Duration::from_millis(500) || measure_only,
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
