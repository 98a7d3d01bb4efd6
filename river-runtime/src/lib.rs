//! # river-runtime
//!
//! A Rust implementation of the [River](https://github.com/replit/river) RPC protocol
//! v2.0, wire-compatible with the TypeScript reference (`@replit/river` 0.220.1):
//! codecs (JSON and msgpack), sessions that survive reconnects (seq/ack, send buffer,
//! heartbeats), a WebSocket client with transparent reconnection, and a server with a
//! router of the four procedure kinds (rpc, stream, upload, subscription).
//!
//! Most applications use the typed clients and `register_*` functions that
//! `river-codegen` generates from a schema. They are thin wrappers over the API shown
//! here, which also works on its own:
//!
//! - [`Client`] (built by [`Client::builder`]) makes calls: [`Client::rpc`] returns a
//!   [`Response`] future, [`Client::upload`] a [`Writer`] and a [`Response`],
//!   [`Client::stream`] a [`Writer`] and a [`Reader`], [`Client::subscribe`] a [`Reader`].
//! - [`Server`] (built by [`Server::builder`]) serves a [`Router`] of handlers; each
//!   handler gets a [`Context`] and answers with a value or a [`Failure`].
//! - [`Codec`] picks the wire format; [`ClientOptions`], [`ServerOptions`] and
//!   [`SessionOptions`] tune timing and limits.
//! - Calls fail with [`RiverError`]: a service error, a [`ProtocolError`] or a local
//!   [`Error`].
//!
//! # A server and a client
//!
//! A handler registered on a [`Router`], served on a loopback port, and called:
//!
//! ```
//! use river_runtime::{AnyServiceError, Client, Failure, Router, Server};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut router = Router::new();
//! router.rpc("math", "double", |_ctx, n: i64| async move {
//!     Ok::<_, Failure<AnyServiceError>>(n * 2)
//! });
//! // Port 0: any free port; `local_addr()` says which one.
//! let server = Server::builder().bind("127.0.0.1:0", router).await?;
//!
//! let client = Client::builder(format!("ws://{}", server.local_addr())).build();
//! // The type parameters: init (inferred), result, service error.
//! let doubled = client.rpc::<_, i64, AnyServiceError>("math", "double", &21).await?;
//! assert_eq!(doubled, 42);
//!
//! client.close().await;
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Handlers: service errors and subscriptions
//!
//! A handler fails with [`Failure::Service`] (an error the schema declares; the caller
//! gets [`RiverError::Service`]) or [`Failure::Uncaught`]. Stream and subscription
//! handlers send results through [`Responses`]; the client reads them from a [`Reader`].
//!
//! ```
//! use river_runtime::{AnyServiceError, Client, Failure, Responses, Router, Server};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut router = Router::new();
//! router.rpc("math", "sqrt", |_ctx, n: f64| async move {
//!     if n < 0.0 {
//!         return Err(Failure::Service(AnyServiceError {
//!             code: "NEGATIVE".into(),
//!             message: format!("{n} has no real square root"),
//!             extras: None,
//!         }));
//!     }
//!     Ok(n.sqrt())
//! });
//! router.subscription(
//!     "clock",
//!     "countdown",
//!     |_ctx, from: u32, out: Responses<u32, AnyServiceError>| async move {
//!         for n in (0..=from).rev() {
//!             out.ok(n).await.map_err(Failure::uncaught)?;
//!         }
//!         Ok::<_, Failure<AnyServiceError>>(()) // returning ends the subscription
//!     },
//! );
//! let server = Server::builder().bind("127.0.0.1:0", router).await?;
//! let client = Client::builder(format!("ws://{}", server.local_addr())).build();
//!
//! let err = client
//!     .rpc::<_, f64, AnyServiceError>("math", "sqrt", &-4.0)
//!     .await
//!     .expect_err("no square root");
//! assert_eq!(err.service().map(|e| e.code.as_str()), Some("NEGATIVE"));
//! assert_eq!(err.to_string(), "NEGATIVE: -4 has no real square root");
//!
//! let mut countdown = client.subscribe::<_, u32, AnyServiceError>("clock", "countdown", &3);
//! let mut seen = Vec::new();
//! while let Some(n) = countdown.next().await {
//!     seen.push(n?);
//! }
//! assert_eq!(seen, [3, 2, 1, 0]);
//! # client.close().await;
//! # server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Choosing a codec
//!
//! Both sides must use the same [`Codec`]; it is never negotiated. JSON is the default
//! (as in the reference); msgpack is more compact and is the only one that carries a
//! [`Date`].
//!
//! ```
//! use river_runtime::{AnyServiceError, Bytes, Client, Codec, Failure, Router, Server};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut router = Router::new();
//! router.rpc("blobs", "reverse", |_ctx, mut blob: Bytes| async move {
//!     blob.reverse();
//!     Ok::<_, Failure<AnyServiceError>>(blob)
//! });
//! let server = Server::builder()
//!     .codec(Codec::Msgpack)
//!     .bind("127.0.0.1:0", router)
//!     .await?;
//! let client = Client::builder(format!("ws://{}", server.local_addr()))
//!     .codec(Codec::Msgpack)
//!     .build();
//!
//! let reversed = client
//!     .rpc::<_, Bytes, AnyServiceError>("blobs", "reverse", &Bytes::from(vec![1, 2, 3]))
//!     .await?;
//! assert_eq!(&reversed[..], [3, 2, 1]);
//! # client.close().await;
//! # server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Options
//!
//! The option structs are `#[non_exhaustive]`: start from `default()` and use the
//! setters, one per field.
//!
//! ```
//! use std::time::Duration;
//! use river_runtime::{
//!     AnyServiceError, Client, ClientOptions, Failure, Router, Server, ServerOptions,
//!     SessionOptions,
//! };
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let session = SessionOptions::default()
//!     .heartbeat_interval(Duration::from_millis(500))
//!     .session_disconnect_grace(Duration::from_secs(10));
//! let server = Server::builder()
//!     .options(ServerOptions::default().session(session.clone()).max_sessions(1_000))
//!     .bind("127.0.0.1:0", Router::new())
//!     .await?;
//! let client = Client::builder(format!("ws://{}", server.local_addr()))
//!     .options(
//!         ClientOptions::default()
//!             .session(session)
//!             .connection_timeout(Duration::from_secs(5)),
//!     )
//!     .build();
//! client.connect().await?;
//! # client.close().await;
//! # server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Cancellation and deadlines
//!
//! Dropping a call's [`Response`] or [`Reader`] before it finished cancels the call
//! on the server: the client sends `CANCEL` and the handler's [`Context::cancelled`]
//! resolves. So `tokio::time::timeout`, a `select!` branch that loses, or an aborted
//! task all cancel the call. [`Response::cancel`] and [`Reader::cancel`] do it
//! explicitly.
//!
//! ```
//! use std::time::Duration;
//! use river_runtime::{AnyServiceError, Client, Failure, Router, Server};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (cancelled_tx, mut cancelled) = tokio::sync::mpsc::unbounded_channel();
//! let mut router = Router::new();
//! router.rpc("slow", "wait", move |ctx, _init: ()| {
//!     let cancelled_tx = cancelled_tx.clone();
//!     async move {
//!         ctx.cancelled().await; // never answers; waits until the client cancels
//!         let _ = cancelled_tx.send(());
//!         Ok::<_, Failure<AnyServiceError>>(())
//!     }
//! });
//! let server = Server::builder().bind("127.0.0.1:0", router).await?;
//! let client = Client::builder(format!("ws://{}", server.local_addr())).build();
//!
//! let call = client.rpc::<_, (), AnyServiceError>("slow", "wait", &());
//! let timed_out = tokio::time::timeout(Duration::from_millis(50), call).await;
//! assert!(timed_out.is_err()); // the call was dropped unfinished...
//! cancelled.recv().await; // ...so the handler saw the cancellation
//! # client.close().await;
//! # server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! A per-call deadline does the same and says so in the error:
//! [`Response::timeout`] (and [`Reader::timeout`] for streams and subscriptions)
//! cancels the call when the deadline passes and fails it with an error for which
//! [`RiverError::is_timeout`] is true.
//!
//! ```
//! # use std::time::Duration;
//! # use river_runtime::{AnyServiceError, Client, Failure, Router, Server};
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (cancelled_tx, mut cancelled) = tokio::sync::mpsc::unbounded_channel();
//! # let mut router = Router::new();
//! # router.rpc("slow", "wait", move |ctx, _init: ()| {
//! #     let cancelled_tx = cancelled_tx.clone();
//! #     async move {
//! #         ctx.cancelled().await;
//! #         let _ = cancelled_tx.send(());
//! #         Ok::<_, Failure<AnyServiceError>>(())
//! #     }
//! # });
//! # let server = Server::builder().bind("127.0.0.1:0", router).await?;
//! # let client = Client::builder(format!("ws://{}", server.local_addr())).build();
//! // `slow.wait` never answers (as in the example above).
//! let err = client
//!     .rpc::<_, (), AnyServiceError>("slow", "wait", &())
//!     .timeout(Duration::from_millis(50))
//!     .await
//!     .expect_err("the handler never answers");
//! assert!(err.is_timeout());
//! assert_eq!(err.to_string(), "deadline exceeded after 50ms");
//! cancelled.recv().await; // cancelled on the server too
//! # client.close().await;
//! # server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Observability
//!
//! Every call has a `tracing` span on each side (`river.client` / `river.server`, with
//! the reference's OpenTelemetry span names and attributes), sessions and connections
//! emit lifecycle events, and two features add W3C trace propagation and metrics. The
//! [`telemetry`] module lists the spans, fields, events and metric series.
//!
//! # Features
//!
//! - `opentelemetry`: stream-open frames carry the call span's W3C trace context
//!   (through `tracing-opentelemetry`), and the server's span continues the caller's
//!   trace, as with the reference.
//! - `metrics`: call, session, stream, reconnect, frame and byte metrics through the
//!   `metrics` facade.
//! - `native-roots`: trust the platform's certificate store for `wss://` too.
//! - `axum`: `river_runtime::axum`, River at a route of an axum `Router`.
//! - `unstable-internals`: makes the wire internals public (the frame model `message`,
//!   `ids`, the session bookkeeping `session`, `Codec::encode_message` /
//!   `decode_message` / `encode_result` / `decode_result`, `ProtocolError::to_payload`
//!   / `from_payload`) for fuzzers, conformance tests and interop tools. They are
//!   **unstable: no semver guarantees**. Without the feature they are private; nothing
//!   an application or generated code needs is behind it.
#![deny(missing_docs)]

