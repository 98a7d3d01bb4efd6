//! Shared pieces of the reliability tests (chaos, limits, load): a router with
//! sequence-checking procedures, option presets and exactly-once bookkeeping.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use river_runtime::{
    AnyServiceError, Client, ClientOptions, Codec, Failure, Router, Server, ServerHandle,
    ServerOptions,
};
use serde::{Deserialize, Serialize};

/// The service error type of every procedure here.
pub type E = AnyServiceError;

/// One numbered message.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
pub struct Seq {
    pub i: u64,
}

/// How many items a stream or subscription handler sends, and how slowly a handler reads.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Default)]
pub struct Plan {
    /// Items the server sends.
    pub send: u64,
    /// The handler sleeps this many microseconds per request for the first
    /// `slow_for` requests.
    pub read_delay_us: u64,
    pub slow_for: u64,
}

/// Exactly-once bookkeeping of a numbered sequence `0..n`.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Default)]
pub struct Tally {
    pub received: u64,
    pub duplicates: u64,
    pub out_of_order: u64,
    next: u64,
}

impl Tally {
    /// Records one received number.
    pub fn observe(&mut self, i: u64) {
        self.received += 1;
        if i < self.next {
            self.duplicates += 1;
        } else {
            if i > self.next {
                self.out_of_order += 1;
            }
            self.next = i + 1;
        }
    }
    /// Numbers of `0..total` never seen (assuming no reordering).
    pub fn losses(&self, total: u64) -> u64 {
        total.saturating_sub(self.received - self.duplicates)
    }
    /// `(received, duplicates, losses, out_of_order)` against `total`.
    pub fn figures(&self, total: u64) -> (u64, u64, u64, u64) {
        (
            self.received,
            self.duplicates,
            self.losses(total),
            self.out_of_order,
        )
    }
}

/// What the server side observed, shared with the test.
#[derive(Clone, Default)]
pub struct Observed {
    /// The last finished request tally of `chaos.stream`.
    pub stream_requests: Arc<Mutex<Option<Tally>>>,
    /// Items produced by `chaos.firehose` / `chaos.stream` so far.
    pub produced: Arc<AtomicU64>,
    /// Requests consumed by handlers so far.
    pub consumed: Arc<AtomicU64>,
}

/// The test router:
/// - `chaos.stream(Plan)`: reads numbered requests (tallying them) while sending
///   `plan.send` numbered results; returns when both are done.
/// - `chaos.upload(Plan)`: reads numbered requests (slowly at first, per the plan) and
///   returns the tally.
/// - `chaos.echo(Seq)`: rpc returning its input.
/// - `chaos.echoStream`: echoes every request.
/// - `chaos.firehose(Plan)`: subscription sending `plan.send` numbered results as fast
///   as backpressure allows.
pub fn router(obs: &Observed) -> Router {
    let mut r = Router::new();
    let o = obs.clone();
    r.stream("chaos", "stream", move |_ctx, plan: Plan, mut reqs, res| {
        let o = o.clone();
        async move {
            let read = async {
                let mut t = Tally::default();
                while let Some(Ok(Seq { i })) = reqs.next().await {
                    t.observe(i);
                    o.consumed.fetch_add(1, Ordering::SeqCst);
                }
                t
            };
            let write = async {
                for i in 0..plan.send {
                    if res.ok(Seq { i }).await.is_err() {
                        break;
                    }
                    o.produced.fetch_add(1, Ordering::SeqCst);
                }
            };
            let (t, ()) = tokio::join!(read, write);
            *o.stream_requests.lock().unwrap_or_else(|e| e.into_inner()) = Some(t);
            Ok::<(), Failure<E>>(())
        }
    });
    let o = obs.clone();
    r.upload("chaos", "upload", move |_ctx, plan: Plan, mut reqs| {
        let o = o.clone();
        async move {
            let mut t = Tally::default();
            let mut n = 0u64;
            while let Some(item) = reqs.next().await {
                let Ok(Seq { i }) = item else { break };
                if n < plan.slow_for && plan.read_delay_us > 0 {
                    tokio::time::sleep(Duration::from_micros(plan.read_delay_us)).await;
                }
                n += 1;
                t.observe(i);
                o.consumed.fetch_add(1, Ordering::SeqCst);
            }
            Ok::<Tally, Failure<E>>(t)
        }
    });
    r.rpc("chaos", "echo", |_ctx, s: Seq| async move {
        Ok::<Seq, Failure<E>>(s)
    });
    r.stream(
        "chaos",
        "echoStream",
        |_ctx, _init: Plan, mut reqs, res| async move {
            while let Some(Ok(s)) = reqs.next().await {
                let s: Seq = s;
                if res.ok(s).await.is_err() {
                    break;
                }
            }
            Ok::<(), Failure<E>>(())
        },
    );
    let o = obs.clone();
    r.subscription("chaos", "firehose", move |_ctx, plan: Plan, res| {
        let o = o.clone();
        async move {
            for i in 0..plan.send {
                if res.ok(Seq { i }).await.is_err() {
                    break;
                }
                o.produced.fetch_add(1, Ordering::SeqCst);
            }
            Ok::<(), Failure<E>>(())
        }
    });
    r
}

/// Server options: heartbeat, grace, everything else the reference's defaults.
pub fn server_options(heartbeat_ms: u64, grace_ms: u64) -> ServerOptions {
    let mut o = ServerOptions::default();
    o.session.heartbeat_interval = Duration::from_millis(heartbeat_ms);
    o.session.session_disconnect_grace = Duration::from_millis(grace_ms);
    o
}

/// Client options: heartbeat, grace, everything else the reference's defaults.
pub fn client_options(heartbeat_ms: u64, grace_ms: u64) -> ClientOptions {
    let mut o = ClientOptions::default();
    o.session.heartbeat_interval = Duration::from_millis(heartbeat_ms);
    o.session.session_disconnect_grace = Duration::from_millis(grace_ms);
    o
}

/// Starts a server for [`router`] on 127.0.0.1.
pub async fn start_server(codec: Codec, opts: ServerOptions) -> (ServerHandle, Observed) {
    let obs = Observed::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = Server::builder()
        .codec(codec)
        .options(opts)
        .serve(listener, router(&obs));
    (server, obs)
}

/// A client of `addr`.
pub fn client(codec: Codec, addr: std::net::SocketAddr, opts: ClientOptions) -> Client {
    Client::builder(format!("ws://{addr}"))
        .codec(codec)
        .options(opts)
        .build()
}

/// Polls `cond` every 10 ms for at most `limit`; panics with `what` when it never holds.
pub async fn eventually(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
