//! The msgpack codec (the reference's `BinaryCodec`, built on `@msgpack/msgpack` 3.1.2).
//!
//! The envelope is written and read by hand: a map with str keys in the order `id, from,
//! to, seq, ack, serviceName?, procedureName?, streamId, controlFlags, tracing?, payload`,
//! ints in their smallest encoding (as the reference writes them), and the payload's
//! already encoded bytes spliced in. Decoding records the payload's byte range by skipping
//! one msgpack value and keeps it as a zero-copy slice of the frame.
//!
//! Payload values go through `rmp_serde` with structs as maps (never positional arrays).
//! `rmp_serde` writes unit enum variants as their name (a str), which is what the
//! reference sends for string-literal unions, and ints in their smallest encoding.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{FrameIn, FrameRef, PayloadMismatch, MAX_DEPTH};
use crate::error::Error;
use crate::message::{ControlFlags, Payload, Tracing};

/// A `Vec<u8>` write never fails; rmp's API still returns `Result`.
fn infallible<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, Error> {
    r.map_err(|e| Error::encode(format!("msgpack write failed: {e}")))
}

fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), Error> {
    infallible(rmp::encode::write_str(out, s))
}

fn write_uint(out: &mut Vec<u8>, n: u64) -> Result<(), Error> {
    infallible(rmp::encode::write_uint(out, n)).map(|_| ())
}

pub(super) fn encode_frame(msg: &FrameRef<'_>) -> Result<Vec<u8>, Error> {
    let body = &msg.body;
    let payload = body.payload.as_bytes();
    if payload.is_empty() {
        return Err(Error::encode("cannot encode a frame with an empty payload"));
    }
    let entries = 8
        + u32::from(body.service_name.is_some())
        + u32::from(body.procedure_name.is_some())
        + u32::from(body.tracing.is_some());
    let strings = msg.id.len()
        + msg.from.len()
        + msg.to.len()
        + body.stream_id.len()
        + body.service_name.map_or(0, |s| s.len() + 16)
        + body.procedure_name.map_or(0, |s| s.len() + 18)
        + body
            .tracing
            .map_or(0, |t| t.traceparent.len() + t.tracestate.len() + 40);
    let mut out = Vec::with_capacity(payload.len() + strings + 96);
    infallible(rmp::encode::write_map_len(&mut out, entries))?;
    write_str(&mut out, "id")?;
    write_str(&mut out, msg.id)?;
    write_str(&mut out, "from")?;
    write_str(&mut out, msg.from)?;
    write_str(&mut out, "to")?;
    write_str(&mut out, msg.to)?;
    write_str(&mut out, "seq")?;
    write_uint(&mut out, msg.seq)?;
    write_str(&mut out, "ack")?;
    write_uint(&mut out, msg.ack)?;
    if let Some(s) = body.service_name {
        write_str(&mut out, "serviceName")?;
        write_str(&mut out, s)?;
    }
    if let Some(s) = body.procedure_name {
        write_str(&mut out, "procedureName")?;
        write_str(&mut out, s)?;
    }
    write_str(&mut out, "streamId")?;
    write_str(&mut out, body.stream_id)?;
    write_str(&mut out, "controlFlags")?;
    write_uint(&mut out, u64::from(body.control_flags.0))?;
    if let Some(t) = body.tracing {
        write_str(&mut out, "tracing")?;
        infallible(rmp::encode::write_map_len(&mut out, 2))?;
        write_str(&mut out, "traceparent")?;
        write_str(&mut out, &t.traceparent)?;
        write_str(&mut out, "tracestate")?;
        write_str(&mut out, &t.tracestate)?;
    }
    write_str(&mut out, "payload")?;
    out.extend_from_slice(payload);
    Ok(out)
}

/// A bounds-checked cursor over msgpack bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn truncated() -> Error {
    Error::decode("truncated msgpack frame")
}

/// A map key as the reference's decoder accepts them (str or number), with the keys
/// this codec reads recognised from their raw bytes. Those keys are ASCII, so they are
/// valid UTF-8 by construction and skip the check; any other str key is still checked,
/// so an invalid-UTF-8 key is an error as before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
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
    /// `ok` of a `Result` payload.
    Ok,
    Traceparent,
    Tracestate,
    /// Any other key: a valid UTF-8 str or a number.
    Other,
}

