//! Codegen end to end, from schema JSON to the formatted Rust file (parse, normalize,
//! typify, client and server modules, prettyplease), as `river-codegen generate` and
//! the build-script API run it: `schemas/interop.json` (106 KB), `schemas/example.json`
//! and the synthetic 40 services × 25 procedures schema of `river-codegen synth`.
//!
//! `cargo bench -p river-codegen --bench codegen` prints the median of a few runs per
//! schema. A plain harness (no criterion): the figures are seconds, not nanoseconds,
//! and the library's dev-dependencies stay free of clap. `scripts/codegen-scale.sh`
//! adds the generator's peak memory and the `cargo build` of the generated crate.

use std::time::{Duration, Instant};

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time(rounds: usize, json: &str) -> (Duration, usize) {
    let mut lines = 0;
    let runs = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            let code = river_codegen::generate(std::hint::black_box(json), &Default::default())
                .expect("the schema generates");
            let took = start.elapsed();
            lines = code.lines().count();
            took
        })
        .collect();
    (median(runs), lines)
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: one quick round only.
    let quick = !std::env::args().any(|a| a == "--bench");
    let schemas = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas");
    println!(
        "{:<44} {:>10} {:>9} {:>8}",
        "schema", "KB", "median", "lines"
    );
    for name in ["interop", "example"] {
        let json = std::fs::read_to_string(format!("{schemas}/{name}.json")).expect("schema");
        let (t, lines) = time(if quick { 1 } else { 20 }, &json);
        println!(
            "{:<44} {:>10} {:>7.1}ms {:>8}",
            format!("schemas/{name}.json"),
            json.len() / 1000,
            t.as_secs_f64() * 1e3,
            lines
        );
    }
    let (services, procedures) = if quick { (2, 3) } else { (40, 25) };
    let options = river_codegen::synth::SynthOptions::default()
        .services(services)
        .procedures(procedures)
        .seed(1);
    let json = river_codegen::synth::synthesize(&options);
    let (t, lines) = time(if quick { 1 } else { 3 }, &json);
    println!(
        "{:<44} {:>10} {:>8.2}s {:>8}",
        format!("synth {services} × {procedures} (seed 1)"),
        json.len() / 1000,
        t.as_secs_f64(),
        lines
    );
}
