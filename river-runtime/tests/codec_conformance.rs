//! Codec conformance: the recorded frames of the TypeScript reference, the byte vectors
//! of the protocol reference (Appendix B), validation rules, and hostile input.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use bytes::Bytes as Buf;
use river_runtime::codec::PayloadMismatch;
use river_runtime::message::{ControlFlags, Payload, Tracing, TransportMessage};
use river_runtime::{BigInt, Bytes, Codec, Date, Value};
use serde::{Deserialize, Serialize};

mod shared_support;

// ---------------------------------------------------------------------------------------
// Helpers

/// `../shared`, or `None` after reporting the skip of `what` (see `shared_support`).
fn shared_dir(what: &str) -> Option<PathBuf> {
    shared_support::shared_file(what, "conformance/transcripts")?;
    shared_support::shared_dir(what)
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(s.len() % 2 == 0, "odd hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64 in transcript")
}

/// Compares a decoded value with a transcript value, where the transcript writes bytes as
/// `{"$bytes": b64}`, bigints as `{"$bigint": "dec"}` and dates as `{"$date": iso}`.
fn check(actual: &Value, expected: &Value, path: &str) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "at '{path}': {why}: actual {actual:?}, expected {expected:?}"
        ))
    };
    if let Value::Object(m) = expected {
        if m.len() == 1 {
            if let Some(Value::String(s)) = m.get("$bytes") {
                return match actual {
                    Value::Bytes(b) if b.as_slice() == b64(s).as_slice() => Ok(()),
                    _ => fail("bytes differ"),
                };
            }
            if let Some(Value::String(s)) = m.get("$bigint") {
                return match actual {
                    Value::BigInt(b) if &b.to_string() == s => Ok(()),
                    _ => fail("bigint differs"),
                };
            }
            if let Some(Value::String(s)) = m.get("$date") {
                return match actual {
                    Value::Date(d) if &d.to_iso_string() == s => Ok(()),
                    _ => fail("date differs"),
                };
            }
        }
    }
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            let ak: Vec<&String> = a.keys().collect();
            let ek: Vec<&String> = e.keys().collect();
            if ak != ek {
                return fail("keys differ (or their order)");
            }
            for (k, ev) in e {
                let av = a.get(k).ok_or_else(|| format!("missing key {k}"))?;
                check(av, ev, &format!("{path}/{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                return fail("lengths differ");
            }
            for (i, (av, ev)) in a.iter().zip(e).enumerate() {
                check(av, ev, &format!("{path}/{i}"))?;
            }
            Ok(())
        }
        (Value::Null, Value::Null) => Ok(()),
        (Value::Bool(a), Value::Bool(e)) if a == e => Ok(()),
        (Value::String(a), Value::String(e)) if a == e => Ok(()),
        (a, e) if e.as_f64().is_some() => {
            let same = match (a.as_i64(), e.as_i64(), a.as_u64(), e.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => a.as_f64() == e.as_f64(),
            };
            if same {
                Ok(())
            } else {
                fail("numbers differ")
            }
        }
        _ => fail("values differ"),
    }
}

fn opt_str(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .map(|s| s.as_str().expect("string field").to_owned())
}

/// Checks the envelope of a decoded frame against the transcript's `msg`.
fn check_envelope(m: &TransportMessage, msg: &Value) -> Result<(), String> {
    let s = |k: &str| opt_str(msg, k).ok_or_else(|| format!("transcript lacks {k}"));
    let n = |k: &str| {
        msg.get(k)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("transcript lacks {k}"))
    };
    let ok = m.id == s("id")?
        && m.from == s("from")?
        && m.to == s("to")?
        && m.seq == n("seq")?
        && m.ack == n("ack")?
        && m.stream_id == s("streamId")?
        && u64::from(m.control_flags.0) == n("controlFlags")?
        && m.service_name == opt_str(msg, "serviceName")
        && m.procedure_name == opt_str(msg, "procedureName")
        && m.tracing
            == msg.get("tracing").map(|t| Tracing {
                traceparent: opt_str(t, "traceparent").unwrap_or_default(),
                tracestate: opt_str(t, "tracestate").unwrap_or_default(),
            });
    if ok {
        Ok(())
    } else {
        Err(format!("envelope differs: {m:?} vs {msg:?}"))
    }
}

/// Our key order for a message with these keys.
fn our_key_order(msg: &Value) -> Vec<&'static str> {
    [
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
    ]
    .into_iter()
    .filter(|k| msg.get(k).is_some())
    .collect()
}

struct Frame {
    file: String,
    line: usize,
    msg: Value,
    raw: Vec<u8>,
}

fn load(dir: &Path) -> Vec<Frame> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("transcript dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut frames = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read transcript");
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: Value = serde_json::from_str(line).expect("transcript line is JSON");
            frames.push(Frame {
                file: file
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                line: i + 1,
                msg: v.get("msg").expect("msg").clone(),
                raw: b64(v.get("raw").and_then(Value::as_str).expect("raw")),
            });
        }
    }
    frames
}

