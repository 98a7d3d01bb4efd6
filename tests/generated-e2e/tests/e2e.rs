//! The API generated from `schemas/example.json`, end to end: the generated server traits
//! are implemented with `async fn`, registered on a `river_runtime::Server` listening on
//! 127.0.0.1:0, and called through the generated client, in both codecs: all four
//! procedure kinds and a service error.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use river_generated_e2e::example::{client::Client, server, types};
use river_runtime::{Codec, Context, Failure, Requests, Responses, RiverError, Router, Server};

struct Math;

impl server::MathService for Math {
    async fn divide(
        &self,
        _ctx: Context,
        init: types::MathDivideInit,
    ) -> Result<types::MathDivideOutput, Failure<types::MathDivideError>> {
        if init.b == 0.0 {
            return Err(Failure::Service(types::MathDivideError::DivideByZero {
                message: format!("{} / 0", init.a),
                extras: types::MathDivideErrorDivideByZeroExtras { dividend: init.a },
            }));
        }
        Ok(types::MathDivideOutput {
            quotient: init.a / init.b,
        })
    }

    async fn sum(
        &self,
        _ctx: Context,
        _init: types::MathSumInit,
        mut requests: Requests<types::MathSumInput>,
    ) -> Result<types::MathSumOutput, Failure<types::MathSumError>> {
        let (mut total, mut count) = (0.0, 0);
        while let Some(request) = requests.next().await {
            let request = request.map_err(Failure::uncaught)?;
            total += request.n;
            count += 1;
        }
        Ok(types::MathSumOutput { total, count })
    }
}

struct Ticker;

impl server::TickerService for Ticker {
    async fn count(
        &self,
        _ctx: Context,
        init: types::TickerCountInit,
        responses: Responses<types::TickerCountOutput, types::TickerCountError>,
    ) -> Result<(), Failure<types::TickerCountError>> {
        for n in 0..init.to {
            let item = types::TickerCountOutput {
                n,
                label: init.label.clone(),
            };
            responses.ok(item).await.map_err(Failure::uncaught)?;
        }
        Ok(())
    }
}

struct Chat;

impl server::ChatService for Chat {
    async fn echo(
        &self,
        _ctx: Context,
        init: types::ChatEchoInit,
        mut requests: Requests<types::ChatEchoInput>,
        responses: Responses<types::ChatEchoOutput, types::ChatEchoError>,
    ) -> Result<(), Failure<types::ChatEchoError>> {
        while let Some(Ok(request)) = requests.next().await {
            let text = format!("{}{}", init.prefix, request.text);
            responses
                .ok(types::ChatEchoOutput { text })
                .await
                .map_err(Failure::uncaught)?;
        }
        Ok(())
    }
}

/// Serves the example services and returns the server and a generated client for it.
async fn start(codec: Codec) -> (river_runtime::ServerHandle, Client) {
    let mut router = Router::new();
    server::register_math(&mut router, Arc::new(Math));
    server::register_ticker(&mut router, Arc::new(Ticker));
    server::register_chat(&mut router, Arc::new(Chat));
    let handle = Server::builder()
        .codec(codec)
        .bind("127.0.0.1:0", router)
        .await
        .expect("bind the server");
    let url = format!("ws://{}", handle.local_addr());
    // The project's tests validate what the client sends and receives.
    let validators = river_runtime::validate::SchemaValidators::compile(
        river_generated_e2e::example::SCHEMA_JSON,
    )
    .expect("the embedded schema compiles");
    let inner = river_runtime::Client::builder(url)
        .codec(codec)
        .validate(validators)
        .build();
    (handle, Client::new(inner))
}

/// Runs every procedure kind once against a fresh server.
async fn exercise(codec: Codec) {
    let (handle, client) = start(codec).await;
    let math = client.math();

    // rpc
    let out = math
        .divide(&types::MathDivideInit { a: 7.0, b: 2.0 })
        .await
        .expect("divide");
    assert_eq!(out, types::MathDivideOutput { quotient: 3.5 });

    // rpc with a service error
    match math.divide(&types::MathDivideInit { a: 1.0, b: 0.0 }).await {
        Err(RiverError::Service(types::MathDivideError::DivideByZero { message, extras })) => {
            assert_eq!(message, "1 / 0");
            assert_eq!(extras.dividend, 1.0);
        }
        other => panic!("expected DIVIDE_BY_ZERO, got {other:?}"),
    }

    // upload
    let (mut writer, response) = math.sum(&types::MathSumInit {});
    for n in [1.0, 2.5, 3.5] {
        writer
            .send(types::MathSumInput { n })
            .await
            .expect("send request");
    }
    writer.close().await;
    let out = response.await.expect("sum");
    assert_eq!(
        out,
        types::MathSumOutput {
            total: 7.0,
            count: 3
        }
    );

    // subscription
    let items: Vec<_> = client
        .ticker()
        .count(&types::TickerCountInit {
            to: 3,
            label: Some("t".into()),
        })
        .collect()
        .await;
    let ns: Vec<i64> = items
        .into_iter()
        .map(|item| item.expect("ticker item").n)
        .collect();
    assert_eq!(ns, [0, 1, 2]);

    // stream
    let (mut writer, mut reader) = client.chat().echo(&types::ChatEchoInit {
        prefix: "> ".into(),
    });
    for text in ["hello", "world"] {
        writer
            .send(types::ChatEchoInput { text: text.into() })
            .await
            .expect("send request");
        let item = reader.next().await.expect("a response").expect("ok");
        assert_eq!(item.text, format!("> {text}"));
    }
    writer.close().await;
    assert!(
        reader.next().await.is_none(),
        "the stream ends after the client closes"
    );

    client.inner().close().await;
    handle.shutdown().await;
}

#[tokio::test]
async fn generated_client_and_server_json() {
    tokio::time::timeout(Duration::from_secs(20), exercise(Codec::Json))
        .await
        .expect("timed out");
}

#[tokio::test]
async fn generated_client_and_server_msgpack() {
    tokio::time::timeout(Duration::from_secs(20), exercise(Codec::Msgpack))
        .await
        .expect("timed out");
}
