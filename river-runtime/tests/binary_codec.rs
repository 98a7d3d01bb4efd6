//! Schemas with fields the JSON codec cannot carry (`Date`): the field finder, and
//! clients and servers that refuse the JSON codec for them before any call.

use serde::{Deserialize, Serialize};
use serde_json::json;

use river_runtime::codec::{binary_codec_fields, binary_codec_fields_of};
use river_runtime::{AnyServiceError, Client, Codec, Date, Router, Server};

/// A one-service document with these procedures.
fn doc(procedures: serde_json::Value) -> serde_json::Value {
    json!({"services": {"chat": {"procedures": procedures}}})
}

fn fields(doc: &serde_json::Value) -> Vec<String> {
    binary_codec_fields_of(doc)
}

fn chat_schema() -> String {
    json!({"services": {"chat": {"procedures": {
        "post": {
            "type": "rpc",
            "init": {"type": "object", "required": ["text", "sentAt"], "properties": {
                "text": {"type": "string"},
                "sentAt": {"type": "Date"}
            }},
            "output": {"type": "object", "required": ["at"], "properties": {"at": {"type": "Date"}}},
            "errors": {"not": {}}
        },
        "ping": {
            "type": "rpc",
            "init": {"type": "object", "properties": {}},
            "output": {"type": "string"},
            "errors": {"not": {}}
        }
    }}}})
    .to_string()
}

#[test]
fn finds_top_level_and_nested_dates() {
    let d = doc(json!({
        "post": {"type": "rpc",
            "init": {"type": "object", "properties": {
                "text": {"type": "string"},
                "sentAt": {"type": "Date"},
                "meta": {"type": "object", "properties": {"editedAt": {"type": "Date", "minimumTimestamp": 0}}}
            }},
            "output": {"type": "Date"},
            "errors": {"anyOf": [{"type": "object", "properties": {
                "code": {"const": "LATE"}, "extras": {"type": "object", "properties": {"deadline": {"type": "Date"}}}
            }}]}
        }
    }));
    assert_eq!(
        fields(&d),
        [
            "chat.post init: meta.editedAt",
            "chat.post init: sentAt",
            "chat.post output",
            "chat.post errors: extras.deadline",
        ]
    );
}

#[test]
fn finds_dates_in_arrays_records_tuples_and_unions() {
    let d = doc(json!({
        "history": {"type": "rpc",
            "init": {"type": "object", "properties": {}},
            "output": {"type": "object", "properties": {
                "messages": {"type": "array", "items": {"type": "object", "properties": {"sentAt": {"type": "Date"}}}},
                "byRoom": {"type": "object", "patternProperties": {"^.*$": {"type": "Date"}}},
                "extra": {"type": "object", "additionalProperties": {"type": "Date"}},
                "pair": {"type": "array", "items": [{"type": "string"}, {"type": "Date"}], "additionalItems": false},
                "either": {"anyOf": [{"type": "string"}, {"type": "Date"}, {"type": ["Date", "null"]}]},
                "odd key": {"type": "Date"}
            }}
        }
    }));
    assert_eq!(
        fields(&d),
        [
            "chat.history output: byRoom{}",
            "chat.history output: either",
            "chat.history output: extra{}",
            "chat.history output: messages[].sentAt",
            "chat.history output: [\"odd key\"]",
            "chat.history output: pair[1]",
        ]
    );
}

#[test]
fn follows_refs_and_stops_at_recursion() {
    // TypeBox 0.34 `Type.Recursive`: `$id` and `$ref` to it.
    let recursive = json!({"$id": "T0", "type": "object", "properties": {
        "at": {"type": "Date"},
        "children": {"type": "array", "items": {"$ref": "T0"}}
    }});
    // TypeBox 1.x `Type.Cyclic`: `$defs` beside a `$ref`.
    let cyclic = json!({"$defs": {"Node": {"type": "object", "properties": {
        "when": {"type": "Date"},
        "next": {"anyOf": [{"$ref": "Node"}, {"type": "null"}]}
    }}}, "$ref": "#/$defs/Node"});
    let d = doc(json!({
        "tree": {"type": "rpc", "init": recursive, "output": cyclic},
        "self": {"type": "rpc",
            "init": {"type": "object", "properties": {"again": {"$ref": "#"}, "n": {"type": "number"}}},
            "output": {"type": "string"}}
    }));
    assert_eq!(fields(&d), ["chat.tree init: at", "chat.tree output: when"]);
}

