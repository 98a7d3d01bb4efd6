//! [`ServerBuilder`] and the state every task of a server shares (`ServerShared`).

use super::*;

/// State shared by the accept loop, the connection tasks and the session tasks.
pub(crate) struct ServerShared {
    pub(crate) codec: Codec,
    pub(crate) server_id: Arc<str>,
    pub(crate) options: ServerOptions,
    pub(crate) validator: Option<HandshakeValidator>,
    pub(crate) authorizer: Option<upgrade::Authorizer>,
    pub(crate) router: Router,
    /// Live sessions keyed by client id.
    pub(crate) sessions: Mutex<HashMap<String, session::SessionEntry>>,
    pub(crate) stream_count: AtomicUsize,
    /// Times a session stopped reading because a request queue was full.
    pub(crate) read_pauses: std::sync::atomic::AtomicU64,
    pub(crate) next_instance: std::sync::atomic::AtomicU64,
    /// No new sessions (set by both kinds of shutdown).
    pub(crate) shutting_down: AtomicBool,
    /// No new streams on existing sessions (graceful shutdown).
    pub(crate) draining: AtomicBool,
    /// `true` once shutdown starts: the accept loop stops (dropping the listener) and
    /// connections still in their handshake give up.
    pub(crate) shutdown_tx: watch::Sender<bool>,
    /// Cloned into every connection and session task; shutdown drops this one and
    /// waits until `done_rx` sees every clone gone.
    pub(super) done_tx: Mutex<Option<mpsc::Sender<()>>>,
    pub(super) done_rx: tokio::sync::Mutex<Option<mpsc::Receiver<()>>>,
    /// `{type:"CLOSE"}`, encoded once.
    pub(crate) close_payload: Payload,
    /// `{type:"ACK"}`, encoded once.
    pub(crate) ack_payload: Payload,
}

