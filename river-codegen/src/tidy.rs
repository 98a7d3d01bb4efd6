//! Post-processing of typify's items, on the syn level: `#[serde(crate = ...)]` on
//! every item deriving serde traits and short derive paths (`serde::Serialize`, with
//! `use ::river_runtime::__private::serde;` at the top of the module), open empty
//! structs, unique field names, and a doc comment on every public field and variant
//! (generated crates compile under `#![deny(missing_docs)]`).

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;

/// The path that generated code uses for serde.
pub(crate) const SERDE_PATH: &str = "::river_runtime::__private::serde";

/// Applies every fix to typify's output (the items of the `types` module).
/// Returns the fields it renamed.
pub(crate) fn tidy_typify_items(
    file: &mut syn::File,
    open_empty: &BTreeSet<String>,
) -> Vec<FieldRename> {
    let mut fixer = ItemFixer {
        open_empty,
        renames: Vec::new(),
    };
    fixer.visit_file_mut(file);
    shorten_serde_derives(file);
    fixer.renames
}

/// Post-processing of typify's items: `#[serde(crate = ...)]` on every item deriving
/// serde traits, open empty structs, unique field names.
struct ItemFixer<'a> {
    open_empty: &'a BTreeSet<String>,
    renames: Vec<FieldRename>,
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

/// A field that typify named like another one, renamed here (its wire name kept with
/// `#[serde(rename)]`): reported to the user, who may have expected the plain name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldRename {
    /// The struct (or `Enum::Variant`) that holds the field.
    pub(crate) owner: String,
    /// The property name on the wire.
    pub(crate) wire: String,
    /// The Rust field name it got.
    pub(crate) field: String,
}

fn is_flatten(f: &syn::Field) -> bool {
    f.attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .any(|a| {
            a.meta.require_list().is_ok_and(|l| {
                l.tokens
                    .to_string()
                    .split(',')
                    .any(|t| t.trim() == "flatten")
            })
        })
}

/// The wire name of a named field: its `#[serde(rename)]`, else its name.
fn wire_name(f: &syn::Field) -> Option<String> {
    let ident = f.ident.as_ref()?;
    Some(serde_rename(&f.attrs).unwrap_or_else(|| {
        let name = ident.to_string();
        name.strip_prefix("r#").map(str::to_string).unwrap_or(name)
    }))
}

