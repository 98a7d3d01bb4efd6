//! Shared types: every structurally identical schema of a River schema becomes one Rust
//! type, named after what it is.
//!
//! The normalizer ([`crate::normalize`]) works bottom-up: it hands each schema that becomes
//! a named Rust type below a payload's root (objects, unions, string enums,
//! intersections, `Never`) to `Shapes::intern` after its children were interned, so
//! the node's key (its normalized JSON without a title, children replaced by `$ref`s) is
//! equal exactly when the shapes are. The first occurrence becomes a definition under a
//! placeholder name; later ones refer to it.
//!
//! Names are given once every payload is normalized ([`Shapes::finish`]), parents before
//! children, so that a name can depend on all places a shape appears:
//!
//! 1. the schema's own `title` (or a non-recursive `$id`), when the name is free;
//! 2. for a shape used in several places, the words those places have in common
//!    (`content` everywhere → `Content`; `messages[]` → `MessagesItem`), when free and not
//!    made of structural words (`Item`, `Value`, `Part0`) alone;
//! 3. otherwise the path of its first place, as before sharing: `{Parent}{Property}`,
//!    `{Parent}Item`, union members after their discriminant (`{Union}{Literal}`).
//!
//! Payload roots (`{Service}{Procedure}Init`, …) and recursive definitions keep their
//! claimed names and are never merged: they are the procedure's API.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::names::{type_name, NameRegistry};

/// Identifies one schema node during normalization.
pub(crate) type NodeId = usize;

/// The prefix of placeholder names; no name made by [`type_name`] starts with `_`.
const PLACEHOLDER: &str = "__RiverShape";

/// One word of a path name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Word {
    /// The word as the schema spells it (a property name, a literal, `Item`, …).
    pub text: String,
    /// `Item`, `Value`, `Variant0`, `Part0`: words the shape itself does not choose.
    pub structural: bool,
}

/// What a place is relative to.
#[derive(Clone, Debug)]
pub(crate) enum Anchor {
    /// A payload root or recursive definition, by its claimed name.
    Named(String),
    /// An enclosing node, resolved once it is normalized.
    Node(NodeId),
}

/// Where a node sits: its anchor and the words from the anchor to the node.
#[derive(Clone, Debug)]
pub(crate) struct Place {
    /// The enclosing node.
    pub anchor: Anchor,
    /// The words from the anchor to the node (one, unless the anchor is a payload root).
    pub words: Vec<Word>,
}

/// What a normalized node turned out to be.
#[derive(Clone, Debug)]
enum Resolved {
    /// A payload root or definition with a claimed name.
    Named(String),
    /// A shared type.
    Shape(usize),
    /// Not a named type (an array, a map, a primitive): names pass through it.
    Path(Place),
}

#[derive(Debug)]
struct Shape {
    placeholder: String,
    value: Map<String, Value>,
    /// Every place the shape appears, in schema order.
    places: Vec<Place>,
    /// The schema's own `title` or `$id`.
    preferred: Option<String>,
    /// An empty object that accepts unknown fields (see `Normalized::open_empty_structs`).
    open_empty: bool,
    /// Written inline where it appears rather than as a definition.
    inline: bool,
}

/// How a shape is interned.
#[derive(Clone, Debug, Default)]
pub(crate) struct ShapeKind {
    /// The schema's own `title` or `$id`.
    pub preferred: Option<String>,
    /// An empty object that accepts unknown fields.
    pub open_empty: bool,
    /// Written inline (union members, intersection parts), not as a definition.
    pub inline: bool,
}

/// The shapes of one River schema, shared across all its payloads.
#[derive(Debug, Default)]
pub struct Shapes {
    next_node: NodeId,
    resolved: HashMap<NodeId, Resolved>,
    by_key: HashMap<String, usize>,
    shapes: Vec<Shape>,
}

impl Shapes {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh node id.
    pub(crate) fn node(&mut self) -> NodeId {
        self.next_node += 1;
        self.next_node
    }

    /// Records that `node` has the claimed name `name`.
    pub(crate) fn resolve_named(&mut self, node: NodeId, name: &str) {
        self.resolved
            .insert(node, Resolved::Named(name.to_string()));
    }

