//! [`Server`] (connections from anywhere) and [`ServerHandle`] (the built-in listener).

use super::*;

/// A River server: its sessions, router and options, independent of how connections
/// arrive. Cheap to clone. Made by [`ServerBuilder::build`] (connections come from
/// another HTTP stack) or inside a [`ServerHandle`] (the built-in listener).
#[derive(Clone)]
pub struct Server {
    pub(super) shared: Arc<ServerShared>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("server_id", &self.shared.server_id)
            .field("codec", &self.shared.codec)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts building a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            codec: Codec::default(),
            server_id: "SERVER".to_string(),
            options: ServerOptions::default(),
            validator: None,
            authorizer: None,
            tls: None,
            skip_binary_check: false,
        }
    }

    /// Decides on an upgrade request with the configured
    /// [`authorize_upgrade`](ServerBuilder::authorize_upgrade) function; refuses with
    /// 503 once the server is shutting down. Call it before answering 101 when feeding
    /// [`Server::accept_upgraded`].
    pub fn authorize_upgrade(&self, request: &UpgradeRequest) -> Result<(), UpgradeRejection> {
        if self.is_shutting_down() {
            return Err(UpgradeRejection::new(503, "server is shutting down"));
        }
        match &self.shared.authorizer {
            Some(authorize) => authorize(request),
            None => Ok(()),
        }
    }

    /// Serves River on a connection that an HTTP server has already upgraded to a
    /// WebSocket (the bytes after its `101 Switching Protocols`, for example hyper's
    /// `Upgraded` wrapped in `hyper_util::rt::TokioIo`), with the parts of the upgrade
    /// request. Spawns a task for it and returns at once; must be called inside a
    /// tokio runtime. Does nothing once the server is shutting down.
    ///
    /// The caller does the HTTP side: check the request is a WebSocket upgrade, call
    /// [`Server::authorize_upgrade`], answer 101 with `Sec-WebSocket-Accept`. The
    /// `axum` feature's `river_runtime::axum` does all of that.
    pub fn accept_upgraded<I>(&self, io: I, request: UpgradeRequest)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        conn::accept_upgraded(self.shared.clone(), Box::new(io), request);
    }

    /// Whether shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.shutting_down.load(Ordering::SeqCst)
    }

    /// Stops at once: stops accepting, closes every connection and waits for the
    /// connection and session tasks to finish. Handlers still running see
    /// `UNEXPECTED_DISCONNECT` and a cancelled context; they are not awaited.
    pub async fn shutdown(&self) {
        shutdown::immediate(&self.shared).await;
    }

    /// Stops gracefully: stops accepting (the built-in listener is closed, so new
    /// connections are refused; upgrades through [`Server::authorize_upgrade`] get
    /// 503), answers new calls on existing sessions with `CANCEL "server is shutting
    /// down"`, lets calls in flight finish until `deadline` has passed, then closes
    /// every session as the protocol does (WebSocket close 1000; handlers still running
    /// see `UNEXPECTED_DISCONNECT` and a cancelled context). Resolves when every
    /// connection and session task has ended.
    pub async fn graceful_shutdown(&self, deadline: std::time::Duration) -> ShutdownReport {
        shutdown::graceful(&self.shared, deadline).await
    }

    /// Asks a connected client to re-handshake.
    pub fn request_rehandshake(&self, client_id: &str) {
        let session = self
            .shared
            .lock_sessions()
            .get(client_id)
            .map(|e| e.shared.clone());
        if let Some(s) = session {
            let _ = s.tx.send(Cmd::Rehandshake);
        }
    }
    /// Number of live sessions (for tests and metrics).
    pub fn session_count(&self) -> usize {
        self.shared.lock_sessions().len()
    }
    /// Number of open streams across sessions (for tests and metrics).
    pub fn stream_count(&self) -> usize {
        self.shared.stream_count.load(Ordering::SeqCst)
    }
    /// Times a session stopped reading its connection because a handler's request
    /// queue was full (see the module docs).
    pub fn read_pauses(&self) -> u64 {
        self.shared.read_pauses.load(Ordering::Relaxed)
    }
}

/// A running server with its own listener. Dropping the handle leaves the server
/// running; call [`ServerHandle::shutdown`] or [`ServerHandle::graceful_shutdown`] to
/// stop it.
pub struct ServerHandle {
    pub(super) server: Server,
    pub(super) local_addr: SocketAddr,
}

impl ServerHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
    /// The server behind the listener (cheap to clone; for example to shut it down
    /// from a signal handler while the handle is elsewhere).
    pub fn server(&self) -> &Server {
        &self.server
    }
    /// See [`Server::shutdown`].
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
    /// See [`Server::graceful_shutdown`].
    pub async fn graceful_shutdown(self, deadline: std::time::Duration) -> ShutdownReport {
        self.server.graceful_shutdown(deadline).await
    }
    /// Asks a connected client to re-handshake.
    pub fn request_rehandshake(&self, client_id: &str) {
        self.server.request_rehandshake(client_id);
    }
    /// Number of live sessions (for tests and metrics).
    pub fn session_count(&self) -> usize {
        self.server.session_count()
    }
    /// Number of open streams across sessions (for tests and metrics).
    pub fn stream_count(&self) -> usize {
        self.server.stream_count()
    }
    /// Times a session stopped reading its connection because a handler's request
    /// queue was full (see the module docs).
    pub fn read_pauses(&self) -> u64 {
        self.server.read_pauses()
    }
}
