//! Client behaviour that the transcripts do not cover: grace expiry, close, handshake
//! outcomes, `from` checks, the watchdog and writer backpressure. A small hand-driven
//! server peer speaks the protocol with the crate's own codec.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use river_runtime::client::ClientEvent;
use river_runtime::message::{
    Control, ControlFlags, False, HandshakeErrorCode, HandshakeRequest, HandshakeResponse,
    HandshakeResponseTag, HandshakeStatus, Payload, TransportMessage, True,
};
use river_runtime::options::ClientOptions;
use river_runtime::{AnyServiceError, Client, Codec, ProtocolErrorCode, RiverError, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

type Ws = WebSocketStream<TcpStream>;
type R = Result<Value, RiverError<AnyServiceError>>;

const CODEC: Codec = Codec::Json;

async fn listen() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("ws://{}", l.local_addr().expect("addr"));
    (l, url)
}

async fn recv(ws: &mut Ws) -> Option<TransportMessage> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => {
                return Some(CODEC.decode_message(b).expect("client frame decodes"))
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => return None,
            Ok(Some(Ok(_))) => {}
        }
    }
}

fn frame(seq: u64, ack: u64, stream_id: &str, flags: ControlFlags, payload: Payload) -> Message {
    frame_from("SERVER", seq, ack, stream_id, flags, payload)
}

fn frame_from(
    from: &str,
    seq: u64,
    ack: u64,
    stream_id: &str,
    flags: ControlFlags,
    payload: Payload,
) -> Message {
    let msg = TransportMessage {
        id: "aaaaaaaaaaaa".into(),
        from: from.into(),
        to: "client-test".into(),
        seq,
        ack,
        service_name: None,
        procedure_name: None,
        stream_id: stream_id.into(),
        control_flags: flags,
        tracing: None,
        payload,
    };
    Message::Binary(CODEC.encode_message(&msg).expect("encode").into())
}

fn handshake_resp(status: HandshakeStatus) -> Message {
    let p = CODEC
        .encode(&HandshakeResponse {
            kind: HandshakeResponseTag::HandshakeResp,
            status,
        })
        .expect("encode");
    frame(0, 0, "hhhhhhhhhhhh", ControlFlags::NONE, p)
}

/// Accepts one connection and reads its handshake request.
async fn accept(l: &TcpListener) -> (Ws, HandshakeRequest) {
    let (tcp, _) = tokio::time::timeout(Duration::from_secs(5), l.accept())
        .await
        .expect("client connects")
        .expect("accept");
    let mut ws = tokio_tungstenite::accept_async(tcp).await.expect("ws");
    let req = recv(&mut ws).await.expect("handshake");
    let hs: HandshakeRequest = CODEC.decode(&req.payload).expect("handshake payload");
    (ws, hs)
}

async fn accept_ok(l: &TcpListener) -> (Ws, HandshakeRequest) {
    let (mut ws, hs) = accept(l).await;
    let resp = handshake_resp(HandshakeStatus::Ok {
        ok: True,
        session_id: hs.session_id.clone(),
    });
    ws.send(resp).await.expect("send");
    (ws, hs)
}

fn client(url: &str, f: impl FnOnce(&mut ClientOptions)) -> Client {
    let mut o = ClientOptions::default();
    f(&mut o);
    Client::builder(url)
        .codec(CODEC)
        .client_id("client-test")
        .options(o)
        .build()
}

fn ok_result(v: &Value) -> Payload {
    CODEC.encode_result(true, &CODEC.encode(v).expect("encode"))
}

#[tokio::test]
async fn grace_expiry_fails_calls_and_is_not_reset_by_attempts() {
    let (l, url) = listen().await;
    let c = client(&url, |o| {
        o.session.session_disconnect_grace = Duration::from_millis(1000)
    });
    let call = tokio::spawn(c.rpc::<_, Value, AnyServiceError>("test", "add", &Value::Null));
    let (mut ws, _) = accept_ok(&l).await;
    let open = recv(&mut ws).await.expect("open");
    assert_eq!(open.control_flags, ControlFlags(10));
    // Drop the connection, then refuse every later one (accept, close at once).
    drop(ws);
    let dropped = Instant::now();
    let refuser = tokio::spawn(async move {
        let mut n = 0;
        while let Ok((tcp, _)) = l.accept().await {
            n += 1;
            drop(tcp);
        }
        n
    });
    let got: R = call.await.expect("join");
    let elapsed = dropped.elapsed();
    let p = got
        .expect_err("disconnect")
        .protocol()
        .cloned()
        .expect("protocol error");
    assert_eq!(p.code, ProtocolErrorCode::UnexpectedDisconnect);
    assert_eq!(p.message, "SERVER unexpectedly disconnected");
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(1500),
        "grace not reset by attempts: {elapsed:?}"
    );
    assert!(c.stats().connection_attempts >= 3, "{:?}", c.stats());
    assert!(c.session_id().is_none());
    refuser.abort();
}

