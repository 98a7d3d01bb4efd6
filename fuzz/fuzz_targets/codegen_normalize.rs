//! The code generator on arbitrary JSON text and on structure-aware schema-like
//! documents: `river_codegen::generate` (parse_schema → normalize → generate_types →
//! client/server emitters → syn/prettyplease) must return `Ok` or a `Diagnostic` about
//! the schema; never panic, and never emit code that does not parse or use a name that is
//! not an identifier.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: river_fuzz::schema::Input| {
    let json = input.to_json();
    if let Ok(schema) = river_codegen::schema::parse_schema(&json) {
        let _ = river_codegen::types::generate_types(&schema);
    } else {
        return;
    }
    match river_codegen::generate(&json, &river_codegen::Options::both()) {
        Ok(code) => assert!(code.starts_with(&river_codegen::header())),
        Err(d) => {
            let internal = d.path == "(generated code)"
                || d.message.contains("is not a usable Rust identifier")
                || d.message.contains("no types were generated");
            assert!(!internal, "internal codegen failure: {d}\nschema: {json}");
            if std::env::var_os("RIVER_FUZZ_LOG").is_some() {
                eprintln!("diagnostic: {d}");
            }
        }
    }
});