impl Key {
    /// The known key spelled by `b`, if any.
    fn known(b: &[u8]) -> Option<Key> {
        let key = match b {
            b"id" => Key::Id,
            b"to" => Key::To,
            b"ok" => Key::Ok,
            b"seq" => Key::Seq,
            b"ack" => Key::Ack,
            b"from" => Key::From,
            b"payload" => Key::Payload,
            b"tracing" => Key::Tracing,
            b"streamId" => Key::StreamId,
            b"tracestate" => Key::Tracestate,
            b"serviceName" => Key::ServiceName,
            b"traceparent" => Key::Traceparent,
            b"controlFlags" => Key::ControlFlags,
            b"procedureName" => Key::ProcedureName,
            _ => return None,
        };
        Some(key)
    }
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).ok_or_else(truncated)?;
        let out = self.buf.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let b = self.bytes(N)?;
        <[u8; N]>::try_from(b).map_err(|_| truncated())
    }

    fn u8(&mut self) -> Result<u8, Error> {
        let b = *self.buf.get(self.pos).ok_or_else(truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, Error> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn skip(&mut self, n: usize) -> Result<(), Error> {
        self.bytes(n).map(|_| ())
    }

    /// The entry count of a map header.
    fn map_len(&mut self, what: &str) -> Result<u32, Error> {
        match self.u8()? {
            m @ 0x80..=0x8f => Ok(u32::from(m & 0x0f)),
            0xde => Ok(u32::from(self.u16()?)),
            0xdf => self.u32(),
            m => Err(Error::decode(format!(
                "{what} is not a msgpack map (marker 0x{m:02x})"
            ))),
        }
    }

    /// The raw bytes of a string after a str marker already read (not yet checked for
    /// UTF-8); `None` when the marker is not a str marker.
    fn str_bytes(&mut self, marker: u8) -> Result<Option<&'a [u8]>, Error> {
        let len = match marker {
            0xa0..=0xbf => usize::from(marker & 0x1f),
            0xd9 => usize::from(self.u8()?),
            0xda => usize::from(self.u16()?),
            0xdb => self.u32()? as usize,
            _ => return Ok(None),
        };
        self.bytes(len).map(Some)
    }

    /// The string after a str marker already read.
    fn str_body(&mut self, marker: u8) -> Result<Option<&'a str>, Error> {
        match self.str_bytes(marker)? {
            Some(b) => std::str::from_utf8(b)
                .map(Some)
                .map_err(|_| Error::decode("msgpack string is not valid UTF-8")),
            None => Ok(None),
        }
    }

    fn key(&mut self) -> Result<Key, Error> {
        let m = self.u8()?;
        if let Some(b) = self.str_bytes(m)? {
            if let Some(key) = Key::known(b) {
                return Ok(key);
            }
            return match std::str::from_utf8(b) {
                Ok(_) => Ok(Key::Other),
                Err(_) => Err(Error::decode("msgpack string is not valid UTF-8")),
            };
        }
        match m {
            0x00..=0x7f | 0xe0..=0xff => Ok(Key::Other),
            0xcc | 0xd0 => self.skip(1).map(|_| Key::Other),
            0xcd | 0xd1 => self.skip(2).map(|_| Key::Other),
            0xce | 0xd2 | 0xca => self.skip(4).map(|_| Key::Other),
            0xcf | 0xd3 | 0xcb => self.skip(8).map(|_| Key::Other),
            m => Err(Error::decode(format!(
                "msgpack map key must be a string or number (marker 0x{m:02x})"
            ))),
        }
    }

    fn string(&mut self, field: &str) -> Result<String, Error> {
        self.str(field).map(str::to_owned)
    }

    /// A string field, borrowed from the frame.
    fn str(&mut self, field: &str) -> Result<&'a str, Error> {
        let m = self.u8()?;
        match self.str_body(m)? {
            Some(s) => Ok(s),
            None => Err(Error::decode(format!(
                "invalid frame: `{field}` must be a string (marker 0x{m:02x})"
            ))),
        }
    }

    /// A non-negative integer of any msgpack width (or an integral float, which is a
    /// JavaScript integer too).
    fn uint(&mut self, field: &str) -> Result<u64, Error> {
        let bad = |what: &dyn std::fmt::Display| {
            Error::decode(format!(
                "invalid frame: `{field}` must be a non-negative integer, found {what}"
            ))
        };
        let m = self.u8()?;
        let signed = |v: i64| u64::try_from(v).map_err(|_| bad(&v));
        let float = |f: f64| {
            if f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&f) {
                Ok(f as u64)
            } else {
                Err(bad(&f))
            }
        };
        match m {
            0x00..=0x7f => Ok(u64::from(m)),
            0xe0..=0xff => signed(i64::from(m as i8)),
            0xcc => Ok(u64::from(self.u8()?)),
            0xcd => Ok(u64::from(self.u16()?)),
            0xce => Ok(u64::from(self.u32()?)),
            0xcf => self.u64(),
            0xd0 => signed(i64::from(self.u8()? as i8)),
            0xd1 => signed(i64::from(self.u16()? as i16)),
            0xd2 => signed(i64::from(self.u32()? as i32)),
            0xd3 => signed(self.u64()? as i64),
            0xca => float(f64::from(f32::from_bits(self.u32()?))),
            0xcb => float(f64::from_bits(self.u64()?)),
            m => Err(bad(&format_args!("marker 0x{m:02x}"))),
        }
    }

    fn bool(&mut self, field: &str) -> Result<bool, Error> {
        match self.u8()? {
            0xc2 => Ok(false),
            0xc3 => Ok(true),
            m => Err(Error::decode(format!(
                "`{field}` must be a boolean (marker 0x{m:02x})"
            ))),
        }
    }

    /// Skips exactly one msgpack value (of any type, including ext/fixext/bin), without
    /// recursion; nesting deeper than [`MAX_DEPTH`] is an error.
    fn skip_value(&mut self) -> Result<(), Error> {
        // The remaining item counts of the enclosing containers: the first levels inline
        // (no zeroing of a large array per payload), deeper ones spill to the heap.
        const INLINE: usize = 16;
        let mut inline = [0u64; INLINE];
        let mut spill: Vec<u64> = Vec::new();
        let mut depth = 0usize;
        let mut remaining: u64 = 1;
        loop {
            while remaining == 0 {
                if depth == 0 {
                    return Ok(());
                }
                depth -= 1;
                remaining = match inline.get(depth) {
                    Some(r) => *r,
                    None => spill.pop().ok_or_else(truncated)?,
                };
            }
            remaining -= 1;
            let m = self.u8()?;
            let children: u64 = match m {
                0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => 0,
                0x80..=0x8f => 2 * u64::from(m & 0x0f),
                0x90..=0x9f => u64::from(m & 0x0f),
                0xa0..=0xbf => {
                    self.skip(usize::from(m & 0x1f))?;
                    0
                }
                0xc4 | 0xd9 => {
                    let n = self.u8()?;
                    self.skip(usize::from(n))?;
                    0
                }
                0xc5 | 0xda => {
                    let n = self.u16()?;
                    self.skip(usize::from(n))?;
                    0
                }
                0xc6 | 0xdb => {
                    let n = self.u32()?;
                    self.skip(n as usize)?;
                    0
                }
                // ext8/16/32: length, type byte, data.
                0xc7 => {
                    let n = self.u8()?;
                    self.skip(usize::from(n) + 1)?;
                    0
                }
                0xc8 => {
                    let n = self.u16()?;
                    self.skip(usize::from(n) + 1)?;
                    0
                }
                0xc9 => {
                    let n = self.u32()?;
                    self.skip((n as usize).checked_add(1).ok_or_else(truncated)?)?;
                    0
                }
                0xcc | 0xd0 => {
                    self.skip(1)?;
                    0
                }
                0xcd | 0xd1 => {
                    self.skip(2)?;
                    0
                }
                0xca | 0xce | 0xd2 => {
                    self.skip(4)?;
                    0
                }
                0xcb | 0xcf | 0xd3 => {
                    self.skip(8)?;
                    0
                }
                // fixext 1/2/4/8/16: type byte plus data.
                0xd4 => {
                    self.skip(2)?;
                    0
                }
                0xd5 => {
                    self.skip(3)?;
                    0
                }
                0xd6 => {
                    self.skip(5)?;
                    0
                }
                0xd7 => {
                    self.skip(9)?;
                    0
                }
                0xd8 => {
                    self.skip(17)?;
                    0
                }
                0xdc => u64::from(self.u16()?),
                0xdd => u64::from(self.u32()?),
                0xde => 2 * u64::from(self.u16()?),
                0xdf => 2 * u64::from(self.u32()?),
                _ => return Err(Error::decode(format!("invalid msgpack marker 0x{m:02x}"))),
            };
            if children > 0 {
                // Every item takes at least one byte.
                if children > (self.buf.len() - self.pos.min(self.buf.len())) as u64 {
                    return Err(truncated());
                }
                if depth >= MAX_DEPTH {
                    return Err(Error::decode(format!(
                        "msgpack nesting deeper than {MAX_DEPTH}"
                    )));
                }
                match inline.get_mut(depth) {
                    Some(slot) => *slot = remaining,
                    None => spill.push(remaining),
                }
                depth += 1;
                remaining = children;
            }
        }
    }

    /// Skips one value and returns its byte range.
    fn value_range(&mut self) -> Result<std::ops::Range<usize>, Error> {
        let start = self.pos;
        self.skip_value()?;
        Ok(start..self.pos)
    }

    fn tracing(&mut self) -> Result<Tracing, Error> {
        let n = self.map_len("`tracing`")?;
        let (mut traceparent, mut tracestate) = (None, None);
        for _ in 0..n {
            match self.key()? {
                Key::Traceparent => traceparent = Some(self.string("tracing.traceparent")?),
                Key::Tracestate => tracestate = Some(self.string("tracing.tracestate")?),
                _ => self.skip_value()?,
            }
        }
        match (traceparent, tracestate) {
            (Some(traceparent), Some(tracestate)) => Ok(Tracing {
                traceparent,
                tracestate,
            }),
            _ => Err(Error::decode(
                "invalid frame: `tracing` needs string `traceparent` and `tracestate`",
            )),
        }
    }
}