impl ServerShared {
    pub(crate) fn lock_sessions(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, session::SessionEntry>> {
        match self.sessions.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// A token for a new connection task; `None` once shutdown started.
    pub(crate) fn task_guard(&self) -> Option<mpsc::Sender<()>> {
        match self.done_tx.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

/// Builds a [`Server`].
#[must_use]
pub struct ServerBuilder {
    pub(super) codec: Codec,
    pub(super) server_id: String,
    pub(super) options: ServerOptions,
    pub(super) validator: Option<HandshakeValidator>,
    pub(super) authorizer: Option<upgrade::Authorizer>,
    pub(super) tls: Option<crate::tls::ServerTls>,
    pub(super) skip_binary_check: bool,
}

impl ServerBuilder {
    /// The codec (default JSON). A schema with `Date` fields needs [`Codec::Msgpack`]
    /// on both sides (see [`Router::schema`]).
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }
    /// Serves [`Codec::Json`] even when the router's schema has fields the JSON codec
    /// cannot carry (see [`Router::schema`]); calls that send or receive them fail one
    /// by one. For tests that exercise exactly that.
    pub fn skip_binary_codec_check(mut self) -> Self {
        self.skip_binary_check = true;
        self
    }

    /// The error for a codec that cannot carry the router's fields, if it cannot.
    pub(super) fn check_codec(&self, router: &Router) -> Result<(), Error> {
        if self.codec == Codec::Json && !self.skip_binary_check && !router.binary_fields.is_empty()
        {
            return Err(crate::codec::binary_codec_error(
                &router.binary_fields,
                "ServerBuilder::codec",
            ));
        }
        Ok(())
    }

    /// [`build`](ServerBuilder::build), or an [`Error::is_config`] error when the
    /// codec cannot carry the router's fields (see [`Router::schema`]).
    pub fn try_build(self, router: Router) -> Result<Server, Error> {
        self.check_codec(&router)?;
        Ok(self.build_unchecked(router))
    }
    /// The server's transport id (default `"SERVER"`).
    pub fn server_id(mut self, id: impl Into<String>) -> Self {
        self.server_id = id.into();
        self
    }
    /// Options.
    pub fn options(mut self, options: ServerOptions) -> Self {
        self.options = options;
        self
    }
    /// Requires and validates handshake metadata.
    pub fn handshake(mut self, validator: HandshakeValidator) -> Self {
        self.validator = Some(validator);
        self
    }
    /// Decides on each WebSocket upgrade request before the upgrade: return an
    /// [`UpgradeRejection`] to answer with its HTTP status instead (401 and 403 make
    /// clients stop retrying). Applies to the built-in listener and to the `axum`
    /// integration; a caller of [`Server::accept_upgraded`] calls
    /// [`Server::authorize_upgrade`] itself.
    ///
    /// ```
    /// use river_runtime::server::UpgradeRejection;
    ///
    /// let builder = river_runtime::Server::builder().authorize_upgrade(|req| {
    ///     match req.bearer_token() {
    ///         Some("s3cret") => Ok(()),
    ///         _ => Err(UpgradeRejection::unauthorized("missing or wrong token")),
    ///     }
    /// });
    /// # let _ = builder;
    /// ```
    pub fn authorize_upgrade<F>(mut self, authorize: F) -> Self
    where
        F: Fn(&UpgradeRequest) -> Result<(), UpgradeRejection> + Send + Sync + 'static,
    {
        self.authorizer = Some(Arc::new(authorize));
        self
    }
    /// Serves `wss://` on the built-in listener ([`serve`](ServerBuilder::serve),
    /// [`bind`](ServerBuilder::bind)) with this certificate and key. Not used by
    /// [`build`](ServerBuilder::build): there TLS belongs to the HTTP server.
    pub fn tls(mut self, tls: crate::tls::ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Builds a server without a listener, to be fed connections that another HTTP
    /// stack accepted and upgraded ([`Server::accept_upgraded`], or the `axum`
    /// integration). Must be called inside a tokio runtime only when connections
    /// arrive.
    ///
    /// # Panics
    ///
    /// When the codec cannot carry the router's fields (see [`Router::schema`]), with
    /// the message [`try_build`](ServerBuilder::try_build) returns.
    pub fn build(self, router: Router) -> Server {
        match self.check_codec(&router) {
            Ok(()) => self.build_unchecked(router),
            Err(e) => panic!("{e}"),
        }
    }

    pub(super) fn build_unchecked(self, router: Router) -> Server {
        let codec = self.codec;
        let close_payload = codec
            .encode(&crate::message::Control::Close)
            .unwrap_or_else(|_| Payload::from_encoded(&b"{\"type\":\"CLOSE\"}"[..]));
        let ack_payload = codec
            .encode(&crate::message::Control::Ack)
            .unwrap_or_else(|_| Payload::from_encoded(&b"{\"type\":\"ACK\"}"[..]));
        let (shutdown_tx, _) = watch::channel(false);
        let (done_tx, done_rx) = mpsc::channel(1);
        let shared = Arc::new(ServerShared {
            codec,
            server_id: Arc::from(self.server_id.as_str()),
            options: self.options,
            validator: self.validator,
            authorizer: self.authorizer,
            router,
            sessions: Mutex::new(HashMap::new()),
            stream_count: AtomicUsize::new(0),
            read_pauses: std::sync::atomic::AtomicU64::new(0),
            next_instance: std::sync::atomic::AtomicU64::new(1),
            shutting_down: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            shutdown_tx,
            done_tx: Mutex::new(Some(done_tx)),
            done_rx: tokio::sync::Mutex::new(Some(done_rx)),
            close_payload,
            ack_payload,
        });
        Server { shared }
    }

    /// Serves `router` on an already bound listener (over TLS when
    /// [`tls`](ServerBuilder::tls) was given). Must be called inside a tokio runtime.
    ///
    /// # Panics
    ///
    /// When the codec cannot carry the router's fields (see [`Router::schema`]); use
    /// [`try_serve`](ServerBuilder::try_serve) or [`bind`](ServerBuilder::bind) to get
    /// that as an error.
    pub fn serve(self, listener: tokio::net::TcpListener, router: Router) -> ServerHandle {
        match self.try_serve(listener, router) {
            Ok(handle) => handle,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`serve`](ServerBuilder::serve), or an [`Error::is_config`] error when the codec
    /// cannot carry the router's fields (see [`Router::schema`]).
    pub fn try_serve(
        mut self,
        listener: tokio::net::TcpListener,
        router: Router,
    ) -> Result<ServerHandle, Error> {
        self.check_codec(&router)?;
        let tls = self.tls.take().map(|t| t.acceptor());
        let server = self.build_unchecked(router);
        let local_addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        if let Some(done) = server.shared.task_guard() {
            tokio::spawn(conn::accept_loop(
                server.shared.clone(),
                listener,
                tls,
                done,
            ));
        }
        Ok(ServerHandle { server, local_addr })
    }
    /// Binds `addr` and serves `router`. Fails before binding, with an
    /// [`Error::is_config`] error naming the fields and the fix, when the codec cannot
    /// carry the router's fields (see [`Router::schema`]).
    pub async fn bind(
        self,
        addr: impl tokio::net::ToSocketAddrs,
        router: Router,
    ) -> Result<ServerHandle, Error> {
        self.check_codec(&router)?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::io("could not bind the listener").with_source(e))?;
        self.try_serve(listener, router)
    }
}
