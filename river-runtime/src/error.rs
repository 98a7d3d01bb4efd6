//! Error types.
//!
//! - [`ProtocolError`]: the four errors River reserves (`UNCAUGHT_ERROR`,
//!   `UNEXPECTED_DISCONNECT`, `INVALID_REQUEST`, `CANCEL`).
//! - [`RiverError<E>`]: what a call yields: a service's own error `E`, a protocol error,
//!   or a local failure ([`Error`]).
//! - [`Error`]: an opaque local failure (connect, handshake rejection, codec, closed
//!   client) with `is_*()` predicates, in the style of hyper's error.
//! - [`ServiceError`]: implemented by generated per-procedure error enums (see
//!   [`mod@crate::service_error`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::message::{ErrorPayload, HandshakeErrorCode};
pub use crate::service_error::{AnyServiceError, ServiceError};
use crate::value::Value;

/// The codes River reserves for protocol errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtocolErrorCode {
    /// The handler failed (threw, panicked or returned an uncaught failure).
    UncaughtError,
    /// The session was lost. Never sent on the wire; produced locally.
    UnexpectedDisconnect,
    /// The request could not be routed or did not match the procedure's schema.
    InvalidRequest,
    /// The call was cancelled by the client or by the server handler.
    Cancel,
}

impl ProtocolErrorCode {
    /// The wire spelling, for example `"UNCAUGHT_ERROR"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UncaughtError => "UNCAUGHT_ERROR",
            Self::UnexpectedDisconnect => "UNEXPECTED_DISCONNECT",
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::Cancel => "CANCEL",
        }
    }

    /// Parses a wire code; `None` for anything that is not one of the four.
    pub fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "UNCAUGHT_ERROR" => Self::UncaughtError,
            "UNEXPECTED_DISCONNECT" => Self::UnexpectedDisconnect,
            "INVALID_REQUEST" => Self::InvalidRequest,
            "CANCEL" => Self::Cancel,
            _ => return None,
        })
    }
}

impl fmt::Display for ProtocolErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of `INVALID_REQUEST` extras: where validation failed and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationErrorEntry {
    /// JSON-pointer path of the offending value, e.g. `"/ignore"`.
    pub path: String,
    /// What was wrong.
    pub message: String,
}

/// `extras` of an `INVALID_REQUEST` for request data that did not match its schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvalidRequestExtras {
    /// At most five entries.
    pub first_validation_errors: Vec<ValidationErrorEntry>,
    /// How many errors there were in total.
    pub total_errors: u64,
}

/// A protocol error: one of the four reserved codes with its message.
///
/// A locally produced `UNEXPECTED_DISCONNECT` may carry the local failure that caused
/// it (the last failed connect attempt, the server's refusal of the credentials, a TLS
/// certificate error): see [`ProtocolError::cause`]. It is part of `Display` and is
/// returned by [`std::error::Error::source`]; it never travels on the wire and is
/// ignored by `==`.
#[derive(Clone, Debug)]
pub struct ProtocolError {
    /// Which reserved error.
    pub code: ProtocolErrorCode,
    /// The message as sent (or produced locally).
    pub message: String,
    /// Validation details; only ever present on `INVALID_REQUEST`.
    pub extras: Option<InvalidRequestExtras>,
    cause: Option<Arc<Error>>,
}

impl PartialEq for ProtocolError {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.message == other.message && self.extras == other.extras
    }
}

impl ProtocolError {
    /// Builds an error with no extras.
    pub fn new(code: ProtocolErrorCode, message: impl Into<String>) -> Self {
        ProtocolError {
            code,
            message: message.into(),
            extras: None,
            cause: None,
        }
    }

    /// Builds an error with validation extras (meaningful on `INVALID_REQUEST`).
    pub fn with_extras(
        code: ProtocolErrorCode,
        message: impl Into<String>,
        extras: Option<InvalidRequestExtras>,
    ) -> Self {
        ProtocolError {
            extras,
            ..Self::new(code, message)
        }
    }

    /// The local failure behind a locally produced error, if there was one: for an
    /// `UNEXPECTED_DISCONNECT` of a session that could not (re)connect, the last connect
    /// failure (connection refused, DNS, TLS certificate, HTTP status of a refused
    /// upgrade), or the handshake rejection.
    pub fn cause(&self) -> Option<&Error> {
        self.cause.as_deref()
    }

    pub(crate) fn caused_by(mut self, cause: Option<Error>) -> Self {
        self.cause = cause.map(Arc::new);
        self
    }

