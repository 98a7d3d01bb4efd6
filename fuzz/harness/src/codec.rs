//! Codec oracle: whatever decodes must re-encode, and re-encoding must be stable.

use bytes::Bytes;
use river_runtime::message::{Control, ErrorPayload, HandshakeRequest, HandshakeResponse, Payload};
use river_runtime::{Codec, Value};

/// Feeds `data` to `codec` as a whole frame and as a bare payload.
pub fn check(codec: Codec, data: &[u8]) {
    if let Ok(msg) = codec.decode_message(Bytes::copy_from_slice(data)) {
        let frame = match codec.encode_message(&msg) {
            Ok(f) => f,
            Err(e) => panic!("a decoded frame does not re-encode: {e} ({msg:?})"),
        };
        let again = match codec.decode_message(Bytes::from(frame.clone())) {
            Ok(m) => m,
            Err(e) => panic!("a re-encoded frame does not decode: {e} ({msg:?})"),
        };
        assert_eq!(msg, again, "frame changed across a round trip");
        let frame2 = codec
            .encode_message(&again)
            .expect("the same frame encodes twice");
        assert_eq!(frame, frame2, "frame encoding is not deterministic");
        payload(codec, &msg.payload);
    }
    payload(codec, &Payload::from_encoded(data.to_vec()));
}

/// Decodes a payload as the dynamic [`Value`] (and the typed control payloads), then
/// checks that the value re-encodes and that a second round trip is a fixpoint.
fn payload(codec: Codec, p: &Payload) {
    let _ = codec.decode::<Control>(p);
    let _ = codec.decode::<HandshakeRequest>(p);
    let _ = codec.decode::<HandshakeResponse>(p);
    let _ = codec.decode::<ErrorPayload>(p);
    if let Ok((_, inner)) = codec.decode_result(p) {
        let _ = codec.decode::<Value>(&inner);
    }
    let Ok(v) = codec.decode::<Value>(p) else {
        return;
    };
    let p2 = match codec.encode(&v) {
        Ok(p2) => p2,
        Err(e) => panic!("a decoded value does not re-encode: {e} ({v:?})"),
    };
    let v2 = match codec.decode::<Value>(&p2) {
        Ok(v2) => v2,
        Err(e) => panic!("a re-encoded value does not decode: {e} ({v:?} as {p2:?})"),
    };
    let p3 = codec.encode(&v2).expect("the value encodes a second time");
    assert_eq!(
        p2.as_bytes(),
        p3.as_bytes(),
        "value encoding is not a fixpoint after one round trip ({v:?} then {v2:?})"
    );
}
