//! [`ClientBuilder`] and the settings it gives the driver (`Config`).

use super::*;

/// Builds handshake metadata: encodes the user's value and re-reads it as a [`Value`].
pub(super) type MetadataFn = Arc<dyn Fn(Codec) -> Result<Value, Error> + Send + Sync>;

/// Immutable client configuration shared with the driver.
pub(crate) struct Config {
    pub(crate) url: String,
    pub(crate) codec: Codec,
    pub(crate) client_id: String,
    pub(crate) server_id: String,
    pub(crate) options: ClientOptions,
    pub(crate) metadata: Option<MetadataFn>,
    /// Extra upgrade headers sent on every connect.
    pub(crate) headers: Vec<(String, String)>,
    /// Produces the URL and headers of each connect, when set.
    pub(crate) provider: Option<ConnectProvider>,
    /// Roots for `wss://`; `None`: the webpki roots, built on first use.
    pub(crate) tls: Option<ClientTls>,
    /// Schemas to check requests and responses against (off unless set).
    pub(crate) validators: Option<SchemaValidators>,
    /// [`ClientBuilder::skip_binary_codec_check`] was called.
    pub(crate) skip_binary_check: bool,
}

impl Config {
    /// The TLS settings for `wss://` connects.
    pub(crate) fn tls(&self) -> &ClientTls {
        static DEFAULT: std::sync::OnceLock<ClientTls> = std::sync::OnceLock::new();
        match &self.tls {
            Some(t) => t,
            None => DEFAULT.get_or_init(ClientTls::default),
        }
    }
}

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    pub(super) url: String,
    pub(super) codec: Codec,
    pub(super) client_id: Option<String>,
    pub(super) server_id: String,
    pub(super) options: ClientOptions,
    pub(super) metadata: Option<MetadataFn>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) provider: Option<ConnectProvider>,
    pub(super) tls: Option<ClientTls>,
    pub(super) validators: Option<SchemaValidators>,
    /// Fields the JSON codec cannot carry ([`ClientBuilder::require_binary_codec`]).
    pub(super) binary_fields: Vec<String>,
    pub(super) skip_binary_check: bool,
}

impl ClientBuilder {
    /// Checks every request this client sends (inits and request data) and every `Ok`
    /// response it receives against the schema, with the server's semantics (TypeBox's
    /// `Value.Check`). A request that does not match fails locally without being sent;
    /// a response that does not match is reported instead of decoded. Both are
    /// [`Error::is_validation`] transport errors. Off by default: it costs an extra
    /// pass over each payload. Service error payloads are not checked (a code the
    /// schema does not know still reaches the caller as `Unknown`).
    ///
    /// ```no_run
    /// # fn f(schema_json: &str) -> Result<(), river_runtime::validate::SchemaError> {
    /// use river_runtime::validate::SchemaValidators;
    /// let client = river_runtime::Client::builder("ws://127.0.0.1:8080")
    ///     .validate(SchemaValidators::compile(schema_json)?)
    ///     .build();
    /// # Ok(()) }
    /// ```
    pub fn validate(mut self, validators: SchemaValidators) -> Self {
        self.validators = Some(validators);
        self
    }

