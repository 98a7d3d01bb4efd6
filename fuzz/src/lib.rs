//! Shared code of the fuzz targets in `fuzz_targets/`: the codec round-trip oracle, the
//! server scenario driver and the schema-like JSON generator.

pub mod codec;
pub mod schema;
pub mod server;
