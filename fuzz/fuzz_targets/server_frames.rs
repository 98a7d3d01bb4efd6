//! cargo-fuzz target `server_frames`: see `river_fuzz_harness::targets::server_frames`.
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if river_fuzz_harness::targets::server_frames(data) {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
