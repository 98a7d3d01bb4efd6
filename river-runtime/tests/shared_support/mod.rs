//! Where the tests find `../shared` (the conformance transcripts, schemas and reference
//! data that live beside the clone), and how they say that they skipped without it.
//!
//! - The directory is `RIVER_SHARED_DIR` when set, else `shared` beside the workspace
//!   root (`<workspace>/../shared`).
//! - A test that cannot run without it calls [`shared_dir`] (or [`skipped`] for a
//!   missing file inside it): the skip is reported as one `SKIPPED …` line written to the
//!   real stderr, which libtest does not capture, so it shows in a plain `cargo test`.
//! - With `RIVER_REQUIRE_SHARED=1` (CI sets it when `../shared` exists) a skip fails the
//!   test instead.
//!
//! Used by river-runtime's tests, and by river-codegen's and generated-e2e's through
//! `#[path]`, so that the three crates follow one policy.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The environment variable that overrides where `shared` is.
pub const DIR_VAR: &str = "RIVER_SHARED_DIR";
/// The environment variable that turns skips into failures when set to `1`.
pub const REQUIRE_VAR: &str = "RIVER_REQUIRE_SHARED";

/// The workspace root: the nearest ancestor of the test crate with a `Cargo.lock`.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .unwrap_or(manifest)
        .to_path_buf()
}

/// Where `shared` is expected, whether or not it exists.
pub fn shared_path() -> PathBuf {
    match std::env::var_os(DIR_VAR) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join("../shared"),
    }
}

/// Whether skips must fail (`RIVER_REQUIRE_SHARED=1`).
pub fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1")
}

/// Reports that `what` (for example `conformance case json/rpc`) did not run because
/// of `reason`: one `SKIPPED` line on the real stderr, or a panic when skips must fail.
pub fn skipped(what: &str, reason: &str) {
    if required() {
        panic!("{what} could not run: {reason} ({REQUIRE_VAR}=1 forbids skipping)");
    }
    // Not `eprintln!`: libtest captures that and shows it only for failing tests.
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}: {reason}");
}

/// The `shared` directory, or `None` after reporting that `what` was skipped.
pub fn shared_dir(what: &str) -> Option<PathBuf> {
    let dir = shared_path();
    if dir.is_dir() {
        return Some(dir);
    }
    skipped(
        what,
        &format!("{} not found (set {DIR_VAR})", dir.display()),
    );
    None
}

/// A file or directory under `shared`, or `None` after reporting that `what` was
/// skipped (because `shared` or the file is missing).
pub fn shared_file(what: &str, relative: &str) -> Option<PathBuf> {
    let dir = shared_dir(what)?;
    let path = dir.join(relative);
    if path.exists() {
        return Some(path);
    }
    skipped(what, &format!("{} not found", path.display()));
    None
}
