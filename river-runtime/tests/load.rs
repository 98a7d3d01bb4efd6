//! Load: 1,000 client sessions × 10 streams against one server, then everything is
//! closed and the server's session and stream counts must return to zero. Prints its
//! figures (`-- --nocapture`).

mod reliability_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use river_runtime::Codec;
use tokio::sync::{Barrier, Semaphore};
use tokio::time::{timeout, Instant};

use reliability_support::{client, client_options, server_options, start_server, Plan, Seq, E};

const SESSIONS: usize = 1_000;
const STREAMS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_1000_sessions_x_10_streams_all_freed() {
    let codec = Codec::Msgpack;
    // Short grace so closed sessions are freed quickly; generous handshake timeouts for
    // 1,000 handshakes on a debug build.
    let mut sopts = server_options(1_000, 200);
    sopts.session.handshake_timeout = Duration::from_secs(10);
    let (server, _obs) = start_server(codec, sopts).await;
    let addr = server.local_addr();
    let started = Instant::now();
    let all_open = Arc::new(Barrier::new(SESSIONS + 1));
    let release = Arc::new(Barrier::new(SESSIONS + 1));
    // At most 100 clients connecting at once (the listener's backlog and 2 CPU cores).
    let dialing = Arc::new(Semaphore::new(100));
    let echoed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(SESSIONS);
    for n in 0..SESSIONS {
        let (all_open, release, dialing, echoed) = (
            all_open.clone(),
            release.clone(),
            dialing.clone(),
            echoed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut copts = client_options(1_000, 5_000);
            copts.session.handshake_timeout = Duration::from_secs(10);
            let c = client(codec, addr, copts);
            {
                let _permit = dialing.acquire().await.expect("semaphore");
                c.connect().await.expect("connect");
            }
            let mut streams = Vec::with_capacity(STREAMS);
            for s in 0..STREAMS {
                let (mut w, mut r) =
                    c.stream::<_, Seq, Seq, E>("chaos", "echoStream", &Plan::default());
                let i = (n * STREAMS + s) as u64;
                w.send(Seq { i }).await.expect("send");
                let got = r.next().await.expect("item").expect("ok");
                assert_eq!(got, Seq { i });
                echoed.fetch_add(1, Ordering::Relaxed);
                streams.push((w, r));
            }
            all_open.wait().await;
            release.wait().await;
            for (mut w, mut r) in streams {
                w.close().await;
                assert!(r.next().await.is_none(), "the stream ends cleanly");
            }
            c.close().await;
        }));
    }
    timeout(Duration::from_secs(120), all_open.wait())
        .await
        .expect("all streams open in time");
    let opened_after = started.elapsed();
    let (peak_sessions, peak_streams) = (server.session_count(), server.stream_count());
    release.wait().await;
    for t in tasks {
        timeout(Duration::from_secs(60), t)
            .await
            .expect("client finished in time")
            .expect("client task");
    }
    let closed_after = started.elapsed();
    let drained = timeout(Duration::from_secs(30), async {
        loop {
            if server.session_count() == 0 && server.stream_count() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let freed_after = started.elapsed();
    println!(
        "load: {SESSIONS} sessions x {STREAMS} streams (msgpack, server grace 200 ms): all open \
         after {:.2} s, peak server sessions {peak_sessions} streams {peak_streams}, echoed {}; \
         all clients closed after {:.2} s; server counts back to sessions {} streams {} after \
         {:.2} s",
        opened_after.as_secs_f64(),
        echoed.load(Ordering::Relaxed),
        closed_after.as_secs_f64(),
        server.session_count(),
        server.stream_count(),
        freed_after.as_secs_f64()
    );
    assert_eq!(peak_sessions, SESSIONS);
    assert_eq!(peak_streams, SESSIONS * STREAMS);
    assert!(
        drained.is_ok(),
        "every server-side session and stream was freed"
    );
    server.shutdown().await;
}
