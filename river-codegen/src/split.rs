//! The `types` module split by service.
//!
//! A type that only one service's payloads reach (directly or through other types) goes
//! into that service's submodule of `types`; a type that several services reach, or none
//! (the handshake metadata, typify's `error` module), stays at the top. The top
//! re-exports every submodule (`pub use accounts::*;`) and every submodule imports the
//! top (`use super::*;`), so `types::X` names every type wherever it sits, and a type
//! refers to any other by its bare name. Names are unique across the whole module (the
//! normalizer's registry), so the glob imports never clash.
//!
//! Why: rustc gives each module its own codegen units in dev builds, so a schema of
//! many services compiles on every core instead of one, and an edit to one service's
//! types recompiles less. The split only happens for schemas of two services or more.

use std::collections::{BTreeSet, HashMap, HashSet};

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};

/// One service's submodule of `types` and the payload types it starts from.
pub(crate) struct ServiceRoots {
    /// The service as the schema spells it (for the module's docs).
    pub service: String,
    /// Its payload types: `…Init`, `…Input`, `…Output` and `…Error` of each procedure.
    pub roots: Vec<String>,
}

/// Where an item goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// No service reaches it (yet).
    Nobody,
    /// Exactly this service (an index into the services).
    One(usize),
    /// Two services or more: the top of `types`.
    Shared,
}

/// The items of the `types` module, placed: those at the top, then per service those
/// that only it reaches.
#[derive(Clone, Default)]
pub(crate) struct Split {
    /// Shared items (and everything they refer to), and all items when there are fewer
    /// than two services.
    pub top: Vec<syn::Item>,
    /// Per service (schema order; services without items of their own are left out).
    pub services: Vec<ServiceItems>,
}

impl std::fmt::Debug for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let services: Vec<(&str, usize)> = self
            .services
            .iter()
            .map(|s| (s.service.as_str(), s.items.len()))
            .collect();
        f.debug_struct("Split")
            .field("top", &self.top.len())
            .field("services", &services)
            .finish()
    }
}

/// The items only one service reaches.
#[derive(Clone)]
pub(crate) struct ServiceItems {
    /// The service as the schema spells it.
    pub service: String,
    /// Its submodule of `types` (`snake_case`, unique, keyword-safe).
    pub module: Ident,
    /// Its items, in generation order.
    pub items: Vec<syn::Item>,
}

impl Split {
    /// The body of `pub mod types`: the top items, then `pub use m::*;` and `pub mod m
    /// { use super::*; … }` per service.
    pub fn module_tokens(&self) -> TokenStream {
        let top = &self.top;
        let mut out = quote!(#(#top)*);
        for s in &self.services {
            let (module, items) = (&s.module, &s.items);
            let doc = format!(
                " The types that only the `{}` service uses (re-exported at the top of `types`).",
                s.service
            );
            out.extend(quote! {
                pub use #module::*;
                #[doc = #doc]
                pub mod #module {
                    use super::*;
                    #(#items)*
                }
            });
        }
        out
    }
}

