//! Server behaviour beyond the recorded transcripts: session-layer checks, handshake
//! edge cases, tombstones, panics and cleanup.

mod server_support;

use std::time::Duration;

use river_runtime::{Codec, ServerHandle, Value};
use serde_json::json;
use server_support::{handshake, msg, open, options, start, value, Peer, Read};

const CODECS: [Codec; 2] = [Codec::Json, Codec::Msgpack];
const T: Duration = Duration::from_secs(2);

async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Connects and completes a fresh handshake.
async fn connected(server: &ServerHandle, codec: Codec, client: &str, session: &str) -> Peer {
    let mut p = Peer::connect(server.local_addr(), codec).await;
    p.send_msg(&handshake(codec, client, session, 0, 0)).await;
    let resp = p.read_msg(T).await.expect("handshake response");
    let v = value(codec, &resp.payload);
    assert_eq!(
        v.get("status").and_then(|s| s.get("ok")),
        Some(&Value::Bool(true)),
        "{v:?}"
    );
    p
}

fn err_code(codec: Codec, m: &river_runtime::message::TransportMessage) -> (String, String) {
    let v = value(codec, &m.payload);
    let p = v.get("payload").expect("payload");
    let s = |k: &str| match p.get(k) {
        Some(Value::String(s)) => s.clone(),
        other => panic!("{k}: {other:?}"),
    };
    (s("code"), s("message"))
}

#[tokio::test]
async fn wrong_from_destroys_session_and_closes() {
    for codec in CODECS {
        let (server, _) = start(codec, false, options(60_000, 5_000)).await;
        let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
        assert_eq!(server.session_count(), 1);
        p.send_msg(&open(
            codec,
            "intruder",
            0,
            0,
            "s1",
            "test",
            "add",
            10,
            json!({"n": 1}),
        ))
        .await;
        assert!(p.expect_closed(T).await, "{codec:?}: socket closed");
        eventually("session destroyed", || server.session_count() == 0).await;
        server.shutdown().await;
    }
}

