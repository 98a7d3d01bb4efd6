//! Request validation over a real socket, both codecs: a server whose router has the
//! schema (`Router::schema`) answers a constraint violation in an rpc init with
//! `INVALID_REQUEST` "procedure init failed validation" (no extras, as the reference),
//! and one in an upload item with "message in requestData position did not match
//! schema" plus `extras` (`totalErrors`, the first five `{path, message}`); it rejects
//! `optAbsent: null` for an Optional field of the interop contract. A client with
//! `ClientBuilder::validate` refuses to send what the server would reject.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use river_runtime::validate::SchemaValidators;
use river_runtime::{
    AnyServiceError, Bytes, Client, Codec, ProtocolErrorCode, RiverError, Router, Server,
    ServerHandle, Value,
};
use serde_json::json;

const CODECS: [Codec; 2] = [Codec::Json, Codec::Msgpack];

/// A small River schema document with constraints (as `serializeSchema` writes it).
fn constrained_schema() -> String {
    json!({"services": {"shop": {"procedures": {
        "order": {
            "type": "rpc",
            "init": {"type": "object", "required": ["sku", "qty"], "properties": {
                "sku": {"type": "string", "minLength": 3, "maxLength": 8, "pattern": "^[A-Z]+-\\d+$"},
                "qty": {"type": "integer", "minimum": 1, "maximum": 10},
                "note": {"type": "string"}
            }, "additionalProperties": false},
            "output": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
            "errors": {"not": {}}
        },
        "collect": {
            "type": "upload",
            "init": {"type": "object", "properties": {}},
            "input": {"type": "object", "required": ["tags"], "properties": {
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 3}, "uniqueItems": true, "maxItems": 3}
            }},
            "output": {"type": "number"},
            "errors": {"not": {}}
        }
    }}}})
    .to_string()
}

fn interop_schema() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/interop.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

struct Fixture {
    server: ServerHandle,
    calls: Arc<AtomicUsize>,
}

async fn start(codec: Codec) -> Fixture {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut router = Router::new();
    let c = calls.clone();
    router.rpc::<Value, Value, AnyServiceError, _, _>("shop", "order", move |_ctx, _init| {
        c.fetch_add(1, Ordering::SeqCst);
        async move { Ok(Value::from_serialize(&json!({"ok": true})).unwrap_or_default()) }
    });
    router.upload::<Value, Value, f64, AnyServiceError, _, _>(
        "shop",
        "collect",
        |_ctx, _init, mut requests| async move {
            let mut n = 0.0;
            while let Some(item) = requests.next().await {
                if item.is_err() {
                    break;
                }
                n += 1.0;
            }
            Ok(n)
        },
    );
    let c = calls.clone();
    router.rpc::<Value, Value, AnyServiceError, _, _>("test", "echoAll", move |_ctx, init| {
        c.fetch_add(1, Ordering::SeqCst);
        async move { Ok(init) }
    });
    router.schema(&constrained_schema(), "shop");
    router.schema(&interop_schema(), "test");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    // `test.echoDate` cannot travel over JSON; these tests do not call it.
    let server = Server::builder()
        .codec(codec)
        .skip_binary_codec_check()
        .serve(listener, router);
    Fixture { server, calls }
}

fn client(codec: Codec, fx: &Fixture) -> Client {
    Client::builder(format!("ws://{}", fx.server.local_addr()))
        .codec(codec)
        .build()
}

fn v(json: serde_json::Value) -> Value {
    Value::from_serialize(&json).expect("value")
}

async fn order(
    client: &Client,
    init: serde_json::Value,
) -> Result<Value, RiverError<AnyServiceError>> {
    client
        .rpc::<_, Value, AnyServiceError>("shop", "order", &v(init))
        .await
}

fn invalid_init(r: Result<Value, RiverError<AnyServiceError>>) {
    match r {
        Err(RiverError::Protocol(p)) => {
            assert_eq!(p.code, ProtocolErrorCode::InvalidRequest, "{p}");
            assert_eq!(p.message, "procedure init failed validation");
            assert!(
                p.extras.is_none(),
                "the reference sends no extras for a bad init"
            );
        }
        other => panic!("expected INVALID_REQUEST, got {other:?}"),
    }
}

