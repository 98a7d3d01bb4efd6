#!/usr/bin/env bash
# Code generation at scale: writes the synthetic schema (`river-codegen synth`, default
# 40 services × 25 procedures, seed 1), generates a crate from it, and builds that crate
# (dev profile, default features) with its dependencies built beforehand, so that the
# figure is the generated code's own build. Prints one line per figure: generation wall
# time and peak memory, generated lines, build wall time, CPU time, the peak memory of
# the largest rustc and of all rustc processes at once.
#
#   scripts/codegen-scale.sh                   # one crate (modules per service)
#   scripts/codegen-scale.sh --service-crates  # a crate of types per service
#   SERVICES=10 PROCEDURES=10 scripts/codegen-scale.sh
#   TIMINGS=1 scripts/codegen-scale.sh         # also `cargo build --timings` (HTML report)
#
# Needs GNU time (/usr/bin/time). Everything goes under target/codegen-scale/.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVICES="${SERVICES:-40}"
PROCEDURES="${PROCEDURES:-25}"
SEED="${SEED:-1}"
mode_flag="${1:-}"
if [[ -n "$mode_flag" && "$mode_flag" != "--service-crates" ]]; then
    echo "usage: $0 [--service-crates]" >&2
    exit 2
fi
mode="${mode_flag:+service-crates}"
mode="${mode:-one-crate}"
if [[ ! -x /usr/bin/time ]]; then
    echo "error: GNU time (/usr/bin/time) is needed for the memory figures" >&2
    exit 1
fi

root="$PWD/target/codegen-scale"
schema="$root/synth-${SERVICES}x${PROCEDURES}.json"
crate="$root/$mode"
mkdir -p "$root"

cargo build -q --release -p river-codegen
codegen="$PWD/target/release/river-codegen"
"$codegen" synth --services "$SERVICES" --procedures "$PROCEDURES" --seed "$SEED" --out "$schema" 2>/dev/null

rm -rf "$crate"
# A workspace of its own (the crate sits under this repository's target/).
printf '# scripts/codegen-scale.sh\n[workspace]\nresolver = "2"\nmembers = ["%s"]\n' "$mode" > "$root/Cargo.toml"
/usr/bin/time -f "%e %M" -o "$root/gen.time" \
    "$codegen" generate "$schema" --crate "$crate" --name synth-api \
    --runtime-path river-runtime $mode_flag 2>/dev/null
read -r gen_s gen_kb < "$root/gen.time"
lines=$(find "$crate" -name '*.rs' -exec cat {} + | wc -l)
rs_files=$(find "$crate" -name '*.rs' | wc -l)

# Dependencies first (river-runtime and everything under it), then the crate alone.
export CARGO_TARGET_DIR="$root/target-$mode"
(cd "$crate" && cargo build -q -p river-runtime)
# Nothing of an earlier run of the generated packages (incremental caches included).
packages=(-p synth-api)
if [[ -d "$crate/parts" ]]; then
    for part in "$crate"/parts/*/; do
        packages+=(-p "synth-api-$(basename "$part" | tr _ -)")
    done
fi
(cd "$crate" && cargo clean -q "${packages[@]}" 2>/dev/null || true)
timings=()
if [[ -n "${TIMINGS:-}" ]]; then timings=(--timings); fi
# The memory of all rustc processes together, sampled every 0.2 s (cargo runs one per
# core): what the machine needs, as opposed to the largest single rustc.
sample_rustc() {
    local peak=0 now
    while [[ -e "$root/building" ]]; do
        now=$( (ps -C rustc -o rss= 2>/dev/null || true) | awk '{s += $1} END {print s + 0}')
        (( now > peak )) && peak=$now
        sleep 0.2
    done
    echo "$peak" > "$root/rustc.peak"
}
touch "$root/building"
sample_rustc &
sampler=$!
(cd "$crate" && /usr/bin/time -f "%e %U %S %M" -o "$root/build.time" cargo build -q "${timings[@]}")
rm -f "$root/building"
wait "$sampler" || true
read -r build_s build_user build_sys build_kb < "$root/build.time"
total_kb=$(cat "$root/rustc.peak")

schema_kb=$(( $(wc -c < "$schema") / 1024 ))
printf 'mode                      %s\n' "$mode"
printf 'schema                    %s services x %s procedures, %s KiB\n' "$SERVICES" "$PROCEDURES" "$schema_kb"
printf 'generate: wall            %s s\n' "$gen_s"
printf 'generate: peak memory     %s MiB\n' "$(( gen_kb / 1024 ))"
printf 'generated lines           %s (%s .rs files)\n' "$lines" "$rs_files"
printf 'cargo build: wall         %s s\n' "$build_s"
printf 'cargo build: cpu          %s s\n' "$(awk -v u="$build_user" -v s="$build_sys" 'BEGIN {print u + s}')"
printf 'cargo build: peak rustc   %s MiB (largest single process)\n' "$(( build_kb / 1024 ))"
printf 'cargo build: peak total   %s MiB (all rustc at once, sampled)\n' "$(( total_kb / 1024 ))"
if [[ -n "${TIMINGS:-}" ]]; then
    echo "timings report: $(ls -t "$crate"/target/cargo-timings/*.html "$CARGO_TARGET_DIR"/cargo-timings/*.html 2>/dev/null | head -1)"
fi
