//! Metrics with the `metrics` feature, read from a real recorder (metrics-util's
//! `DebuggingRecorder`, installed globally: this file has one test) over real sockets:
//! calls started and finished by procedure and outcome, call durations, open sessions and
//! streams, reconnects, frames and bytes in both directions on both sides.
#![cfg(feature = "metrics")]

mod telemetry_support;

use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

use river_runtime::{Client, Codec, Server};
use telemetry_support::{call_every_kind, router, Num, E};

/// Running totals of every series. The debugging recorder's snapshot swaps each value to
/// zero, so counters, gauges (their deltas) and histogram sample counts are added up here.
#[derive(Default)]
struct Metrics(std::collections::HashMap<(String, Vec<(String, String)>), f64>);

impl Metrics {
    fn update(&mut self, snapshotter: &Snapshotter) -> &Metrics {
        for (ck, _, _, v) in snapshotter.snapshot().into_vec() {
            let (_, key) = ck.into_parts();
            let labels = key
                .labels()
                .map(|l| (l.key().to_string(), l.value().to_string()))
                .collect();
            let delta = match v {
                DebugValue::Counter(c) => c as f64,
                DebugValue::Gauge(g) => g.into_inner(),
                DebugValue::Histogram(h) => h.len() as f64,
            };
            *self.0.entry((key.name().to_string(), labels)).or_default() += delta;
        }
        self
    }

    /// The total of the series `name` whose labels include all of `labels`, summed over
    /// the series that match (for a histogram: its number of samples).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|((n, l), _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, v)| *v)
            .sum::<f64>()
            + 0.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_sessions_streams_reconnects_frames_and_bytes_are_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .expect("the only recorder in this test binary");
    let mut totals = Metrics::default();

    let mut options = river_runtime::ServerOptions::default();
    options.session.session_disconnect_grace = Duration::from_millis(1500);
    let server = Server::builder()
        .codec(Codec::Msgpack)
        .options(options)
        .bind("127.0.0.1:0", router())
        .await
        .expect("bind");
    let proxy = fault_proxy::FaultProxy::start(server.local_addr())
        .await
        .expect("proxy");
    let client = Client::builder(format!("ws://{}", proxy.addr()))
        .codec(Codec::Msgpack)
        .build();

    call_every_kind(&client).await;
    // A subscription the caller drops after one item: cancelled on both sides.
    let mut rd = client.subscribe::<_, Num, E>("obs", "count", &Num { n: 1_000_000 });
    rd.next().await.expect("an item").expect("ok");
    drop(rd);
    // A cut: the client reconnects transparently and the session goes on.
    proxy.cut();
    let _: Num = client
        .rpc::<_, _, E>("obs", "add", &Num { n: 2 })
        .await
        .expect("add after the cut");

    let m = totals.update(&snapshotter);
    for side in ["client", "server"] {
        let s = ("side", side);
        assert_eq!(m.value("river_sessions_open", &[s]), 1.0, "{side}");
        let started = |p: &str, k: &str| {
            m.value(
                "river_calls_started_total",
                &[s, ("service", "obs"), ("procedure", p), ("kind", k)],
            )
        };
        assert_eq!(started("add", "rpc"), 2.0, "{side}");
        assert_eq!(started("sum", "upload"), 1.0, "{side}");
        assert_eq!(started("echo", "stream"), 1.0, "{side}");
        assert_eq!(started("count", "subscription"), 2.0, "{side}");
        assert_eq!(started("fail", "rpc"), 1.0, "{side}");
        let finished = |p: &str, outcome: &str| {
            m.value(
                "river_calls_finished_total",
                &[s, ("procedure", p), ("outcome", outcome)],
            )
        };
        assert_eq!(finished("add", "ok"), 2.0, "{side}");
        assert_eq!(finished("sum", "ok"), 1.0, "{side}");
        assert_eq!(finished("echo", "ok"), 1.0, "{side}");
        assert_eq!(finished("fail", "service_error"), 1.0, "{side}");
        assert_eq!(
            m.value(
                "river_call_duration_seconds",
                &[s, ("procedure", "add"), ("outcome", "ok")]
            ),
            2.0,
            "{side}: two duration samples"
        );
        assert!(m.value("river_reconnects_total", &[s]) >= 1.0, "{side}");
        for dir in ["in", "out"] {
            let frames = m.value("river_frames_total", &[s, ("direction", dir)]);
            let bytes = m.value("river_bytes_total", &[s, ("direction", dir)]);
            assert!(frames >= 10.0, "{side} {dir}: {frames} frames");
            assert!(bytes > frames, "{side} {dir}: {bytes} bytes");
        }
    }
    assert_eq!(
        m.value(
            "river_calls_finished_total",
            &[
                ("side", "client"),
                ("procedure", "count"),
                ("outcome", "cancelled")
            ]
        ),
        1.0
    );

    // The server finishes the cancelled subscription when the cancel arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let m = totals.update(&snapshotter);
    assert_eq!(
        m.value(
            "river_calls_finished_total",
            &[
                ("side", "server"),
                ("procedure", "count"),
                ("outcome", "cancelled")
            ]
        ),
        1.0
    );
    for side in ["client", "server"] {
        assert_eq!(
            m.value("river_streams_open", &[("side", side)]),
            0.0,
            "{side}"
        );
    }

    // Closing ends the client's session at once, the server's after its grace period.
    client.close().await;
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let m = totals.update(&snapshotter);
    for side in ["client", "server"] {
        assert_eq!(
            m.value("river_sessions_open", &[("side", side)]),
            0.0,
            "{side}"
        );
    }
    server.shutdown().await;
}
