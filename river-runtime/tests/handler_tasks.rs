//! The task that runs a handler (`server/handler_task.rs`) over a real socket, both
//! codecs: a panic anywhere in a handler, in its first poll or after it has waited, and
//! a panic in the `Serialize` of an item it sends, end the call with `UNCAUGHT_ERROR`
//! carrying the panic's message, after everything the handler sent before; the session
//! and the other calls on it go on.

use std::time::Duration;

use futures::StreamExt;
use river_runtime::{AnyServiceError, Client, Codec, Failure, Router, Server, ServerHandle, Value};
use serde::{Serialize, Serializer};

const CODECS: [Codec; 2] = [Codec::Json, Codec::Msgpack];
const WAIT: Duration = Duration::from_secs(10);

/// A value whose `Serialize` panics.
struct Explodes;

impl Serialize for Explodes {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("serialize exploded")
    }
}

fn router() -> Router {
    let mut r = Router::new();
    // Echoes the first request, then panics while handling the second: the panic
    // happens in the spawned task, after the handler has waited twice.
    r.stream::<Value, Value, Value, Value, _, _>(
        "tasks",
        "echoThenPanic",
        |_ctx, _init, mut requests, responses| async move {
            if let Some(Ok(first)) = requests.next().await {
                let _ = responses.ok(first).await;
            }
            if let Some(Ok(_second)) = requests.next().await {
                panic!("stream handler exploded");
            }
            Ok::<(), Failure<Value>>(())
        },
    );
    // Sends one (error) item, then an item whose encoding panics (inside `ok`, which
    // encodes at the call).
    r.subscription::<Value, Explodes, Value, _, _>(
        "tasks",
        "badItem",
        |_ctx, _init, responses| async move {
            let soft = Value::from_iter([
                ("code", Value::from("SOFT")),
                ("message", Value::from("fine")),
            ]);
            let _ = responses.err(soft).await;
            let _ = responses.ok(Explodes).await;
            Ok::<(), Failure<Value>>(())
        },
    );
    // Panics after yielding once, so not in the session task's first poll.
    r.rpc("tasks", "panicLater", |_ctx, _init: Value| async move {
        tokio::task::yield_now().await;
        if true {
            panic!("rpc handler exploded later");
        }
        Ok::<Value, Failure<AnyServiceError>>(Value::Null)
    });
    r.rpc("tasks", "ping", |_ctx, init: Value| async move {
        Ok::<Value, Failure<AnyServiceError>>(init)
    });
    r
}

async fn start(codec: Codec) -> (ServerHandle, Client) {
    let server = Server::builder()
        .codec(codec)
        .bind("127.0.0.1:0", router())
        .await
        .expect("bind");
    let client = Client::builder(format!("ws://{}", server.local_addr()))
        .codec(codec)
        .build();
    (server, client)
}

async fn ping_still_works(client: &Client, codec: Codec) {
    let pong = tokio::time::timeout(
        WAIT,
        client.rpc::<_, Value, AnyServiceError>("tasks", "ping", &Value::from(7)),
    )
    .await
    .expect("ping answered")
    .expect("ping ok");
    assert_eq!(pong.as_i64(), Some(7), "{codec:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_handler_that_panics_after_waiting_ends_with_uncaught_error() {
    for codec in CODECS {
        let (server, client) = start(codec).await;
        let (mut w, mut r) = client.stream::<_, Value, Value, AnyServiceError>(
            "tasks",
            "echoThenPanic",
            &Value::Null,
        );
        w.send(Value::from("one")).await.expect("send one");
        let echoed = tokio::time::timeout(WAIT, r.next())
            .await
            .expect("echo came")
            .expect("an item")
            .expect("ok");
        assert_eq!(echoed.as_str(), Some("one"), "{codec:?}");
        w.send(Value::from("two")).await.expect("send two");
        let err = tokio::time::timeout(WAIT, r.next())
            .await
            .expect("the failure came")
            .expect("an item")
            .expect_err("the handler panicked");
        assert!(err.is_uncaught(), "{codec:?}: {err:?}");
        let message = &err.protocol().expect("a protocol error").message;
        assert!(
            message.contains("stream handler exploded"),
            "{codec:?}: {message}"
        );
        assert!(
            tokio::time::timeout(WAIT, r.next())
                .await
                .expect("ended")
                .is_none(),
            "{codec:?}: the stream ends after the failure"
        );
        ping_still_works(&client, codec).await;
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_whose_serialize_panics_ends_the_call_after_the_items_before_it() {
    for codec in CODECS {
        let (server, client) = start(codec).await;
        let mut r = client.subscribe::<_, Value, AnyServiceError>("tasks", "badItem", &Value::Null);
        let first = tokio::time::timeout(WAIT, r.next())
            .await
            .expect("first item came")
            .expect("an item")
            .expect_err("the first item is an Err item");
        let soft = first.service().expect("a service error item");
        assert_eq!(soft.code, "SOFT", "{codec:?}");
        let err = tokio::time::timeout(WAIT, r.next())
            .await
            .expect("the failure came")
            .expect("an item")
            .expect_err("encoding panicked");
        assert!(err.is_uncaught(), "{codec:?}: {err:?}");
        let message = &err.protocol().expect("a protocol error").message;
        assert!(
            message.contains("serialize exploded"),
            "{codec:?}: {message}"
        );
        ping_still_works(&client, codec).await;
        server.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rpc_handler_that_panics_after_yielding_answers_uncaught_error() {
    for codec in CODECS {
        let (server, client) = start(codec).await;
        let err = tokio::time::timeout(
            WAIT,
            client.rpc::<_, Value, AnyServiceError>("tasks", "panicLater", &Value::Null),
        )
        .await
        .expect("answered")
        .expect_err("the handler panicked");
        assert!(err.is_uncaught(), "{codec:?}: {err:?}");
        let message = &err.protocol().expect("a protocol error").message;
        assert!(
            message.contains("rpc handler exploded later"),
            "{codec:?}: {message}"
        );
        ping_still_works(&client, codec).await;
        server.shutdown().await;
    }
}
