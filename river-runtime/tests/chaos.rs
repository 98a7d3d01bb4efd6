//! Chaos tests: a Rust client and server talking through `fault-proxy`, which cuts,
//! closes, freezes and delays the connection. Every test prints its figures; the random
//! cut schedule prints its seed (`RIVER_CHAOS_SEED=<seed>` repeats a run).
//!
//! Run them alone with `cargo test -p river-runtime --test chaos -- --nocapture`
//! (or `cargo test --workspace chaos`).

mod reliability_support;

use std::time::Duration;

use fault_proxy::FaultProxy;
use river_runtime::client::ClientEvent;
use river_runtime::{ClientOptions, Codec, ProtocolErrorCode, RiverError};
use tokio::time::{timeout, Instant};

use reliability_support::{
    client, client_options, eventually, server_options, start_server, Plan, Seq, Tally, E,
};

/// Messages each way in the random-cut tests (the figure).
const N: u64 = 10_000;
/// Heartbeat used by the chaos tests (the reference's default is 1000 ms).
const HEARTBEAT_MS: u64 = 100;

/// Client options for random cuts: 100 ms heartbeat, and a faster backoff than the
/// reference's (10 ms base, 20 ms jitter, 20 ms budget restore) so that a reconnect
/// fits between two cuts 50-300 ms apart. The reference's backoff itself is checked by
/// the `chaos_backoff_*` tests.
fn fast_reconnect_options() -> ClientOptions {
    let mut o = client_options(HEARTBEAT_MS, 5_000);
    o.backoff.base_interval = Duration::from_millis(10);
    o.backoff.max_jitter = Duration::from_millis(20);
    o.backoff.budget_restore_interval = Duration::from_millis(20);
    o
}

