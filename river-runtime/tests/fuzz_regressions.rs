//! Inputs from the fuzz targets in `fuzz/` (see RELIABILITY.md, "Fuzzing"), kept as
//! regression tests with the same oracles the `decode_json` / `decode_msgpack` targets
//! use: a frame that decodes re-encodes to a frame that decodes to the same message, and
//! a payload decoded as `Value` re-encodes to a fixpoint.
//!
//! A crashing input found by a fuzz run goes here, inline, next to the fix.

use bytes::Bytes;
use river_runtime::message::Payload;
use river_runtime::{Codec, Value};

/// The fuzz targets' codec oracle.
fn check(codec: Codec, data: &[u8]) {
    if let Ok(msg) = codec.decode_message(Bytes::copy_from_slice(data)) {
        let frame = codec
            .encode_message(&msg)
            .unwrap_or_else(|e| panic!("a decoded frame does not re-encode: {e} ({msg:?})"));
        let again = codec
            .decode_message(Bytes::from(frame.clone()))
            .unwrap_or_else(|e| panic!("a re-encoded frame does not decode: {e} ({msg:?})"));
        assert_eq!(msg, again);
        assert_eq!(frame, codec.encode_message(&again).expect("encodes twice"));
        value(codec, &msg.payload);
    }
    value(codec, &Payload::from_encoded(data.to_vec()));
}

fn value(codec: Codec, p: &Payload) {
    let Ok(v) = codec.decode::<Value>(p) else {
        return;
    };
    let p2 = codec
        .encode(&v)
        .unwrap_or_else(|e| panic!("a decoded value does not re-encode: {e} ({v:?})"));
    let v2 = codec
        .decode::<Value>(&p2)
        .unwrap_or_else(|e| panic!("a re-encoded value does not decode: {e} ({v:?})"));
    let p3 = codec.encode(&v2).expect("encodes a second time");
    assert_eq!(p2.as_bytes(), p3.as_bytes(), "{v:?} then {v2:?}");
}

/// The JSON seeds of the `decode_json` target (`fuzz/seeds/decode_json/`) and edge
/// cases around them.
#[test]
fn json_inputs_round_trip() {
    let inputs: &[&[u8]] = &[
        br#"{"id":"m1","from":"client","to":"SERVER","seq":0,"ack":0,"serviceName":"svc","procedureName":"rpc","streamId":"s0","controlFlags":2,"tracing":{"traceparent":"","tracestate":""},"payload":{"n":1,"b":{"$t":"AAEC"},"big":{"$b":"123456789012345678901234567890"}}}"#,
        br#"{"id":"c","from":"client","to":"SERVER","seq":3,"ack":2,"streamId":"s0","controlFlags":4,"payload":{"ok":false,"payload":{"code":"CANCEL","message":"bye","extras":[1,2.5,null,true,"\u00e9"]}}}"#,
        // Escapes in every string field, the largest seq and ack, unknown keys.
        br#"{"id":"\"\\\n","from":"\u0000","to":"\ud83e\udd80","seq":18446744073709551615,"ack":18446744073709551615,"streamId":"*/","controlFlags":4294967295,"x":[{}],"payload":"\u2028"}"#,
        // Duplicate keys, `null` optional fields (rejected), floats as numbers.
        br#"{"id":"a","id":"b","from":"c","to":"S","seq":0,"ack":0,"streamId":"s","controlFlags":0,"payload":1}"#,
        br#"{"id":"a","from":"c","to":"S","seq":0,"ack":0,"serviceName":null,"streamId":"s","controlFlags":0,"payload":1}"#,
        br#"{"id":"a","from":"c","to":"S","seq":1.0,"ack":0,"streamId":"s","controlFlags":0,"payload":1}"#,
        // Payloads: bytes and bigint markers with siblings, -0, exponents, deep nesting.
        br#"{"$t":"AA==","x":1}"#,
        br#"{"$b":"-0"}"#,
        br#"{"$b":"1e3"}"#,
        br#"[-0.0,1e308,-1e-308,5e-324,9007199254740993,18446744073709551616]"#,
        &[b'['; 200],
        br#"{"a":{"b":{"c":{"$t":""}}}}"#,
    ];
    for input in inputs {
        check(Codec::Json, input);
    }
}

/// Hand-made msgpack inputs: extension types, bin, maps with non-string keys, nesting.
#[test]
fn msgpack_inputs_round_trip() {
    let inputs: &[&[u8]] = &[
        // fixext 1 type 0 (bigint) holding int 5; timestamp 32; unknown ext type.
        &[0xd4, 0x00, 0x05],
        &[0xd6, 0xff, 0x00, 0x00, 0x00, 0x01],
        &[0xd4, 0x07, 0x00],
        // bin 8 of 2 bytes; str 8; float 64 NaN; negative fixint; uint 64 max.
        &[0xc4, 0x02, 0x01, 0x02],
        &[0xd9, 0x01, b'x'],
        &[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
        &[0xff],
        &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        // map {1: 2} (non-string key), map with a truncated value.
        &[0x81, 0x01, 0x02],
        &[0x81, 0xa1, b'a'],
        // 300 nested arrays (beyond the nesting limit).
        &[0x91; 300],
    ];
    for input in inputs {
        check(Codec::Msgpack, input);
    }
}