/// Places the items of the `types` module: an item that only one service reaches goes
/// to that service; an item that several reach, or none, stays at the top, and so does
/// everything a top item refers to (a top item never needs a service's item, so the
/// top can be a crate of its own).
pub(crate) fn split_by_service(items: Vec<syn::Item>, services: &[ServiceRoots]) -> Split {
    if services.len() < 2 {
        return Split {
            top: items,
            services: Vec::new(),
        };
    }
    // The type each item defines or implements, and the names each refers to.
    let owners: Vec<Option<String>> = items.iter().map(defined_name).collect();
    let index: HashMap<&str, usize> = owners
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.as_deref().map(|n| (n, i)))
        .filter(|(_, i)| is_definition(&items[*i]))
        .collect();
    // Edges from a name to the names its items mention (impls count for their type);
    // an item that belongs to no type is a top item, its references listed apart.
    let mut edges: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut from_unowned: Vec<&str> = Vec::new();
    for (item, owner) in items.iter().zip(&owners) {
        let owner = owner.as_deref().filter(|o| index.contains_key(o));
        let mut refs = Vec::new();
        collect_idents(item.to_token_stream(), &mut |id: &Ident| {
            let id = id.to_string();
            if let Some((name, _)) = index.get_key_value(id.as_str()) {
                if Some(*name) != owner {
                    refs.push(*name);
                }
            }
        });
        match owner {
            Some(owner) => edges.entry(owner).or_default().extend(refs),
            None => from_unowned.extend(refs),
        }
    }
    let mut placed: HashMap<&str, Owner> = HashMap::new();
    for (s, service) in services.iter().enumerate() {
        let roots = service
            .roots
            .iter()
            .filter_map(|r| index.get_key_value(r.as_str()).map(|(n, _)| *n));
        walk(roots, &edges, |name| {
            let owner = placed.entry(name).or_insert(Owner::Nobody);
            *owner = match *owner {
                Owner::Nobody => Owner::One(s),
                Owner::One(t) if t == s => Owner::One(s),
                _ => Owner::Shared,
            };
        });
    }
    // Top items (shared, unreached, unowned) pull what they refer to up with them.
    let top_roots: Vec<&str> = index
        .keys()
        .copied()
        .filter(|n| !matches!(placed.get(n), Some(Owner::One(_))))
        .chain(from_unowned)
        .collect();
    walk(top_roots.into_iter(), &edges, |name| {
        placed.insert(name, Owner::Shared);
    });
    let modules = module_names(services, index.keys().copied());
    let mut top = Vec::new();
    let mut per_service: Vec<Vec<syn::Item>> = vec![Vec::new(); services.len()];
    for (item, owner) in items.iter().zip(&owners) {
        let place = owner
            .as_deref()
            .and_then(|o| placed.get(o))
            .copied()
            .unwrap_or(Owner::Shared);
        match place {
            Owner::One(s) => per_service[s].push(item.clone()),
            Owner::Nobody | Owner::Shared => top.push(item.clone()),
        }
    }
    let services = services
        .iter()
        .zip(modules)
        .zip(per_service)
        .filter(|(_, items)| !items.is_empty())
        .map(|((s, module), items)| ServiceItems {
            service: s.service.clone(),
            module,
            items,
        })
        .collect();
    Split { top, services }
}

/// Calls `visit` once for every name reachable from `roots` along `edges`.
fn walk<'a>(
    roots: impl Iterator<Item = &'a str>,
    edges: &HashMap<&'a str, HashSet<&'a str>>,
    mut visit: impl FnMut(&'a str),
) {
    let mut stack: Vec<&str> = roots.collect();
    let mut seen: HashSet<&str> = HashSet::new();
    while let Some(name) = stack.pop() {
        if !seen.insert(name) {
            continue;
        }
        visit(name);
        if let Some(next) = edges.get(name) {
            stack.extend(next.iter().copied());
        }
    }
}

/// The name of the type an item defines (struct, enum, alias) or implements (`impl … for
/// X`, `impl X`), or the enum a `service_error!` invocation defines.
fn defined_name(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Enum(e) => Some(e.ident.to_string()),
        syn::Item::Type(t) => Some(t.ident.to_string()),
        syn::Item::Impl(i) => match &*i.self_ty {
            syn::Type::Path(p) if p.qself.is_none() => {
                p.path.segments.last().map(|s| s.ident.to_string())
            }
            _ => None,
        },
        syn::Item::Macro(m) => {
            // `service_error! { #[doc…] pub enum Name { … } }`
            let mut after_enum = false;
            for t in m.mac.tokens.clone() {
                if let TokenTree::Ident(id) = t {
                    if after_enum {
                        return Some(id.to_string());
                    }
                    after_enum = id == "enum";
                }
            }
            None
        }
        _ => None,
    }
}

