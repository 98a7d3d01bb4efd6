//! One entry point per fuzz target. cargo-fuzz's binaries in `fuzz/fuzz_targets/` and the
//! stable replay test (`tests/replay_corpus.rs`) both call these with the raw input bytes,
//! so a corpus file means the same thing to both.
//!
//! Structure-aware targets turn the bytes into their input type exactly as libfuzzer-sys
//! does for a typed target (`Arbitrary::arbitrary_take_rest` over the whole input). Each
//! function returns `false` when the bytes do not form an input, which the fuzz binaries
//! report to libFuzzer as a rejected input.

use arbitrary::{Arbitrary, Unstructured};
use river_runtime::Codec;

/// A target's entry point: the raw input in, whether it formed an input out.
pub type Entry = fn(&[u8]) -> bool;

/// Every target's name (its file in `fuzz/fuzz_targets/` and its corpus directory in
/// `fuzz/corpus/`) with its entry point.
pub const ALL: [(&str, Entry); 4] = [
    ("decode_json", decode_json),
    ("decode_msgpack", decode_msgpack),
    ("server_frames", server_frames),
    ("codegen_normalize", codegen_normalize),
];

/// JSON codec: `Codec::decode_message` on arbitrary bytes; whatever decodes must
/// re-encode to a frame that decodes to the same message, and payloads decoded as
/// `river_runtime::Value` must re-encode stably.
pub fn decode_json(data: &[u8]) -> bool {
    crate::codec::check(Codec::Json, data);
    true
}

/// msgpack codec: the same oracle as [`decode_json`].
pub fn decode_msgpack(data: &[u8]) -> bool {
    crate::codec::check(Codec::Msgpack, data);
    true
}

/// The server's connection and session state machine: a fresh server (one procedure of
/// each kind) per input, fed a structure-aware sequence of handshakes, River frames, raw
/// binary/text messages, pings, reconnects and timer waits over loopback WebSockets.
/// Fails on any panic (even in a spawned task) and on a hang.
pub fn server_frames(data: &[u8]) -> bool {
    let Ok(scenario) = crate::server::Scenario::arbitrary_take_rest(Unstructured::new(data)) else {
        return false;
    };
    crate::server::run(&scenario);
    true
}

/// The code generator on arbitrary JSON text and on structure-aware schema-like
/// documents: `river_codegen::generate` must return `Ok` or a `Diagnostic` about the
/// schema; never panic, and never emit code that does not parse or use a name that is not
/// an identifier.
pub fn codegen_normalize(data: &[u8]) -> bool {
    let Ok(input) = crate::schema::Input::arbitrary_take_rest(Unstructured::new(data)) else {
        return false;
    };
    let json = input.to_json();
    let Ok(schema) = river_codegen::schema::parse_schema(&json) else {
        return true;
    };
    let _ = river_codegen::types::generate_types(&schema);
    match river_codegen::generate(&json, &river_codegen::Options::both()) {
        Ok(code) => assert!(code.starts_with(&river_codegen::header())),
        Err(d) => {
            let internal = d.path == "(generated code)"
                || d.message.contains("is not a usable Rust identifier")
                || d.message.contains("no types were generated");
            assert!(!internal, "internal codegen failure: {d}\nschema: {json}");
            if std::env::var_os("RIVER_FUZZ_LOG").is_some() {
                eprintln!("diagnostic: {d}");
            }
        }
    }
    true
}
