//! The byte stream under a server WebSocket, whatever carried it: a TCP connection
//! from the built-in listener, TLS over it, or a connection another HTTP stack
//! upgraded (hyper's `Upgraded` under axum).

use tokio::io::{AsyncRead, AsyncWrite};

/// Anything a WebSocket can run over.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// A boxed [`Io`]: one WebSocket type for every transport, at the cost of one dynamic
/// call per socket read or write (next to the syscall, nothing).
pub(crate) type ServerIo = Box<dyn Io>;