/// Gives fields that typify named alike distinct names (`foo_bar`, `foo_bar_2`, …).
/// Among the fields sharing a name, the flattened map keeps it first, then the field
/// whose wire name is that name, then the others in typify's order (wire names
/// sorted); a renamed field gets `#[serde(rename = "wire")]` so the wire is unchanged.
fn dedupe_fields(owner: &str, fields: &mut syn::Fields, renames: &mut Vec<FieldRename>) {
    let syn::Fields::Named(named) = fields else {
        return;
    };
    let names: Vec<String> = named
        .named
        .iter()
        .map(|f| f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default())
        .collect();
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, n) in names.iter().enumerate() {
        by_name.entry(n.as_str()).or_default().push(i);
    }
    let mut taken: BTreeSet<String> = names.iter().cloned().collect();
    let mut new_names: BTreeMap<usize, String> = BTreeMap::new();
    for (name, mut idx) in by_name.into_iter().filter(|(_, v)| v.len() > 1) {
        let fields: Vec<&syn::Field> = named.named.iter().collect();
        idx.sort_by_key(|&i| {
            let f = fields[i];
            let exact = wire_name(f).is_some_and(|w| w == name.trim_start_matches("r#"));
            (!is_flatten(f), !exact, i)
        });
        for &i in &idx[1..] {
            let stem = name.trim_start_matches("r#").trim_end_matches('_');
            let new = (2..)
                .map(|n| format!("{stem}_{n}"))
                .find(|c| !taken.contains(c))
                .unwrap_or_default();
            taken.insert(new.clone());
            new_names.insert(i, new);
        }
    }
    for (i, f) in named.named.iter_mut().enumerate() {
        let Some(new) = new_names.remove(&i) else {
            continue;
        };
        let Some(wire) = wire_name(f) else { continue };
        if serde_rename(&f.attrs).is_none() {
            f.attrs.push(syn::parse_quote!(#[serde(rename = #wire)]));
        }
        let span = f
            .ident
            .as_ref()
            .map(|i| i.span())
            .unwrap_or_else(proc_macro2::Span::call_site);
        f.ident = Some(Ident::new(&new, span));
        renames.push(FieldRename {
            owner: owner.to_string(),
            wire,
            field: new,
        });
    }
}

impl VisitMut for ItemFixer<'_> {
    fn visit_item_struct_mut(&mut self, s: &mut syn::ItemStruct) {
        add_crate_attr(&mut s.attrs);
        if self.open_empty.contains(&s.ident.to_string()) {
            s.attrs.retain(|a| !is_deny_unknown(a));
        }
        dedupe_fields(&s.ident.to_string(), &mut s.fields, &mut self.renames);
        s.fields.iter_mut().for_each(option_outside_box);
        s.fields.iter_mut().for_each(|f| document_field(f, false));
        syn::visit_mut::visit_item_struct_mut(self, s);
    }

    fn visit_item_enum_mut(&mut self, e: &mut syn::ItemEnum) {
        add_crate_attr(&mut e.attrs);
        for v in e.variants.iter_mut() {
            let owner = format!("{}::{}", e.ident, v.ident);
            dedupe_fields(&owner, &mut v.fields, &mut self.renames);
            v.fields.iter_mut().for_each(|f| document_field(f, true));
            document_variant(v);
        }
        syn::visit_mut::visit_item_enum_mut(self, e);
    }
}

/// The single generic argument of the last segment of `path` when it is `name<T>`.
fn generic_arg<'t>(ty: &'t syn::Type, name: &str) -> Option<&'t syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(syn::GenericArgument::Type(t)) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

/// typify types an optional property that refers to its own struct as
/// `Box<Option<T>>` with `#[serde(default)]`, which serializes an absent value as
/// `null` (the reference's validator rejects that for an optional property). This makes
/// it `Option<Box<T>>`, omitted when `None`, like every other optional field.
fn option_outside_box(field: &mut syn::Field) {
    let Some(inner) = generic_arg(&field.ty, "Box").and_then(|t| generic_arg(t, "Option")) else {
        return;
    };
    let is_default = |a: &syn::Attribute| {
        a.path().is_ident("serde")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string().trim() == "default")
    };
    let Some(pos) = field.attrs.iter().position(is_default) else {
        return;
    };
    let inner = inner.clone();
    field.ty = syn::parse_quote!(::std::option::Option<::std::boxed::Box<#inner>>);
    field.attrs[pos] = syn::parse_quote!(
        #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    );
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

/// The text of the doc attributes, joined.
fn doc_text(attrs: &[syn::Attribute]) -> String {
    let mut out = String::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(nv) = &a.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            {
                out.push_str(&s.value());
            }
        }
    }
    out
}

/// Documents an enum variant that has no description: its wire value, or its name.
/// typify documents a union member with its `title` when it has no description; those
/// titles are names the normalizer made up (`ContentText`), so they are replaced too.
fn document_variant(variant: &mut syn::Variant) {
    let doc = doc_text(&variant.attrs);
    let doc = doc.trim();
    let ident = variant.ident.to_string();
    if doc.len() > ident.len()
        && doc.ends_with(&ident)
        && doc.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        variant.attrs.retain(|a| !a.path().is_ident("doc"));
    }
    if has_doc(&variant.attrs) {
        return;
    }
    let text = match serde_rename(&variant.attrs) {
        Some(wire) => format!("`{wire}`"),
        None => format!("The `{}` case.", variant.ident),
    };
    push_doc(&mut variant.attrs, text);
}
