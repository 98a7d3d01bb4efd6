#!/usr/bin/env bash
# Runs every cargo-fuzz target under fuzz/ for a bounded time and summarizes the runs.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 60; TARGET defaults to every target in
# fuzz/fuzz_targets/. Installs cargo-fuzz when it is missing. The stable toolchain runs
# cargo-fuzz's nightly flags with RUSTC_BOOTSTRAP=1. FUZZ_SANITIZER picks the sanitizer
# (address by default; `none` builds faster and runs about twice as fast).
#
# Corpora grow in fuzz/corpus/<target>/ (seeded from fuzz/seeds/<target>/ when present),
# crashing inputs land in fuzz/artifacts/<target>/, full logs in fuzz/logs/<target>.log.
# Exits non-zero when any target crashed, timed out, leaked or ran out of memory.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

SECONDS_PER_TARGET="${1:-60}"
if [ "$#" -gt 0 ]; then shift; fi
if [ "$#" -gt 0 ]; then
    TARGETS=("$@")
else
    TARGETS=()
    for f in fuzz_targets/*.rs; do TARGETS+=("$(basename "$f" .rs)"); done
fi
SANITIZER="${FUZZ_SANITIZER:-address}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

echo "== building the fuzz targets (sanitizer: $SANITIZER)"
cargo fuzz build --sanitizer "$SANITIZER"

mkdir -p logs
failed=0
summary=()
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    dirs=("corpus/$t")
    if [ -d "seeds/$t" ]; then dirs+=("seeds/$t"); fi
    extra=()
    case "$t" in
        # Structure-aware targets: whole-size inputs from the start.
        server_frames | codegen_normalize) extra=(-len_control=0 -max_len=4096) ;;
    esac
    before=$(find "artifacts/$t" -type f | wc -l)
    echo "== $t: ${SECONDS_PER_TARGET}s"
    set +e
    cargo fuzz run --sanitizer "$SANITIZER" "$t" "${dirs[@]}" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" "${extra[@]}" \
        >"logs/$t.log" 2>&1
    rc=$?
    set -e
    after=$(find "artifacts/$t" -type f | wc -l)
    runs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "logs/$t.log" | tail -n 1 | awk '{print $2 " execs in " $5 " s"}')
    stats=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+' || true)
    crashes=$((after - before))
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        failed=1
        status="FAILED (exit $rc, $crashes new artifact(s) in fuzz/artifacts/$t/, log fuzz/logs/$t.log)"
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY' "logs/$t.log" | head -n 5 || true
    else
        status="ok, 0 crashes"
    fi
    line="$t: ${runs:-no run} | ${stats:-no stats} | $status"
    echo "$line"
    summary+=("$line")
done

echo "== summary (${SECONDS_PER_TARGET}s per target, sanitizer $SANITIZER)"
printf '%s\n' "${summary[@]}"
exit "$failed"