    /// `CANCEL` with the reference client's message, `"cancelled by client"`.
    pub fn cancelled_by_client() -> Self {
        Self::new(ProtocolErrorCode::Cancel, "cancelled by client")
    }

    /// `UNEXPECTED_DISCONNECT` as the reference client words it: `"<serverId> unexpectedly disconnected"`.
    pub fn unexpected_disconnect(peer: &str) -> Self {
        Self::new(
            ProtocolErrorCode::UnexpectedDisconnect,
            format!("{peer} unexpectedly disconnected"),
        )
    }

    internal_fn! {
        /// Converts to the `{code, message, extras?}` wire payload.
        fn to_payload(&self) -> ErrorPayload {
            ErrorPayload {
                code: self.code.as_str().to_string(),
                message: self.message.clone(),
                extras: self.extras.as_ref().map(|e| {
                    let mut errors = Vec::with_capacity(e.first_validation_errors.len());
                    for entry in &e.first_validation_errors {
                        errors.push(Value::Object(
                            [
                                ("path".to_string(), Value::String(entry.path.clone())),
                                ("message".to_string(), Value::String(entry.message.clone())),
                            ]
                            .into_iter()
                            .collect(),
                        ));
                    }
                    Value::Object(
                        [
                            ("firstValidationErrors".to_string(), Value::Array(errors)),
                            ("totalErrors".to_string(), Value::Int(e.total_errors as i64)),
                        ]
                        .into_iter()
                        .collect(),
                    )
                }),
            }
        }
    }

