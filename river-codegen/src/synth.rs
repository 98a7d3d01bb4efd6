//! A seeded synthetic River schema, for measuring the generator and the code it writes
//! at the size of a large production API.
//!
//! [`synthesize`] writes `services × procedures` procedures in the form the reference's
//! `serializeSchema` produces (TypeBox JSON Schema, every shape inlined, no `$ref`).
//! Like a real API, each service has a handful of entities (objects with nested objects,
//! string-literal unions, tagged unions, arrays, records, optional fields and
//! descriptions) that its procedures take and return in several forms (one, a page, a
//! create request, a patch), a few shapes appear in every service (a user, a page
//! cursor, an amount of money), and each procedure has shapes of its own (its filter,
//! its error extras). The same seed gives the same schema.

use serde_json::{json, Map, Value};

/// What to synthesize. Defaults: 40 services × 25 procedures, seed 1.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SynthOptions {
    /// Number of services (default 40).
    pub services: usize,
    /// Procedures per service (default 25).
    pub procedures: usize,
    /// The seed; the same seed gives the same schema (default 1).
    pub seed: u64,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            services: 40,
            procedures: 25,
            seed: 1,
        }
    }
}

impl SynthOptions {
    /// Sets the number of services.
    pub fn services(mut self, n: usize) -> Self {
        self.services = n;
        self
    }

    /// Sets the number of procedures per service.
    pub fn procedures(mut self, n: usize) -> Self {
        self.procedures = n;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
}

/// splitmix64: small, seeded, good enough to vary shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.range(0, words.len() - 1)]
    }
}

const NOUNS: &[&str] = &[
    "account", "invoice", "project", "task", "comment", "file", "team", "member", "order",
    "payment", "shipment", "product", "review", "ticket", "message", "channel", "event", "report",
    "policy", "device", "session", "token", "webhook", "plan", "quota",
];
const FIELDS: &[&str] = &[
    "title",
    "summary",
    "priority",
    "score",
    "label",
    "color",
    "region",
    "locale",
    "source",
    "version",
    "weight",
    "count",
    "limit",
    "offset",
    "reason",
    "notes",
    "archived",
    "pinned",
    "visible",
    "rank",
    "slug",
    "category",
    "owner_id",
    "parent_id",
    "external_ref",
];
const STATES: &[&str] = &[
    "draft", "active", "paused", "archived", "deleted", "pending", "failed", "done",
];
const VERBS: &[&str] = &[
    "get", "list", "create", "update", "delete", "search", "watch", "import", "export", "sync",
    "archive", "restore",
];
const ERRORS: &[&str] = &[
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RATE_LIMITED",
    "CONFLICT",
    "QUOTA_EXCEEDED",
];

fn object(props: Vec<(String, Value, bool)>, description: Option<String>) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, schema, is_required) in props {
        if is_required {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name, schema);
    }
    let mut out = Map::new();
    if let Some(d) = description {
        out.insert("description".into(), d.into());
    }
    out.insert("type".into(), "object".into());
    out.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    Value::Object(out)
}

fn described(mut schema: Value, text: String) -> Value {
    if let Some(m) = schema.as_object_mut() {
        m.insert("description".into(), text.into());
    }
    schema
}

fn string() -> Value {
    json!({"type": "string"})
}

fn literal_union(values: &[&str]) -> Value {
    json!({"anyOf": values.iter().map(|v| json!({"const": v, "type": "string"})).collect::<Vec<_>>()})
}

