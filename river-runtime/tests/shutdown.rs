//! Graceful shutdown over real sockets: calls in flight finish, new connections are
//! refused, new calls on live sessions are turned away, and the future resolves by the
//! deadline.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use river_runtime::{
    AnyServiceError, Client, ClientOptions, Failure, ProtocolErrorCode, Router, Server,
};

type E = AnyServiceError;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Ms {
    ms: u64,
}

fn router() -> Router {
    let mut r = Router::new();
    r.rpc("test", "sleep", |_ctx, init: Ms| async move {
        tokio::time::sleep(Duration::from_millis(init.ms)).await;
        Ok::<_, Failure<E>>(init)
    });
    r
}

fn options() -> ClientOptions {
    let mut o = ClientOptions::default();
    o.session.session_disconnect_grace = Duration::from_millis(500);
    o.connection_timeout = Duration::from_millis(500);
    o
}

#[tokio::test]
async fn in_flight_rpc_completes_and_new_connections_are_refused() {
    let handle = Server::builder()
        .bind("127.0.0.1:0", router())
        .await
        .expect("bind");
    let addr = handle.local_addr();
    let server = handle.server().clone();
    let c = Client::builder(format!("ws://{addr}")).build();
    c.connect().await.expect("connect");

    let call = {
        let c = c.clone();
        tokio::spawn(async move { c.rpc::<_, Ms, E>("test", "sleep", &Ms { ms: 1500 }).await })
    };
    // Let the call reach its handler.
    for _ in 0..100 {
        if server.stream_count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(server.stream_count(), 1);

    let started = Instant::now();
    let deadline = Duration::from_secs(3);
    let shutdown = tokio::spawn(async move { handle.graceful_shutdown(deadline).await });
    tokio::time::sleep(Duration::from_millis(50)).await;

    // A new call on the live session is turned away.
    let err = c
        .rpc::<_, Ms, E>("test", "sleep", &Ms { ms: 1 })
        .await
        .expect_err("draining");
    assert_eq!(
        err.protocol().map(|p| (p.code, p.message.as_str())),
        Some((ProtocolErrorCode::Cancel, "server is shutting down"))
    );
    // New connections are refused while the call drains.
    let newcomer = Client::builder(format!("ws://{addr}"))
        .options(options())
        .build();
    let attempt = Instant::now();
    let err = newcomer.connect().await.expect_err("no longer accepting");
    assert!(err.is_connect(), "{err:?}");
    assert!(attempt.elapsed() < Duration::from_millis(1500));

    let out = call
        .await
        .expect("join")
        .expect("the in-flight rpc completes");
    assert_eq!(out, Ms { ms: 1500 });
    let report = shutdown.await.expect("join");
    assert!(report.drained, "{report:?}");
    assert_eq!(report.cut_streams, 0);
    assert!(
        started.elapsed() < deadline,
        "resolved before the deadline: {:?}",
        started.elapsed()
    );
    assert_eq!(server.session_count(), 0);
}

#[tokio::test]
async fn calls_still_running_at_the_deadline_are_cut() {
    let handle = Server::builder()
        .bind("127.0.0.1:0", router())
        .await
        .expect("bind");
    let c = Client::builder(format!("ws://{}", handle.local_addr()))
        .options(options())
        .build();
    c.connect().await.expect("connect");
    let call = {
        let c = c.clone();
        tokio::spawn(async move { c.rpc::<_, Ms, E>("test", "sleep", &Ms { ms: 60_000 }).await })
    };
    let server = handle.server().clone();
    for _ in 0..100 {
        if server.stream_count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = Instant::now();
    let report = handle.graceful_shutdown(Duration::from_millis(300)).await;
    let took = started.elapsed();
    assert!(!report.drained);
    assert_eq!(report.cut_streams, 1);
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    let err = call.await.expect("join").expect_err("cut at the deadline");
    assert!(err.is_disconnect(), "{err:?}");
}
