//! Codecs: how a [`TransportMessage`] and its payloads become WebSocket frames.
//!
//! The codec is chosen per transport and never negotiated, as in the reference:
//! [`Codec::Json`] (the reference's `NaiveJsonCodec`, its default) or
//! [`Codec::Msgpack`] (`BinaryCodec`). Both sides must use the same one.

mod json;
mod msgpack;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, ValidationErrorEntry};
use crate::message::{Payload, TransportMessage};

/// A wire codec.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// JSON text in binary frames; `Uint8Array` as `{"$t": base64}`, bigint as
    /// `{"$b": "<decimal>"}`. Dates cannot travel over JSON (the reference sends `{}`).
    #[default]
    Json,
    /// msgpack maps with field names; bytes as `bin`, bigint as extension 0, Date as the
    /// timestamp extension −1.
    Msgpack,
}

/// Why a payload did not decode into the requested type: a JSON-pointer path and a
/// message, for `INVALID_REQUEST` extras.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadMismatch {
    /// Where it failed, e.g. `"/ignore"` (empty for the root).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl From<PayloadMismatch> for ValidationErrorEntry {
    fn from(m: PayloadMismatch) -> Self {
        ValidationErrorEntry {
            path: m.path,
            message: m.message,
        }
    }
}

impl Codec {
    /// Parses a codec name: `json`, or `msgpack` / `binary`.
    pub fn from_name(name: &str) -> Option<Codec> {
        match name {
            "json" => Some(Codec::Json),
            "msgpack" | "binary" => Some(Codec::Msgpack),
            _ => None,
        }
    }

    /// The codec's name (`json` or `msgpack`).
    pub fn name(self) -> &'static str {
        match self {
            Codec::Json => "json",
            Codec::Msgpack => "msgpack",
        }
    }

    /// Encodes a whole frame. The payload must already be encoded with this codec.
    pub fn encode_message(self, msg: &TransportMessage) -> Result<Vec<u8>, Error> {
        match self {
            Codec::Json => json::encode_message(msg),
            Codec::Msgpack => msgpack::encode_message(msg),
        }
    }

    /// Decodes and validates a whole frame: the top level must be a map with every
    /// required field of the right type; optional fields must be absent or well typed
    /// (`null` is rejected, as the reference does); unknown keys are ignored. The payload
    /// is kept encoded, as a slice of `frame`.
    pub fn decode_message(self, frame: bytes::Bytes) -> Result<TransportMessage, Error> {
        match self {
            Codec::Json => json::decode_message(frame),
            Codec::Msgpack => msgpack::decode_message(frame),
        }
    }

    /// Encodes a value as a payload.
    pub fn encode<T: Serialize + ?Sized>(self, value: &T) -> Result<Payload, Error> {
        match self {
            Codec::Json => json::encode_value(value),
            Codec::Msgpack => msgpack::encode_value(value),
        }
    }

    /// Decodes a payload into a value.
    pub fn decode<T: DeserializeOwned>(self, payload: &Payload) -> Result<T, Error> {
        self.decode_checked(payload)
            .map_err(|m| Error::decode(format!("{} at '{}'", m.message, m.path)))
    }

    /// Decodes a payload, reporting where it failed to match the type.
    pub fn decode_checked<T: DeserializeOwned>(self, payload: &Payload) -> Result<T, PayloadMismatch> {
        match self {
            Codec::Json => json::decode_value(payload),
            Codec::Msgpack => msgpack::decode_value(payload),
        }
    }

    /// Builds a `Result` payload `{ok, payload: inner}` around an encoded inner payload.
    pub fn encode_result(self, ok: bool, inner: &Payload) -> Payload {
        match self {
            Codec::Json => json::encode_result(ok, inner),
            Codec::Msgpack => msgpack::encode_result(ok, inner),
        }
    }

    /// Splits a `Result` payload `{ok, payload}` into `ok` and the still-encoded inner
    /// payload. Fails when the payload is not such an object.
    pub fn decode_result(self, payload: &Payload) -> Result<(bool, Payload), Error> {
        match self {
            Codec::Json => json::decode_result(payload),
            Codec::Msgpack => msgpack::decode_result(payload),
        }
    }
}