fn record(values: Value) -> Value {
    json!({"type": "object", "patternProperties": {"^(.*)$": values}})
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

/// Shapes every service uses (TypeBox variables that `serializeSchema` inlines).
struct Common {
    user: Value,
    page: Value,
    money: Value,
}

fn common() -> Common {
    let user = object(
        vec![
            ("id".into(), string(), true),
            ("name".into(), string(), true),
            (
                "email".into(),
                json!({"type": "string", "format": "email"}),
                false,
            ),
            (
                "avatarUrl".into(),
                json!({"type": "string", "format": "uri"}),
                false,
            ),
            (
                "role".into(),
                literal_union(&["admin", "member", "guest"]),
                true,
            ),
        ],
        Some("A user of the workspace.".into()),
    );
    let page = object(
        vec![
            ("cursor".into(), string(), false),
            (
                "limit".into(),
                json!({"type": "integer", "minimum": 1, "maximum": 500}),
                true,
            ),
        ],
        Some("Where a page starts and how long it is.".into()),
    );
    let money = object(
        vec![
            ("amount".into(), json!({"type": "number"}), true),
            (
                "currency".into(),
                json!({"type": "string", "minLength": 3, "maxLength": 3}),
                true,
            ),
        ],
        None,
    );
    Common { user, page, money }
}

/// A random scalar property schema.
fn scalar(rng: &mut Rng) -> Value {
    match rng.range(0, 6) {
        0 | 1 => string(),
        2 => json!({"type": "number"}),
        3 => json!({"type": "integer", "minimum": 0}),
        4 => json!({"type": "boolean"}),
        5 => json!({"type": "string", "format": "date-time"}),
        _ => json!({"type": "string", "maxLength": 256}),
    }
}

/// An object of `lo..=hi` scalar properties, some optional, all described.
fn flat_object(rng: &mut Rng, lo: usize, hi: usize, what: &str) -> Value {
    let n = rng.range(lo, hi);
    let mut props = Vec::new();
    for i in 0..n {
        let name = format!(
            "{}{}",
            heck_camel(rng.pick(FIELDS)),
            if i > 8 { i.to_string() } else { String::new() }
        );
        if props.iter().any(|(p, _, _)| *p == name) {
            continue;
        }
        let schema = described(scalar(rng), format!("The {} of the {what}.", name));
        props.push((name, schema, rng.chance(60)));
    }
    object(props, None)
}

fn heck_camel(s: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in s.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A service's entity: the shape most of its procedures carry.
fn entity(rng: &mut Rng, noun: &str, common: &Common) -> Value {
    let mut props = vec![
        ("id".into(), string(), true),
        (
            "name".into(),
            described(string(), format!("The {noun}'s display name.")),
            true,
        ),
        (
            "createdAt".into(),
            json!({"type": "string", "format": "date-time"}),
            true,
        ),
        (
            "updatedAt".into(),
            json!({"type": "string", "format": "date-time"}),
            false,
        ),
        ("createdBy".into(), common.user.clone(), true),
    ];
    let n_states = rng.range(3, 6);
    let start = rng.range(0, STATES.len() - n_states);
    props.push((
        "status".into(),
        described(
            literal_union(&STATES[start..start + n_states]),
            format!("Where the {noun} is in its life."),
        ),
        true,
    ));
    props.push(("tags".into(), array(string()), true));
    props.push(("labels".into(), record(string()), false));
    props.push(("details".into(), flat_object(rng, 8, 14, noun), true));
    props.push((
        "settings".into(),
        flat_object(rng, 5, 10, &format!("{noun} settings")),
        false,
    ));
    if rng.chance(50) {
        props.push(("price".into(), common.money.clone(), false));
    }
    // A tagged union, as `Type.Union` of objects with a `type` literal.
    let members: Vec<Value> = (0..rng.range(3, 5))
        .map(|i| {
            let mut m = flat_object(rng, 2, 6, noun);
            let kind = ["link", "note", "image", "quote", "code"][i];
            if let Some(o) = m.as_object_mut() {
                if let Some(Value::Object(p)) = o.get_mut("properties") {
                    p.insert("type".into(), json!({"const": kind, "type": "string"}));
                }
                let req = o.entry("required").or_insert_with(|| json!([]));
                if let Value::Array(r) = req {
                    r.push("type".into());
                }
            }
            m
        })
        .collect();
    props.push(("attachments".into(), array(json!({"anyOf": members})), true));
    if rng.chance(40) {
        props.push(("watchers".into(), array(common.user.clone()), false));
    }
    props.push((
        "parent".into(),
        flat_object(rng, 6, 12, &format!("parent {noun}")),
        false,
    ));
    props.push((
        "limits".into(),
        flat_object(rng, 4, 8, &format!("{noun} limits")),
        false,
    ));
    let change = object(
        vec![
            (
                "at".into(),
                json!({"type": "string", "format": "date-time"}),
                true,
            ),
            ("by".into(), common.user.clone(), true),
            (
                "change".into(),
                literal_union(&["created", "edited", "moved", "shared"]),
                true,
            ),
            ("note".into(), string(), false),
            ("diff".into(), record(json!({"type": "string"})), false),
        ],
        Some(format!("One change to the {noun}.")),
    );
    props.push(("history".into(), array(change), false));
    object(props, Some(format!("A {noun}.")))
}

fn errors(rng: &mut Rng, extras: Value) -> Value {
    let n = rng.range(1, 3);
    let start = rng.range(0, ERRORS.len() - n);
    let members: Vec<Value> = ERRORS[start..start + n]
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let mut props = vec![
                (
                    "code".into(),
                    json!({"const": code, "type": "string"}),
                    true,
                ),
                ("message".into(), string(), true),
            ];
            if i == 0 {
                props.push(("extras".into(), extras.clone(), true));
            }
            object(props, None)
        })
        .collect();
    json!({"anyOf": members})
}

