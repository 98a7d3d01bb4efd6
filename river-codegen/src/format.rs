//! From tokens to the final text of a generated file: doc text made safe to print,
//! prettyplease, the bodies of `service_error!` invocations laid out one variant per
//! line (prettyplease leaves macro bodies as a token run), and blank lines between
//! items.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;

/// Formats a generated file (without its `@generated` header).
pub(crate) fn format_file(mut file: syn::File) -> String {
    SanitizeDocs.visit_file_mut(&mut file);
    SplitDocLines.visit_file_mut(&mut file);
    let mut bodies = Vec::new();
    PlaceholdMacros {
        bodies: &mut bodies,
    }
    .visit_file_mut(&mut file);
    let text = prettyplease::unparse(&file);
    let text = fill_placeholders(&text, &bodies);
    space_out_items(&line_doc_comments(&text))
}

/// The macro whose invocations get their own layout.
const SERVICE_ERROR_MACRO: &str = "service_error";

/// Stands in for a macro body until prettyplease has run.
const PLACEHOLDER: &str = "__river_codegen_macro_body_";

/// Replaces the body of every `service_error!` invocation with a placeholder identifier
/// and keeps the parsed body, to print after prettyplease.
struct PlaceholdMacros<'a> {
    bodies: &'a mut Vec<ServiceErrorBody>,
}

impl VisitMut for PlaceholdMacros<'_> {
    fn visit_item_macro_mut(&mut self, item: &mut syn::ItemMacro) {
        let is_ours = item
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == SERVICE_ERROR_MACRO);
        if !is_ours {
            return;
        }
        if let Ok(body) = syn::parse2::<ServiceErrorBody>(item.mac.tokens.clone()) {
            let id = quote::format_ident!("{}{}", PLACEHOLDER, self.bodies.len());
            self.bodies.push(body);
            item.mac.tokens = quote::quote!(#id);
        }
    }
}

/// The input of `service_error!`: docs, `pub enum Name { Variant = "CODE" {extras}, … }`.
struct ServiceErrorBody {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    name: syn::Ident,
    variants: Punctuated<ServiceErrorVariant, syn::Token![,]>,
}

/// One variant: docs, `Name = "CODE"`, then `{ extras: T }`, `{ extras?: T }` or nothing.
struct ServiceErrorVariant {
    attrs: Vec<syn::Attribute>,
    ident: syn::Ident,
    code: syn::LitStr,
    /// The extras type and whether it is optional.
    extras: Option<(syn::Type, bool)>,
}

impl Parse for ServiceErrorBody {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let vis = input.parse()?;
        input.parse::<syn::Token![enum]>()?;
        let name = input.parse()?;
        let content;
        syn::braced!(content in input);
        let variants = content.parse_terminated(ServiceErrorVariant::parse, syn::Token![,])?;
        Ok(ServiceErrorBody {
            attrs,
            vis,
            name,
            variants,
        })
    }
}

impl Parse for ServiceErrorVariant {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(syn::Attribute::parse_outer)?;
        let ident = input.parse()?;
        input.parse::<syn::Token![=]>()?;
        let code = input.parse()?;
        let extras = if input.peek(syn::token::Brace) {
            let content;
            syn::braced!(content in input);
            let field: syn::Ident = content.parse()?;
            if field != "extras" {
                return Err(syn::Error::new(field.span(), "expected `extras`"));
            }
            let optional = content.parse::<Option<syn::Token![?]>>()?.is_some();
            content.parse::<syn::Token![:]>()?;
            Some((content.parse()?, optional))
        } else {
            None
        };
        Ok(ServiceErrorVariant {
            attrs,
            ident,
            code,
            extras,
        })
    }
}

