//! Codecs: how a frame (`TransportMessage`) and its payloads become WebSocket frames.
//!
//! The codec is chosen per transport and never negotiated, as in the reference:
//! [`Codec::Json`] (the reference's `NaiveJsonCodec`, its default) or
//! [`Codec::Msgpack`] (`BinaryCodec`). Both sides must use the same one.
//!
//! The JSON codec cannot carry a `Date` (the reference sends `{}`): a schema with `Date`
//! fields needs msgpack. [`binary_codec_fields`] lists those fields; clients and
//! servers declared with them refuse the JSON codec before any call
//! ([`ClientBuilder::require_binary_codec`](crate::ClientBuilder::require_binary_codec),
//! [`Router::schema`](crate::Router::schema)).

mod binary_fields;
mod json;
mod msgpack;

pub(crate) use binary_fields::handshake_binary_codec_fields;
pub use binary_fields::{
    binary_codec_error, binary_codec_fields, binary_codec_fields_of, service_binary_codec_fields,
};

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, ValidationErrorEntry};
use crate::message::{ControlFlags, Payload, Tracing, TransportMessage};

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

/// Nesting limit for values decoded from the network (msgpack payloads and the msgpack
/// skipper). The JSON codec relies on `serde_json`'s own limit of 128.
pub(crate) const MAX_DEPTH: usize = 256;

/// Where a payload is serialized: the first [`PayloadWriter::INLINE`] bytes on the
/// stack, then a `Vec`. A small payload thus ends as one exact-size allocation. (A
/// `Bytes` made from a `Vec` whose capacity exceeds its length, as `serde_json::to_vec`
/// or a `Vec::with_capacity` buffer returns, allocates a second block for its shared
/// header.)
pub(crate) struct PayloadWriter {
    inline: [u8; PayloadWriter::INLINE],
    len: usize,
    heap: Vec<u8>,
}

impl PayloadWriter {
    const INLINE: usize = 256;

    pub(crate) fn new() -> Self {
        PayloadWriter {
            inline: [0; Self::INLINE],
            len: 0,
            heap: Vec::new(),
        }
    }

    pub(crate) fn into_payload(self) -> Payload {
        if self.heap.is_empty() {
            Payload(bytes::Bytes::copy_from_slice(&self.inline[..self.len]))
        } else {
            Payload(self.heap.into())
        }
    }
}

impl std::io::Write for PayloadWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        if self.heap.is_empty() {
            if let Some(dst) = self.inline.get_mut(self.len..self.len + data.len()) {
                dst.copy_from_slice(data);
                self.len += data.len();
                return Ok(());
            }
            self.heap.reserve(2 * (self.len + data.len()));
            self.heap.extend_from_slice(&self.inline[..self.len]);
        }
        self.heap.extend_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl PayloadMismatch {
    /// Builds a mismatch from a `serde_path_to_error` failure: the path becomes a JSON
    /// pointer (`/list/3/name`, with `~` and `/` escaped as `~0` and `~1`).
    pub(crate) fn from_path_error<E: std::fmt::Display>(
        err: serde_path_to_error::Error<E>,
        clean: impl FnOnce(&E) -> String,
    ) -> Self {
        let mut path = String::new();
        for segment in err.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    let _ = write!(path, "/{index}");
                }
                serde_path_to_error::Segment::Map { key } => push_pointer_token(&mut path, key),
                serde_path_to_error::Segment::Enum { variant } => {
                    push_pointer_token(&mut path, variant)
                }
                serde_path_to_error::Segment::Unknown => {}
            }
        }
        let message = clean(err.inner());
        PayloadMismatch { path, message }
    }
}

fn push_pointer_token(path: &mut String, token: &str) {
    path.push('/');
    for c in token.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

impl std::fmt::Display for PayloadMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{} at '{}'", self.message, self.path)
        }
    }
}

impl std::error::Error for PayloadMismatch {}

impl From<PayloadMismatch> for ValidationErrorEntry {
    fn from(m: PayloadMismatch) -> Self {
        ValidationErrorEntry {
            path: m.path,
            message: m.message,
        }
    }
}

/// A frame to encode, with every field borrowed: the encoders' input. The session
/// stamps the envelope (`id` to `ack`) on a [`FrameBody`] its caller chose.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameRef<'a> {
    pub(crate) id: &'a str,
    pub(crate) from: &'a str,
    pub(crate) to: &'a str,
    pub(crate) seq: u64,
    pub(crate) ack: u64,
    pub(crate) body: FrameBody<'a>,
}

/// The fields of an outgoing frame that the sender chooses, borrowed (the borrowed
/// form of [`Outgoing`](crate::session::Outgoing)): the session loops send this way,
/// without a `String` of the stream id per frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameBody<'a> {
    pub(crate) stream_id: &'a str,
    pub(crate) control_flags: ControlFlags,
    pub(crate) payload: &'a Payload,
    /// Stream opens only.
    pub(crate) service_name: Option<&'a str>,
    /// Stream opens only.
    pub(crate) procedure_name: Option<&'a str>,
    /// Stream opens only.
    pub(crate) tracing: Option<&'a Tracing>,
}

