//! [`Client`]: the cheap handle every call starts from, and the state its clones share.

use super::*;

/// State shared between the handles and the driver.
pub(crate) struct Shared {
    pub(crate) session_id: Mutex<Option<String>>,
    pub(crate) stats: StatsCounters,
    pub(crate) events: broadcast::Sender<ClientEvent>,
    pub(crate) backpressure: Backpressure,
    pub(crate) closed: AtomicBool,
    /// Signalled when a reader takes an item from a queue the driver found full.
    pub(crate) reader_space: Notify,
}

impl Shared {
    pub(crate) fn emit(&self, event: ClientEvent) {
        let _ = self.events.send(event);
    }
    pub(crate) fn set_session_id(&self, id: Option<String>) {
        if let Ok(mut g) = self.session_id.lock() {
            *g = id;
        }
    }
}

pub(super) struct Inner {
    pub(super) config: Arc<Config>,
    pub(super) shared: Arc<Shared>,
    pub(super) cmd_tx: mpsc::UnboundedSender<Command>,
    pub(super) pending_rx: Mutex<Option<mpsc::UnboundedReceiver<Command>>>,
    pub(super) spawned: AtomicBool,
    /// Why this client cannot work (the codec cannot carry the schema's fields):
    /// `connect` and every call fail with it, without connecting.
    pub(super) config_error: std::sync::OnceLock<Error>,
}

impl Inner {
    /// The command channel, spawning the driver on first use. `None` when there is no
    /// tokio runtime to run it on.
    pub(super) fn cmd(&self) -> Option<&mpsc::UnboundedSender<Command>> {
        if !self.spawned.load(Ordering::Acquire) {
            let handle = tokio::runtime::Handle::try_current().ok()?;
            let mut guard = self.pending_rx.lock().ok()?;
            if let Some(rx) = guard.take() {
                let driver = driver::Driver::new(self.config.clone(), self.shared.clone());
                handle.spawn(driver.run(rx));
                self.spawned.store(true, Ordering::Release);
            }
        }
        Some(&self.cmd_tx)
    }
}