/// Spreads the sends over a few seconds (a 1 ms pause every 4 messages), so that the
/// random schedule cuts the connection many times mid-transfer.
async fn pace(i: u64) {
    if i % 4 == 3 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn chaos_seed() -> u64 {
    fault_proxy::seed_from_env("RIVER_CHAOS_SEED")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_stream_10k_each_way_under_random_cuts() {
    let seed = chaos_seed();
    println!("chaos_stream: seed {seed} (RIVER_CHAOS_SEED={seed} repeats this schedule)");
    let codec = Codec::Msgpack;
    let (server, obs) = start_server(codec, server_options(HEARTBEAT_MS, 5_000)).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    let c = client(codec, proxy.addr(), fast_reconnect_options());
    c.connect().await.expect("connect");
    let session = c.session_id();
    let started = Instant::now();
    let schedule = proxy.cut_randomly(seed, Duration::from_millis(50), Duration::from_millis(300));

    let (mut w, mut r) = c.stream::<_, Seq, Seq, E>(
        "chaos",
        "stream",
        &Plan {
            send: N,
            ..Plan::default()
        },
    );
    let writer = tokio::spawn(async move {
        for i in 0..N {
            w.send(Seq { i }).await.expect("send survives cuts");
            pace(i).await;
        }
        w.close().await;
    });
    let mut got = Tally::default();
    let run = timeout(Duration::from_secs(90), async {
        while let Some(item) = r.next().await {
            got.observe(item.expect("no error item").i);
        }
    })
    .await;
    let report = schedule.stop().await;
    run.expect("finished in 90 s");
    writer.await.expect("writer");
    let elapsed = started.elapsed();
    let server_got = obs
        .stream_requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .expect("server tally");
    let stats = c.stats();
    let (rx, dup, lost, ooo) = got.figures(N);
    let (srx, sdup, slost, sooo) = server_got.figures(N);
    println!(
        "chaos_stream: seed {seed}; heartbeat {HEARTBEAT_MS} ms; backoff 10 ms + <20 ms jitter; \
         sends paced ~4/ms; cuts every 50-300 ms: {} cut ticks ({} connections reset, {} while reconnecting); \
         client->server sent {N} received {srx} duplicates {sdup} losses {slost} out-of-order {sooo}; \
         server->client sent {N} received {rx} duplicates {dup} losses {lost} out-of-order {ooo}; \
         reconnects {} (attempts {}), sessions {}; {:.2} s",
        report.ticks,
        report.connections_cut,
        report.idle_ticks,
        stats.reconnects,
        stats.connection_attempts,
        stats.sessions_created,
        elapsed.as_secs_f64()
    );
    assert_eq!(
        (rx, dup, lost, ooo),
        (N, 0, 0, 0),
        "server->client exactly once, in order"
    );
    assert_eq!(
        (srx, sdup, slost, sooo),
        (N, 0, 0, 0),
        "client->server exactly once, in order"
    );
    assert_eq!(c.session_id(), session, "same session throughout");
    assert_eq!(stats.sessions_created, 1, "never a new session");
    assert!(report.connections_cut >= 1, "the connection was really cut");
    assert!(stats.reconnects >= 1);
    c.close().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_upload_10k_under_random_cuts() {
    let seed = chaos_seed().wrapping_add(1);
    println!(
        "chaos_upload: seed {seed} (RIVER_CHAOS_SEED={} repeats this schedule)",
        seed.wrapping_sub(1)
    );
    let codec = Codec::Json;
    let (server, _obs) = start_server(codec, server_options(HEARTBEAT_MS, 5_000)).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    let c = client(codec, proxy.addr(), fast_reconnect_options());
    c.connect().await.expect("connect");
    let session = c.session_id();
    let started = Instant::now();
    let schedule = proxy.cut_randomly(seed, Duration::from_millis(50), Duration::from_millis(300));

    let (mut w, res) = c.upload::<_, Seq, Tally, E>("chaos", "upload", &Plan::default());
    let run = timeout(Duration::from_secs(90), async {
        for i in 0..N {
            w.send(Seq { i }).await.expect("send survives cuts");
            pace(i).await;
        }
        w.close().await;
        res.await
    })
    .await;
    let report = schedule.stop().await;
    let tally = run.expect("finished in 90 s").expect("upload result");
    let elapsed = started.elapsed();
    let stats = c.stats();
    let (srx, sdup, slost, sooo) = tally.figures(N);
    println!(
        "chaos_upload: seed {seed}; heartbeat {HEARTBEAT_MS} ms; sends paced ~4/ms; cuts every 50-300 ms: {} cut ticks \
         ({} connections reset, {} while reconnecting); client->server sent {N} received {srx} \
         duplicates {sdup} losses {slost} out-of-order {sooo}; result received once; \
         reconnects {} (attempts {}), sessions {}; {:.2} s",
        report.ticks,
        report.connections_cut,
        report.idle_ticks,
        stats.reconnects,
        stats.connection_attempts,
        stats.sessions_created,
        elapsed.as_secs_f64()
    );
    assert_eq!(
        (srx, sdup, slost, sooo),
        (N, 0, 0, 0),
        "exactly once, in order"
    );
    assert_eq!(c.session_id(), session, "same session throughout");
    assert_eq!(stats.sessions_created, 1);
    assert!(report.connections_cut >= 1, "the connection was really cut");
    c.close().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_phantom_disconnect_is_detected_by_the_watchdog() {
    let codec = Codec::Json;
    // Nothing crosses a frozen proxy, not even the server's close: only the client's
    // watchdog can notice.
    let (server, _obs) = start_server(codec, server_options(HEARTBEAT_MS, 5_000)).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    let c = client(codec, proxy.addr(), client_options(HEARTBEAT_MS, 5_000));
    c.connect().await.expect("connect");
    let session = c.session_id();
    let mut events = c.events();
    let (mut w, mut r) = c.stream::<_, Seq, Seq, E>("chaos", "echoStream", &Plan::default());
    let total = 1_000u64;
    let mut got = Tally::default();
    for i in 0..total / 2 {
        w.send(Seq { i }).await.expect("send");
    }
    for _ in 0..total / 2 {
        got.observe(r.next().await.expect("item").expect("ok").i);
    }
    let frozen_at = Instant::now();
    assert_eq!(proxy.freeze(), 1);
    // Sent into the frozen connection: buffered, retransmitted after the reconnect.
    for i in total / 2..total {
        w.send(Seq { i }).await.expect("send");
    }
    let lost_after = timeout(Duration::from_secs(5), async {
        loop {
            match events.recv().await {
                Ok(ClientEvent::ConnectionLost { .. }) => return frozen_at.elapsed(),
                Ok(_) => {}
                Err(e) => panic!("events: {e}"),
            }
        }
    })
    .await
    .expect("the watchdog noticed");
    let reconnected_after = timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(ClientEvent::Connected {
                reconnect: true, ..
            }) = events.recv().await
            {
                return frozen_at.elapsed();
            }
        }
    })
    .await
    .expect("reconnected");
    for _ in total / 2..total {
        got.observe(r.next().await.expect("item").expect("ok").i);
    }
    w.close().await;
    let (rx, dup, lost, ooo) = got.figures(total);
    let deadline = Duration::from_millis(2 * HEARTBEAT_MS);
    println!(
        "chaos_phantom: heartbeat {HEARTBEAT_MS} ms x 2 = {} ms deadline; freeze detected after \
         {} ms, reconnected after {} ms; echoed {total}: received {rx} duplicates {dup} losses \
         {lost} out-of-order {ooo}; reconnects {}",
        deadline.as_millis(),
        lost_after.as_millis(),
        reconnected_after.as_millis(),
        c.stats().reconnects
    );
    // Detection: the last inbound frame came at most one interval before the freeze; the
    // watchdog checks once per interval. Generous upper slack for loaded CI machines.
    assert!(
        lost_after >= deadline - Duration::from_millis(HEARTBEAT_MS + 5),
        "{lost_after:?}"
    );
    assert!(
        lost_after <= deadline + Duration::from_millis(HEARTBEAT_MS + 400),
        "{lost_after:?}"
    );
    assert_eq!((rx, dup, lost, ooo), (total, 0, 0, 0));
    assert_eq!(c.session_id(), session, "same session");
    assert_eq!(proxy.stats().freezes, 1);
    proxy.cut();
    c.close().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_outage_longer_than_grace_fails_calls_then_new_session_works() {
    let codec = Codec::Msgpack;
    let grace = Duration::from_millis(1_000);
    let (server, _obs) = start_server(codec, server_options(HEARTBEAT_MS, 1_000)).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    // The reference's backoff (150 ms base) and connect timeout (2 s), 1 s grace. The
    // outage is a partition (dials hang), so it consumes one reconnect attempt; a grace
    // period shorter than the backoff of the next call's first attempt would destroy
    // the new session before it connects (as in the reference).
    let c = client(codec, proxy.addr(), client_options(HEARTBEAT_MS, 1_000));
    let (mut w, mut r) = c.stream::<_, Seq, Seq, E>("chaos", "echoStream", &Plan::default());
    w.send(Seq { i: 0 }).await.expect("send");
    assert_eq!(r.next().await.expect("item").expect("ok"), Seq { i: 0 });
    let old_session = c.session_id().expect("session");
    assert_eq!((server.session_count(), server.stream_count()), (1, 1));

    proxy.set_blackhole(true);
    let cut_at = Instant::now();
    assert_eq!(proxy.cut(), 1);
    let err = timeout(Duration::from_secs(5), r.next())
        .await
        .expect("the call ends")
        .expect("an item")
        .expect_err("a disconnect");
    let failed_after = cut_at.elapsed();
    match &err {
        RiverError::Protocol(p) => assert_eq!(p.code, ProtocolErrorCode::UnexpectedDisconnect),
        other => panic!("unexpected {other}"),
    }
    assert!(
        w.send(Seq { i: 1 }).await.is_err(),
        "the writer is closed too"
    );
    eventually("server freed the session", Duration::from_secs(5), || {
        server.session_count() == 0 && server.stream_count() == 0
    })
    .await;
    let held = proxy.stats().blackholed;
    proxy.set_blackhole(false);
    let next = timeout(
        Duration::from_secs(5),
        c.rpc::<_, Seq, E>("chaos", "echo", &Seq { i: 7 }),
    )
    .await
    .expect("in time")
    .expect("the next call works");
    assert_eq!(next, Seq { i: 7 });
    let new_session = c.session_id().expect("session");
    println!(
        "chaos_grace: grace {} ms; outage > grace: in-flight stream failed with {} after {} ms \
         ({held} reconnect attempts black-holed); server sessions/streams back to 0; next call ok \
         on a new session ({old_session} -> {new_session}); sessions created {}",
        grace.as_millis(),
        err,
        failed_after.as_millis(),
        c.stats().sessions_created
    );
    assert!(
        failed_after >= grace - Duration::from_millis(5),
        "{failed_after:?}"
    );
    assert!(
        failed_after <= grace + Duration::from_millis(700),
        "{failed_after:?}"
    );
    assert_ne!(old_session, new_session);
    c.close().await;
    server.shutdown().await;
}

/// Gaps between consecutive connection attempts, in ms.
fn gaps_ms(times: &[Instant]) -> Vec<u128> {
    times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).as_millis())
        .collect()
}

