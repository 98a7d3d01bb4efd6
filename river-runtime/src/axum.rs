//! River inside an axum app (feature `axum`): [`route`] is a `GET` route that upgrades
//! to a WebSocket and hands it to a [`Server`] built with
//! [`ServerBuilder::build`](crate::server::ServerBuilder::build), beside the app's other
//! routes and tower layers.
//!
//! ```no_run
//! use river_runtime::{Router, Server};
//! use river_runtime::server::UpgradeRejection;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut procedures = Router::new();
//! // … register procedures (or a generated `register_<service>`) …
//! let river = Server::builder()
//!     // Option 1: River checks the upgrade request itself (401 without the token).
//!     .authorize_upgrade(|req| match req.bearer_token() {
//!         Some("s3cret") => Ok(()),
//!         _ => Err(UpgradeRejection::unauthorized("missing or wrong token")),
//!     })
//!     .build(procedures);
//!
//! let app = axum::Router::new()
//!     .route("/health", axum::routing::get(|| async { "ok" }))
//!     .route("/river", river_runtime::axum::route(river.clone()));
//!     // Option 2: an HTTP layer in front (async, e.g. a token introspection call):
//!     // .layer(axum::middleware::from_fn(check_token))
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(
//!     listener,
//!     app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
//! )
//! .with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; })
//! .await?;
//! river.graceful_shutdown(std::time::Duration::from_secs(10)).await;
//! # Ok(()) }
//! ```
//!
//! Serving the app with `into_make_service_with_connect_info::<SocketAddr>()` makes the
//! peer address available to [`UpgradeRequest::peer_addr`]. TLS belongs to whatever
//! serves the axum app (a TLS-terminating proxy, or a rustls acceptor in front of
//! `hyper`); see `examples/axum-app`.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::MethodRouter;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::server::{Server, UpgradeRejection, UpgradeRequest};

/// A `GET` route serving River with `server`: mount it with
/// `axum::Router::route("/river", river_runtime::axum::route(server))`.
pub fn route<S>(server: Server) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    axum::routing::get(move |req: Request| {
        let server = server.clone();
        async move { upgrade(&server, req) }
    })
}

fn plain(status: StatusCode, body: impl Into<String>) -> Response {
    let mut resp = Response::new(Body::from(body.into()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn header_has_token(req: &Request, name: header::HeaderName, token: &str) -> bool {
    req.headers().get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

/// Checks the request is a WebSocket upgrade, runs the server's authorizer, answers
/// 101 and hands the upgraded connection to `server`.
pub fn upgrade(server: &Server, mut req: Request) -> Response {
    if req.method() != Method::GET
        || !header_has_token(&req, header::CONNECTION, "upgrade")
        || !header_has_token(&req, header::UPGRADE, "websocket")
    {
        return plain(
            StatusCode::BAD_REQUEST,
            "expected a WebSocket upgrade (River endpoint)",
        );
    }
    if req
        .headers()
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        let mut resp = plain(
            StatusCode::UPGRADE_REQUIRED,
            "WebSocket version 13 required",
        );
        resp.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return resp;
    }
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return plain(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key");
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let request = UpgradeRequest::new(
        req.method().clone(),
        req.uri().clone(),
        req.headers().clone(),
        peer,
    );
    if let Err(rejection) = server.authorize_upgrade(&request) {
        return rejection_response(&rejection);
    }
    let on_upgrade = hyper::upgrade::on(&mut req);
    let server = server.clone();
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => server.accept_upgraded(TokioIo::new(upgraded), request),
            Err(e) => tracing::debug!(error = %e, "WebSocket upgrade did not complete"),
        }
    });
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    resp
}

fn rejection_response(rejection: &UpgradeRejection) -> Response {
    let status =
        StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = plain(status, rejection.message());
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}
