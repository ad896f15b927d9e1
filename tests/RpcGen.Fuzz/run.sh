#!/usr/bin/env bash
# Runs every fuzz harness under libFuzzer and writes tests/RpcGen.Fuzz/results.md.
#
#   tests/RpcGen.Fuzz/run.sh [runs] [seconds] [harness...]
#
#   runs     executions per harness (libFuzzer -runs); default 1000000
#   seconds  wall-clock cap per harness (libFuzzer -max_total_time); default 0 = none
#   harness  names (default: all): message-frames msgpack-contract capnp-message known-keys flow-frames shm-header
#            capnp-rpc message-streams handshakes
#
# Steps: installs clang and libFuzzer (apt) and the sharpfuzz tool (dotnet tool restore) when
# missing; publishes RpcGen.Fuzz (Release); instruments the RpcGen.* assemblies of a copy of the
# publish output with sharpfuzz; builds the native driver (Driver/rpcgen-libfuzzer.c, linked with
# libFuzzer); runs each harness. Work files go to $RPCGEN_FUZZ_OUT (default artifacts/fuzz under
# the repository, git-ignored): the growing corpus, crash/timeout/oom inputs, and the logs.
# Environment: RPCGEN_FUZZ_RESULTS=<file> writes the table elsewhere (the CI smoke uses it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
runs="${1:-1000000}"
seconds="${2:-0}"
shift $(( $# < 2 ? $# : 2 ))
named="$*"
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  harnesses=(message-frames msgpack-contract capnp-message known-keys flow-frames shm-header capnp-rpc message-streams handshakes)
fi
out="${RPCGEN_FUZZ_OUT:-$repo/artifacts/fuzz}"
results="${RPCGEN_FUZZ_RESULTS:-$here/results.md}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
libfuzzer_archive=/usr/lib/llvm-14/lib/libFuzzer.a
if ! command -v clang >/dev/null 2>&1 || ! command -v clang++ >/dev/null 2>&1 || [ ! -f "$libfuzzer_archive" ]; then
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y clang libfuzzer-14-dev
fi
dotnet tool restore >/dev/null

mkdir -p "$out"
echo "== publish"
dotnet publish tests/RpcGen.Fuzz -c Release -o "$out/publish" --nologo -v quiet
echo "== instrument"
rm -rf "$out/instrumented"
cp -r "$out/publish" "$out/instrumented"
# Not RpcGen.Fuzz.dll: the harness program runs before the coverage memory is mapped, and a probe
# there would write through a null pointer (see RpcGen.Fuzz.Contract.csproj).
for assembly in "$out"/instrumented/RpcGen.*.dll; do
  [ "$(basename "$assembly")" = RpcGen.Fuzz.dll ] && continue
  dotnet sharpfuzz "$assembly" >/dev/null
done
echo "== driver"
# Linked with the libFuzzer archive itself (what -fsanitize=fuzzer links, without the sanitizer
# runtimes Debian ships in another package). The driver is not instrumented: coverage is the managed code's.
clang -O2 -Wall -Wextra -c "$here/Driver/rpcgen-libfuzzer.c" -o "$out/rpcgen-libfuzzer.o"
clang++ "$out/rpcgen-libfuzzer.o" "$libfuzzer_archive" -lpthread -o "$out/rpcgen-libfuzzer"

timeout_seconds=10
rss_limit_mb=2048
child_rss_limit_mb=1024
max_len=65536
status=0
rows=()
for harness in "${harnesses[@]}"; do
  echo "== $harness: $runs runs${seconds:+, at most $seconds s}"
  work="$out/corpus/$harness"
  artifacts="$out/findings/$harness"
  log="$out/logs/$harness.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  rm -f "$artifacts"/*
  set +e
  # The first corpus directory grows; the checked-in seeds are read only.
  "$out/rpcgen-libfuzzer" -runs="$runs" -max_total_time="$seconds" -timeout="$timeout_seconds" \
    -rss_limit_mb="$rss_limit_mb" -max_len="$max_len" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" \
    --target="$(command -v dotnet)" --target-arg="$out/instrumented/RpcGen.Fuzz.dll" --target-arg="$harness" \
    --child-rss-limit-mb="$child_rss_limit_mb" \
    "$work" "$here/corpus/$harness" >"$log" 2>&1
  code=$?
  set -e
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  field() { sed -nE "s/.*\b$1: ?([0-9]+).*/\1/p" <<<"$last" | head -n 1; }
  stat() { sed -nE "s/^stat::$1: *([0-9]+).*/\1/p" "$log" | tail -n 1; }
  execs=$(stat number_of_executed_units); execs=${execs:-0}
  rate=$(stat average_exec_per_sec); rate=${rate:-0}
  edges=$(sed -nE 's/^managed_edges: ([0-9]+)/\1/p' "$log" | tail -n 1); edges=${edges:-0}
  ft=$(field ft); ft=${ft:-0}
  corpus=$(sed -nE 's/.*corp: ([0-9]+)\/.*/\1/p' <<<"$last" | head -n 1); corpus=${corpus:-0}
  driver_rss=$(stat peak_rss_mb); driver_rss=${driver_rss:-0}
  child_rss=$(sed -nE 's/^child_peak_rss_mb: (-?[0-9]+)/\1/p' "$log" | tail -n 1); child_rss=${child_rss:-?}
  crashes=$(find "$artifacts" -name 'crash-*' | wc -l)
  hangs=$(find "$artifacts" -name 'timeout-*' | wc -l)
  ooms=$(find "$artifacts" -name 'oom-*' | wc -l)
  if [ "$code" -ne 0 ] || [ "$crashes" -ne 0 ] || [ "$hangs" -ne 0 ] || [ "$ooms" -ne 0 ]; then
    status=1
    echo "   FINDING (exit $code): see $log and $artifacts"
  fi
  echo "   $execs execs, $rate exec/s, edges $edges, ft $ft, corpus $corpus, crashes $crashes, hangs $hangs, oom $ooms, child peak RSS $child_rss MiB"
  rows+=("| \`$harness\` | $execs | $rate | $edges | $ft | $corpus | $crashes | $hangs | $ooms | $child_rss | $driver_rss |")
done

{
  echo "# Fuzz results"
  echo
  echo "Written by \`tests/RpcGen.Fuzz/run.sh $runs $seconds${named:+ $named}\` on $(date -u +%Y-%m-%d) ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)."
  echo "libFuzzer 14 through the project's own driver (\`Driver/rpcgen-libfuzzer.c\`) over SharpFuzz 2.3.0 instrumentation of the RpcGen.* assemblies;"
  echo "\`-timeout=$timeout_seconds\` s per input (a slower input is a hang), \`-rss_limit_mb=$rss_limit_mb\` (the driver), \`--child-rss-limit-mb=$child_rss_limit_mb\` (the .NET harness process), \`-max_len=$max_len\`."
  echo
  echo "| harness | execs | exec/s | edges | ft (features) | corpus | crashes | hangs | over RSS | peak RSS harness (MiB) | peak RSS driver (MiB) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "execs and exec/s: libFuzzer's final stats. edges: coverage-map slots (branch edges of the instrumented RpcGen.* code) hit by any input, counted by the driver;"
  echo "libFuzzer's own \`cov:\` counts native code only and is 0 here: it sees the managed edges as extra counters, which its \`ft:\` (features: edges by hit-count bucket) counts."
  echo "corpus: inputs kept (checked-in seeds included); crashes, hangs, over RSS: artifacts written. A run stops at its first finding."
} >"$results"
echo "== wrote $results"
exit $status
