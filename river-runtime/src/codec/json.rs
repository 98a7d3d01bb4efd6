//! The JSON codec (the reference's `NaiveJsonCodec`): UTF-8 JSON text in binary frames.
//!
//! Frames are written by hand in the key order `id, from, to, seq, ack, serviceName?,
//! procedureName?, streamId, controlFlags, tracing?, payload`, with the already encoded
//! payload spliced in verbatim. Frames are decoded with `serde_json`, keeping the payload
//! as a zero-copy slice of the frame (through a borrowed `RawValue`); a frame in the
//! reference's own layout takes a shorter path first (`json/fast.rs`).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use super::{FrameIn, FrameRef, PayloadMismatch};
use crate::error::Error;
use crate::message::{ControlFlags, Payload, Tracing};

mod fast;

/// Writes a JSON string literal. Strings without characters that need escaping (the
/// usual ids and names) are copied directly.
fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), Error> {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        let mut ser = serde_json::Serializer::new(out);
        s.serialize(&mut ser)
            .map_err(|e| Error::encode(format!("cannot encode a JSON string: {e}")))
    }
}

/// Writes `n` in decimal (without `fmt`'s machinery: this runs three times per frame).
fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

pub(super) fn encode_frame(msg: &FrameRef<'_>) -> Result<Vec<u8>, Error> {
    let body = &msg.body;
    let payload = body.payload.as_bytes();
    if payload.is_empty() {
        return Err(Error::encode("cannot encode a frame with an empty payload"));
    }
    let strings = msg.id.len()
        + msg.from.len()
        + msg.to.len()
        + body.stream_id.len()
        + body.service_name.map_or(0, |s| s.len() + 16)
        + body.procedure_name.map_or(0, |s| s.len() + 18)
        + body
            .tracing
            .map_or(0, |t| t.traceparent.len() + t.tracestate.len() + 48);
    let mut out = Vec::with_capacity(payload.len() + strings + 128);
    out.extend_from_slice(b"{\"id\":");
    write_str(&mut out, msg.id)?;
    out.extend_from_slice(b",\"from\":");
    write_str(&mut out, msg.from)?;
    out.extend_from_slice(b",\"to\":");
    write_str(&mut out, msg.to)?;
    out.extend_from_slice(b",\"seq\":");
    write_u64(&mut out, msg.seq);
    out.extend_from_slice(b",\"ack\":");
    write_u64(&mut out, msg.ack);
    if let Some(s) = body.service_name {
        out.extend_from_slice(b",\"serviceName\":");
        write_str(&mut out, s)?;
    }
    if let Some(s) = body.procedure_name {
        out.extend_from_slice(b",\"procedureName\":");
        write_str(&mut out, s)?;
    }
    out.extend_from_slice(b",\"streamId\":");
    write_str(&mut out, body.stream_id)?;
    out.extend_from_slice(b",\"controlFlags\":");
    write_u64(&mut out, u64::from(body.control_flags.0));
    if let Some(t) = body.tracing {
        out.extend_from_slice(b",\"tracing\":{\"traceparent\":");
        write_str(&mut out, &t.traceparent)?;
        out.extend_from_slice(b",\"tracestate\":");
        write_str(&mut out, &t.tracestate)?;
        out.push(b'}');
    }
    out.extend_from_slice(b",\"payload\":");
    out.extend_from_slice(payload);
    out.push(b'}');
    Ok(out)
}

/// The frame as text: UTF-8, with a leading byte-order mark skipped (as `TextDecoder`
/// does).
fn frame_text(frame: &[u8]) -> Result<&str, Error> {
    let body = frame.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(frame);
    std::str::from_utf8(body).map_err(|e| Error::decode(format!("JSON frame is not UTF-8: {e}")))
}

/// The range of `inner` (a sub-slice of `outer`) within `outer`.
fn subslice_range(outer: &[u8], inner: &[u8]) -> Option<std::ops::Range<usize>> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize)?;
    let end = start.checked_add(inner.len())?;
    (end <= outer.len()).then_some(start..end)
}

fn slice_payload(frame: &bytes::Bytes, raw: &RawValue) -> Result<Payload, Error> {
    let range = subslice_range(frame, raw.get().as_bytes())
        .ok_or_else(|| Error::decode("payload is not inside the frame"))?;
    Ok(Payload(frame.slice(range)))
}

