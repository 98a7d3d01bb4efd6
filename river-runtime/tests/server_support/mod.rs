//! Test support for the server tests: the interop contract router and a raw WebSocket
//! peer that plays client frames.
#![allow(dead_code)]

pub mod contract;

use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use river_runtime::message::{ControlFlags, Payload, Tracing, TransportMessage};
use river_runtime::{Codec, Server, ServerHandle, ServerOptions, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use contract::Contract;

/// Server options for tests: a long heartbeat interval unless told otherwise.
pub fn options(heartbeat_ms: u64, grace_ms: u64) -> ServerOptions {
    let mut o = ServerOptions::default();
    o.session.heartbeat_interval = Duration::from_millis(heartbeat_ms);
    o.session.session_disconnect_grace = Duration::from_millis(grace_ms);
    o
}

/// Starts a contract server.
pub async fn start(codec: Codec, handshake: bool, opts: ServerOptions) -> (ServerHandle, Contract) {
    let contract = Contract::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let mut b = Server::builder().codec(codec).options(opts);
    if handshake {
        b = b.handshake(contract::validator());
    }
    let server = b.serve(listener, contract::router(&contract, handshake));
    (server, contract)
}

/// What the peer read.
#[derive(Debug)]
pub enum Read {
    /// A binary frame.
    Frame(Bytes),
    /// A text frame.
    Text(String),
    /// The server closed (or the socket ended).
    Closed,
    /// Nothing within the timeout.
    Timeout,
}

/// A raw WebSocket peer.
pub struct Peer {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The codec used to decode what the server sends.
    pub codec: Codec,
}

impl Peer {
    /// Connects to the server.
    pub async fn connect(addr: std::net::SocketAddr, codec: Codec) -> Peer {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
            .await
            .expect("connect");
        Peer { ws, codec }
    }

    /// Sends raw bytes as a binary frame.
    pub async fn send_raw(&mut self, bytes: impl Into<Bytes>) {
        let _ = self.ws.send(Message::Binary(bytes.into())).await;
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) {
        let _ = self.ws.send(Message::Text(text.into())).await;
    }

    /// Encodes and sends a message.
    pub async fn send_msg(&mut self, msg: &TransportMessage) {
        let bytes = self.codec.encode_message(msg).expect("encode");
        self.send_raw(bytes).await;
    }

    /// Reads the next frame (ignoring pings).
    pub async fn read(&mut self, timeout: Duration) -> Read {
        loop {
            match tokio::time::timeout(timeout, self.ws.next()).await {
                Err(_) => return Read::Timeout,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => {
                    return Read::Closed
                }
                Ok(Some(Ok(Message::Binary(b)))) => return Read::Frame(b),
                Ok(Some(Ok(Message::Text(t)))) => return Read::Text(t.to_string()),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Reads the next non-heartbeat message, decoded.
    pub async fn read_msg(&mut self, timeout: Duration) -> Option<TransportMessage> {
        loop {
            match self.read(timeout).await {
                Read::Frame(b) => {
                    let m = self.codec.decode_message(b).expect("server frame decodes");
                    if m.control_flags.is_ack() {
                        continue;
                    }
                    return Some(m);
                }
                _ => return None,
            }
        }
    }

    /// Waits until the server closes the socket; false on timeout or another frame.
    pub async fn expect_closed(&mut self, timeout: Duration) -> bool {
        loop {
            match self.read(timeout).await {
                Read::Closed => return true,
                Read::Frame(b) => {
                    if self
                        .codec
                        .decode_message(b)
                        .map(|m| m.control_flags.is_ack())
                        .unwrap_or(false)
                    {
                        continue;
                    }
                    return false;
                }
                _ => return false,
            }
        }
    }

    /// Closes the socket.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// Decodes a payload as a [`Value`].
pub fn value(codec: Codec, p: &Payload) -> Value {
    codec
        .decode::<Value>(p)
        .expect("payload decodes as a Value")
}

/// Builds a message from `client` to `SERVER`.
pub fn msg(
    codec: Codec,
    client: &str,
    seq: u64,
    ack: u64,
    stream: &str,
    flags: u32,
    payload: serde_json::Value,
) -> TransportMessage {
    TransportMessage {
        id: river_runtime::ids::generate_id(),
        from: client.to_string(),
        to: "SERVER".to_string(),
        seq,
        ack,
        service_name: None,
        procedure_name: None,
        stream_id: stream.to_string(),
        control_flags: ControlFlags(flags),
        tracing: None,
        payload: codec.encode(&payload).expect("encode payload"),
    }
}

/// A stream-open message.
#[allow(clippy::too_many_arguments)]
pub fn open(
    codec: Codec,
    client: &str,
    seq: u64,
    ack: u64,
    stream: &str,
    svc: &str,
    proc_: &str,
    flags: u32,
    payload: serde_json::Value,
) -> TransportMessage {
    let mut m = msg(codec, client, seq, ack, stream, flags, payload);
    m.service_name = Some(svc.to_string());
    m.procedure_name = Some(proc_.to_string());
    m.tracing = Some(Tracing::default());
    m
}

/// A handshake request for `session` with the given state.
pub fn handshake(
    codec: Codec,
    client: &str,
    session: &str,
    nes: u64,
    nss: u64,
) -> TransportMessage {
    let mut m = msg(
        codec,
        client,
        0,
        0,
        "hs-stream",
        0,
        serde_json::json!({
            "type": "HANDSHAKE_REQ",
            "protocolVersion": "v2.0",
            "sessionId": session,
            "expectedSessionState": {"nextExpectedSeq": nes, "nextSentSeq": nss},
        }),
    );
    m.tracing = Some(Tracing::default());
    m
}
