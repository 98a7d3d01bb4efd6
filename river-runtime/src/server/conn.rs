//! Accepting connections (TCP, TLS, WebSocket upgrade with the upgrade authorizer) and
//! the server side of the River handshake (§6.1). Connections that another HTTP stack
//! upgraded enter at [`accept_upgraded`].

use crate::telemetry::{self, Side};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::commands::{Attach, AttachReply, Closed, Cmd};
use super::io::ServerIo;
use super::session::{new_session, SessionEntry, SessionTask};
use super::upgrade::{UpgradeRejection, UpgradeRequest};
use super::websocket::{close_ws, close_ws_with, handshake_frame, Ws};
use super::{Meta, ServerShared};
use crate::message::{
    HandshakeErrorCode, HandshakeRequest, HandshakeStatus, ACCEPTED_PROTOCOL_VERSIONS,
};

/// Accepts TCP connections until shutdown (the listener is dropped then, so new
/// connections are refused).
pub(crate) async fn accept_loop(
    server: Arc<ServerShared>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    done: mpsc::Sender<()>,
) {
    let mut shutdown = server.shutdown_tx.subscribe();
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            res = listener.accept() => match res {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    tokio::spawn(handle_tcp(server.clone(), tcp, peer, tls.clone(), done.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = shutdown.changed() => {}
        }
    }
}

/// A connection another HTTP stack upgraded to a WebSocket (the 101 response is sent):
/// run the River handshake on it. `request` must already have been authorized.
pub(crate) fn accept_upgraded(server: Arc<ServerShared>, io: ServerIo, request: UpgradeRequest) {
    let Some(done) = server.task_guard() else {
        // Shut down: drop the connection.
        return;
    };
    tokio::spawn(async move {
        let deadline = Instant::now() + server.options.session.handshake_timeout;
        let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(ws_config(&server))).await;
        handle_ws(server, ws, Arc::new(request), deadline, done).await;
    });
}

/// tungstenite's read buffer per connection: every idle session keeps one (and 0.30
/// zero-fills all of it before each read), so it is small; a larger frame is still read
/// whole, in more reads.
const READ_BUFFER_SIZE: usize = 2048;
/// Frames written before a flush stay here: the session task flushes once per batch of
/// handled frames, so a burst of answers is one `write(2)`, not one per frame.
const WRITE_BUFFER_SIZE: usize = 64 * 1024;

fn ws_config(server: &ServerShared) -> WebSocketConfig {
    let max = server.options.max_frame_size;
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_SIZE)
        .write_buffer_size(WRITE_BUFFER_SIZE)
        .max_message_size(Some(max))
        .max_frame_size(Some(max))
}

/// Sends a handshake rejection, then closes.
async fn reject(
    server: &ServerShared,
    mut ws: Ws,
    to: &str,
    code: HandshakeErrorCode,
    reason: String,
) {
    telemetry::handshake_rejected(Side::Server, to, "", &reason);
    let status = HandshakeStatus::Err {
        ok: crate::message::False,
        reason,
        code,
    };
    if let Ok(frame) = handshake_frame(server, to, status) {
        let _ = tokio::time::timeout(Duration::from_secs(1), ws.send(Message::Binary(frame))).await;
    }
    close_ws(ws);
}

/// Why no first frame came.
enum NoFrame {
    /// Timeout, shutdown, close, error, text frame: close with 1000.
    GiveUp,
    /// A message above `max_frame_size`: close with 1009.
    TooBig,
}

/// Waits for the first binary frame until `deadline`.
async fn first_frame(
    ws: &mut Ws,
    deadline: Instant,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Bytes, NoFrame> {
    loop {
        let next = tokio::select! {
            r = tokio::time::timeout_at(deadline, ws.next()) => r,
            _ = shutdown.changed() => return Err(NoFrame::GiveUp),
        };
        match next {
            Ok(Some(Ok(Message::Binary(b)))) => return Ok(b),
            Ok(Some(Ok(Message::Ping(_)))) | Ok(Some(Ok(Message::Pong(_)))) => continue,
            Ok(Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(_)))) => {
                return Err(NoFrame::TooBig)
            }
            _ => return Err(NoFrame::GiveUp),
        }
    }
}

