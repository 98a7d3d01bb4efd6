//! [`Router`]: procedures by service and name, and request decoding and validation.
//! The tasks that run the handlers are in `handler_task.rs`.

use super::*;

/// The four procedure kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProcKind {
    Rpc,
    Upload,
    Stream,
    Subscription,
}

impl ProcKind {
    /// The kind's name in the schema (and in spans and metrics).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ProcKind::Rpc => "rpc",
            ProcKind::Upload => "upload",
            ProcKind::Stream => "stream",
            ProcKind::Subscription => "subscription",
        }
    }
    /// Whether the procedure has a request stream (`requestData`).
    pub(crate) fn has_requests(self) -> bool {
        matches!(self, ProcKind::Upload | ProcKind::Stream)
    }
    /// Whether the response half is a stream of items closed by CLOSE.
    pub(crate) fn streams_responses(self) -> bool {
        matches!(self, ProcKind::Stream | ProcKind::Subscription)
    }
}

pub(super) type StartFn = dyn Fn(
        Context,
        Codec,
        &Payload,
        &ProcedureSchemas,
    ) -> Result<Option<Arc<dyn RequestSink>>, ValidationErrors>
    + Send
    + Sync;

/// The schemas a procedure's requests are validated against (see [`Router::schema`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct ProcedureSchemas {
    /// The init.
    pub(crate) init: Option<Validator>,
    /// Each request data item (upload, stream).
    pub(crate) input: Option<Validator>,
}

/// One registered procedure, type-erased.
pub(crate) struct Procedure {
    pub(crate) kind: ProcKind,
    /// Decodes the init and, on success, spawns the handler; returns the request sink
    /// for upload/stream.
    pub(crate) start: Box<StartFn>,
    /// What requests are validated against.
    pub(crate) schemas: ProcedureSchemas,
}

impl From<PayloadMismatch> for ValidationErrors {
    fn from(m: PayloadMismatch) -> Self {
        ValidationErrors {
            total: 1,
            first: vec![ValidationIssue {
                path: m.path,
                message: m.message,
            }],
        }
    }
}

/// Decodes a request payload; with a schema, checks it first (TypeBox's `Value.Check`
/// semantics) and decodes from the checked value.
pub(super) fn decode_validated<T: DeserializeOwned>(
    codec: Codec,
    payload: &Payload,
    schema: Option<&Validator>,
) -> Result<T, ValidationErrors> {
    let Some(schema) = schema else {
        return Ok(codec.decode_checked(payload)?);
    };
    // A valid payload is checked while parsing and decoded as without a schema; the
    // decoded `Value` is only needed to report why one is not.
    if schema.check_encoded(codec, payload) == Some(true) {
        return Ok(codec.decode_checked(payload)?);
    }
    let value: Value = codec.decode_checked(payload)?;
    schema.validate(&value)?;
    value.deserialize_into::<T>().map_err(|e| {
        ValidationErrors::from(PayloadMismatch {
            path: String::new(),
            message: e.to_string(),
        })
    })
}