fn procedure(rng: &mut Rng, noun: &str, verb: &str, entity: &Value, common: &Common) -> Value {
    let kind = match verb {
        "watch" => "subscription",
        "import" => "upload",
        "sync" => "stream",
        _ => "rpc",
    };
    let id_init = || object(vec![("id".into(), string(), true)], None);
    let filter = flat_object(rng, 5, 12, &format!("{noun} filter"));
    let page_of = |items: Value| {
        object(
            vec![
                ("items".into(), array(items), true),
                ("nextCursor".into(), string(), false),
                (
                    "total".into(),
                    json!({"type": "integer", "minimum": 0}),
                    true,
                ),
            ],
            None,
        )
    };
    let (init, input, output) = match verb {
        "get" | "delete" | "archive" | "restore" => (id_init(), None, entity.clone()),
        "list" => (
            object(
                vec![
                    ("page".into(), common.page.clone(), true),
                    ("filter".into(), filter, false),
                ],
                None,
            ),
            None,
            page_of(entity.clone()),
        ),
        "search" => (
            object(
                vec![
                    ("query".into(), string(), true),
                    ("page".into(), common.page.clone(), true),
                    ("filter".into(), filter, false),
                ],
                None,
            ),
            None,
            page_of(object(
                vec![
                    ("score".into(), json!({"type": "number"}), true),
                    ("item".into(), entity.clone(), true),
                ],
                None,
            )),
        ),
        "watch" => (
            object(vec![("filter".into(), filter, false)], None),
            None,
            object(
                vec![
                    (
                        "event".into(),
                        literal_union(&["created", "updated", "deleted"]),
                        true,
                    ),
                    ("item".into(), entity.clone(), true),
                ],
                None,
            ),
        ),
        "import" => (
            object(
                vec![("dryRun".into(), json!({"type": "boolean"}), false)],
                None,
            ),
            Some(entity.clone()),
            object(
                vec![
                    ("imported".into(), json!({"type": "integer"}), true),
                    (
                        "rejected".into(),
                        array(object(
                            vec![
                                ("index".into(), json!({"type":"integer"}), true),
                                ("reason".into(), string(), true),
                            ],
                            None,
                        )),
                        true,
                    ),
                ],
                None,
            ),
        ),
        "sync" => (
            object(
                vec![(
                    "since".into(),
                    json!({"type": "string", "format": "date-time"}),
                    false,
                )],
                None,
            ),
            Some(object(
                vec![
                    ("ack".into(), string(), true),
                    ("filter".into(), filter, false),
                ],
                None,
            )),
            entity.clone(),
        ),
        // create, update, export and the rest: the entity in, the entity out.
        _ => (
            object(
                vec![
                    ("item".into(), entity.clone(), true),
                    ("idempotencyKey".into(), string(), false),
                ],
                None,
            ),
            None,
            entity.clone(),
        ),
    };
    let extras = flat_object(rng, 1, 3, "error");
    let mut p = Map::new();
    p.insert("type".into(), kind.into());
    p.insert(
        "description".into(),
        format!(
            "{}s {noun}s. Synthetic procedure for scale tests.",
            heck_camel(verb)
        )
        .into(),
    );
    p.insert("init".into(), init);
    if let Some(input) = input {
        p.insert("input".into(), input);
    }
    p.insert("output".into(), output);
    p.insert("errors".into(), errors(rng, extras));
    Value::Object(p)
}

/// Writes the synthetic schema (pretty-printed JSON).
pub fn synthesize(options: &SynthOptions) -> String {
    let mut rng = Rng(options.seed);
    let common = common();
    let mut services = Map::new();
    for s in 0..options.services {
        let noun = NOUNS[s % NOUNS.len()];
        let name = if s < NOUNS.len() {
            format!("{noun}s")
        } else {
            format!("{noun}s{}", s / NOUNS.len() + 1)
        };
        // A few entities per service: the main one and related ones.
        let entities: Vec<(String, Value)> = (0..rng.range(3, 5))
            .map(|i| {
                let n = if i == 0 { noun } else { rng.pick(NOUNS) };
                (n.to_string(), entity(&mut rng, n, &common))
            })
            .collect();
        let mut procedures = Map::new();
        let mut p = 0;
        while procedures.len() < options.procedures {
            let (n, e) = &entities[p % entities.len()];
            let verb = VERBS[(p / entities.len() + p) % VERBS.len()];
            let mut proc_name = format!("{verb}{}", heck_camel(&format!("_{n}")));
            if procedures.contains_key(&proc_name) {
                proc_name = format!("{proc_name}{p}");
            }
            procedures.insert(proc_name, procedure(&mut rng, n, verb, e, &common));
            p += 1;
        }
        services.insert(name, json!({ "procedures": procedures }));
    }
    serde_json::to_string_pretty(&json!({ "services": services })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_schema_and_every_procedure_is_there() {
        let o = SynthOptions::default().services(3).procedures(7).seed(9);
        let a = synthesize(&o);
        assert_eq!(a, synthesize(&o));
        assert_ne!(a, synthesize(&o.clone().seed(10)));
        let v: Value = serde_json::from_str(&a).unwrap();
        let services = v["services"].as_object().unwrap();
        assert_eq!(services.len(), 3);
        for s in services.values() {
            assert_eq!(s["procedures"].as_object().unwrap().len(), 7);
        }
    }
}
