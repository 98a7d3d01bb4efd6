#!/usr/bin/env bash
# Interop step: builds interop-server and interop-client (release), then for each codec
# starts a plain server and a handshake-variant server, runs the conformance runner
# against them, and runs the Python reference client check against the msgpack server.
# Then, per codec, the same runner suite over wss:// (certificates from `test-certs`)
# against servers that require an `Authorization` header on the upgrade: it must pass
# the same number of scenarios as over ws://, and a run without the header must fail
# fast (under 10 s) naming HTTP 401. Last, river-bench runs with --url and --compare
# against two interop-servers.
# Every server must stop cleanly (exit 0) on SIGTERM. Exits non-zero on any failure.
#
#   scripts/interop.sh            # everything
#   CODECS=json scripts/interop.sh
#   SKIP_PYTHON=1 scripts/interop.sh
set -uo pipefail
cd "$(dirname "$0")/.."

start_time=$SECONDS
CODECS="${CODECS:-json msgpack}"
tmp="$(mktemp -d)"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

# The dev profile reuses the dependencies `cargo test --workspace` already built, which
# is much faster overall than a release build; PROFILE=release builds optimized.
PROFILE="${PROFILE:-dev}"
target_dir="$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
target_dir="${target_dir:-target}"
if [[ "$PROFILE" == release ]]; then bin_dir="$target_dir/release"; else bin_dir="$target_dir/debug"; fi
echo "== interop: building interop-server, interop-client (with --otel) and test-certs ($PROFILE)"
cargo build --profile "$PROFILE" -p interop-server -p interop-client -p test-certs \
  --features interop-server/otel,interop-client/otel || exit 1
SERVER="$bin_dir/interop-server"
CLIENT="$bin_dir/interop-client"

# A private CA and a certificate for localhost / 127.0.0.1 / ::1, for the wss:// runs.
certs="$tmp/certs"
"$bin_dir/test-certs" --out "$certs" >/dev/null || exit 1
TOKEN_HEADER="Authorization: Bearer interop-token"
TLS_SERVER_ARGS=(--tls-cert "$certs/cert.pem" --tls-key "$certs/key.pem"
  --require-header "$TOKEN_HEADER")

failures=0
summary=()

# start_server NAME ARGS... : sets SERVER_PID and SERVER_PORT.
start_server() {
  local name="$1"
  shift
  : >"$tmp/$name.out"
  "$SERVER" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  SERVER_PORT=""
  local i
  for i in $(seq 1 100); do
    SERVER_PORT="$(awk '/^LISTENING /{print $2; exit}' "$tmp/$name.out" 2>/dev/null)"
    [[ -n "$SERVER_PORT" ]] && return 0
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "interop-server $* exited before listening:" >&2
      cat "$tmp/$name.err" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "interop-server $* did not print LISTENING within 10 s" >&2
  return 1
}

# stop_server PID NAME: SIGTERM, then require exit status 0 within 10 s.
stop_server() {
  local pid="$1" name="$2" i
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "FAIL $name: did not stop within 10 s of SIGTERM" >&2
    kill -KILL "$pid" 2>/dev/null
    failures=$((failures + 1))
    return
  fi
  wait "$pid"
  local rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "FAIL $name: exit status $rc after SIGTERM" >&2
    tail -5 "$tmp/$name.err" >&2
    failures=$((failures + 1))
  fi
}

