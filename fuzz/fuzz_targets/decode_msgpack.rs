//! cargo-fuzz target `decode_msgpack`: see `river_fuzz_harness::targets::decode_msgpack`.
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if river_fuzz_harness::targets::decode_msgpack(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