/// A River client bound to one server. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let config = &self.inner.config;
        f.debug_struct("Client")
            .field("url", &config.url)
            .field("codec", &config.codec)
            .field("client_id", &config.client_id)
            .field("server_id", &config.server_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts building a client for a `ws://` or `wss://` URL. The client does not
    /// connect until the first call (or [`Client::connect`]); an unsupported scheme
    /// fails that first attempt at once, without retries ([`Error::is_config`]).
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            codec: Codec::default(),
            client_id: None,
            server_id: "SERVER".to_string(),
            options: ClientOptions::default(),
            metadata: None,
            headers: Vec::new(),
            provider: None,
            tls: None,
            validators: None,
            binary_fields: Vec::new(),
            skip_binary_check: false,
        }
    }

    /// The codec this client encodes and decodes with.
    pub fn codec(&self) -> Codec {
        self.inner.config.codec
    }

    /// Checks that this client's codec can carry `fields` (see
    /// [`ClientBuilder::require_binary_codec`]; generated clients call this with their
    /// schema's `BINARY_CODEC_FIELDS` when they wrap a runtime client). With
    /// [`Codec::Json`] and at least one field, and unless the builder's
    /// [`skip_binary_codec_check`](ClientBuilder::skip_binary_codec_check) was called,
    /// it returns an [`Error::is_config`] error naming the fields and the fix, and from
    /// then on [`Client::connect`] and every call of this client (and its clones) fail
    /// at once with that error.
    pub fn require_binary_codec<S: AsRef<str>>(&self, fields: &[S]) -> Result<(), Error> {
        if let Some(e) = self.inner.config_error.get() {
            return Err(e.clone());
        }
        let check =
            Client::binary_codec_check(self.codec(), self.inner.config.skip_binary_check, fields);
        if let Err(e) = check {
            let _ = self.inner.config_error.set(e);
            if let Some(e) = self.inner.config_error.get() {
                return Err(e.clone());
            }
        }
        Ok(())
    }

    pub(super) fn binary_codec_check<S: AsRef<str>>(
        codec: Codec,
        skip: bool,
        fields: &[S],
    ) -> Result<(), Error> {
        if codec == Codec::Json && !skip && !fields.is_empty() {
            return Err(crate::codec::binary_codec_error(
                fields,
                "ClientBuilder::codec",
            ));
        }
        Ok(())
    }

    /// This client's id (`from` of every frame it sends).
    pub fn client_id(&self) -> &str {
        &self.inner.config.client_id
    }

    /// The server's id (`to` of every frame).
    pub fn server_id(&self) -> &str {
        &self.inner.config.server_id
    }

    /// The id of the current session, if one exists (connected or not).
    pub fn session_id(&self) -> Option<String> {
        self.inner
            .shared
            .session_id
            .lock()
            .ok()
            .and_then(|g| g.clone())
    }

    /// Connection counters.
    pub fn stats(&self) -> ClientStats {
        let s = &self.inner.shared.stats;
        ClientStats {
            connection_attempts: s.connection_attempts.load(Ordering::Relaxed),
            connections: s.connections.load(Ordering::Relaxed),
            reconnects: s.reconnects.load(Ordering::Relaxed),
            sessions_created: s.sessions_created.load(Ordering::Relaxed),
            sessions_closed: s.sessions_closed.load(Ordering::Relaxed),
            read_pauses: s.read_pauses.load(Ordering::Relaxed),
            reader_queue_peak: s.reader_queue_peak.load(Ordering::Relaxed),
        }
    }

    /// Subscribes to session and connection events from now on.
    pub fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.shared.events.subscribe()
    }

    /// Whether [`Client::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.shared.closed.load(Ordering::Acquire)
    }

    /// Connects now (otherwise the first call connects). Resolves once a handshake
    /// succeeds; fails when the handshake is rejected ([`Error::handshake_code`]), the
    /// server refuses the credentials ([`Error::is_unauthorized`]), the certificate is
    /// not trusted ([`Error::is_tls`]), the retry budget runs out (the error's
    /// `source()` is the last connect failure), or the session is destroyed first.
    /// Fails at once, without connecting, when the codec cannot carry the schema's
    /// fields ([`ClientBuilder::require_binary_codec`], [`Error::is_config`]).
    ///
    /// After a final connect failure (401/403, untrusted certificate, unsupported URL)
    /// the client stops: calls fail at once with that failure as their cause. Calling
    /// `connect` is the way to try again (for example after the credentials a
    /// [`connect_with`](ClientBuilder::connect_with) provider returns were fixed).
    pub async fn connect(&self) -> Result<(), Error> {
        if let Some(e) = self.inner.config_error.get() {
            return Err(e.clone());
        }
        if self.is_closed() {
            return Err(Error::closed("transport is closed"));
        }
        let cmd = self
            .inner
            .cmd()
            .ok_or_else(|| Error::closed("no tokio runtime to run the client on"))?;
        let (tx, rx) = oneshot::channel();
        cmd.send(Command::Connect { reply: tx })
            .map_err(|_| Error::closed("transport is closed"))?;
        rx.await
            .unwrap_or_else(|_| Err(Error::closed("transport is closed")))
    }

    /// Closes the client: every call in flight fails with `UNEXPECTED_DISCONNECT`, the
    /// connection is closed (code 1000), and later calls fail at once.
    pub async fn close(&self) {
        if self.inner.shared.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(cmd) = self.inner.cmd() else { return };
        let (tx, rx) = oneshot::channel();
        if cmd.send(Command::Shutdown { reply: tx }).is_ok() {
            let _ = rx.await;
        }
    }

    /// Encodes an init, first checking it against the procedure's schema when the
    /// client validates (see [`ClientBuilder::validate`]); also returns the procedure's
    /// validators for the requests and responses that follow.
    pub(super) fn encode_init<I: Serialize + ?Sized>(
        &self,
        service: &str,
        procedure: &str,
        init: &I,
    ) -> (Result<Payload, Error>, ProcedureValidators) {
        let checks = self
            .inner
            .config
            .validators
            .as_ref()
            .and_then(|v| v.get(service, procedure))
            .cloned()
            .unwrap_or_default();
        if let Err(e) = check_payload(checks.init.as_ref(), init, || {
            format!("the init of {service}.{procedure} does not match its schema")
        }) {
            return (Err(e), checks);
        }
        (self.inner.config.codec.encode(init), checks)
    }

    /// Registers a call with the driver; `None` when the client is closed.
    pub(super) fn open(
        &self,
        kind: ProcKind,
        service: &str,
        procedure: &str,
        init: Result<Payload, Error>,
    ) -> Result<OpenCall, RiverError<std::convert::Infallible>> {
        if let Some(e) = self.inner.config_error.get() {
            return Err(RiverError::Transport(e.clone()));
        }
        if self.is_closed() {
            return Err(RiverError::Protocol(transport_closed()));
        }
        let init = init.map_err(RiverError::Transport)?;
        let cmd = self.inner.cmd().ok_or_else(|| {
            RiverError::Transport(Error::closed("no tokio runtime to run the client on"))
        })?;
        let stream_id: Arc<str> = Arc::from(generate_id());
        let telemetry = CallTelemetry::client(kind.as_str(), service, procedure, &stream_id);
        let tracing = telemetry::inject(telemetry.span());
        let rx = EventQueue::new(
            self.inner.config.options.session.read_queue_capacity,
            self.inner.shared.clone(),
        );
        let stream = Arc::new(StreamShared {
            write_closed: AtomicBool::new(!kind.has_writer()),
        });
        cmd.send(Command::Open(Box::new(OpenCommand {
            kind,
            stream_id: stream_id.clone(),
            service: service.to_string(),
            procedure: procedure.to_string(),
            init,
            tracing,
            events: EventTx::new(rx.clone()),
            stream: stream.clone(),
        })))
        .map_err(|_| RiverError::Protocol(transport_closed()))?;
        Ok(OpenCall {
            handle: CallHandle {
                cmd: Some(cmd.clone()),
                stream_id,
            },
            telemetry: Some(telemetry),
            rx: Some(rx),
            stream,
        })
    }

    pub(super) fn writer<R>(
        &self,
        call: Option<&OpenCall>,
        schema: Option<Validator>,
    ) -> Writer<R> {
        match call {
            Some(c) => Writer {
                handle: c.handle.clone(),
                stream: c.stream.clone(),
                shared: Some(self.inner.shared.clone()),
                codec: self.inner.config.codec,
                open: true,
                schema,
                _p: PhantomData,
            },
            None => Writer {
                handle: CallHandle {
                    cmd: None,
                    stream_id: Arc::from(""),
                },
                stream: Arc::new(StreamShared {
                    write_closed: AtomicBool::new(true),
                }),
                shared: None,
                codec: self.inner.config.codec,
                open: false,
                schema: None,
                _p: PhantomData,
            },
        }
    }

    pub(super) fn call_parts<O, E>(
        &self,
        opened: Result<OpenCall, RiverError<std::convert::Infallible>>,
        output: Option<Validator>,
    ) -> (Option<OpenCall>, CallRx<O, E>) {
        let codec = self.inner.config.codec;
        match opened {
            Ok(mut call) => {
                let (rx, handle) = (call.rx.take(), call.handle.clone());
                let telemetry = call.telemetry.take();
                let stub = OpenCall {
                    handle: call.handle,
                    telemetry: None,
                    rx: None,
                    stream: call.stream,
                };
                (
                    Some(stub),
                    CallRx {
                        rx,
                        failed: None,
                        handle,
                        codec,
                        output,
                        finished: false,
                        expects_result: false,
                        telemetry,
                        deadline: None,
                        _p: PhantomData,
                    },
                )
            }
            Err(e) => (
                None,
                CallRx {
                    rx: None,
                    failed: Some(match e {
                        RiverError::Protocol(p) => RiverError::Protocol(p),
                        RiverError::Transport(t) => RiverError::Transport(t),
                        RiverError::Service(never) => match never {},
                    }),
                    handle: CallHandle {
                        cmd: None,
                        stream_id: Arc::from(""),
                    },
                    codec,
                    output: None,
                    finished: false,
                    expects_result: false,
                    telemetry: None,
                    deadline: None,
                    _p: PhantomData,
                },
            ),
        }
    }

    /// Calls an rpc: one init, one result. The [`Response`] is a future; dropping it
    /// before it resolves cancels the call on the server, and
    /// [`Response::timeout`] gives it a deadline.
    pub fn rpc<I, O, E>(&self, service: &str, procedure: &str, init: &I) -> Response<O, E>
    where
        I: Serialize + ?Sized,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        let (init, checks) = self.encode_init(service, procedure, init);
        let opened = self.open(ProcKind::Rpc, service, procedure, init);
        let (_, mut rx) = self.call_parts(opened, checks.output);
        rx.expects_result = true;
        Response { rx }
    }

    /// Opens an upload: a writer for requests and one result.
    pub fn upload<I, R, O, E>(
        &self,
        service: &str,
        procedure: &str,
        init: &I,
    ) -> (Writer<R>, Response<O, E>)
    where
        I: Serialize + ?Sized,
        R: Serialize,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        let (init, checks) = self.encode_init(service, procedure, init);
        let opened = self.open(ProcKind::Upload, service, procedure, init);
        let (call, mut rx) = self.call_parts(opened, checks.output);
        rx.expects_result = true;
        (self.writer(call.as_ref(), checks.input), Response { rx })
    }

    /// Opens a stream: a writer for requests and a reader of results.
    pub fn stream<I, R, O, E>(
        &self,
        service: &str,
        procedure: &str,
        init: &I,
    ) -> (Writer<R>, Reader<O, E>)
    where
        I: Serialize + ?Sized,
        R: Serialize,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        let (init, checks) = self.encode_init(service, procedure, init);
        let opened = self.open(ProcKind::Stream, service, procedure, init);
        let (call, rx) = self.call_parts(opened, checks.output);
        (self.writer(call.as_ref(), checks.input), Reader { rx })
    }

    /// Opens a subscription: a reader of results.
    pub fn subscribe<I, O, E>(&self, service: &str, procedure: &str, init: &I) -> Reader<O, E>
    where
        I: Serialize + ?Sized,
        O: DeserializeOwned + Send + 'static,
        E: ServiceError,
    {
        let (init, checks) = self.encode_init(service, procedure, init);
        let opened = self.open(ProcKind::Subscription, service, procedure, init);
        let (_, rx) = self.call_parts(opened, checks.output);
        Reader { rx }
    }
}