/// Reference §9.4: attempt `k` (1-based consumed count) waits `150 × 2^(k−1)` plus less
/// than 200 ms of jitter. Lower bound exact (minus timer/accept slop), upper bound with
/// slack for a loaded CI machine.
fn assert_backoff(gap: u128, consumed: u32) {
    let base = 150u128 << (consumed - 1);
    assert!(
        gap + 15 >= base && gap <= base + 200 + 250,
        "attempt after {consumed} consumed waited {gap} ms; expected {base}..{} ms",
        base + 200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_backoff_cold_start_follows_the_reference_budget() {
    let codec = Codec::Json;
    let (server, _obs) = start_server(codec, server_options(1_000, 5_000)).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    proxy.set_refusing(true);
    // The reference's defaults: 150 ms base, 200 ms jitter, budget 5.
    let c = client(codec, proxy.addr(), ClientOptions::default());
    let mut events = c.events();
    let t0 = Instant::now();
    let err = timeout(Duration::from_secs(10), c.connect())
        .await
        .expect("gives up in time")
        .expect_err("the server is down");
    let gave_up_after = t0.elapsed();
    let exhausted = std::iter::from_fn(|| events.try_recv().ok())
        .any(|e| e == ClientEvent::RetryBudgetExhausted);
    // No attempt after the budget is gone.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let times = proxy.accept_times();
    let first = times
        .first()
        .map(|t| t.duration_since(t0).as_millis())
        .unwrap_or(0);
    let gaps = gaps_ms(&times);
    println!(
        "chaos_backoff_cold: reference defaults; {} attempts; first after {first} ms; gaps {gaps:?} ms \
         (expected 150/300/600/1200 + <200 jitter); gave up after {} ms with \"{err}\"; \
         RetryBudgetExhausted event: {exhausted}",
        times.len(),
        gave_up_after.as_millis()
    );
    assert_eq!(times.len(), 5, "attempt budget 5");
    assert!(first <= 100, "the first attempt is immediate");
    for (k, gap) in gaps.iter().enumerate() {
        assert_backoff(*gap, k as u32 + 1);
    }
    assert!(exhausted, "RetryBudgetExhausted emitted");
    c.close().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_backoff_budget_restores_after_a_successful_reconnect() {
    let codec = Codec::Json;
    let (server, _obs) = start_server(codec, server_options(1_000, 10_000)).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    let mut opts = ClientOptions::default();
    opts.session.session_disconnect_grace = Duration::from_secs(10);
    let c = client(codec, proxy.addr(), opts);
    c.connect().await.expect("connect");
    let mut events = c.events();
    // Two failed reconnects, then success: 3 more attempts consumed (4 in all).
    proxy.set_refusing(true);
    let cut1 = Instant::now();
    proxy.cut();
    eventually("two refused attempts", Duration::from_secs(5), || {
        proxy.stats().refused >= 2
    })
    .await;
    proxy.set_refusing(false);
    timeout(Duration::from_secs(5), async {
        while !matches!(
            events.recv().await,
            Ok(ClientEvent::Connected {
                reconnect: true,
                ..
            })
        ) {}
    })
    .await
    .expect("reconnected");
    let times = proxy.accept_times();
    let first_round: Vec<u128> = std::iter::once(times[1].duration_since(cut1).as_millis())
        .chain(gaps_ms(&times[1..]))
        .collect();
    // Restoring: one attempt back per 200 ms, down to 1 (never 0).
    tokio::time::sleep(Duration::from_millis(900)).await;
    let cut2 = Instant::now();
    proxy.cut();
    eventually("reconnect attempt", Duration::from_secs(5), || {
        proxy.accept_times().len() > times.len()
    })
    .await;
    let after_restore = proxy.accept_times()[times.len()]
        .duration_since(cut2)
        .as_millis();
    println!(
        "chaos_backoff_restore: reference defaults; after a cut, attempts waited {first_round:?} ms \
         (expected 150/300/600 + <200 jitter); after 900 ms connected the budget was restored: \
         next reconnect waited {after_restore} ms (expected 150 + <200, not 1200)"
    );
    assert_eq!(first_round.len(), 3, "{first_round:?}");
    for (k, gap) in first_round.iter().enumerate() {
        assert_backoff(*gap, k as u32 + 1);
    }
    assert_backoff(after_restore, 1);
    c.close().await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_fin_closes_and_delay_lose_nothing() {
    let codec = Codec::Json;
    let (server, _obs) = start_server(codec, server_options(HEARTBEAT_MS, 5_000)).await;
    let proxy = FaultProxy::start(server.local_addr()).await.expect("proxy");
    let c = client(codec, proxy.addr(), fast_reconnect_options());
    c.connect().await.expect("connect");
    let session = c.session_id();

    // Delay: 30 ms each way; slower, but no reconnect (well under the 200 ms deadline).
    proxy.set_delay(Duration::from_millis(30));
    let t0 = Instant::now();
    c.rpc::<_, Seq, E>("chaos", "echo", &Seq { i: 1 })
        .await
        .expect("rpc");
    let rtt = t0.elapsed();
    let total = 2_000u64;
    let (mut w, mut r) = c.stream::<_, Seq, Seq, E>("chaos", "echoStream", &Plan::default());
    let writer = tokio::spawn(async move {
        for i in 0..total {
            w.send(Seq { i }).await.expect("send");
        }
        w
    });
    let mut got = Tally::default();
    for _ in 0..total / 2 {
        got.observe(r.next().await.expect("item").expect("ok").i);
    }
    let reconnects_delayed = c.stats().reconnects;
    // FIN: orderly closes, three times, while the rest flows.
    proxy.set_delay(Duration::ZERO);
    let closer = {
        let mut closes = 0;
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(60)).await;
            closes += proxy.close();
        }
        closes
    };
    for _ in total / 2..total {
        got.observe(r.next().await.expect("item").expect("ok").i);
    }
    let mut w = writer.await.expect("writer");
    w.close().await;
    let (rx, dup, lost, ooo) = got.figures(total);
    println!(
        "chaos_fin_delay: 30 ms proxy delay: rpc round trip {} ms, reconnects {reconnects_delayed}; \
         {closer} FIN closes; echoed {total}: received {rx} duplicates {dup} losses {lost} \
         out-of-order {ooo}; reconnects {}",
        rtt.as_millis(),
        c.stats().reconnects
    );
    assert!(rtt >= Duration::from_millis(60), "{rtt:?}");
    assert_eq!(reconnects_delayed, 0, "a slow link is not a dead link");
    assert_eq!((rx, dup, lost, ooo), (total, 0, 0, 0));
    assert_eq!(c.session_id(), session, "same session");
    c.close().await;
    server.shutdown().await;
}