#[tokio::test]
async fn close_fails_calls_in_flight_and_later_calls() {
    let (l, url) = listen().await;
    let c = client(&url, |_| {});
    let call = tokio::spawn(c.rpc::<_, Value, AnyServiceError>("test", "add", &Value::Null));
    let (mut ws, _) = accept_ok(&l).await;
    recv(&mut ws).await.expect("open");
    c.close().await;
    let got: R = call.await.expect("join");
    assert!(got.expect_err("closed").is_disconnect());
    assert!(recv(&mut ws).await.is_none(), "connection closed");
    let later: R = c.rpc("test", "add", &Value::Null).await;
    let p = later
        .expect_err("closed")
        .protocol()
        .cloned()
        .expect("protocol");
    assert_eq!(p.code, ProtocolErrorCode::UnexpectedDisconnect);
    assert_eq!(p.message, "transport is closed");
    let (mut w, _r) = c.stream::<_, Value, Value, AnyServiceError>("s", "p", &Value::Null);
    assert!(!w.is_open());
    assert!(w.send(Value::Null).await.is_err());
}

#[tokio::test]
async fn session_state_mismatch_starts_a_new_session() {
    let (l, url) = listen().await;
    let c = client(&url, |_| {});
    let call = tokio::spawn(c.rpc::<_, Value, AnyServiceError>("test", "add", &Value::Null));
    let (mut ws, first) = accept(&l).await;
    ws.send(handshake_resp(HandshakeStatus::Err {
        ok: False,
        reason: "nope".into(),
        code: HandshakeErrorCode::SessionStateMismatch,
    }))
    .await
    .expect("send");
    let got: R = call.await.expect("join");
    assert!(got.expect_err("fails").is_disconnect());
    let (_ws2, second) = accept_ok(&l).await;
    assert_ne!(first.session_id, second.session_id, "a new session");
    assert_eq!(second.expected_session_state.next_sent_seq, 0);
}

#[tokio::test]
async fn wrong_from_destroys_the_session() {
    let (l, url) = listen().await;
    let c = client(&url, |_| {});
    let call = tokio::spawn(c.rpc::<_, Value, AnyServiceError>("test", "add", &Value::Null));
    let (mut ws, _) = accept_ok(&l).await;
    let open = recv(&mut ws).await.expect("open");
    ws.send(frame_from(
        "IMPOSTOR",
        0,
        1,
        &open.stream_id,
        ControlFlags::CLOSED,
        ok_result(&Value::Int(1)),
    ))
    .await
    .expect("send");
    let got: R = call.await.expect("join");
    assert!(got.expect_err("destroyed").is_disconnect());
    assert!(recv(&mut ws).await.is_none(), "connection closed");
}

#[tokio::test]
async fn gap_closes_the_connection_but_keeps_the_session() {
    let (l, url) = listen().await;
    let c = client(&url, |_| {});
    let mut events = c.events();
    let call = tokio::spawn(c.rpc::<_, Value, AnyServiceError>("test", "add", &Value::Null));
    let (mut ws, first) = accept_ok(&l).await;
    let open = recv(&mut ws).await.expect("open");
    // seq 5 while the client expects 0: out of order.
    ws.send(frame(
        5,
        1,
        &open.stream_id,
        ControlFlags::CLOSED,
        ok_result(&Value::Int(1)),
    ))
    .await
    .expect("send");
    assert!(recv(&mut ws).await.is_none(), "connection closed");
    let (mut ws2, second) = accept_ok(&l).await;
    assert_eq!(first.session_id, second.session_id, "same session");
    assert_eq!(second.expected_session_state.next_expected_seq, 0);
    assert_eq!(second.expected_session_state.next_sent_seq, 0);
    // The open is retransmitted verbatim.
    let again = recv(&mut ws2).await.expect("retransmit");
    assert_eq!(again, open);
    ws2.send(frame(
        0,
        1,
        &open.stream_id,
        ControlFlags::CLOSED,
        ok_result(&Value::Int(7)),
    ))
    .await
    .expect("send");
    let got: R = call.await.expect("join");
    assert_eq!(got.expect("ok"), Value::Int(7));
    let mut saw_lost = false;
    while let Ok(e) = events.try_recv() {
        saw_lost |= matches!(e, ClientEvent::ConnectionLost { .. });
    }
    assert!(saw_lost);
}

