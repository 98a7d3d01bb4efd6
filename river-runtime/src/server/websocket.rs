//! The server's WebSocket ([`Ws`]) and what both a connection (`conn.rs`) and a
//! session (`session.rs`) do to one: close it in the background, and encode the
//! handshake response frame.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::WebSocketStream;

use super::io::ServerIo;
use super::ServerShared;
use crate::error::Error;
use crate::ids::generate_id;
use crate::message::{HandshakeResponse, HandshakeResponseTag, HandshakeStatus, TransportMessage};

/// The server side of a WebSocket.
pub(crate) type Ws = WebSocketStream<ServerIo>;

/// Closes a WebSocket with code 1000 in the background.
pub(crate) fn close_ws(ws: Ws) {
    close_ws_with(ws, CloseCode::Normal, String::new());
}

/// Closes a WebSocket with `code` and `reason` in the background.
pub(crate) fn close_ws_with(mut ws: Ws, code: CloseCode, reason: String) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            let _ = ws
                .close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }))
                .await;
            while let Some(Ok(_)) = ws.next().await {}
        })
        .await;
    });
}

/// Encodes a handshake response frame (seq 0, ack 0, flags 0, random stream id).
pub(crate) fn handshake_frame(
    server: &ServerShared,
    to: &str,
    status: HandshakeStatus,
) -> Result<Bytes, Error> {
    let codec = server.codec;
    let payload = codec.encode(&HandshakeResponse {
        kind: HandshakeResponseTag::HandshakeResp,
        status,
    })?;
    let msg = TransportMessage {
        id: generate_id(),
        from: server.server_id.to_string(),
        to: to.to_string(),
        seq: 0,
        ack: 0,
        service_name: None,
        procedure_name: None,
        stream_id: generate_id(),
        control_flags: crate::message::ControlFlags::NONE,
        tracing: None,
        payload,
    };
    Ok(Bytes::from(codec.encode_message(&msg)?))
}
