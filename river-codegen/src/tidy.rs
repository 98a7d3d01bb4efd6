//! Post-processing of typify's items, on the syn level: `#[serde(crate = ...)]` on
//! every item deriving serde traits and short derive paths (`serde::Serialize`, with
//! `use ::river_runtime::__private::serde;` at the top of the module), open empty
//! structs, unique field names, the values and names of enum variants that the
//! normalizer replaced with placeholders, and a doc comment on every public field and
//! variant (generated crates compile under `#![deny(missing_docs)]`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use proc_macro2::{Ident, TokenTree};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;

use crate::doc_text::code_span;

/// The path that generated code uses for serde.
pub(crate) const SERDE_PATH: &str = "::river_runtime::__private::serde";

/// Applies every fix to typify's output (the items of the `types` module).
/// Returns the fields and variants it renamed, in item order.
pub(crate) fn tidy_typify_items(
    file: &mut syn::File,
    open_empty: &BTreeSet<String>,
) -> Vec<Rename> {
    let mut fixer = ItemFixer {
        open_empty,
        renames: Vec::new(),
        variants: BTreeMap::new(),
    };
    fixer.visit_file_mut(file);
    VariantPaths {
        variants: &fixer.variants,
        self_enum: None,
    }
    .visit_file_mut(file);
    shorten_serde_derives(file);
    fixer.renames
}

/// Post-processing of typify's items: `#[serde(crate = ...)]` on every item deriving
/// serde traits, open empty structs, unique field names, placeholder values restored.
struct ItemFixer<'a> {
    open_empty: &'a BTreeSet<String>,
    renames: Vec<Rename>,
    /// Per enum, the variants renamed by [`restore_placeholder_values`]: typify's
    /// identifier → the new one.
    variants: BTreeMap<String, BTreeMap<String, String>>,
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

/// A field or variant named like another one, renamed here (its wire name kept with
/// `#[serde(rename)]`): reported to the user, who may have expected the plain name.
/// Its `Display` is the warning line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rename {
    /// A field (of a property) or a variant (of a string value).
    pub(crate) kind: RenameKind,
    /// The struct (or `Enum::Variant`) that holds the field, or the enum.
    pub(crate) owner: String,
    /// The property name or the value on the wire.
    pub(crate) wire: String,
    /// The Rust field or variant name it got.
    pub(crate) ident: String,
}

/// What a [`Rename`] renamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RenameKind {
    /// A struct field, for a property.
    Field,
    /// An enum variant, for a string value.
    Variant,
}