for codec in $CODECS; do
  echo "== interop: $codec (interop-server --codec $codec, and --handshake)"
  start_server "plain-$codec" --codec "$codec" || exit 1
  plain_pid=$SERVER_PID plain_port=$SERVER_PORT
  start_server "hs-$codec" --codec "$codec" --handshake || exit 1
  hs_pid=$SERVER_PID hs_port=$SERVER_PORT

  "$CLIENT" --codec "$codec" --url "ws://127.0.0.1:$plain_port" \
    --hs-url "ws://127.0.0.1:$hs_port" | tee "$tmp/runner-$codec.log"
  rc=${PIPESTATUS[0]}
  [[ $rc -ne 0 ]] && failures=$((failures + 1))
  summary+=("runner $codec: $(tail -1 "$tmp/runner-$codec.log")")

  if [[ "$codec" == msgpack && -z "${SKIP_PYTHON:-}" ]]; then
    echo "== interop: Python reference client (replit-river 0.17.11, msgpack)"
    scripts/python-interop.sh "ws://127.0.0.1:$plain_port" | tee "$tmp/python.log"
    rc=${PIPESTATUS[0]}
    [[ $rc -ne 0 ]] && failures=$((failures + 1))
    summary+=("python msgpack: $(tail -1 "$tmp/python.log")")
  fi

  stop_server "$plain_pid" "interop-server --codec $codec"
  stop_server "$hs_pid" "interop-server --codec $codec --handshake"

  echo "== interop: $codec over wss:// with a required Authorization header"
  start_server "tls-plain-$codec" --codec "$codec" "${TLS_SERVER_ARGS[@]}" || exit 1
  plain_pid=$SERVER_PID plain_port=$SERVER_PORT
  start_server "tls-hs-$codec" --codec "$codec" --handshake "${TLS_SERVER_ARGS[@]}" || exit 1
  hs_pid=$SERVER_PID hs_port=$SERVER_PORT
  tls_args=(--codec "$codec" --url "wss://127.0.0.1:$plain_port"
    --hs-url "wss://127.0.0.1:$hs_port" --ca "$certs/ca.pem")

  "$CLIENT" "${tls_args[@]}" --header "$TOKEN_HEADER" | tee "$tmp/runner-tls-$codec.log"
  rc=${PIPESTATUS[0]}
  # The same scenarios as over ws://, all passing.
  ws_passed="$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p' "$tmp/runner-$codec.log")"
  tls_line="$(tail -1 "$tmp/runner-tls-$codec.log")"
  if [[ $rc -ne 0 || -z "$ws_passed" || "$tls_line" != "$ws_passed passed, 0 failed" ]]; then
    echo "FAIL runner $codec over wss://: \"$tls_line\" (exit $rc), expected \"${ws_passed:-?} passed, 0 failed\" as over ws://" >&2
    failures=$((failures + 1))
  fi
  summary+=("runner $codec (wss://, Authorization): $tls_line")

  # Without the header the server answers the upgrade with 401: the runner must stop
  # at once and say so.
  t0=$(date +%s%N)
  timeout 30 "$CLIENT" "${tls_args[@]}" --only rpc >"$tmp/runner-noauth-$codec.log" 2>&1
  rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  noauth_line="$(grep -m1 '401' "$tmp/runner-noauth-$codec.log")"
  if [[ $rc -eq 0 || $ms -ge 10000 || -z "$noauth_line" ]]; then
    echo "FAIL runner $codec over wss:// without credentials: exit $rc after $ms ms, expected a quick failure naming 401:" >&2
    cat "$tmp/runner-noauth-$codec.log" >&2
    failures=$((failures + 1))
    noauth_line="$(tail -1 "$tmp/runner-noauth-$codec.log")"
  fi
  summary+=("runner $codec (wss://, no credentials): exit $rc after $ms ms: $noauth_line")

  stop_server "$plain_pid" "interop-server --codec $codec --tls-cert"
  stop_server "$hs_pid" "interop-server --codec $codec --handshake --tls-cert"
done

# Trace propagation between the two processes: both sides run an OpenTelemetry SDK; every
# call the runner makes must reach the server as a continuation of the client's trace.
echo "== interop: msgpack with --otel on both sides"
start_server "otel" --codec msgpack --otel || exit 1
otel_pid=$SERVER_PID otel_port=$SERVER_PORT
"$CLIENT" --codec msgpack --otel --url "ws://127.0.0.1:$otel_port" \
  >"$tmp/runner-otel.log" 2>"$tmp/runner-otel.err"
