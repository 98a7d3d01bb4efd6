//! river-codegen: typed Rust clients and server traits from River schema JSON.
pub mod diagnostic;
pub mod names;
pub mod normalize;
pub mod schema;
pub mod types;
