//! `river-codegen generate SCHEMA --crate DIR`, end to end through the binary.
//!
//! - `every_schema_makes_a_crate_that_builds_documents_and_tests`: for every schema in
//!   `schemas/` and `../shared/schemas/**`, the generated crate builds with
//!   `RUSTFLAGS=-D warnings` with default features and with `--features server`, its
//!   doctests pass and `cargo doc` passes with `RUSTDOCFLAGS=-D warnings`. All crates
//!   go into one scratch workspace (`target/codegen-tests/crates`), so that each cargo
//!   step runs once for all of them. A schema the generator rejects is skipped with its
//!   diagnostic printed (the rejection itself is tested in `cli.rs`). For each one,
//!   regenerating changes no mtime and `--check` passes, fails after an edit of
//!   `src/lib.rs`, and passes after regenerating.
//!   With `--service-crates`, two schemas of several services make crates whose parts
//!   build, document and test in the same workspace, and one service builds alone.
//! - `regenerating_keeps_mtimes_and_check_finds_drift`: writing again changes no mtime;
//!   `--check` passes, then fails naming the file after an edit or a deletion.
//! - `foreign_directories_are_refused_unless_forced`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../../river-runtime/tests/shared_support/mod.rs"]
mod shared_support;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace().join("target"),
    }
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn codegen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_river-codegen"))
        .args(args)
        .output()
        .expect("run river-codegen")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Runs cargo in `dir` with the given flags; panics with its output on failure, else
/// returns its stdout.
fn cargo(dir: &Path, args: &[&str], what: &str) -> String {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env("RUSTFLAGS", "-D warnings")
        .env("RUSTDOCFLAGS", "-D warnings")
        .output()
        .expect("run cargo");
    assert!(out.status.success(), "{what} failed:\n{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_schema_makes_a_crate_that_builds_documents_and_tests() {
    let mut schemas = Vec::new();
    json_files(&workspace().join("schemas"), &mut schemas);
    if let Some(shared) = shared_support::shared_file("the crates of ../shared/schemas", "schemas")
    {
        json_files(&shared, &mut schemas);
    }
    assert!(!schemas.is_empty());
    let root = target_dir().join("codegen-tests/crates");
    std::fs::create_dir_all(&root).expect("scratch dir");
    let runtime = workspace().join("river-runtime");
    let mut members = Vec::new();
    for (i, schema) in schemas.iter().enumerate() {
        let name = format!("gen{i:02}");
        let dir = root.join(&name);
        let out = codegen(&[
            "generate",
            path_str(schema),
            "--crate",
            path_str(&dir),
            "--name",
            &name,
            "--runtime-path",
            path_str(&runtime),
        ]);
        if !out.status.success() {
            eprintln!("skipping {}: {}", schema.display(), text(&out).trim());
            continue;
        }
        check_regeneration(schema, &dir, &name, &runtime);
        members.push(format!("\"{name}\""));
    }
    assert!(!members.is_empty());
    // Crates of types per service (`--service-crates`) for the schemas of several
    // services; their `parts/*` crates join the workspace as path dependencies.
    for (name, schema) in [
        ("svc_example", "example.json"),
        ("svc_chat", "chat-app.json"),
    ] {
        let schema = workspace().join("schemas").join(schema);
        let dir = root.join(name);
        let out = codegen(&[
            "generate",
            path_str(&schema),
            "--crate",
            path_str(&dir),
            "--name",
            &name.replace('_', "-"),
            "--runtime-path",
            path_str(&runtime),
            "--service-crates",
        ]);
        assert!(out.status.success(), "{}", text(&out));
        let parts: Vec<String> = std::fs::read_dir(dir.join("parts"))
            .expect("parts/")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            parts.len() >= 3 && parts.iter().any(|p| p == "types"),
            "{name}: parts {parts:?}"
        );
        members.push(format!("\"{name}\""));
    }
    let manifest = format!(
        "# Scratch workspace of generated crates (river-codegen tests/crates.rs).\n\
         [workspace]\nresolver = \"2\"\nmembers = [{}]\n",
        members.join(", ")
    );
    std::fs::write(root.join("Cargo.toml"), manifest).expect("write workspace manifest");
    cargo(&root, &["build", "--workspace"], "build (default features)");
    cargo(
        &root,
        &["build", "--workspace", "--features", "server"],
        "build --features server",
    );
    // One service alone: the others' crates are not built, and nothing warns.
    cargo(
        &root,
        &[
            "build",
            "-p",
            "svc-example",
            "--no-default-features",
            "--features",
            "client,server,service-math",
        ],
        "build of one service (--service-crates)",
    );
    let tree = cargo(
        &root,
        &[
            "tree",
            "-p",
            "svc-example",
            "-e",
            "normal",
            "--no-default-features",
            "--features",
            "client,service-math",
        ],
        "cargo tree of one service",
    );
    assert!(
        tree.contains("svc-example-math") && tree.contains("svc-example-types"),
        "{tree}"
    );
    assert!(!tree.contains("svc-example-ticker"), "{tree}");
    cargo(&root, &["test", "--workspace", "--doc"], "doctests");
    cargo(
        &root,
        &["doc", "--workspace", "--no-deps", "--all-features"],
        "cargo doc",
    );
}