impl<'a> FrameBody<'a> {
    /// A frame with no open-only fields.
    pub(crate) fn new(
        stream_id: &'a str,
        control_flags: ControlFlags,
        payload: &'a Payload,
    ) -> Self {
        FrameBody {
            stream_id,
            control_flags,
            payload,
            service_name: None,
            procedure_name: None,
            tracing: None,
        }
    }
}

/// A decoded frame whose strings borrow from the frame's bytes where they can: always
/// with msgpack, and with JSON unless a string has escapes. The session loops read every
/// frame this way, so an accepted frame costs no `String` for its ids; a frame they must
/// keep (a paused stream's) becomes [`FrameIn<'static>`] with [`FrameIn::into_static`].
#[derive(Clone, Debug)]
pub(crate) struct FrameIn<'a> {
    pub(crate) id: Cow<'a, str>,
    pub(crate) from: Cow<'a, str>,
    pub(crate) to: Cow<'a, str>,
    pub(crate) seq: u64,
    pub(crate) ack: u64,
    pub(crate) service_name: Option<Cow<'a, str>>,
    pub(crate) procedure_name: Option<Cow<'a, str>>,
    pub(crate) stream_id: Cow<'a, str>,
    pub(crate) control_flags: ControlFlags,
    pub(crate) tracing: Option<Tracing>,
    /// A slice of the frame.
    pub(crate) payload: Payload,
}

fn owned(s: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(s.into_owned())
}