/// One accepted TCP connection: TLS (when configured), WebSocket upgrade with the
/// upgrade authorizer, then the River handshake.
// The upgrade callback's error type is tungstenite's `ErrorResponse`.
#[allow(clippy::result_large_err)]
async fn handle_tcp(
    server: Arc<ServerShared>,
    tcp: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    done: mpsc::Sender<()>,
) {
    let deadline = Instant::now() + server.options.session.handshake_timeout;
    let io: ServerIo = match tls {
        None => Box::new(tcp),
        Some(acceptor) => match tokio::time::timeout_at(deadline, acceptor.accept(tcp)).await {
            Ok(Ok(stream)) => Box::new(stream),
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => return,
        },
    };
    let captured: Arc<std::sync::Mutex<Option<UpgradeRequest>>> = Arc::default();
    let callback = {
        let captured = captured.clone();
        let server = server.clone();
        move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
            let (parts, ()) = req.clone().into_parts();
            let request = UpgradeRequest::from_parts(&parts, Some(peer));
            if let Some(authorize) = &server.authorizer {
                if let Err(rejection) = authorize(&request) {
                    tracing::debug!(%peer, status = rejection.status(), "upgrade refused");
                    return Err(rejection_response(&rejection));
                }
            }
            if let Ok(mut slot) = captured.lock() {
                *slot = Some(request);
            }
            Ok(resp)
        }
    };
    let upgrade =
        tokio_tungstenite::accept_hdr_async_with_config(io, callback, Some(ws_config(&server)));
    let ws = match tokio::time::timeout_at(deadline, upgrade).await {
        Ok(Ok(ws)) => ws,
        _ => return,
    };
    let request = captured
        .lock()
        .ok()
        .and_then(|mut g| g.take())
        .unwrap_or_default();
    handle_ws(server, ws, Arc::new(request), deadline, done).await;
}

/// The HTTP response for a refused upgrade.
fn rejection_response(rejection: &UpgradeRejection) -> ErrorResponse {
    let mut resp = ErrorResponse::new(Some(rejection.message().to_string()));
    *resp.status_mut() = http::StatusCode::from_u16(rejection.status())
        .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if rejection.status() == 401 {
        resp.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Bearer"),
        );
    }
    resp
}