#[tokio::test]
async fn wrong_to_is_acked_but_ignored() {
    for codec in CODECS {
        let (server, _) = start(codec, false, options(60_000, 5_000)).await;
        let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
        let mut m = open(codec, "c1", 0, 0, "s1", "test", "add", 10, json!({"n": 1}));
        m.to = "SOMEONE_ELSE".into();
        p.send_msg(&m).await;
        p.send_msg(&open(
            codec,
            "c1",
            1,
            0,
            "s2",
            "test",
            "add",
            10,
            json!({"n": 2}),
        ))
        .await;
        let r = p.read_msg(T).await.expect("reply");
        assert_eq!(
            r.stream_id, "s2",
            "{codec:?}: no reply to the misaddressed frame"
        );
        assert_eq!(
            (r.seq, r.ack),
            (0, 2),
            "{codec:?}: misaddressed frame was acked"
        );
        let v = value(codec, &r.payload);
        assert_eq!(
            v.get("payload")
                .and_then(|p| p.get("result"))
                .and_then(|x| x.as_i64()),
            Some(2)
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn seq_gap_closes_connection_keeps_session() {
    for codec in CODECS {
        let (server, _) = start(codec, false, options(60_000, 5_000)).await;
        let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
        p.send_msg(&open(
            codec,
            "c1",
            5,
            0,
            "s1",
            "test",
            "add",
            10,
            json!({"n": 1}),
        ))
        .await;
        assert!(p.expect_closed(T).await, "{codec:?}: connection closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(server.session_count(), 1, "{codec:?}: session kept");
        // The client can reconnect transparently.
        let mut p = Peer::connect(server.local_addr(), codec).await;
        p.send_msg(&handshake(codec, "c1", "session-aaaaaaaaaaaa", 0, 0))
            .await;
        let resp = p.read_msg(T).await.expect("handshake response");
        let v = value(codec, &resp.payload);
        assert_eq!(
            v.get("status").and_then(|s| s.get("ok")),
            Some(&Value::Bool(true))
        );
        p.send_msg(&open(
            codec,
            "c1",
            0,
            0,
            "s1",
            "test",
            "add",
            10,
            json!({"n": 1}),
        ))
        .await;
        let r = p.read_msg(T).await.expect("reply");
        assert_eq!((r.stream_id.as_str(), r.control_flags.0), ("s1", 8));
        server.shutdown().await;
    }
}

#[tokio::test]
async fn duplicate_seq_is_dropped() {
    for codec in CODECS {
        let (server, _) = start(codec, false, options(60_000, 5_000)).await;
        let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
        let m = open(codec, "c1", 0, 0, "s1", "test", "add", 10, json!({"n": 1}));
        p.send_msg(&m).await;
        p.send_msg(&m).await;
        p.send_msg(&open(
            codec,
            "c1",
            1,
            0,
            "s2",
            "test",
            "add",
            10,
            json!({"n": 1}),
        ))
        .await;
        let a = p.read_msg(T).await.expect("first");
        let b = p.read_msg(T).await.expect("second");
        assert_eq!(
            (a.stream_id.as_str(), b.stream_id.as_str()),
            ("s1", "s2"),
            "{codec:?}"
        );
        assert_eq!(b.ack, 2);
        let v = value(codec, &b.payload);
        assert_eq!(
            v.get("payload")
                .and_then(|p| p.get("result"))
                .and_then(|x| x.as_i64()),
            Some(2)
        );
        assert!(
            p.read_msg(Duration::from_millis(200)).await.is_none(),
            "{codec:?}: nothing else"
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn malformed_frame_destroys_session() {
    for codec in CODECS {
        let (server, _) = start(codec, false, options(60_000, 5_000)).await;
        let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
        p.send_raw(&b"\xc1 definitely not a frame"[..]).await;
        assert!(p.expect_closed(T).await, "{codec:?}: closed");
        eventually("session destroyed", || server.session_count() == 0).await;
        server.shutdown().await;
    }
}

#[tokio::test]
async fn text_frame_at_handshake_closes_without_response() {
    for codec in CODECS {
        let (server, _) = start(codec, false, options(60_000, 5_000)).await;
        let mut p = Peer::connect(server.local_addr(), codec).await;
        p.send_text("{\"hello\":1}").await;
        assert!(matches!(p.read(T).await, Read::Closed), "{codec:?}");
        assert_eq!(server.session_count(), 0);
        let mut p = Peer::connect(server.local_addr(), codec).await;
        p.send_raw(&b"garbage"[..]).await;
        assert!(matches!(p.read(T).await, Read::Closed), "{codec:?}");
        assert_eq!(server.session_count(), 0);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn handshake_timeout_closes_silently() {
    let codec = Codec::Json;
    let mut opts = options(60_000, 5_000);
    opts.session.handshake_timeout = Duration::from_millis(200);
    let (server, _) = start(codec, false, opts).await;
    let mut p = Peer::connect(server.local_addr(), codec).await;
    let started = std::time::Instant::now();
    assert!(matches!(p.read(T).await, Read::Closed));
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(server.session_count(), 0);
    server.shutdown().await;
}

#[tokio::test]
async fn handshake_rejections() {
    for codec in CODECS {
        let (server, _) = start(codec, false, options(60_000, 5_000)).await;
        let reject = |p: river_runtime::message::TransportMessage| {
            let v = value(codec, &p.payload);
            let s = v.get("status").cloned().expect("status");
            (s.get("code").cloned(), s.get("reason").cloned())
        };
        // Missing expectedSessionState.
        let mut p = Peer::connect(server.local_addr(), codec).await;
        let m = msg(
            codec,
            "c1",
            0,
            0,
            "hs",
            0,
            json!({"type": "HANDSHAKE_REQ", "protocolVersion": "v2.0", "sessionId": "s"}),
        );
        p.send_msg(&m).await;
        let (code, reason) = reject(p.read_msg(T).await.expect("response"));
        assert_eq!(code, Some(Value::String("MALFORMED_HANDSHAKE".into())));
        assert_eq!(
            reason,
            Some(Value::String("received invalid handshake request".into()))
        );
        assert!(p.expect_closed(T).await);
        // Unknown session with a nonzero state.
        let mut p = Peer::connect(server.local_addr(), codec).await;
        p.send_msg(&handshake(codec, "c1", "session-x", 3, 2)).await;
        let (code, reason) = reject(p.read_msg(T).await.expect("response"));
        assert_eq!(code, Some(Value::String("SESSION_STATE_MISMATCH".into())));
        assert_eq!(
            reason,
            Some(Value::String(
                "client is trying to reconnect to a session the server don't know about: session-x"
                    .into()
            ))
        );
        // Transparent reconnect with a client in the future.
        let mut p1 = connected(&server, codec, "c2", "session-b").await;
        p1.send_msg(&open(
            codec,
            "c2",
            0,
            0,
            "s1",
            "test",
            "add",
            10,
            json!({"n": 1}),
        ))
        .await;
        let _ = p1.read_msg(T).await.expect("reply");
        p1.send_msg(&open(
            codec,
            "c2",
            1,
            1,
            "s2",
            "test",
            "add",
            10,
            json!({"n": 1}),
        ))
        .await;
        let _ = p1.read_msg(T).await.expect("reply");
        // Server: ack 2, oldest unacknowledged seq 1.
        let mut p = Peer::connect(server.local_addr(), codec).await;
        p.send_msg(&handshake(codec, "c2", "session-b", 2, 999))
            .await;
        let (code, reason) = reject(p.read_msg(T).await.expect("response"));
        assert_eq!(code, Some(Value::String("SESSION_STATE_MISMATCH".into())));
        assert_eq!(
            reason,
            Some(Value::String(
                "client is in the future: server wanted next message to be 2 but client would have sent 999".into()
            ))
        );
        // Server in the future (the client claims it got nothing).
        let mut p = Peer::connect(server.local_addr(), codec).await;
        p.send_msg(&handshake(codec, "c2", "session-b", 0, 2)).await;
        let (code, reason) = reject(p.read_msg(T).await.expect("response"));
        assert_eq!(code, Some(Value::String("SESSION_STATE_MISMATCH".into())));
        assert_eq!(
            reason,
            Some(Value::String(
                "server is in the future: client wanted next message to be 0 but server would have sent 1".into()
            ))
        );
        assert_eq!(server.session_count(), 1, "rejections keep the old session");
        // Hard reconnect: a new session id replaces the old session.
        let _p2 = connected(&server, codec, "c2", "session-c").await;
        assert_eq!(server.session_count(), 1);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn late_close_gets_one_invalid_request_then_silence() {
    for codec in CODECS {
        let (server, _) = start(codec, false, options(60_000, 5_000)).await;
        let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
        p.send_msg(&open(
            codec,
            "c1",
            0,
            0,
            "s1",
            "test",
            "add",
            10,
            json!({"n": 1}),
        ))
        .await;
        let r = p.read_msg(T).await.expect("result");
        assert_eq!(r.control_flags.0, 8);
        p.send_msg(&msg(codec, "c1", 1, 1, "s1", 8, json!({"type": "CLOSE"})))
            .await;
        let r = p.read_msg(T).await.expect("invalid request");
        assert_eq!(r.control_flags.0, 4);
        assert_eq!(
            err_code(codec, &r),
            (
                "INVALID_REQUEST".into(),
                "can't create a new procedure stream from a message that doesn't have the stream open bit set".into()
            )
        );
        p.send_msg(&msg(codec, "c1", 2, 2, "s1", 8, json!({"type": "CLOSE"})))
            .await;
        p.send_msg(&msg(codec, "c1", 3, 2, "s1", 0, json!({"n": 1})))
            .await;
        assert!(
            p.read_msg(Duration::from_millis(200)).await.is_none(),
            "{codec:?}: tombstoned"
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn handler_panic_is_uncaught_error() {
    for codec in CODECS {
        let (server, _) = start(codec, false, options(60_000, 5_000)).await;
        let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
        p.send_msg(&open(
            codec,
            "c1",
            0,
            0,
            "s1",
            "test",
            "panics",
            10,
            json!({}),
        ))
        .await;
        let r = p.read_msg(T).await.expect("cancel");
        assert_eq!(r.control_flags.0, 4);
        assert_eq!(
            err_code(codec, &r),
            ("UNCAUGHT_ERROR".into(), "handler exploded".into())
        );
        eventually("stream removed", || server.stream_count() == 0).await;
        server.shutdown().await;
    }
}

#[tokio::test]
async fn data_after_close_and_bad_control_payload() {
    for codec in CODECS {
        let (server, _) = start(codec, false, options(60_000, 5_000)).await;
        let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
        // Upload: close the request half, then send data.
        p.send_msg(&open(
            codec,
            "c1",
            0,
            0,
            "u1",
            "cancel",
            "blockUpload",
            2,
            json!({"key": "k"}),
        ))
        .await;
        p.send_msg(&msg(codec, "c1", 1, 0, "u1", 8, json!({"type": "CLOSE"})))
            .await;
        p.send_msg(&msg(codec, "c1", 2, 0, "u1", 0, json!({"msg": "late"})))
            .await;
        let r = p.read_msg(T).await.expect("invalid");
        assert_eq!(r.control_flags.0, 4);
        assert_eq!(
            err_code(codec, &r),
            (
                "INVALID_REQUEST".into(),
                "received message after request stream is closed".into()
            )
        );
        // An rpc opened with flag 2 gets data: control payload mismatch with extras.
        p.send_msg(&open(
            codec,
            "c1",
            3,
            0,
            "r1",
            "cancel",
            "blockRpc",
            2,
            json!({"key": "k2"}),
        ))
        .await;
        p.send_msg(&msg(codec, "c1", 4, 0, "r1", 0, json!({"x": 1})))
            .await;
        let r = p.read_msg(T).await.expect("invalid");
        assert_eq!(r.control_flags.0, 4);
        let (code, message) = err_code(codec, &r);
        assert_eq!(code, "INVALID_REQUEST");
        assert_eq!(
            message,
            "message in control payload position did not match schema"
        );
        let v = value(codec, &r.payload);
        let extras = v
            .get("payload")
            .and_then(|p| p.get("extras"))
            .expect("extras");
        assert!(
            extras.get("totalErrors").is_some() && extras.get("firstValidationErrors").is_some()
        );
        eventually("streams removed", || server.stream_count() == 0).await;
        server.shutdown().await;
    }
}

#[tokio::test]
async fn cleanup_after_grace() {
    for codec in CODECS {
        let (server, contract) = start(codec, false, options(60_000, 200)).await;
        let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
        p.send_msg(&open(
            codec,
            "c1",
            0,
            0,
            "st",
            "cancel",
            "blockStream",
            2,
            json!({"key": "bs"}),
        ))
        .await;
        p.send_msg(&open(
            codec,
            "c1",
            1,
            0,
            "sb",
            "cancel",
            "blockSubscription",
            10,
            json!({"key": "bsub"}),
        ))
        .await;
        p.send_msg(&open(
            codec,
            "c1",
            2,
            0,
            "rp",
            "cancel",
            "blockRpc",
            10,
            json!({"key": "brpc"}),
        ))
        .await;
        eventually("three streams", || server.stream_count() == 3).await;
        eventually("handlers started", || {
            contract.records.get("brpc") == ["started"]
        })
        .await;
        drop(p);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(server.session_count(), 1, "{codec:?}: kept during grace");
        assert_eq!(server.stream_count(), 3);
        eventually("session destroyed", || server.session_count() == 0).await;
        eventually("streams removed", || server.stream_count() == 0).await;
        eventually("handlers aborted", || {
            contract.records.get("bs") == ["started", "readErr:UNEXPECTED_DISCONNECT", "aborted"]
                && contract.records.get("bsub") == ["started", "aborted"]
                && contract.records.get("brpc") == ["started", "aborted"]
        })
        .await;
        server.shutdown().await;
    }
}

#[tokio::test]
async fn server_cancel_is_idempotent_and_tombstoned() {
    for codec in CODECS {
        let (server, _) = start(codec, false, options(60_000, 5_000)).await;
        let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
        p.send_msg(&open(
            codec,
            "c1",
            0,
            0,
            "sc",
            "streams",
            "serverCancel",
            2,
            json!({"n": 0}),
        ))
        .await;
        let r = p.read_msg(T).await.expect("cancel");
        assert_eq!(r.control_flags.0, 4);
        assert_eq!(
            err_code(codec, &r),
            ("CANCEL".into(), "cancelled by server handler".into())
        );
        // Writes after a server cancel are ignored (tombstone), with no second error frame.
        p.send_msg(&msg(codec, "c1", 1, 1, "sc", 0, json!({"msg": "x"})))
            .await;
        p.send_msg(&msg(codec, "c1", 2, 1, "sc", 8, json!({"type": "CLOSE"})))
            .await;
        assert!(p.read_msg(Duration::from_millis(200)).await.is_none());
        assert_eq!(server.stream_count(), 0);
        server.shutdown().await;
    }
}

#[tokio::test]
async fn stream_limit_rejects_excess_opens() {
    let codec = Codec::Json;
    let mut opts = options(60_000, 5_000);
    opts.max_streams_per_session = 1;
    let (server, _) = start(codec, false, opts).await;
    let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
    p.send_msg(&open(
        codec,
        "c1",
        0,
        0,
        "a",
        "cancel",
        "blockRpc",
        10,
        json!({"key": "a"}),
    ))
    .await;
    p.send_msg(&open(
        codec,
        "c1",
        1,
        0,
        "b",
        "cancel",
        "blockRpc",
        10,
        json!({"key": "b"}),
    ))
    .await;
    let r = p.read_msg(T).await.expect("rejection");
    assert_eq!((r.stream_id.as_str(), r.control_flags.0), ("b", 4));
    assert_eq!(err_code(codec, &r).0, "INVALID_REQUEST");
    assert_eq!(server.stream_count(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn watchdog_closes_connection_not_session() {
    let codec = Codec::Json;
    let (server, _) = start(codec, false, options(100, 5_000)).await;
    let mut p = connected(&server, codec, "c1", "session-aaaaaaaaaaaa").await;
    // Heartbeats arrive (flag 1, stream "heartbeat", seq-counted) but are never echoed.
    let mut beats = 0;
    let started = std::time::Instant::now();
    loop {
        match p.read(T).await {
            Read::Frame(b) => {
                let m = codec.decode_message(b).expect("decodes");
                assert_eq!((m.control_flags.0, m.stream_id.as_str()), (1, "heartbeat"));
                assert_eq!(m.seq, beats);
                beats += 1;
            }
            Read::Closed => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(beats >= 1);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "closed after the deadline"
    );
    assert_eq!(server.session_count(), 1, "session kept");
    server.shutdown().await;
}

#[tokio::test]
async fn hard_reconnect_disconnects_old_streams() {
    let codec = Codec::Msgpack;
    let (server, contract) = start(codec, false, options(60_000, 5_000)).await;
    let mut p = connected(&server, codec, "c1", "session-old").await;
    p.send_msg(&open(
        codec,
        "c1",
        0,
        0,
        "st",
        "cancel",
        "blockStream",
        2,
        json!({"key": "hr"}),
    ))
    .await;
    eventually("stream open", || server.stream_count() == 1).await;
    let _p2 = connected(&server, codec, "c1", "session-new").await;
    eventually("old streams gone", || server.stream_count() == 0).await;
    eventually("handler saw the disconnect", || {
        contract.records.get("hr") == ["started", "readErr:UNEXPECTED_DISCONNECT", "aborted"]
    })
    .await;
    assert_eq!(server.session_count(), 1);
    server.shutdown().await;
}