fn json_error(context: &str, e: serde_json::Error) -> Error {
    Error::decode(format!("{context}: {e}"))
}

pub(super) fn decode_frame(frame: &bytes::Bytes) -> Result<FrameIn<'_>, Error> {
    let text = frame_text(frame)?;
    if let Some(frame) = fast::decode(frame, text) {
        return Ok(frame);
    }
    decode_frame_full(frame, text)
}

/// Any JSON frame: whitespace, escapes, repeated keys (the last wins), numbers such as
/// `1.0` or `1e2`, `tracing` and unknown keys. It gives the error for a bad frame.
fn decode_frame_full<'a>(frame: &'a bytes::Bytes, text: &'a str) -> Result<FrameIn<'a>, Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let env = de
        .deserialize_map(EnvelopeVisitor)
        .map_err(|e| json_error("invalid JSON frame", e))?;
    de.end().map_err(|e| json_error("invalid JSON frame", e))?;
    let missing =
        |name: &str| Error::decode(format!("invalid frame: missing or invalid field `{name}`"));
    let payload = env.payload.ok_or_else(|| missing("payload"))?;
    let payload = slice_payload(frame, payload)?;
    Ok(FrameIn {
        id: env.id.ok_or_else(|| missing("id"))?,
        from: env.from.ok_or_else(|| missing("from"))?,
        to: env.to.ok_or_else(|| missing("to"))?,
        seq: env.seq.ok_or_else(|| missing("seq"))?,
        ack: env.ack.ok_or_else(|| missing("ack"))?,
        service_name: env.service_name,
        procedure_name: env.procedure_name,
        stream_id: env.stream_id.ok_or_else(|| missing("streamId"))?,
        control_flags: ControlFlags(env.control_flags.ok_or_else(|| missing("controlFlags"))?),
        tracing: env.tracing,
        payload,
    })
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Field {
    Id,
    From,
    To,
    Seq,
    Ack,
    ServiceName,
    ProcedureName,
    StreamId,
    ControlFlags,
    Tracing,
    Payload,
    #[serde(other)]
    Other,
}

#[derive(Default)]
struct Envelope<'a> {
    id: Option<Cow<'a, str>>,
    from: Option<Cow<'a, str>>,
    to: Option<Cow<'a, str>>,
    seq: Option<u64>,
    ack: Option<u64>,
    service_name: Option<Cow<'a, str>>,
    procedure_name: Option<Cow<'a, str>>,
    stream_id: Option<Cow<'a, str>>,
    control_flags: Option<u32>,
    tracing: Option<Tracing>,
    payload: Option<&'a RawValue>,
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a transport message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
        // Duplicate keys: the last one wins, as with JSON.parse.
        let mut env = Envelope::default();
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Id => env.id = Some(map.next_value::<WireStr<'de>>()?.0),
                Field::From => env.from = Some(map.next_value::<WireStr<'de>>()?.0),
                Field::To => env.to = Some(map.next_value::<WireStr<'de>>()?.0),
                Field::Seq => env.seq = Some(map.next_value::<Integer<u64>>()?.0),
                Field::Ack => env.ack = Some(map.next_value::<Integer<u64>>()?.0),
                Field::ServiceName => env.service_name = Some(map.next_value::<WireStr<'de>>()?.0),
                Field::ProcedureName => {
                    env.procedure_name = Some(map.next_value::<WireStr<'de>>()?.0)
                }
                Field::StreamId => env.stream_id = Some(map.next_value::<WireStr<'de>>()?.0),
                Field::ControlFlags => {
                    env.control_flags = Some(map.next_value::<Integer<u32>>()?.0)
                }
                Field::Tracing => env.tracing = Some(map.next_value::<TracingObject>()?.0),
                Field::Payload => env.payload = Some(map.next_value()?),
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(env)
    }
}

/// A string field, borrowed from the frame unless it has escapes. (`Cow<str>`'s own
/// `Deserialize` always copies.)
struct WireStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for WireStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(WireStrVisitor)
    }
}

struct WireStrVisitor;

impl<'de> Visitor<'de> for WireStrVisitor {
    type Value = WireStr<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(WireStr(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(WireStr(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(WireStr(Cow::Owned(v)))
    }
}

/// An integer field: JSON numbers are JavaScript numbers, so an integral float such as
/// `1.0` or `1e2` is an integer too. Negative or out-of-range values are rejected.
struct Integer<T>(T);

impl<'de, T: TryFrom<u64>> Deserialize<'de> for Integer<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = d.deserialize_any(IntegerVisitor)?;
        T::try_from(v)
            .map(Integer)
            .map_err(|_| serde::de::Error::custom(format!("integer {v} out of range")))
    }
}

pub(super) struct IntegerVisitor;

impl Visitor<'_> for IntegerVisitor {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative integer")
    }
    fn visit_u64<E>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v)
            .map_err(|_| E::custom(format!("expected a non-negative integer, found {v}")))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u64, E> {
        if v.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&v) {
            Ok(v as u64)
        } else {
            Err(E::custom(format!(
                "expected a non-negative integer, found {v}"
            )))
        }
    }
}

