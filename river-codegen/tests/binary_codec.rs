//! Generated code states which fields need the msgpack codec: `BINARY_CODEC_FIELDS`,
//! the client's `## Codec` docs, the check in `Client::new` / `Client::try_new`, and
//! the crate docs and README in `--crate` mode.

use river_codegen::{generate, generate_crate, CrateOptions, Options};

const DATE_SCHEMA: &str = r#"{"services":{"chat":{"procedures":{
  "post":{"type":"rpc",
    "init":{"type":"object","required":["text","sentAt"],"properties":{"text":{"type":"string"},"sentAt":{"type":"Date"}}},
    "output":{"type":"object","required":["id"],"properties":{"id":{"type":"number"}}},
    "errors":{"not":{}}},
  "history":{"type":"rpc",
    "init":{"type":"object","properties":{}},
    "output":{"type":"object","required":["messages"],"properties":{"messages":{"type":"array","items":
      {"type":"object","required":["text","sentAt"],"properties":{"text":{"type":"string"},"sentAt":{"type":"Date"}}}}}},
    "errors":{"not":{}}}
}}}}"#;

const PLAIN_SCHEMA: &str = r#"{"services":{"math":{"procedures":{
  "add":{"type":"rpc",
    "init":{"type":"object","required":["a"],"properties":{"a":{"type":"number"},"blob":{"type":"Uint8Array"},"big":{"type":"bigint"}}},
    "output":{"type":"number"},
    "errors":{"not":{}}}
}}}}"#;

fn generated(schema: &str) -> String {
    generate(schema, &Options::default()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_date_schema_lists_its_date_fields() {
    let code = generated(DATE_SCHEMA);
    assert!(
        code.contains(
            "pub const BINARY_CODEC_FIELDS: &[&str] = &[\n    \
             \"chat.history output: messages[].sentAt\",\n    \
             \"chat.post init: sentAt\",\n];"
        ),
        "{code}"
    );
    // The client's docs say so, and its constructors check.
    assert!(code.contains("/// ## Codec"), "{code}");
    assert!(
        code.contains("/// - `chat.post init: sentAt`"),
        "the client docs name the field: {code}"
    );
    assert!(code.contains("let _ = inner.require_binary_codec(super::BINARY_CODEC_FIELDS);"));
    assert!(code.contains("inner.require_binary_codec(super::BINARY_CODEC_FIELDS)?;"));
    // The server side checks through `router.schema(SCHEMA_JSON, …)`.
    assert!(code.contains("router.schema(super::SCHEMA_JSON, \"chat\");"));
}

#[test]
fn a_schema_without_dates_has_an_empty_list_and_no_check() {
    let code = generated(PLAIN_SCHEMA);
    assert!(
        code.contains("pub const BINARY_CODEC_FIELDS: &[&str] = &[];"),
        "{code}"
    );
    assert!(!code.contains("## Codec"), "{code}");
    assert!(!code.contains("require_binary_codec"), "{code}");
    // `try_new` exists either way.
    assert!(code.contains("pub fn try_new("), "{code}");
}

#[test]
fn client_only_and_server_only_files_still_have_the_constant() {
    for options in [Options::client_only(), Options::server_only()] {
        let code = generate(DATE_SCHEMA, &options).unwrap_or_else(|e| panic!("{e}"));
        assert!(code.contains("\"chat.post init: sentAt\""), "{code}");
    }
}

#[test]
fn crate_docs_and_readme_have_a_codec_section() {
    let options = CrateOptions::new("chat-api", "chat.json").unwrap_or_else(|e| panic!("{e}"));
    let files = generate_crate(DATE_SCHEMA, &options).unwrap_or_else(|e| panic!("{e}"));
    let file = |path: &str| {
        files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.contents.clone())
            .unwrap_or_else(|| panic!("no {path}"))
    };
    let lib = file("src/lib.rs");
    assert!(lib.contains("//! ## Codec"), "{lib}");
    assert!(lib.contains("//! - `chat.post init: sentAt`"), "{lib}");
    assert!(
        lib.contains(".codec(river_runtime::Codec::Msgpack)"),
        "the example picks msgpack: {lib}"
    );
    let readme = file("README.md");
    assert!(readme.contains("## Codec"), "{readme}");
    assert!(
        readme.contains("- `chat.history output: messages[].sentAt`"),
        "{readme}"
    );

    let plain = generate_crate(PLAIN_SCHEMA, &options).unwrap_or_else(|e| panic!("{e}"));
    for f in &plain {
        assert!(!f.contents.contains("## Codec"), "{}", f.path);
        assert!(!f.contents.contains("Codec::Msgpack)"), "{}", f.path);
    }
}
