//! River at `/river` inside an axum app, next to plain HTTP routes, over TLS (rustls) or
//! plain HTTP, with bearer tokens checked before the WebSocket upgrade.
//!
//! The binaries `axum-server` and `wss-client` are thin command lines over this
//! library, so that the integration test runs exactly what they run.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use futures::FutureExt;
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use river_runtime::{
    AnyServiceError, Client, ClientTls, ConnectRequest, Failure, Router, Server, ShutdownReport,
    UpgradeRejection,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The token the binaries use when none is given.
pub const DEFAULT_TOKEN: &str = "s3cret";

/// How long calls in flight may take to finish once shutdown starts.
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(5);

/// `greeter.hello` init.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Hello {
    /// Whom to greet.
    pub name: String,
}

/// `greeter.hello` result.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Greeting {
    /// The greeting.
    pub message: String,
}

/// `clock.ticks` init.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TickRequest {
    /// How many ticks to send before closing.
    pub count: u32,
    /// Milliseconds between ticks.
    pub interval_ms: u64,
}

/// One `clock.ticks` item.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Tick {
    /// 1, 2, 3, …
    pub n: u32,
}

/// The bearer tokens the server accepts and the user each one stands for.
#[derive(Clone, Debug, Default)]
pub struct Users(Arc<HashMap<String, String>>);

impl Users {
    /// From `(token, user)` pairs.
    pub fn new<T: Into<String>, U: Into<String>>(pairs: impl IntoIterator<Item = (T, U)>) -> Self {
        Users(Arc::new(
            pairs
                .into_iter()
                .map(|(t, u)| (t.into(), u.into()))
                .collect(),
        ))
    }

    /// The user a token stands for.
    pub fn user(&self, token: &str) -> Option<&str> {
        self.0.get(token).map(String::as_str)
    }
}

/// The procedures, registered with the untyped router API.
pub fn procedures(users: Users) -> Router {
    let mut router = Router::new();
    router.rpc("greeter", "hello", move |ctx, init: Hello| {
        let users = users.clone();
        async move {
            // The HTTP request that opened this session's current connection.
            let req = ctx.upgrade_request();
            let user = req
                .bearer_token()
                .and_then(|t| users.user(t))
                .unwrap_or("nobody");
            let from = req
                .peer_addr()
                .map_or_else(|| "somewhere".to_string(), |a| a.to_string());
            Ok::<_, Failure<AnyServiceError>>(Greeting {
                message: format!("Hello, {}! You are {user}, calling from {from}.", init.name),
            })
        }
    });
    router.subscription(
        "clock",
        "ticks",
        |_ctx, init: TickRequest, resps| async move {
            let mut every = tokio::time::interval(Duration::from_millis(init.interval_ms.max(1)));
            for n in 1..=init.count {
                every.tick().await;
                if resps.ok(Tick { n }).await.is_err() {
                    break; // the client cancelled or went away
                }
            }
            Ok::<(), Failure<AnyServiceError>>(())
        },
    );
    router
}

/// The River server: every WebSocket upgrade must carry `Authorization: Bearer <token>`
/// with a known token, or it is answered 401 and no WebSocket is opened (clients do not
/// retry a 401).
///
/// The check could instead be an axum middleware on the app
/// (`.layer(axum::middleware::from_fn(check_token))`), which may be async (a call to a
/// token introspection endpoint, a database lookup) and also guards the other routes.
/// A third place is the River handshake: `HandshakeValidator::with_request` sees the
/// same request beside the handshake metadata.
pub fn river(users: Users) -> Server {
    let known = users.clone();
    Server::builder()
        .authorize_upgrade(move |req| match req.bearer_token() {
            Some(token) if known.user(token).is_some() => Ok(()),
            Some(_) => Err(UpgradeRejection::unauthorized("unknown token")),
            None => Err(UpgradeRejection::unauthorized("missing bearer token")),
        })
        .build(procedures(users))
}

/// The axum app: River at `/river` beside `GET /health`.
pub fn app(river: Server) -> axum::Router {
    axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .route("/river", river_runtime::axum::route(river))
}

