//! The `river-codegen` command line.
fn main() {}