rc=$?
stop_server "$otel_pid" "interop-server --otel"
otel_client="$(grep -o 'otel: .*' "$tmp/runner-otel.err" | tail -1)"
otel_server="$(grep -o 'otel: .*' "$tmp/otel.err" | tail -1)"
continued="$(sed -n 's/.*server spans, \([0-9]*\) continued a remote trace/\1/p' <<<"$otel_server")"
otel_line="$(tail -1 "$tmp/runner-otel.log")"
if [[ $rc -ne 0 || -z "$continued" || "$continued" -eq 0 ]]; then
  echo "FAIL runner msgpack --otel: \"$otel_line\" (exit $rc); client \"$otel_client\"; server \"$otel_server\"" >&2
  failures=$((failures + 1))
fi
summary+=("runner msgpack --otel: $otel_line; client $otel_client; server $otel_server")

# river-bench against servers it did not spawn: --url and --compare on two interop-servers
# (whose test.add keeps a running total), with a small scale scenario. A functional
# check (debug build, tiny counts): the figures themselves mean nothing here.
echo "== interop: river-bench --url / --compare against interop-server (msgpack)"
cargo build --profile "$PROFILE" -p river-bench || exit 1
start_server "bench-a" --codec msgpack || exit 1
bench_a_pid=$SERVER_PID bench_a_port=$SERVER_PORT
start_server "bench-b" --codec msgpack || exit 1
bench_b_pid=$SERVER_PID bench_b_port=$SERVER_PORT
"$bin_dir/river-bench" --json --quick --codec msgpack --skip-bare \
  --url "ws://127.0.0.1:$bench_a_port" --compare "ws://127.0.0.1:$bench_b_port" \
  --only seq,concurrent,echo,upload,scale --calls 200 --seconds 0.5 --messages 2000 \
  --scale-idle 200 --scale-active 10 --count-allocs >"$tmp/bench.json" 2>"$tmp/bench.err"
rc=$?
stop_server "$bench_a_pid" "interop-server (bench a)"
stop_server "$bench_b_pid" "interop-server (bench b)"
bench_line="$(python3 - "$tmp/bench.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
need = [("river", "seq_rpc_p99_ms"), ("river", "concurrent_rpc_calls_per_s"),
        ("river", "upload_msgs_per_s"), ("river", "scale_p99_ms_crowded"),
        ("river", "upload_client_allocs_per_op"),
        ("compare", "stream_echo_msgs_per_s"), ("compare", "concurrent_rpc_calls_per_s_vs_river")]
missing = [f"{g}.msgpack.{k}" for g, k in need if not isinstance(r.get(g, {}).get("msgpack", {}).get(k), (int, float))]
if missing:
    print("missing " + ", ".join(missing)); sys.exit(1)
m = r["river"]["msgpack"]
print(f"{m['concurrent_rpc_calls_per_s']:.0f} calls/s, compare/river "
      f"{r['compare']['msgpack']['concurrent_rpc_calls_per_s_vs_river']:.2f}, "
      f"scale p99 {m['scale_p99_ms_alone']:.2f} -> {m['scale_p99_ms_crowded']:.2f} ms with 200 idle")
PY
)"
prc=$?
if [[ $rc -ne 0 || $prc -ne 0 ]]; then
  echo "FAIL river-bench --url/--compare: exit $rc; $bench_line" >&2
  tail -5 "$tmp/bench.err" >&2
  failures=$((failures + 1))
fi
summary+=("river-bench --url/--compare: $bench_line")

echo "== interop summary ($((SECONDS - start_time)) s)"
for line in "${summary[@]}"; do
  echo "  $line"
done
if [[ $failures -ne 0 ]]; then
  echo "interop: FAILED ($failures failing step(s))"
  exit 1
fi
echo "interop: OK"
