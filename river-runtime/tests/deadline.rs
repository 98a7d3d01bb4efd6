//! Per-call deadlines (`Response::timeout`, `Reader::timeout`) and cancellation by drop,
//! against a real server over loopback: the caller gets a timeout error and the
//! server's handler observes the cancellation.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use river_runtime::{
    AnyServiceError, Client, Codec, Failure, Requests, Responses, RiverError, Router, Server,
    ServerHandle,
};

type E = AnyServiceError;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Num {
    n: i64,
}

/// What a handler saw, sent to the test as it happens.
#[derive(Debug, PartialEq)]
enum Seen {
    Started(&'static str),
    Cancelled(&'static str),
}

/// Handlers that wait for their cancellation (reporting it), and a quick `rpc`.
fn router(seen: mpsc::UnboundedSender<Seen>) -> Router {
    let mut r = Router::new();
    let tx = seen.clone();
    r.rpc("slow", "rpc", move |ctx, _init: Num| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(Seen::Started("rpc"));
            ctx.cancelled().await;
            let _ = tx.send(Seen::Cancelled("rpc"));
            Ok::<Num, Failure<E>>(Num { n: 0 })
        }
    });
    let tx = seen.clone();
    r.upload(
        "slow",
        "upload",
        move |ctx, _init: Num, _reqs: Requests<Num>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Seen::Started("upload"));
                ctx.cancelled().await;
                let _ = tx.send(Seen::Cancelled("upload"));
                Ok::<Num, Failure<E>>(Num { n: 0 })
            }
        },
    );
    let tx = seen;
    r.subscription(
        "slow",
        "subscription",
        move |ctx, _init: Num, resps: Responses<Num, E>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Seen::Started("subscription"));
                resps.ok(Num { n: 1 }).await.map_err(Failure::uncaught)?;
                ctx.cancelled().await;
                let _ = tx.send(Seen::Cancelled("subscription"));
                Ok::<(), Failure<E>>(())
            }
        },
    );
    r.rpc("quick", "double", |_ctx, init: Num| async move {
        Ok::<_, Failure<E>>(Num { n: init.n * 2 })
    });
    r
}

struct Fixture {
    server: ServerHandle,
    client: Client,
    seen: mpsc::UnboundedReceiver<Seen>,
}

async fn start(codec: Codec) -> Fixture {
    let (tx, seen) = mpsc::unbounded_channel();
    let server = Server::builder()
        .codec(codec)
        .bind("127.0.0.1:0", router(tx))
        .await
        .expect("bind a loopback port");
    let client = Client::builder(format!("ws://{}", server.local_addr()))
        .codec(codec)
        .build();
    Fixture {
        server,
        client,
        seen,
    }
}

impl Fixture {
    async fn expect(&mut self, want: Seen) {
        let got = tokio::time::timeout(Duration::from_secs(5), self.seen.recv())
            .await
            .unwrap_or_else(|_| panic!("the handler never reported {want:?}"));
        assert_eq!(got, Some(want));
    }
}

#[tokio::test]
async fn rpc_timeout_cancels_the_call_on_the_server() {
    for codec in [Codec::Json, Codec::Msgpack] {
        let mut fx = start(codec).await;
        let result: Result<Num, RiverError<E>> = fx
            .client
            .rpc("slow", "rpc", &Num { n: 1 })
            .timeout(Duration::from_millis(50))
            .await;
        let err = result.expect_err("the handler never answers");
        assert!(err.is_timeout(), "{err:?}");
        assert!(!err.is_cancel(), "{err:?}");
        assert_eq!(err.to_string(), "deadline exceeded after 50ms");
        assert_eq!(
            err.transport_error().and_then(|e| e.deadline()),
            Some(Duration::from_millis(50))
        );
        fx.expect(Seen::Started("rpc")).await;
        fx.expect(Seen::Cancelled("rpc")).await;

        // A call that finishes in time is not affected, and the session still works.
        let doubled: Num = fx
            .client
            .rpc::<_, Num, E>("quick", "double", &Num { n: 21 })
            .timeout(Duration::from_secs(5))
            .await
            .expect("answered in time");
        assert_eq!(doubled, Num { n: 42 });
        fx.server.shutdown().await;
    }
}

#[tokio::test]
async fn upload_response_timeout_cancels_the_call_on_the_server() {
    let mut fx = start(Codec::Json).await;
    let (mut writer, response) =
        fx.client
            .upload::<_, Num, Num, E>("slow", "upload", &Num { n: 1 });
    writer.send(Num { n: 2 }).await.expect("send");
    let err = response
        .timeout(Duration::from_millis(50))
        .await
        .expect_err("the handler never answers");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.to_string(), "deadline exceeded after 50ms");
    fx.expect(Seen::Started("upload")).await;
    fx.expect(Seen::Cancelled("upload")).await;
    // The cancel closed the request half too.
    assert!(!writer.is_open());
    assert!(writer.send(Num { n: 3 }).await.is_err());
    fx.server.shutdown().await;
}

#[tokio::test]
async fn reader_timeout_ends_a_subscription_and_cancels_it_on_the_server() {
    let mut fx = start(Codec::Json).await;
    let mut reader = fx
        .client
        .subscribe::<_, Num, E>("slow", "subscription", &Num { n: 1 })
        .timeout(Duration::from_millis(200));
    let first = reader.next().await.expect("one item").expect("ok");
    assert_eq!(first, Num { n: 1 });
    let err = reader
        .next()
        .await
        .expect("the timeout error")
        .expect_err("no second item");
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.to_string(), "deadline exceeded after 200ms");
    assert!(reader.next().await.is_none(), "nothing after the timeout");
    fx.expect(Seen::Started("subscription")).await;
    fx.expect(Seen::Cancelled("subscription")).await;
    fx.server.shutdown().await;
}

#[tokio::test]
async fn dropping_a_call_through_tokio_timeout_cancels_it_on_the_server() {
    let mut fx = start(Codec::Json).await;
    let call = fx.client.rpc::<_, Num, E>("slow", "rpc", &Num { n: 1 });
    let timed = tokio::time::timeout(Duration::from_millis(50), call).await;
    assert!(timed.is_err(), "the handler never answers");
    fx.expect(Seen::Started("rpc")).await;
    fx.expect(Seen::Cancelled("rpc")).await;
    fx.server.shutdown().await;
}
