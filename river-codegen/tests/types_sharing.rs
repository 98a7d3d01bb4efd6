//! One Rust type per shape: `schemas/chat-app.json` repeats a message-content union, a
//! status enum, a message and a room in many payloads, and intersects objects.

use std::path::Path;

use river_codegen::schema::parse_schema;
use river_codegen::types::generate_types;

/// The types of the generated module (its per-service submodules included), as
/// `(kind, name)`.
fn items(tokens: &proc_macro2::TokenStream) -> Vec<(String, String)> {
    let file: syn::File = syn::parse2(tokens.clone()).expect("generated types parse");
    let mut out = Vec::new();
    collect(file.items, &mut out);
    out
}

fn collect(items: Vec<syn::Item>, out: &mut Vec<(String, String)>) {
    for item in items {
        match item {
            // Not typify's `error` module (conversion errors, not payloads).
            syn::Item::Mod(m) if m.ident != "error" => {
                collect(m.content.map(|c| c.1).unwrap_or_default(), out)
            }
            syn::Item::Struct(s) => out.push(("struct".into(), s.ident.to_string())),
            syn::Item::Enum(e) => out.push(("enum".into(), e.ident.to_string())),
            syn::Item::Type(t) => {
                let ty = &t.ty;
                out.push((
                    format!("type = {}", quote::quote!(#ty).to_string().replace(' ', "")),
                    t.ident.to_string(),
                ))
            }
            _ => {}
        }
    }
}

#[test]
fn repeated_shapes_generate_one_type_each() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/chat-app.json");
    let json = std::fs::read_to_string(&path).expect("read schemas/chat-app.json");
    let types = generate_types(&parse_schema(&json).expect("parse")).expect("generate");
    let items = items(&types.tokens);
    let types_tokens = &types.tokens;
    let named: Vec<&str> = items
        .iter()
        .filter(|(k, _)| k == "struct" || k == "enum")
        .map(|(_, n)| n.as_str())
        .collect();

    // Each repeated shape is one type, named after what the schema calls it.
    for (shape, count) in [("Content", 1), ("Status", 1), ("Message", 1), ("Room", 1)] {
        let n = named.iter().filter(|n| **n == shape).count();
        assert_eq!(n, count, "{shape} in {named:?}");
    }
    // No other type ends like a shared one: the 3 content unions, 6 statuses, 5 messages
    // and 4 rooms of the schema are not repeated under path names.
    for suffix in ["Content", "Status", "Message", "Room", "Text"] {
        let extra: Vec<&&str> = named
            .iter()
            .filter(|n| n.ends_with(suffix) && **n != suffix && !n.starts_with("Content"))
            .collect();
        assert!(extra.is_empty(), "{suffix}: {extra:?}");
    }
    // Intersections of objects are one struct, not `Part0`/`Part1` types.
    assert!(named.iter().all(|n| !n.contains("Part")), "{named:?}");
    // The payloads that are a shared type are aliases of it.
    for (alias, target) in [
        ("MessagesPostOutput", "Message"),
        ("MessagesWatchOutput", "Message"),
        ("MessagesEditOutput", "Message"),
        ("RoomsGetOutput", "Room"),
        ("RoomsCreateOutput", "Room"),
        ("RoomsJoinOutput", "Room"),
    ] {
        assert!(
            items
                .iter()
                .any(|(k, n)| n == alias && k == &format!("type = {target}")),
            "{alias} should be `type {alias} = {target}` in {items:?}"
        );
    }
    // The content union is tagged by its `type` literal, its members are variants.
    let content = quote::quote!(#types_tokens).to_string();
    assert!(
        content.contains("tag = \"type\""),
        "Content is not a tagged enum"
    );
    // The count: 4 shared shapes (`Content`, `Status`, `Message`, `Room`), the room
    // member struct, 2 array item structs, and one struct per remaining payload
    // (identical payloads of different procedures stay apart).
    assert_eq!(named.len(), 29, "{named:?}");
}