/// Whether the item introduces its name (as opposed to implementing something for it).
fn is_definition(item: &syn::Item) -> bool {
    matches!(
        item,
        syn::Item::Struct(_) | syn::Item::Enum(_) | syn::Item::Type(_) | syn::Item::Macro(_)
    )
}

/// Calls `f` with every identifier in `tokens`, nested groups included.
fn collect_idents(tokens: TokenStream, f: &mut impl FnMut(&Ident)) {
    for t in tokens {
        match t {
            TokenTree::Ident(id) => f(&id),
            TokenTree::Group(g) => collect_idents(g.stream(), f),
            _ => {}
        }
    }
}

/// A module identifier per service: its name in `snake_case`, keyword-safe, with a
/// suffix when the name is taken (by another service's module, by a type: modules and
/// types share a namespace, by typify's `error` and `defaults` modules, or `types`).
fn module_names<'a>(
    services: &[ServiceRoots],
    type_names: impl Iterator<Item = &'a str>,
) -> Vec<Ident> {
    let mut taken: BTreeSet<String> = type_names.map(str::to_string).collect();
    // `types` itself: clippy denies a module named like its parent.
    taken.extend(["error", "defaults", "types"].map(str::to_string));
    services
        .iter()
        .map(|s| {
            let name = crate::names::unique(crate::names::to_snake_ident(&s.service), &mut taken);
            format_ident!("{}", name)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(src: &str, services: &[(&str, &[&str])]) -> String {
        let file: syn::File = syn::parse_str(src).unwrap();
        let services: Vec<ServiceRoots> = services
            .iter()
            .map(|(s, roots)| ServiceRoots {
                service: s.to_string(),
                roots: roots.iter().map(|r| r.to_string()).collect(),
            })
            .collect();
        split_by_service(file.items, &services)
            .module_tokens()
            .to_string()
    }

    #[test]
    fn one_service_types_move_and_shared_ones_stay() {
        let out = split(
            "pub struct AIn { pub x: Only, pub s: Common }
             pub struct BIn { pub s: Common }
             pub struct Only;
             impl Only { }
             pub struct Common;
             pub struct Orphan;",
            &[("a", &["AIn"]), ("b", &["BIn"])],
        );
        let a_mod = out.find("pub mod a").unwrap();
        let b_mod = out.find("pub mod b").unwrap();
        // Shared and orphan types before the modules, the rest inside their service's.
        assert!(out.find("pub struct Common").unwrap() < a_mod);
        assert!(out.find("pub struct Orphan").unwrap() < a_mod);
        let only = out.find("pub struct Only").unwrap();
        assert!(a_mod < only && only < b_mod);
        assert!(a_mod < out.find("impl Only").unwrap());
        assert!(out.find("pub struct BIn").unwrap() > b_mod);
        assert!(out.contains("pub use a :: * ;"));
        assert!(out.contains("use super :: * ;"));
    }

    #[test]
    fn what_a_top_item_refers_to_stays_at_the_top() {
        // `Orphan` is reached by no service, `Only` by `a` alone, but `Orphan` needs it.
        let out = split(
            "pub struct AIn { pub x: Only }
             pub struct BIn;
             pub struct Only;
             pub struct Orphan { pub o: Only }",
            &[("a", &["AIn"]), ("b", &["BIn"])],
        );
        assert!(out.find("pub struct Only").unwrap() < out.find("pub mod a").unwrap());
    }

    #[test]
    fn a_single_service_is_not_split() {
        let out = split("pub struct AIn;", &[("a", &["AIn"])]);
        assert!(!out.contains("mod"), "{out}");
    }

    #[test]
    fn module_names_avoid_keywords_and_taken_names() {
        let out = split(
            "pub struct AIn; pub struct BIn; pub struct CIn;",
            &[("type", &["AIn"]), ("error", &["BIn"]), ("Error", &["CIn"])],
        );
        assert!(out.contains("pub mod type_"), "{out}");
        assert!(out.contains("pub mod error_2 "), "{out}");
        assert!(out.contains("pub mod error_3 "), "{out}");
    }
}
