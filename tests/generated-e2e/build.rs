//! Generates the example and interop APIs (and `schemas/journal.json`, a schema with
//! `Date` fields) into `OUT_DIR` with river-codegen's build API.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    for name in ["example.json", "interop.json"] {
        river_codegen::configure()
            .emit_rerun_if_changed(true)
            .compile(schemas.join(name))?;
    }
    river_codegen::configure()
        .emit_rerun_if_changed(true)
        .compile(Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/journal.json"))?;
    Ok(())
}
