#!/usr/bin/env bash
# Runs the whole suite under both runtimes and sums the results.
#
# Each runner's own output stays visible. The last line is
#   N passed, N failed
# summed over bun and deno. Exits non-zero when either runtime has a failing
# test, crashes before printing its summary, or runs no test at all.
#
#   scripts/test.sh [extra args passed to both runners, e.g. a file filter]
#   scripts/test.sh --help    this text
set -uo pipefail

if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then
  sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
  exit 0
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=node_modules/.bin
for tool in bun deno; do
  if [[ ! -x $bin/$tool ]]; then
    echo "test: $bin/$tool is missing; run scripts/setup.sh (or npm ci) first" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
done

targets=("$@")
((${#targets[@]})) || targets=(tests/)

log=$(mktemp)
trap 'rm -f "$log"' EXIT

total_passed=0
total_failed=0
status=0
report=()

strip_ansi() { sed -E 's/\x1b\[[0-9;?]*[A-Za-z]//g'; }

# run NAME CMD... : runs one runner with its output shown and saved to $log.
run() {
  local name=$1
  shift
  printf '\n=== %s: %s\n\n' "$name" "$*"
  "$@" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

# record NAME RC PASSED FAILED SKIPPED : adds one runtime's counts to the totals.
record() {
  local name=$1 rc=$2 passed=$3 failed=$4 skipped=$5 note=""
  if [[ -z $passed ]]; then
    # No summary: the runner crashed or refused to start. Count it as one failure.
    passed=0 failed=1 skipped=0 note=" (no summary from the runner, exit code $rc: counted as 1 failure)"
    status=1
  elif ((passed + failed == 0)); then
    note=" (no test ran)"
    status=1
  elif ((failed > 0 || rc != 0)); then
    ((rc != 0 && failed == 0)) && note=" (exit code $rc)"
    status=1
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  report+=("$name: $passed passed, $failed failed, $skipped skipped$note")
}

# bun prints " N pass", " N skip", " N fail" and " N error" lines at the end. It ignores
# bunfig.toml's test timeout, so the default goes on the command line.
run bun "$bin/bun" test --timeout 30000 "${targets[@]}"
rc=$?
summary=$(strip_ansi <"$log")
p=$(grep -E '^ *[0-9]+ pass$' <<<"$summary" | tail -1 | grep -oE '[0-9]+')
f=$(grep -E '^ *[0-9]+ fail$' <<<"$summary" | tail -1 | grep -oE '[0-9]+')
s=$(grep -E '^ *[0-9]+ skip$' <<<"$summary" | tail -1 | grep -oE '[0-9]+')
# " N error": a file that failed to load, or an unhandled error between tests.
e=$(grep -E '^ *[0-9]+ errors?$' <<<"$summary" | tail -1 | grep -oE '[0-9]+')
if [[ -n $p ]]; then record bun "$rc" "$p" "$((${f:-0} + ${e:-0}))" "${s:-0}"; else record bun "$rc" "" "" ""; fi

# deno prints "ok | N passed | N failed | N ignored (..)" or "FAILED | ...".
# --no-check: deno would type-check again each time a ring starts its waker
# worker (about 1 s each); tests/typecheck.test.ts runs deno check once instead.
run deno "$bin/deno" test -A --no-check "${targets[@]}"
rc=$?
line=$(strip_ansi <"$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -1)
if [[ -n $line ]]; then
  p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
  f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
  s=$(grep -oE '[0-9]+ ignored' <<<"$line" | grep -oE '[0-9]+')
  record deno "$rc" "$p" "${f:-0}" "${s:-0}"
else
  record deno "$rc" "" "" ""
fi

printf '\n'
printf '%s\n' "${report[@]}"
echo "$total_passed passed, $total_failed failed"
exit "$status"