/// A WebSocket (of any transport): the River handshake, then hand-off to a session.
async fn handle_ws(
    server: Arc<ServerShared>,
    mut ws: Ws,
    request: Arc<UpgradeRequest>,
    deadline: Instant,
    done: mpsc::Sender<()>,
) {
    let mut shutdown = server.shutdown_tx.subscribe();
    if *shutdown.borrow() {
        close_ws(ws);
        return;
    }
    let frame = match first_frame(&mut ws, deadline, &mut shutdown).await {
        Ok(frame) => frame,
        Err(NoFrame::GiveUp) => {
            close_ws(ws);
            return;
        }
        Err(NoFrame::TooBig) => {
            let reason = format!(
                "message too big (limit {} bytes)",
                server.options.max_frame_size
            );
            close_ws_with(ws, CloseCode::Size, reason);
            return;
        }
    };
    let codec = server.codec;
    let Ok(msg) = codec.decode_message(frame) else {
        close_ws(ws);
        return;
    };
    let from = msg.from.clone();
    let req: HandshakeRequest = match codec.decode_checked(&msg.payload) {
        Ok(r) => r,
        Err(_) => {
            let reason = "received invalid handshake request".to_string();
            reject(
                &server,
                ws,
                &from,
                HandshakeErrorCode::MalformedHandshake,
                reason,
            )
            .await;
            return;
        }
    };
    if !ACCEPTED_PROTOCOL_VERSIONS.contains(&req.protocol_version.as_str()) {
        let reason = format!(
            "expected protocol version oneof [{}], got {}",
            ACCEPTED_PROTOCOL_VERSIONS.join(","),
            req.protocol_version
        );
        reject(
            &server,
            ws,
            &from,
            HandshakeErrorCode::ProtocolVersionMismatch,
            reason,
        )
        .await;
        return;
    }

    let old = server
        .lock_sessions()
        .get(&from)
        .map(|e| (e.session_id.clone(), e.instance, e.shared.clone()));

    let metadata: Option<Meta> = match &server.validator {
        Some(v) => {
            let prev = old.as_ref().and_then(|(_, _, s)| match s.metadata.read() {
                Ok(g) => g.clone(),
                Err(p) => p.into_inner().clone(),
            });
            match v.check(codec, &msg.payload, prev.as_ref(), &from, &request) {
                Ok(m) => Some(m),
                Err((code, reason)) => {
                    reject(&server, ws, &from, code, reason).await;
                    return;
                }
            }
        }
        None => None,
    };

    let transparent = server.options.session.enable_transparent_session_reconnects;
    let next_expected = req.expected_session_state.next_expected_seq;
    let next_sent = req.expected_session_state.next_sent_seq;
    let mut old = old;
    loop {
        match old.take() {
            Some((sid, _, shared)) if transparent && *sid == *req.session_id => {
                let (reply_tx, reply_rx) = oneshot::channel();
                let attach = Attach {
                    ws,
                    expected: req.expected_session_state,
                    metadata: metadata.clone(),
                    request: request.clone(),
                    reply: reply_tx,
                };
                match shared.tx.send(Cmd::Attach(Box::new(attach))) {
                    Ok(()) => {}
                    Err(Closed(cmd)) => {
                        let Cmd::Attach(a) = cmd else { return };
                        ws = a.ws;
                        continue;
                    }
                }
                match reply_rx.await {
                    Ok(AttachReply::Accepted) => return,
                    Ok(AttachReply::Rejected { ws, reason }) => {
                        reject(
                            &server,
                            ws,
                            &from,
                            HandshakeErrorCode::SessionStateMismatch,
                            reason,
                        )
                        .await;
                        return;
                    }
                    Ok(AttachReply::Gone { ws: back }) => {
                        ws = back;
                        continue;
                    }
                    Err(_) => return,
                }
            }
            Some((_, instance, shared)) => {
                // Hard reconnect: destroy the old session, then proceed as if it never existed.
                {
                    let mut map = server.lock_sessions();
                    if map.get(&from).is_some_and(|e| e.instance == instance) {
                        map.remove(&from);
                    }
                }
                let _ = shared.tx.send(Cmd::Destroy);
            }
            None => {}
        }
        // No old session remains.
        if next_sent > 0 || next_expected > 0 {
            let reason = if transparent {
                format!(
                    "client is trying to reconnect to a session the server don't know about: {}",
                    req.session_id
                )
            } else {
                format!(
                    "client is attempting a transparent reconnect to a session but the server does not support it: {}",
                    req.session_id
                )
            };
            reject(
                &server,
                ws,
                &from,
                HandshakeErrorCode::SessionStateMismatch,
                reason,
            )
            .await;
            return;
        }
        let (shared, instance) = new_session(
            &server,
            &from,
            &req.session_id,
            metadata.clone(),
            request.clone(),
        );
        enum Decision {
            Proceed,
            Retry(Arc<str>, u64, Arc<super::session::SessionShared>),
            ShuttingDown,
            Full,
        }
        let decision = {
            let mut map = server.lock_sessions();
            if server.shutting_down.load(Ordering::SeqCst) {
                Decision::ShuttingDown
            } else if let Some(e) = map.get(&from) {
                Decision::Retry(e.session_id.clone(), e.instance, e.shared.clone())
            } else if map.len() >= server.options.max_sessions {
                Decision::Full
            } else {
                map.insert(
                    from.clone(),
                    SessionEntry {
                        session_id: shared.session_id.clone(),
                        instance,
                        shared: shared.clone(),
                    },
                );
                Decision::Proceed
            }
        };
        match decision {
            Decision::Proceed => {}
            Decision::Retry(sid, inst, s) => {
                // Another connection of the same client won the race; decide again.
                old = Some((sid, inst, s));
                continue;
            }
            Decision::ShuttingDown => {
                close_ws(ws);
                return;
            }
            Decision::Full => {
                let reason = "server session limit reached".to_string();
                reject(
                    &server,
                    ws,
                    &from,
                    HandshakeErrorCode::RejectedByCustomHandler,
                    reason,
                )
                .await;
                return;
            }
        }
        // The session runs as a task of its own: the connection task (sized for the TLS
        // and WebSocket handshakes, about 5–8 KiB) ends here instead of living as long
        // as the session.
        let task = SessionTask::new(server.clone(), shared, instance, done);
        tokio::spawn(task.start(ws));
        return;
    }
}