#[test]
fn reads_v1_input_handshakes_and_single_service_documents() {
    let d = json!({
        "procedures": {
            "upload": {"type": "upload",
                "input": {"type": "object", "properties": {"at": {"type": "Date"}}},
                "output": {"type": "string"}}
        },
        "handshakeSchema": {"type": "object", "properties": {"issuedAt": {"type": "Date"}}}
    });
    assert_eq!(
        fields(&d),
        ["service.upload input: at", "handshake: issuedAt"]
    );
}

#[test]
fn bytes_and_bigints_travel_over_json_and_are_not_reported() {
    let d = doc(json!({
        "blob": {"type": "rpc",
            "init": {"type": "object", "properties": {"data": {"type": "Uint8Array"}, "big": {"type": "bigint"}}},
            "output": {"type": "Uint8Array"}}
    }));
    assert!(fields(&d).is_empty(), "{:?}", fields(&d));
    assert!(binary_codec_fields("not json").is_err_and(|e| e.is_config()));
    assert_eq!(
        binary_codec_fields(&chat_schema()).ok(),
        Some(vec![
            "chat.post init: sentAt".to_string(),
            "chat.post output: at".to_string()
        ])
    );
}

const POST_INIT: &[&str] = &["chat.post init: sentAt"];

#[tokio::test]
async fn a_json_client_for_a_date_schema_fails_before_any_call() {
    let err = Client::builder("ws://127.0.0.1:9")
        .require_binary_codec(POST_INIT)
        .try_build()
        .map(|_| ())
        .expect_err("the JSON codec is refused");
    assert!(err.is_config());
    assert_eq!(
        err.to_string(),
        "the JSON codec cannot carry `chat.post init: sentAt` (a Date; the reference's JSON \
         codec sends {}): use Codec::Msgpack on both sides (ClientBuilder::codec)"
    );

    // `build` gives a client that fails `connect` and every call at once, with the same
    // error (nothing listens on port 9: a dial would fail differently).
    let client = Client::builder("ws://127.0.0.1:9")
        .require_binary_codec(POST_INIT)
        .build();
    let connect = client
        .connect()
        .await
        .map(|_| ())
        .expect_err("connect fails");
    assert_eq!(connect.to_string(), err.to_string());
    assert!(connect.is_config());
    let call = client
        .rpc::<_, String, AnyServiceError>("chat", "ping", &json!({}))
        .await
        .map(|_| ())
        .expect_err("the call fails");
    assert_eq!(
        call.transport_error().map(|e| e.to_string()),
        Some(err.to_string())
    );
    assert_eq!(client.stats().connection_attempts, 0);
}

