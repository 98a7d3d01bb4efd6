//! river-codegen: typed Rust clients and server traits from River schema JSON.
pub mod names;
