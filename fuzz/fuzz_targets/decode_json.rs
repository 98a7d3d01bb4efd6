//! cargo-fuzz target `decode_json`: see `river_fuzz_harness::targets::decode_json`.
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if river_fuzz_harness::targets::decode_json(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