impl FrameIn<'_> {
    /// The same frame with every string owned, to keep past the frame's bytes.
    pub(crate) fn into_static(self) -> FrameIn<'static> {
        FrameIn {
            id: owned(self.id),
            from: owned(self.from),
            to: owned(self.to),
            seq: self.seq,
            ack: self.ack,
            service_name: self.service_name.map(owned),
            procedure_name: self.procedure_name.map(owned),
            stream_id: owned(self.stream_id),
            control_flags: self.control_flags,
            tracing: self.tracing,
            payload: self.payload,
        }
    }

    /// The public, owned form.
    pub(crate) fn into_message(self) -> TransportMessage {
        TransportMessage {
            id: self.id.into_owned(),
            from: self.from.into_owned(),
            to: self.to.into_owned(),
            seq: self.seq,
            ack: self.ack,
            service_name: self.service_name.map(Cow::into_owned),
            procedure_name: self.procedure_name.map(Cow::into_owned),
            stream_id: self.stream_id.into_owned(),
            control_flags: self.control_flags,
            tracing: self.tracing,
            payload: self.payload,
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

    internal_fn! {
        /// Encodes a whole frame. The payload must already be encoded with this codec.
        fn encode_message(self, msg: &TransportMessage) -> Result<Vec<u8>, Error> {
            self.encode_frame(&FrameRef {
                id: &msg.id,
                from: &msg.from,
                to: &msg.to,
                seq: msg.seq,
                ack: msg.ack,
                body: FrameBody {
                    stream_id: &msg.stream_id,
                    control_flags: msg.control_flags,
                    payload: &msg.payload,
                    service_name: msg.service_name.as_deref(),
                    procedure_name: msg.procedure_name.as_deref(),
                    tracing: msg.tracing.as_ref(),
                },
            })
        }
    }

    /// Encodes a frame from borrowed fields (the session stamps frames this way, without
    /// copying its ids into a [`TransportMessage`] for every frame).
    pub(crate) fn encode_frame(self, frame: &FrameRef<'_>) -> Result<Vec<u8>, Error> {
        match self {
            Codec::Json => json::encode_frame(frame),
            Codec::Msgpack => msgpack::encode_frame(frame),
        }
    }

    internal_fn! {
        /// Decodes and validates a whole frame: the top level must be a map with every
        /// required field of the right type; optional fields must be absent or well typed
        /// (`null` is rejected, as the reference does); unknown keys are ignored. The payload
        /// is kept encoded, as a slice of `frame`.
        fn decode_message(self, frame: bytes::Bytes) -> Result<TransportMessage, Error> {
            self.decode_frame(&frame).map(FrameIn::into_message)
        }
    }

    /// [`Self::decode_message`] without copying the envelope's strings: they borrow from
    /// `frame` where they can.
    pub(crate) fn decode_frame(self, frame: &bytes::Bytes) -> Result<FrameIn<'_>, Error> {
        match self {
            Codec::Json => json::decode_frame(frame),
            Codec::Msgpack => msgpack::decode_frame(frame),
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
    pub fn decode_checked<T: DeserializeOwned>(
        self,
        payload: &Payload,
    ) -> Result<T, PayloadMismatch> {
        match self {
            Codec::Json => json::decode_value(payload),
            Codec::Msgpack => msgpack::decode_value(payload),
        }
    }

    internal_fn! {
        /// Builds a `Result` payload `{ok, payload: inner}` around an encoded inner payload.
        fn encode_result(self, ok: bool, inner: &Payload) -> Payload {
            match self {
                Codec::Json => json::encode_result(ok, inner),
                Codec::Msgpack => msgpack::encode_result(ok, inner),
            }
        }
    }

    internal_fn! {
        /// Splits a `Result` payload `{ok, payload}` into `ok` and the still-encoded inner
        /// payload. Fails when the payload is not such an object.
        fn decode_result(self, payload: &Payload) -> Result<(bool, Payload), Error> {
            match self {
                Codec::Json => json::decode_result(payload),
                Codec::Msgpack => msgpack::decode_result(payload),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(codec: Codec, stream_id: &str) -> bytes::Bytes {
        let payload = codec.encode(&serde_json::json!({"n": 1})).unwrap();
        let tracing = Tracing {
            traceparent: "00-tp".to_string(),
            tracestate: String::new(),
        };
        bytes::Bytes::from(
            codec
                .encode_frame(&FrameRef {
                    id: "msg123456789",
                    from: "client-a",
                    to: "SERVER",
                    seq: 7,
                    ack: 3,
                    body: FrameBody {
                        stream_id,
                        control_flags: ControlFlags::OPEN,
                        payload: &payload,
                        service_name: Some("svc"),
                        procedure_name: Some("proc"),
                        tracing: Some(&tracing),
                    },
                })
                .unwrap(),
        )
    }

    #[allow(clippy::ptr_arg)] // the point is to look at the `Cow` itself
    fn borrowed(s: &Cow<'_, str>) -> bool {
        matches!(s, Cow::Borrowed(_))
    }

    #[test]
    fn decoded_frames_borrow_their_strings_from_the_frame() {
        for codec in [Codec::Json, Codec::Msgpack] {
            let bytes = frame(codec, "stream-1");
            let f = codec.decode_frame(&bytes).unwrap();
            for s in [&f.id, &f.from, &f.to, &f.stream_id] {
                assert!(borrowed(s), "{codec:?}: {s:?} was copied");
            }
            assert!(f.service_name.as_ref().is_some_and(borrowed), "{codec:?}");
            assert!(f.procedure_name.as_ref().is_some_and(borrowed), "{codec:?}");
            // The same frame as the owned decoder gives, field by field.
            let owned = codec.decode_message(bytes.clone()).unwrap();
            let kept = f.into_static();
            assert!(!borrowed(&kept.stream_id));
            assert_eq!(kept.clone().into_message(), owned, "{codec:?}");
            assert_eq!(owned.id, "msg123456789");
            assert_eq!(owned.stream_id, "stream-1");
            assert_eq!((owned.seq, owned.ack), (7, 3));
            assert_eq!(owned.service_name.as_deref(), Some("svc"));
            assert_eq!(owned.procedure_name.as_deref(), Some("proc"));
            assert_eq!(owned.tracing.unwrap().traceparent, "00-tp");
            let n: serde_json::Value = codec.decode(&owned.payload).unwrap();
            assert_eq!(n, serde_json::json!({"n": 1}));
        }
    }

    #[test]
    fn a_json_string_with_escapes_is_unescaped_into_an_owned_string() {
        let bytes = frame(Codec::Json, "a\"bé");
        let f = Codec::Json.decode_frame(&bytes).unwrap();
        assert!(!borrowed(&f.stream_id));
        assert_eq!(f.stream_id, "a\"bé");
        assert!(borrowed(&f.from));
        // A string field of another type is still refused, with the field's name.
        let text = std::str::from_utf8(&bytes)
            .unwrap()
            .replace("\"SERVER\"", "5");
        let err = Codec::Json
            .decode_frame(&bytes::Bytes::from(text))
            .unwrap_err()
            .to_string();
        assert!(err.contains("a string"), "{err}");
    }

    #[test]
    fn payload_writer_spills_past_the_inline_buffer() {
        for len in [0, 1, 255, 256, 257, 10_000] {
            let text = "x".repeat(len);
            for codec in [Codec::Json, Codec::Msgpack] {
                let payload = codec.encode(&text).unwrap();
                let back: String = codec.decode(&payload).unwrap();
                assert_eq!(back, text, "{codec:?} {len}");
            }
        }
        let mut w = PayloadWriter::new();
        for chunk in [&[1u8; 200][..], &[2; 100], &[3; 1]] {
            std::io::Write::write_all(&mut w, chunk).unwrap();
        }
        let p = w.into_payload();
        assert_eq!(p.as_bytes().len(), 301);
        assert_eq!(p.as_bytes()[199..202], [1, 2, 2]);
        assert_eq!(p.as_bytes()[300], 3);
    }
}
