//! Limits and bounded memory: frame size, streams per session, sessions, the send
//! buffer's high-water mark, and bounded reader queues with backpressure (nothing lost).
//! Every test prints its figures (`-- --nocapture`).

mod reliability_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fault_proxy::FaultProxy;
use futures::{SinkExt, StreamExt};
use river_runtime::{Codec, ProtocolErrorCode, RiverError};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use reliability_support::{
    client, client_options, eventually, server_options, start_server, Plan, Seq, Tally, E,
};

const T: Duration = Duration::from_secs(10);

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct Big {
    i: u64,
    pad: String,
}

#[tokio::test]
async fn oversize_frame_is_closed_with_1009_and_fails_only_that_session() {
    let codec = Codec::Json;
    let mut opts = server_options(1_000, 5_000);
    opts.max_frame_size = 4 * 1024;
    let (server, _obs) = start_server(codec, opts).await;

    // Raw: an oversize first message gets a close frame 1009 naming the limit.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}", server.local_addr()))
        .await
        .expect("upgrade");
    ws.send(Message::Binary(vec![0u8; 8 * 1024].into()))
        .await
        .expect("send");
    let close = loop {
        match timeout(T, ws.next()).await.expect("in time") {
            Some(Ok(Message::Close(frame))) => break frame.expect("a close frame"),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(close.code, CloseCode::Size);
    assert!(close.reason.contains("4096"), "{}", close.reason);

    // Client: an oversize request fails its call (the session cannot carry it), the
    // next call works on a new session.
    let c = client(codec, server.local_addr(), client_options(1_000, 5_000));
    c.rpc::<_, Seq, E>("chaos", "echo", &Seq { i: 1 })
        .await
        .expect("small call");
    let before = c.session_id();
    let (mut w, res) = c.upload::<_, Big, Tally, E>("chaos", "upload", &Plan::default());
    let _ = w
        .send(Big {
            i: 0,
            pad: "x".repeat(8 * 1024),
        })
        .await;
    let err = timeout(T, res)
        .await
        .expect("in time")
        .expect_err("oversize");
    match &err {
        RiverError::Protocol(p) => assert_eq!(p.code, ProtocolErrorCode::UnexpectedDisconnect),
        other => panic!("unexpected {other}"),
    }
    let next = c
        .rpc::<_, Seq, E>("chaos", "echo", &Seq { i: 2 })
        .await
        .expect("the next call works");
    assert_eq!(next, Seq { i: 2 });
    assert_ne!(c.session_id(), before, "a new session");
    println!(
        "limits_frame: max_frame_size 4096; 8 KiB message -> close {} \"{}\"; client call failed \
         with {err}; next call ok on a new session",
        u16::from(close.code),
        close.reason
    );
    c.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn streams_per_session_limit_rejects_with_invalid_request() {
    let codec = Codec::Msgpack;
    let mut opts = server_options(1_000, 5_000);
    opts.max_streams_per_session = 3;
    let (server, _obs) = start_server(codec, opts).await;
    let c = client(codec, server.local_addr(), client_options(1_000, 5_000));
    let mut open = Vec::new();
    for i in 0..3 {
        let (mut w, mut r) = c.stream::<_, Seq, Seq, E>("chaos", "echoStream", &Plan::default());
        w.send(Seq { i }).await.expect("send");
        assert_eq!(r.next().await.expect("item").expect("ok"), Seq { i });
        open.push((w, r));
    }
    let (_w, mut r) = c.stream::<_, Seq, Seq, E>("chaos", "echoStream", &Plan::default());
    let err = r
        .next()
        .await
        .expect("an item")
        .expect_err("over the limit");
    match &err {
        RiverError::Protocol(p) => {
            assert_eq!(p.code, ProtocolErrorCode::InvalidRequest);
            assert_eq!(p.message, "too many concurrent streams");
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(server.stream_count(), 3);
    // Closing one frees a slot.
    let (mut w0, mut r0) = open.remove(0);
    w0.close().await;
    assert!(r0.next().await.is_none());
    eventually("slot freed", T, || server.stream_count() == 2).await;
    let again = c
        .rpc::<_, Seq, E>("chaos", "echo", &Seq { i: 9 })
        .await
        .expect("a slot is free again");
    assert_eq!(again, Seq { i: 9 });
    println!(
        "limits_streams: max_streams_per_session 3; 4th open -> {err}; after closing one, the \
         next call works; session survived ({} session)",
        server.session_count()
    );
    drop(open);
    c.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn session_limit_refuses_handshakes_with_a_clear_error() {
    let codec = Codec::Json;
    let mut opts = server_options(1_000, 100);
    opts.max_sessions = 2;
    let (server, _obs) = start_server(codec, opts).await;
    let addr = server.local_addr();
    let a = client(codec, addr, client_options(1_000, 5_000));
    let b = client(codec, addr, client_options(1_000, 5_000));
    a.connect().await.expect("a");
    b.connect().await.expect("b");
    let third = client(codec, addr, client_options(1_000, 5_000));
    let err = third.connect().await.expect_err("over the limit");
    assert_eq!(
        err.handshake_code(),
        Some(river_runtime::message::HandshakeErrorCode::RejectedByCustomHandler),
        "{err}"
    );
    assert!(
        err.to_string().contains("server session limit reached"),
        "{err}"
    );
    assert_eq!(server.session_count(), 2);
    a.close().await;
    eventually("a's session freed", T, || server.session_count() == 1).await;
    let fourth = client(codec, addr, client_options(1_000, 5_000));
    fourth.connect().await.expect("room again");
    println!(
        "limits_sessions: max_sessions 2; 3rd client -> \"{err}\" (no retries: {} attempt); \
         after one closed, a new client connects",
        third.stats().connection_attempts
    );
    assert_eq!(third.stats().connection_attempts, 1, "fatal, not retried");
    for c in [b, third, fourth] {
        c.close().await;
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_buffer_high_water_mark_blocks_writers_until_acked() {
    let codec = Codec::Json;
    let hwm = 64usize;
    // Long heartbeats: no watchdog and no heartbeat acks while frozen; the echoes of
    // `echoStream` carry the acks.
    let (server, _obs) = start_server(codec, server_options(60_000, 60_000)).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    let mut opts = client_options(60_000, 60_000);
    opts.session.send_buffer_high_water_mark = hwm;
    let c = client(codec, proxy.addr(), opts);
    let (mut w, mut r) = c.stream::<_, Seq, Seq, E>("chaos", "echoStream", &Plan::default());
    let mut got = Tally::default();
    w.send(Seq { i: 0 }).await.expect("send");
    got.observe(r.next().await.expect("item").expect("ok").i);
    proxy.freeze();
    let mut sent = 1u64;
    loop {
        match timeout(Duration::from_millis(300), w.send(Seq { i: sent })).await {
            Ok(r) => {
                r.expect("send");
                sent += 1;
            }
            Err(_) => break,
        }
        assert!(sent < 10 * hwm as u64, "the writer never blocked");
    }
    let blocked_at = sent;
    let unacked = blocked_at - 1;
    // The blocked send was dropped before it queued anything; cut the frozen link so the
    // client reconnects, retransmits, and the writer resumes.
    proxy.cut();
    let total = blocked_at + 500;
    let reader = tokio::spawn(async move {
        for _ in 1..total {
            got.observe(r.next().await.expect("item").expect("ok").i);
        }
        got
    });
    for i in blocked_at..total {
        w.send(Seq { i }).await.expect("send after reconnect");
    }
    w.close().await;
    let got = timeout(T, reader).await.expect("in time").expect("reader");
    let (rx, dup, lost, ooo) = got.figures(total);
    println!(
        "limits_hwm: high-water mark {hwm}; frozen link: the writer blocked with {unacked} data \
         frames unacked; after a cut and reconnect all {total} echoed: received {rx} duplicates \
         {dup} losses {lost} out-of-order {ooo}"
    );
    assert!(
        unacked as usize <= hwm && unacked as usize >= hwm - 8,
        "{unacked}"
    );
    assert_eq!((rx, dup, lost, ooo), (total, 0, 0, 0));
    c.close().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_client_reader_bounds_memory_and_loses_nothing() {
    let codec = Codec::Msgpack;
    let (cap, hwm, total) = (16usize, 64usize, 3_000u64);
    let mut sopts = server_options(50, 5_000);
    sopts.session.send_buffer_high_water_mark = hwm;
    let (server, obs) = start_server(codec, sopts).await;
    let mut copts = client_options(50, 5_000);
    copts.session.read_queue_capacity = cap;
    let c = client(codec, server.local_addr(), copts);
    let mut r = c.subscribe::<_, Seq, E>(
        "chaos",
        "firehose",
        &Plan {
            send: total,
            ..Plan::default()
        },
    );
    let mut got = Tally::default();
    let mut max_gap = 0u64;
    let started = tokio::time::Instant::now();
    let mut n = 0u64;
    while let Some(item) = timeout(T, r.next()).await.expect("in time") {
        got.observe(item.expect("ok").i);
        n += 1;
        let gap = obs.produced.load(Ordering::SeqCst).saturating_sub(n);
        max_gap = max_gap.max(gap);
        if n < 400 {
            // 400 items at 2 ms: 0.8 s paused on and off, 16x the 50 ms heartbeat.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let stats = c.stats();
    let (rx, dup, lost, ooo) = got.figures(total);
    println!(
        "limits_slow_reader: reader queue capacity {cap}, server high-water mark {hwm}, heartbeat \
         50 ms; {total} items, first 400 read at 2 ms each ({:.2} s total): produced-but-unread \
         peak {max_gap} (bound {cap} + 1 held + {hwm}); reader queue peak {}; read pauses {}; \
         received {rx} duplicates {dup} losses {lost} out-of-order {ooo}; reconnects {}",
        started.elapsed().as_secs_f64(),
        stats.reader_queue_peak,
        stats.read_pauses,
        stats.reconnects
    );
    assert_eq!((rx, dup, lost, ooo), (total, 0, 0, 0));
    assert!(
        stats.reader_queue_peak as usize <= cap,
        "queue never exceeds its capacity"
    );
    assert!(stats.read_pauses > 0, "the reader really was too slow");
    assert!(
        max_gap as usize <= cap + 1 + hwm + 4,
        "memory bounded end to end: {max_gap}"
    );
    assert_eq!(
        stats.reconnects, 0,
        "a paused reader does not kill the connection"
    );
    c.close().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_server_handler_bounds_memory_and_loses_nothing() {
    let codec = Codec::Json;
    let (cap, hwm, total) = (16usize, 64usize, 3_000u64);
    let mut sopts = server_options(50, 5_000);
    sopts.session.read_queue_capacity = cap;
    let (server, obs) = start_server(codec, sopts).await;
    let mut copts = client_options(50, 5_000);
    copts.session.send_buffer_high_water_mark = hwm;
    let c = client(codec, server.local_addr(), copts);
    let (mut w, res) = c.upload::<_, Seq, Tally, E>(
        "chaos",
        "upload",
        &Plan {
            send: 0,
            read_delay_us: 2_000,
            slow_for: 400,
        },
    );
    let max_gap = Arc::new(AtomicU64::new(0));
    let started = tokio::time::Instant::now();
    for i in 0..total {
        w.send(Seq { i }).await.expect("send");
        let gap = (i + 1).saturating_sub(obs.consumed.load(Ordering::SeqCst));
        max_gap.fetch_max(gap, Ordering::SeqCst);
    }
    w.close().await;
    let tally = timeout(T, res).await.expect("in time").expect("result");
    let max_gap = max_gap.load(Ordering::SeqCst);
    let (rx, dup, lost, ooo) = tally.figures(total);
    println!(
        "limits_slow_handler: request queue capacity {cap}, client high-water mark {hwm}, \
         heartbeat 50 ms; {total} requests, first 400 read at 2 ms each ({:.2} s): \
         sent-but-unread peak {max_gap} (bound {cap} + 1 held + {hwm}); server read pauses {}; \
         received {rx} duplicates {dup} losses {lost} out-of-order {ooo}; reconnects {}",
        started.elapsed().as_secs_f64(),
        server.read_pauses(),
        c.stats().reconnects
    );
    assert_eq!((rx, dup, lost, ooo), (total, 0, 0, 0));
    assert!(server.read_pauses() > 0, "the handler really was too slow");
    assert!(
        max_gap as usize <= cap + 1 + hwm + 4,
        "memory bounded end to end: {max_gap}"
    );
    assert_eq!(
        c.stats().reconnects,
        0,
        "a paused server does not kill the connection"
    );
    c.close().await;
    server.shutdown().await;
}