    /// Records that `node` is not a named type (unless it was already resolved).
    pub(crate) fn resolve_path(&mut self, node: NodeId, place: &Place) {
        self.resolved
            .entry(node)
            .or_insert_with(|| Resolved::Path(place.clone()));
    }

    /// Interns a named type found at `place`; returns the `$ref` to use in its stead,
    /// or with `inline`, the schema itself titled with the shape's placeholder (union
    /// members and intersection parts: typify must see them to tag an enum or merge
    /// parts). Inline and referenced shapes are never merged with each other.
    pub(crate) fn intern(
        &mut self,
        node: NodeId,
        place: &Place,
        value: Map<String, Value>,
        kind: ShapeKind,
    ) -> Value {
        let ShapeKind {
            preferred,
            open_empty,
            inline,
        } = kind;
        let body = serde_json::to_string(&value).unwrap_or_default();
        let key = format!(
            "{}\u{0}{open_empty}\u{0}{inline}\u{0}{body}",
            preferred.as_deref().unwrap_or("")
        );
        let index = match self.by_key.get(&key) {
            Some(&i) => {
                self.shapes[i].places.push(place.clone());
                i
            }
            None => {
                let i = self.shapes.len();
                self.shapes.push(Shape {
                    placeholder: format!("{PLACEHOLDER}{i}"),
                    value,
                    places: vec![place.clone()],
                    preferred,
                    open_empty,
                    inline,
                });
                self.by_key.insert(key, i);
                i
            }
        };
        self.resolved.insert(node, Resolved::Shape(index));
        let shape = &self.shapes[index];
        if inline {
            let mut v = Map::new();
            v.insert("title".into(), shape.placeholder.clone().into());
            v.extend(shape.value.clone());
            Value::Object(v)
        } else {
            reference(&shape.placeholder)
        }
    }

