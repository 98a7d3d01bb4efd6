//! The server: a WebSocket listener, handshake validation, one task per session, and a
//! [`Router`] of procedures of the four kinds.
//!
//! API CONTRACT (kept stable for generated code): `Router::{new, rpc, upload, stream,
//! subscription}`, `Context`, `Requests`, `Responses`, `Failure`, `Server::builder`,
//! `ServerBuilder`, `ServerHandle`, `HandshakeValidator`, `HandshakeRejection`.
//! The bodies below are placeholders.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::Codec;
use crate::error::{Error, ProtocolError};
use crate::options::ServerOptions;

/// How a handler failed.
#[derive(Debug)]
pub enum Failure<E> {
    /// A service error declared in the schema: sent as an `Err` result (flag 8 for
    /// rpc/upload; for stream/subscription an `Err` item, then CLOSE).
    Service(E),
    /// An unexpected failure: sent as `UNCAUGHT_ERROR` cancel (flag 4) with this message.
    Uncaught(String),
}

impl<E> Failure<E> {
    /// An uncaught failure with the error's `Display` text as its message.
    pub fn uncaught(err: impl std::fmt::Display) -> Self {
        Failure::Uncaught(err.to_string())
    }
}

impl<E> From<E> for Failure<E> {
    fn from(e: E) -> Self {
        Failure::Service(e)
    }
}

/// What a handler knows about its call.
#[derive(Clone)]
pub struct Context {
    _p: (),
}

impl Context {
    /// The calling client's id.
    pub fn client_id(&self) -> &str {
        ""
    }
    /// The session id.
    pub fn session_id(&self) -> &str {
        ""
    }
    /// The stream id of this call.
    pub fn stream_id(&self) -> &str {
        ""
    }
    /// The parsed handshake metadata (as the validator returned it), if it is a `T`.
    /// Reflects re-handshakes.
    pub fn metadata<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        None
    }
    /// Cancels the call from the server: sends `CANCEL` (flag 4) with `message` and
    /// closes both halves. Idempotent.
    pub fn cancel(&self, _message: impl Into<String>) {}
    /// Whether the call is over (both halves closed, cancelled, or the session lost).
    pub fn is_cancelled(&self) -> bool {
        true
    }
    /// Resolves when the call is over (the reference's `ctx.signal`).
    pub fn cancelled(&self) -> impl Future<Output = ()> + Send + 'static {
        async {}
    }
    /// Asks the client to re-handshake (sends `REHANDSHAKE_REQ`).
    pub fn request_rehandshake(&self) {}
}

/// The request half as the handler sees it: `Ok` per request; `Err` for a client
/// cancel, an invalid request, or the session lost.
pub struct Requests<R> {
    _p: PhantomData<fn() -> R>,
}

impl<R> futures::Stream for Requests<R> {
    type Item = Result<R, ProtocolError>;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut std::task::Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(None)
    }
}

/// The response half of a stream or subscription. Dropping it closes the half (CLOSE).
pub struct Responses<O, E> {
    _p: PhantomData<fn(O, E)>,
}

impl<O: Serialize, E: Serialize> Responses<O, E> {
    /// Sends one result item (flag 0); waits while the send buffer is at its high-water mark.
    pub async fn send(&self, _item: Result<O, E>) -> Result<(), Error> {
        Err(Error::closed("not implemented"))
    }
    /// Sends an `Ok` item.
    pub async fn ok(&self, value: O) -> Result<(), Error> {
        self.send(Ok(value)).await
    }
    /// Sends an `Err` item (the stream stays open).
    pub async fn err(&self, error: E) -> Result<(), Error> {
        self.send(Err(error)).await
    }
    /// Closes the response half (sends CLOSE). Idempotent.
    pub async fn close(&self) {}
    /// Whether the half is still open.
    pub fn is_open(&self) -> bool {
        false
    }
}

