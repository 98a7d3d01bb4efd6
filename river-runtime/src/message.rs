//! The wire model: [`TransportMessage`], control flags, control payloads and
//! result envelopes, exactly as the reference implementation puts them on the wire.
//!
//! **Unstable internals** (public only with the `unstable-internals` feature): no semver
//! guarantees; may change or disappear in any release.
//!
//! Payloads stay encoded ([`Payload`]) until a typed consumer decodes them, so a
//! frame crosses the session layer without being re-encoded.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::value::Value;

/// The protocol version this crate speaks (`"v2.0"`).
pub const PROTOCOL_VERSION: &str = "v2.0";

/// Protocol versions a server accepts in a handshake (the reference accepts `v1.1` too,
/// but this crate only speaks v2.0 semantics; see [`crate::server`]).
pub const ACCEPTED_PROTOCOL_VERSIONS: &[&str] = &["v1.1", "v2.0"];

/// Stream id reserved for heartbeats.
pub const HEARTBEAT_STREAM_ID: &str = "heartbeat";

/// Stream id reserved for re-handshake requests and responses.
pub const REHANDSHAKE_STREAM_ID: &str = "rehandshake";

/// One encoded payload, in the codec of the message that carries it.
///
/// A payload is opaque bytes: the JSON text or msgpack bytes of the value. Decode it with
/// [`crate::Codec::decode`]; build one with [`crate::Codec::encode`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Payload(pub(crate) Bytes);

impl Payload {
    /// Wraps already encoded bytes. The caller guarantees they are one complete value in
    /// the codec the payload will travel with.
    pub fn from_encoded(bytes: impl Into<Bytes>) -> Self {
        Payload(bytes.into())
    }

    /// The encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The encoded bytes as a cheaply cloneable buffer.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(s) => write!(f, "Payload({s})"),
            Err(_) => write!(f, "Payload({} bytes)", self.0.len()),
        }
    }
}

/// W3C trace context carried on handshake and stream-open frames.
///
/// The reference client always sends it, with empty strings when tracing is off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracing {
    /// The `traceparent` header value.
    pub traceparent: String,
    /// The `tracestate` header value.
    pub tracestate: String,
}

/// The bit field in [`TransportMessage::control_flags`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ControlFlags(pub u32);

impl ControlFlags {
    /// No bits: a plain data frame (or a handshake frame).
    pub const NONE: ControlFlags = ControlFlags(0);
    /// `AckBit` (1): a heartbeat.
    pub const ACK: ControlFlags = ControlFlags(0b0001);
    /// `StreamOpenBit` (2): the first frame of a stream.
    pub const OPEN: ControlFlags = ControlFlags(0b0010);
    /// `StreamCancelBit` (4): an abrupt cancel carrying an `Err` payload.
    pub const CANCEL: ControlFlags = ControlFlags(0b0100);
    /// `StreamClosedBit` (8): the sender closed its half of the stream.
    pub const CLOSED: ControlFlags = ControlFlags(0b1000);

    /// Whether the heartbeat bit is set.
    pub fn is_ack(self) -> bool {
        self.0 & Self::ACK.0 != 0
    }
    /// Whether the stream-open bit is set.
    pub fn is_open(self) -> bool {
        self.0 & Self::OPEN.0 != 0
    }
    /// Whether the cancel bit is set.
    pub fn is_cancel(self) -> bool {
        self.0 & Self::CANCEL.0 != 0
    }
    /// Whether the closed bit is set.
    pub fn is_closed(self) -> bool {
        self.0 & Self::CLOSED.0 != 0
    }
}

impl std::ops::BitOr for ControlFlags {
    type Output = ControlFlags;
    fn bitor(self, rhs: Self) -> Self {
        ControlFlags(self.0 | rhs.0)
    }
}

/// One River frame: the envelope every WebSocket message carries.
///
/// Optional fields are `None` when absent and are omitted on the wire, never sent as
/// `null` (the reference rejects `null` there).
#[derive(Clone, Debug, PartialEq)]
pub struct TransportMessage {
    /// Message id (12 characters from the reference alphabet when we generate it).
    pub id: String,
    /// The sender's client id.
    pub from: String,
    /// The receiver's client id.
    pub to: String,
    /// Sequence number of this message within the session.
    pub seq: u64,
    /// The next sequence number the sender expects from the receiver.
    pub ack: u64,
    /// Service name; present only on stream-open frames.
    pub service_name: Option<String>,
    /// Procedure name; present only on stream-open frames.
    pub procedure_name: Option<String>,
    /// Stream id (or `"heartbeat"` / `"rehandshake"`).
    pub stream_id: String,
    /// Control flags.
    pub control_flags: ControlFlags,
    /// Trace context; present on handshake requests and stream opens from the reference client.
    pub tracing: Option<Tracing>,
    /// The payload, still encoded.
    pub payload: Payload,
}

/// `expectedSessionState` of a handshake request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedSessionState {
    /// The number of messages the client has received (its `ack`).
    pub next_expected_seq: u64,
    /// The seq of the client's oldest unacknowledged message (or its next seq).
    pub next_sent_seq: u64,
}