    /// Names every shape (claiming the names in `names`) and returns the definitions.
    pub fn finish(self, names: &mut NameRegistry) -> SharedTypes {
        // First the name each shape asks for. A shape is interned after the shapes
        // inside it, so walking backwards decides every parent before its children.
        let mut intended: Vec<Option<String>> = vec![None; self.shapes.len()];
        let mut wanted: HashSet<String> = HashSet::new();
        let mut preclaimed: HashSet<usize> = HashSet::new();
        let mut used_as: Vec<Vec<(String, Vec<Word>)>> = vec![Vec::new(); self.shapes.len()];
        for i in (0..self.shapes.len()).rev() {
            let shape = &self.shapes[i];
            // Payload roots (no words) are places too, but only nested places say
            // what a shape is.
            let roots = shape.roots();
            let mut places: Vec<(String, Vec<Word>)> = Vec::new();
            for p in shape.places.iter().filter(|p| !p.words.is_empty()) {
                let full = self.expand(p, &intended);
                if !places.contains(&full) {
                    places.push(full);
                }
            }
            used_as[i] = roots
                .iter()
                .map(|r| (r.clone(), Vec::new()))
                .chain(places.iter().cloned())
                .collect();
            let mut candidates = Vec::new();
            if let (Some(p), false) = (&shape.preferred, places.is_empty()) {
                candidates.push(type_name(&[p]));
            }
            if places.len() + roots.len() > 1 && !places.is_empty() {
                // What every place calls it: `content`, `messages[]` and `message` →
                // `Message`.
                let words: Vec<Option<String>> =
                    places.iter().map(|(_, w)| naming_word(w)).collect();
                if let Some(Some(first)) = words.first() {
                    if words.iter().all(|w| w.as_ref() == Some(first)) {
                        candidates.push(type_name(&[first]));
                    }
                }
            }
            if places.len() > 1 {
                let common = common_suffix(places.iter().map(|(_, w)| w.as_slice()));
                if common.iter().any(|w| !w.structural) {
                    let texts: Vec<&str> = common.iter().map(|w| w.text.as_str()).collect();
                    candidates.push(type_name(&texts));
                }
            }
            let chosen = candidates
                .into_iter()
                .find(|c| !names.is_taken(c) && !wanted.contains(c));
            intended[i] = Some(match chosen {
                Some(c) => {
                    wanted.insert(c.clone());
                    c
                }
                // Only payload roots, or nothing better: the first root's name, which
                // is already claimed.
                None if !roots.is_empty() => {
                    preclaimed.insert(i);
                    roots[0].clone()
                }
                None => {
                    let (anchor, words) = places.first().cloned().unwrap_or_default();
                    let mut parts: Vec<&str> = vec![anchor.as_str()];
                    parts.extend(words.iter().map(|w| w.text.as_str()));
                    type_name(&parts)
                }
            });
        }
        // Then claim them innermost first, in schema order, as names were claimed before
        // types were shared (so unshared schemas keep their names).
        let finals: Vec<Option<String>> = intended
            .iter()
            .enumerate()
            .map(|(i, n)| {
                n.as_deref().map(|n| {
                    if preclaimed.contains(&i) {
                        n.to_string()
                    } else {
                        names.claim(n)
                    }
                })
            })
            .collect();
        let renames: HashMap<String, String> = self
            .shapes
            .iter()
            .zip(&finals)
            .map(|(s, f)| (s.placeholder.clone(), f.clone().unwrap_or_default()))
            .collect();
        let mut out = SharedTypes {
            renames,
            roots: HashMap::new(),
            definitions: Vec::new(),
            open_empty_structs: Vec::new(),
        };
        for (index, (shape, name)) in self.shapes.into_iter().zip(finals).enumerate() {
            let name = name.unwrap_or_default();
            let roots = shape.roots();
            if !roots.is_empty() && roots.len() == shape.places.len() {
                // Only payload roots: each keeps a type of its own, so that unrelated
                // procedures do not end up spelled as each other's payloads.
                for root in roots {
                    let mut value = shape.value.clone();
                    value.insert("title".into(), root.clone().into());
                    let mut value = Value::Object(value);
                    out.apply(&mut value);
                    if shape.open_empty {
                        out.open_empty_structs.push(root.clone());
                    }
                    out.roots.insert(root.clone(), root.clone());
                    out.definitions.push((root, value));
                }
                continue;
            }
            for root in roots {
                out.roots.insert(root, name.clone());
            }
            let mut value = shape.value;
            let uses = &used_as[index];
            if uses.len() > 1 {
                let mut list: Vec<String> = uses
                    .iter()
                    .take(6)
                    .map(|(a, w)| place_label(a, w))
                    .collect();
                if uses.len() > 6 {
                    list.push(format!("{} more", uses.len() - 6));
                }
                let line = format!("Used as {}.", list.join(", "));
                let d = match value.get("description").and_then(Value::as_str) {
                    Some(existing) => format!("{existing}\n\n{line}"),
                    None => line,
                };
                value.insert("description".into(), d.into());
            }
            if shape.open_empty {
                out.open_empty_structs.push(name.clone());
            }
            if shape.inline {
                // Written where it appears, under its placeholder title.
                continue;
            }
            value.insert("title".into(), name.clone().into());
            let mut value = Value::Object(value);
            out.apply(&mut value);
            out.definitions.push((name, value));
        }
        out
    }

    /// The claimed or shape name a place hangs off, and the words from it.
    fn expand(&self, place: &Place, finals: &[Option<String>]) -> (String, Vec<Word>) {
        let mut words = place.words.clone();
        let mut anchor = place.anchor.clone();
        // Bounded: each step moves to an enclosing node.
        for _ in 0..=self.next_node {
            match anchor {
                Anchor::Named(name) => return (name, words),
                Anchor::Node(id) => match self.resolved.get(&id) {
                    Some(Resolved::Named(name)) => return (name.clone(), words),
                    Some(Resolved::Shape(s)) => {
                        let name = finals[*s]
                            .clone()
                            .unwrap_or_else(|| self.shapes[*s].placeholder.clone());
                        return (name, words);
                    }
                    Some(Resolved::Path(p)) => {
                        let mut w = p.words.clone();
                        w.extend(words);
                        words = w;
                        anchor = p.anchor.clone();
                    }
                    None => return (String::new(), words),
                },
            }
        }
        (String::new(), words)
    }
}

