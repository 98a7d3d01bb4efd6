//! The WebSocket dial side of the client.
//!
//! River adds nothing to the WebSocket layer (reference §12): the URL is used as given
//! (no path, query, subprotocol or header of its own), every River message is one binary
//! frame, no compression is negotiated and no WebSocket pings are sent; liveness is
//! River's own heartbeat. Only `ws://` URLs are supported (no TLS backend is compiled in).

use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::Error;

/// A client WebSocket as returned by [`dial`].
pub type WebSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Largest accepted WebSocket message: 100 MiB, the `ws` library's default, which the
/// reference server uses.
pub const MAX_MESSAGE_SIZE: usize = 100 * 1024 * 1024;

/// The client's WebSocket read buffer. tungstenite zero-fills the whole buffer before
/// every socket read (0.30, `FrameCodec::read_in`), so its 128 KiB default cost about
/// 100k instructions of `memset` per sequential rpc; 4 KiB is what the server uses.
/// Larger frames are still read whole (the buffer is per read, not a frame limit).
const READ_BUFFER_SIZE: usize = 4096;

/// The WebSocket settings the client uses: reference-sized message limit, no compression,
/// a 4 KiB read buffer.
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_SIZE))
        .max_frame_size(Some(MAX_MESSAGE_SIZE))
        .read_buffer_size(READ_BUFFER_SIZE)
}

/// Dials `url` (TCP connect plus WebSocket upgrade) within `timeout`. Nagle's algorithm
/// is disabled: River frames are small and latency-sensitive.
pub async fn dial(url: &str, timeout: Duration) -> Result<WebSocket, Error> {
    let fut = tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true);
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok((ws, _response))) => Ok(ws),
        Ok(Err(e)) => Err(Error::connect(format!("could not connect to {url}")).with_source(e)),
        Err(_) => Err(Error::timeout(format!(
            "connecting to {url} took longer than {} ms",
            timeout.as_millis()
        ))),
    }
}
