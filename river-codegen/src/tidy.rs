//! Post-processing of typify's items, on the syn level: `#[serde(crate = ...)]` on
//! every item deriving serde traits and short derive paths (`serde::Serialize`, with
//! `use ::river_runtime::__private::serde;` at the top of the module), open empty
//! structs, unique field names, and a doc comment on every public field and variant
//! (generated crates compile under `#![deny(missing_docs)]`).

use std::collections::BTreeSet;

use proc_macro2::{Ident, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;

/// The path that generated code uses for serde.
pub(crate) const SERDE_PATH: &str = "::river_runtime::__private::serde";

/// Applies every fix to typify's output (the items of the `types` module).
pub(crate) fn tidy_typify_items(file: &mut syn::File, open_empty: &BTreeSet<String>) {
    ItemFixer { open_empty }.visit_file_mut(file);
    shorten_serde_derives(file);
}

/// Post-processing of typify's items: `#[serde(crate = ...)]` on every item deriving
/// serde traits, open empty structs, unique field names.
struct ItemFixer<'a> {
    open_empty: &'a BTreeSet<String>,
}

fn derives_serde(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("derive")
            && a.meta
                .require_list()
                .map(|l| {
                    l.tokens.clone().into_iter().any(|t| {
                        matches!(&t, TokenTree::Ident(i) if i == "Serialize" || i == "Deserialize")
                    })
                })
                .unwrap_or(false)
    })
}

fn add_crate_attr(attrs: &mut Vec<syn::Attribute>) {
    if !derives_serde(attrs) {
        return;
    }
    let pos = attrs
        .iter()
        .position(|a| a.path().is_ident("derive"))
        .map(|p| p + 1)
        .unwrap_or(0);
    let attr: syn::Attribute = syn::parse_quote!(#[serde(crate = #SERDE_PATH)]);
    attrs.insert(pos, attr);
}

fn is_deny_unknown(a: &syn::Attribute) -> bool {
    a.path().is_ident("serde")
        && a.meta
            .require_list()
            .is_ok_and(|l| l.tokens.to_string().trim() == "deny_unknown_fields")
}

fn dedupe_fields(fields: &mut syn::Fields) {
    let syn::Fields::Named(named) = fields else {
        return;
    };
    let mut seen = BTreeSet::new();
    let all: Vec<String> = named
        .named
        .iter()
        .filter_map(|f| f.ident.as_ref().map(|i| i.to_string()))
        .collect();
    for f in named.named.iter_mut() {
        let Some(ident) = &f.ident else { continue };
        let name = ident.to_string();
        if seen.insert(name.clone()) {
            continue;
        }
        let mut n = 2;
        let new = loop {
            let cand = format!("{}_{n}", name.trim_end_matches('_'));
            if !all.contains(&cand) && seen.insert(cand.clone()) {
                break cand;
            }
            n += 1;
        };
        f.ident = Some(Ident::new(&new, ident.span()));
    }
}

impl VisitMut for ItemFixer<'_> {
    fn visit_item_struct_mut(&mut self, s: &mut syn::ItemStruct) {
        add_crate_attr(&mut s.attrs);
        if self.open_empty.contains(&s.ident.to_string()) {
            s.attrs.retain(|a| !is_deny_unknown(a));
        }
        dedupe_fields(&mut s.fields);
        s.fields.iter_mut().for_each(|f| document_field(f, false));
        syn::visit_mut::visit_item_struct_mut(self, s);
    }

    fn visit_item_enum_mut(&mut self, e: &mut syn::ItemEnum) {
        add_crate_attr(&mut e.attrs);
        for v in e.variants.iter_mut() {
            dedupe_fields(&mut v.fields);
            v.fields.iter_mut().for_each(|f| document_field(f, true));
            document_variant(v);
        }
        syn::visit_mut::visit_item_enum_mut(self, e);
    }
}

/// `serde::Deserialize` for `::river_runtime::__private::serde::Deserialize` in the
/// derives of the top-level items, then `use ::river_runtime::__private::serde;` first
/// when any derive was shortened. (Items of nested modules keep the full path.) Type
/// names are UpperCamelCase, so the `serde` import cannot collide with one.
fn shorten_serde_derives(file: &mut syn::File) {
    let mut shortened = false;
    for item in &mut file.items {
        let attrs = match item {
            syn::Item::Struct(s) => &mut s.attrs,
            syn::Item::Enum(e) => &mut e.attrs,
            _ => continue,
        };
        for attr in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
            let Ok(paths) =
                attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
            else {
                continue;
            };
            let paths: Vec<syn::Path> = paths
                .into_iter()
                .map(|p| {
                    let names: Vec<String> =
                        p.segments.iter().map(|s| s.ident.to_string()).collect();
                    match names.as_slice() {
                        [a, b, c, last]
                            if a == "river_runtime" && b == "__private" && c == "serde" =>
                        {
                            shortened = true;
                            let last = Ident::new(last, proc_macro2::Span::call_site());
                            syn::parse_quote!(serde::#last)
                        }
                        _ => p,
                    }
                })
                .collect();
            *attr = syn::parse_quote!(#[derive(#(#paths),*)]);
        }
    }
    if shortened {
        let serde: syn::Path = syn::parse_str(SERDE_PATH).expect("static path");
        file.items.insert(0, syn::parse_quote!(use #serde;));
    }
}

/// The first string of `#[serde(rename = "…")]`, if any.
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                if let Ok(value) = meta.value() {
                    if let Ok(s) = value.parse::<syn::LitStr>() {
                        found.get_or_insert(s.value());
                    }
                }
            } else if let Ok(value) = meta.value() {
                // Skip `key = value` settings this does not read.
                let _: syn::Expr = value.parse()?;
            }
            Ok(())
        });
    }
    found
}

fn has_doc(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("doc"))
}

fn push_doc(attrs: &mut Vec<syn::Attribute>, text: String) {
    let text = format!(" {text}");
    attrs.insert(0, syn::parse_quote!(#[doc = #text]));
}

/// Documents a public struct field (or any enum variant field: those are as public as
/// the enum) that has no description: its wire name.
fn document_field(field: &mut syn::Field, in_variant: bool) {
    let is_pub = in_variant || matches!(field.vis, syn::Visibility::Public(_));
    let Some(ident) = &field.ident else { return };
    if !is_pub || has_doc(&field.attrs) {
        return;
    }
    let wire = serde_rename(&field.attrs).unwrap_or_else(|| {
        let name = ident.to_string();
        name.strip_prefix("r#").map(str::to_string).unwrap_or(name)
    });
    push_doc(&mut field.attrs, format!("The `{wire}` property."));
}

/// Documents an enum variant that has no description: its wire value, or its name.
fn document_variant(variant: &mut syn::Variant) {
    if has_doc(&variant.attrs) {
        return;
    }
    let text = match serde_rename(&variant.attrs) {
        Some(wire) => format!("`{wire}`"),
        None => format!("The `{}` case.", variant.ident),
    };
    push_doc(&mut variant.attrs, text);
}