// ---------------------------------------------------------------------------------------
// Transcripts

#[derive(Default)]
struct Stats {
    frames: usize,
    payload_bytes_identical: usize,
    frame_bytes_identical: usize,
    frames_in_our_key_order: usize,
    payload_mismatches: Vec<String>,
}

fn run_transcripts(codec: Codec, sub: &str) -> Option<Stats> {
    let shared = shared_dir(&format!("codec conformance transcripts ({sub})"))?;
    let frames = load(&shared.join("conformance/transcripts").join(sub));
    let mut stats = Stats::default();
    for f in &frames {
        let at = format!("{}:{} ({})", f.file, f.line, codec.name());
        let m = codec
            .decode_message(Buf::from(f.raw.clone()))
            .unwrap_or_else(|e| panic!("{at}: frame does not decode: {e}"));
        check_envelope(&m, &f.msg).unwrap_or_else(|e| panic!("{at}: {e}"));
        let value: Value = codec
            .decode(&m.payload)
            .unwrap_or_else(|e| panic!("{at}: payload does not decode: {e}"));
        let expected = f.msg.get("payload").expect("payload in transcript");
        check(&value, expected, "").unwrap_or_else(|e| panic!("{at}: payload: {e}"));

        assert!(!m.payload.as_bytes().is_empty());

        // Re-encoding the envelope decodes to the same message.
        let again = codec.encode_message(&m).expect("re-encode");
        let m2 = codec
            .decode_message(Buf::from(again.clone()))
            .expect("decode re-encoded");
        assert_eq!(m2, m, "{at}: re-encoded frame decodes differently");
        let in_our_order = f
            .msg
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect::<Vec<_>>())
            == Some(our_key_order(&f.msg));
        if in_our_order {
            stats.frames_in_our_key_order += 1;
            assert_eq!(
                again, f.raw,
                "{at}: same key order, so the frame must be byte-identical"
            );
        }
        if again == f.raw {
            stats.frame_bytes_identical += 1;
        }

        // Re-encoding the payload value.
        let encoded = codec.encode(&value).expect("encode payload");
        if encoded.as_bytes() == m.payload.as_bytes() {
            stats.payload_bytes_identical += 1;
        } else {
            stats
                .payload_mismatches
                .push(format!("{at}: {:?} re-encoded as {:?}", m.payload, encoded));
        }
        let value2: Value = codec.decode(&encoded).expect("decode re-encoded payload");
        check(&value2, expected, "").unwrap_or_else(|e| panic!("{at}: re-encoded payload: {e}"));
        stats.frames += 1;
    }
    eprintln!(
        "{}: {} frames; {} payloads byte-identical after decode+encode; {} frames byte-identical \
         ({} in our key order)",
        codec.name(),
        stats.frames,
        stats.payload_bytes_identical,
        stats.frame_bytes_identical,
        stats.frames_in_our_key_order
    );
    for m in &stats.payload_mismatches {
        eprintln!("  payload not byte-identical: {m}");
    }
    Some(stats)
}

#[test]
fn transcripts_decode_and_round_trip() {
    let Some(json) = run_transcripts(Codec::Json, "json") else {
        return;
    };
    let Some(msgpack) = run_transcripts(Codec::Msgpack, "binary") else {
        return;
    };
    assert!(
        json.frames + msgpack.frames > 200,
        "only {} frames",
        json.frames + msgpack.frames
    );
    assert!(json.frames_in_our_key_order > 0 && msgpack.frames_in_our_key_order > 0);
    // msgpack payloads must be reproduced byte for byte.
    assert!(
        msgpack.payload_mismatches.is_empty(),
        "msgpack payloads not reproduced: {:#?}",
        msgpack.payload_mismatches
    );
}

#[test]
fn transcript_payload_is_a_slice_of_the_frame() {
    let Some(shared) = shared_dir("transcript_payload_is_a_slice_of_the_frame") else {
        return;
    };
    for (codec, sub) in [(Codec::Json, "json"), (Codec::Msgpack, "binary")] {
        for f in load(&shared.join("conformance/transcripts").join(sub))
            .iter()
            .take(20)
        {
            let frame = Buf::from(f.raw.clone());
            let range = frame.as_ptr_range();
            let m = codec.decode_message(frame.clone()).expect("decode");
            let p = m.payload.as_bytes().as_ptr_range();
            assert!(
                range.start <= p.start && p.end <= range.end,
                "payload was copied"
            );
        }
    }
}

