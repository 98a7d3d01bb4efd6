//! River mounted in a real axum app (feature `axum`): the upgrade authorizer answers a
//! wrong token with 401 after exactly one attempt, the right token works, and the
//! app's other routes still answer plain HTTP.
#![cfg(feature = "axum")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use river_runtime::{AnyServiceError, Client, Codec, Failure, Router, Server, UpgradeRejection};

type E = AnyServiceError;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Num {
    n: i64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Msg {
    msg: String,
}

fn procedures() -> Router {
    let mut r = Router::new();
    r.rpc("test", "double", |_ctx, init: Num| async move {
        Ok::<_, Failure<E>>(Num { n: init.n * 2 })
    });
    r.rpc("test", "peer", |ctx, _init: Num| async move {
        let req = ctx.upgrade_request();
        Ok::<_, Failure<E>>(Msg {
            msg: format!("{}|{}", req.path(), req.peer_addr().is_some()),
        })
    });
    r
}

async fn app(codec: Codec) -> (SocketAddr, Server, tokio::task::JoinHandle<()>) {
    let river = Server::builder()
        .codec(codec)
        .authorize_upgrade(|req| match req.bearer_token() {
            Some("s3cret") => Ok(()),
            _ => Err(UpgradeRejection::unauthorized("missing or wrong token")),
        })
        .build(procedures());
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route("/river", river_runtime::axum::route(river.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let serve = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (addr, river, serve)
}

#[tokio::test]
async fn wrong_token_is_401_after_one_attempt_right_token_works_other_routes_answer() {
    for codec in [Codec::Json, Codec::Msgpack] {
        let (addr, river, serve) = app(codec).await;
        let url = format!("ws://{addr}/river");

        let bad = Client::builder(url.clone())
            .codec(codec)
            .header("authorization", "Bearer wrong")
            .build();
        let started = Instant::now();
        let err = bad
            .rpc::<_, Num, E>("test", "double", &Num { n: 1 })
            .await
            .expect_err("401");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert!(err.is_unauthorized(), "{err:?}");
        assert!(err.to_string().contains("401"), "{err}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(bad.stats().connection_attempts, 1);

        let good = Client::builder(url)
            .codec(codec)
            .header("authorization", "Bearer s3cret")
            .build();
        let out: Num = good
            .rpc::<_, _, E>("test", "double", &Num { n: 21 })
            .await
            .expect("authorized call");
        assert_eq!(out, Num { n: 42 });
        let out: Msg = good
            .rpc::<_, _, E>("test", "peer", &Num { n: 0 })
            .await
            .expect("call");
        assert_eq!(out.msg, "/river|true");
        assert_eq!(river.session_count(), 1);

        // Another route of the same app still answers plain HTTP.
        let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let mut body = String::new();
        tcp.read_to_string(&mut body).await.expect("read");
        assert!(body.starts_with("HTTP/1.1 200"), "{body}");
        assert!(body.ends_with("ok"), "{body}");

        // A plain GET of the River route is not an upgrade.
        let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(b"GET /river HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        let mut body = String::new();
        tcp.read_to_string(&mut body).await.expect("read");
        assert!(body.starts_with("HTTP/1.1 400"), "{body}");

        good.close().await;
        let report = river.graceful_shutdown(Duration::from_secs(1)).await;
        assert!(report.drained);
        serve.abort();
    }
}
