#!/usr/bin/env bash
# Runs cargo-fuzz targets under fuzz/ for a bounded time, minimizes what they found into
# the committed corpora and summarizes the runs.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 60; TARGET defaults to every target in
# fuzz/fuzz_targets/. Installs cargo-fuzz when it is missing. The stable toolchain runs
# cargo-fuzz's nightly flags with RUSTC_BOOTSTRAP=1.
#
# Environment:
#   FUZZ_SANITIZER  address (default) or none (builds faster, runs about twice as fast)
#   FUZZ_PARALLEL=1 run the targets at the same time (each under `nice`), not in turn
#   FUZZ_NO_MERGE=1 leave fuzz/corpus/ alone
#
# Each run starts from fuzz/corpus/<target>/ (committed, minimized) and
# fuzz/seeds/<target>/ and grows its working corpus in fuzz/work/<target>/. Afterwards
# libFuzzer's -merge=1 rewrites fuzz/corpus/<target>/ as the smallest set of inputs with
# the edge coverage of all of them; `cargo test -p river-fuzz-harness` replays that set.
# Crashing inputs land in fuzz/artifacts/<target>/, full logs in fuzz/logs/<target>.log.
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

extra_flags() {
    case "$1" in
        # Structure-aware targets: whole-size inputs from the start.
        server_frames | codegen_normalize) echo "-len_control=0 -max_len=4096" ;;
        *) echo "" ;;
    esac
}

# Flags for the fuzzing run only (not the merge). The generator target runs in fork mode:
# a slow input is often inside `malloc`, where libFuzzer's own timeout and out-of-memory
# handlers hang the process without writing the input; a forked worker is killed from
# outside instead, its input written to artifacts/ and the run goes on (and still fails
# this script at the end, since the artifact count grew).
run_flags() {
    case "$1" in
        codegen_normalize) echo "-fork=1 -ignore_timeouts=1 -ignore_ooms=1" ;;
        *) echo "" ;;
    esac
}

# Runs one target; its exit code is libFuzzer's.
run_one() {
    local t="$1"
    mkdir -p "corpus/$t" "work/$t" "artifacts/$t"
    local dirs=("work/$t" "corpus/$t")
    if [ -d "seeds/$t" ]; then dirs+=("seeds/$t"); fi
    # shellcheck disable=SC2046
    cargo fuzz run --sanitizer "$SANITIZER" "$t" "${dirs[@]}" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=4096 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" $(extra_flags "$t") $(run_flags "$t") \
        >"logs/$t.log" 2>&1
}

mkdir -p logs
declare -A before rc
for t in "${TARGETS[@]}"; do
    mkdir -p "artifacts/$t"
    before[$t]=$(find "artifacts/$t" -type f | wc -l)
done

if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
    declare -A pid
    for t in "${TARGETS[@]}"; do
        echo "== $t: ${SECONDS_PER_TARGET}s (in parallel)"
        (nice -n 19 bash -c "$(declare -f run_one extra_flags run_flags); SANITIZER=$SANITIZER SECONDS_PER_TARGET=$SECONDS_PER_TARGET run_one $t") &
        pid[$t]=$!
    done
    for t in "${TARGETS[@]}"; do
        set +e; wait "${pid[$t]}"; rc[$t]=$?; set -e
    done
else
    for t in "${TARGETS[@]}"; do
        echo "== $t: ${SECONDS_PER_TARGET}s"
        set +e; run_one "$t"; rc[$t]=$?; set -e
    done
fi

failed=0
summary=()
for t in "${TARGETS[@]}"; do
    log="logs/$t.log"
    after=$(find "artifacts/$t" -type f | wc -l)
    runs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 | awk '{print $2 " execs in " $5 " s"}' || true)
    if [ -z "$runs" ]; then
        # Fork mode: "#<execs>: cov: … time: <seconds>s job: …"
        runs=$(grep -E '^#[0-9]+: cov' "$log" | tail -n 1 | sed -E 's/^#([0-9]+):.* time: ([0-9]+)s.*/\1 execs in \2 s/' || true)
    fi
    stats=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+(/[0-9a-zA-Z]+)?' || true)
    crashes=$((after - ${before[$t]}))
    if [ "${rc[$t]}" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        failed=1
        status="FAILED (exit ${rc[$t]}, $crashes new artifact(s) in fuzz/artifacts/$t/, log fuzz/logs/$t.log)"
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -n 5 || true
    else
        status="ok, 0 crashes"
    fi
    if [ "${FUZZ_NO_MERGE:-0}" != 1 ]; then
        rm -rf "merged/$t" && mkdir -p "merged/$t"
        dirs=("work/$t" "corpus/$t")
        if [ -d "seeds/$t" ]; then dirs+=("seeds/$t"); fi
        # -use_counters=0: keep the inputs that reach new edges, not every new hit count,
        # so the committed corpus stays small enough to replay in every `cargo test`.
        cargo fuzz run --sanitizer "$SANITIZER" "$t" "merged/$t" "${dirs[@]}" -- \
            -merge=1 -use_counters=0 -use_value_profile=0 -timeout=20 -rss_limit_mb=4096 \
            $(extra_flags "$t") >"logs/$t.merge.log" 2>&1
        rm -rf "corpus/$t" && mv "merged/$t" "corpus/$t" && rmdir merged 2>/dev/null || true
        status="$status, corpus $(find "corpus/$t" -type f | wc -l) files"
    fi
    line="$t: ${runs:-no run} | ${stats:-no stats} | $status"
    echo "$line"
    summary+=("$line")
done

echo "== summary (${SECONDS_PER_TARGET}s per target, sanitizer $SANITIZER)"
printf '%s\n' "${summary[@]}"
exit "$failed"