impl fmt::Display for Rename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A warning is one line (a build script prints it as `cargo:warning=`): control
        // characters of the wire name are escaped.
        let wire: String = self
            .wire
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect();
        let (what, ident, others) = match self.kind {
            RenameKind::Field => ("property", "field", "another property"),
            RenameKind::Variant => ("value", "variant", "another value"),
        };
        write!(
            f,
            "{what} `{wire}` of `types::{}` is {ident} `{}` ({others} has the plain name)",
            self.owner, self.ident
        )
    }
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
fn dedupe_fields(owner: &str, fields: &mut syn::Fields, renames: &mut Vec<Rename>) {
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
        renames.push(Rename {
            kind: RenameKind::Field,
            owner: owner.to_string(),
            wire,
            ident: new,
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
        let renamed = restore_placeholder_values(e, &mut self.renames);
        if !renamed.is_empty() {
            self.variants.insert(e.ident.to_string(), renamed);
        }
        for v in e.variants.iter_mut() {
            let owner = format!("{}::{}", e.ident, v.ident);
            dedupe_fields(&owner, &mut v.fields, &mut self.renames);
            v.fields.iter_mut().for_each(|f| document_field(f, true));
            document_variant(v);
        }
        syn::visit_mut::visit_item_enum_mut(self, e);
    }

    /// Placeholders in `Display` and `FromStr` (and anywhere else) are their values.
    fn visit_lit_str_mut(&mut self, lit: &mut syn::LitStr) {
        if let Some(wire) = crate::typify_names::placeholder_value(&lit.value()) {
            *lit = syn::LitStr::new(&wire, lit.span());
        }
    }
}

/// Puts back the values of the variants of `e` whose `#[serde(rename)]` is a placeholder
/// of the normalizer (its values collide as typify names them, see
/// [`crate::typify_names::placeholder`]) and names those variants as typify would have,
/// distinct (`AB`, `AB2`, …). Among the values sharing a name, the one spelled like the
/// name keeps it first, then the others in schema order; a suffix is a number (`_2`
/// after a digit: `V1_2`), skipping names in use. Every variant keeps its value with
/// `#[serde(rename)]`. Reports the suffixed ones; returns typify's identifier → the new
/// one for every restored variant.
fn restore_placeholder_values(
    e: &mut syn::ItemEnum,
    renames: &mut Vec<Rename>,
) -> BTreeMap<String, String> {
    let wires: Vec<Option<String>> = e
        .variants
        .iter()
        .map(|v| {
            let unit = matches!(v.fields, syn::Fields::Unit);
            let rename = serde_rename(&v.attrs).filter(|_| unit)?;
            crate::typify_names::placeholder_value(&rename)
        })
        .collect();
    if wires.iter().all(Option::is_none) {
        return BTreeMap::new();
    }
    // Variants without a placeholder keep their names.
    let kept: BTreeSet<String> = e
        .variants
        .iter()
        .zip(&wires)
        .filter(|(_, w)| w.is_none())
        .map(|(v, _)| v.ident.to_string())
        .collect();
    let mut by_name: BTreeMap<String, Vec<(usize, &str)>> = BTreeMap::new();
    for (i, w) in wires.iter().enumerate() {
        if let Some(w) = w {
            let mut name = crate::typify_names::typify_variant_ident(w);
            if syn::parse_str::<Ident>(&name).is_err() {
                // Not expected (typify's names are identifiers), but no panic.
                name = "X".to_string();
            }
            by_name.entry(name).or_default().push((i, w));
        }
    }
    let mut taken: BTreeSet<String> = kept.clone();
    taken.extend(by_name.keys().cloned());
    let mut new_names: BTreeMap<usize, (String, bool)> = BTreeMap::new();
    for (name, mut values) in by_name {
        values.sort_by_key(|&(i, w)| (w != name, i));
        let plain = usize::from(!kept.contains(&name));
        for (n, &(i, _)) in values.iter().enumerate() {
            if n < plain {
                new_names.insert(i, (name.clone(), false));
                continue;
            }
            let stem = name.trim_end_matches('_');
            let sep = if stem.ends_with(|c: char| c.is_ascii_digit()) {
                "_"
            } else {
                ""
            };
            let new = (2..)
                .map(|k| format!("{stem}{sep}{k}"))
                .find(|c| !taken.contains(c))
                .unwrap_or_default();
            taken.insert(new.clone());
            new_names.insert(i, (new, true));
        }
    }
    let owner = e.ident.to_string();
    let mut renamed = BTreeMap::new();
    for (i, (v, wire)) in e.variants.iter_mut().zip(wires).enumerate() {
        let (Some(wire), Some((new, suffixed))) = (wire, new_names.remove(&i)) else {
            continue;
        };
        v.attrs.retain(|a| {
            !(a.path().is_ident("serde") && serde_rename(std::slice::from_ref(a)).is_some())
        });
        v.attrs.push(syn::parse_quote!(#[serde(rename = #wire)]));
        renamed.insert(v.ident.to_string(), new.clone());
        v.ident = Ident::new(&new, v.ident.span());
        if suffixed {
            renames.push(Rename {
                kind: RenameKind::Variant,
                owner: owner.clone(),
                wire,
                ident: new,
            });
        }
    }
    renamed
}

/// Rewrites the paths to renamed variants: `Self::Old` in the impls of their enum (the
/// `Display` and `FromStr` typify writes), `Enum::Old` anywhere.
struct VariantPaths<'a> {
    variants: &'a BTreeMap<String, BTreeMap<String, String>>,
    /// The enum whose impl is being visited.
    self_enum: Option<&'a BTreeMap<String, String>>,
}

impl VisitMut for VariantPaths<'_> {
    fn visit_item_impl_mut(&mut self, i: &mut syn::ItemImpl) {
        if self.variants.is_empty() {
            return;
        }
        let outer = self.self_enum;
        self.self_enum = match &*i.self_ty {
            syn::Type::Path(p) if p.qself.is_none() => p
                .path
                .segments
                .last()
                .and_then(|s| self.variants.get(&s.ident.to_string())),
            _ => None,
        };
        syn::visit_mut::visit_item_impl_mut(self, i);
        self.self_enum = outer;
    }

    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        let n = path.segments.len();
        if n >= 2 {
            let owner = path.segments[n - 2].ident.to_string();
            let map = if owner == "Self" {
                self.self_enum
            } else {
                self.variants.get(&owner)
            };
            let last = &mut path.segments[n - 1].ident;
            if let Some(new) = map.and_then(|m| m.get(&last.to_string())) {
                *last = Ident::new(new, last.span());
            }
        }
        syn::visit_mut::visit_path_mut(self, path);
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
    push_doc(
        &mut field.attrs,
        format!("The {} property.", code_span(&wire)),
    );
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
        Some(wire) => code_span(&wire),
        None => format!("The `{}` case.", variant.ident),
    };
    push_doc(&mut variant.attrs, text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::typify_names::placeholder;

    #[test]
    fn placeholder_values_are_restored_and_their_variants_named_apart() {
        let (a, b, c) = (
            placeholder("foo-bar"),
            placeholder("foo_bar"),
            placeholder("*/"),
        );
        let (d, e) = (placeholder("/*"), placeholder("FooBar"));
        // The shape of typify's string enums: variants named after the placeholders.
        let mut file: syn::File = syn::parse_quote! {
            #[derive(::serde::Serialize)]
            pub enum E {
                #[serde(rename = #a)]
                Pa,
                #[serde(rename = #b)]
                Pb,
                #[serde(rename = #c)]
                Pc,
                #[serde(rename = #d)]
                Pd,
                #[serde(rename = #e)]
                Pe,
            }
            impl ::std::fmt::Display for E {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    match *self {
                        Self::Pa => f.write_str(#a),
                        Self::Pb => f.write_str(#b),
                        Self::Pc => f.write_str(#c),
                        Self::Pd => f.write_str(#d),
                        Self::Pe => f.write_str(#e),
                    }
                }
            }
            impl ::std::str::FromStr for E {
                type Err = ();
                fn from_str(value: &str) -> ::std::result::Result<Self, ()> {
                    match value {
                        #a => Ok(Self::Pa),
                        #b => Ok(Self::Pb),
                        #c => Ok(Self::Pc),
                        #d => Ok(Self::Pd),
                        #e => Ok(Self::Pe),
                        _ => Err(()),
                    }
                }
            }
            pub enum Other {
                #[serde(rename = "x")]
                Pa,
            }
            impl Other {
                fn get() -> Self {
                    Self::Pa
                }
            }
            fn uses() -> E {
                E::Pb
            }
        };
        let renames = tidy_typify_items(&mut file, &BTreeSet::new());
        let text = prettyplease::unparse(&file);
        // The value spelled like the name keeps it (`FooBar`), then schema order; values
        // without letters are typify's `X`.
        let variants = [
            ("foo-bar", "FooBar2"),
            ("foo_bar", "FooBar3"),
            ("*/", "X"),
            ("/*", "X2"),
            ("FooBar", "FooBar"),
        ];
        for (wire, ident) in variants {
            let rename = format!("#[serde(rename = {wire:?})]\n    {ident},");
            assert!(text.contains(&rename), "{rename}\n{text}");
            let display = format!("Self::{ident} => f.write_str({wire:?}),");
            assert!(text.contains(&display), "{display}\n{text}");
            let from_str = format!("{wire:?} => Ok(Self::{ident}),");
            assert!(text.contains(&from_str), "{from_str}\n{text}");
        }
        assert!(text.contains("E::FooBar3"), "{text}");
        // Another enum's variant of the same typify name is left alone.
        assert!(text.contains("Self::Pa\n"), "{text}");
        assert!(!text.contains("river-codegen-value"), "{text}");
        let lines: Vec<String> = renames.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "value `foo-bar` of `types::E` is variant `FooBar2` (another value has the plain name)",
                "value `foo_bar` of `types::E` is variant `FooBar3` (another value has the plain name)",
                "value `/*` of `types::E` is variant `X2` (another value has the plain name)",
            ]
        );
        // Every restored variant is documented with its value.
        assert!(
            text.contains("/// `foo_bar`\n    #[serde(rename = \"foo_bar\")]"),
            "{text}"
        );
    }

    #[test]
    fn a_variant_suffix_follows_a_digit_with_an_underscore_and_skips_names_in_use() {
        let vals = ["v1", "v_1", "V1_2", "V1-2"];
        let ph: Vec<String> = vals.iter().map(|v| placeholder(v)).collect();
        let idents: Vec<Ident> = (0..vals.len())
            .map(|i| Ident::new(&format!("P{i}"), proc_macro2::Span::call_site()))
            .collect();
        let mut e: syn::ItemEnum = syn::parse_quote! {
            pub enum E { #( #[serde(rename = #ph)] #idents, )* Kept }
        };
        let mut renames = Vec::new();
        let map = restore_placeholder_values(&mut e, &mut renames);
        let names: Vec<String> = e.variants.iter().map(|v| v.ident.to_string()).collect();
        // `v1`, `v_1` are `V1`; `V1_2`, `V1-2` are `V12`, so `v_1` is `V1_2`.
        assert_eq!(names, ["V1", "V1_2", "V12", "V12_2", "Kept"]);
        assert_eq!(map.len(), 4);
        assert_eq!(map["P1"], "V1_2");
        assert_eq!(renames.len(), 2);
    }

    #[test]
    fn warnings_are_one_line() {
        let r = Rename {
            kind: RenameKind::Field,
            owner: "T".into(),
            wire: "a\nb\u{0}".into(),
            ident: "a_b_2".into(),
        };
        assert_eq!(
            r.to_string(),
            "property `a\\nb\\u{0}` of `types::T` is field `a_b_2` (another property has the plain name)"
        );
    }
}