/// Regenerating changes no mtime; `--check` passes, fails after an edit, and passes
/// again once regenerated.
fn check_regeneration(schema: &Path, dir: &Path, name: &str, runtime: &Path) {
    let args = |check: bool| {
        let mut a = vec![
            "generate",
            path_str(schema),
            "--crate",
            path_str(dir),
            "--name",
            name,
            "--runtime-path",
            path_str(runtime),
        ];
        if check {
            a.push("--check");
        }
        codegen(&a)
    };
    let before = mtimes(dir);
    let out = args(false);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        mtimes(dir),
        before,
        "{}: regenerating rewrote files",
        schema.display()
    );
    let out = args(true);
    assert!(out.status.success(), "{}: {}", schema.display(), text(&out));
    let lib = dir.join("src/lib.rs");
    let original = std::fs::read_to_string(&lib).expect("lib.rs");
    std::fs::write(
        &lib,
        original.replacen("pub mod types", "pub mod  types", 1),
    )
    .expect("edit");
    let out = args(true);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}: {}",
        schema.display(),
        text(&out)
    );
    assert!(text(&out).contains("lib.rs: differs"), "{}", text(&out));
    let out = args(false);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&lib).expect("lib.rs"), original);
}

fn mtimes(dir: &Path) -> Vec<(PathBuf, std::time::SystemTime)> {
    ["Cargo.toml", "README.md", "schema.json", "src/lib.rs"]
        .iter()
        .map(|f| {
            let p = dir.join(f);
            let m = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, m)
        })
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = target_dir().join("codegen-tests/crate-dirs").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn regenerating_keeps_mtimes_and_check_finds_drift() {
    let schema = workspace().join("schemas/example.json");
    let dir = scratch("drift");
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "generate".to_string(),
            path_str(&schema).to_string(),
            "--crate".to_string(),
            path_str(&dir).to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&'static str]| {
        let a = args(extra);
        codegen(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = run(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("4 of 4 files written"),
        "{}",
        text(&out)
    );
    let cargo_toml = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
    assert!(cargo_toml.starts_with("# @generated by river-codegen"));
    assert!(cargo_toml.contains("name = \"example\""), "{cargo_toml}");
    assert!(
        cargo_toml.contains(&format!(
            "river-runtime = {{ version = \"{}\" }}",
            env!("CARGO_PKG_VERSION")
        )),
        "{cargo_toml}"
    );
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
    assert!(lib.starts_with("// @generated"));
    assert!(lib.contains("pub const SCHEMA_JSON: &str = ::std::include_str!(\"../schema.json\");"));
    assert_eq!(
        std::fs::read(dir.join("schema.json")).expect("schema.json"),
        std::fs::read(&schema).expect("schema")
    );

    let before = mtimes(&dir);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = run(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("0 of 4 files written (4 unchanged)"),
        "{}",
        text(&out)
    );
    assert_eq!(mtimes(&dir), before, "regenerating rewrote unchanged files");

    let out = run(&["--check"]);
    assert!(out.status.success(), "{}", text(&out));

    let lib_path = dir.join("src/lib.rs");
    std::fs::write(&lib_path, format!("{lib}// edited\n")).expect("edit");
    std::fs::remove_file(dir.join("README.md")).expect("delete");
    let out = run(&["--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains("lib.rs: differs"), "{msg}");
    assert!(msg.contains("README.md: missing"), "{msg}");
    assert!(!msg.contains("Cargo.toml"), "{msg}");

    // A different version is drift too, and writing repairs everything.
    let out = run(&["--version", "1.2.3", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = run(&[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(run(&["--check"]).status.success());
}

#[test]
fn foreign_directories_are_refused_unless_forced() {
    let schema = workspace().join("schemas/example.json");
    let dir = scratch("foreign");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"mine\"\n").expect("write");
    let base = ["generate", path_str(&schema), "--crate", path_str(&dir)];
    let out = codegen(&base);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--force"), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(dir.join("Cargo.toml")).expect("read"),
        "[package]\nname = \"mine\"\n",
        "a refused write must not touch the directory"
    );
    assert!(!dir.join("src").exists());

    let mut forced = base.to_vec();
    forced.push("--force");
    let out = codegen(&forced);
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.join("src/lib.rs").is_file());

    // Bad settings are reported, not panicked on.
    let mut bad = base.to_vec();
    bad.extend(["--name", "9lives"]);
    let out = codegen(&bad);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("starts with a digit"), "{}", text(&out));
    let mut bad = base.to_vec();
    bad.extend(["--version", "one"]);
    let out = codegen(&bad);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("X.Y.Z"), "{}", text(&out));
}