/// Serves `app` on `listener` (over TLS when `tls` is given) until `shutdown` resolves,
/// then stops accepting and shuts River down gracefully: new calls are refused with
/// CANCEL, calls in flight get [`DRAIN_DEADLINE`] to finish, then sessions close.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    river: Server,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<ShutdownReport> {
    let stop = shutdown.shared();
    let http = {
        let stop = stop.clone();
        async move {
            match tls {
                // axum::serve has no TLS: accept TLS ourselves and serve each
                // connection with hyper.
                Some(config) => serve_tls(listener, app, TlsAcceptor::from(config), stop).await,
                None => {
                    axum::serve(
                        listener,
                        // Gives `UpgradeRequest::peer_addr` its value.
                        app.into_make_service_with_connect_info::<SocketAddr>(),
                    )
                    .with_graceful_shutdown(stop)
                    .await
                }
            }
        }
    };
    // River's WebSockets outlive the HTTP exchanges that opened them, so they are
    // drained by River itself, starting at the same signal.
    let drain = async move {
        stop.await;
        river.graceful_shutdown(DRAIN_DEADLINE).await
    };
    let (served, report) = tokio::join!(http, drain);
    served?;
    Ok(report)
}

/// The TLS accept loop: a TLS handshake and an HTTP/1.1 connection (with upgrades) per
/// client, each in its own task.
async fn serve_tls(
    listener: TcpListener,
    app: axum::Router,
    acceptor: TlsAcceptor,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()); // enables the 30 s header read timeout
    let service = TowerToHyperService::new(app);
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            // Dropping the listener refuses new connections. Plain HTTP exchanges still
            // open are not awaited (hyper-util's GracefulShutdown cannot watch an http1
            // connection with upgrades); River's sessions are drained by `serve`.
            _ = &mut stop => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // For example too many open files: keep serving the others.
                    eprintln!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let (acceptor, http, service) = (acceptor.clone(), http.clone(), service.clone());
        tokio::spawn(async move {
            let tls =
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    _ => return, // failed or stalled TLS handshake
                };
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                // What `into_make_service_with_connect_info` does under axum::serve.
                req.extensions_mut().insert(ConnectInfo(peer));
                service.call(req)
            });
            // `with_upgrades` hands the connection to River after its 101 response.
            let _ = http
                .serve_connection(TokioIo::new(tls), service)
                .with_upgrades()
                .await;
        });
    }
}

/// Where the client's bearer token comes from. It is read again before every connect
/// and reconnect, so a token rotated on disk is picked up by the next reconnect.
#[derive(Clone, Debug)]
pub enum TokenSource {
    /// No `authorization` header.
    None,
    /// Always this token.
    Fixed(String),
    /// The contents of this file (trimmed), read before each connect.
    File(PathBuf),
}

impl TokenSource {
    /// The current token.
    pub async fn token(&self) -> std::io::Result<Option<String>> {
        match self {
            TokenSource::None => Ok(None),
            TokenSource::Fixed(t) => Ok(Some(t.clone())),
            TokenSource::File(path) => {
                let text = tokio::fs::read_to_string(path).await?;
                Ok(Some(text.trim().to_string()))
            }
        }
    }
}

/// A client for `url` (`wss://` or `ws://`) that asks `tokens` for a token before every
/// connect. `tls` adds trusted roots (for example a private CA) for `wss://`.
pub fn client(url: &str, tls: Option<ClientTls>, tokens: TokenSource) -> Client {
    let mut builder = Client::builder(url);
    if let Some(tls) = tls {
        builder = builder.tls(tls);
    }
    let url = url.to_string();
    builder
        .connect_with(move || {
            let (url, tokens) = (url.clone(), tokens.clone());
            async move {
                let mut request = ConnectRequest::new(url);
                if let Some(token) = tokens.token().await? {
                    request = request.header("authorization", format!("Bearer {token}"));
                }
                Ok::<_, std::io::Error>(request)
            }
        })
        .build()
}
