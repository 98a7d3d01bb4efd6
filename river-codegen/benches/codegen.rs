//! Codegen end to end: `schemas/interop.json` (106 KB) to the formatted Rust file
//! (parse, normalize, typify, client and server modules, prettyplease), as
//! `river-codegen generate` and the build-script API run it.

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn codegen(c: &mut Criterion) {
    let schemas = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas");
    let mut g = c.benchmark_group("codegen");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for name in ["interop", "example"] {
        let json = std::fs::read_to_string(format!("{schemas}/{name}.json")).expect("schema");
        g.throughput(Throughput::Bytes(json.len() as u64));
        g.bench_function(format!("generate {name}.json (client + server)"), |b| {
            b.iter(|| {
                river_codegen::generate(black_box(&json), &river_codegen::Options::default())
                    .expect("generate")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, codegen);
criterion_main!(benches);