#[test]
fn transcript_prefixes_and_mutations_never_panic() {
    let Some(shared) = shared_dir("transcript_prefixes_and_mutations_never_panic") else {
        return;
    };
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut checked = 0usize;
    for (codec, sub) in [(Codec::Json, "json"), (Codec::Msgpack, "binary")] {
        for f in load(&shared.join("conformance/transcripts").join(sub)) {
            for cut in 0..f.raw.len() {
                let r = codec.decode_message(Buf::copy_from_slice(&f.raw[..cut]));
                assert!(r.is_err(), "{}:{}: prefix {cut} decoded", f.file, f.line);
                checked += 1;
            }
            for _ in 0..20 {
                let mut bytes = f.raw.clone();
                for _ in 0..1 + rng.next() % 3 {
                    let i = (rng.next() as usize) % bytes.len();
                    bytes[i] = rng.next() as u8;
                }
                exercise(codec, &bytes);
                checked += 1;
            }
        }
    }
    assert!(checked > 1000);
}

// ---------------------------------------------------------------------------------------
// Hostile input

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Decodes a frame and, if it decodes, its payload in every way; nothing may panic.
fn exercise(codec: Codec, bytes: &[u8]) {
    if let Ok(m) = codec.decode_message(Buf::copy_from_slice(bytes)) {
        let _ = codec.decode::<Value>(&m.payload);
        let _ = codec.decode_result(&m.payload);
        let _ = codec.decode::<river_runtime::message::Control>(&m.payload);
        let _ = codec.decode::<river_runtime::message::HandshakeRequest>(&m.payload);
        let _ = codec.decode::<Sample>(&m.payload);
        let _ = codec.encode_message(&m);
    }
    let payload = Payload::from_encoded(Buf::copy_from_slice(bytes));
    let _ = codec.decode::<Value>(&payload);
    let _ = codec.decode::<Sample>(&payload);
    let _ = codec.decode_result(&payload);
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for codec in [Codec::Json, Codec::Msgpack] {
        for _ in 0..20_000 {
            let len = (rng.next() % 64) as usize;
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            // Often start like a frame, to get past the first byte.
            match rng.next() % 4 {
                0 if !bytes.is_empty() => bytes[0] = if codec == Codec::Json { b'{' } else { 0x8b },
                1 if !bytes.is_empty() => bytes[0] = 0xde,
                _ => {}
            }
            exercise(codec, &bytes);
        }
    }
    // Garbage made of msgpack markers that claim huge lengths.
    for bytes in [
        hex("df ff ff ff ff"),
        hex("dd ff ff ff ff"),
        hex("81 a7 7061796c6f6164 c9 ff ff ff ff 00"),
        hex("81 a7 7061796c6f6164 db ff ff ff ff"),
        hex("d6 ff"),
    ] {
        exercise(Codec::Msgpack, &bytes);
        assert!(Codec::Msgpack.decode_message(Buf::from(bytes)).is_err());
    }
}

fn msgpack_frame_with_payload(payload: &[u8]) -> Vec<u8> {
    let m = TransportMessage {
        id: "id".into(),
        from: "a".into(),
        to: "b".into(),
        seq: 0,
        ack: 0,
        service_name: None,
        procedure_name: None,
        stream_id: "s".into(),
        control_flags: ControlFlags::NONE,
        tracing: None,
        payload: Payload::from_encoded(payload.to_vec()),
    };
    Codec::Msgpack.encode_message(&m).expect("encode")
}

fn json_frame_with_payload(payload: &str) -> Vec<u8> {
    format!(r#"{{"id":"i","from":"a","to":"b","seq":0,"ack":0,"streamId":"s","controlFlags":0,"payload":{payload}}}"#)
        .into_bytes()
}

#[test]
fn deep_nesting_is_an_error() {
    // JSON: the envelope skips the payload without recursion (so a deep payload does not
    // fail the frame, as in the reference); decoding the payload hits serde_json's
    // recursion limit (128) and fails cleanly.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    if let Ok(m) = Codec::Json.decode_message(Buf::from(json_frame_with_payload(&deep))) {
        assert!(Codec::Json.decode::<Value>(&m.payload).is_err());
    }
    let unbalanced = "[".repeat(100_000);
    assert!(Codec::Json
        .decode_message(Buf::from(json_frame_with_payload(&unbalanced)))
        .is_err());
    let deep_objects = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    assert!(Codec::Json
        .decode::<Value>(&Payload::from_encoded(deep_objects.into_bytes()))
        .is_err());
    let deep_payload = Payload::from_encoded(deep.clone().into_bytes());
    assert!(Codec::Json.decode::<Value>(&deep_payload).is_err());
    let fine = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let m = Codec::Json
        .decode_message(Buf::from(json_frame_with_payload(&fine)))
        .expect("depth 100");
    let v: Value = Codec::Json.decode(&m.payload).expect("depth 100 value");
    assert!(v.as_array().is_some());

    // msgpack: 256 levels.
    let nested = |depth: usize| [vec![0x91; depth], vec![0xc0]].concat();
    assert!(Codec::Msgpack
        .decode_message(Buf::from(msgpack_frame_with_payload(&nested(100_000))))
        .is_err());
    assert!(Codec::Msgpack
        .decode_message(Buf::from(msgpack_frame_with_payload(&nested(300))))
        .is_err());
    let m = Codec::Msgpack
        .decode_message(Buf::from(msgpack_frame_with_payload(&nested(200))))
        .expect("depth 200");
    let v: Value = Codec::Msgpack.decode(&m.payload).expect("depth 200 value");
    assert!(v.as_array().is_some());
    let deep_payload = Payload::from_encoded(nested(100_000));
    assert!(Codec::Msgpack.decode::<Value>(&deep_payload).is_err());
    let deep_maps = Payload::from_encoded([hex("81 a1 61").repeat(10_000), vec![0xc0]].concat());
    assert!(Codec::Msgpack.decode::<Value>(&deep_maps).is_err());
}

