//! msgpack codec: `Codec::decode_message` on arbitrary bytes; whatever decodes must
//! re-encode to a frame that decodes to the same message, and payloads decoded as
//! `river_runtime::Value` must re-encode stably.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    river_fuzz::codec::check(river_runtime::Codec::Msgpack, data);
});