impl Shape {
    /// The payload roots this shape is, by their claimed names, in schema order.
    fn roots(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in &self.places {
            if let (Anchor::Named(n), true) = (&p.anchor, p.words.is_empty()) {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
        }
        out
    }
}

/// The word a place gives its shape: the property (`status`), or for an array item or a
/// map value the property in singular (`messages[]` → `message`). `None` for places
/// named by structure alone (a tuple member, a union variant without a literal).
fn naming_word(words: &[Word]) -> Option<String> {
    let last = words.last()?;
    if !last.structural {
        return Some(last.text.clone());
    }
    if last.text == "Item" || last.text == "Value" {
        let prev = words.get(words.len().checked_sub(2)?)?;
        if !prev.structural {
            return Some(singular(&prev.text));
        }
    }
    None
}

/// A plural English noun in singular, for the common regular forms (`messages` →
/// `message`, `entries` → `entry`, `boxes` → `box`); anything else unchanged.
fn singular(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    if lower.len() > 4 && lower.ends_with("ies") {
        return format!("{}y", &word[..word.len() - 3]);
    }
    for es in ["sses", "xes", "ches", "shes", "zes"] {
        if lower.len() > es.len() + 1 && lower.ends_with(es) {
            return word[..word.len() - 2].to_string();
        }
    }
    if lower.len() > 3 && lower.ends_with('s') && !lower.ends_with("ss") && !lower.ends_with("us") {
        return word[..word.len() - 1].to_string();
    }
    word.to_string()
}

/// A place for documentation: `` `MessagesHistoryOutput.messages[]` ``.
fn place_label(anchor: &str, words: &[Word]) -> String {
    let mut out = format!("`{anchor}");
    for w in words {
        match w.text.as_str() {
            "Item" => out.push_str("[]"),
            "Value" => out.push_str("{}"),
            t => {
                out.push('.');
                out.push_str(t);
            }
        }
    }
    out.push('`');
    out
}

/// The longest run of words that ends every list.
fn common_suffix<'a>(mut lists: impl Iterator<Item = &'a [Word]>) -> Vec<Word> {
    let Some(first) = lists.next() else {
        return Vec::new();
    };
    let mut len = first.len();
    for l in lists {
        let n = first
            .iter()
            .rev()
            .zip(l.iter().rev())
            .take_while(|(a, b)| a.text == b.text)
            .count();
        len = len.min(n);
    }
    first[first.len() - len..].to_vec()
}

/// `{"$ref": "#/definitions/<name>"}`.
fn reference(name: &str) -> Value {
    let mut m = Map::new();
    m.insert("$ref".into(), format!("#/definitions/{name}").into());
    Value::Object(m)
}

/// The named shared types of a schema, and the renaming of their placeholders.
#[derive(Clone, Debug, Default)]
pub struct SharedTypes {
    renames: HashMap<String, String>,
    /// Payload root name → the shared type it is.
    roots: HashMap<String, String>,
    /// `(name, schema)` of every shared type, to register with typify before any payload.
    pub definitions: Vec<(String, Value)>,
    /// Shared types that are empty structs accepting unknown fields.
    pub open_empty_structs: Vec<String>,
}

impl SharedTypes {
    /// Replaces placeholder references in `v` by the shapes' names.
    pub fn apply(&self, v: &mut Value) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get_mut("$ref") {
                    if let Some(name) = r.strip_prefix("#/definitions/") {
                        if let Some(new) = self.renames.get(name) {
                            *r = format!("#/definitions/{new}");
                        }
                    }
                }
                if let Some(Value::String(t)) = m.get_mut("title") {
                    if let Some(new) = self.renames.get(t.as_str()) {
                        *t = new.clone();
                    }
                }
                m.values_mut().for_each(|c| self.apply(c));
            }
            Value::Array(items) => items.iter_mut().for_each(|c| self.apply(c)),
            _ => {}
        }
    }

    /// The shared type a payload root (by its claimed name) is, if it was interned;
    /// the root's own name when the type is named after it.
    pub fn root_type(&self, root: &str) -> Option<&str> {
        self.roots.get(root).map(String::as_str)
    }

    /// The final name of a placeholder (or the name itself when it is not one).
    pub fn name<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.get(name).map(String::as_str).unwrap_or(name)
    }
}