/// A table of services and their procedures.
#[derive(Default)]
pub struct Router {
    pub(super) services: HashMap<String, HashMap<String, Procedure>>,
    /// Schemas given (by [`Router::schema`]) before their handler was registered.
    pub(super) pending_schemas: HashMap<(String, String), ProcedureSchemas>,
    /// Fields of the given schemas that the JSON codec cannot carry.
    pub(super) binary_fields: Vec<String>,
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Router::default()
    }

    pub(super) fn insert(
        &mut self,
        service: &str,
        procedure: &str,
        mut proc: Procedure,
    ) -> &mut Self {
        let key = (service.to_string(), procedure.to_string());
        if let Some(schemas) = self.pending_schemas.remove(&key) {
            proc.schemas = schemas;
        }
        let procs = self.services.entry(service.to_string()).or_default();
        if let Some(old) = procs.get(procedure) {
            if proc.schemas.init.is_none() && proc.schemas.input.is_none() {
                proc.schemas = old.schemas.clone();
            }
        }
        procs.insert(procedure.to_string(), proc);
        self
    }

    /// Validates the requests of every procedure of `service` against `schema_json`
    /// (a River schema document, as `serializeSchema` writes it; generated code passes
    /// its `SCHEMA_JSON`), the way the reference server does with TypeBox's
    /// `Value.Check`: an init that does not match is answered with `INVALID_REQUEST`
    /// "procedure init failed validation", a request data item with `INVALID_REQUEST`
    /// "message in requestData position did not match schema" and `extras`
    /// (`totalErrors`, the first five `{path, message}`). Call it before or after
    /// registering the handlers.
    ///
    /// It also records the service's fields that the JSON codec cannot carry (its
    /// `Date`s and the handshake metadata's, see
    /// [`binary_codec_fields`](crate::codec::binary_codec_fields)): a server for this
    /// router then refuses [`Codec::Json`] before it serves anything
    /// ([`ServerBuilder::bind`] and [`ServerBuilder::try_build`] fail with an
    /// [`Error::is_config`] error naming the fields and the fix) unless
    /// [`ServerBuilder::skip_binary_codec_check`] was called.
    ///
    /// # Panics
    ///
    /// When the schema does not compile (for example a `pattern` the runtime cannot
    /// evaluate). river-codegen compiles every schema when it generates code, so the
    /// `SCHEMA_JSON` of generated code always does; use [`Router::try_schema`] for
    /// schemas from elsewhere.
    pub fn schema(&mut self, schema_json: &str, service: &str) -> &mut Self {
        if let Err(e) = self.try_schema(schema_json, service) {
            panic!("the schema of service `{service}` does not compile: {e}");
        }
        self
    }

    /// [`Router::schema`] that reports a schema it cannot use instead of panicking.
    pub fn try_schema(
        &mut self,
        schema_json: &str,
        service: &str,
    ) -> Result<&mut Self, SchemaError> {
        let doc = crate::validate::parse_document(schema_json)?;
        let validators = crate::validate::service_validators(&doc, service)?;
        let binary = crate::codec::service_binary_codec_fields(&doc, service)
            .into_iter()
            .chain(crate::codec::handshake_binary_codec_fields(&doc));
        for field in binary {
            if !self.binary_fields.contains(&field) {
                self.binary_fields.push(field);
            }
        }
        for (name, v) in validators {
            let schemas = ProcedureSchemas {
                init: v.init,
                input: v.input,
            };
            let procs = self.services.entry(service.to_string()).or_default();
            match procs.get_mut(&name) {
                Some(p) => p.schemas = schemas,
                None => {
                    // Remembered for when the handler is registered.
                    self.pending_schemas
                        .insert((service.to_string(), name), schemas);
                }
            }
        }
        Ok(self)
    }

    /// The fields of the schemas given to [`Router::schema`] that the JSON codec cannot
    /// carry (`chat.post init: sentAt`); empty when there are none.
    pub fn binary_codec_fields(&self) -> &[String] {
        &self.binary_fields
    }

    /// Looks up a service; `None` when it does not exist.
    pub(crate) fn service(&self, service: &str) -> Option<&HashMap<String, Procedure>> {
        self.services.get(service)
    }

    /// Registers an rpc handler.
    pub fn rpc<I, O, E, F, Fut>(&mut self, service: &str, procedure: &str, handler: F) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, Failure<E>>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let start =
            move |ctx: Context, codec: Codec, init: &Payload, schemas: &ProcedureSchemas| {
                let init: I = decode_validated(codec, init, schemas.init.as_ref())?;
                let h = handler.clone();
                let c = ctx.clone();
                spawn_unary(ctx, move || h(c, init));
                Ok(None)
            };
        self.insert(
            service,
            procedure,
            Procedure {
                kind: ProcKind::Rpc,
                start: Box::new(start),
                schemas: ProcedureSchemas::default(),
            },
        )
    }

    /// Registers an upload handler.
    pub fn upload<I, R, O, E, F, Fut>(
        &mut self,
        service: &str,
        procedure: &str,
        handler: F,
    ) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        R: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I, Requests<R>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, Failure<E>>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let start =
            move |ctx: Context, codec: Codec, init: &Payload, schemas: &ProcedureSchemas| {
                let init: I = decode_validated(codec, init, schemas.init.as_ref())?;
                let queue = Arc::new(ReqQueue::<R>::new(
                    ctx.inner().session.clone(),
                    schemas.input.clone(),
                ));
                let reqs = Requests {
                    queue: queue.clone(),
                };
                let h = handler.clone();
                let c = ctx.clone();
                spawn_unary(ctx, move || h(c, init, reqs));
                Ok(Some(queue as Arc<dyn RequestSink>))
            };
        self.insert(
            service,
            procedure,
            Procedure {
                kind: ProcKind::Upload,
                start: Box::new(start),
                schemas: ProcedureSchemas::default(),
            },
        )
    }

    /// Registers a stream handler. Returning closes the response half if still open.
    pub fn stream<I, R, O, E, F, Fut>(
        &mut self,
        service: &str,
        procedure: &str,
        handler: F,
    ) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        R: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I, Requests<R>, Responses<O, E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Failure<E>>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let start =
            move |ctx: Context, codec: Codec, init: &Payload, schemas: &ProcedureSchemas| {
                let init: I = decode_validated(codec, init, schemas.init.as_ref())?;
                let queue = Arc::new(ReqQueue::<R>::new(
                    ctx.inner().session.clone(),
                    schemas.input.clone(),
                ));
                let reqs = Requests {
                    queue: queue.clone(),
                };
                let resps = Responses {
                    ctx: ctx.clone(),
                    _p: PhantomData,
                };
                let h = handler.clone();
                let c = ctx.clone();
                spawn_streaming(ctx, move || h(c, init, reqs, resps));
                Ok(Some(queue as Arc<dyn RequestSink>))
            };
        self.insert(
            service,
            procedure,
            Procedure {
                kind: ProcKind::Stream,
                start: Box::new(start),
                schemas: ProcedureSchemas::default(),
            },
        )
    }

    /// Registers a subscription handler. Returning closes the response half if still open.
    pub fn subscription<I, O, E, F, Fut>(
        &mut self,
        service: &str,
        procedure: &str,
        handler: F,
    ) -> &mut Self
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Serialize + Send + 'static,
        F: Fn(Context, I, Responses<O, E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Failure<E>>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let start =
            move |ctx: Context, codec: Codec, init: &Payload, schemas: &ProcedureSchemas| {
                let init: I = decode_validated(codec, init, schemas.init.as_ref())?;
                let resps = Responses {
                    ctx: ctx.clone(),
                    _p: PhantomData,
                };
                let h = handler.clone();
                let c = ctx.clone();
                spawn_streaming(ctx, move || h(c, init, resps));
                Ok(None)
            };
        self.insert(
            service,
            procedure,
            Procedure {
                kind: ProcKind::Subscription,
                start: Box::new(start),
                schemas: ProcedureSchemas::default(),
            },
        )
    }
}