/// A table of services and their procedures.
#[derive(Default)]
pub struct Router {
    _p: (),
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Router::default()
    }

    /// Registers an rpc handler.
    pub fn rpc<I, O, E, F, Fut>(&mut self, _service: &str, _procedure: &str, _handler: F) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, Failure<E>>> + Send + 'static,
    {
        self
    }

    /// Registers an upload handler.
    pub fn upload<I, R, O, E, F, Fut>(&mut self, _service: &str, _procedure: &str, _handler: F) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        R: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I, Requests<R>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, Failure<E>>> + Send + 'static,
    {
        self
    }

    /// Registers a stream handler. Returning closes the response half if still open.
    pub fn stream<I, R, O, E, F, Fut>(&mut self, _service: &str, _procedure: &str, _handler: F) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        R: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I, Requests<R>, Responses<O, E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Failure<E>>> + Send + 'static,
    {
        self
    }

    /// Registers a subscription handler. Returning closes the response half if still open.
    pub fn subscription<I, O, E, F, Fut>(&mut self, _service: &str, _procedure: &str, _handler: F) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I, Responses<O, E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Failure<E>>> + Send + 'static,
    {
        self
    }
}

/// Why a handshake validator refused a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeRejection {
    /// `REJECTED_BY_CUSTOM_HANDLER`
    RejectedByCustomHandler,
    /// `REJECTED_UNSUPPORTED_CLIENT`
    RejectedUnsupportedClient,
}

/// Validates handshake metadata: decodes it as `M` (failure → `MALFORMED_HANDSHAKE_META`)
/// and calls the function with the previous parsed metadata of the session (on a
/// transparent reconnect or re-handshake) and the client id.
#[derive(Clone)]
pub struct HandshakeValidator {
    _p: (),
}

impl HandshakeValidator {
    /// Wraps a validation function. The parsed value `P` is what
    /// [`Context::metadata`] returns.
    pub fn new<M, P, F>(_validate: F) -> Self
    where
        M: DeserializeOwned + Send + 'static,
        P: Any + Send + Sync + 'static,
        F: Fn(M, Option<&P>, &str) -> Result<P, HandshakeRejection> + Send + Sync + 'static,
    {
        HandshakeValidator { _p: () }
    }
}

/// Builds a [`Server`].
pub struct ServerBuilder {
    _p: (),
}

impl ServerBuilder {
    /// The codec (default JSON).
    pub fn codec(self, _codec: Codec) -> Self {
        self
    }
    /// The server's transport id (default `"SERVER"`).
    pub fn server_id(self, _id: impl Into<String>) -> Self {
        self
    }
    /// Options.
    pub fn options(self, _options: ServerOptions) -> Self {
        self
    }
    /// Requires and validates handshake metadata.
    pub fn handshake(self, _validator: HandshakeValidator) -> Self {
        self
    }
    /// Serves `router` on an already bound listener.
    pub fn serve(self, _listener: tokio::net::TcpListener, _router: Router) -> ServerHandle {
        ServerHandle { _p: () }
    }
    /// Binds `addr` and serves `router`.
    pub async fn bind(self, _addr: impl tokio::net::ToSocketAddrs, _router: Router) -> Result<ServerHandle, Error> {
        Err(Error::io("not implemented"))
    }
}

/// A River server.
pub struct Server;

impl Server {
    /// Starts building a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder { _p: () }
    }
}

/// A running server.
pub struct ServerHandle {
    _p: (),
}

impl ServerHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 0))
    }
    /// Stops accepting, closes every connection and waits for the tasks to finish.
    pub async fn shutdown(self) {}
    /// Asks a connected client to re-handshake.
    pub fn request_rehandshake(&self, _client_id: &str) {}
    /// Number of live sessions (for tests and metrics).
    pub fn session_count(&self) -> usize {
        0
    }
    /// Number of open streams across sessions (for tests and metrics).
    pub fn stream_count(&self) -> usize {
        0
    }
}
