//! cargo-fuzz target `codegen_normalize`: see `river_fuzz_harness::targets::codegen_normalize`.
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if river_fuzz_harness::targets::codegen_normalize(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
