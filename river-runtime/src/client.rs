//! The client: one task per session owns the WebSocket and the bookkeeping; cheap
//! cloneable [`Client`] handles and per-call handles talk to it over channels.
//!
//! API CONTRACT (kept stable for generated code): `Client::builder`, `ClientBuilder`
//! setters, `Client::{rpc, upload, stream, subscribe, connect, close}`, `Writer`,
//! `Reader`, `Response`. The bodies below are placeholders.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::codec::Codec;
use crate::error::{Error, RiverError, ServiceError};
use crate::options::ClientOptions;

/// Builds a [`Client`].
pub struct ClientBuilder {
    _url: String,
}

impl ClientBuilder {
    /// The codec (default JSON, as the reference).
    pub fn codec(self, _codec: Codec) -> Self {
        self
    }
    /// This client's id (default: a random `client-…` id). The server keeps one session per client id.
    pub fn client_id(self, _id: impl Into<String>) -> Self {
        self
    }
    /// The server's transport id (default `"SERVER"`).
    pub fn server_id(self, _id: impl Into<String>) -> Self {
        self
    }
    /// Timing, backoff and reconnect options.
    pub fn options(self, _options: ClientOptions) -> Self {
        self
    }
    /// Handshake metadata, built afresh for every handshake and re-handshake.
    pub fn handshake_metadata<M, F>(self, _construct: F) -> Self
    where
        M: Serialize,
        F: Fn() -> M + Send + Sync + 'static,
    {
        self
    }
    /// Builds the client. With `eagerly_connect`, it starts connecting right away.
    pub fn build(self) -> Client {
        Client {}
    }
}

/// A River client bound to one server. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Client {}

impl Client {
    /// Starts building a client for a `ws://` or `wss://` URL.
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder { _url: url.into() }
    }

    /// Connects now (otherwise the first call connects).
    pub async fn connect(&self) -> Result<(), Error> {
        Err(Error::connect("not implemented"))
    }

    /// Closes the client: every call in flight fails with `UNEXPECTED_DISCONNECT`.
    pub async fn close(&self) {}

    /// Calls an rpc: one init, one result.
    pub fn rpc<I, O, E>(
        &self,
        _service: &str,
        _procedure: &str,
        _init: &I,
    ) -> impl Future<Output = Result<O, RiverError<E>>> + Send + 'static
    where
        I: Serialize + ?Sized,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        async { Err(RiverError::Transport(Error::closed("not implemented"))) }
    }

    /// Opens an upload: a writer for requests and one result.
    pub fn upload<I, R, O, E>(&self, _service: &str, _procedure: &str, _init: &I) -> (Writer<R>, Response<O, E>)
    where
        I: Serialize + ?Sized,
        R: Serialize,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        (Writer { _p: PhantomData }, Response { _p: PhantomData })
    }

    /// Opens a stream: a writer for requests and a reader of results.
    pub fn stream<I, R, O, E>(&self, _service: &str, _procedure: &str, _init: &I) -> (Writer<R>, Reader<O, E>)
    where
        I: Serialize + ?Sized,
        R: Serialize,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        (Writer { _p: PhantomData }, Reader { _p: PhantomData })
    }

    /// Opens a subscription: a reader of results.
    pub fn subscribe<I, O, E>(&self, _service: &str, _procedure: &str, _init: &I) -> Reader<O, E>
    where
        I: Serialize + ?Sized,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        Reader { _p: PhantomData }
    }
}

/// The request half of a stream or upload. Dropping it closes the half (sends CLOSE).
pub struct Writer<T> {
    _p: PhantomData<fn(T)>,
}

impl<T: Serialize> Writer<T> {
    /// Sends one request; waits while the session's send buffer is at its high-water mark.
    pub async fn send(&mut self, _value: T) -> Result<(), Error> {
        Err(Error::closed("not implemented"))
    }
    /// Closes the request half (sends CLOSE). Idempotent.
    pub async fn close(&mut self) {}
    /// Whether the half is still open.
    pub fn is_open(&self) -> bool {
        false
    }
}

/// The response half of a stream or subscription: a `Stream` of results. Dropping it
/// before the stream finished cancels the call.
pub struct Reader<O, E> {
    _p: PhantomData<fn() -> (O, E)>,
}

impl<O, E> Reader<O, E> {
    /// Cancels the call (sends CANCEL).
    pub fn cancel(&mut self) {}
}

impl<O, E> futures::Stream for Reader<O, E> {
    type Item = Result<O, RiverError<E>>;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(None)
    }
}

/// The single result of an upload. Dropping it before it resolved cancels the call.
pub struct Response<O, E> {
    _p: PhantomData<fn() -> (O, E)>,
}

impl<O, E> Response<O, E> {
    /// Cancels the call (sends CANCEL).
    pub fn cancel(&mut self) {}
}

impl<O, E> Future for Response<O, E> {
    type Output = Result<O, RiverError<E>>;
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Err(RiverError::Transport(Error::closed("not implemented"))))
    }
}
