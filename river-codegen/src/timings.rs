//! Phase timings on stderr when `RIVER_CODEGEN_TIMINGS` is set: where generation time
//! goes on a large schema (see BENCHMARKS.md, "Code generation at scale").

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("RIVER_CODEGEN_TIMINGS").is_some())
}

/// Runs `f`, printing `river-codegen: {name}: {ms} ms` when timings are on.
pub(crate) fn phase<T>(name: &str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let out = f();
    eprintln!(
        "river-codegen: {name}: {:.0} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    out
}

/// Prints the time since `start` for `name` when timings are on (for phases that do not
/// fit in a closure).
pub(crate) fn report(name: &str, start: Instant) {
    if enabled() {
        eprintln!(
            "river-codegen: {name}: {:.0} ms",
            start.elapsed().as_secs_f64() * 1000.0
        );
    }
}
