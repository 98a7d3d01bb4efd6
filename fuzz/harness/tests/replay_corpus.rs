//! Replays every committed fuzz input (`fuzz/corpus/<target>/` and `fuzz/seeds/<target>/`)
//! through the entry points the cargo-fuzz binaries call, on the stable toolchain.
//!
//! A panic anywhere, including in a task the server spawned (which libFuzzer turns into a
//! crash with its panic hook), fails the test and names the input file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use river_fuzz_harness::targets;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn inputs(target: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["corpus", "seeds"] {
        let dir = fuzz_dir().join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a readable corpus directory").path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Panics seen since the hook was installed, with their messages.
struct PanicLog {
    count: AtomicUsize,
    messages: Mutex<Vec<String>>,
}

fn install_panic_log() -> Arc<PanicLog> {
    let log = Arc::new(PanicLog {
        count: AtomicUsize::new(0),
        messages: Mutex::new(Vec::new()),
    });
    let seen = log.clone();
    std::panic::set_hook(Box::new(move |info| {
        seen.count.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut m) = seen.messages.lock() {
            m.push(info.to_string());
        }
    }));
    log
}

fn replay(target: &str, entry: fn(&[u8]) -> bool, log: &PanicLog) -> (usize, usize) {
    let files = inputs(target);
    assert!(
        !files.is_empty(),
        "no corpus for fuzz target {target} under {}",
        fuzz_dir().display()
    );
    let mut accepted = 0;
    for file in &files {
        let data = std::fs::read(file).expect("a readable corpus file");
        let before = log.count.load(Ordering::SeqCst);
        let result = std::panic::catch_unwind(|| entry(&data));
        let after = log.count.load(Ordering::SeqCst);
        if result.is_err() || after != before {
            let messages = log
                .messages
                .lock()
                .map(|m| m.join("\n"))
                .unwrap_or_default();
            panic!(
                "fuzz target {target} panicked on {}:\n{messages}",
                file.display()
            );
        }
        if matches!(result, Ok(true)) {
            accepted += 1;
        }
    }
    (files.len(), accepted)
}

#[test]
fn every_corpus_file_replays_without_a_panic() {
    let log = install_panic_log();
    for (target, entry) in targets::ALL {
        let (files, accepted) = replay(target, entry, &log);
        eprintln!("{target}: replayed {files} inputs ({accepted} formed an input)");
        assert!(accepted > 0, "{target}: no corpus file formed an input");
    }
}

#[test]
fn every_target_has_a_cargo_fuzz_binary() {
    for (target, _) in targets::ALL {
        let file = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            text.contains(&format!("river_fuzz_harness::targets::{target}(data)")),
            "{} does not call targets::{target}",
            file.display()
        );
    }
}