pub(super) fn decode_frame(frame: &bytes::Bytes) -> Result<FrameIn<'_>, Error> {
    let mut r = Reader::new(frame);
    let n = r.map_len("msgpack frame")?;
    let (mut id, mut from, mut to, mut stream_id) = (None, None, None, None);
    let (mut seq, mut ack, mut control_flags) = (None, None, None);
    let (mut service_name, mut procedure_name, mut tracing, mut payload) = (None, None, None, None);
    // Duplicate keys: the last one wins, as in the reference's decoder.
    for _ in 0..n {
        match r.key()? {
            Key::Id => id = Some(r.str("id")?),
            Key::From => from = Some(r.str("from")?),
            Key::To => to = Some(r.str("to")?),
            Key::Seq => seq = Some(r.uint("seq")?),
            Key::Ack => ack = Some(r.uint("ack")?),
            Key::ServiceName => service_name = Some(r.str("serviceName")?),
            Key::ProcedureName => procedure_name = Some(r.str("procedureName")?),
            Key::StreamId => stream_id = Some(r.str("streamId")?),
            Key::ControlFlags => {
                let v = r.uint("controlFlags")?;
                control_flags = Some(u32::try_from(v).map_err(|_| {
                    Error::decode(format!("invalid frame: `controlFlags` {v} out of range"))
                })?);
            }
            Key::Tracing => tracing = Some(r.tracing()?),
            Key::Payload => payload = Some(r.value_range()?),
            _ => r.skip_value()?,
        }
    }
    if !r.at_end() {
        return Err(Error::decode("extra bytes after the msgpack frame"));
    }
    let missing = |name: &str| Error::decode(format!("invalid frame: missing field `{name}`"));
    let payload = payload.ok_or_else(|| missing("payload"))?;
    Ok(FrameIn {
        id: Cow::Borrowed(id.ok_or_else(|| missing("id"))?),
        from: Cow::Borrowed(from.ok_or_else(|| missing("from"))?),
        to: Cow::Borrowed(to.ok_or_else(|| missing("to"))?),
        seq: seq.ok_or_else(|| missing("seq"))?,
        ack: ack.ok_or_else(|| missing("ack"))?,
        service_name: service_name.map(Cow::Borrowed),
        procedure_name: procedure_name.map(Cow::Borrowed),
        stream_id: Cow::Borrowed(stream_id.ok_or_else(|| missing("streamId"))?),
        control_flags: ControlFlags(control_flags.ok_or_else(|| missing("controlFlags"))?),
        tracing,
        payload: Payload(frame.slice(payload)),
    })
}