/// `tracing`: an object (not an array) with string `traceparent` and `tracestate`.
struct TracingObject(Tracing);

impl<'de> Deserialize<'de> for TracingObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TracingVisitor)
    }
}

struct TracingVisitor;

impl<'de> Visitor<'de> for TracingVisitor {
    type Value = TracingObject;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a tracing object {traceparent, tracestate}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TracingObject, A::Error> {
        let (mut traceparent, mut tracestate) = (None, None);
        while let Some(key) = map.next_key::<TracingField>()? {
            match key {
                TracingField::Traceparent => traceparent = Some(map.next_value()?),
                TracingField::Tracestate => tracestate = Some(map.next_value()?),
                TracingField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(TracingObject(Tracing {
            traceparent: traceparent
                .ok_or_else(|| serde::de::Error::missing_field("traceparent"))?,
            tracestate: tracestate.ok_or_else(|| serde::de::Error::missing_field("tracestate"))?,
        }))
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum TracingField {
    Traceparent,
    Tracestate,
    #[serde(other)]
    Other,
}

pub(super) fn encode_value<T: Serialize + ?Sized>(value: &T) -> Result<Payload, Error> {
    let mut buf = super::PayloadWriter::new();
    serde_json::to_writer(&mut buf, value)
        .map(|()| buf.into_payload())
        .map_err(|e| Error::encode(format!("cannot encode the payload as JSON: {e}")))
}

/// serde_json's message without its " at line L column C" suffix.
fn clean_message(e: &serde_json::Error) -> String {
    let full = e.to_string();
    if e.line() == 0 {
        return full;
    }
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    match full.strip_suffix(&suffix) {
        Some(m) => m.to_owned(),
        None => full,
    }
}

pub(super) fn decode_value<T: DeserializeOwned>(payload: &Payload) -> Result<T, PayloadMismatch> {
    // Fast path without path tracking (which costs more than the parse itself); only a
    // failure is decoded again to find where it failed.
    let mut de = serde_json::Deserializer::from_slice(payload.as_bytes());
    if let Ok(value) = T::deserialize(&mut de).and_then(|v| de.end().map(|()| v)) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(payload.as_bytes());
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| PayloadMismatch::from_path_error(e, clean_message))?;
    de.end().map_err(|e| PayloadMismatch {
        path: String::new(),
        message: clean_message(&e),
    })?;
    Ok(value)
}

pub(super) fn encode_result(ok: bool, inner: &Payload) -> Payload {
    let head: &[u8] = if ok {
        b"{\"ok\":true,\"payload\":"
    } else {
        b"{\"ok\":false,\"payload\":"
    };
    let inner = inner.as_bytes();
    let inner: &[u8] = if inner.is_empty() { b"null" } else { inner };
    let mut out = Vec::with_capacity(head.len() + inner.len() + 1);
    out.extend_from_slice(head);
    out.extend_from_slice(inner);
    out.push(b'}');
    Payload(out.into())
}

pub(super) fn decode_result(payload: &Payload) -> Result<(bool, Payload), Error> {
    let frame = &payload.0;
    let text = frame_text(frame)?;
    if let Some((ok, raw)) = fast::decode_result(text) {
        return Ok((ok, slice_payload(frame, raw)?));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let (ok, raw) = de
        .deserialize_map(ResultVisitor)
        .map_err(|e| json_error("invalid Result payload", e))?;
    de.end()
        .map_err(|e| json_error("invalid Result payload", e))?;
    Ok((ok, slice_payload(frame, raw)?))
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum ResultField {
    Ok,
    Payload,
    #[serde(other)]
    Other,
}

struct ResultVisitor;

impl<'de> Visitor<'de> for ResultVisitor {
    type Value = (bool, &'de RawValue);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Result object {ok, payload}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut ok, mut payload) = (None, None);
        while let Some(key) = map.next_key::<ResultField>()? {
            match key {
                ResultField::Ok => ok = Some(map.next_value::<bool>()?),
                ResultField::Payload => payload = Some(map.next_value::<&'de RawValue>()?),
                ResultField::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((
            ok.ok_or_else(|| serde::de::Error::missing_field("ok"))?,
            payload.ok_or_else(|| serde::de::Error::missing_field("payload"))?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::FrameBody;

    /// The shorter path's frame, when it takes one, must be the full path's.
    fn same_as_full(bytes: &[u8]) -> bool {
        let frame = bytes::Bytes::copy_from_slice(bytes);
        let Ok(text) = frame_text(&frame) else {
            return false;
        };
        let Some(fast) = fast::decode(&frame, text) else {
            return false;
        };
        let full = decode_frame_full(&frame, text)
            .unwrap_or_else(|e| panic!("{text:?}: the full path refuses it: {e}"));
        assert_eq!(fast.into_message(), full.into_message(), "{text:?}");
        true
    }

    #[test]
    fn the_short_path_agrees_with_the_full_one() {
        let p = r#""payload":{"n":1}"#;
        let base = r#"{"id":"i","from":"c","to":"SERVER","seq":3,"ack":0,"streamId":"s","controlFlags":2,"#;
        let taken = [
            format!("{base}{p}}}"),
            format!("{base}{p}}}\n"),
            format!(
                r#"{{{p},"streamId":"s","controlFlags":0,"ack":9,"seq":0,"to":"t","from":"f","id":"i"}}"#
            ),
            format!(r#"{base}"serviceName":"svc","procedureName":"é ok",{p}}}"#),
            format!(r#"{base}"payload":null}}"#),
            format!(r#"{base}"payload":"a\"b"}}"#),
            format!(r#"{base}"payload":{{"a":[1,2.5e3,{{"b":"\u00e9"}}]}}}}"#),
            format!(
                r#"{{"id":"i","from":"c","to":"S","seq":18446744073709551615,"ack":0,"streamId":"s","controlFlags":4294967295,{p}}}"#
            ),
        ];
        for text in &taken {
            assert!(same_as_full(text.as_bytes()), "not taken: {text}");
        }
        // Outside the subset: the full path decides (and may accept).
        let left = [
            format!("{base} {p}}}"),
            format!("{base}{p}}} x"),
            format!(r#"{base}{p},"id":"j"}}"#),
            format!(r#"{base}"tracing":{{"traceparent":"a","tracestate":""}},{p}}}"#),
            format!(r#"{base}"other":1,{p}}}"#),
            format!("{}{p}}}", base.replace(r#""seq":3"#, r#""seq":3.0"#)),
            format!("{}{p}}}", base.replace(r#""seq":3"#, r#""seq":03"#)),
            format!("{}{p}}}", base.replace(r#""seq":3"#, r#""seq":1e2"#)),
            format!("{}{p}}}", base.replace(r#""seq":3"#, r#""seq":-1"#)),
            format!(
                "{}{p}}}",
                base.replace(r#""seq":3"#, r#""seq":18446744073709551616"#)
            ),
            format!(
                "{}{p}}}",
                base.replace(r#""controlFlags":2"#, r#""controlFlags":4294967296"#)
            ),
            format!("{}{p}}}", base.replace(r#""id":"i""#, r#""id":"a\nb""#)),
            format!("{}{p}}}", base.replace(r#""id":"i""#, "\"id\":\"a\u{1}b\"")),
            format!("{}{p}}}", base.replace(r#""id":"i""#, r#""\u0069d":"i""#)),
            format!("{}{p}}}", base.replace(r#""id":"i","#, "")),
            format!("{}{p}", base),
            format!(r#"{base}"payload":{{"n":}}}}"#),
            base.trim_end_matches(',').to_string() + "}",
            "{}".to_string(),
            String::new(),
        ];
        for text in &left {
            assert!(!same_as_full(text.as_bytes()), "taken: {text}");
        }
    }

    proptest::proptest! {
        /// Frames as our encoder writes them, with any strings: the short path takes
        /// every one whose strings need no escapes, and gives the full path's frame.
        #[test]
        fn the_short_path_takes_every_plain_frame(
            ids in proptest::collection::vec(".{0,12}", 4),
            names in proptest::option::of(("[a-zA-Z0-9_ é]{1,10}", ".{0,10}")),
            seq: u64,
            ack: u64,
            flags: u32,
            text: String,
            n: f64,
        ) {
            let payload = encode_value(&serde_json::json!({"t": text, "n": n})).unwrap();
            let frame = encode_frame(&FrameRef {
                id: &ids[0],
                from: &ids[1],
                to: &ids[2],
                seq,
                ack,
                body: FrameBody {
                    stream_id: &ids[3],
                    control_flags: ControlFlags(flags),
                    payload: &payload,
                    service_name: names.as_ref().map(|n| n.0.as_str()),
                    procedure_name: names.as_ref().map(|n| n.1.as_str()),
                    tracing: None,
                },
            })
            .unwrap();
            let plain = |s: &str| s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
            let all_plain = ids.iter().all(|s| plain(s))
                && names.as_ref().is_none_or(|n| plain(&n.0) && plain(&n.1));
            proptest::prop_assert_eq!(same_as_full(&frame), all_plain);
        }
    }

    #[test]
    fn the_short_result_path_agrees_with_the_full_one() {
        let full = |text: &str| {
            let mut de = serde_json::Deserializer::from_str(text);
            let (ok, raw) = de.deserialize_map(ResultVisitor).unwrap();
            de.end().unwrap();
            (ok, raw.get().to_string())
        };
        for text in [
            r#"{"ok":true,"payload":{"result":3}}"#,
            r#"{"ok":false,"payload":{"code":"E","message":"m\"x"}}"#,
            r#"{"ok":true,"payload":null}"#,
            r#"{"ok":true,"payload": [1, {"a": "}"}]}"#,
            "{\"ok\":true,\"payload\":1}\n",
        ] {
            let (ok, raw) =
                fast::decode_result(text).unwrap_or_else(|| panic!("not taken: {text}"));
            assert_eq!((ok, raw.get().to_string()), full(text), "{text}");
            let payload = Payload(bytes::Bytes::copy_from_slice(text.as_bytes()));
            let (ok2, inner) = decode_result(&payload).unwrap();
            assert_eq!((ok2, inner.as_bytes()), (ok, raw.get().as_bytes()));
        }
        for text in [
            r#"{"payload":1,"ok":true}"#,
            r#"{"ok":true,"payload":1,"ok":false}"#,
            r#"{"ok":true,"payload":1,"x":2}"#,
            r#"{"ok":true,"payload":1} x"#,
            r#"{"ok":true,"payload":}"#,
            r#"{"ok":true,"payload":1"#,
            r#"{ "ok":true,"payload":1}"#,
            r#"{"ok":true,"payload":1 }"#,
        ] {
            assert!(fast::decode_result(text).is_none(), "taken: {text}");
        }
        // What the full path decides for those: a repeated key, the last wins.
        let payload = Payload(bytes::Bytes::from_static(
            br#"{"ok":true,"payload":1,"ok":false}"#,
        ));
        assert!(!decode_result(&payload).unwrap().0);
    }

    #[test]
    fn the_short_path_agrees_with_the_full_one_over_the_fuzz_corpus() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/decode_json");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("SKIPPED: no fuzz corpus at {}", dir.display());
            return;
        };
        let (mut files, mut taken) = (0, 0);
        for entry in entries.flatten() {
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            files += 1;
            taken += usize::from(same_as_full(&bytes));
        }
        eprintln!("the short path took {taken} of {files} corpus frames");
        assert!(files > 100, "{files} corpus files");
        assert!(taken > 10, "the short path took {taken} of {files} frames");
    }

    #[test]
    fn write_u64_writes_decimal() {
        for n in [0, 7, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            let mut out = b"x".to_vec();
            write_u64(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
    }
}
