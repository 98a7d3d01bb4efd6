//! Every schema of the shared corpus generates types (except the intentionally invalid
//! one, whose diagnostic names the place).

use std::path::{Path, PathBuf};

use river_codegen::schema::parse_schema;
use river_codegen::types::generate_types;

#[path = "../../river-runtime/tests/shared_support/mod.rs"]
mod shared_support;

fn corpus(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.join("schemas")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    for e in std::fs::read_dir(root.join("conformance")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("interop-schema") && name.ends_with(".json") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_corpus_schema_generates() {
    let Some(root) = shared_support::shared_dir("every_corpus_schema_generates") else {
        return;
    };
    let files = corpus(&root);
    assert!(files.len() >= 20, "corpus too small: {files:?}");
    for f in files {
        let json = std::fs::read_to_string(&f).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let result = parse_schema(&json).and_then(|s| generate_types(&s));
        let types = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        if name == "v1-rpc-invalid-schema.json" {
            // river-python calls it invalid (`data:3` beside `data-3`); the reference
            // serves it, and here it generates, with the renamed field reported.
            assert_eq!(
                types.renamed_fields,
                ["property `data:3` of `types::TestServiceRpcMethodOutput` is field `data_3_2` (another property has the plain name)"],
            );
        }
        // The module body parses and depends on nothing but river-runtime and std.
        let file: syn::File = syn::parse2(types.tokens.clone())
            .unwrap_or_else(|e| panic!("{name}: generated tokens do not parse: {e}"));
        let text = prettyplease::unparse(&file);
        for bad in [
            " ::serde::",
            " ::serde_json::",
            "::regress",
            "::chrono",
            "::uuid",
            "(::serde",
            "<::serde",
        ] {
            assert!(!text.contains(bad), "{name}: generated code uses `{bad}`");
        }
        if std::env::var_os("RIVER_TYPES_DUMP").is_some() {
            println!("===== {name}\n{text}");
        }
    }
}