#[tokio::test]
async fn several_fields_are_listed_with_a_count() {
    let fields = [
        "a.b init: x",
        "a.b init: y",
        "a.c output: z",
        "a.d output: w",
    ];
    let err = Client::builder("ws://127.0.0.1:9")
        .require_binary_codec(&fields[..2])
        .try_build()
        .map(|_| ())
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "the JSON codec cannot carry `a.b init: x` and `a.b init: y` (Dates; the reference's \
         JSON codec sends {}): use Codec::Msgpack on both sides (ClientBuilder::codec)"
    );
    let err = Client::builder("ws://127.0.0.1:9")
        .require_binary_codec(fields)
        .try_build()
        .map(|_| ())
        .expect_err("refused");
    assert!(
        err.to_string().starts_with(
            "the JSON codec cannot carry `a.b init: x`, `a.b init: y`, `a.c output: z` and 1 more (Dates;"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn the_check_on_a_built_client_fails_it() {
    let client = Client::builder("ws://127.0.0.1:9").build();
    assert_eq!(client.codec(), Codec::Json);
    assert!(client.require_binary_codec::<&str>(&[]).is_ok());
    let err = client
        .require_binary_codec(POST_INIT)
        .map(|_| ())
        .expect_err("refused");
    assert!(err.is_config());
    let connect = client
        .clone()
        .connect()
        .await
        .map(|_| ())
        .expect_err("connect fails");
    assert_eq!(connect.to_string(), err.to_string());

    let msgpack = Client::builder("ws://127.0.0.1:9")
        .codec(Codec::Msgpack)
        .build();
    assert_eq!(msgpack.codec(), Codec::Msgpack);
    assert!(msgpack.require_binary_codec(POST_INIT).is_ok());
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct PostInit {
    text: String,
    sent_at: Date,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct PostOutput {
    at: Date,
}

fn chat_router() -> Router {
    let mut router = Router::new();
    router.rpc::<PostInit, PostOutput, AnyServiceError, _, _>(
        "chat",
        "post",
        |_ctx, init| async move { Ok(PostOutput { at: init.sent_at }) },
    );
    router.rpc::<serde_json::Value, String, AnyServiceError, _, _>(
        "chat",
        "ping",
        |_ctx, _init| async move { Ok("pong".to_string()) },
    );
    router.schema(&chat_schema(), "chat");
    router
}

#[tokio::test]
async fn a_json_server_for_a_date_schema_fails_to_bind() {
    let router = chat_router();
    assert_eq!(
        router.binary_codec_fields(),
        ["chat.post init: sentAt", "chat.post output: at"]
    );
    let err = Server::builder()
        .bind("127.0.0.1:0", router)
        .await
        .map(|_| ())
        .expect_err("the JSON codec is refused");
    assert!(err.is_config());
    assert_eq!(
        err.to_string(),
        "the JSON codec cannot carry `chat.post init: sentAt` and `chat.post output: at` \
         (Dates; the reference's JSON codec sends {}): use Codec::Msgpack on both sides \
         (ServerBuilder::codec)"
    );
    let err = Server::builder()
        .try_build(chat_router())
        .map(|_| ())
        .expect_err("refused");
    assert!(err.is_config());
}

#[tokio::test]
async fn msgpack_carries_dates_end_to_end() {
    let server = Server::builder()
        .codec(Codec::Msgpack)
        .bind("127.0.0.1:0", chat_router())
        .await
        .expect("bind");
    let client = Client::builder(format!("ws://{}", server.local_addr()))
        .codec(Codec::Msgpack)
        .require_binary_codec(POST_INIT)
        .try_build()
        .expect("msgpack can carry a Date");
    client.connect().await.expect("connect");
    let at = Date::from_millis(1_700_000_000_123);
    let out = client
        .rpc::<_, PostOutput, AnyServiceError>(
            "chat",
            "post",
            &PostInit {
                text: "hi".into(),
                sent_at: at,
            },
        )
        .await
        .expect("post");
    assert_eq!(out.at, at);
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn the_opt_out_runs_json_anyway() {
    let server = Server::builder()
        .skip_binary_codec_check()
        .bind("127.0.0.1:0", chat_router())
        .await
        .expect("bind with the check skipped");
    let client = Client::builder(format!("ws://{}", server.local_addr()))
        .require_binary_codec(POST_INIT)
        .skip_binary_codec_check()
        .try_build()
        .expect("the check is skipped");
    assert!(client.require_binary_codec(POST_INIT).is_ok());
    // Procedures without Dates work over JSON…
    let pong = client
        .rpc::<_, String, AnyServiceError>("chat", "ping", &json!({}))
        .await
        .expect("ping");
    assert_eq!(pong, "pong");
    // …and the Date one fails at its call, as it did before the check existed.
    let post = client
        .rpc::<_, PostOutput, AnyServiceError>(
            "chat",
            "post",
            &PostInit {
                text: "hi".into(),
                sent_at: Date::UNIX_EPOCH,
            },
        )
        .await;
    assert!(post.is_err());
    client.close().await;
    server.shutdown().await;
}

#[test]
fn odd_property_names_are_quoted_and_escaped() {
    let d = doc(json!({
        "p": {"type": "rpc",
            "init": {"type": "object", "properties": {
                "a.b": {"type": "Date"},
                "say \"hi\"\n": {"type": "Date"},
                "rtl\u{202e}x": {"type": "Date"}
            }},
            "output": {"type": "string"}}
    }));
    assert_eq!(
        fields(&d),
        [
            "chat.p init: [\"a.b\"]",
            "chat.p init: [\"rtl\\u{202e}x\"]",
            "chat.p init: [\"say \\\"hi\\\"\\u{000a}\"]",
        ]
    );
}