pub(super) fn encode_value<T: Serialize + ?Sized>(value: &T) -> Result<Payload, Error> {
    let mut buf = super::PayloadWriter::new();
    let mut ser = rmp_serde::Serializer::new(&mut buf).with_struct_map();
    value
        .serialize(&mut ser)
        .map_err(|e| Error::encode(format!("cannot encode the payload as msgpack: {e}")))?;
    Ok(buf.into_payload())
}

pub(super) fn decode_value<T: DeserializeOwned>(payload: &Payload) -> Result<T, PayloadMismatch> {
    // Fast path without path tracking; only a failure is decoded again to find where.
    let mut de = rmp_serde::Deserializer::from_read_ref(payload.as_bytes());
    de.set_max_depth(MAX_DEPTH);
    if let Ok(value) = T::deserialize(&mut de) {
        return Ok(value);
    }
    let mut de = rmp_serde::Deserializer::from_read_ref(payload.as_bytes());
    de.set_max_depth(MAX_DEPTH);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| PayloadMismatch::from_path_error(e, |e| e.to_string()))
}

pub(super) fn encode_result(ok: bool, inner: &Payload) -> Payload {
    // 82 a2 "ok" c3|c2 a7 "payload" <inner>
    let inner = inner.as_bytes();
    let inner: &[u8] = if inner.is_empty() { &[0xc0] } else { inner };
    let mut out = Vec::with_capacity(inner.len() + 13);
    out.extend_from_slice(&[0x82, 0xa2, b'o', b'k', if ok { 0xc3 } else { 0xc2 }]);
    out.extend_from_slice(&[0xa7, b'p', b'a', b'y', b'l', b'o', b'a', b'd']);
    out.extend_from_slice(inner);
    Payload(out.into())
}