/// Replaces each placeholder line with its body, indented like the placeholder.
fn fill_placeholders(text: &str, bodies: &[ServiceErrorBody]) -> String {
    if bodies.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + bodies.len() * 256);
    for line in text.lines() {
        let trimmed = line.trim_start();
        let body = trimmed
            .strip_prefix(PLACEHOLDER)
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| bodies.get(n));
        match body {
            Some(body) => {
                let indent = &line[..line.len() - trimmed.len()];
                write_body(&mut out, indent, body);
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

fn write_body(out: &mut String, indent: &str, body: &ServiceErrorBody) {
    write_docs(out, indent, &body.attrs);
    let vis = match &body.vis {
        syn::Visibility::Inherited => String::new(),
        v => format!("{} ", quote::ToTokens::to_token_stream(v)).replace(" (", "("),
    };
    out.push_str(&format!("{indent}{vis}enum {} {{\n", body.name));
    let inner = format!("{indent}    ");
    for v in &body.variants {
        write_docs(out, &inner, &v.attrs);
        let extras = match &v.extras {
            None => String::new(),
            Some((ty, optional)) => format!(
                " {{ extras{}: {} }}",
                if *optional { "?" } else { "" },
                type_text(ty)
            ),
        };
        out.push_str(&format!(
            "{inner}{} = {}{extras},\n",
            v.ident,
            quote::ToTokens::to_token_stream(&v.code)
        ));
    }
    out.push_str(&format!("{indent}}}\n"));
}

/// Doc attributes as `///` lines; other attributes as prettyplease prints them.
fn write_docs(out: &mut String, indent: &str, attrs: &[syn::Attribute]) {
    for attr in attrs {
        if let Some(text) = doc_text(attr) {
            for line in sanitize_doc(&text).split('\n') {
                out.push_str(&format!("{indent}///{}\n", line.trim_end()));
            }
        } else {
            let text = quote::ToTokens::to_token_stream(attr).to_string();
            out.push_str(&format!("{indent}{text}\n"));
        }
    }
}

/// The text of a `#[doc = "…"]` attribute.
fn doc_text(attr: &syn::Attribute) -> Option<String> {
    if !attr.path().is_ident("doc") {
        return None;
    }
    match &attr.meta {
        syn::Meta::NameValue(syn::MetaNameValue {
            value:
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// Type tokens as prettyplease prints them (`types::Foo`, `::std::vec::Vec<f64>`).
pub(crate) fn type_tokens_text(ty: &proc_macro2::TokenStream) -> String {
    match syn::parse2::<syn::Type>(ty.clone()) {
        Ok(ty) => type_text(&ty),
        Err(_) => ty.to_string(),
    }
}

/// A type as prettyplease prints it (`Vec<T>`, not `Vec < T >`).
fn type_text(ty: &syn::Type) -> String {
    let file: syn::File = syn::parse_quote!(type T = #ty;);
    let text = prettyplease::unparse(&file);
    text.trim()
        .strip_prefix("type T = ")
        .and_then(|t| t.strip_suffix(';'))
        .map(str::to_string)
        .unwrap_or_else(|| quote::ToTokens::to_token_stream(ty).to_string())
}

/// Makes schema text in doc attributes (descriptions, titles, literals) safe to print as
/// doc comments: text-direction control characters (rejected by rustc's deny-by-default
/// `text_direction_codepoint_in_literal`) and other control characters become visible
/// `\u{..}` escapes, tabs become spaces (clippy's `tabs_in_doc_comments`), and carriage
/// returns become line breaks (a bare CR is not allowed in a doc comment).
struct SanitizeDocs;

impl VisitMut for SanitizeDocs {
    fn visit_attribute_mut(&mut self, attr: &mut syn::Attribute) {
        if !attr.path().is_ident("doc") {
            return;
        }
        if let syn::Meta::NameValue(nv) = &mut attr.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &mut nv.value
            {
                let text = s.value();
                if text
                    .chars()
                    .any(|c| (c.is_control() && c != '\n') || is_bidi(c))
                {
                    *s = syn::LitStr::new(&sanitize_doc(&text), s.span());
                }
            }
        }
    }
}

/// The characters of rustc's `text_direction_codepoint_in_literal` lint.
pub(crate) fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}'
    )
}

pub(crate) fn sanitize_doc(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push('\n'),
            '\r' => out.push('\n'),
            '\t' => out.push_str("    "),
            c if c.is_control() || is_bidi(c) => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// Starts of lines that begin an item (or its docs and attributes).
const ITEM_STARTS: &[&str] = &[
    "///",
    "#[",
    "pub ",
    "pub(",
    "impl",
    "fn ",
    "async fn ",
    "mod ",
    "const ",
    "static ",
    "struct ",
    "enum ",
    "trait ",
    "type ",
    "use ",
    "::river_runtime::",
];

/// Puts a blank line between consecutive items: prettyplease leaves none. Only a line
/// that is exactly a closing brace (or ends with `;`) followed by the start of an item
/// (docs, attributes, `pub`, `impl`, …) gets one, so match arms are left alone.
fn space_out_items(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        let trimmed = line.trim();
        let ends_item = !trimmed.starts_with("//")
            && (trimmed == "}" || trimmed.ends_with(';') || trimmed.ends_with(" {}"));
        let next_starts_item = lines
            .get(i + 1)
            .map(|next| {
                let next = next.trim_start();
                ITEM_STARTS.iter().any(|start| next.starts_with(start))
            })
            .unwrap_or(false);
        if ends_item && next_starts_item {
            out.push('\n');
        }
    }
    out
}

/// Adds the space prettyplease leaves out of one-line doc comments (`///text`).
fn line_doc_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    for line in text.lines() {
        let trimmed = line.trim_start();
        match trimmed.strip_prefix("///") {
            Some(rest) if !rest.is_empty() && !rest.starts_with([' ', '/']) => {
                out.push_str(&line[..line.len() - trimmed.len()]);
                out.push_str("/// ");
                out.push_str(rest);
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Splits every multi-line doc attribute into one attribute per line, so that
/// prettyplease prints `///` lines rather than a `/** … */` block (whose continuation
/// lines start in column 0). Rustdoc joins the lines back the same way.
struct SplitDocLines;

fn split_doc_lines(attrs: &mut Vec<syn::Attribute>) {
    if !attrs
        .iter()
        .any(|a| doc_text(a).is_some_and(|t| t.contains('\n')))
    {
        return;
    }
    let old = std::mem::take(attrs);
    for attr in old {
        match doc_text(&attr) {
            Some(text) if text.contains('\n') => {
                let inner = matches!(attr.style, syn::AttrStyle::Inner(_));
                for line in text.split('\n') {
                    let line = line.trim_end();
                    attrs.push(if inner {
                        syn::parse_quote!(#![doc = #line])
                    } else {
                        syn::parse_quote!(#[doc = #line])
                    });
                }
            }
            _ => attrs.push(attr),
        }
    }
}

macro_rules! split_docs_of {
    ($($visit:ident($ty:ty) => $walk:path;)*) => {
        impl VisitMut for SplitDocLines {
            $(
                fn $visit(&mut self, node: &mut $ty) {
                    split_doc_lines(&mut node.attrs);
                    $walk(self, node);
                }
            )*
        }
    };
}

split_docs_of! {
    visit_file_mut(syn::File) => syn::visit_mut::visit_file_mut;
    visit_item_struct_mut(syn::ItemStruct) => syn::visit_mut::visit_item_struct_mut;
    visit_item_enum_mut(syn::ItemEnum) => syn::visit_mut::visit_item_enum_mut;
    visit_item_type_mut(syn::ItemType) => syn::visit_mut::visit_item_type_mut;
    visit_item_mod_mut(syn::ItemMod) => syn::visit_mut::visit_item_mod_mut;
    visit_item_fn_mut(syn::ItemFn) => syn::visit_mut::visit_item_fn_mut;
    visit_item_trait_mut(syn::ItemTrait) => syn::visit_mut::visit_item_trait_mut;
    visit_item_const_mut(syn::ItemConst) => syn::visit_mut::visit_item_const_mut;
    visit_item_impl_mut(syn::ItemImpl) => syn::visit_mut::visit_item_impl_mut;
    visit_impl_item_fn_mut(syn::ImplItemFn) => syn::visit_mut::visit_impl_item_fn_mut;
    visit_trait_item_fn_mut(syn::TraitItemFn) => syn::visit_mut::visit_trait_item_fn_mut;
    visit_impl_item_type_mut(syn::ImplItemType) => syn::visit_mut::visit_impl_item_type_mut;
    visit_field_mut(syn::Field) => syn::visit_mut::visit_field_mut;
    visit_variant_mut(syn::Variant) => syn::visit_mut::visit_variant_mut;
}
