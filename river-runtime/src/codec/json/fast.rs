//! JSON frames and `Result` payloads as the reference writes them, read without
//! `serde_json`'s map machinery.
//!
//! `JSON.stringify` writes a frame with no whitespace between its keys, each key once,
//! and ids and numbers that need no escapes or exponents. [`decode`] reads exactly that
//! subset and gives up (`None`) at the first thing outside it: whitespace between keys,
//! an escape or control character in a string, a number that is not plain digits, a
//! repeated, unknown or `tracing` key, a missing field. The caller then decodes the frame
//! with the full `serde_json` path, which also gives the error. So this path never
//! accepts a frame the full one refuses, and gives the same frame for every frame it
//! accepts (tests compare them on hand-made frames, on the fuzz corpus and on generated
//! frames). The payload's extent is still found by `serde_json` (parsing one raw value),
//! so an invalid payload is never accepted. [`decode_result`] does the same for
//! `{"ok":…,"payload":…}`.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::slice_payload;
use crate::codec::FrameIn;
use crate::message::ControlFlags;

/// Where the reader is in the frame's text.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.pos += 1)
    }

    /// Nothing but whitespace is left, as JSON allows after the text.
    fn at_end(&self) -> bool {
        let rest = self.text.as_bytes().get(self.pos..).unwrap_or_default();
        rest.iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    }

    /// A string with no escapes and no control characters, borrowed.
    fn plain_str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let bytes = self.text.as_bytes();
        loop {
            match *bytes.get(self.pos)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => self.pos += 1,
            }
        }
        // `start` and `pos` sit next to ASCII quotes, so both are char boundaries.
        let s = self.text.get(start..self.pos)?;
        self.pos += 1;
        Some(s)
    }

    /// A non-negative integer written as plain digits, without a leading zero.
    fn plain_uint(&mut self) -> Option<u64> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut n: u64 = 0;
        while let Some(d @ b'0'..=b'9') = bytes.get(self.pos).copied() {
            n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.pos += 1;
        }
        let len = self.pos - start;
        if len == 0 || (len > 1 && bytes[start] == b'0') {
            return None;
        }
        // A fraction or an exponent: the full path decides.
        match self.peek()? {
            b',' | b'}' => Some(n),
            _ => None,
        }
    }

    /// One JSON value of any kind, as `serde_json` parses it.
    fn raw_value(&mut self) -> Option<&'a RawValue> {
        let rest = self.text.get(self.pos..)?;
        let mut de = serde_json::Deserializer::from_str(rest);
        let raw = <&RawValue>::deserialize(&mut de).ok()?;
        let end = raw.get().as_ptr() as usize + raw.get().len();
        self.pos += end.checked_sub(rest.as_ptr() as usize)?;
        Some(raw)
    }
}

/// Sets `slot` once; a second value for the same key gives up.
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

/// Decodes `text` (the frame without its byte-order mark) if it is in the subset above.
pub(super) fn decode<'a>(frame: &'a bytes::Bytes, text: &'a str) -> Option<FrameIn<'a>> {
    let mut c = Cursor { text, pos: 0 };
    let (mut id, mut from, mut to, mut stream_id) = (None, None, None, None);
    let (mut seq, mut ack, mut control_flags) = (None, None, None);
    let (mut service_name, mut procedure_name, mut payload) = (None, None, None);
    c.eat(b'{')?;
    loop {
        let key = c.plain_str()?;
        c.eat(b':')?;
        match key {
            "id" => once(&mut id, c.plain_str()?)?,
            "from" => once(&mut from, c.plain_str()?)?,
            "to" => once(&mut to, c.plain_str()?)?,
            "seq" => once(&mut seq, c.plain_uint()?)?,
            "ack" => once(&mut ack, c.plain_uint()?)?,
            "serviceName" => once(&mut service_name, c.plain_str()?)?,
            "procedureName" => once(&mut procedure_name, c.plain_str()?)?,
            "streamId" => once(&mut stream_id, c.plain_str()?)?,
            "controlFlags" => once(&mut control_flags, c.plain_uint()?)?,
            "payload" => once(&mut payload, c.raw_value()?)?,
            _ => return None,
        }
        match c.peek()? {
            b',' => c.pos += 1,
            b'}' => break,
            _ => return None,
        }
    }
    c.pos += 1;
    if !c.at_end() {
        return None;
    }
    Some(FrameIn {
        id: Cow::Borrowed(id?),
        from: Cow::Borrowed(from?),
        to: Cow::Borrowed(to?),
        seq: seq?,
        ack: ack?,
        service_name: service_name.map(Cow::Borrowed),
        procedure_name: procedure_name.map(Cow::Borrowed),
        stream_id: Cow::Borrowed(stream_id?),
        control_flags: ControlFlags(u32::try_from(control_flags?).ok()?),
        tracing: None,
        payload: slice_payload(frame, payload?).ok()?,
    })
}

/// A `Result` payload as the reference writes it, `{"ok":<bool>,"payload":<value>}`;
/// `None` for any other layout (the full path then decides).
pub(super) fn decode_result(text: &str) -> Option<(bool, &RawValue)> {
    let (ok, rest) = if let Some(rest) = text.strip_prefix(r#"{"ok":true,"payload":"#) {
        (true, rest)
    } else {
        (false, text.strip_prefix(r#"{"ok":false,"payload":"#)?)
    };
    let mut c = Cursor {
        text,
        pos: text.len() - rest.len(),
    };
    let raw = c.raw_value()?;
    c.eat(b'}')?;
    c.at_end().then_some((ok, raw))
}