pub(super) fn decode_result(payload: &Payload) -> Result<(bool, Payload), Error> {
    let mut r = Reader::new(payload.as_bytes());
    let n = r.map_len("Result payload")?;
    let (mut ok, mut inner) = (None, None);
    for _ in 0..n {
        match r.key()? {
            Key::Ok => ok = Some(r.bool("ok")?),
            Key::Payload => inner = Some(r.value_range()?),
            _ => r.skip_value()?,
        }
    }
    if !r.at_end() {
        return Err(Error::decode("extra bytes after the Result payload"));
    }
    let ok = ok.ok_or_else(|| Error::decode("Result payload without `ok`"))?;
    let inner = inner.ok_or_else(|| Error::decode("Result payload without `payload`"))?;
    Ok((ok, Payload(payload.0.slice(inner))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip_len(bytes: &[u8]) -> Result<usize, Error> {
        let mut r = Reader::new(bytes);
        r.skip_value()?;
        Ok(r.pos)
    }

    #[test]
    fn skipper_covers_every_marker() {
        let cases: &[&[u8]] = &[
            &[0x05],
            &[0xe0],
            &[0xc0],
            &[0xc2],
            &[0xc3],
            &[0xcc, 1],
            &[0xcd, 1, 2],
            &[0xce, 1, 2, 3, 4],
            &[0xcf, 1, 2, 3, 4, 5, 6, 7, 8],
            &[0xd0, 1],
            &[0xd1, 1, 2],
            &[0xd2, 1, 2, 3, 4],
            &[0xd3, 1, 2, 3, 4, 5, 6, 7, 8],
            &[0xca, 1, 2, 3, 4],
            &[0xcb, 1, 2, 3, 4, 5, 6, 7, 8],
            &[0xa2, b'h', b'i'],
            &[0xd9, 2, b'h', b'i'],
            &[0xda, 0, 2, b'h', b'i'],
            &[0xdb, 0, 0, 0, 2, b'h', b'i'],
            &[0xc4, 2, 1, 2],
            &[0xc5, 0, 2, 1, 2],
            &[0xc6, 0, 0, 0, 2, 1, 2],
            &[0xd4, 0, 5],
            &[0xd5, 0, 5, 6],
            &[0xd6, 0xff, 0, 0, 0, 1],
            &[0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0xd8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0xc7, 2, 0, 1, 2],
            &[0xc8, 0, 2, 0, 1, 2],
            &[0xc9, 0, 0, 0, 2, 0, 1, 2],
            &[0x92, 0x01, 0x91, 0x02],
            &[0xdc, 0, 2, 0x01, 0x02],
            &[0xdd, 0, 0, 0, 2, 0x01, 0x02],
            &[0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0x80],
            &[0xde, 0, 1, 0xa1, b'a', 0x90],
            &[0xdf, 0, 0, 0, 1, 0xa1, b'a', 0xc0],
        ];
        for case in cases {
            let mut padded = case.to_vec();
            padded.push(0xc0);
            assert_eq!(skip_len(&padded).unwrap(), case.len(), "case {case:02x?}");
            // Every strict prefix is truncated.
            for cut in 0..case.len() {
                assert!(
                    skip_len(&case[..cut]).is_err(),
                    "prefix {cut} of {case:02x?}"
                );
            }
        }
        assert!(skip_len(&[0xc1]).is_err());
        assert!(skip_len(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(skip_len(&[0xc9, 0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn skipper_deep_with_siblings() {
        // [1, [2, [3, ... [40, {"k": bin}] ...]], "tail"] exercises the heap-spilled levels.
        let mut v = vec![0x81, 0xa1, b'k', 0xc4, 0x01, 0xaa];
        for i in (1..=40u8).rev() {
            v = [vec![0x93, i], v, vec![0xa1, b'z']].concat();
        }
        let mut padded = v.clone();
        padded.extend_from_slice(&[0xc3, 0xc3]);
        assert_eq!(skip_len(&padded).unwrap(), v.len());
        let value: crate::Value = rmp_serde::from_slice(&v).unwrap();
        assert_eq!(value.get_index(2).and_then(crate::Value::as_str), Some("z"));
    }

    #[test]
    fn keys_are_matched_on_raw_bytes_and_unknown_keys_still_checked() {
        for k in [
            "id",
            "from",
            "to",
            "seq",
            "ack",
            "serviceName",
            "procedureName",
            "streamId",
            "controlFlags",
            "tracing",
            "payload",
            "ok",
            "traceparent",
            "tracestate",
        ] {
            let mut b = Vec::new();
            rmp::encode::write_str(&mut b, k).unwrap();
            let key = Reader::new(&b).key().unwrap();
            assert_ne!(key, Key::Other, "{k}");
        }
        // Near misses and other keys are `Other`; an invalid-UTF-8 key is an error.
        for b in [&[0xa3, b'i', b'd', b'x'][..], &[0xa2, b'I', b'd'], &[0x05]] {
            assert_eq!(Reader::new(b).key().unwrap(), Key::Other, "{b:02x?}");
        }
        assert!(Reader::new(&[0xa2, 0xff, 0xfe]).key().is_err());
    }

    #[test]
    fn skipper_depth_limit() {
        let ok = [vec![0x91; MAX_DEPTH], vec![0xc0]].concat();
        assert_eq!(skip_len(&ok).unwrap(), ok.len());
        let deep = [vec![0x91; MAX_DEPTH + 1], vec![0xc0]].concat();
        assert!(skip_len(&deep).is_err());
        let very_deep = vec![0x91; 1_000_000];
        assert!(skip_len(&very_deep).is_err());
    }
}
