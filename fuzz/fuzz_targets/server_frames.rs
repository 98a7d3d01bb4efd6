//! The server's connection and session state machine: a fresh server (one procedure of
//! each kind) per input, fed structure-aware sequences of handshakes, River frames, raw
//! binary/text messages, pings, reconnects and timer waits over loopback WebSockets.
//! Fails on any panic (even in a spawned task) and on a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|scenario: river_fuzz::server::Scenario| {
    river_fuzz::server::run(&scenario);
});