#[tokio::test]
async fn rpc_init_constraint_violations_are_invalid_requests() {
    for codec in CODECS {
        let fx = start(codec).await;
        let c = client(codec, &fx);
        // At the edges: valid.
        order(&c, json!({"sku": "AB-1", "qty": 1}))
            .await
            .expect("min edges");
        order(&c, json!({"sku": "ABCDE-12", "qty": 10}))
            .await
            .expect("max edges");
        let before = fx.calls.load(Ordering::SeqCst);
        // Just past each edge: rejected before the handler.
        for bad in [
            json!({"sku": "A-", "qty": 1}),                 // too short, no digit
            json!({"sku": "ABCDEF-12", "qty": 1}),          // 9 characters
            json!({"sku": "ab-1", "qty": 1}),               // pattern
            json!({"sku": "AB-1", "qty": 0}),               // minimum
            json!({"sku": "AB-1", "qty": 11}),              // maximum
            json!({"sku": "AB-1", "qty": 1.5}),             // integer
            json!({"sku": "AB-1", "qty": 1, "x": 1}),       // additionalProperties
            json!({"sku": "AB-1", "qty": 1, "note": null}), // Optional is not nullable
            json!({"qty": 1}),                              // required
        ] {
            invalid_init(order(&c, bad).await);
        }
        assert_eq!(
            fx.calls.load(Ordering::SeqCst),
            before,
            "a handler saw an invalid init"
        );
        c.close().await;
        fx.server.shutdown().await;
    }
}

#[tokio::test]
async fn upload_item_violations_carry_the_references_extras() {
    for codec in CODECS {
        let fx = start(codec).await;
        let c = client(codec, &fx);
        let (mut w, resp) =
            c.upload::<_, Value, f64, AnyServiceError>("shop", "collect", &v(json!({})));
        w.send(v(json!({"tags": ["a", "bb"]})))
            .await
            .expect("valid item");
        w.send(v(json!({"tags": ["a", "a", "toolong", 1, "b"], "x/y": 1})))
            .await
            .expect("sent");
        match resp.await {
            Err(RiverError::Protocol(p)) => {
                assert_eq!(p.code, ProtocolErrorCode::InvalidRequest);
                assert_eq!(
                    p.message,
                    "message in requestData position did not match schema"
                );
                let extras = p.extras.expect("extras");
                let paths: Vec<&str> = extras
                    .first_validation_errors
                    .iter()
                    .map(|e| e.path.as_str())
                    .collect();
                assert!(extras.total_errors >= 4, "{extras:?}");
                assert!(extras.first_validation_errors.len() <= 5);
                assert!(paths.contains(&"/tags/2"), "{paths:?}");
                assert!(paths.contains(&"/tags/3"), "{paths:?}");
                assert!(
                    extras
                        .first_validation_errors
                        .iter()
                        .all(|e| !e.message.is_empty()),
                    "{extras:?}"
                );
            }
            other => panic!("expected INVALID_REQUEST, got {other:?}"),
        }
        c.close().await;
        fx.server.shutdown().await;
    }
}

fn echo_all_init() -> Value {
    let mut init = v(json!({
        "str": "s", "float": 1.5, "int": 2, "bool": true, "nil": null, "nullable": null,
        "nested": {"inner": {"tags": ["t"], "depth": 1}}, "list": [1.0],
        "listOfObjects": [{"id": 1, "name": "n"}], "shape": {"kind": "circle", "radius": 1},
        "color": "red", "map": {"a": 1}
    }));
    if let Value::Object(map) = &mut init {
        map.insert("bytes".into(), Value::Bytes(Bytes::from(vec![1, 2, 3])));
    }
    init
}

#[tokio::test]
async fn optional_field_of_the_interop_contract_rejects_null() {
    for codec in CODECS {
        let fx = start(codec).await;
        let c = client(codec, &fx);
        let ok = echo_all_init();
        c.rpc::<_, Value, AnyServiceError>("test", "echoAll", &ok)
            .await
            .expect("a valid echoAll init");
        let mut bad = ok.clone();
        if let Value::Object(map) = &mut bad {
            map.insert("optAbsent".into(), Value::Null);
        }
        invalid_init(
            c.rpc::<_, Value, AnyServiceError>("test", "echoAll", &bad)
                .await,
        );
        c.close().await;
        fx.server.shutdown().await;
    }
}

#[tokio::test]
async fn a_validating_client_refuses_to_send_what_the_server_would_reject() {
    let fx = start(Codec::Json).await;
    let validators = SchemaValidators::compile(&constrained_schema()).expect("schema");
    let c = Client::builder(format!("ws://{}", fx.server.local_addr()))
        .validate(validators)
        .build();
    order(&c, json!({"sku": "AB-1", "qty": 1}))
        .await
        .expect("valid");
    let before = fx.calls.load(Ordering::SeqCst);
    match order(&c, json!({"sku": "AB-1", "qty": 99})).await {
        Err(RiverError::Transport(e)) => {
            assert!(e.is_validation(), "{e}");
            assert!(e.to_string().contains("/qty: must be <= 10"), "{e}");
        }
        other => panic!("expected a local validation error, got {other:?}"),
    }
    let (mut w, _resp) =
        c.upload::<_, Value, f64, AnyServiceError>("shop", "collect", &v(json!({})));
    let e = w
        .send(v(json!({"tags": ["toolong"]})))
        .await
        .expect_err("invalid item");
    assert!(e.is_validation(), "{e}");
    assert_eq!(
        fx.calls.load(Ordering::SeqCst),
        before,
        "nothing invalid reached the server"
    );
    c.close().await;
    fx.server.shutdown().await;
}