    /// What to trust for `wss://` URLs (default: the webpki roots; see [`ClientTls`]).
    pub fn tls(mut self, tls: ClientTls) -> Self {
        self.tls = Some(tls);
        self
    }
    /// Adds a header to every WebSocket upgrade request, for example
    /// `.header("authorization", "Bearer …")`. Sent on every connect and reconnect,
    /// together with the headers of a [`connect_with`](ClientBuilder::connect_with)
    /// provider.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Calls `provider` before every connect and reconnect for the URL and headers to
    /// use (the URL given to [`Client::builder`] is then only a label in messages), so
    /// a short-lived token can be refreshed before a reconnect:
    ///
    /// ```no_run
    /// use river_runtime::{Client, ConnectRequest};
    ///
    /// async fn fetch_token() -> Result<String, std::io::Error> {
    ///     Ok("t0k3n".to_string())
    /// }
    ///
    /// let client = Client::builder("wss://river.example.com/river")
    ///     .connect_with(|| async {
    ///         let token = fetch_token().await?;
    ///         Ok::<_, std::io::Error>(
    ///             ConnectRequest::new("wss://river.example.com/river")
    ///                 .header("authorization", format!("Bearer {token}")),
    ///         )
    ///     })
    ///     .build();
    /// # let _ = client;
    /// ```
    ///
    /// A provider error fails that attempt like a refused connection (it is retried
    /// with the reconnect backoff and budget).
    pub fn connect_with<F, Fut, E>(mut self, provider: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ConnectRequest, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        self.provider = Some(crate::connect::provider(provider));
        self
    }
    /// The codec (default JSON, as the reference). A schema with `Date` fields needs
    /// [`Codec::Msgpack`] on both sides (see [`require_binary_codec`](Self::require_binary_codec)).
    pub fn codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }
    /// Declares fields of the schema that the JSON codec cannot carry (its `Date`s, as
    /// [`binary_codec_fields`](crate::codec::binary_codec_fields) lists them, or a
    /// generated crate's `BINARY_CODEC_FIELDS`). With [`Codec::Json`],
    /// [`try_build`](Self::try_build) then fails, and a client made by
    /// [`build`](Self::build) fails [`Client::connect`] and every call at once, without
    /// connecting, with an [`Error::is_config`] error naming the fields and the fix:
    ///
    /// ```
    /// use river_runtime::{Client, Codec};
    ///
    /// let err = Client::builder("ws://127.0.0.1:8080")
    ///     .require_binary_codec(&["chat.post init: sentAt"])
    ///     .try_build()
    ///     .unwrap_err();
    /// assert!(err.is_config());
    /// assert_eq!(
    ///     err.to_string(),
    ///     "the JSON codec cannot carry `chat.post init: sentAt` (a Date; the reference's \
    ///      JSON codec sends {}): use Codec::Msgpack on both sides (ClientBuilder::codec)"
    /// );
    ///
    /// let client = Client::builder("ws://127.0.0.1:8080")
    ///     .require_binary_codec(&["chat.post init: sentAt"])
    ///     .codec(Codec::Msgpack)
    ///     .try_build();
    /// assert!(client.is_ok());
    /// ```
    ///
    /// Calling it again adds fields. [`skip_binary_codec_check`](Self::skip_binary_codec_check)
    /// turns the check off.
    pub fn require_binary_codec<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for field in fields {
            let field = field.as_ref();
            if !self.binary_fields.iter().any(|f| f == field) {
                self.binary_fields.push(field.to_string());
            }
        }
        self
    }
    /// Turns off the check of [`require_binary_codec`](Self::require_binary_codec)
    /// (also the one generated clients make): the JSON codec is used even though the
    /// schema has fields it cannot carry, and calls that send or receive them fail
    /// one by one (the reference's JSON codec sends a `Date` as `{}`). For tests that
    /// exercise exactly that.
    pub fn skip_binary_codec_check(mut self) -> Self {
        self.skip_binary_check = true;
        self
    }
    /// This client's id (default: a random `client-…` id). The server keeps one session per client id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }
    /// The server's transport id (default `"SERVER"`).
    pub fn server_id(mut self, id: impl Into<String>) -> Self {
        self.server_id = id.into();
        self
    }
    /// Timing, backoff and reconnect options.
    pub fn options(mut self, options: ClientOptions) -> Self {
        self.options = options;
        self
    }
    /// Handshake metadata, built afresh for every handshake and re-handshake.
    pub fn handshake_metadata<M, F>(mut self, construct: F) -> Self
    where
        M: Serialize,
        F: Fn() -> M + Send + Sync + 'static,
    {
        self.metadata = Some(Arc::new(move |codec: Codec| {
            let encoded = codec.encode(&construct())?;
            codec.decode::<Value>(&encoded)
        }));
        self
    }
    /// Builds the client, or fails with an [`Error::is_config`] error when the codec
    /// cannot carry fields declared with
    /// [`require_binary_codec`](Self::require_binary_codec). It does not connect yet.
    pub fn try_build(self) -> Result<Client, Error> {
        let client = self.build();
        match client.inner.config_error.get() {
            Some(e) => Err(e.clone()),
            None => Ok(client),
        }
    }

    /// Builds the client. It does not connect yet: the first call (with
    /// `connect_on_invoke`) or [`Client::connect`] does.
    ///
    /// When the codec cannot carry fields declared with
    /// [`require_binary_codec`](Self::require_binary_codec), the client is built
    /// failed: [`Client::connect`] and every call fail at once with the
    /// [`Error::is_config`] error that [`try_build`](Self::try_build) returns.
    pub fn build(self) -> Client {
        let check =
            Client::binary_codec_check(self.codec, self.skip_binary_check, &self.binary_fields);
        let config = Arc::new(Config {
            url: self.url,
            codec: self.codec,
            client_id: self
                .client_id
                .unwrap_or_else(|| format!("client-{}", generate_id())),
            server_id: self.server_id,
            options: self.options,
            metadata: self.metadata,
            headers: self.headers,
            provider: self.provider,
            tls: self.tls,
            validators: self.validators,
            skip_binary_check: self.skip_binary_check,
        });
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            session_id: Mutex::new(None),
            stats: StatsCounters::default(),
            events,
            backpressure: Backpressure {
                len: AtomicUsize::new(0),
                pending: AtomicUsize::new(0),
                notify: Notify::new(),
                high_water_mark: config.options.session.send_buffer_high_water_mark,
            },
            closed: AtomicBool::new(false),
            reader_space: Notify::new(),
        });
        let config_error = std::sync::OnceLock::new();
        if let Err(e) = check {
            let _ = config_error.set(e);
        }
        Client {
            inner: Arc::new(Inner {
                config,
                shared,
                cmd_tx,
                pending_rx: Mutex::new(Some(cmd_rx)),
                spawned: AtomicBool::new(false),
                config_error,
            }),
        }
    }
}