    internal_fn! {
        /// Interprets a wire error payload as a protocol error, if its code is reserved.
        ///
        /// Malformed `extras` are dropped rather than failing the whole error.
        fn from_payload(payload: &ErrorPayload) -> Option<Self> {
            let code = ProtocolErrorCode::from_code(&payload.code)?;
            let extras = match (&payload.extras, code) {
                (Some(v), ProtocolErrorCode::InvalidRequest) => v.deserialize_into().ok(),
                _ => None,
            };
            Some(ProtocolError::with_extras(
                code,
                payload.message.clone(),
                extras,
            ))
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(cause) = &self.cause {
            write!(f, " ({cause})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProtocolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// What a call can fail with.
#[derive(Debug)]
#[non_exhaustive]
pub enum RiverError<E> {
    /// The service's own error, as declared in its schema.
    Service(E),
    /// One of River's reserved protocol errors (cancel, uncaught, invalid request,
    /// unexpected disconnect).
    Protocol(ProtocolError),
    /// A local failure: the client is closed, the handshake was rejected, a payload did
    /// not encode or decode, and so on.
    Transport(Error),
}

impl<E> RiverError<E> {
    /// The service error, if this is one.
    pub fn service(&self) -> Option<&E> {
        match self {
            RiverError::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The protocol error, if this is one.
    pub fn protocol(&self) -> Option<&ProtocolError> {
        match self {
            RiverError::Protocol(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the call was cancelled (by either side).
    pub fn is_cancel(&self) -> bool {
        matches!(self, RiverError::Protocol(p) if p.code == ProtocolErrorCode::Cancel)
    }

    /// Whether the session was lost (`UNEXPECTED_DISCONNECT`) or the client could not
    /// reach the server at all.
    pub fn is_disconnect(&self) -> bool {
        match self {
            RiverError::Protocol(p) => p.code == ProtocolErrorCode::UnexpectedDisconnect,
            RiverError::Transport(e) => e.is_connect() || e.is_closed(),
            RiverError::Service(_) => false,
        }
    }

    /// Whether the server rejected the request as invalid (`INVALID_REQUEST`).
    pub fn is_invalid_request(&self) -> bool {
        matches!(self, RiverError::Protocol(p) if p.code == ProtocolErrorCode::InvalidRequest)
    }

    /// Whether the handler failed (`UNCAUGHT_ERROR`).
    pub fn is_uncaught(&self) -> bool {
        matches!(self, RiverError::Protocol(p) if p.code == ProtocolErrorCode::UncaughtError)
    }

    /// Whether the call's deadline passed ([`Response::timeout`](crate::Response::timeout),
    /// [`Reader::timeout`](crate::Reader::timeout)): the call was cancelled on the
    /// server and its `Display` is one line, `deadline exceeded after 50ms`.
    pub fn is_timeout(&self) -> bool {
        matches!(self, RiverError::Transport(e) if e.is_timeout())
    }

    /// The local failure behind this error: the [`Error`] of a `Transport` error, or
    /// the cause of a locally produced protocol error (see [`ProtocolError::cause`]).
    pub fn transport_error(&self) -> Option<&Error> {
        match self {
            RiverError::Transport(e) => Some(e),
            RiverError::Protocol(p) => p.cause(),
            RiverError::Service(_) => None,
        }
    }

    /// Whether the server refused the client's credentials: the WebSocket upgrade was
    /// answered with HTTP 401 or 403 (see [`Error::is_unauthorized`]).
    pub fn is_unauthorized(&self) -> bool {
        self.transport_error().is_some_and(Error::is_unauthorized)
    }

    /// Maps the service error.
    pub fn map_service<F, E2>(self, f: F) -> RiverError<E2>
    where
        F: FnOnce(E) -> E2,
    {
        match self {
            RiverError::Service(e) => RiverError::Service(f(e)),
            RiverError::Protocol(p) => RiverError::Protocol(p),
            RiverError::Transport(t) => RiverError::Transport(t),
        }
    }
}

/// One line: a service error as its own `Display` (`CODE: message` for generated and
/// [`AnyServiceError`] types), the others prefixed with their kind.
impl<E: fmt::Display> fmt::Display for RiverError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RiverError::Service(e) => write!(f, "{e}"),
            RiverError::Protocol(p) => write!(f, "protocol error: {p}"),
            RiverError::Transport(t) if t.deadline().is_some() => write!(f, "{t}"),
            RiverError::Transport(t) => write!(f, "transport error: {t}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for RiverError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RiverError::Transport(t) => Some(t),
            RiverError::Protocol(p) => Some(p),
            RiverError::Service(_) => None,
        }
    }
}

impl<E> From<ProtocolError> for RiverError<E> {
    fn from(p: ProtocolError) -> Self {
        RiverError::Protocol(p)
    }
}

impl<E> From<Error> for RiverError<E> {
    fn from(e: Error) -> Self {
        RiverError::Transport(e)
    }
}

/// What kind of local failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Connect,
    Handshake(Option<HandshakeErrorCode>),
    Encode,
    Decode,
    Closed,
    Timeout,
    /// A call's deadline passed after this long.
    Deadline(Duration),
    Io,
    Limit,
    /// The client's configuration cannot work (unsupported URL scheme, invalid header).
    Config,
    /// The TLS handshake failed (for example an untrusted certificate).
    Tls,
    /// The server answered the WebSocket upgrade with this HTTP status.
    Http(u16),
    /// A payload did not match its schema (client-side validation).
    Validation,
}

/// An opaque local failure. Inspect it with the `is_*()` predicates; do not depend on its
/// `Display` text. Cheap to clone (the source is shared).
#[derive(Clone)]
pub struct Error {
    kind: Kind,
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(Arc::from(source.into()));
        self
    }

    /// A connection could not be established (dial failure, retry budget exhausted).
    pub fn connect(message: impl Into<String>) -> Self {
        Error::new(Kind::Connect, message)
    }
    /// The handshake failed; `code` is the server's rejection code when it sent one.
    pub fn handshake(code: Option<HandshakeErrorCode>, message: impl Into<String>) -> Self {
        Error::new(Kind::Handshake(code), message)
    }
    /// A value could not be encoded.
    pub fn encode(message: impl Into<String>) -> Self {
        Error::new(Kind::Encode, message)
    }
    /// A frame or payload could not be decoded.
    pub fn decode(message: impl Into<String>) -> Self {
        Error::new(Kind::Decode, message)
    }
    /// The client, server, session or stream is closed.
    pub fn closed(message: impl Into<String>) -> Self {
        Error::new(Kind::Closed, message)
    }
    /// A deadline passed.
    pub fn timeout(message: impl Into<String>) -> Self {
        Error::new(Kind::Timeout, message)
    }
    /// A call's deadline passed `after` it was set: `deadline exceeded after 50ms`.
    pub(crate) fn deadline_exceeded(after: Duration) -> Self {
        Error::new(
            Kind::Deadline(after),
            format!("deadline exceeded after {after:?}"),
        )
    }
    /// An I/O or WebSocket failure.
    pub fn io(message: impl Into<String>) -> Self {
        Error::new(Kind::Io, message)
    }
    /// A configured limit was exceeded (frame size, streams, sessions).
    pub fn limit(message: impl Into<String>) -> Self {
        Error::new(Kind::Limit, message)
    }

    /// A payload did not match its schema; `errors` (the source, in practice the
    /// validator's `ValidationErrors`) says where.
    pub fn validation<V>(message: impl Into<String>, errors: V) -> Self
    where
        V: std::error::Error + Send + Sync + 'static,
    {
        let message = format!("{}: {errors}", message.into());
        Error::new(Kind::Validation, message).with_source(errors)
    }

    /// The configuration cannot work: an unsupported URL scheme, an invalid URL or
    /// header, unreadable TLS material.
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(Kind::Config, message)
    }
    /// The TLS handshake failed.
    pub fn tls(message: impl Into<String>) -> Self {
        Error::new(Kind::Tls, message)
    }
    /// The server refused the WebSocket upgrade with HTTP `status`.
    pub fn http(status: u16, message: impl Into<String>) -> Self {
        Error::new(Kind::Http(status), message)
    }

    /// Whether a connection could not be established: the dial failed (refused, DNS),
    /// the TLS handshake failed, the server refused the upgrade, or the retry budget
    /// ran out.
    pub fn is_connect(&self) -> bool {
        matches!(self.kind, Kind::Connect | Kind::Tls | Kind::Http(_))
    }
    /// Whether the configuration cannot work (unsupported URL scheme, invalid URL or
    /// header, unreadable certificate or key file). Retrying does not help.
    pub fn is_config(&self) -> bool {
        self.kind == Kind::Config
    }
    /// Whether the TLS handshake failed (for example the server's certificate is not
    /// trusted, or is for another name).
    pub fn is_tls(&self) -> bool {
        self.kind == Kind::Tls
    }
    /// The HTTP status with which the server refused the WebSocket upgrade, if it did.
    pub fn http_status(&self) -> Option<u16> {
        match self.kind {
            Kind::Http(status) => Some(status),
            _ => None,
        }
    }
    /// Whether the server refused the credentials: HTTP 401 or 403 on the upgrade.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self.kind, Kind::Http(401 | 403))
    }
    /// Whether the handshake was rejected or failed.
    pub fn is_handshake(&self) -> bool {
        matches!(self.kind, Kind::Handshake(_))
    }
    /// The server's handshake rejection code, if the server sent one.
    pub fn handshake_code(&self) -> Option<HandshakeErrorCode> {
        match self.kind {
            Kind::Handshake(code) => code,
            _ => None,
        }
    }
    /// Whether encoding a value failed.
    pub fn is_encode(&self) -> bool {
        self.kind == Kind::Encode
    }
    /// Whether decoding a frame or payload failed.
    pub fn is_decode(&self) -> bool {
        self.kind == Kind::Decode
    }
    /// Whether something was already closed.
    pub fn is_closed(&self) -> bool {
        self.kind == Kind::Closed
    }
    /// Whether a deadline passed (a connect or handshake timeout, or a call's own
    /// deadline: see [`Error::deadline`]).
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout | Kind::Deadline(_))
    }
    /// The call deadline that passed, when this error is a call's timeout
    /// ([`Response::timeout`](crate::Response::timeout),
    /// [`Reader::timeout`](crate::Reader::timeout)).
    pub fn deadline(&self) -> Option<Duration> {
        match self.kind {
            Kind::Deadline(after) => Some(after),
            _ => None,
        }
    }
    /// Whether an I/O or WebSocket operation failed.
    pub fn is_io(&self) -> bool {
        self.kind == Kind::Io
    }
    /// Whether a configured limit was exceeded.
    pub fn is_limit(&self) -> bool {
        self.kind == Kind::Limit
    }
    /// Whether a payload did not match its schema (see `ClientBuilder::validate`); the
    /// validator's `ValidationErrors` are the `source()`.
    pub fn is_validation(&self) -> bool {
        self.kind == Kind::Validation
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(s) = &self.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(s) = &self.source {
            write!(f, ": {s}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_displays_as_one_clear_line() {
        let service: RiverError<AnyServiceError> = RiverError::Service(AnyServiceError {
            code: "NOPE".into(),
            message: "no".into(),
            extras: None,
        });
        assert_eq!(service.to_string(), "NOPE: no");
        let protocol: RiverError<AnyServiceError> =
            RiverError::Protocol(ProtocolError::new(ProtocolErrorCode::Cancel, "stopped"));
        assert_eq!(protocol.to_string(), "protocol error: CANCEL: stopped");
        let transport: RiverError<AnyServiceError> =
            RiverError::Transport(Error::closed("transport is closed"));
        assert!(
            transport.to_string().starts_with("transport error: "),
            "{transport}"
        );
        assert!(!transport.to_string().contains('{'), "{transport}");
        let deadline: RiverError<AnyServiceError> =
            RiverError::Transport(Error::deadline_exceeded(Duration::from_millis(50)));
        assert_eq!(deadline.to_string(), "deadline exceeded after 50ms");
        assert!(deadline.is_timeout());
        assert!(!transport.is_timeout());
    }
}