#[tokio::test]
async fn watchdog_closes_a_silent_connection_and_reconnects() {
    let (l, url) = listen().await;
    let c = client(&url, |o| {
        o.session.heartbeat_interval = Duration::from_millis(100)
    });
    let connect = tokio::spawn({
        let c = c.clone();
        async move { c.connect().await }
    });
    let (mut ws, first) = accept_ok(&l).await;
    connect.await.expect("join").expect("connected");
    let start = Instant::now();
    assert!(
        recv(&mut ws).await.is_none(),
        "the client closes a silent connection"
    );
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(190) && elapsed < Duration::from_millis(450),
        "{elapsed:?}"
    );
    let (_ws2, second) = accept_ok(&l).await;
    assert_eq!(first.session_id, second.session_id);
}

#[tokio::test]
async fn heartbeat_echo_and_rehandshake_without_metadata() {
    let (l, url) = listen().await;
    let c = client(&url, |_| {});
    let connect = tokio::spawn({
        let c = c.clone();
        async move { c.connect().await }
    });
    let (mut ws, _) = accept_ok(&l).await;
    connect.await.expect("join").expect("connected");
    let ack = CODEC.encode(&Control::Ack).expect("encode");
    let rh = CODEC.encode(&Control::RehandshakeReq).expect("encode");
    ws.send(frame(0, 0, "rehandshake", ControlFlags::NONE, rh))
        .await
        .expect("send");
    ws.send(frame(1, 0, "heartbeat", ControlFlags::ACK, ack.clone()))
        .await
        .expect("send");
    // Without metadata the rehandshake request is ignored; the ACK is echoed once.
    let echo = recv(&mut ws).await.expect("echo");
    assert_eq!(echo.stream_id, "heartbeat");
    assert_eq!(echo.control_flags, ControlFlags::ACK);
    assert_eq!((echo.seq, echo.ack), (0, 2));
    assert_eq!(
        CODEC.decode::<Control>(&echo.payload).expect("ack"),
        Control::Ack
    );
    let more = tokio::time::timeout(Duration::from_millis(200), recv(&mut ws)).await;
    assert!(more.is_err(), "nothing else: {more:?}");
}

#[tokio::test]
async fn writer_waits_at_the_high_water_mark_until_acked() {
    let (l, url) = listen().await;
    let c = client(&url, |o| o.session.send_buffer_high_water_mark = 3);
    let (mut w, _r) = c.stream::<_, Value, Value, AnyServiceError>("streams", "echo", &Value::Null);
    let (mut ws, _) = accept_ok(&l).await;
    let open = recv(&mut ws).await.expect("open");
    w.send(Value::Int(1)).await.expect("send 1");
    w.send(Value::Int(2)).await.expect("send 2");
    recv(&mut ws).await.expect("data 1");
    recv(&mut ws).await.expect("data 2");
    // Three frames unacknowledged: the next send waits.
    let mut blocked = Box::pin(w.send(Value::Int(3)));
    assert!(
        tokio::time::timeout(Duration::from_millis(150), &mut blocked)
            .await
            .is_err()
    );
    // Acknowledge everything with a heartbeat; the send resolves.
    let ack = CODEC.encode(&Control::Ack).expect("encode");
    ws.send(frame(0, 3, "heartbeat", ControlFlags::ACK, ack))
        .await
        .expect("send");
    tokio::time::timeout(Duration::from_secs(2), blocked)
        .await
        .expect("resolves after the ack")
        .expect("sent");
    let _ = open;
}
