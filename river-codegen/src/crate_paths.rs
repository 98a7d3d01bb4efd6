//! `::serde` paths in typify's output made to go through `::river_runtime::__private`,
//! so that generated code depends on river-runtime alone, and type paths moved in and
//! out of the `types` module.

use proc_macro2::{Group, Literal, Punct, Spacing, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::visit_mut::VisitMut;

/// Rewrites type tokens for use outside the `types` module (serde paths only).
pub(crate) fn outside(ty: &TokenStream) -> TokenStream {
    rewrite_crate_paths(ty.clone())
}

/// Rewrites type tokens for use inside the `types` module: `types::X` → `X`.
pub(crate) fn inside(ty: &TokenStream) -> TokenStream {
    let ty = rewrite_crate_paths(ty.clone());
    match syn::parse2::<syn::Type>(ty.clone()) {
        Ok(mut parsed) => {
            StripTypesMod.visit_type_mut(&mut parsed);
            parsed.into_token_stream()
        }
        Err(_) => ty,
    }
}

struct StripTypesMod;

impl VisitMut for StripTypesMod {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.leading_colon.is_none()
            && path.segments.len() > 1
            && path.segments[0].ident == "types"
        {
            let rest: syn::punctuated::Punctuated<syn::PathSegment, syn::Token![::]> =
                path.segments.iter().skip(1).cloned().collect();
            path.segments = rest;
        }
        syn::visit_mut::visit_path_mut(self, path);
    }
}

/// Keywords after which `::serde` starts a path (as opposed to continuing one, as in
/// `a::serde`).
const PATH_START_KEYWORDS: &[&str] = &[
    "impl", "for", "as", "dyn", "where", "in", "mut", "ref", "return", "let", "const", "static",
    "type", "pub", "use", "move", "else", "match", "if", "while", "unsafe", "fn", "struct", "enum",
    "trait", "mod", "box", "break",
];

/// Rewrites absolute `::serde…`/`::serde_json…` paths (also inside attributes, macro
/// arguments and serde path strings) to `::river_runtime::__private::…`.
pub fn rewrite_crate_paths(ts: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = ts.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let is_leading = match (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2)) {
            (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)), Some(TokenTree::Ident(id)))
                if a.as_char() == ':'
                    && a.spacing() == Spacing::Joint
                    && b.as_char() == ':'
                    && (id == "serde" || id == "serde_json") =>
            {
                match out.last() {
                    Some(TokenTree::Ident(prev)) => {
                        PATH_START_KEYWORDS.contains(&prev.to_string().as_str())
                    }
                    _ => true,
                }
            }
            _ => false,
        };
        if is_leading {
            let span = tokens[i].span();
            let prefix: TokenStream = quote!(::river_runtime::__private);
            out.extend(prefix.into_iter().map(|mut t| {
                t.set_span(span);
                t
            }));
            // Keep the `::` before `serde`.
            out.push(TokenTree::Punct(Punct::new(':', Spacing::Joint)));
            out.push(TokenTree::Punct(Punct::new(':', Spacing::Alone)));
            i += 2;
            continue;
        }
        match &tokens[i] {
            TokenTree::Group(g) => {
                let mut ng = Group::new(g.delimiter(), rewrite_crate_paths(g.stream()));
                ng.set_span(g.span());
                out.push(TokenTree::Group(ng));
            }
            TokenTree::Literal(lit) => {
                let s = lit.to_string();
                let rewritten = (s.starts_with("\"::serde_json::") || s.starts_with("\"::serde::"))
                    .then(|| {
                        let inner = &s[1..s.len() - 1];
                        Literal::string(&format!("::river_runtime::__private{inner}"))
                    });
                match rewritten {
                    Some(mut l) => {
                        l.set_span(lit.span());
                        out.push(TokenTree::Literal(l));
                    }
                    None => out.push(tokens[i].clone()),
                }
            }
            t => out.push(t.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}
