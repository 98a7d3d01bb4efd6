//! The fuzz targets' shared code: one entry point per target ([`targets`]), the codec
//! round-trip oracle ([`codec`]), the server scenario driver ([`server`]) and the
//! schema-like JSON generator ([`schema`]).
//!
//! cargo-fuzz's binaries in `fuzz/fuzz_targets/` are one line each over [`targets`];
//! `tests/replay_corpus.rs` replays every file of `fuzz/corpus/<target>/` and
//! `fuzz/seeds/<target>/` through the same functions on the stable toolchain.

pub mod codec;
pub mod schema;
pub mod server;
pub mod targets;
