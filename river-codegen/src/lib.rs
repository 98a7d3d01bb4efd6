//! river-codegen: typed Rust clients and server traits from River schema JSON.
//!
//! The input is the JSON that River's TypeScript `serializeSchema` writes. The output is
//! one self-contained Rust file (formatted, starting with an `@generated` comment) with
//!
//! - `pub const SCHEMA_JSON` and `pub const BINARY_CODEC_FIELDS`: the schema, and the
//!   fields the JSON codec cannot carry (its `Date`s; when there are any, the generated
//!   client and server refuse `Codec::Json` before any call);
//! - `pub mod types`: the payload types of every procedure;
//! - `pub mod client`: `Client`, one `{Service}Client` per service and one method per
//!   procedure (rpc → a future of the result; upload → `(Writer, Response)`; stream →
//!   `(Writer, Reader)`; subscription → `Reader`);
//! - `pub mod server`: one `{Service}Service` trait per service (methods can be
//!   implemented as `async fn`) and `register_{service}(router, Arc<impl Trait>)`.
//!
//! Generated code refers to `::river_runtime` only.
//!
//! Use it from a build script with [`configure()`], from other tools with
//! [`generate()`], or from the command line (`river-codegen generate`).
//!
//! # A tour
//!
//! - Entry points: [`generate()`] with [`Options`] (one file, as a string);
//!   [`generate_crate`] with [`CrateOptions`] (a whole crate, written or checked by
//!   [`crate_dir`]); [`Builder`] for `build.rs`.
//! - What goes wrong: [`diagnostic::Diagnostic`] (a path in the schema document and a
//!   message) inside [`Error`]; warnings (renamed identifiers) come back from
//!   [`generate_with_warnings`].
//! - The pipeline, in order: [`schema::parse_schema`] reads the document;
//!   [`normalize::normalize`] turns each TypeBox payload into what typify accepts;
//!   [`shapes`] interns structurally identical shapes; [`types::generate_types`] runs
//!   typify over all of them at once; then the client and server emitters and the
//!   formatter (private modules) produce the file. ARCHITECTURE.md in the repository
//!   walks through every stage.
//! - Tools: [`synth`] writes synthetic schemas of any size for benchmarks; [`names`]
//!   holds the rules that turn schema names into Rust identifiers.

pub mod builder;
mod client;
pub mod crate_dir;
mod crate_paths;
mod doc_text;
mod error_types;
mod format;
pub mod generate;
mod server;
mod split;
mod tidy;
mod timings;
mod typify_names;
mod validators;

pub mod diagnostic;
pub mod names;
pub mod normalize;
pub mod package;
mod plan;
mod recursion;
pub mod schema;
pub mod shapes;
pub mod synth;
pub mod types;

pub use builder::{compile, configure, Builder, Error};
pub use generate::{generate, generate_with_warnings, header, Generated, Options};
pub use package::{
    generate_crate, generate_crate_with_warnings, CrateOptions, GeneratedFile, RuntimeDependency,
};