/// `HANDSHAKE_REQ` payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HandshakeRequest {
    /// Always `"HANDSHAKE_REQ"`.
    #[serde(rename = "type")]
    pub kind: HandshakeRequestTag,
    /// `"v2.0"` from this crate.
    pub protocol_version: String,
    /// `session-` plus 12 id characters, chosen by the client.
    pub session_id: String,
    /// Where the client's seq/ack bookkeeping stands.
    pub expected_session_state: ExpectedSessionState,
    /// Handshake metadata, omitted when the client has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// The literal `"HANDSHAKE_REQ"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandshakeRequestTag {
    /// `"HANDSHAKE_REQ"`
    #[default]
    #[serde(rename = "HANDSHAKE_REQ")]
    HandshakeReq,
}

/// `HANDSHAKE_RESP` payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HandshakeResponse {
    /// Always `"HANDSHAKE_RESP"`.
    #[serde(rename = "type")]
    pub kind: HandshakeResponseTag,
    /// Accepted or rejected.
    pub status: HandshakeStatus,
}

/// The literal `"HANDSHAKE_RESP"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandshakeResponseTag {
    /// `"HANDSHAKE_RESP"`
    #[default]
    #[serde(rename = "HANDSHAKE_RESP")]
    HandshakeResp,
}

/// `status` of a handshake response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HandshakeStatus {
    /// `{ok: true, sessionId}`
    Ok {
        /// Always `true`.
        ok: True,
        /// Echo of the request's session id.
        #[serde(rename = "sessionId")]
        session_id: String,
    },
    /// `{ok: false, reason, code}`
    Err {
        /// Always `false`.
        ok: False,
        /// Human-readable reason.
        reason: String,
        /// Machine-readable code.
        code: HandshakeErrorCode,
    },
}

/// The six handshake rejection codes the reference knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HandshakeErrorCode {
    /// Retriable: seq/ack state does not match; the client starts a new session.
    SessionStateMismatch,
    /// Fatal: the custom validator rejected the client as unsupported.
    RejectedUnsupportedClient,
    /// Fatal: the custom validator rejected the metadata.
    RejectedByCustomHandler,
    /// Fatal: the metadata does not match the handshake schema.
    MalformedHandshakeMeta,
    /// Fatal: the handshake request itself is malformed.
    MalformedHandshake,
    /// Fatal: unsupported protocol version.
    ProtocolVersionMismatch,
}

impl HandshakeErrorCode {
    /// The wire spelling, for example `"SESSION_STATE_MISMATCH"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionStateMismatch => "SESSION_STATE_MISMATCH",
            Self::RejectedUnsupportedClient => "REJECTED_UNSUPPORTED_CLIENT",
            Self::RejectedByCustomHandler => "REJECTED_BY_CUSTOM_HANDLER",
            Self::MalformedHandshakeMeta => "MALFORMED_HANDSHAKE_META",
            Self::MalformedHandshake => "MALFORMED_HANDSHAKE",
            Self::ProtocolVersionMismatch => "PROTOCOL_VERSION_MISMATCH",
        }
    }

    /// Only a session-state mismatch lets the client retry (with a fresh session).
    pub fn is_retriable(self) -> bool {
        matches!(self, Self::SessionStateMismatch)
    }
}

/// The JSON/msgpack literal `true`, for tagged shapes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct True;
/// The JSON/msgpack literal `false`, for tagged shapes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct False;

macro_rules! bool_literal {
    ($ty:ident, $val:literal) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bool($val)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if bool::deserialize(d)? == $val {
                    Ok($ty)
                } else {
                    Err(serde::de::Error::custom(concat!(
                        "expected ",
                        stringify!($val)
                    )))
                }
            }
        }
    };
}
bool_literal!(True, true);
bool_literal!(False, false);

/// Control payloads that are not handshakes: `{type: "ACK" | "CLOSE" | "REHANDSHAKE_REQ"}`
/// and `{type: "REHANDSHAKE_RESP", metadata}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Control {
    /// `{type: "ACK"}`: heartbeat, flag 1, stream `"heartbeat"`.
    #[serde(rename = "ACK")]
    Ack,
    /// `{type: "CLOSE"}`: a writer closed its half, flag 8.
    #[serde(rename = "CLOSE")]
    Close,
    /// `{type: "REHANDSHAKE_REQ"}` from the server on stream `"rehandshake"`.
    #[serde(rename = "REHANDSHAKE_REQ")]
    RehandshakeReq,
    /// `{type: "REHANDSHAKE_RESP", metadata}` from the client on stream `"rehandshake"`.
    #[serde(rename = "REHANDSHAKE_RESP")]
    RehandshakeResp {
        /// Fresh handshake metadata.
        metadata: Value,
    },
}

/// The payload of an `Err` result: `{code, message, extras?}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorPayload {
    /// Error code, e.g. `"CANCEL"` or a service-defined code.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Extra structured data, omitted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extras: Option<Value>,
}