// ---------------------------------------------------------------------------------------
// Validation

#[test]
fn json_envelope_validation() {
    let base = r#""id":"i","from":"a","to":"b","seq":1,"ack":2,"streamId":"s","controlFlags":2"#;
    let dec = |s: String| Codec::Json.decode_message(Buf::from(s));
    let m = dec(format!(r#"{{{base},"payload":{{"x":1}}}}"#)).expect("valid");
    assert_eq!((m.seq, m.ack, m.control_flags), (1, 2, ControlFlags::OPEN));
    assert_eq!(m.payload.as_bytes(), br#"{"x":1}"#);
    // payload null is fine; a missing payload is not.
    let m = dec(format!(r#"{{{base},"payload":null}}"#)).expect("null payload");
    assert_eq!(m.payload.as_bytes(), b"null");
    assert!(dec(format!("{{{base}}}")).is_err());
    // Optional fields sent as null are rejected.
    for field in ["serviceName", "procedureName", "tracing"] {
        assert!(
            dec(format!(r#"{{{base},"{field}":null,"payload":1}}"#)).is_err(),
            "{field}: null"
        );
    }
    // Tracing needs both strings; extra keys are fine.
    assert!(dec(format!(
        r#"{{{base},"tracing":{{"traceparent":""}},"payload":1}}"#
    ))
    .is_err());
    assert!(dec(format!(r#"{{{base},"tracing":["",""],"payload":1}}"#)).is_err());
    let m = dec(format!(
        r#"{{{base},"tracing":{{"traceparent":"p","tracestate":"s","x":1}},"payload":1}}"#
    ))
    .expect("tracing");
    assert_eq!(
        m.tracing,
        Some(Tracing {
            traceparent: "p".into(),
            tracestate: "s".into()
        })
    );
    // Unknown keys are ignored.
    assert!(dec(format!(
        r#"{{"extra":[1,{{"$t":"@"}}],{base},"payload":1}}"#
    ))
    .is_ok());
    // Required fields and their types.
    for (k, bad) in [
        ("id", "1"),
        ("from", "null"),
        ("streamId", "[]"),
        ("seq", "-1"),
        ("seq", "1.5"),
        ("ack", "\"1\""),
        ("controlFlags", "4294967296"),
    ] {
        let text = format!(r#"{{{base},"payload":1,"{k}":{bad}}}"#);
        assert!(dec(text).is_err(), "{k}: {bad}");
    }
    // An integral float is a JavaScript integer.
    assert_eq!(
        dec(format!(r#"{{{base},"payload":1,"seq":3.0}}"#))
            .expect("3.0")
            .seq,
        3
    );
    // Top level must be an object; text must be UTF-8 JSON.
    assert!(Codec::Json
        .decode_message(Buf::from_static(b"[1,2]"))
        .is_err());
    assert!(Codec::Json
        .decode_message(Buf::from_static(b"\"x\""))
        .is_err());
    assert!(Codec::Json
        .decode_message(Buf::from_static(b"{\"id\":\"\xff\"}"))
        .is_err());
    assert!(Codec::Json
        .decode_message(Buf::from(format!(r#"{{{base},"payload":1}} x"#)))
        .is_err());
}

#[test]
fn msgpack_envelope_validation() {
    let fields = |extra: &[(&str, &str)], skip: &str| -> Vec<u8> {
        let mut entries: Vec<(String, Vec<u8>)> = vec![
            ("id".into(), hex("a1 69")),
            ("from".into(), hex("a1 61")),
            ("to".into(), hex("a1 62")),
            ("seq".into(), hex("01")),
            ("ack".into(), hex("02")),
            ("streamId".into(), hex("a1 73")),
            ("controlFlags".into(), hex("02")),
            ("payload".into(), hex("81 a1 78 01")),
        ];
        entries.retain(|(k, _)| k != skip);
        for (k, v) in extra {
            entries.retain(|(ek, _)| ek != k);
            entries.push((k.to_string(), hex(v)));
        }
        let mut out = vec![0x80 | entries.len() as u8];
        for (k, v) in entries {
            rmp::encode::write_str(&mut out, &k).expect("write");
            out.extend_from_slice(&v);
        }
        out
    };
    let dec = |b: Vec<u8>| Codec::Msgpack.decode_message(Buf::from(b));
    let m = dec(fields(&[], "")).expect("valid");
    assert_eq!(m.payload.as_bytes(), hex("81 a1 78 01").as_slice());
    assert_eq!(
        dec(fields(&[("payload", "c0")], ""))
            .expect("nil payload")
            .payload
            .as_bytes(),
        &[0xc0]
    );
    assert!(dec(fields(&[], "payload")).is_err());
    for field in ["serviceName", "procedureName", "tracing"] {
        assert!(dec(fields(&[(field, "c0")], "")).is_err(), "{field}: nil");
    }
    // Any int width for seq/ack; an integral float too.
    assert_eq!(
        dec(fields(&[("seq", "cf 00 00 00 00 00 00 00 05")], ""))
            .expect("u64")
            .seq,
        5
    );
    assert_eq!(dec(fields(&[("seq", "d1 00 05")], "")).expect("i16").seq, 5);
    assert_eq!(
        dec(fields(&[("seq", "cb 4014000000000000")], ""))
            .expect("5.0")
            .seq,
        5
    );
    assert!(dec(fields(&[("seq", "ff")], "")).is_err(), "negative");
    assert!(
        dec(fields(&[("seq", "cb 3ff8000000000000")], "")).is_err(),
        "1.5"
    );
    assert!(dec(fields(
        &[("controlFlags", "cf 00 00 00 01 00 00 00 00")],
        ""
    ))
    .is_err());
    // Strings must be str, not bin.
    assert!(dec(fields(&[("id", "c4 01 69")], "")).is_err());
    // Tracing.
    let m = dec(fields(
        &[(
            "tracing",
            "83 ab 747261636570617265 6e74 a1 70 a1 78 01 aa 7472616365737461 7465 a0",
        )],
        "",
    ))
    .expect("tracing with an extra key");
    assert_eq!(
        m.tracing,
        Some(Tracing {
            traceparent: "p".into(),
            tracestate: String::new()
        })
    );
    assert!(dec(fields(
        &[("tracing", "81 ab 747261636570617265 6e74 a0")],
        ""
    ))
    .is_err());
    // Unknown keys (including number keys) are skipped.
    let mut with_extra = fields(&[("zz", "d6 ff 00 00 00 01")], "");
    with_extra[0] += 1;
    with_extra.extend_from_slice(&hex("07 92 c3 c2"));
    assert!(dec(with_extra).is_ok());
    // Top level must be a map; no trailing bytes.
    assert!(dec(hex("92 01 02")).is_err());
    assert!(dec(hex("a1 61")).is_err());
    let mut trailing = fields(&[], "");
    trailing.push(0xc0);
    assert!(dec(trailing).is_err());
}

#[test]
fn result_envelopes() {
    for codec in [Codec::Json, Codec::Msgpack] {
        let inner = codec
            .encode(&serde_json::json!({"result": 3}))
            .expect("encode");
        for ok in [true, false] {
            let r = codec.encode_result(ok, &inner);
            let (ok2, inner2) = codec.decode_result(&r).expect("decode_result");
            assert_eq!((ok2, inner2.as_bytes()), (ok, inner.as_bytes()));
            let p = inner2.as_bytes().as_ptr_range();
            let whole = r.as_bytes().as_ptr_range();
            assert!(whole.start <= p.start && p.end <= whole.end, "zero copy");
        }
    }
    assert_eq!(
        Codec::Json
            .encode_result(true, &Payload::from_encoded(&b"{\"a\":1}"[..]))
            .as_bytes(),
        br#"{"ok":true,"payload":{"a":1}}"#
    );
    // Any key order, extra keys ignored.
    let p = Payload::from_encoded(&br#"{"payload":[1,2],"x":0,"ok":false}"#[..]);
    let (ok, inner) = Codec::Json.decode_result(&p).expect("reordered");
    assert!(!ok);
    assert_eq!(inner.as_bytes(), b"[1,2]");
    assert!(Codec::Json
        .decode_result(&Payload::from_encoded(&br#"{"ok":true}"#[..]))
        .is_err());
    assert!(Codec::Json
        .decode_result(&Payload::from_encoded(&br#"{"ok":1,"payload":1}"#[..]))
        .is_err());
    let p = Payload::from_encoded(hex("82 a7 7061796c6f6164 92 01 02 a2 6f6b c3"));
    let (ok, inner) = Codec::Msgpack.decode_result(&p).expect("reordered");
    assert!(ok);
    assert_eq!(inner.as_bytes(), hex("92 01 02").as_slice());
    assert!(Codec::Msgpack
        .decode_result(&Payload::from_encoded(hex("81 a2 6f6b c3")))
        .is_err());
}

// ---------------------------------------------------------------------------------------
// Appendix B and value behaviour

#[derive(Serialize)]
struct U {
    u: Bytes,
}

#[test]
fn appendix_b_vectors() {
    let mp = |v: &dyn erased::Ser| v.to_msgpack();
    assert_eq!(
        mp(&U {
            u: Bytes::from(vec![1, 2, 3])
        }),
        hex("81 a1 75 c4 03 01 02 03")
    );
    let big: BigInt = "12345678901234567890".parse().expect("bigint");
    let mut expected = hex("c7 15 00 b4");
    expected.extend_from_slice(b"12345678901234567890");
    assert_eq!(mp(&big), expected);
    assert_eq!(mp(&Date::from_millis(1000)), hex("d6 ff 00 00 00 01"));
    assert_eq!(mp(&BigInt::from(5)), hex("d4 00 05"));
    // {a: 1.0, b: 1.5, c: 2^40} as JavaScript numbers (Value::Float): integral floats
    // travel as ints.
    let nums: Value = [
        ("a", Value::Float(1.0)),
        ("b", Value::Float(1.5)),
        ("c", Value::Float(1099511627776.0)),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        mp(&nums),
        hex("83 a1 61 01 a1 62 cb 3ff8000000000000 a1 63 cf 0000010000000000")
    );
    // {a: undefined, b: [undefined], c: null}
    #[derive(Serialize)]
    struct Undef {
        #[serde(skip_serializing_if = "Option::is_none")]
        a: Option<i32>,
        b: Vec<Option<i32>>,
        c: Option<i32>,
    }
    assert_eq!(
        mp(&Undef {
            a: None,
            b: vec![None],
            c: None
        }),
        hex("82 a1 62 91 c0 a1 63 c0")
    );

    // The handshake response frame layout.
    let status: Value = [
        ("type", Value::from("HANDSHAKE_RESP")),
        (
            "status",
            [
                ("ok", Value::Bool(true)),
                ("sessionId", Value::from("session-aaaaaaaaaaaa")),
            ]
            .into_iter()
            .collect(),
        ),
    ]
    .into_iter()
    .collect();
    let m = TransportMessage {
        id: "abcdefghijkl".into(),
        from: "SERVER".into(),
        to: "client1".into(),
        seq: 0,
        ack: 0,
        service_name: None,
        procedure_name: None,
        stream_id: "mnopqrstuvwx".into(),
        control_flags: ControlFlags::NONE,
        tracing: None,
        payload: Codec::Msgpack.encode(&status).expect("payload"),
    };
    let frame = Codec::Msgpack.encode_message(&m).expect("frame");
    let expected = [
        hex("88 a2 6964 ac"),
        b"abcdefghijkl".to_vec(),
        hex("a4 66726f6d a6 534552564552 a2 746f a7 636c69656e7431 a3 736571 00 a3 61636b 00 a8 73747265616d4964 ac"),
        b"mnopqrstuvwx".to_vec(),
        hex("ac 636f6e74726f6c466c616773 00 a7 7061796c6f6164 82 a4 74797065 ae 48414e445348414b455f52455350 a6 737461747573 82 a2 6f6b c3 a9 73657373696f6e4964 b4"),
        b"session-aaaaaaaaaaaa".to_vec(),
    ]
    .concat();
    assert_eq!(frame, expected);
    assert_eq!(
        Codec::Msgpack
            .decode_message(Buf::from(frame))
            .expect("decode"),
        m
    );
}

/// A tiny object-safe wrapper so the vector table can mix types.
mod erased {
    pub trait Ser {
        fn to_msgpack(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_msgpack(&self) -> Vec<u8> {
            river_runtime::Codec::Msgpack
                .encode(self)
                .expect("encode")
                .as_bytes()
                .to_vec()
        }
    }
}

#[test]
fn json_appendix_a_bytes_bigint_date() {
    // The frame the TS client sent for {u: Uint8Array, big: bigint, d: Date}.
    let frame = json_frame_with_payload(
        r#"{"b":{"u":{"$t":"AQID"},"big":{"$b":"12345678901234567890"},"d":{}}}"#,
    );
    let m = Codec::Json.decode_message(Buf::from(frame)).expect("frame");
    let v: Value = Codec::Json.decode(&m.payload).expect("value");
    assert_eq!(v["b"]["u"], Value::Bytes(Bytes::from(vec![1, 2, 3])));
    assert_eq!(
        v["b"]["big"].as_bigint().map(|b| b.to_string()).as_deref(),
        Some("12345678901234567890")
    );
    assert_eq!(
        v["b"]["d"],
        Value::Object(Default::default()),
        "a Date arrives as {{}}"
    );
    // Our encoding of the same values.
    let back = Codec::Json.encode(&v).expect("encode");
    assert_eq!(
        std::str::from_utf8(back.as_bytes()).expect("utf8"),
        r#"{"b":{"u":{"$t":"AQID"},"big":{"$b":"12345678901234567890"},"d":{}}}"#
    );
    // A Date refuses the JSON codec with a clear error.
    let err = Codec::Json
        .encode(&Date::from_millis(1000))
        .expect_err("Date over JSON");
    assert!(
        err.to_string()
            .contains("Date cannot travel over the JSON codec"),
        "{err}"
    );
    assert!(err.is_encode());
    let err = Codec::Json
        .decode::<Date>(&Payload::from_encoded(&b"{}"[..]))
        .expect_err("{} as Date");
    assert!(
        err.to_string()
            .contains("Date cannot travel over the JSON codec"),
        "{err}"
    );
}

#[test]
fn dollar_t_null_decodes_like_atob_null() {
    // The reference decodes {"$t": null} as atob("null"): three bytes. We do the same.
    let p = Payload::from_encoded(&br#"{"x":{"$t":null}}"#[..]);
    let v: Value = Codec::Json.decode(&p).expect("decode");
    assert_eq!(v["x"], Value::Bytes(Bytes::from(vec![0x9e, 0xe9, 0x65])));
    #[derive(Deserialize)]
    struct X {
        x: Bytes,
    }
    assert_eq!(
        Codec::Json.decode::<X>(&p).expect("typed").x.as_slice(),
        &[0x9e, 0xe9, 0x65]
    );
    // Unpadded is accepted, URL-safe is rejected.
    let v: Value = Codec::Json
        .decode(&Payload::from_encoded(&br#"{"$t":"AQI"}"#[..]))
        .expect("unpadded");
    assert_eq!(v, Value::Bytes(Bytes::from(vec![1, 2])));
    assert!(Codec::Json
        .decode::<Value>(&Payload::from_encoded(&br#"{"$t":"-_8="}"#[..]))
        .is_err());
}

// ---------------------------------------------------------------------------------------
// Typed round trips

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sample {
    data: Bytes,
    small: BigInt,
    huge: BigInt,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    when: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    ratio: f64,
    shape: Shape,
    items: Vec<Item>,
    any: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Shape {
    Circle { radius: f64 },
    Rect { w: f64, h: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Item {
    name: String,
    level: Level,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Low,
    High,
}

fn sample(with_date: bool) -> Sample {
    Sample {
        data: Bytes::from(vec![0, 1, 254, 255]),
        small: BigInt::from(42),
        huge: "123456789012345678901234567890".parse().expect("bigint"),
        when: with_date.then(|| Date::from_millis(1_709_210_096_789)),
        note: None,
        ratio: 2.0,
        shape: Shape::Rect { w: 1.0, h: 2.5 },
        items: vec![Item {
            name: "a".into(),
            level: Level::High,
        }],
        any: [
            ("bytes", Value::Bytes(Bytes::from(vec![9]))),
            ("n", Value::Int(-1)),
        ]
        .into_iter()
        .collect(),
    }
}

#[test]
fn typed_round_trips() {
    for (codec, with_date) in [
        (Codec::Json, false),
        (Codec::Msgpack, true),
        (Codec::Msgpack, false),
    ] {
        let s = sample(with_date);
        let p = codec.encode(&s).expect("encode");
        let back: Sample = codec.decode(&p).expect("decode");
        assert_eq!(back, s, "{}", codec.name());
        // Absent options are omitted, never null.
        let v: Value = codec.decode(&p).expect("as value");
        assert!(v.get("note").is_none());
        assert_eq!(v.get("when").is_some(), with_date);
        // Unit variants travel as strings.
        assert_eq!(
            v["items"].get_index(0).map(|i| &i["level"]),
            Some(&Value::from("high"))
        );
        assert_eq!(v["shape"]["kind"], Value::from("rect"));
        // Through Value and back.
        assert_eq!(v.deserialize_into::<Sample>().expect("deserialize_into"), s);
    }
    // Typed JSON text.
    let text = Codec::Json.encode(&sample(false)).expect("json");
    let text = std::str::from_utf8(text.as_bytes()).expect("utf8");
    assert!(text.starts_with(r#"{"data":{"$t":"AAH+/w=="},"small":{"$b":"42"},"huge":{"$b":"123456789012345678901234567890"},"ratio":2.0"#), "{text}");
    // A Date over JSON fails to encode.
    assert!(Codec::Json.encode(&sample(true)).is_err());
}

#[test]
fn floats_accept_msgpack_ints() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct F {
        a: f64,
        b: f64,
        c: f64,
        d: f32,
    }
    // {a: 1, b: 1.5, c: -2^40, d: 300}, ints in several widths, as JavaScript sends them.
    let p = Payload::from_encoded(hex(
        "84 a1 61 01 a1 62 cb 3ff8000000000000 a1 63 d3 ffffff0000000000 a1 64 cd 01 2c",
    ));
    let f: F = Codec::Msgpack.decode(&p).expect("ints into floats");
    assert_eq!(
        f,
        F {
            a: 1.0,
            b: 1.5,
            c: -1099511627776.0,
            d: 300.0
        }
    );
}

#[test]
fn payload_mismatch_paths() {
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Req {
        msg: String,
        ignore: Option<bool>,
        list: Vec<u8>,
        #[serde(rename = "a/b~c")]
        odd: Option<i32>,
    }
    let cases: [(&str, &str); 4] = [
        (r#"{"msg":"x","ignore":"notbool","list":[]}"#, "/ignore"),
        (r#"{"msg":"x","list":[1,2,3,"four"]}"#, "/list/3"),
        (r#"{"msg":"x","list":[],"a/b~c":"s"}"#, "/a~1b~0c"),
        (r#"{"msg":5,"list":[]}"#, "/msg"),
    ];
    for (json, path) in cases {
        let p = Payload::from_encoded(json.as_bytes().to_vec());
        let m: PayloadMismatch = Codec::Json.decode_checked::<Req>(&p).expect_err("mismatch");
        assert_eq!(m.path, path, "{json}: {}", m.message);
        assert!(
            !m.message.contains("line 1"),
            "location stripped: {}",
            m.message
        );
        // The same through msgpack.
        let v: Value = serde_json::from_str(json).expect("json");
        let mp = Codec::Msgpack.encode(&v).expect("msgpack");
        let m: PayloadMismatch = Codec::Msgpack
            .decode_checked::<Req>(&mp)
            .expect_err("mismatch");
        assert_eq!(m.path, path, "msgpack {json}: {}", m.message);
    }
    let p = Payload::from_encoded(&b"\"x\""[..]);
    assert_eq!(
        Codec::Json
            .decode_checked::<Req>(&p)
            .expect_err("root")
            .path,
        ""
    );
}

#[test]
fn encode_rejects_empty_payload() {
    for codec in [Codec::Json, Codec::Msgpack] {
        let m = TransportMessage {
            id: "i".into(),
            from: "a".into(),
            to: "b".into(),
            seq: 0,
            ack: 0,
            service_name: Some("svc \"quoted\"\n".into()),
            procedure_name: Some("proc".into()),
            stream_id: "s".into(),
            control_flags: ControlFlags::OPEN | ControlFlags::CLOSED,
            tracing: Some(Tracing::default()),
            payload: Payload::default(),
        };
        assert!(codec.encode_message(&m).is_err());
        let m = TransportMessage {
            payload: codec.encode(&Value::Null).expect("null"),
            ..m
        };
        let frame = codec.encode_message(&m).expect("encode");
        assert_eq!(codec.decode_message(Buf::from(frame)).expect("decode"), m);
    }
}

#[test]
fn special_values_survive_serde_buffering() {
    // Internally tagged and untagged enums buffer their content through serde's private
    // `Content`, which reports itself as human-readable; bytes, bigints and dates must
    // still decode there.
    use river_runtime::message::Control;
    let mut metadata: Value = [
        ("token", Value::from("valid-x")),
        ("raw", Value::Bytes(Bytes::from(vec![1, 2, 3]))),
        (
            "big",
            Value::BigInt("123456789012345678901234567890".parse().expect("bigint")),
        ),
        ("small", Value::BigInt(BigInt::from(-5))),
    ]
    .into_iter()
    .collect();
    let json = Control::RehandshakeResp {
        metadata: metadata.clone(),
    };
    let p = Codec::Json.encode(&json).expect("json");
    assert_eq!(Codec::Json.decode::<Control>(&p).expect("json back"), json);
    if let Some(m) = metadata.as_object_mut() {
        m.insert("when".into(), Value::Date(Date::from_millis(1500)));
    }
    let mp = Control::RehandshakeResp { metadata };
    let p = Codec::Msgpack.encode(&mp).expect("msgpack");
    assert_eq!(
        Codec::Msgpack.decode::<Control>(&p).expect("msgpack back"),
        mp
    );

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    enum Either {
        WithBytes { data: Bytes, at: Date, n: BigInt },
        Other { x: i32 },
    }
    let e = Either::WithBytes {
        data: Bytes::from(vec![7]),
        at: Date::from_millis(-1),
        n: BigInt::from(1u64 << 60),
    };
    let p = Codec::Msgpack.encode(&e).expect("msgpack");
    assert_eq!(Codec::Msgpack.decode::<Either>(&p).expect("back"), e);
}

/// Regression: 17-significant-digit floats must survive a JSON round trip exactly
/// (serde_json's default float parser is inexact there; `float_roundtrip` fixes it).
#[test]
fn json_floats_round_trip_exactly() {
    for v in [
        9007199254740991.0_f64,
        0.1 + 0.2,
        1e300,
        5e-324,
        -2147483648.0,
        std::f64::consts::PI,
    ] {
        let payload = Codec::Json.encode(&v).expect("encode");
        let back: f64 = Codec::Json.decode(&payload).expect("decode");
        assert_eq!(back.to_bits(), v.to_bits(), "{v} came back as {back}");
    }
}