/// Declares a module of wire internals: `pub` with the `unstable-internals` feature
/// (documented as unstable), `pub(crate)` without it.
macro_rules! internal_mod {
    ($(#[$attr:meta])* mod $name:ident;) => {
        // The module's own docs say that it is unstable (outer docs would resolve its
        // intra-doc links in the wrong scope).
        $(#[$attr])*
        #[cfg(feature = "unstable-internals")]
        pub mod $name;
        $(#[$attr])*
        #[cfg(not(feature = "unstable-internals"))]
        #[allow(dead_code, unused_imports)]
        pub(crate) mod $name;
    };
}

/// Declares a wire-level method or function: `pub` with the `unstable-internals`
/// feature (documented as unstable), `pub(crate)` without it.
macro_rules! internal_fn {
    ($(#[$attr:meta])* fn $($rest:tt)*) => {
        $(#[$attr])*
        ///
        /// **Unstable internals** (the `unstable-internals` feature): no semver
        /// guarantees.
        #[cfg(feature = "unstable-internals")]
        pub fn $($rest)*
        $(#[$attr])*
        #[cfg(not(feature = "unstable-internals"))]
        #[allow(dead_code)]
        pub(crate) fn $($rest)*
    };
}

#[cfg(feature = "axum")]
pub mod axum;
pub mod client;
pub mod codec;
pub mod connect;
pub mod error;
internal_mod! { mod ids; }
internal_mod! { mod message; }
pub mod options;
pub mod server;
pub mod service_error;
internal_mod! { mod session; }
pub mod telemetry;
pub mod tls;
mod transport;
pub mod validate;
pub mod value;

pub use client::{Client, ClientBuilder, ClientEvent, Reader, Response, Writer};
pub use codec::Codec;
pub use connect::ConnectRequest;
pub use error::{Error, ProtocolError, ProtocolErrorCode, RiverError};
pub use message::{HandshakeErrorCode, Payload};
pub use options::{BackoffOptions, ClientOptions, ServerOptions, SessionOptions};
pub use server::{
    Context, Failure, HandshakeRejection, HandshakeValidator, Requests, Responses, Router, Server,
    ServerBuilder, ServerHandle, ShutdownReport, UpgradeRejection, UpgradeRequest,
};
pub use service_error::{AnyServiceError, ServiceError, UndeclaredError};
pub use tls::{ClientTls, ClientTlsBuilder, ServerTls};
pub use value::{BigInt, Bytes, Date, Value};

/// The `http` crate version of [`UpgradeRequest`]'s types.
pub use http;
/// The rustls version the runtime uses, for [`ClientTls::from_rustls`] and
/// [`ServerTls::from_rustls`].
pub use rustls;

/// Includes a file generated by `river-codegen` into `OUT_DIR` from a build script:
/// `river_runtime::include_generated!("interop");` expands to
/// `include!(concat!(env!("OUT_DIR"), "/interop.rs"));`.
#[macro_export]
macro_rules! include_generated {
    ($name:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $name, ".rs"));
    };
}

/// What generated code needs, re-exported so that a crate using generated code depends
/// on `river-runtime` alone. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use futures;
    pub use serde;
    pub use serde_json;

    pub use crate::service_error::support::{
        optional_extras, required_extras, serialize_service_error, unknown_code, ServiceErrorWire,
    };
}
